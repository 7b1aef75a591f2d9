import { validateConfig, type TvmConfig } from '../../config/schema';
import cognitoConfig from '../../config/tvm.config';
import openConfig from '../../config/examples/open.config';
import authorizerConfig from '../../config/examples/authorizer.config';
import { allowPolicy } from '../../authorizers/identity';
import { MisconfiguredError, MomentoError, type MomentoFailure } from '../../lambda/errors';
import type { IssuanceEvent } from '../../lambda/telemetry';
import type { MintRequest, MintedToken, Minter } from '../../lambda/types';
import { createVendHandler } from '../../lambda/vend';
import { cognitoAuthorizer, tokenEvent } from '../support/events';

const NOW = 1_767_225_600;

/** A minter that records what it was asked and answers from a script. */
class FakeMinter implements Minter {
  readonly calls: MintRequest[] = [];
  next: (req: MintRequest) => Promise<MintedToken> = async (req) => ({
    authToken: `tok-${this.calls.length}`,
    endpoint: 'cell-1.example.momentohq.com',
    expiresAt: NOW + req.ttlSeconds,
  });
  mint(req: MintRequest): Promise<MintedToken> {
    this.calls.push(req);
    return this.next(req);
  }
}

function setup(config: TvmConfig = cognitoConfig, overrides: Partial<TvmConfig> = {}) {
  const minter = new FakeMinter();
  const events: IssuanceEvent[] = [];
  let now = NOW;
  const handler = createVendHandler({
    config: validateConfig({ ...config, ...overrides }),
    minter,
    telemetry: { record: (e) => events.push(e) },
    nowSeconds: () => now,
  });
  return { handler, minter, events, advance: (s: number) => (now += s) };
}

const ORIGIN = 'http://localhost:5173';
const json = (body: string) => JSON.parse(body) as Record<string, unknown>;

describe('Function: createVendHandler', () => {
  it('issues an admin token with the JSON contract, no-store and CORS for an allowed origin', async () => {
    // Prepare
    const { handler, minter } = setup();
    // Act
    const res = await handler(
      tokenEvent({ headers: { Origin: ORIGIN }, authorizer: cognitoAuthorizer('sub-admin-1', ['admins']) }),
    );
    // Assess
    expect(res.statusCode).toBe(200);
    expect(res.headers).toMatchObject({
      'Cache-Control': 'no-store',
      'Content-Type': 'application/json',
      'Access-Control-Allow-Origin': ORIGIN,
      Vary: 'Origin',
    });
    expect(json(res.body)).toEqual({
      authToken: 'tok-1',
      expiresAt: NOW + 3600,
      expiresIn: 3600,
      endpoint: 'cell-1.example.momentohq.com',
      tokenId: 'sub-admin-1',
      permissions: [
        { type: 'cache', cache: 'app', role: 'readwrite' },
        { type: 'topic', cache: 'app', role: 'publishsubscribe' },
      ],
    });
    expect(minter.calls).toEqual([{ grants: json(res.body).permissions, ttlSeconds: 3600, tokenId: 'sub-admin-1' }]);
  });

  it('does not echo an origin that is not on the allow-list', async () => {
    const { handler } = setup();
    const res = await handler(
      tokenEvent({ headers: { origin: 'https://evil.example' }, authorizer: cognitoAuthorizer('u1', ['admins']) }),
    );
    expect(res.statusCode).toBe(200);
    expect(res.headers?.['Access-Control-Allow-Origin']).toBeUndefined();
  });

  it('ignores group and cache names sent as headers (the anchor’s privilege escalation)', async () => {
    const { handler, minter } = setup();
    const res = await handler(
      tokenEvent({
        headers: { usergroup: 'admins', cachename: 'other', 'x-tvm-groups': 'admins' },
        authorizer: cognitoAuthorizer('reader-1', ['readers']),
      }),
    );
    expect(res.statusCode).toBe(200);
    expect(minter.calls[0]?.grants).toEqual([
      { type: 'topic', cache: 'app', role: 'subscribeonly', topicPrefix: 'chat-' },
    ]);
    expect(minter.calls[0]?.ttlSeconds).toBe(900);
  });

  it('templates the member tier with the verified sub', async () => {
    const { handler, minter } = setup();
    await handler(tokenEvent({ authorizer: cognitoAuthorizer('b1c2d3', ['members']) }));
    expect(minter.calls[0]?.grants).toContainEqual({
      type: 'cache',
      cache: 'app',
      role: 'readwrite',
      keyPrefix: 'user/b1c2d3/',
    });
    expect(minter.calls[0]?.grants).toContainEqual({
      type: 'topic',
      cache: 'app',
      role: 'subscribeonly',
      topic: 'inbox-b1c2d3',
    });
  });

  it('answers 403 problem+json when no group maps to a tier', async () => {
    const { handler, minter, events } = setup();
    const res = await handler(
      tokenEvent({ headers: { Origin: ORIGIN }, authorizer: cognitoAuthorizer('u2', ['strangers']) }),
    );
    expect(res.statusCode).toBe(403);
    expect(res.headers).toMatchObject({
      'Content-Type': 'application/problem+json',
      'Access-Control-Allow-Origin': ORIGIN,
    });
    expect(json(res.body)).toMatchObject({ status: 403, code: 'no-tier', title: 'Forbidden' });
    expect(minter.calls).toHaveLength(0);
    expect(events[0]).toMatchObject({ decision: 'denied', status: 403, code: 'no-tier', principalId: 'u2' });
  });

  it('answers 401 when API Gateway passed no verified identity in cognito mode', async () => {
    const { handler } = setup();
    const res = await handler(tokenEvent({ headers: { Authorization: 'Bearer whatever' } }));
    expect(res.statusCode).toBe(401);
    expect(json(res.body)).toMatchObject({ code: 'unauthenticated' });
  });

  it.each([
    [{ bogus: ['1'] }, 'unknown-parameter'],
    [{ ttl: ['soon'] }, 'bad-parameter'],
    [{ cache: ['a b'] }, 'bad-parameter'],
  ])('answers 400 for a malformed query %j', async (query, code) => {
    const { handler, minter, events } = setup();
    const res = await handler(tokenEvent({ query, authorizer: cognitoAuthorizer('u3', ['admins']) }));
    expect(res.statusCode).toBe(400);
    expect(json(res.body)).toMatchObject({ status: 400, code, title: 'Bad Request' });
    expect(minter.calls).toHaveLength(0);
    // Audited with the signed-in caller, not as anonymous.
    expect(events).toEqual([
      expect.objectContaining({ status: 400, code, principalId: 'u3', source: 'cognito', groups: ['admins'] }),
    ]);
  });

  it('answers 400 naming the repeat for ?ttl=600&ttl=700 (not a range error)', async () => {
    const { handler } = setup();
    const res = await handler(
      tokenEvent({ query: { ttl: ['600', '700'] }, authorizer: cognitoAuthorizer('u3', ['admins']) }),
    );
    expect(res.statusCode).toBe(400);
    expect(json(res.body)).toMatchObject({ code: 'bad-parameter', detail: 'ttl takes one value; it was given more' });
  });

  it('refuses a Cognito user in more than 100 groups with 401 and logs why (the authorizer refuses it too)', async () => {
    const { handler, minter, events } = setup();
    const groups = ['admins', ...Array.from({ length: 100 }, (_, i) => `g${i}`)];
    const res = await handler(tokenEvent({ authorizer: cognitoAuthorizer('many', groups) }));
    expect(res.statusCode).toBe(401);
    expect(json(res.body)).toMatchObject({ code: 'unauthenticated' });
    expect(events).toEqual([
      expect.objectContaining({ status: 401, code: 'unauthenticated', reason: 'too-many-groups' }),
    ]);
    expect(minter.calls).toHaveLength(0);
  });

  it('narrows on request and refuses widening with 403 naming the grant', async () => {
    const { handler, minter } = setup();
    const ok = await handler(
      tokenEvent({
        query: { topic: ['chat-lobby'], access: ['read'] },
        authorizer: cognitoAuthorizer('m1', ['members']),
      }),
    );
    expect(ok.statusCode).toBe(200);
    expect(minter.calls[0]?.grants).toEqual([
      { type: 'topic', cache: 'app', role: 'subscribeonly', topic: 'chat-lobby' },
    ]);
    const wide = await handler(
      tokenEvent({ query: { topic: ['admin-room'] }, authorizer: cognitoAuthorizer('m1', ['members']) }),
    );
    expect(wide.statusCode).toBe(403);
    expect(json(wide.body).detail).toMatch(/topic "admin-room"/);
  });

  it.each<[MomentoFailure, number, string | undefined]>([
    ['auth', 502, undefined],
    ['throttled', 429, '1'],
    ['unavailable', 503, '2'],
    ['timeout', 503, '2'],
    ['rejected', 502, undefined],
    ['internal', 502, undefined],
  ])('maps Momento failure %s to %i (Retry-After %s)', async (failure, status, retryAfter) => {
    const { handler, minter, events } = setup();
    minter.next = () => Promise.reject(new MomentoError(failure, 14));
    const res = await handler(
      tokenEvent({ headers: { Origin: ORIGIN }, authorizer: cognitoAuthorizer('u4', ['admins']) }),
    );
    expect(res.statusCode).toBe(status);
    expect(res.headers?.['Retry-After']).toBe(retryAfter);
    expect(res.headers?.['Access-Control-Allow-Origin']).toBe(ORIGIN);
    expect(json(res.body)).toMatchObject({ status, code: `momento-${failure}` });
    expect(events[0]).toMatchObject({ decision: 'error', momentoFailure: failure, status });
  });

  it('answers 500 with a logged reason when the secret is empty, and keeps serving', async () => {
    const { handler, minter, events } = setup();
    const reason = 'Secret "arn:aws:secretsmanager:us-east-1:123456789012:secret:tvm-key-AbC123" has no value yet';
    minter.next = () => Promise.reject(new MisconfiguredError('secret-empty', reason));
    const res = await handler(tokenEvent({ authorizer: cognitoAuthorizer('u5', ['admins']) }));
    expect(res.statusCode).toBe(500);
    expect(json(res.body)).toMatchObject({ code: 'secret-empty', requestId: expect.stringMatching(/^req-/) });
    // The reason is the operator's: the caller never reads the secret's ARN (account id, region, name).
    expect(res.body).not.toContain('arn:aws:secretsmanager');
    expect(res.body).not.toContain('123456789012');
    expect(events[0]).toMatchObject({ status: 500, reason });
    minter.next = async (req) => ({ authToken: 'ok', endpoint: 'e', expiresAt: NOW + req.ttlSeconds });
    expect((await handler(tokenEvent({ authorizer: cognitoAuthorizer('u5', ['admins']) }))).statusCode).toBe(200);
  });

  it('turns an unknown error into a generic 500 without its message', async () => {
    const { handler, minter } = setup();
    minter.next = () => Promise.reject(new Error('secret detail sk_live_123'));
    const res = await handler(tokenEvent({ authorizer: cognitoAuthorizer('u6', ['admins']) }));
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toMatch(/sk_live_123/);
    expect(json(res.body)).toMatchObject({ code: 'internal', requestId: expect.stringMatching(/^req-/) });
  });

  it('mints once for 100 concurrent identical requests and reports the true remaining lifetime', async () => {
    const { handler, minter, events, advance } = setup();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    minter.next = async (req) => {
      await gate;
      return { authToken: 'shared-token', endpoint: 'e', expiresAt: NOW + req.ttlSeconds };
    };
    const pending = Array.from({ length: 100 }, () =>
      handler(tokenEvent({ authorizer: cognitoAuthorizer('same-user', ['admins']) })),
    );
    release();
    const results = await Promise.all(pending);
    expect(minter.calls).toHaveLength(1);
    expect(results.every((r) => r.statusCode === 200 && json(r.body).authToken === 'shared-token')).toBe(true);
    expect(events.filter((e) => e.tokenSource === 'minted')).toHaveLength(1);
    advance(1000);
    const later = await handler(tokenEvent({ authorizer: cognitoAuthorizer('same-user', ['admins']) }));
    expect(json(later.body)).toMatchObject({ authToken: 'shared-token', expiresAt: NOW + 3600, expiresIn: 2600 });
    expect(minter.calls).toHaveLength(1);
    advance(1000); // 1600 s left < half of 3600: mint a new one
    await handler(tokenEvent({ authorizer: cognitoAuthorizer('same-user', ['admins']) }));
    expect(minter.calls).toHaveLength(2);
  });

  it('never shares a token across identities or scopes', async () => {
    const { handler, minter } = setup();
    await handler(tokenEvent({ authorizer: cognitoAuthorizer('alice', ['admins']) }));
    await handler(tokenEvent({ authorizer: cognitoAuthorizer('bob', ['admins']) }));
    await handler(tokenEvent({ authorizer: cognitoAuthorizer('alice', ['admins']), query: { access: ['read'] } }));
    await handler(tokenEvent({ authorizer: cognitoAuthorizer('alice', ['admins']), query: { ttl: ['600'] } }));
    expect(minter.calls.map((c) => c.tokenId)).toEqual(['alice', 'bob', 'alice', 'alice']);
  });

  it('mints on every request when the token cache is disabled', async () => {
    const { handler, minter } = setup(cognitoConfig, { tokenCache: { enabled: false } });
    await handler(tokenEvent({ authorizer: cognitoAuthorizer('alice', ['admins']) }));
    await handler(tokenEvent({ authorizer: cognitoAuthorizer('alice', ['admins']) }));
    expect(minter.calls).toHaveLength(2);
  });

  it('gives open-mode callers the anonymous tier and no tokenId, whatever they send', async () => {
    const { handler, minter } = setup(openConfig);
    const res = await handler(
      tokenEvent({ headers: { usergroup: 'admins' }, authorizer: cognitoAuthorizer('spoof', ['admins']) }),
    );
    expect(res.statusCode).toBe(200);
    expect(json(res.body).tokenId).toBeUndefined();
    expect(minter.calls[0]).toEqual({
      grants: [
        { type: 'topic', cache: 'demo', role: 'subscribeonly', topicPrefix: 'news-' },
        { type: 'cache', cache: 'demo', role: 'readonly', keyPrefix: 'public/' },
      ],
      ttlSeconds: 900,
      tokenId: undefined,
    });
  });

  it('answers 405 to other methods', async () => {
    const { handler } = setup(openConfig);
    const res = await handler(tokenEvent({ method: 'POST' }));
    expect(res.statusCode).toBe(405);
    expect(res.headers?.Allow).toBe('GET, OPTIONS');
  });

  it('records one audit event per request without the token', async () => {
    const { handler, events } = setup();
    const res = await handler(tokenEvent({ authorizer: cognitoAuthorizer('audit-user', ['members']) }));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      decision: 'granted',
      status: 200,
      principalId: 'audit-user',
      tiers: ['member'],
      tokenId: 'audit-user',
      ttlSeconds: 3600,
      tokenSource: 'minted',
      scopeHash: expect.stringMatching(/^[0-9a-f]{16}$/),
    });
    expect(JSON.stringify(events)).not.toContain(json(res.body).authToken as string);
  });
});

describe('Function: createVendHandler (authorizer context: only the form the shipped authorizer emits)', () => {
  const setupAuthorizer = () => setup(authorizerConfig);

  it('vends for the context allowPolicy produces (groups as a JSON array in a string)', async () => {
    // Prepare: exactly what authorizers/identity.ts hands API Gateway, as API Gateway passes it on.
    const { context, principalId } = allowPolicy(
      { principalId: 'u9', groups: ['admin'], claims: {} },
      'arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/token',
    );
    const { handler } = setupAuthorizer();

    // Act
    const res = await handler(tokenEvent({ authorizer: { principalId, ...context } }));

    // Assess
    expect(res.statusCode).toBe(200);
  });

  it.each<[string, unknown]>([
    ['a JSON string ("\\"admin\\"")', '"admin"'],
    ['a bare name', 'admin'],
    ['"a,b" in a JSON string', '"admin,member"'],
    ['an array (not a string)', ['admin']],
  ])('gives groups sent as %s no tier (403 no-tier)', async (_label, groups) => {
    const { handler, minter } = setupAuthorizer();
    const res = await handler(tokenEvent({ authorizer: { principalId: 'u9', groups, claims: '{}' } }));
    expect(res.statusCode).toBe(403);
    expect(json(res.body)).toMatchObject({ code: 'no-tier' });
    expect(minter.calls).toHaveLength(0);
  });
});

describe('Function: createVendHandler (cognito app clients)', () => {
  const make = () =>
    createVendHandler({
      config: validateConfig(cognitoConfig),
      minter: { mint: async (r) => ({ authToken: 't', endpoint: 'e', expiresAt: NOW + r.ttlSeconds }) },
      nowSeconds: () => NOW,
      cognitoClientIds: ['4example1client2id3'],
    });

  it('vends for an ID token of our app client', async () => {
    const res = await make()(tokenEvent({ authorizer: cognitoAuthorizer('c1', ['admins']) }));
    expect(res.statusCode).toBe(200);
  });

  it.each([
    ['another app client of the same pool', { aud: 'someone-elses-client' }],
    ['an access token', { token_use: 'access' }],
  ])('answers 401 for %s', async (_what, extra) => {
    const res = await make()(tokenEvent({ authorizer: cognitoAuthorizer('c1', ['admins'], extra) }));
    expect(res.statusCode).toBe(401);
  });
});

describe('Function: createVendHandler (callerLimit)', () => {
  it('answers 429 with Retry-After once a caller exceeds its mints, without touching other callers or cached tokens', async () => {
    // Prepare
    const { handler, minter } = setup(cognitoConfig, { callerLimit: { mintsPerMinute: 2 } });
    const as = (sub: string, ttl: string) =>
      tokenEvent({ authorizer: cognitoAuthorizer(sub, ['admins']), query: { ttl: [ttl] } });
    // Act
    const first = await handler(as('alice', '600'));
    const second = await handler(as('alice', '900'));
    const third = await handler(as('alice', '1200'));
    const cached = await handler(as('alice', '600'));
    const bob = await handler(as('bob', '600'));
    // Assess
    expect([first.statusCode, second.statusCode, third.statusCode, cached.statusCode, bob.statusCode]).toEqual([
      200, 200, 429, 200, 200,
    ]);
    expect(third.headers?.['Retry-After']).toBe('30');
    expect(json(third.body)).toMatchObject({ status: 429, code: 'caller-rate-limited' });
    expect(minter.calls).toHaveLength(3);
  });

  it('limits anonymous open-mode callers by client IP', async () => {
    const { handler } = setup(openConfig, { callerLimit: { mintsPerMinute: 1 }, tokenCache: { enabled: false } });
    const from = (ip: string) => {
      const e = tokenEvent();
      e.requestContext.identity.sourceIp = ip;
      return e;
    };
    expect((await handler(from('198.51.100.1'))).statusCode).toBe(200);
    expect((await handler(from('198.51.100.1'))).statusCode).toBe(429);
    expect((await handler(from('198.51.100.2'))).statusCode).toBe(200);
  });
});
