/**
 * Per auth mode, the REAL vending handler (createVendHandler + createGrpcMinter + a v2 key) against the
 * fake Momento over real gRPC/TLS through the CONNECT proxy. Every assertion is on what Momento received
 * (decoded protobuf, deep-equal), its ttl and token_id — not on what the handler says it asked for.
 *
 * The token cache is off here so every request reaches Momento (quota.test.ts covers the cache on the wire).
 */
import { randomUUID } from 'node:crypto';
import type { Fetcher } from 'aws-jwt-verify/https';
import { createAuthorizer, type AuthorizerResult } from '../../authorizers/authorizer';
import { createJwtVerifier, type AuthorizerAuthConfig } from '../../authorizers/verify';
import authorizerExample from '../../config/examples/authorizer.config';
import openExample from '../../config/examples/open.config';
import type { TvmConfig } from '../../config/schema';
import tvmConfig from '../../config/tvm.config';
import { FAKE_ENDPOINT, fakeV2ApiKey, type LocalMomento, type ReceivedCall } from '../../dev/fake-momento';
import { createLocalIssuer } from '../../dev/local-issuer';
import { staticKeySource } from '../../lambda/momento';
import { cognitoAuthorizer, tokenEvent } from '../support/events';
import {
  call,
  cacheStmt,
  configFor,
  container,
  decodeAuthToken,
  explicit,
  ROLE,
  startMomento,
  topicStmt,
  type Answer,
  type Container,
} from './harness';

const KEY = fakeV2ApiKey();
const NO_CACHE = { tokenCache: { enabled: false } };
/** Headers the anchor trusted for group and cache: a caller could pick its own tier. */
const SPOOFED = {
  usergroup: 'admins',
  UserGroup: 'admins',
  cachename: 'secret-cache',
  'x-cognito-groups': 'admins',
  'x-token-id': 'root',
  'x-amzn-oidc-identity': 'root',
};

let local: LocalMomento;
const containers: Container[] = [];

beforeAll(async () => {
  local = await startMomento();
});
afterAll(async () => {
  for (const c of containers) c.minter.close();
  await local.close();
});
beforeEach(() => {
  local.fake.received.length = 0;
  local.fake.setBehavior('ok');
  local.fake.setAcceptedKeys([KEY]);
});

async function vending(file: TvmConfig): Promise<Container> {
  const c = await container(configFor(file, NO_CACHE), staticKeySource(KEY));
  containers.push(c);
  return c;
}

/** The one call the fake received for the request just made. */
function onlyCall(): ReceivedCall {
  expect(local.fake.received).toHaveLength(1);
  return local.fake.received[0]!;
}

/** A 200 whose body is exactly what the fake minted (token, endpoint, expiry), granted as `permissions`. */
function expectMinted(answer: Answer, received: ReceivedCall): void {
  expect(answer.status).toBe(200);
  expect(answer.headers['Cache-Control']).toBe('no-store');
  const reply = received.reply!;
  expect(reply).toBeDefined();
  // Compared, never printed.
  const token = decodeAuthToken(answer.body.authToken);
  expect(token.api_key === reply.apiKey).toBe(true);
  expect(token.endpoint).toBe(FAKE_ENDPOINT);
  expect(answer.body.endpoint).toBe(FAKE_ENDPOINT);
  expect(answer.body.expiresAt).toBe(reply.validUntil);
  expect(received.authToken === KEY).toBe(true);
}

describe('Cognito mode (config/tvm.config.ts), real-shaped Cognito authorizer claims', () => {
  let vend: Container;
  beforeAll(async () => {
    vend = await vending(tvmConfig);
  });

  const cases: Array<[string, string[], (sub: string) => unknown, number]> = [
    [
      'an admin: read-write on cache app and publish/subscribe on all its topics',
      ['admins'],
      () => explicit(cacheStmt(ROLE.cacheReadWrite, 'app'), topicStmt(ROLE.topicPublishSubscribe, 'app')),
      3600,
    ],
    [
      'a member: read app, read-write under user/{sub}/, chat-* topics, subscribe to inbox-{sub}',
      ['members'],
      (sub) =>
        explicit(
          cacheStmt(ROLE.cacheReadOnly, 'app'),
          cacheStmt(ROLE.cacheReadWrite, 'app', { keyPrefix: `user/${sub}/` }),
          topicStmt(ROLE.topicPublishSubscribe, 'app', { topicPrefix: 'chat-' }),
          topicStmt(ROLE.topicSubscribeOnly, 'app', { topic: `inbox-${sub}` }),
        ),
      3600,
    ],
    [
      'a reader: subscribe to chat-* only, capped at the tier ttl (900 s)',
      ['readers'],
      () => explicit(topicStmt(ROLE.topicSubscribeOnly, 'app', { topicPrefix: 'chat-' })),
      900,
    ],
    [
      // The reader statement is also covered by the member tier, so the member tier's ttl applies to it.
      // The reader's subscribe-only chat-* is covered by the member's publish+subscribe chat-*: merged away.
      'a user in members and readers: the union of both tiers, covered statements merged',
      ['members', 'readers'],
      (sub) =>
        explicit(
          cacheStmt(ROLE.cacheReadOnly, 'app'),
          cacheStmt(ROLE.cacheReadWrite, 'app', { keyPrefix: `user/${sub}/` }),
          topicStmt(ROLE.topicPublishSubscribe, 'app', { topicPrefix: 'chat-' }),
          topicStmt(ROLE.topicSubscribeOnly, 'app', { topic: `inbox-${sub}` }),
        ),
      3600,
    ],
  ];

  it.each(cases)('%s', async (_name, groups, permissions, ttl) => {
    // Prepare: a Cognito sub is a UUID; the groups claim arrives as "a,b".
    const sub = randomUUID();
    const event = tokenEvent({
      headers: { Origin: 'http://localhost:5173' },
      authorizer: cognitoAuthorizer(sub, groups, { email: `${sub.slice(0, 8)}@example.com`, event_id: randomUUID() }),
    });

    // Act
    const answer = await call(vend.handler, event);

    // Assess: exactly this went over the wire.
    const received = onlyCall();
    expect(received.permissions).toEqual(permissions(sub));
    expect(received.validForSeconds).toBe(ttl);
    // The reader tier is shared: one token for all readers, minted without a per-user tokenId.
    const shared = groups.every((g) => g === 'readers');
    expect(received.tokenId).toBe(shared ? '' : sub);
    expectMinted(answer, received);
    expect(answer.body.tokenId).toBe(shared ? undefined : sub);
    expect(answer.body.expiresIn).toBeGreaterThan(ttl - 5);
    expect(answer.body.expiresIn).toBeLessThanOrEqual(ttl);
    expect(answer.headers['Access-Control-Allow-Origin']).toBe('http://localhost:5173');
  });

  it('templates each member’s own sub: two members never receive each other’s prefix or inbox', async () => {
    const [alice, bob] = [randomUUID(), randomUUID()];
    await Promise.all([
      call(vend.handler, tokenEvent({ authorizer: cognitoAuthorizer(alice, ['members']) })),
      call(vend.handler, tokenEvent({ authorizer: cognitoAuthorizer(bob, ['members']) })),
    ]);
    const byId = new Map(local.fake.received.map((c) => [c.tokenId, c.permissions]));
    expect([...byId.keys()].sort()).toEqual([alice, bob].sort());
    expect(byId.get(alice)).toEqual(cases[1]![2](alice));
    expect(byId.get(bob)).toEqual(cases[1]![2](bob));
    expect(byId.get(alice)).not.toEqual(byId.get(bob));
  });

  it('mints nothing for a user whose groups grant no tier (403) or an ID token of another app client (401)', async () => {
    const stranger = await call(
      vend.handler,
      tokenEvent({ authorizer: cognitoAuthorizer(randomUUID(), ['strangers']) }),
    );
    const otherClient = await call(
      vend.handler,
      tokenEvent({ authorizer: cognitoAuthorizer(randomUUID(), ['admins'], { aud: 'some-other-app-client' }) }),
    );
    const accessToken = await call(
      vend.handler,
      tokenEvent({ authorizer: cognitoAuthorizer(randomUUID(), ['admins'], { token_use: 'access' }) }),
    );
    expect([stranger.status, stranger.body.code]).toEqual([403, 'no-tier']);
    expect([otherClient.status, otherClient.body.code]).toEqual([401, 'unauthenticated']);
    expect([accessToken.status, accessToken.body.code]).toEqual([401, 'unauthenticated']);
    expect(local.fake.received).toHaveLength(0);
  });
});

describe('Lambda-authorizer mode (config/examples/authorizer.config.ts): createAuthorizer → API Gateway → handler', () => {
  const METHOD_ARN = 'arn:aws:execute-api:us-west-2:123456789012:abc123defg/prod/GET/token';
  const issuer = createLocalIssuer('https://idp.tvm.test/');
  const file: TvmConfig = {
    ...authorizerExample,
    auth: { ...(authorizerExample.auth as object), issuer: issuer.issuer } as TvmConfig['auth'],
  };
  const AUDIENCE = 'https://tvm.example.com';
  const ROLES_CLAIM = 'https://example.com/roles';
  let vend: Container;
  let authorize: ReturnType<typeof createAuthorizer>;

  beforeAll(async () => {
    vend = await vending(file);
    const auth = configFor(file).auth as AuthorizerAuthConfig;
    // Offline: the JWKS comes from cacheJwks; any download attempt fails the verification (and the test).
    const offline: Fetcher = {
      fetch: () => Promise.reject(new Error('no JWKS download in tests')),
    };
    const verifier = createJwtVerifier(auth, { fetcher: offline });
    verifier.cacheJwks(issuer.jwks);
    authorize = createAuthorizer({ auth, verifier, log: () => undefined });
  });

  /** What API Gateway does with an Allow: principalId + context into requestContext.authorizer, then invokes. */
  async function throughGateway(
    jwt: string,
    headers: Record<string, string> = {},
  ): Promise<{ allow: AuthorizerResult; answer: Answer }> {
    const allow = await authorize({ type: 'TOKEN', authorizationToken: `Bearer ${jwt}`, methodArn: METHOD_ARN });
    expect(allow.policyDocument.Statement).toEqual([
      { Action: 'execute-api:Invoke', Effect: 'Allow', Resource: METHOD_ARN },
    ]);
    const event = tokenEvent({
      headers: { Authorization: `Bearer ${jwt}`, ...headers },
      authorizer: { principalId: allow.principalId, ...allow.context, integrationLatency: 4 },
    });
    return { allow, answer: await call(vend.handler, event) };
  }

  it.each<[string, string[], unknown]>([
    [
      'admin: every cache, every topic',
      ['admin'],
      explicit(cacheStmt(ROLE.cacheReadWrite, '*'), topicStmt(ROLE.topicPublishSubscribe, '*')),
    ],
    [
      'member: chat-* topics of app',
      ['member'],
      explicit(topicStmt(ROLE.topicPublishSubscribe, 'app', { topicPrefix: 'chat-' })),
    ],
    ['reader: subscribe to every topic of app', ['reader'], explicit(topicStmt(ROLE.topicSubscribeOnly, 'app'))],
    [
      'member + reader: the union',
      ['member', 'reader'],
      explicit(
        topicStmt(ROLE.topicPublishSubscribe, 'app', { topicPrefix: 'chat-' }),
        topicStmt(ROLE.topicSubscribeOnly, 'app'),
      ),
    ],
  ])('%s', async (_name, roles, permissions) => {
    // Prepare: an IdP user (Auth0-style subject, roles in a namespaced claim).
    const sub = `auth0|${randomUUID().replace(/-/g, '')}`;
    const jwt = issuer.sign({ sub, aud: AUDIENCE, [ROLES_CLAIM]: roles, scope: 'openid profile' });

    // Act
    const { allow, answer } = await throughGateway(jwt);

    // Assess
    expect(allow.principalId).toBe(sub);
    const received = onlyCall();
    expect(received.permissions).toEqual(permissions);
    expect(received.validForSeconds).toBe(3600);
    expect(received.tokenId).toBe(sub);
    expectMinted(answer, received);
    expect(answer.body.tokenId).toBe(sub);
  });

  it('a forged token never reaches the function (exactly Unauthorized) and mints nothing', async () => {
    const forger = createLocalIssuer(issuer.issuer);
    const forged = forger.sign({ sub: 'mallory', aud: AUDIENCE, [ROLES_CLAIM]: ['admin'] });
    await expect(
      authorize({ type: 'TOKEN', authorizationToken: `Bearer ${forged}`, methodArn: METHOD_ARN }),
    ).rejects.toThrow(/^Unauthorized$/);
    expect(local.fake.received).toHaveLength(0);
  });
});

describe('open mode (config/examples/open.config.ts)', () => {
  it('mints the anonymous tier with no token_id', async () => {
    const vend = await vending(openExample);

    const answer = await call(vend.handler, tokenEvent());

    const received = onlyCall();
    expect(received.permissions).toEqual(
      explicit(
        topicStmt(ROLE.topicSubscribeOnly, 'demo', { topicPrefix: 'news-' }),
        cacheStmt(ROLE.cacheReadOnly, 'demo', { keyPrefix: 'public/' }),
      ),
    );
    expect(received.validForSeconds).toBe(900);
    expect(received.tokenId).toBe(''); // proto3: not set
    expectMinted(answer, received);
    expect(answer.body).not.toHaveProperty('tokenId');
  });
});

describe('spoofed headers never change what Momento receives', () => {
  const strip = (c: ReceivedCall) => ({
    permissions: c.permissions,
    validForSeconds: c.validForSeconds,
    tokenId: c.tokenId,
  });

  it('cognito: a reader sending usergroup: admins (and friends) gets exactly the reader token', async () => {
    const vend = await vending(tvmConfig);
    const sub = randomUUID();
    const plain = await call(vend.handler, tokenEvent({ authorizer: cognitoAuthorizer(sub, ['readers']) }));
    const spoofed = await call(
      vend.handler,
      tokenEvent({ headers: SPOOFED, authorizer: cognitoAuthorizer(sub, ['readers']) }),
    );
    expect([plain.status, spoofed.status]).toEqual([200, 200]);
    const [a, b] = local.fake.received.map(strip);
    expect(b).toEqual(a);
    expect(b?.permissions).toEqual(explicit(topicStmt(ROLE.topicSubscribeOnly, 'app', { topicPrefix: 'chat-' })));
    expect(spoofed.body.permissions).toEqual(plain.body.permissions);
  });

  it('cognito: spoofed headers without a verified identity → 401, nothing minted', async () => {
    const vend = await vending(tvmConfig);
    const answer = await call(vend.handler, tokenEvent({ headers: SPOOFED }));
    expect([answer.status, answer.body.code]).toEqual([401, 'unauthenticated']);
    expect(local.fake.received).toHaveLength(0);
  });

  it('authorizer mode: headers cannot add groups to a verified principal', async () => {
    const vend = await vending({
      ...authorizerExample,
      auth: { ...(authorizerExample.auth as object), issuer: 'https://idp.tvm.test/' } as TvmConfig['auth'],
    });
    const ctx = { principalId: 'user-1', sub: 'user-1', groups: '["reader"]', claims: '{"sub":"user-1"}' };
    await call(vend.handler, tokenEvent({ authorizer: ctx }));
    await call(vend.handler, tokenEvent({ headers: { ...SPOOFED, usergroup: 'admin' }, authorizer: ctx }));
    const [a, b] = local.fake.received.map(strip);
    expect(b).toEqual(a);
    expect(b).toEqual({
      permissions: explicit(topicStmt(ROLE.topicSubscribeOnly, 'app')),
      validForSeconds: 3600,
      tokenId: 'user-1',
    });
  });

  it('open mode: spoofed headers still give the anonymous tier; a group query parameter is refused (400)', async () => {
    const vend = await vending(openExample);
    await call(vend.handler, tokenEvent());
    await call(vend.handler, tokenEvent({ headers: SPOOFED }));
    const query = await call(vend.handler, tokenEvent({ query: { usergroup: ['admins'] } }));
    expect([query.status, query.body.code]).toEqual([400, 'unknown-parameter']);
    expect(local.fake.received).toHaveLength(2);
    const [a, b] = local.fake.received.map(strip);
    expect(b).toEqual(a);
    expect(b?.tokenId).toBe('');
  });
});
