/**
 * The production minting path (our node:http2 gRPC transport, TLS, `token.momento.test:443`, a v2 key) against the
 * fake Momento token service (a grpc-js server), through a CONNECT proxy, exactly as it runs in Lambda. Assertions
 * are on what the fake received. setup-env.ts points GRPC_DEFAULT_SSL_ROOTS_FILE_PATH at the test CA, which the
 * transport reads as grpc-js does.
 */
import {
  AllCaches,
  AllTopics,
  AuthClient,
  AuthClientConfigurations,
  CacheRole,
  CredentialProvider,
  ExpiresIn,
  GenerateDisposableToken,
  TopicRole,
} from '@gomomento/sdk';
import { AllCacheItems } from '@gomomento/sdk-core';
import {
  FAKE_ENDPOINT,
  fakeV1ApiKey,
  fakeV2ApiKey,
  startLocalMomento,
  type LocalMomento,
  type ReceivedCall,
} from '../../dev/fake-momento';
import { MisconfiguredError, MomentoError } from '../../lambda/errors';
import {
  AGENT,
  USER_AGENT,
  createGrpcMinter,
  staticKeySource,
  type GrpcMinter,
  type GrpcMinterOptions,
  type MinterEvent,
} from '../../lambda/momento';
import type { Grant, KeySource, MintRequest } from '../../lambda/types';

const b = (s: string) => Buffer.from(s, 'utf8');
const KEY = fakeV2ApiKey();

let local: LocalMomento;
const minters: GrpcMinter[] = [];

beforeAll(async () => {
  local = await startLocalMomento();
  Object.assign(process.env, local.env);
});
afterAll(async () => {
  await local.close();
});
beforeEach(() => {
  local.fake.received.length = 0;
  local.fake.setBehavior('ok');
  local.fake.setAcceptedKeys(undefined);
});
afterEach(() => {
  for (const m of minters.splice(0)) m.close();
});

function minter(options: Partial<GrpcMinterOptions> = {}): GrpcMinter {
  const m = createGrpcMinter({
    keySource: staticKeySource(KEY),
    endpoint: FAKE_ENDPOINT,
    deadlineMs: 2000,
    ...options,
  });
  minters.push(m);
  return m;
}

/** A key source whose value the test controls, counting reads and invalidations. */
function controlledKeySource(initial: string): KeySource & { value: string; reads: number; invalidations: number } {
  const ks = {
    value: initial,
    reads: 0,
    invalidations: 0,
    getKey: async () => {
      ks.reads += 1;
      return ks.value;
    },
    invalidate: () => {
      ks.invalidations += 1;
    },
  };
  return ks;
}

async function failure(p: Promise<unknown>): Promise<MomentoError> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MomentoError);
  return error as MomentoError;
}

const READ_APP: MintRequest = { grants: [{ type: 'cache', cache: 'app', role: 'readonly' }], ttlSeconds: 600 };

describe('GrpcMinter against the fake Momento (TLS via CONNECT proxy)', () => {
  describe('what Momento receives', () => {
    it.each<[string, Grant[], unknown[]]>([
      [
        'all caches',
        [{ type: 'cache', cache: '*', role: 'readwrite' }],
        [{ cache_permissions: { role: 1, all_caches: {}, all_items: {} } }],
      ],
      [
        'one cache',
        [{ type: 'cache', cache: 'app', role: 'readonly' }],
        [{ cache_permissions: { role: 2, cache_selector: { cache_name: 'app' }, all_items: {} } }],
      ],
      [
        'one key',
        [{ type: 'cache', cache: 'app', role: 'writeonly', key: 'profile/42' }],
        [
          {
            cache_permissions: {
              role: 3,
              cache_selector: { cache_name: 'app' },
              item_selector: { key: b('profile/42') },
            },
          },
        ],
      ],
      [
        'a key prefix',
        [{ type: 'cache', cache: 'app', role: 'readwrite', keyPrefix: 'user/42/' }],
        [
          {
            cache_permissions: {
              role: 1,
              cache_selector: { cache_name: 'app' },
              item_selector: { key_prefix: b('user/42/') },
            },
          },
        ],
      ],
      [
        'one topic',
        [{ type: 'topic', cache: 'app', role: 'publishsubscribe', topic: 'inbox-42' }],
        [
          {
            topic_permissions: {
              role: 1,
              cache_selector: { cache_name: 'app' },
              topic_selector: { topic_name: 'inbox-42' },
            },
          },
        ],
      ],
      [
        'a topic prefix',
        [{ type: 'topic', cache: 'app', role: 'subscribeonly', topicPrefix: 'chat-' }],
        [
          {
            topic_permissions: {
              role: 2,
              cache_selector: { cache_name: 'app' },
              topic_selector: { topic_name_prefix: 'chat-' },
            },
          },
        ],
      ],
      [
        'all topics, publish only',
        [{ type: 'topic', cache: '*', role: 'publishonly' }],
        [{ topic_permissions: { role: 3, all_caches: {}, all_topics: {} } }],
      ],
      [
        'topic + key prefix mixed (the SDK fails open here; we keep the key restriction)',
        [
          { type: 'topic', cache: 'app', role: 'publishsubscribe', topic: 'chat' },
          { type: 'cache', cache: 'app', role: 'readwrite', keyPrefix: 'user/42/' },
        ],
        [
          {
            topic_permissions: {
              role: 1,
              cache_selector: { cache_name: 'app' },
              topic_selector: { topic_name: 'chat' },
            },
          },
          {
            cache_permissions: {
              role: 1,
              cache_selector: { cache_name: 'app' },
              item_selector: { key_prefix: b('user/42/') },
            },
          },
        ],
      ],
    ])('%s', async (_name, grants, statements) => {
      // Act
      const token = await minter().mint({ grants, ttlSeconds: 900, tokenId: 'user-42' });

      // Assess: exactly one call with exactly this request.
      expect(local.fake.received).toHaveLength(1);
      const [call] = local.fake.received as [ReceivedCall];
      expect(call).toMatchObject({
        permissions: { explicit: { permissions: statements } },
        validForSeconds: 900,
        tokenId: 'user-42',
        authToken: KEY,
      });
      expect(call.permissions).toEqual({ explicit: { permissions: statements } });
      // Exactly the metadata the grpc-js minter sent, apart from the transport's own user-agent.
      expect(call.metadata).toEqual({
        agent: AGENT,
        'runtime-version': `nodejs:${process.versions.node}`,
        'user-agent': USER_AGENT,
      });
      // The answer, read back the way the Web SDK reads it.
      const reply = call.reply!;
      expect(token).toEqual({ authToken: expect.any(String), endpoint: FAKE_ENDPOINT, expiresAt: reply.validUntil });
      const provider = CredentialProvider.fromDisposableToken({ authToken: token.authToken });
      expect(provider.getAuthToken()).toBe(reply.apiKey);
      expect(provider.getCacheEndpoint()).toBe(`cache.${FAKE_ENDPOINT}`);
      expect(reply.validUntil - Math.floor(Date.now() / 1000)).toBeGreaterThan(890);
    });

    it('leaves token_id unset without a tokenId', async () => {
      await minter().mint(READ_APP);
      expect(local.fake.received[0]?.tokenId).toBe('');
    });

    it('uses a legacy v1 key: inner api_key as auth_token, endpoint from the key', async () => {
      // Prepare: the configured endpoint is wrong on purpose; a v1 key carries its own.
      const inner = fakeV2ApiKey();
      const m = minter({
        keySource: staticKeySource(fakeV1ApiKey(FAKE_ENDPOINT, inner)),
        endpoint: 'elsewhere.invalid',
      });

      // Act
      await m.mint(READ_APP);

      // Assess
      expect(local.fake.received[0]?.authToken).toBe(inner);
      expect(local.proxy.targets.at(-1)).toBe('token.momento.test:443');
    });

    it('refuses a malformed key before calling Momento, without revealing it', async () => {
      const m = minter({ keySource: staticKeySource('not-a-momento-key') });
      const error = await m.mint(READ_APP).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MisconfiguredError);
      expect(error).toMatchObject({ code: 'momento-key-invalid', status: 500 });
      expect((error as Error).message).not.toContain('not-a-momento-key');
      expect(local.fake.received).toHaveLength(0);
    });
  });

  describe('the SDK as an oracle', () => {
    // Run the real SDK AuthClient against the same fake and compare what the fake received from it and from us.
    async function viaSdk(scope: unknown, tokenId: string): Promise<{ call: ReceivedCall; authToken: string }> {
      const client = new AuthClient({
        configuration: AuthClientConfigurations.Default.latest(),
        credentialProvider: CredentialProvider.fromApiKeyV2({ apiKey: KEY, endpoint: FAKE_ENDPOINT }),
      });
      try {
        const before = local.fake.received.length;
        const res = await client.generateDisposableToken(scope as never, ExpiresIn.seconds(900), { tokenId });
        if (!(res instanceof GenerateDisposableToken.Success)) throw new Error(`SDK failed: ${res.toString()}`);
        expect(local.fake.received).toHaveLength(before + 1);
        return { call: local.fake.received[before]!, authToken: res.authToken };
      } finally {
        // The SDK has no close(); reach in so the test leaves no channel behind.
        const internal = (
          client as unknown as { authClient: { tokenClient: { close(): void }; authClient: { close(): void } } }
        ).authClient;
        internal.tokenClient.close();
        internal.authClient.close();
      }
    }

    it.each<[string, Grant[], unknown[]]>([
      [
        'caches with key, key prefix and all items',
        [
          { type: 'cache', cache: 'app', role: 'readonly', key: 'motd' },
          { type: 'cache', cache: 'app', role: 'readwrite', keyPrefix: 'user/42/' },
          { type: 'cache', cache: '*', role: 'writeonly' },
        ],
        [
          { role: CacheRole.ReadOnly, cache: 'app', item: { key: 'motd' } },
          { role: CacheRole.ReadWrite, cache: 'app', item: { keyPrefix: 'user/42/' } },
          { role: CacheRole.WriteOnly, cache: AllCaches, item: AllCacheItems },
        ],
      ],
      [
        'topics without prefixes',
        [
          { type: 'topic', cache: 'app', role: 'publishsubscribe', topic: 'chat' },
          { type: 'topic', cache: '*', role: 'subscribeonly' },
          { type: 'topic', cache: 'app', role: 'publishonly', topic: 'out' },
        ],
        [
          { role: TopicRole.PublishSubscribe, cache: 'app', topic: 'chat' },
          { role: TopicRole.SubscribeOnly, cache: AllCaches, topic: AllTopics },
          { role: TopicRole.PublishOnly, cache: 'app', topic: 'out' },
        ],
      ],
    ])('sends what the SDK sends for %s', async (_name, grants, sdkPermissions) => {
      // Act
      const sdk = await viaSdk({ permissions: sdkPermissions }, 'user-42');
      const ours = await minter().mint({ grants, ttlSeconds: 900, tokenId: 'user-42' });
      const ourCall = local.fake.received.at(-1)!;

      // Assess: same request on the wire, same token format back.
      expect(ourCall.permissions).toEqual(sdk.call.permissions);
      // Arrival times differ by construction (two calls); everything else on the wire must match.
      expect({ ...ourCall, metadata: undefined, reply: undefined, atMs: 0 }).toEqual({
        ...sdk.call,
        metadata: undefined,
        reply: undefined,
        atMs: 0,
      });
      const decode = (t: string) => JSON.parse(Buffer.from(t, 'base64').toString()) as Record<string, string>;
      expect(Object.keys(decode(ours.authToken))).toEqual(Object.keys(decode(sdk.authToken)));
      expect(decode(sdk.authToken)).toEqual({ endpoint: FAKE_ENDPOINT, api_key: sdk.call.reply?.apiKey });
      expect(decode(ours.authToken)).toEqual({ endpoint: FAKE_ENDPOINT, api_key: ourCall.reply?.apiKey });
    });

    it('shows why we do not use the SDK: mixing a topic drops its key restriction, ours keeps it', async () => {
      // Act
      const sdk = await viaSdk(
        {
          permissions: [
            { role: TopicRole.SubscribeOnly, cache: 'app', topic: 'news' },
            { role: CacheRole.ReadWrite, cache: 'app', item: { keyPrefix: 'user/42/' } },
          ],
        },
        'user-42',
      );
      await minter().mint({
        grants: [
          { type: 'topic', cache: 'app', role: 'subscribeonly', topic: 'news' },
          { type: 'cache', cache: 'app', role: 'readwrite', keyPrefix: 'user/42/' },
        ],
        ttlSeconds: 900,
      });

      // Assess
      const cacheStatement = (c: ReceivedCall | undefined) =>
        (c?.permissions as { explicit: { permissions: { cache_permissions?: unknown }[] } }).explicit.permissions[1]
          ?.cache_permissions;
      expect(cacheStatement(sdk.call)).toEqual({ role: 1, cache_selector: { cache_name: 'app' } });
      expect(cacheStatement(local.fake.received.at(-1))).toEqual({
        role: 1,
        cache_selector: { cache_name: 'app' },
        item_selector: { key_prefix: b('user/42/') },
      });
    });
  });

  describe('gRPC status mapping', () => {
    it.each<[string, number, string, number]>([
      ['PERMISSION_DENIED', 7, 'auth', 502],
      ['UNAUTHENTICATED', 16, 'auth', 502],
      ['RESOURCE_EXHAUSTED', 8, 'throttled', 429],
      ['INVALID_ARGUMENT', 3, 'rejected', 502],
      ['FAILED_PRECONDITION', 9, 'rejected', 502],
      ['OUT_OF_RANGE', 11, 'rejected', 502],
      ['NOT_FOUND', 5, 'rejected', 502],
      ['INTERNAL', 13, 'internal', 502],
      ['UNKNOWN', 2, 'internal', 502],
      ['ABORTED', 10, 'internal', 502],
      ['UNIMPLEMENTED', 12, 'internal', 502],
      ['DATA_LOSS', 15, 'internal', 502],
    ])('%s (%i) → %s', async (_name, code, kind, status) => {
      // Prepare: the fake even echoes the key in its details; it must not reach our error.
      local.fake.setBehavior({ code, details: `refused ${KEY}` });

      // Act
      const error = await failure(minter().mint(READ_APP));

      // Assess
      expect(error).toMatchObject({ failure: kind, grpcCode: code, status, code: `momento-${kind}` });
      expect(local.fake.received).toHaveLength(1); // no retry for these
      const everything = `${error.message} ${String(error.cause)} ${JSON.stringify(error)} ${error.stack}`;
      expect(everything).not.toContain(KEY);
      expect(String(error.cause)).toContain('[redacted]');
    });

    it('gives RESOURCE_EXHAUSTED a Retry-After', async () => {
      local.fake.setBehavior({ code: 8 });
      expect(await failure(minter().mint(READ_APP))).toMatchObject({ status: 429, retryAfterSeconds: 1 });
    });

    it('maps what Momento refuses (ttl over 25 h) to rejected', async () => {
      const error = await failure(minter().mint({ ...READ_APP, ttlSeconds: 25 * 3600 + 1 }));
      expect(error).toMatchObject({ failure: 'rejected', grpcCode: 3 });
    });
  });

  describe('deadlines, retries and connections', () => {
    it('answers a hanging call with timeout within the deadline', async () => {
      // Prepare
      local.fake.setBehavior('hang');
      const started = Date.now();

      // Act
      const error = await failure(minter({ deadlineMs: 400 }).mint(READ_APP));

      // Assess
      const elapsed = Date.now() - started;
      expect(error).toMatchObject({ failure: 'timeout', grpcCode: 4, status: 503, retryAfterSeconds: 2 });
      expect(elapsed).toBeGreaterThanOrEqual(390);
      expect(elapsed).toBeLessThan(400 + 300);
      expect(local.fake.received).toHaveLength(1); // a timeout is not retried
    });

    it('succeeds within the deadline when Momento is slow but in time; times out when it is too slow', async () => {
      local.fake.setBehavior({ delayMs: 100 });
      await expect(minter({ deadlineMs: 500 }).mint(READ_APP)).resolves.toMatchObject({ endpoint: FAKE_ENDPOINT });
      local.fake.setBehavior({ delayMs: 800 });
      expect(await failure(minter({ deadlineMs: 300 }).mint(READ_APP))).toMatchObject({ failure: 'timeout' });
    });

    it('retries UNAVAILABLE once, on a fresh connection, and succeeds', async () => {
      // Prepare
      const events: MinterEvent[] = [];
      local.fake.setBehavior([{ code: 14 }, 'ok']);
      const before = local.fake.connections;

      // Act
      const token = await minter({ onEvent: (e) => events.push(e) }).mint(READ_APP);

      // Assess
      expect(token.endpoint).toBe(FAKE_ENDPOINT);
      expect(local.fake.received.map((c) => c.behavior)).toEqual([{ code: 14 }, 'ok']);
      expect(local.fake.received[1]?.permissions).toEqual(local.fake.received[0]?.permissions);
      expect(local.fake.connections - before).toBe(2);
      expect(events.map((e) => e.type)).toEqual(['reconnect', 'retry']);
    });

    it('gives up after the second UNAVAILABLE', async () => {
      local.fake.setBehavior([{ code: 14 }, { code: 14 }, 'ok']);
      const error = await failure(minter().mint(READ_APP));
      expect(error).toMatchObject({ failure: 'unavailable', grpcCode: 14, status: 503 });
      expect(local.fake.received).toHaveLength(2);
    });

    it('recovers from a connection reset mid-call with its one retry', async () => {
      local.fake.setBehavior(['reset', 'ok']);
      const token = await minter().mint(READ_APP);
      expect(token.endpoint).toBe(FAKE_ENDPOINT);
      expect(local.fake.received).toHaveLength(2);
    });

    it('reuses one connection across warm calls and sends the agent header once per connection', async () => {
      // Prepare
      const m = minter();
      const before = local.proxy.connections;

      // Act
      for (let i = 0; i < 3; i++) await m.mint(READ_APP);

      // Assess
      expect(local.proxy.connections - before).toBe(1);
      expect(local.fake.received.map((c) => c.metadata.agent)).toEqual([AGENT, undefined, undefined]);
    });

    it('opens a new connection for the call after a timeout', async () => {
      // Prepare
      const m = minter({ deadlineMs: 300 });
      await m.mint(READ_APP);
      const afterFirst = local.proxy.connections;
      local.fake.setBehavior(['hang', 'ok']);

      // Act
      await failure(m.mint(READ_APP));
      const token = await m.mint(READ_APP);

      // Assess
      expect(token.endpoint).toBe(FAKE_ENDPOINT);
      expect(local.proxy.connections).toBe(afterFirst + 1);
    });

    it('survives a black-holed connection (Lambda thawed, flow gone): one timeout, then a fresh connection', async () => {
      // Prepare
      const m = minter({ deadlineMs: 300 });
      await m.mint(READ_APP);
      const afterFirst = local.proxy.connections;
      local.proxy.blackholeAll();
      const started = Date.now();

      // Act
      const error = await failure(m.mint(READ_APP));
      const elapsed = Date.now() - started;
      const token = await m.mint(READ_APP);

      // Assess: the lost call never reached Momento; the next one went over a new connection.
      expect(error.failure).toBe('timeout');
      expect(elapsed).toBeLessThan(300 + 300);
      expect(token.endpoint).toBe(FAKE_ENDPOINT);
      expect(local.fake.received).toHaveLength(2);
      expect(local.proxy.connections).toBe(afterFirst + 1);
    });

    it('recovers fast after connections were reset between calls (Lambda freeze)', async () => {
      // Prepare
      const m = minter({ deadlineMs: 2000 });
      await m.mint(READ_APP);
      const afterFirst = local.proxy.connections;
      local.proxy.destroyAll();
      await new Promise((r) => setTimeout(r, 20));
      const started = Date.now();

      // Act
      const token = await m.mint(READ_APP);

      // Assess: no deadline wait, a new connection.
      expect(token.endpoint).toBe(FAKE_ENDPOINT);
      expect(Date.now() - started).toBeLessThan(1000);
      expect(local.proxy.connections).toBeGreaterThan(afterFirst);
    });

    it('replaces a connection idle for longer than maxIdleMs', async () => {
      // Prepare
      const events: MinterEvent[] = [];
      const m = minter({ maxIdleMs: 50, onEvent: (e) => events.push(e) });
      await m.mint(READ_APP);
      const afterFirst = local.proxy.connections;
      await new Promise((r) => setTimeout(r, 120));

      // Act
      await m.mint(READ_APP);

      // Assess
      expect(local.proxy.connections).toBe(afterFirst + 1);
      expect(events).toEqual([
        expect.objectContaining({ type: 'reconnect', reason: expect.stringMatching(/^idle \d+ ms$/) }),
      ]);
    });

    it('warmUp() opens the connection the first mint then uses', async () => {
      // Prepare
      const m = minter();
      const before = local.proxy.connections;

      // Act
      await m.warmUp();
      const afterWarmUp = local.proxy.connections;
      await m.mint(READ_APP);

      // Assess
      expect(afterWarmUp).toBe(before + 1);
      expect(local.proxy.connections).toBe(afterWarmUp);
      expect(local.fake.received).toHaveLength(1);
    });

    it('opens the connection while the key is still being read (v2 key: the endpoint is in the config)', async () => {
      // Prepare: a key source that answers only when the test says so.
      let release: (key: string) => void = () => undefined;
      const slowKeys: KeySource = {
        getKey: () => new Promise<string>((resolve) => (release = resolve)),
        invalidate: () => undefined,
      };
      const m = minter({ keySource: slowKeys });
      const before = local.proxy.connections;

      // Act
      const minting = m.mint(READ_APP);
      await new Promise((r) => setTimeout(r, 100));
      const whileReading = local.proxy.connections;
      release(KEY);
      await minting;

      // Assess: connected before the key came, and that connection served the call.
      expect(whileReading).toBe(before + 1);
      expect(local.proxy.connections).toBe(before + 1);
      expect(local.fake.received).toHaveLength(1);
    });

    it('prepare() starts the key read and the connection that the next mint() uses, without waiting', async () => {
      // Prepare: a caching, single-flight key source (as secretsManagerKeySource) that answers only when the test
      // says so, counting reads.
      let release: (key: string) => void = () => undefined;
      let reads = 0;
      let pending: Promise<string> | undefined;
      const slowKeys: KeySource = {
        getKey: () => {
          if (!pending) {
            reads += 1;
            pending = new Promise<string>((resolve) => (release = resolve));
          }
          return pending;
        },
        invalidate: () => (pending = undefined),
      };
      const m = minter({ keySource: slowKeys });
      const before = local.proxy.connections;

      // Act: prepare returns at once; the connection opens while the key is read.
      expect(m.prepare()).toBeUndefined();
      await new Promise((r) => setTimeout(r, 100));
      const afterPrepare = local.proxy.connections;
      release(KEY);
      await new Promise((r) => setImmediate(r));
      await m.mint(READ_APP);

      // Assess: the mint used that connection; the key was read by prepare (the mint found it cached or in flight).
      expect(afterPrepare).toBe(before + 1);
      expect(local.proxy.connections).toBe(before + 1);
      expect(local.fake.received).toHaveLength(1);
      expect(reads).toBe(1);
    });

    it('prepare() never throws, even with a key source that fails', async () => {
      const failing: KeySource = { getKey: () => Promise.reject(new Error('no secret')), invalidate: () => undefined };
      const m = minter({ keySource: failing });
      expect(() => m.prepare()).not.toThrow();
      await expect(m.mint(READ_APP)).rejects.toThrow('no secret');
    });

    it('warmUp() never rejects, even with a broken key', async () => {
      await expect(minter({ keySource: staticKeySource('broken') }).warmUp()).resolves.toBeUndefined();
    });
  });

  describe('key rotation', () => {
    it('re-reads the key after UNAUTHENTICATED and retries with the rotated key', async () => {
      // Prepare: Momento only knows the new key; the container still holds the old one.
      const oldKey = fakeV2ApiKey();
      const newKey = fakeV2ApiKey();
      const keys = controlledKeySource(oldKey);
      const events: MinterEvent[] = [];
      const m = minter({ keySource: keys, onEvent: (e) => events.push(e) });
      local.fake.setAcceptedKeys([newKey]);
      keys.invalidate = () => {
        keys.invalidations += 1;
        keys.value = newKey; // the secret was rotated meanwhile
      };

      // Act
      const token = await m.mint(READ_APP);

      // Assess
      expect(token.endpoint).toBe(FAKE_ENDPOINT);
      expect(local.fake.received.map((c) => c.authToken)).toEqual([oldKey, newKey]);
      expect(keys).toMatchObject({ reads: 2, invalidations: 1 });
      expect(events.map((e) => e.type)).toEqual(['key-reloaded']);
    });

    it('fails with auth after one re-read when the secret still holds the rejected key', async () => {
      // Prepare
      const keys = controlledKeySource(KEY);
      local.fake.setAcceptedKeys([fakeV2ApiKey()]);

      // Act
      const error = await failure(minter({ keySource: keys }).mint(READ_APP));

      // Assess
      expect(error).toMatchObject({ failure: 'auth', grpcCode: 16, status: 502 });
      expect(keys).toMatchObject({ reads: 2, invalidations: 1 });
      expect(local.fake.received).toHaveLength(1);
    });

    it('fails with auth when the rotated key is rejected too', async () => {
      const keys = controlledKeySource(fakeV2ApiKey());
      keys.invalidate = () => {
        keys.invalidations += 1;
        keys.value = fakeV2ApiKey();
      };
      local.fake.setAcceptedKeys([KEY]);
      const error = await failure(minter({ keySource: keys }).mint(READ_APP));
      expect(error).toMatchObject({ failure: 'auth' });
      expect(keys).toMatchObject({ reads: 2, invalidations: 1 });
      expect(local.fake.received).toHaveLength(2);
    });
  });
});
