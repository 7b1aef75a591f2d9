/**
 * The native gRPC face of the local Momento (dev/local-momento/grpc-native.ts) through the Node SDK
 * (`@gomomento/sdk`, plain HTTP/2 with `secureConnection: false`), on the same port as the grpc-web face: cache
 * calls, topic items with sequence numbers and the publisher token id, refusals with the SDK's error codes, a
 * stream ended by the test hook (the SDK resubscribes and resumes), and a stream ended at token expiry.
 */
import {
  CacheClient,
  CacheGetResponse,
  Configurations,
  CredentialProvider,
  NoopMomentoLoggerFactory,
  TopicClient,
  TopicConfigurations,
  TopicPublishResponse,
  TopicSubscribeResponse,
  type TopicItem,
} from '@gomomento/sdk';
import { startLocalDataPlane, type LocalDataPlane, type LocalGrant } from '../../dev/local-momento';

let plane: LocalDataPlane;
const closers: (() => void)[] = [];

beforeAll(async () => {
  plane = await startLocalDataPlane({ allowOrigins: ['http://localhost:8080'] });
});
afterAll(async () => {
  for (const c of closers.splice(0)) c();
  await plane.close();
});

/** SDK clients for a token of `grants`, pointed at the data plane as the smoke test points them. */
function clients(grants: LocalGrant[], tokenId = 'native', ttlSeconds = 60) {
  const apiKey = plane.issuer.issue({ grants, expiresAt: Math.floor(Date.now() / 1000) + ttlSeconds, tokenId });
  const hostPort = plane.endpoint.slice('http://'.length);
  const credentialProvider = CredentialProvider.fromDisposableToken({
    authToken: Buffer.from(JSON.stringify({ endpoint: plane.endpoint, api_key: apiKey })).toString('base64'),
    endpointOverrides: {
      cacheEndpoint: hostPort,
      controlEndpoint: hostPort,
      tokenEndpoint: hostPort,
      secureConnection: false,
    },
  });
  const logs = new NoopMomentoLoggerFactory();
  const cache = new CacheClient({
    configuration: Configurations.Laptop.v1(logs),
    credentialProvider,
    defaultTtlSeconds: 60,
  });
  const topics = new TopicClient({ configuration: TopicConfigurations.Default.latest(logs), credentialProvider });
  closers.push(() => cache.close());
  return { cache, topics };
}

const until = async (check: () => boolean, timeoutMs = 5000): Promise<void> => {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
};

it('serves cache calls and refuses what the token does not allow', async () => {
  const { cache } = clients([{ type: 'cache', role: 'readwrite', cache: 'app' }]);
  expect((await cache.set('app', 'k', 'v')).type).toBe('Success');
  const hit = await cache.get('app', 'k');
  expect(hit.type).toBe(CacheGetResponse.Hit);
  expect(hit.type === CacheGetResponse.Hit && hit.valueString()).toBe('v');
  const refused = await cache.get('other', 'k');
  expect(refused.type === CacheGetResponse.Error && refused.errorCode()).toBe('PERMISSION_ERROR');
});

it('streams items with sequence numbers and the publisher token id; resumes after the test hook ends the stream', async () => {
  const { topics } = clients([{ type: 'topic', role: 'publishsubscribe', cache: 'app' }], 'publisher-1');
  const items: TopicItem[] = [];
  const errors: string[] = [];
  const sub = await topics.subscribe('app', 'native-1', {
    onItem: (i) => items.push(i),
    onError: (e) => errors.push(e.errorCode()),
  });
  expect(sub.type).toBe(TopicSubscribeResponse.Subscription);
  const publish = async (n: number) => {
    for (let i = 0; i < n; i++)
      expect((await topics.publish('app', 'native-1', `m${i}`)).type).toBe(TopicPublishResponse.Success);
  };
  await publish(2);
  await until(() => items.length >= 2);
  expect(plane.dropSubscriptions('end')).toBe(1);
  await publish(2);
  await until(() => items.length >= 4);
  expect(items.map((i) => i.sequenceNumber())).toEqual([1, 2, 3, 4]);
  expect(new Set(items.map((i) => i.tokenId()))).toEqual(new Set(['publisher-1']));
  expect(errors).toEqual([]);
  if (sub.type === TopicSubscribeResponse.Subscription) sub.unsubscribe();
});

it('refuses a publish outside the token (PERMISSION_ERROR) and ends a subscription at expiry (AUTHENTICATION_ERROR)', async () => {
  const { topics } = clients([{ type: 'topic', role: 'subscribeonly', cache: 'app' }], 'reader', 1);
  const refused = await topics.publish('app', 'native-2', 'x');
  expect(refused.type === TopicPublishResponse.Error && refused.errorCode()).toBe('PERMISSION_ERROR');
  const errors: string[] = [];
  const sub = await topics.subscribe('app', 'native-2', { onError: (e) => errors.push(e.errorCode()) });
  expect(sub.type).toBe(TopicSubscribeResponse.Subscription);
  await until(() => errors.length > 0, 3000);
  expect(errors).toEqual(['AUTHENTICATION_ERROR']);
});
