import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { ConfigError, MAX_TTL_SECONDS, defineConfig, validateConfig, type TvmConfig } from '../../config/schema';
import { loadConfigFile } from '../../lib/load-config';
import authorizerConfig from '../../config/examples/authorizer.config';
import openConfig from '../../config/examples/open.config';
import cognitoConfig from '../../config/tvm.config';

const ROOT = path.resolve(__dirname, '../..');
const TSX = require.resolve('tsx/cli');

const KEY = String.raw`(?:[\w$-]+|\["(?:[^"\\]|\\.)*"\])`;
/** One problem line: `path: message`, the path made of names, `[index]` and quoted `["odd key"]`. */
const PROBLEM_LINE = new RegExp(String.raw`^(?:\(root\)|${KEY}(?:\[\d+\]|\.[\w$-]+|${KEY})*): \S`);

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

/** The problems `validateConfig` throws for `config` (fails the test when it does not throw a ConfigError). */
function problemsOf(config: unknown): readonly string[] {
  try {
    validateConfig(config);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

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
    expect(resolved.tokenCache).toEqual({ enabled: true, maxEntries: 10_000, minRemainingFraction: 0.5, fleet: true });
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
      throttling: { rateLimit: 100, burstLimit: 200 },
      momento: {
        endpoint: 'cell-4-us-west-2-1.prod.a.momentohq.com',
        secret: { create: true },
        deadlineMs: 3000,
        mintsPerSecond: 5,
      },
      tokenCache: { enabled: true, maxEntries: 10_000, minRemainingFraction: 0.5, fleet: true },
      revocation: { enabled: true, cacheSeconds: 5, failOpen: false, clockMarginSeconds: 60 },
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
    expect(resolved.tokenCache).toEqual({ enabled: true, maxEntries: 5, minRemainingFraction: 0.5, fleet: true });
    expect(resolved.throttling).toEqual({ rateLimit: 100, burstLimit: 200 });
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
      'a shared tier whose scope uses {sub}',
      (c) =>
        (c.tiers[0] = {
          ...c.tiers[0],
          shared: true,
          permissions: [
            ...c.tiers[0].permissions,
            { type: 'topic', cache: 'app', role: 'subscribeonly', topic: 'inbox-{sub}' },
          ],
        }),
      /tiers\[0\]\.shared: a shared tier gives all its users one token, so its permissions cannot use \{sub\} or \{claims\.…\} \(permissions\[1\] does\)/,
    ],
    ['momento.mintsPerSecond of 0', (c) => (c.momento.mintsPerSecond = 0), /momento\.mintsPerSecond: /],
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
      /^token\.defaultTtlSeconds: 7200 is above token\.maxTtlSeconds \(3600\)$/,
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
      /tiers\[0\]\.permissions\[0\]\.role: must be one of readwrite, readonly, writeonly/,
    ],
    [
      'a topic role on a cache permission',
      (c) => (c.tiers[0].permissions[0].role = 'publishsubscribe'),
      /tiers\[0\]\.permissions\[0\]\.role: must be one of readwrite/,
    ],
    [
      'a cache role on a topic permission',
      (c) => (c.tiers[0].permissions[0] = { type: 'topic', cache: 'app', role: 'readwrite' }),
      /tiers\[0\]\.permissions\[0\]\.role: must be one of publishsubscribe, subscribeonly, publishonly/,
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
      /tiers\[0\]\.permissions\[0\]\.key: has a malformed placeholder/,
    ],
    [
      'an empty claim name {claims.}',
      (c) => (c.tiers[0].permissions[0].keyPrefix = 'team/{claims.}/'),
      /tiers\[0\]\.permissions\[0\]\.keyPrefix: has a malformed placeholder/,
    ],
    [
      'a stray brace',
      (c) => (c.tiers[0].permissions[0] = { type: 'topic', cache: 'app', role: 'subscribeonly', topic: 'inbox-{sub' }),
      /tiers\[0\]\.permissions\[0\]\.topic: has a malformed placeholder/,
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
      /tiers\[0\]\.permissions\[0\]\.topicPrefix: has a malformed placeholder/,
    ],
    [
      'a key prefix ending in a placeholder',
      (c) => (c.tiers[0].permissions[0].keyPrefix = 'user/{sub}'),
      /tiers\[0\]\.permissions\[0\]\.keyPrefix: must not end with a placeholder/,
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
      /tiers\[0\]\.permissions\[0\]\.topicPrefix: must not end with a placeholder/,
    ],
    [
      'two placeholders side by side in a key prefix',
      (c) => (c.tiers[0].permissions[0].keyPrefix = 'team/{claims.team}{sub}/'),
      /tiers\[0\]\.permissions\[0\]\.keyPrefix: has two placeholders side by side/,
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
      /tiers\[0\]\.permissions\[0\]\.topic: has two placeholders side by side/,
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
    ['a tier name with a space', (c) => (c.tiers[0].name = 'power user'), /tiers\[0\]\.name: must be 1–64 letters/],
    [
      'a group name with a space',
      (c) => (c.tiers[0].groups = ['power users']),
      /tiers\[0\]\.groups\[0\]: group name may contain only/,
    ],
    [
      'CORS origin "*"',
      (c) => (c.cors.allowOrigins = ['*']),
      /cors\.allowOrigins\[0\]: must be an origin; "\*" would let any site/,
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
      /momento\.endpoint: must be a host name/,
    ],
    [
      'an endpoint that is one label',
      (c) => (c.momento.endpoint = 'localhost'),
      /momento\.endpoint: must be a host name/,
    ],
    [
      'a secret ARN of another service',
      (c) => (c.momento.secret = { arn: 'arn:aws:s3:::my-bucket' }),
      /momento\.secret\.arn: is not a Secrets Manager ARN/,
    ],
    [
      'a secret that is none of the three shapes',
      (c) => (c.momento.secret = { path: '/tvm/key' }),
      /momento\.secret: must be \{ create: true \}, \{ name: "…" \} or \{ arn:/,
    ],
    [
      'selfSignUp with an existing user pool',
      (c) =>
        (c.auth = {
          mode: 'cognito',
          selfSignUp: true,
          existingUserPool: { userPoolId: 'us-east-1_AbCdEf123', clientIds: ['abc'] },
        }),
      /auth\.selfSignUp: applies only to a pool the stack creates, not to existingUserPool/,
    ],
    [
      'an unknown auth mode',
      (c) => (c.auth = { mode: 'iam' }),
      /^auth\.mode: must be "open", "cognito" or "authorizer"$/,
    ],
    ['a missing momento block', (c) => delete c.momento, /momento: is required/],
    [
      'an unknown top-level key (a typo)',
      (c) => (c.tokenCahce = { enabled: false }),
      /^tokenCahce: unknown key; did you mean `tokenCache`\?$/,
    ],
    [
      'an unknown key in a tier',
      (c) => (c.tiers[0].maxTTLSeconds = 60),
      /^tiers\[0\]\.maxTTLSeconds: unknown key; did you mean `maxTtlSeconds`\?$/,
    ],
    [
      'an unknown key in a permission',
      (c) => (c.tiers[0].permissions[0].keyprefix = 'user/'),
      /^tiers\[0\]\.permissions\[0\]\.keyprefix: unknown key; did you mean `keyPrefix`\?$/,
    ],
    ['a value of the wrong type', (c) => (c.tracing = 'yes'), /tracing: .*boolean/],
    [
      'a tier ttl above token.maxTtlSeconds',
      (c) => ((c.token = { maxTtlSeconds: 7200 }), (c.tiers[0].maxTtlSeconds = 7260)),
      /^tiers\[0\]\.maxTtlSeconds: 7260 is above token\.maxTtlSeconds \(7200\); a tier can only shorten the lifetime$/,
    ],
    [
      'a tier ttl above the default token.maxTtlSeconds (3600)',
      (c) => (c.tiers[0].maxTtlSeconds = 7200),
      /^tiers\[0\]\.maxTtlSeconds: 7200 is above token\.maxTtlSeconds \(3600\)/,
    ],
    [
      'a fallbackTier one typo away from a tier',
      (c) => (c.auth.fallbackTier = 'membr'),
      /^auth\.fallbackTier: no tier is named "membr"; did you mean `member`\?$/,
    ],
    [
      'a misspelt required key (reported once: not also as missing)',
      (c) => ((c.tiers[0].permisions = c.tiers[0].permissions), delete c.tiers[0].permissions),
      /^tiers\[0\]\.permisions: unknown key; did you mean `permissions`\?$/,
    ],
    [
      'a misspelt key of the chosen auth mode',
      (c) => (c.auth.fallbackTeir = 'member'),
      /^auth\.fallbackTeir: unknown key; did you mean `fallbackTier`\?$/,
    ],
    [
      'a key of another auth mode',
      (c) => (c.auth.anonymousTier = 'member'),
      /^auth\.anonymousTier: unknown key; allowed: mode, existingUserPool, selfSignUp, mfa, tokenIdClaim, fallbackTier, liveGroups$/,
    ],
    [
      'an unknown key like no allowed one',
      (c) => (c.token = { lifetime: 60 }),
      /^token\.lifetime: unknown key; allowed: defaultTtlSeconds, maxTtlSeconds$/,
    ],
    [
      'a 21-statement tier (not also as the union over all tiers)',
      (c) => (c.tiers[0].permissions = statements(21)),
      /^tiers\[0\]\.permissions: 21 statements; Momento allows at most 20 in one token$/,
    ],
    [
      'an empty cache name (not also as a bad character)',
      (c) => (c.tiers[0].permissions[0].cache = ''),
      /^tiers\[0\]\.permissions\[0\]\.cache: cache name must not be empty$/,
    ],
  ])('rejects %s, as exactly one problem', (_label, mutate, message) => {
    // Prepare
    const config = base();
    mutate(config);

    // Act & Assess
    expect(problemsOf(config)).toEqual([expect.stringMatching(message)]);
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

  it('reports field and cross-field problems of ten kinds in one run, each once, in file order', () => {
    // Prepare: ten independent mistakes; the cross-field ones must not wait until the field ones are fixed.
    const config: Draft = {
      auth: { mode: 'cognito', mfa: 'sometimes', fallbackTier: 'guests' },
      tiers: [
        {
          name: 'member',
          groups: ['members'],
          permissions: [
            { type: 'cache', cache: 'app', role: 'readwrite', keyPrefix: 'user/{sub}' },
            ...statements(7, 'a'),
          ],
        },
        { name: 'member', groups: ['others'], permissions: statements(7, 'b'), maxTtlSeconds: 7200 },
        { name: 'guest', groups: ['guests'], permissions: statements(7, 'c') },
      ],
      token: { defaultTtlSeconds: 7200 },
      cors: { allowOrigins: ['*'] },
      momento: { endpoint: 'https://cell-4-us-west-2-1.prod.a.momentohq.com', secret: { create: true } },
      tokenCahce: { enabled: false },
    };

    // Act & Assess
    expect(() => validateConfig(config)).toThrow(
      [
        'Invalid TVM configuration (10 problems):',
        '  - auth.mfa: Invalid option: expected one of "off"|"optional"|"required"',
        '  - auth.fallbackTier: no tier is named "guests"; did you mean `guest`?',
        '  - tiers: a user in every group would get 22 distinct statements; Momento allows at most 20 in one token',
        '  - tiers[0].permissions[0].keyPrefix: must not end with a placeholder (one user’s prefix would cover another’s); add a separator such as "/" or "-" after it',
        '  - tiers[1].name: duplicate tier name "member"',
        '  - tiers[1].maxTtlSeconds: 7200 is above token.maxTtlSeconds (3600); a tier can only shorten the lifetime',
        '  - token.defaultTtlSeconds: 7200 is above token.maxTtlSeconds (3600)',
        '  - cors.allowOrigins[0]: must be an origin; "*" would let any site fetch tokens for your users',
        '  - momento.endpoint: must be a host name such as cell-4-us-west-2-1.prod.a.momentohq.com',
        '  - tokenCahce: unknown key; did you mean `tokenCache`?',
      ].join('\n'),
    );
  });

  it('answers any input with the config or a ConfigError, even when the cross-field checks meet malformed values', () => {
    // Prepare: configs shaped roughly right, with anything at the places the cross-field checks read.
    const maybe = <T>(arb: fc.Arbitrary<T>) => fc.oneof(fc.anything(), arb);
    const permission = fc.record(
      {
        type: fc.constantFrom('cache', 'topic'),
        cache: fc.constantFrom('app', '*'),
        role: fc.constantFrom('readonly', 'subscribeonly'),
        key: maybe(fc.constantFrom('k', 'u/{sub}', '{sub}{claims.t}')),
        keyPrefix: maybe(fc.constantFrom('p/', 'u/{sub}')),
        topic: maybe(fc.constantFrom('t', 'team-{claims.t}')),
        topicPrefix: maybe(fc.constantFrom('c-', 'x{sub}')),
      },
      { requiredKeys: ['type'] },
    );
    const tier = fc.record(
      {
        name: maybe(fc.constantFrom('a', 'b')),
        groups: maybe(fc.array(fc.constantFrom('g', 'h'))),
        permissions: maybe(fc.array(maybe(permission), { maxLength: 22 })),
        maxTtlSeconds: maybe(fc.constantFrom(60, 3600, 7200)),
      },
      { requiredKeys: [] },
    );
    const auth = fc.record(
      {
        mode: fc.constantFrom('open', 'cognito', 'authorizer'),
        allowUnauthenticated: fc.constant(true),
        anonymousTier: maybe(fc.constantFrom('a', 'c')),
        fallbackTier: maybe(fc.constantFrom('a', 'c')),
        forwardClaims: maybe(fc.array(fc.constantFrom('t'))),
        tokenIdClaim: fc.anything(),
        selfSignUp: fc.anything(),
        existingUserPool: fc.anything(),
      },
      { requiredKeys: ['mode'] },
    );
    const config = fc.record(
      {
        auth: maybe(auth),
        tiers: maybe(fc.array(maybe(tier), { maxLength: 4 })),
        token: maybe(fc.record({ defaultTtlSeconds: fc.anything(), maxTtlSeconds: fc.anything() })),
        cors: maybe(fc.record({ allowOrigins: maybe(fc.array(fc.constantFrom('https://a.example'))) })),
        momento: fc.constant(base().momento),
      },
      { requiredKeys: [] },
    );

    // Act & Assess
    fc.assert(
      fc.property(config, (c) => {
        try {
          validateConfig(c);
        } catch (e) {
          if (!(e instanceof ConfigError)) throw e;
          expect(e.problems.length).toBeGreaterThan(0);
          for (const line of e.problems) expect(line).toMatch(PROBLEM_LINE);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('writes each path once', () => {
    // Prepare: a field message must not repeat its path ("token.maxTtlSeconds: token.maxTtlSeconds must be…").
    const config = base();
    config.token = { maxTtlSeconds: 600.5 };
    config.momento.endpoint = 'localhost';

    // Act
    const problems = problemsOf(config);

    // Assess
    expect(problems).toEqual([
      'token.maxTtlSeconds: must be a whole number of seconds',
      'momento.endpoint: must be a host name such as cell-4-us-west-2-1.prod.a.momentohq.com',
    ]);
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
          expect.stringMatching(/^tiers\[1\]\.groups: /),
          expect.stringMatching(/^tiers\[1\]\.permissions\[0\]: set key or keyPrefix/),
          expect.stringMatching(/^token\.defaultTtlSeconds: 7200 is above/),
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
    ).toThrow(/auth\.tokenIdClaim: must name a claim/);
  });
});

describe('Function: loadConfigFile', () => {
  let dir: string;
  beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tvm-config-'))));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Writes `text` to a fresh file named `name` and returns its path. */
  const write = (name: string, text: string) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return file;
  };

  /** The ConfigError message loading `file` throws. */
  const messageOf = (file: string) => {
    try {
      loadConfigFile(file);
    } catch (e) {
      if (e instanceof ConfigError) return e.message;
      throw e;
    }
    throw new Error('expected a ConfigError');
  };

  it.each([
    [
      'a TypeScript file',
      'bad.config.ts',
      "export default {\n  auth: { mode: 'cognito' },\n  tiers: [ { name: 'a' ],\n};\n",
      ':3:24: syntax error: Expected "}" but found "]"',
    ],
    [
      'a JSON file',
      'bad.config.json',
      '{\n  "auth": { "mode": "cognito" },,\n}\n',
      ':2:33: syntax error: Expected string in JSON but found ","',
    ],
  ])('reports a syntax error in %s as file:line:column, in one line', (_label, name, text, where) => {
    // Prepare
    const file = write(name, text);

    // Act
    const message = messageOf(file);

    // Assess
    expect(message).toBe(`${file}${where}`);
  });

  it('reports a config file that throws as one line with its location', () => {
    // Prepare
    const file = write('throws.config.ts', 'const tiers = undefinedThing;\nexport default { tiers };\n');

    // Act
    const message = messageOf(file);

    // Assess
    expect(message).toMatch(
      /^\S+throws\.config\.ts(:\d+:\d+)?: could not be loaded: ReferenceError: undefinedThing is not defined$/,
    );
  });

  it('names the file before every problem of a config that loads', () => {
    // Prepare
    const file = write(
      'ttl.config.ts',
      `export default ${JSON.stringify({ ...base(), token: { maxTtlSeconds: 30 } })};\n`,
    );

    // Act
    const message = messageOf(file);

    // Assess
    expect(message).toBe(
      `${file}: Invalid TVM configuration (1 problem):\n  - token.maxTtlSeconds: must be at least 60 seconds`,
    );
  });

  it('loads a JSON config (its whole content is the config)', () => {
    // Prepare
    const file = write('ok.config.json', JSON.stringify(base()));

    // Act
    const config = loadConfigFile(file);

    // Assess
    expect(config.tiers[0]!.name).toBe('member');
  });
});

describe('CDK app (bin/tvm.ts)', () => {
  it('prints a config syntax error as one line, without a stack trace, and exits 1', () => {
    // Prepare
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tvm-bin-'));
    const file = path.join(dir, 'bad.config.ts');
    fs.writeFileSync(file, "export default {\n  auth: { mode: 'cognito' ,\n};\n");

    try {
      // Act: the way `cdk synth` runs the app (cdk.json: npx tsx bin/tvm.ts), context through the environment.
      const run = spawnSync(process.execPath, [TSX, 'bin/tvm.ts'], {
        cwd: ROOT,
        env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify({ config: file }) },
        encoding: 'utf8',
        timeout: 60_000,
      });

      // Assess
      expect({ status: run.status, stderr: run.stderr }).toEqual({
        status: 1,
        stderr: `${file}:3:2: syntax error: Expected "}" but found ";"\n`,
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
