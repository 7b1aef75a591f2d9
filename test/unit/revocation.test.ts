/**
 * Revocation and live groups, pure logic: the record's meaning, the credential's issue time, the per-container
 * cache bound, single-flight, fail closed / fail open, and the adapters' requests (with an injected call).
 */
import { AwsCallError, type AwsJsonCall } from '../../common/aws';
import { validateConfig } from '../../config/schema';
import {
  GroupsLookupError,
  LIVE_GROUPS_BUDGET_MS,
  LiveGroups,
  cognitoGroupSource,
  type GroupSource,
} from '../../lambda/live-groups';
import {
  RevocationCheck,
  RevocationCheckError,
  credentialIssuedAt,
  parseClaimTime,
  principalKey,
  refuses,
  revocationExpiry,
  type RevocationRecord,
  type RevocationStore,
} from '../../lambda/revocation';
import { dynamoRevocationStore } from '../../lambda/revocation-dynamodb';
import { liveGroupsFromEnv, revocationFromEnv } from '../../lambda/revocation-env';
import { createVendHandler } from '../../lambda/vend';
import tvmConfig from '../../config/tvm.config';
import authorizerConfig from '../../config/examples/authorizer.config';
import { createAuthorizer } from '../../authorizers/authorizer';
import { createJwtVerifier } from '../../authorizers/verify';
import { identify } from '../../lambda/identity';
import { cognitoAuthorizer, tokenEvent } from '../support/events';
import type { Principal } from '../../lambda/types';
import { JWKS, authorizerAuth, rs256, tokenEvent as authorizerEvent } from './authorizer-fixtures';

const T = 1_767_225_600; // 2026-01-01T00:00:00Z

const alice = (claims: Record<string, string> = {}): Principal => ({
  id: 'a11ce',
  groups: ['admins'],
  claims: { sub: 'a11ce', 'cognito:username': 'alice', ...claims },
  source: 'cognito',
});

/** A store backed by a Map, counting reads; `fail` makes every read throw. */
function mapStore(records: RevocationRecord[] = []) {
  const map = new Map(records.map((r) => [r.principal, r]));
  const s = {
    map,
    reads: 0,
    fail: undefined as Error | undefined,
    async get(principal: string) {
      s.reads += 1;
      if (s.fail) throw s.fail;
      return map.get(principal);
    },
  };
  return s;
}

describe('Function: parseClaimTime / credentialIssuedAt', () => {
  it.each([
    ['1767225600', T],
    ['1767225600.75', T],
    ['Thu Jan 01 00:00:00 UTC 2026', T], // API Gateway's shape for a Cognito iat
    ['2026-01-01T00:00:00Z', T],
    ['', undefined],
    ['not a date', undefined],
    ['-5', undefined],
    [undefined, undefined],
  ])('%p → %p', (input, expected) => {
    expect(parseClaimTime(input)).toBe(expected);
  });

  it('prefers auth_time (a refresh keeps it) over iat (a refresh renews it)', () => {
    expect(credentialIssuedAt(alice({ auth_time: String(T), iat: 'Thu Jan 01 01:00:00 UTC 2026' }))).toBe(T);
    expect(credentialIssuedAt(alice({ iat: 'Thu Jan 01 01:00:00 UTC 2026' }))).toBe(T + 3600);
    expect(credentialIssuedAt(alice())).toBeUndefined();
  });
});

describe('Authorizer mode: the issue time the authorizer forwards reaches the check (issue 17 item 14)', () => {
  const NOT_BEFORE = T + 1800; // revoked half an hour after the sign-in at T
  const record = { principal: 'authorizer:user-123', notBefore: NOT_BEFORE };
  const AUTH = validateConfig(authorizerConfig).auth;

  /** The principal the vending function sees for this JWT payload, through the real authorizer. */
  async function principalFor(times: Record<string, number | undefined>, forwardClaims: string[]) {
    const auth = authorizerAuth({ forwardClaims });
    const verifier = createJwtVerifier(auth, { fetcher: { fetch: () => Promise.reject(new Error('offline')) } });
    verifier.cacheJwks(JWKS);
    const allowed = await createAuthorizer({ auth, verifier, log: () => undefined })(
      authorizerEvent(`Bearer ${rs256(times)}`),
    );
    const identified = identify(
      tokenEvent({ authorizer: { principalId: allowed.principalId, ...allowed.context } }),
      AUTH,
    );
    if (!('principal' in identified)) throw new Error(`not identified: ${identified.refused}`);
    return identified.principal;
  }

  it.each([
    // The refresh of a token signed in before T: new iat, old auth_time. Before: with `iat` forwarded, it passed.
    ['a refreshed token (auth_time before T, iat after)', { auth_time: T, iat: T + 3000 }, ['iat'], true],
    ['the same, forwardClaims empty', { auth_time: T, iat: T + 3000 }, [], true],
    // Before: with nothing forwarded, a new sign-in after T was refused as "no issue time".
    ['a new sign-in after T', { auth_time: T + 2000, iat: T + 2000 }, [], false],
    ['an IdP without auth_time: iat before T', { iat: T }, [], true],
    ['an IdP without auth_time: iat after T (a refresh counts as new)', { iat: T + 3000 }, [], false],
    ['neither: refused while the record exists', { iat: undefined }, [], true],
  ])('%s (forwardClaims %j) → refused %p', async (_what, times, forwardClaims, refused) => {
    const principal = await principalFor(times, forwardClaims);
    expect(refuses(record, credentialIssuedAt(principal))).toBe(refused);
  });
});

describe('Function: refuses', () => {
  const record = { principal: 'cognito:a11ce', notBefore: T };
  it.each([
    ['no record', undefined, T - 1, false],
    ['issued before T', record, T - 1, true],
    ['issued at T (the same second: maybe before the revocation)', record, T, true],
    ['issued after T (a new sign-in)', record, T + 1, false],
    ['no usable issue time: refuse all', record, undefined, true],
  ])('%s', (_what, r, issuedAt, expected) => {
    expect(refuses(r, issuedAt)).toBe(expected);
  });

  it('keys a principal as the audit log names it; anonymous has no key', () => {
    expect(principalKey({ source: 'cognito', id: 'a11ce' })).toBe('cognito:a11ce');
    expect(principalKey({ source: 'authorizer', id: 'apikey:ops' })).toBe('authorizer:apikey:ops');
    expect(principalKey({ source: 'anonymous', id: undefined })).toBeUndefined();
  });

  it('expires a record after revocation + credential lifetime + token lifetime', () => {
    expect(revocationExpiry(T, { maxCredentialLifetimeSeconds: 86400, maxTokenTtlSeconds: 3600 })).toBe(
      T + 86400 + 3600,
    );
  });

  it('keeps a record until lifted when no credential lifetime is configured (refresh tokens outlive a day)', () => {
    expect(revocationExpiry(T, { maxTokenTtlSeconds: 3600 })).toBeUndefined();
  });
});

describe('Class: RevocationCheck', () => {
  it('refuses a credential issued before notBefore and allows a later one', async () => {
    const check = new RevocationCheck({
      store: mapStore([{ principal: 'cognito:a11ce', notBefore: T }]),
      cacheSeconds: 5,
      failOpen: false,
    });
    await expect(check.check(alice({ auth_time: String(T - 10) }))).resolves.toMatchObject({ outcome: 'revoked' });
    await expect(check.check(alice({ auth_time: String(T + 10) }))).resolves.toMatchObject({
      outcome: 'allowed',
      record: { notBefore: T },
    });
  });

  it('never asks the store for an anonymous caller', async () => {
    const store = mapStore();
    const check = new RevocationCheck({ store, cacheSeconds: 5, failOpen: false });
    await expect(check.check({ id: undefined, groups: [], claims: {}, source: 'anonymous' })).resolves.toEqual({
      outcome: 'allowed',
    });
    expect(store.reads).toBe(0);
  });

  it('reuses a lookup (hit or miss) for cacheSeconds, then reads again: a revocation lands within the bound', async () => {
    const store = mapStore();
    let now = 1_000_000;
    const check = new RevocationCheck({ store, cacheSeconds: 5, failOpen: false, nowMs: () => now });
    const p = alice({ auth_time: String(T - 10) });
    await expect(check.check(p)).resolves.toMatchObject({ outcome: 'allowed' });
    store.map.set('cognito:a11ce', { principal: 'cognito:a11ce', notBefore: T });
    now += 4999;
    await expect(check.check(p)).resolves.toMatchObject({ outcome: 'allowed' });
    expect(store.reads).toBe(1);
    now += 1;
    await expect(check.check(p)).resolves.toMatchObject({ outcome: 'revoked' });
    expect(store.reads).toBe(2);
  });

  it('cacheSeconds 0 reads the store on every request', async () => {
    const store = mapStore();
    const check = new RevocationCheck({ store, cacheSeconds: 0, failOpen: false });
    await check.check(alice());
    await check.check(alice());
    expect(store.reads).toBe(2);
  });

  it('shares one read among concurrent checks of one principal', async () => {
    let release!: () => void;
    let reads = 0;
    const store: RevocationStore = {
      get: () => {
        reads += 1;
        return new Promise((r) => (release = () => r(undefined)));
      },
    };
    const check = new RevocationCheck({ store, cacheSeconds: 5, failOpen: false });
    const all = Promise.all([check.check(alice()), check.check(alice()), check.check(alice())]);
    release();
    expect((await all).map((v) => v.outcome)).toEqual(['allowed', 'allowed', 'allowed']);
    expect(reads).toBe(1);
  });

  it('fails closed with 503 revocation-check-failed + Retry-After, and does not cache the failure', async () => {
    const store = mapStore();
    store.fail = new Error('boom');
    const check = new RevocationCheck({ store, cacheSeconds: 5, failOpen: false });
    const err = await check.check(alice()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RevocationCheckError);
    expect(err).toMatchObject({ status: 503, code: 'revocation-check-failed', retryAfterSeconds: 2 });
    expect((err as Error).cause).toBe(store.fail);
    store.fail = undefined;
    await expect(check.check(alice())).resolves.toMatchObject({ outcome: 'allowed' });
    expect(store.reads).toBe(2);
  });

  it('fails open only when failOpen is set, and says so', async () => {
    const store = mapStore();
    store.fail = new Error('boom');
    const check = new RevocationCheck({ store, cacheSeconds: 5, failOpen: true });
    await expect(check.check(alice())).resolves.toEqual({ outcome: 'failed-open', error: store.fail });
  });

  it('keeps at most maxEntries principals', async () => {
    const store = mapStore();
    const check = new RevocationCheck({ store, cacheSeconds: 60, failOpen: false, maxEntries: 2 });
    for (const id of ['a', 'b', 'c', 'a']) await check.check({ ...alice(), id });
    expect(store.reads).toBe(4); // "a" was evicted by "c"
  });
});

describe('Function: dynamoRevocationStore', () => {
  const recorder = (answer: unknown) => {
    const calls: AwsJsonCall[] = [];
    return {
      calls,
      call: async (c: AwsJsonCall) => {
        calls.push(c);
        if (answer instanceof Error) throw answer;
        return answer;
      },
    };
  };

  it('sends one strongly consistent GetItem for two attributes', async () => {
    const r = recorder({});
    await expect(dynamoRevocationStore({ tableName: 'tbl', call: r.call }).get('cognito:a11ce')).resolves.toBe(
      undefined,
    );
    expect(r.calls).toEqual([
      expect.objectContaining({
        operation: 'GetItem',
        service: expect.objectContaining({ targetPrefix: 'DynamoDB_20120810', jsonVersion: '1.0' }),
        timeoutMs: 1000,
        body: {
          TableName: 'tbl',
          Key: { principal: { S: 'cognito:a11ce' } },
          ConsistentRead: true,
          ProjectionExpression: '#nb, #exp',
          ExpressionAttributeNames: { '#nb': 'notBefore', '#exp': 'expiresAt' },
        },
      }),
    ]);
  });

  it.each([
    ['a record', { notBefore: { N: String(T) }, expiresAt: { N: String(T + 90000) } }, { notBefore: T }],
    [
      'no notBefore: refuses everything',
      { expiresAt: { N: String(T + 90000) } },
      { notBefore: Number.MAX_SAFE_INTEGER },
    ],
    [
      'past its TTL (not yet deleted): absent',
      { notBefore: { N: String(T) }, expiresAt: { N: String(T - 1) } },
      undefined,
    ],
  ])('%s', async (_what, item, expected) => {
    const r = recorder({ Item: item });
    const got = await dynamoRevocationStore({ tableName: 'tbl', call: r.call, nowSeconds: () => T }).get('cognito:x');
    if (expected === undefined) expect(got).toBeUndefined();
    else expect(got).toMatchObject({ principal: 'cognito:x', ...expected });
  });

  it('lets a failed call throw (the check decides: 503 or fail open)', async () => {
    const err = new AwsCallError('DynamoDB_20120810.GetItem', 'throttled', { message: 'slow down' });
    await expect(dynamoRevocationStore({ tableName: 'tbl', call: recorder(err).call }).get('cognito:x')).rejects.toBe(
      err,
    );
  });
});

describe('Class: LiveGroups', () => {
  const source = (groups: Record<string, string[] | undefined>) => {
    const s: GroupSource & { asked: string[]; fail?: Error } = {
      asked: [],
      async groupsOf(username) {
        s.asked.push(username);
        if (s.fail) throw s.fail;
        return groups[username];
      },
    };
    return s;
  };

  it('replaces the token’s groups with the current ones of the user the token was issued to (by sub)', async () => {
    const src = source({ a11ce: ['members'], alice: ['admins'] });
    const live = new LiveGroups({ source: src, cacheSeconds: 5 });
    await expect(live.resolve(alice())).resolves.toMatchObject({ id: 'a11ce', groups: ['members'] });
    // Never by cognito:username ("alice"), which a pool may let another user take.
    expect(src.asked).toEqual(['a11ce']);
  });

  it.each([
    ['no sub claim', { sub: undefined }],
    ['a quote', { sub: 'a11ce" or sub ^= "' }],
    ['a backslash', { sub: 'a11ce\\' }],
    ['a space', { sub: 'a11ce x' }],
    ['a control character', { sub: 'a11ce\n' }],
    ['129 characters', { sub: 'a'.repeat(129) }],
  ])('refuses a token with %s before asking anything (401)', async (_what, claims) => {
    const src = source({ a11ce: ['members'] });
    const p = alice();
    const odd: Principal = { ...p, claims: { ...p.claims, ...claims } as Record<string, string> };
    if (claims.sub === undefined) delete (odd.claims as Record<string, string>).sub;
    await expect(new LiveGroups({ source: src, cacheSeconds: 5 }).resolve(odd)).rejects.toMatchObject({
      code: 'unauthenticated',
      message: expect.stringMatching(/no usable sub/),
    });
    expect(src.asked).toEqual([]);
  });

  it('keeps one cached lookup per sub', async () => {
    const src = source({ a11ce: ['members'] });
    const live = new LiveGroups({ source: src, cacheSeconds: 5, nowMs: () => 0 });
    await Promise.all([live.resolve(alice()), live.resolve(alice({ 'cognito:username': 'renamed' }))]);
    await live.resolve(alice());
    expect(src.asked).toEqual(['a11ce']);
  });

  it('a user who no longer exists resolves to undefined (answered 403 revoked)', async () => {
    const live = new LiveGroups({ source: source({}), cacheSeconds: 5 });
    await expect(live.resolve(alice())).resolves.toBeUndefined();
  });

  it('caches for cacheSeconds, then asks again', async () => {
    const groups: Record<string, string[]> = { a11ce: ['admins'] };
    const src = source(groups);
    let now = 0;
    const live = new LiveGroups({ source: src, cacheSeconds: 5, nowMs: () => now });
    await live.resolve(alice());
    groups.a11ce = [];
    now = 4999;
    await expect(live.resolve(alice())).resolves.toMatchObject({ groups: ['admins'] });
    now = 5000;
    await expect(live.resolve(alice())).resolves.toMatchObject({ groups: [] });
    expect(src.asked).toHaveLength(2);
  });

  it('fails closed: 503 groups-check-failed', async () => {
    const src = source({});
    src.fail = new Error('cognito down');
    const err = await new LiveGroups({ source: src, cacheSeconds: 5 }).resolve(alice()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GroupsLookupError);
    expect(err).toMatchObject({ status: 503, code: 'groups-check-failed', retryAfterSeconds: 2 });
  });

  it('refuses current groups over the limits, as groups from a token are (never cut short)', async () => {
    // Prepare
    const p: Principal = { id: 'alice', groups: ['admins'], claims: { sub: 'alice' }, source: 'cognito' };
    const tooLong = source({ alice: ['admins', 'x'.repeat(129)] });
    const tooMany = source({ alice: Array.from({ length: 101 }, (_, i) => `g${i}`) });

    // Act & Assess
    await expect(new LiveGroups({ source: tooLong, cacheSeconds: 5 }).resolve(p)).rejects.toMatchObject({
      code: 'unauthenticated',
      message: expect.stringMatching(/group-too-long/),
    });
    await expect(new LiveGroups({ source: tooMany, cacheSeconds: 5 }).resolve(p)).rejects.toMatchObject({
      code: 'unauthenticated',
      message: expect.stringMatching(/too-many-groups/),
    });
  });

  it('leaves non-Cognito principals alone', async () => {
    const src = source({});
    const p: Principal = { id: 'x', groups: ['g'], claims: {}, source: 'authorizer' };
    await expect(new LiveGroups({ source: src, cacheSeconds: 5 }).resolve(p)).resolves.toBe(p);
    expect(src.asked).toEqual([]);
  });
});

describe('Function: cognitoGroupSource', () => {
  const SUB = '0a11ce00-0000-4000-a000-000000000001';
  const found = (username: string, sub = SUB) => ({
    Users: [{ Username: username, Attributes: [{ Name: 'sub', Value: sub }] }],
  });

  it('finds the user by sub (ListUsers), then pages through its AdminListGroupsForUser (60 per page)', async () => {
    const calls: { operation: string; body: unknown }[] = [];
    const answers = [
      found('alice-renamed'),
      { Groups: [{ GroupName: 'admins' }, { GroupName: 'x'.repeat(129) }], NextToken: 'p2' },
      { Groups: [{ GroupName: 'members' }, { GroupName: 'admins' }] },
    ];
    const src = cognitoGroupSource({
      userPoolId: 'us-east-1_AbC',
      call: async (c) => {
        calls.push({ operation: c.operation, body: c.body });
        expect(c.service.targetPrefix).toBe('AWSCognitoIdentityProviderService');
        return answers.shift();
      },
    });
    await expect(src.groupsOf(SUB)).resolves.toEqual(['admins', 'x'.repeat(129), 'members']);
    expect(calls).toEqual([
      {
        operation: 'ListUsers',
        body: { UserPoolId: 'us-east-1_AbC', Filter: `sub = "${SUB}"`, Limit: 1, AttributesToGet: ['sub'] },
      },
      {
        operation: 'AdminListGroupsForUser',
        body: { UserPoolId: 'us-east-1_AbC', Username: 'alice-renamed', Limit: 60 },
      },
      {
        operation: 'AdminListGroupsForUser',
        body: { UserPoolId: 'us-east-1_AbC', Username: 'alice-renamed', Limit: 60, NextToken: 'p2' },
      },
    ]);
  });

  it.each([
    ['no user has the sub', { Users: [] }],
    ['an answer without users', {}],
    ['a user whose sub is not the one asked', found('mallory', '0a11ce00-0000-4000-a000-000000000002')],
    ['a user without a name', { Users: [{ Attributes: [{ Name: 'sub', Value: SUB }] }] }],
  ])('%s → undefined (the user is gone), and no group lookup', async (_what, answer) => {
    const operations: string[] = [];
    const src = cognitoGroupSource({
      userPoolId: 'p',
      call: async (c) => {
        operations.push(c.operation);
        return answer;
      },
    });
    await expect(src.groupsOf(SUB)).resolves.toBeUndefined();
    expect(operations).toEqual(['ListUsers']);
  });

  it('refuses a sub with a quote before building the filter (no call)', async () => {
    const call = jest.fn();
    await expect(cognitoGroupSource({ userPoolId: 'p', call }).groupsOf('x" or sub ^= "')).rejects.toThrow(
      /not a Cognito sub/,
    );
    expect(call).not.toHaveBeenCalled();
  });

  it('keeps ListUsers and every group page within one 2 s budget (the vending timeout counts 2 s)', async () => {
    // Prepare: each call takes 800 ms of a fake clock; 100 groups are 2 pages
    let now = 0;
    const timeouts: [string, number][] = [];
    const pages = [
      found('alice'),
      { Groups: Array.from({ length: 60 }, (_, i) => ({ GroupName: `g${i}` })), NextToken: 'p2' },
      { Groups: [{ GroupName: 'last' }], NextToken: 'p3' },
    ];
    const src = cognitoGroupSource({
      userPoolId: 'p',
      nowMs: () => now,
      call: async (c) => {
        timeouts.push([c.operation, c.timeoutMs]);
        now += 800;
        return pages.shift();
      },
    });

    // Act
    const err = await src.groupsOf(SUB).catch((e: unknown) => e);

    // Assess: 1000, 1000, then what is left (400); the next page is not even asked
    expect(LIVE_GROUPS_BUDGET_MS).toBe(2000);
    expect(timeouts).toEqual([
      ['ListUsers', 1000],
      ['AdminListGroupsForUser', 1000],
      ['AdminListGroupsForUser', 400],
    ]);
    expect(err).toEqual(expect.objectContaining({ message: expect.stringMatching(/spent its 2000 ms/) }));
  });

  it('UserNotFoundException (deleted between the calls) → undefined; anything else throws', async () => {
    const notFound = new AwsCallError('x', 'service', { errorType: 'UserNotFoundException', status: 400, message: '' });
    const then = (err: Error) => async (c: { operation: string }) => {
      if (c.operation === 'ListUsers') return found('bob');
      throw err;
    };
    await expect(cognitoGroupSource({ userPoolId: 'p', call: then(notFound) }).groupsOf(SUB)).resolves.toBeUndefined();
    const denied = new AwsCallError('x', 'service', { errorType: 'AccessDeniedException', status: 400, message: '' });
    await expect(cognitoGroupSource({ userPoolId: 'p', call: then(denied) }).groupsOf(SUB)).rejects.toBe(denied);
    await expect(
      cognitoGroupSource({ userPoolId: 'p', call: () => Promise.reject(denied) }).groupsOf(SUB),
    ).rejects.toBe(denied);
  });
});

describe('Function: revocationFromEnv / liveGroupsFromEnv', () => {
  const base = {
    tiers: [{ name: 'admin', groups: ['admins'], permissions: [{ type: 'cache', cache: 'app', role: 'readwrite' }] }],
    cors: { allowOrigins: ['https://app.example.com'] },
    momento: { endpoint: 'cell-1.example.momentohq.com', secret: { create: true } },
  };
  const cognito = validateConfig({ ...base, auth: { mode: 'cognito', liveGroups: {} } });

  it('is on by default in cognito mode and needs its table (fails at init without it)', () => {
    expect(cognito.revocation).toEqual({
      enabled: true,
      cacheSeconds: 5,
      failOpen: false,
      clockMarginSeconds: 60,
    });
    expect(() => revocationFromEnv(cognito, {})).toThrow(/TVM_REVOCATION_TABLE/);
    expect(revocationFromEnv(cognito, { TVM_REVOCATION_TABLE: 't' })).toBeInstanceOf(RevocationCheck);
  });

  it('is off in open mode and when disabled', () => {
    const open = validateConfig({
      ...base,
      tiers: [{ name: 'admin', permissions: [{ type: 'cache', cache: 'app', role: 'readonly' }] }],
      auth: { mode: 'open', allowUnauthenticated: true, anonymousTier: 'admin' },
    });
    expect(revocationFromEnv(open, {})).toBeUndefined();
    const off = validateConfig({ ...base, auth: { mode: 'cognito' }, revocation: { enabled: false } });
    expect(revocationFromEnv(off, {})).toBeUndefined();
  });

  it('liveGroups needs the pool id', () => {
    expect(cognito.auth).toMatchObject({ liveGroups: { cacheSeconds: 5 } });
    expect(() => liveGroupsFromEnv(cognito, {})).toThrow(/TVM_USER_POOL_ID/);
    expect(liveGroupsFromEnv(cognito, { TVM_USER_POOL_ID: 'us-east-1_AbC' })).toBeInstanceOf(LiveGroups);
  });

  it.each([
    [{ revocation: { cacheSeconds: 61 } }, /revocation\.cacheSeconds/],
    [{ revocation: { failOpen: 'yes' } }, /revocation\.failOpen/],
    [{ revocation: { typo: true } }, /revocation/],
    [{ auth: { mode: 'cognito', liveGroups: { cacheSeconds: -1 } } }, /auth\.liveGroups\.cacheSeconds/],
  ])('rejects %j', (overrides, message) => {
    expect(() => validateConfig({ ...base, auth: { mode: 'cognito' }, ...overrides })).toThrow(message);
  });
});

describe('Function: createVendHandler with revocation and liveGroups', () => {
  const config = validateConfig({ ...tvmConfig, auth: { mode: 'cognito', liveGroups: {} } });
  const minted: unknown[] = [];
  const minter = {
    mint: async (r: unknown) => {
      minted.push(r);
      return { authToken: 'not-a-real-token', endpoint: 'cell.example.com', expiresAt: Date.now() / 1000 + 3600 };
    },
  };
  const event = (authTime: number) =>
    tokenEvent({ authorizer: cognitoAuthorizer('a11ce', ['admins'], { auth_time: String(authTime) }) });
  const delayed = <T>(ms: number, value: () => T) => new Promise<T>((r) => setTimeout(() => r(value()), ms));
  beforeEach(() => (minted.length = 0));

  it('a revoked caller gets 403 revoked even while Cognito is failing, and nothing is minted', async () => {
    const handler = createVendHandler({
      config,
      minter,
      revocation: new RevocationCheck({
        store: mapStore([{ principal: 'cognito:a11ce', notBefore: T }]),
        cacheSeconds: 5,
        failOpen: false,
      }),
      liveGroups: new LiveGroups({
        source: { groupsOf: () => Promise.reject(new Error('cognito down')) },
        cacheSeconds: 5,
      }),
    });
    const res = await handler(event(T - 60));
    expect(res.statusCode).toBe(403);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'revoked' });
    expect(minted).toEqual([]);
  });

  it('starts the key read and connection (minter.prepare) before the lookup answers, and mints only after it', async () => {
    const steps: string[] = [];
    let answer: (r: undefined | { principal: string; notBefore: number }) => void = () => undefined;
    const handler = createVendHandler({
      config,
      minter: {
        prepare: () => void steps.push('prepare'),
        mint: async (r: unknown) => {
          steps.push('mint');
          return minter.mint(r);
        },
      },
      revocation: new RevocationCheck({
        store: {
          get: () => {
            steps.push('lookup');
            return new Promise((r) => (answer = r));
          },
        },
        cacheSeconds: 0,
        failOpen: false,
      }),
    });
    const allowed = handler(event(T));
    await new Promise((r) => setImmediate(r));
    expect(steps).toEqual(['prepare', 'lookup']);
    answer(undefined);
    expect((await allowed).statusCode).toBe(200);
    expect(steps).toEqual(['prepare', 'lookup', 'mint']);

    steps.length = 0;
    const refused = handler(event(T - 60));
    await new Promise((r) => setImmediate(r));
    answer({ principal: 'cognito:a11ce', notBefore: T });
    expect((await refused).statusCode).toBe(403);
    expect(steps).toEqual(['prepare', 'lookup']);
  });

  it('asks the table and Cognito at once (one round trip, not two), then applies the current groups', async () => {
    const handler = createVendHandler({
      config,
      minter,
      revocation: new RevocationCheck({
        store: { get: () => delayed(80, () => undefined) },
        cacheSeconds: 0,
        failOpen: false,
      }),
      liveGroups: new LiveGroups({ source: { groupsOf: () => delayed(80, () => ['members']) }, cacheSeconds: 0 }),
    });
    const t0 = performance.now();
    const res = await handler(event(T));
    const took = performance.now() - t0;
    expect(res.statusCode).toBe(200);
    expect(took).toBeLessThan(150);
    expect(JSON.parse(res.body).permissions).not.toContainEqual({ type: 'cache', cache: 'app', role: 'readwrite' });
  });
});
