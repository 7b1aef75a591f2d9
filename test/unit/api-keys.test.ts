import * as crypto from 'node:crypto';
import fc from 'fast-check';
import {
  API_KEY_ID_PATTERN,
  ApiKeysDocumentError,
  createApiKeyStore,
  generateApiKey,
  hashApiKeySecret,
  parseApiKeysDocument,
  splitApiKey,
  verifyApiKey,
} from '../../authorizers/api-keys';
import { AuthorizationDenied, AuthorizerUnavailable, type DenyReason } from '../../authorizers/identity';
import { readSecretString } from '../../common/secret-reader';
import { useSecretsManagerStub, type SecretsManagerBehavior } from '../support/secrets-manager-stub';

// Wrap timingSafeEqual (still the real one) so the tests can see which comparisons are made.
jest.mock('node:crypto', () => {
  const actual = jest.requireActual<typeof import('node:crypto')>('node:crypto');
  return { ...actual, timingSafeEqual: jest.fn(actual.timingSafeEqual) };
});

/** Asserts `fn` throws AuthorizationDenied with `reason`. */
function expectDenial(fn: () => unknown, reason: DenyReason) {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(AuthorizationDenied);
  expect((thrown as AuthorizationDenied).reason).toBe(reason);
}

describe('Function: generateApiKey', () => {
  it('creates "<id>.<43 base64url chars>" and an entry holding only the SHA-256 of the secret part', () => {
    const { key, entry } = generateApiKey('svc-a', ['admins', 'admins', 'ops']);
    expect(key).toMatch(/^svc-a\.[A-Za-z0-9_-]{43}$/);
    const secret = key.slice('svc-a.'.length);
    expect(entry).toEqual({
      id: 'svc-a',
      sha256: crypto.createHash('sha256').update(secret).digest('hex'),
      groups: ['admins', 'ops'],
    });
    expect(JSON.stringify(entry)).not.toContain(secret);
  });

  it('never repeats a secret', () => {
    const keys = new Set(Array.from({ length: 200 }, () => generateApiKey('svc-a', ['g']).key));
    expect(keys.size).toBe(200);
  });

  it('round-trips: a generated key verifies against its own entry', () => {
    const { key, entry } = generateApiKey('svc-a', ['admins']);
    const table = parseApiKeysDocument(JSON.stringify({ keys: [entry] }));
    expect(verifyApiKey(table, key)).toEqual({ principalId: 'apikey:svc-a', groups: ['admins'], claims: {} });
  });

  it.each([
    ['an upper-case id', 'SVC', ['g'], /id must be/],
    ['an id with a dot', 'svc.a', ['g'], /id must be/],
    ['an id ending in a hyphen', 'svc-', ['g'], /id must be/],
    ['a 65-character id', 'a'.repeat(65), ['g'], /id must be/],
    ['a 129-character group', 'svc', ['g'.repeat(129)], /groups must hold/],
    ['101 groups', 'svc', Array.from({ length: 101 }, (_, i) => `g${i}`), /more than 100/],
  ])('rejects %s', (_what, id, groups, message) => {
    expect(() => generateApiKey(id, groups)).toThrow(message);
  });

  it('accepts 1- and 64-character ids', () => {
    expect(API_KEY_ID_PATTERN.test('a')).toBe(true);
    expect(API_KEY_ID_PATTERN.test('a'.repeat(64))).toBe(true);
  });
});

describe('Function: parseApiKeysDocument', () => {
  const digest = hashApiKeySecret('x');

  it('builds a Map keyed by id (ids are data, never object keys)', () => {
    const table = parseApiKeysDocument(
      JSON.stringify({ keys: [{ id: 'svc-a', sha256: digest, groups: ['a', 'a', 'b'] }] }),
    );
    expect(table).toBeInstanceOf(Map);
    expect(table.get('svc-a')).toEqual({ digest: Buffer.from(digest, 'hex'), groups: ['a', 'b'] });
  });

  it('accepts an empty key list', () => {
    expect(parseApiKeysDocument('{"keys":[]}').size).toBe(0);
  });

  it.each([
    ['not JSON', 'nope', ['not JSON']],
    ['an empty string (an empty secret)', '', ['not JSON']],
    ['no keys array', '{"key":[]}', ['expected {"keys":[{"id","sha256","groups"}, …]}']],
    ['a top-level array', '[]', ['expected {"keys":[{"id","sha256","groups"}, …]}']],
    ['a non-object key', '{"keys":[1]}', ['keys[0] must be an object']],
    [
      'every field wrong (all reported at once)',
      JSON.stringify({ keys: [{ id: 'Bad Id', sha256: 'ABC', groups: 'admins' }] }),
      [
        'keys[0].id must be 1–64 lower-case letters, digits or inner hyphens',
        'keys[0].sha256 must be 64 lower-case hex digits',
        'keys[0].groups must be an array of group names',
      ],
    ],
    [
      'a duplicate id',
      JSON.stringify({
        keys: [
          { id: 'a', sha256: hashApiKeySecret('1'), groups: [] },
          { id: 'a', sha256: hashApiKeySecret('2'), groups: [] },
        ],
      }),
      ['keys[1].id duplicates an earlier key'],
    ],
    [
      'a non-string group',
      JSON.stringify({ keys: [{ id: 'a', sha256: hashApiKeySecret('1'), groups: [1] }] }),
      ['keys[0].groups must hold non-empty strings of at most 128 characters'],
    ],
  ])('rejects %s, listing the problems', (_what, text, problems) => {
    let thrown: unknown;
    try {
      parseApiKeysDocument(text);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ApiKeysDocumentError);
    expect((thrown as ApiKeysDocumentError).problems).toEqual(problems);
  });

  it('never echoes a stored value in its error', () => {
    const sha = 'f'.repeat(63) + 'G';
    expect(() => parseApiKeysDocument(JSON.stringify({ keys: [{ id: 'svc-a', sha256: sha, groups: ['x'] }] }))).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining(sha) }),
    );
  });
});

describe('Function: verifyApiKey', () => {
  const { key, entry } = generateApiKey('svc-a', ['admins']);
  const table = parseApiKeysDocument(JSON.stringify({ keys: [entry] }));
  const secret = key.slice('svc-a.'.length);

  it.each<[string, string, DenyReason]>([
    ['a wrong secret', `svc-a.${'A'.repeat(43)}`, 'api-key-mismatch'],
    ['an unknown id', `svc-b.${secret}`, 'api-key-unknown-id'],
    ['a secret one character short', `svc-a.${secret.slice(1)}`, 'malformed-api-key'],
    ['a secret one character long', `svc-a.${secret}A`, 'malformed-api-key'],
    ['no secret', 'svc-a.', 'malformed-api-key'],
    ['no id', `.${secret}`, 'malformed-api-key'],
    ['no dot', `svc-a${secret}`, 'malformed-api-key'],
    ['padding', `svc-a.${secret.slice(2)}==`, 'malformed-api-key'],
    ['a "constructor" id', `constructor.${secret}`, 'api-key-unknown-id'],
  ])('refuses %s', (_what, credential, reason) => {
    expectDenial(() => verifyApiKey(table, credential), reason);
  });

  it('compares digests in constant time on both the unknown-id and the wrong-secret path', () => {
    const spy = crypto.timingSafeEqual as unknown as jest.Mock;
    spy.mockClear();
    expectDenial(() => verifyApiKey(table, `svc-b.${secret}`), 'api-key-unknown-id');
    expectDenial(() => verifyApiKey(table, `svc-a.${'A'.repeat(43)}`), 'api-key-mismatch');
    verifyApiKey(table, key);
    expect(spy).toHaveBeenCalledTimes(3);
    for (const [a, b] of spy.mock.calls) {
      expect((a as Buffer).length).toBe(32);
      expect((b as Buffer).length).toBe(32);
    }
  });

  it('accepts nothing but the exact key (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (candidate) => {
        fc.pre(candidate !== key);
        expect(() => verifyApiKey(table, candidate)).toThrow(AuthorizationDenied);
      }),
      { numRuns: 500 },
    );
  });

  it('splits id and secret at the first dot', () => {
    expect(splitApiKey(key)).toEqual({ id: 'svc-a', secret });
  });
});

describe('Function: createApiKeyStore', () => {
  const doc = JSON.stringify({ keys: [generateApiKey('svc-a', ['g']).entry] });

  it('loads nothing until first used, then serves the cached table until the ttl passes', async () => {
    // Prepare
    let clock = 1_000;
    const load = jest.fn(async () => doc);
    const store = createApiKeyStore(load, { ttlMs: 60_000, now: () => clock });
    expect(load).not.toHaveBeenCalled();
    // Act + Assess
    const first = await store.table();
    clock += 59_999;
    expect(await store.table()).toBe(first);
    expect(load).toHaveBeenCalledTimes(1);
    clock += 1;
    const refreshed = await store.table();
    expect(load).toHaveBeenCalledTimes(2);
    expect(refreshed).not.toBe(first);
  });

  it('shares one load between concurrent first calls', async () => {
    let release!: (v: string) => void;
    const load = jest.fn(() => new Promise<string>((r) => (release = r)));
    const store = createApiKeyStore(load);
    const both = Promise.all([store.table(), store.table()]);
    release(doc);
    const [a, b] = await both;
    expect(a).toBe(b);
    expect(load).toHaveBeenCalledTimes(1);
  });

  it('fails closed when the secret cannot be read, and retries on the next call', async () => {
    const load = jest
      .fn<Promise<string>, []>()
      .mockRejectedValueOnce(new Error('extension answered 500'))
      .mockResolvedValueOnce(doc);
    const store = createApiKeyStore(load);
    await expect(store.table()).rejects.toMatchObject({
      reason: 'api-keys-unavailable',
      detail: 'extension answered 500',
    });
    await expect(store.table()).resolves.toBeInstanceOf(Map);
    expect(load).toHaveBeenCalledTimes(2);
  });

  it('fails closed on an invalid document (error names the problem, not the content)', async () => {
    const store = createApiKeyStore(async () => '{"keys":[{"id":"svc-a","sha256":"not-hex","groups":[]}]}');
    const err = await store.table().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthorizationDenied);
    expect(err).toMatchObject({ reason: 'api-keys-secret-invalid' });
    expect((err as AuthorizationDenied).detail).toMatch(/keys\[0\]\.sha256 must be 64 lower-case hex digits/);
    expect((err as AuthorizationDenied).detail).not.toContain('not-hex');
  });
});

describe("Function: createApiKeyStore over readSecretString (the authorizer's wiring)", () => {
  const SECRET_ID = 'arn:aws:secretsmanager:us-west-2:123456789012:secret:tvm/api-keys-AbC';
  const sm = useSecretsManagerStub();
  const store = () => createApiKeyStore(() => readSecretString(SECRET_ID, { env: sm.stub.env }));

  it('reads the table with one signed GetSecretValue and verifies a key against it', async () => {
    // Prepare
    const { key, entry } = generateApiKey('svc-a', ['admins']);
    sm.stub.set(SECRET_ID, { value: JSON.stringify({ keys: [entry] }) });

    // Act
    const table = await store().table();

    // Assess
    expect(verifyApiKey(table, key)).toEqual({ principalId: 'apikey:svc-a', groups: ['admins'], claims: {} });
    expect(sm.stub.reads.map((r) => r.secretId)).toEqual([SECRET_ID]);
    expect(sm.stub.refused).toEqual([]);
  });

  it.each<[string, SecretsManagerBehavior, RegExp, boolean]>([
    ['missing', 'not-found', /^secret-missing: .*does not exist/, false],
    ['throttled', 'throttled', /^secret-unavailable: .*throttled/, true],
    ['a 5xx', 'server-error', /^secret-unavailable: /, true],
    ['access denied', 'access-denied', /^secret-unreadable: .*GetSecretValue/, false],
    ['binary', 'binary', /^secret-empty: /, false],
  ])(
    'fails closed with api-keys-unavailable naming the read failure (%s); only a passing one is AuthorizerUnavailable',
    async (_what, behavior, detail, transient) => {
      sm.stub.set(SECRET_ID, behavior);
      const err = await store()
        .table()
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AuthorizationDenied);
      expect(err).toMatchObject({ reason: 'api-keys-unavailable' });
      expect((err as AuthorizationDenied).detail).toMatch(detail);
      expect(err instanceof AuthorizerUnavailable).toBe(transient);
    },
  );

  it('refuses a table that is not the documented JSON (api-keys-secret-invalid), without echoing it', async () => {
    sm.stub.set(SECRET_ID, { value: 'S3CRET-not-json' });
    const err = await store()
      .table()
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: 'api-keys-secret-invalid' });
    expect(String((err as AuthorizationDenied).detail)).not.toContain('S3CRET');
  });
});
