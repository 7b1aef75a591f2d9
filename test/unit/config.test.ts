import { ConfigError, MAX_TTL_SECONDS, defineConfig, validateConfig, type TvmConfig } from '../../config/schema';
import authorizerConfig from '../../config/examples/authorizer.config';
import openConfig from '../../config/examples/open.config';
import cognitoConfig from '../../config/tvm.config';

/** A config under construction: the invalid cases write whatever they like into it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- deliberately malformed input
type Draft = Record<string, any>;

/** A small valid cognito-mode config; each invalid case below breaks exactly one thing in a fresh copy. */
function base(): Draft {
  return {
    auth: { mode: 'cognito' },
    tiers: [{ name: 'member', groups: ['members'], permissions: [{ type: 'cache', cache: 'app', role: 'readonly' }] }],
    cors: { allowOrigins: ['https://app.example.com'] },
    momento: { endpoint: 'cell-4-us-west-2-1.prod.a.momentohq.com', secret: { create: true } },
  };
}

/** `n` distinct cache statements (distinct keys), for the statement-count limits. */
const statements = (n: number, prefix = 'k') =>
  Array.from({ length: n }, (_, i) => ({ type: 'cache', cache: 'app', role: 'readonly', key: `${prefix}${i}` }));

const anonymous = (permissions: unknown[]) => ({
  ...base(),
  auth: { mode: 'open', allowUnauthenticated: true, anonymousTier: 'public' },
  tiers: [{ name: 'public', permissions }],
});

describe('Function: validateConfig', () => {
  it.each([
    ['config/tvm.config.ts', cognitoConfig],
    ['config/examples/open.config.ts', openConfig],
    ['config/examples/authorizer.config.ts', authorizerConfig],
  ])('accepts %s', (_file, config) => {
    // Act
    const resolved = validateConfig(config);

    // Assess
    expect(resolved.tiers.length).toBeGreaterThan(0);
    expect(resolved.tokenCache).toEqual({ enabled: true, maxEntries: 10_000, minRemainingFraction: 0.5 });
    expect(resolved.logLevel).toBe('INFO');
    expect(resolved.tracing).toBe(false);
    expect(resolved.momento.deadlineMs).toBe(3000);
  });

  it('fills in every default of a minimal config', () => {
    // Act
    const resolved = validateConfig(base());

    // Assess
    expect(resolved).toEqual({
      auth: { mode: 'cognito', selfSignUp: false, mfa: 'optional', tokenIdClaim: 'sub' },
      tiers: [
        { name: 'member', groups: ['members'], permissions: [{ type: 'cache', cache: 'app', role: 'readonly' }] },
      ],
      token: { defaultTtlSeconds: 3600, maxTtlSeconds: 3600 },
      cors: { allowOrigins: ['https://app.example.com'] },
      throttling: { rateLimit: 10, burstLimit: 20 },
      momento: { endpoint: 'cell-4-us-west-2-1.prod.a.momentohq.com', secret: { create: true }, deadlineMs: 3000 },
      tokenCache: { enabled: true, maxEntries: 10_000, minRemainingFraction: 0.5 },
      revocation: { enabled: true, cacheSeconds: 5, failOpen: false, maxCredentialLifetimeSeconds: 86400 },
      logLevel: 'INFO',
      tracing: false,
    });
  });

  it('fills in the authorizer-mode defaults and partial nested defaults', () => {
    // Prepare
    const config = {
      ...(authorizerConfig as Record<string, unknown>),
      token: { maxTtlSeconds: 7200 },
      tokenCache: { maxEntries: 5 },
    };

    // Act
    const resolved = validateConfig(config);

    // Assess
    expect(resolved.auth).toEqual({
      mode: 'authorizer',
      issuer: 'https://example.eu.auth0.com/',
      audience: ['https://tvm.example.com'],
      groupsClaim: 'https://example.com/roles',
      resultCacheTtlSeconds: 60,
      algorithms: ['RS256'],
      tokenIdClaim: 'sub',
      forwardClaims: [],
    });
    expect(resolved.token).toEqual({ defaultTtlSeconds: 3600, maxTtlSeconds: 7200 });
    expect(resolved.tokenCache).toEqual({ enabled: true, maxEntries: 5, minRemainingFraction: 0.5 });
    expect(resolved.throttling).toEqual({ rateLimit: 10, burstLimit: 20 });
  });

  it('does not write defaults into the operator’s object', () => {
    // Prepare
    const config = base();
    const before = JSON.stringify(config);

    // Act
    validateConfig(config);

    // Assess
    expect(JSON.stringify(config)).toBe(before);
  });

  it.each<[string, (c: Draft) => unknown]>([
    ['exactly 20 statements in one tier', (c) => (c.tiers[0].permissions = statements(20))],
    ['ttl bounds 60 and 90000 (25 h)', (c) => (c.token = { defaultTtlSeconds: 60, maxTtlSeconds: MAX_TTL_SECONDS })],
    [
      'a key and a key prefix in different statements',
      (c) =>
        c.tiers[0].permissions.push(
          { type: 'cache', cache: 'app', role: 'readwrite', keyPrefix: 'user/{sub}/' },
          { type: 'cache', cache: 'app', role: 'readwrite', key: 'profile-{claims.custom:team}' },
        ),
    ],
    [
      'a placeholder followed by a separator',
      (c) =>
        c.tiers[0].permissions.push({
          type: 'topic',
          cache: '*',
          role: 'subscribeonly',
          topicPrefix: 'team-{claims.team}-',
        }),
    ],
    [
      'placeholders separated by a character',
      (c) =>
        c.tiers[0].permissions.push({
          type: 'cache',
          cache: 'app',
          role: 'readwrite',
          keyPrefix: 'team/{claims.team}-{sub}/',
        }),
    ],
    [
      'an exact topic ending in a placeholder',
      (c) => c.tiers[0].permissions.push({ type: 'topic', cache: 'app', role: 'subscribeonly', topic: 'inbox-{sub}' }),
    ],
    [
      'a tier without groups when it is the fallback tier',
      (c) => ((c.tiers[0].groups = []), (c.auth.fallbackTier = 'member')),
    ],
    [
      'http://localhost and 127.0.0.1 with ports',
      (c) => (c.cors.allowOrigins = ['http://localhost:5173', 'http://127.0.0.1:8080', 'https://app.example.com:8443']),
    ],
    [
      'a secret by ARN',
      (c) => (c.momento.secret = { arn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:tvm-key-AbCdEf' }),
    ],
    ['selfSignUp on a pool the stack creates', (c) => (c.auth.selfSignUp = true)],
    [
      'an existing user pool',
      (c) => (c.auth.existingUserPool = { userPoolId: 'us-east-1_AbCdEf123', clientIds: ['4example1client2id3'] }),
    ],
  ])('accepts %s', (_label, mutate) => {
    // Prepare
    const config = base();
    mutate(config);

    // Act & Assess
    expect(() => validateConfig(config)).not.toThrow();
  });

  it.each<[string, (c: Draft) => unknown, RegExp]>([
    [
      'more than 20 statements in a tier',
      (c) => (c.tiers[0].permissions = statements(21)),
      /tiers\[0\]\.permissions: 21 statements; Momento allows at most 20/,
    ],
    [
      'more than 20 distinct statements over all tiers',
      (c) =>
        c.tiers.push(
          { name: 'other', groups: ['others'], permissions: statements(11, 'b') },
          { name: 'third', groups: ['thirds'], permissions: statements(10, 'c') },
        ),
      /tiers: a user in every group would get 22 distinct statements/,
    ],
    [
      'a token ttl under 60 s',
      (c) => (c.token = { defaultTtlSeconds: 59, maxTtlSeconds: 3600 }),
      /token\.defaultTtlSeconds: .*at least 60 seconds/,
    ],
    [
      'a token ttl over 25 h',
      (c) => (c.token = { maxTtlSeconds: 90_001 }),
      /token\.maxTtlSeconds: .*at most 90000 seconds/,
    ],
    [
      'a tier ttl under 60 s',
      (c) => (c.tiers[0].maxTtlSeconds = 30),
      /tiers\[0\]\.maxTtlSeconds: .*at least 60 seconds/,
    ],
    [
      'a tier ttl over 25 h',
      (c) => (c.tiers[0].maxTtlSeconds = 90_001),
      /tiers\[0\]\.maxTtlSeconds: .*at most 90000 seconds/,
    ],
    [
      'a fractional ttl',
      (c) => (c.token = { maxTtlSeconds: 600.5 }),
      /token\.maxTtlSeconds: .*whole number of seconds/,
    ],
    [
      'default ttl above the maximum',
      (c) => (c.token = { defaultTtlSeconds: 7200 }),
      /token\.defaultTtlSeconds \(7200\) must not exceed token\.maxTtlSeconds \(3600\)/,
    ],
    [
      'an empty cache name',
      (c) => (c.tiers[0].permissions[0].cache = ''),
      /tiers\[0\]\.permissions\[0\]\.cache: cache name must not be empty/,
    ],
    [
      'a cache name with a space',
      (c) => (c.tiers[0].permissions[0].cache = 'my cache'),
      /tiers\[0\]\.permissions\[0\]\.cache: cache name may contain only/,
    ],
    [
      'an unknown cache role',
      (c) => (c.tiers[0].permissions[0].role = 'admin'),
      /tiers\[0\]\.permissions\[0\]\.role: role must be one of readwrite, readonly, writeonly/,
    ],
    [
      'a topic role on a cache permission',
      (c) => (c.tiers[0].permissions[0].role = 'publishsubscribe'),
      /tiers\[0\]\.permissions\[0\]\.role: role must be one of readwrite/,
    ],
    [
      'a cache role on a topic permission',
      (c) => (c.tiers[0].permissions[0] = { type: 'topic', cache: 'app', role: 'readwrite' }),
      /tiers\[0\]\.permissions\[0\]\.role: role must be one of publishsubscribe, subscribeonly, publishonly/,
    ],
    [
      'an unknown permission type',
      (c) => (c.tiers[0].permissions[0].type = 'queue'),
      /tiers\[0\]\.permissions\[0\]\.type: each permission needs type "cache" or "topic"/,
    ],
    [
      'a tier without permissions',
      (c) => (c.tiers[0].permissions = []),
      /tiers\[0\]\.permissions: a tier needs at least one permission/,
    ],
    ['no tiers', (c) => (c.tiers = []), /tiers: configure at least one tier/],
    [
      'key and keyPrefix together',
      (c) => (c.tiers[0].permissions[0] = { type: 'cache', cache: 'app', role: 'readonly', key: 'a', keyPrefix: 'b/' }),
      /tiers\[0\]\.permissions\[0\]: set key or keyPrefix, not both/,
    ],
    [
      'topic and topicPrefix together',
      (c) =>
        (c.tiers[0].permissions[0] = {
          type: 'topic',
          cache: 'app',
          role: 'subscribeonly',
          topic: 'a',
          topicPrefix: 'b-',
        }),
      /tiers\[0\]\.permissions\[0\]: set topic or topicPrefix, not both/,
    ],
    [
      'an unknown placeholder {nope}',
      (c) => (c.tiers[0].permissions[0].key = 'user/{nope}/'),
      /tiers\[0\]\.permissions\[0\]\.key: key has a malformed placeholder/,
    ],
    [
      'an empty claim name {claims.}',
      (c) => (c.tiers[0].permissions[0].keyPrefix = 'team/{claims.}/'),
      /tiers\[0\]\.permissions\[0\]\.keyPrefix: keyPrefix has a malformed placeholder/,
    ],
    [
      'a stray brace',
      (c) => (c.tiers[0].permissions[0] = { type: 'topic', cache: 'app', role: 'subscribeonly', topic: 'inbox-{sub' }),
      /tiers\[0\]\.permissions\[0\]\.topic: topic has a malformed placeholder/,
    ],
    [
      'a nested placeholder {claims.a{sub}}',
      (c) =>
        (c.tiers[0].permissions[0] = {
          type: 'topic',
          cache: 'app',
          role: 'subscribeonly',
          topicPrefix: 'x-{claims.a{sub}}-',
        }),
      /tiers\[0\]\.permissions\[0\]\.topicPrefix: topicPrefix has a malformed placeholder/,
    ],
    [
      'a key prefix ending in a placeholder',
      (c) => (c.tiers[0].permissions[0].keyPrefix = 'user/{sub}'),
      /tiers\[0\]\.permissions\[0\]: a prefix must not end with a placeholder/,
    ],
    [
      'a topic prefix ending in a placeholder',
      (c) =>
        (c.tiers[0].permissions[0] = {
          type: 'topic',
          cache: 'app',
          role: 'subscribeonly',
          topicPrefix: 'team-{claims.team}',
        }),
      /tiers\[0\]\.permissions\[0\]: a prefix must not end with a placeholder/,
    ],
    [
      'two placeholders side by side in a key prefix',
      (c) => (c.tiers[0].permissions[0].keyPrefix = 'team/{claims.team}{sub}/'),
      /tiers\[0\]\.permissions\[0\]: two placeholders side by side are ambiguous/,
    ],
    [
      'two placeholders side by side in an exact topic',
      (c) =>
        (c.tiers[0].permissions[0] = {
          type: 'topic',
          cache: 'app',
          role: 'subscribeonly',
          topic: 'inbox-{sub}{claims.x}',
        }),
      /tiers\[0\]\.permissions\[0\]: two placeholders side by side are ambiguous/,
    ],
    [
      'open mode without allowUnauthenticated',
      (c) => (c.auth = { mode: 'open', anonymousTier: 'member' }),
      /auth\.allowUnauthenticated: open mode needs allowUnauthenticated: true, written out/,
    ],
    [
      'open mode with allowUnauthenticated false',
      (c) => (c.auth = { mode: 'open', allowUnauthenticated: false, anonymousTier: 'member' }),
      /auth\.allowUnauthenticated: open mode needs allowUnauthenticated: true/,
    ],
    [
      'open mode without anonymousTier',
      (c) => (c.auth = { mode: 'open', allowUnauthenticated: true }),
      /auth\.anonymousTier: is required/,
    ],
    [
      'open mode with an unknown anonymousTier',
      (c) => (c.auth = { mode: 'open', allowUnauthenticated: true, anonymousTier: 'public' }),
      /auth\.anonymousTier: no tier is named "public"/,
    ],
    [
      '{sub} in the anonymous tier',
      (c) =>
        Object.assign(c, anonymous([{ type: 'cache', cache: 'app', role: 'readwrite', keyPrefix: 'user/{sub}/' }])),
      /auth\.anonymousTier: tier "public" uses \{placeholders\}, but open mode has no verified identity/,
    ],
    [
      '{claims.x} in the anonymous tier',
      (c) =>
        Object.assign(
          c,
          anonymous([{ type: 'topic', cache: 'app', role: 'subscribeonly', topic: 'team-{claims.team}' }]),
        ),
      /auth\.anonymousTier: tier "public" uses \{placeholders\}/,
    ],
    [
      'a fallbackTier that names no tier',
      (c) => (c.auth.fallbackTier = 'guest'),
      /auth\.fallbackTier: no tier is named "guest"/,
    ],
    [
      'an authorizer-mode fallbackTier that names no tier',
      (c) =>
        (c.auth = {
          mode: 'authorizer',
          issuer: 'https://example.eu.auth0.com/',
          audience: ['x'],
          fallbackTier: 'guest',
        }),
      /auth\.fallbackTier: no tier is named "guest"/,
    ],
    [
      'a tier with no groups in cognito mode',
      (c) => (c.tiers[0].groups = []),
      /tiers\[0\]\.groups: tier "member" names no group, so nobody can get it/,
    ],
    [
      'a tier with groups left out in cognito mode',
      (c) => delete c.tiers[0].groups,
      /tiers\[0\]\.groups: tier "member" names no group/,
    ],
    [
      'duplicate tier names',
      (c) => c.tiers.push({ ...c.tiers[0], groups: ['others'] }),
      /tiers\[1\]\.name: duplicate tier name "member"/,
    ],
    [
      'a tier name with a space',
      (c) => (c.tiers[0].name = 'power user'),
      /tiers\[0\]\.name: tier name must be 1–64 letters/,
    ],
    [
      'a group name with a space',
      (c) => (c.tiers[0].groups = ['power users']),
      /tiers\[0\]\.groups\[0\]: group name may contain only/,
    ],
    [
      'CORS origin "*"',
      (c) => (c.cors.allowOrigins = ['*']),
      /cors\.allowOrigins\[0\]: cors\.allowOrigins must list origins; "\*" would let any site/,
    ],
    [
      'an origin with a path',
      (c) => (c.cors.allowOrigins = ['https://app.example.com/login']),
      /cors\.allowOrigins\[0\]: each origin must look like https:\/\/app\.example\.com/,
    ],
    [
      'an origin with a trailing slash',
      (c) => (c.cors.allowOrigins = ['https://app.example.com/']),
      /cors\.allowOrigins\[0\]: each origin must look like/,
    ],
    [
      'an http origin that is not localhost',
      (c) => (c.cors.allowOrigins = ['https://ok.example.com', 'http://app.example.com']),
      /cors\.allowOrigins\[1\]: each origin must look like .*http only for localhost/,
    ],
    [
      'an http origin posing as localhost',
      (c) => (c.cors.allowOrigins = ['http://localhost.evil.com']),
      /cors\.allowOrigins\[0\]: each origin must look like/,
    ],
    ['an empty allowOrigins', (c) => (c.cors.allowOrigins = []), /cors\.allowOrigins: list at least one origin/],
    [
      'an endpoint with a scheme',
      (c) => (c.momento.endpoint = 'https://cell-4-us-west-2-1.prod.a.momentohq.com'),
      /momento\.endpoint: momento\.endpoint must be a host name/,
    ],
    [
      'an endpoint that is one label',
      (c) => (c.momento.endpoint = 'localhost'),
      /momento\.endpoint: momento\.endpoint must be a host name/,
    ],
    [
      'a secret ARN of another service',
      (c) => (c.momento.secret = { arn: 'arn:aws:s3:::my-bucket' }),
      /momento\.secret\.arn: secret arn is not a Secrets Manager ARN/,
    ],
    [
      'a secret that is none of the three shapes',
      (c) => (c.momento.secret = { path: '/tvm/key' }),
      /momento\.secret: secret must be \{ create: true \}, \{ name: "…" \} or \{ arn:/,
    ],
    [
      'selfSignUp with an existing user pool',
      (c) =>
        (c.auth = {
          mode: 'cognito',
          selfSignUp: true,
          existingUserPool: { userPoolId: 'us-east-1_AbCdEf123', clientIds: ['abc'] },
        }),
      /auth\.selfSignUp: applies only to a pool the stack creates, not existingUserPool/,
    ],
    [
      'an unknown auth mode',
      (c) => (c.auth = { mode: 'iam' }),
      /auth\.mode: auth\.mode must be "open", "cognito" or "authorizer"/,
    ],
    ['a missing momento block', (c) => delete c.momento, /momento: is required/],
    ['an unknown top-level key (a typo)', (c) => (c.tokenCahce = { enabled: false }), /\(root\): .*"tokenCahce"/],
    ['an unknown key in a tier', (c) => (c.tiers[0].maxTTLSeconds = 60), /tiers\[0\]: .*"maxTTLSeconds"/],
    [
      'an unknown key in a permission',
      (c) => (c.tiers[0].permissions[0].keyprefix = 'user/'),
      /tiers\[0\]\.permissions\[0\]: .*"keyprefix"/,
    ],
    ['a value of the wrong type', (c) => (c.tracing = 'yes'), /tracing: .*boolean/],
  ])('rejects %s', (_label, mutate, message) => {
    // Prepare
    const config = base();
    mutate(config);

    // Act & Assess
    expect(() => validateConfig(config)).toThrow(ConfigError);
    expect(() => validateConfig(config)).toThrow(message);
  });

  it('reports every problem at once', () => {
    // Prepare: three independent schema errors in three different places.
    const config = base();
    config.tiers[0].permissions[0].role = 'owner';
    config.cors.allowOrigins = ['*'];
    config.momento.endpoint = 'not a host';

    // Act & Assess
    expect(() => validateConfig(config)).toThrow(
      expect.objectContaining({
        name: 'ConfigError',
        problems: [
          expect.stringMatching(/^tiers\[0\]\.permissions\[0\]\.role: /),
          expect.stringMatching(/^cors\.allowOrigins\[0\]: /),
          expect.stringMatching(/^momento\.endpoint: /),
        ],
      }),
    );
  });

  it('reports every semantic problem at once', () => {
    // Prepare
    const config = base();
    config.tiers.push({
      name: 'member',
      groups: [],
      permissions: [{ type: 'cache', cache: 'app', role: 'readonly', key: 'a', keyPrefix: 'b/' }],
    });
    config.token = { defaultTtlSeconds: 7200, maxTtlSeconds: 3600 };

    // Act & Assess
    expect(() => validateConfig(config)).toThrow(
      expect.objectContaining({
        problems: [
          expect.stringMatching(/^tiers\[1\]\.name: duplicate/),
          expect.stringMatching(/^tiers\[1\]\.permissions\[0\]: set key or keyPrefix/),
          expect.stringMatching(/^tiers\[1\]\.groups: /),
          expect.stringMatching(/^token\.defaultTtlSeconds \(7200\)/),
        ],
      }),
    );
  });

  it('says how many problems it found, one per line', () => {
    // Prepare
    const config = base();
    config.cors.allowOrigins = ['*', 'http://example.com'];

    // Act & Assess
    expect(() => validateConfig(config)).toThrow(
      /^Invalid TVM configuration \(2 problems\):\n {2}- cors\.allowOrigins\[0\]: .*\n {2}- cors\.allowOrigins\[1\]: /,
    );
  });

  it.each([null, undefined, 42, 'config', []])('rejects a non-object config (%p)', (input) => {
    // Act & Assess
    expect(() => validateConfig(input)).toThrow(/^Invalid TVM configuration \(1 problem\):\n {2}- \(root\): /);
  });
});

describe('Function: defineConfig', () => {
  it('returns the config unchanged, for type checking only', () => {
    // Prepare
    const config: TvmConfig = base() as TvmConfig;

    // Act & Assess
    expect(defineConfig(config)).toBe(config);
  });
});

describe('Function: validateConfig (cross-field checks added after review)', () => {
  const base = {
    auth: { mode: 'authorizer', issuer: 'https://idp.example.com/', audience: ['tvm'] },
    tiers: [
      {
        name: 't',
        groups: ['g'],
        permissions: [{ type: 'topic', cache: 'c', role: 'subscribeonly', topic: 'team-{claims.team}' }],
      },
    ],
    cors: { allowOrigins: ['https://app.example.com'] },
    momento: { endpoint: 'cell-1.example.momentohq.com', secret: { create: true } },
  };

  it('rejects a {claims.x} template that the authorizer does not forward', () => {
    expect(() => validateConfig(base)).toThrow(/\{claims\.team\} is not in auth\.forwardClaims/);
  });

  it('accepts it once the claim is forwarded', () => {
    expect(() => validateConfig({ ...base, auth: { ...base.auth, forwardClaims: ['team'] } })).not.toThrow();
  });

  it('rejects an empty tokenIdClaim', () => {
    expect(() =>
      validateConfig({ ...base, auth: { ...base.auth, forwardClaims: ['team'], tokenIdClaim: '' } }),
    ).toThrow(/tokenIdClaim must name a claim/);
  });
});
