import { validateConfig, type TvmConfig } from '../../config/schema';
import authorizerConfig from '../../config/examples/authorizer.config';
import openConfig from '../../config/examples/open.config';
import cognitoConfig from '../../config/tvm.config';
import { ANONYMOUS } from '../../lambda/identity';
import {
  PolicyEngine,
  coversKey,
  coversTopic,
  isWithin,
  tokenIdOf,
  type Decision,
  type ScopeRequest,
} from '../../lambda/policy';
import type { Grant, Principal } from '../../lambda/types';
import { claimsOf } from '../support/arbitraries';

const engineFor = (config: TvmConfig) => new PolicyEngine(validateConfig(config));
const tvm = engineFor(cognitoConfig);

const user = (id: string, groups: string[], claims: Record<string, string> = {}): Principal => ({
  id,
  groups,
  claims: claimsOf(Object.entries(claims)),
  source: 'cognito',
});

/** A cognito-mode config with the given tiers and a token ttl of up to 2 h. */
const withTiers = (
  tiers: TvmConfig['tiers'],
  auth: Partial<Extract<TvmConfig['auth'], { mode: 'cognito' }>> = {},
): TvmConfig => ({
  ...cognitoConfig,
  auth: { mode: 'cognito', ...auth },
  tiers,
  token: { defaultTtlSeconds: 3600, maxTtlSeconds: 7200 },
});

const granted = (d: Decision) => {
  expect(d).toMatchObject({ outcome: 'granted' });
  return d as Extract<Decision, { outcome: 'granted' }>;
};

const ADMIN: Grant[] = [
  { type: 'cache', cache: 'app', role: 'readwrite' },
  { type: 'topic', cache: 'app', role: 'publishsubscribe' },
];
const member = (sub: string): Grant[] => [
  { type: 'cache', cache: 'app', role: 'readonly' },
  { type: 'cache', cache: 'app', role: 'readwrite', keyPrefix: `user/${sub}/` },
  { type: 'topic', cache: 'app', role: 'publishsubscribe', topicPrefix: 'chat-' },
  { type: 'topic', cache: 'app', role: 'subscribeonly', topic: `inbox-${sub}` },
];
const READER: Grant[] = [{ type: 'topic', cache: 'app', role: 'subscribeonly', topicPrefix: 'chat-' }];

describe('Function: PolicyEngine.decide', () => {
  describe('tiers from verified groups (config/tvm.config.ts)', () => {
    it.each<[string, string[], string[], Grant[], number]>([
      ['an admin', ['admins'], ['admin'], ADMIN, 3600],
      ['a member', ['members'], ['member'], member('b1c2'), 3600],
      ['a reader (tier ttl cap 900)', ['readers'], ['reader'], READER, 900],
      [
        // The admin statements cover every member statement: the covered ones are merged away.
        'an admin and member (union, config order, covered statements merged)',
        ['members', 'admins'],
        ['admin', 'member'],
        ADMIN,
        3600,
      ],
      [
        // publish+subscribe on chat-* covers the reader's subscribe-only chat-*.
        'a member and reader (union, covered statements merged)',
        ['readers', 'members'],
        ['member', 'reader'],
        member('b1c2'),
        3600,
      ],
      ['a member with unknown extra groups', ['strangers', 'members', 'Admins'], ['member'], member('b1c2'), 3600],
      ['a member listed twice', ['members', 'members'], ['member'], member('b1c2'), 3600],
    ])('grants %s', (_label, groups, tiers, grants, ttl) => {
      // Act
      const decision = tvm.decide(user('b1c2', groups));

      // Assess
      // Only the reader tier is shared: a reader's token is the scope's, anyone else's is their own.
      const shared = tiers.every((t) => t === 'reader');
      expect(decision).toEqual({
        outcome: 'granted',
        grants,
        ttlSeconds: ttl,
        tiers,
        tokenId: shared ? undefined : 'b1c2',
        shared,
      });
    });

    it.each<[string, string[]]>([
      ['no group', []],
      ['only unknown groups', ['strangers', 'Admins', 'admins ']],
      ['Object.prototype names', ['__proto__', 'constructor', 'toString', 'hasOwnProperty']],
    ])('denies %s with 403 no-tier', (_label, groups) => {
      // Act
      const decision = tvm.decide(user('u1', groups));

      // Assess
      expect(decision).toEqual({
        outcome: 'denied',
        status: 403,
        code: 'no-tier',
        detail: 'your verified groups grant no tier',
        tiers: [],
      });
    });

    it('gives the fallback tier to a principal in no mapped group, and only then', () => {
      // Prepare
      const engine = engineFor({ ...cognitoConfig, auth: { mode: 'cognito', fallbackTier: 'reader' } });

      // Act
      const stranger = engine.decide(user('u1', ['strangers']));
      const admin = engine.decide(user('u2', ['admins']));

      // Assess
      expect(stranger).toMatchObject({ outcome: 'granted', tiers: ['reader'], grants: READER, ttlSeconds: 900 });
      expect(admin).toMatchObject({ outcome: 'granted', tiers: ['admin'], grants: ADMIN });
    });

    it('gives every open-mode caller the anonymous tier and no tokenId, whatever groups it claims', () => {
      // Prepare
      const engine = engineFor(openConfig);

      // Act
      const anonymous = engine.decide(ANONYMOUS);
      const spoofed = engine.decide({ ...ANONYMOUS, groups: ['admins', '__proto__'] });

      // Assess
      const expected = {
        outcome: 'granted',
        grants: [
          { type: 'topic', cache: 'demo', role: 'subscribeonly', topicPrefix: 'news-' },
          { type: 'cache', cache: 'demo', role: 'readonly', keyPrefix: 'public/' },
        ],
        ttlSeconds: 900,
        tiers: ['public'],
        tokenId: undefined,
        shared: false,
      };
      expect(anonymous).toEqual(expected);
      expect(spoofed).toEqual(expected);
    });

    it('lets a group named like an Object.prototype member grant a tier only when a tier names it', () => {
      // Prepare
      const engine = engineFor(
        withTiers([
          { name: 'odd', groups: ['constructor'], permissions: [{ type: 'cache', cache: 'app', role: 'readonly' }] },
        ]),
      );

      // Act
      const named = engine.decide(user('u1', ['constructor']));
      const unnamed = engine.decide(user('u1', ['__proto__', 'toString', 'valueOf']));

      // Assess
      expect(named).toMatchObject({ outcome: 'granted', tiers: ['odd'] });
      expect(unnamed).toMatchObject({ outcome: 'denied', code: 'no-tier' });
    });
  });

  describe('templates', () => {
    const team = engineFor(
      withTiers([
        {
          name: 'team',
          groups: ['teams'],
          permissions: [
            { type: 'topic', cache: 'app', role: 'publishsubscribe', topicPrefix: 'team-{claims.custom:team}-' },
            { type: 'cache', cache: 'app', role: 'readwrite', keyPrefix: 'user/{sub}/' },
            { type: 'cache', cache: 'app', role: 'readonly', key: 'profile:{sub}' },
          ],
        },
      ]),
    );

    it('fills {sub} and {claims.custom:team} from verified identity', () => {
      // Act
      const decision = team.decide(user('b1c2', ['teams'], { 'custom:team': 'red' }));

      // Assess
      expect(granted(decision).grants).toEqual([
        { type: 'topic', cache: 'app', role: 'publishsubscribe', topicPrefix: 'team-red-' },
        { type: 'cache', cache: 'app', role: 'readwrite', keyPrefix: 'user/b1c2/' },
        { type: 'cache', cache: 'app', role: 'readonly', key: 'profile:b1c2' },
      ]);
    });

    it('denies 403 claim-unusable naming the grant when a claim is missing', () => {
      // Act
      const decision = team.decide(user('b1c2', ['teams'], { team: 'red' }));

      // Assess
      expect(decision).toEqual({
        outcome: 'denied',
        status: 403,
        code: 'claim-unusable',
        detail: 'grant team.permissions[0] needs {claims.custom:team} but it is missing',
        tiers: ['team'],
      });
    });

    it.each<[string, string, string, RegExp]>([
      [
        'a "/" in {sub} before "/"',
        'a/b',
        'red',
        /^grant team\.permissions\[1\] needs \{sub\} but its value is not safe/,
      ],
      [
        'a "-" in {claims.custom:team} before "-"',
        'b1c2',
        'x-y',
        /^grant team\.permissions\[0\] needs \{claims\.custom:team\} but its value is not safe/,
      ],
      ['"../" in {sub}', '../', 'red', /^grant team\.permissions\[1\] needs \{sub\} but its value is not safe/],
      [
        '"../" in a claim',
        'b1c2',
        '../',
        /^grant team\.permissions\[0\] needs \{claims\.custom:team\} but its value is not safe/,
      ],
      ['a space', 'b1c2', 'red team', /needs \{claims\.custom:team\} but its value is not safe/],
      ['129 characters', 'a'.repeat(129), 'red', /needs \{sub\} but its value is not safe/],
      ['an empty claim', 'b1c2', '', /needs \{claims\.custom:team\} but it is missing/],
      ['a non-ASCII letter', 'b1c2', 'rød', /needs \{claims\.custom:team\} but its value is not safe/],
      [
        'a brace (a placeholder in a value is not expanded again)',
        'b1c2',
        '{sub}',
        /needs \{claims\.custom:team\} but its value is not safe/,
      ],
    ])('denies 403 for an unsafe value: %s', (_label, sub, teamName, detail) => {
      // Act
      const decision = team.decide(user(sub, ['teams'], { 'custom:team': teamName }));

      // Assess
      expect(decision).toMatchObject({
        outcome: 'denied',
        status: 403,
        code: 'claim-unusable',
        detail: expect.stringMatching(detail),
      });
    });

    it('accepts a 128-character value', () => {
      // Act
      const decision = team.decide(user('a'.repeat(128), ['teams'], { 'custom:team': 'red' }));

      // Assess
      expect(granted(decision).grants).toContainEqual({
        type: 'cache',
        cache: 'app',
        role: 'readwrite',
        keyPrefix: `user/${'a'.repeat(128)}/`,
      });
    });

    it.each(['constructor', '__proto__', 'toString'])('never resolves {claims.%s} from Object.prototype', (name) => {
      // Prepare
      const engine = engineFor(
        withTiers([
          {
            name: 'odd',
            groups: ['g'],
            permissions: [{ type: 'cache', cache: 'app', role: 'readonly', key: `k-{claims.${name}}` }],
          },
        ]),
      );

      // Act
      const decision = engine.decide(user('u1', ['g']));

      // Assess
      expect(decision).toMatchObject({
        outcome: 'denied',
        code: 'claim-unusable',
        detail: `grant odd.permissions[0] needs {claims.${name}} but it is missing`,
      });
    });

    it('resolves {claims.__proto__} from an own claim of that name', () => {
      // Prepare
      const engine = engineFor(
        withTiers([
          {
            name: 'odd',
            groups: ['g'],
            permissions: [{ type: 'cache', cache: 'app', role: 'readonly', key: 'k-{claims.__proto__}' }],
          },
        ]),
      );

      // Act
      const decision = engine.decide(user('u1', ['g'], { ['__proto__']: 'v' }));

      // Assess
      expect(granted(decision).grants).toEqual([{ type: 'cache', cache: 'app', role: 'readonly', key: 'k-v' }]);
    });
  });

  describe('narrowing (config/tvm.config.ts)', () => {
    const adminMember = user('b1c2', ['admins', 'members']);

    it.each<[string, Principal, ScopeRequest, Grant[]]>([
      ['to the granted cache', adminMember, { caches: ['app'] }, ADMIN],
      [
        'to a topic inside a topic-prefix grant',
        user('b1c2', ['members']),
        { topics: ['chat-lobby'] },
        [{ type: 'topic', cache: 'app', role: 'publishsubscribe', topic: 'chat-lobby' }],
      ],
      [
        'to the own inbox topic',
        user('b1c2', ['members']),
        { topics: ['inbox-b1c2'] },
        [{ type: 'topic', cache: 'app', role: 'subscribeonly', topic: 'inbox-b1c2' }],
      ],
      [
        'to a topic covered by two tiers',
        adminMember,
        { topics: ['chat-lobby'] },
        [{ type: 'topic', cache: 'app', role: 'publishsubscribe', topic: 'chat-lobby' }],
      ],
      [
        'to a key (the strongest grant that covers it; the read-only one is merged into it)',
        user('b1c2', ['members']),
        { keys: ['user/b1c2/avatar'] },
        [{ type: 'cache', cache: 'app', role: 'readwrite', key: 'user/b1c2/avatar' }],
      ],
      [
        'to a key prefix inside a key-prefix grant',
        user('b1c2', ['members']),
        { keyPrefixes: ['user/b1c2/photos/'] },
        // One statement, not two overlapping ones counting against the 20-statement limit.
        [{ type: 'cache', cache: 'app', role: 'readwrite', keyPrefix: 'user/b1c2/photos/' }],
      ],
      [
        'to a key prefix wider than the read-write prefix (read-only only)',
        user('b1c2', ['members']),
        { keyPrefixes: ['user/'] },
        [{ type: 'cache', cache: 'app', role: 'readonly', keyPrefix: 'user/' }],
      ],
      [
        'to topics and keys together',
        user('b1c2', ['members']),
        { topics: ['chat-x'], keys: ['user/b1c2/a'] },
        [
          { type: 'cache', cache: 'app', role: 'readwrite', key: 'user/b1c2/a' },
          { type: 'topic', cache: 'app', role: 'publishsubscribe', topic: 'chat-x' },
        ],
      ],
      [
        'to read access (readwrite→readonly, publishsubscribe→subscribeonly)',
        user('b1c2', ['admins']),
        { readOnly: true },
        [
          { type: 'cache', cache: 'app', role: 'readonly' },
          { type: 'topic', cache: 'app', role: 'subscribeonly' },
        ],
      ],
      [
        'to read access of a member (duplicates and covered statements collapse)',
        user('b1c2', ['members']),
        { readOnly: true },
        [
          { type: 'cache', cache: 'app', role: 'readonly' },
          { type: 'topic', cache: 'app', role: 'subscribeonly', topicPrefix: 'chat-' },
          { type: 'topic', cache: 'app', role: 'subscribeonly', topic: 'inbox-b1c2' },
        ],
      ],
    ])('narrows %s', (_label, principal, request, grants) => {
      // Act
      const decision = tvm.decide(principal, request);

      // Assess
      expect(granted(decision).grants).toEqual(grants);
    });

    it('merges overlapping statements so they do not count twice against the 20-statement limit', () => {
      // Prepare: ten keys and ten key prefixes under the member's own read-write prefix. Each is covered by the
      // read-only whole-cache grant AND the read-write prefix grant: 40 statements before merging, 20 after.
      const keys = Array.from({ length: 10 }, (_, i) => `user/b1c2/k${i}`);
      const keyPrefixes = Array.from({ length: 10 }, (_, i) => `user/b1c2/p${i}/`);

      // Act
      const decision = tvm.decide(user('b1c2', ['members']), { keys, keyPrefixes });

      // Assess
      expect(granted(decision).grants).toEqual([
        ...keys.map((key) => ({ type: 'cache', cache: 'app', role: 'readwrite', key })),
        ...keyPrefixes.map((keyPrefix) => ({ type: 'cache', cache: 'app', role: 'readwrite', keyPrefix })),
      ]);
    });

    it.each<[string, Principal, ScopeRequest, RegExp]>([
      [
        'a cache not granted',
        adminMember,
        { caches: ['app', 'billing'] },
        /^cache "billing" is not granted to your tiers$/,
      ],
      [
        'another user’s inbox',
        user('b1c2', ['members']),
        { topics: ['inbox-someone'] },
        /^topic "inbox-someone" is not granted/,
      ],
      ['a topic outside the prefix', user('r1', ['readers']), { topics: ['news-1'] }, /^topic "news-1" is not granted/],
      [
        'a topic only granted for publishing, read-only',
        user('r1', ['readers']),
        { topics: ['inbox-r1'], readOnly: true },
        /^topic "inbox-r1" is not granted to your tiers \(read-only\)$/,
      ],
      [
        'a key of another user (read-write prefix does not cover it)',
        user('r1', ['readers']),
        { keys: ['user/b1c2/a'] },
        /^key "user\/b1c2\/a" is not granted/,
      ],
      [
        'a key prefix of a reader',
        user('r1', ['readers']),
        { keyPrefixes: ['user/'] },
        /^key prefix "user\/" is not granted/,
      ],
    ])('denies 403 scope-not-granted for %s, naming it', (_label, principal, request, detail) => {
      // Act
      const decision = tvm.decide(principal, request);

      // Assess
      expect(decision).toMatchObject({
        outcome: 'denied',
        status: 403,
        code: 'scope-not-granted',
        detail: expect.stringMatching(detail),
      });
    });

    it('drops write-only and publish-only grants from a read-only request, and denies when nothing is left', () => {
      // Prepare
      const engine = engineFor(
        withTiers([
          {
            name: 'writer',
            groups: ['writers'],
            permissions: [
              { type: 'cache', cache: 'app', role: 'writeonly' },
              { type: 'topic', cache: 'app', role: 'publishonly' },
            ],
          },
          {
            name: 'viewer',
            groups: ['viewers'],
            permissions: [{ type: 'cache', cache: 'app', role: 'readonly', keyPrefix: 'pub/' }],
          },
        ]),
      );

      // Act
      const both = engine.decide(user('u1', ['writers', 'viewers']), { readOnly: true });
      const writerOnly = engine.decide(user('u1', ['writers']), { readOnly: true });

      // Assess
      expect(granted(both).grants).toEqual([{ type: 'cache', cache: 'app', role: 'readonly', keyPrefix: 'pub/' }]);
      expect(writerOnly).toMatchObject({
        outcome: 'denied',
        status: 403,
        code: 'scope-not-granted',
        detail: 'nothing you asked for is granted to your tiers',
      });
    });

    it.each<[string, string[], number | undefined, number]>([
      ['the default ttl', ['admins'], undefined, 3600],
      ['a shorter ttl', ['admins'], 600, 600],
      ['the tier maximum', ['readers'], 900, 900],
      ['the tier maximum as default when it is below the token default', ['readers'], undefined, 900],
      ['the minimum', ['readers'], 60, 60],
    ])('grants %s', (_label, groups, ttlSeconds, expected) => {
      // Act
      const decision = tvm.decide(user('u1', groups), ttlSeconds === undefined ? {} : { ttlSeconds });

      // Assess
      expect(granted(decision).ttlSeconds).toBe(expected);
    });

    it.each<[string, string[], number, number]>([
      ['above the token maximum', ['admins'], 3601, 3600],
      ['above the reader tier maximum', ['readers'], 901, 900],
      ['at Momento’s maximum', ['admins'], 90_000, 3600],
    ])('denies 403 ttl-exceeds-tier for a ttl %s', (_label, groups, ttlSeconds, max) => {
      // Act
      const decision = tvm.decide(user('u1', groups), { ttlSeconds });

      // Assess
      expect(decision).toMatchObject({
        outcome: 'denied',
        status: 403,
        code: 'ttl-exceeds-tier',
        detail: `ttl ${ttlSeconds} exceeds your maximum of ${max} seconds`,
      });
    });
  });

  describe('ttl caps of combined tiers', () => {
    // A short-lived elevated tier must not become long-lived because its holder is also in a long-lived tier.
    const engine = engineFor(
      withTiers([
        { name: 'basic', groups: ['basic'], permissions: [{ type: 'cache', cache: 'app', role: 'readonly' }] },
        {
          name: 'elevated',
          groups: ['ops'],
          permissions: [{ type: 'cache', cache: 'app', role: 'readwrite' }],
          maxTtlSeconds: 300,
        },
      ]),
    );
    const both = user('u1', ['basic', 'ops']);

    it('caps the token at the shortest cap among the statements it carries', () => {
      // Act
      const decision = engine.decide(both);

      // Assess
      expect(granted(decision)).toMatchObject({ ttlSeconds: 300, tiers: ['basic', 'elevated'] });
    });

    it('denies a ttl above the elevated tier’s cap while elevated statements are in the token', () => {
      // Act
      const decision = engine.decide(both, { ttlSeconds: 3600 });

      // Assess
      expect(decision).toMatchObject({
        outcome: 'denied',
        status: 403,
        code: 'ttl-exceeds-tier',
        detail: 'ttl 3600 exceeds your maximum of 300 seconds',
      });
    });

    it('allows the longer cap once the request narrows to statements the long-lived tier grants', () => {
      // Act
      const decision = engine.decide(both, { readOnly: true, ttlSeconds: 3600 });

      // Assess
      expect(granted(decision)).toMatchObject({
        ttlSeconds: 3600,
        grants: [{ type: 'cache', cache: 'app', role: 'readonly' }],
      });
    });

    it('never exceeds the token maximum even when a tier cap is above it', () => {
      // Prepare: validateConfig refuses such a tier, so the cap is raised after validation (defence in depth).
      const valid = validateConfig(
        withTiers([{ name: 'long', groups: ['g'], permissions: [{ type: 'cache', cache: 'app', role: 'readonly' }] }]),
      );
      const capped = new PolicyEngine({ ...valid, tiers: [{ ...valid.tiers[0]!, maxTtlSeconds: 90_000 }] });

      // Act
      const decision = capped.decide(user('u1', ['g']), { ttlSeconds: 7201 });

      // Assess
      expect(decision).toMatchObject({
        outcome: 'denied',
        code: 'ttl-exceeds-tier',
        detail: 'ttl 7201 exceeds your maximum of 7200 seconds',
      });
    });
  });

  describe('wildcard caches (config/examples/authorizer.config.ts)', () => {
    const engine = engineFor(authorizerConfig);

    it('keeps "*" when no cache is asked for', () => {
      // Act
      const decision = engine.decide(user('auth0|1', ['admin']));

      // Assess
      expect(granted(decision).grants).toEqual([
        { type: 'cache', cache: '*', role: 'readwrite' },
        { type: 'topic', cache: '*', role: 'publishsubscribe' },
      ]);
    });

    it('expands a wildcard-cache grant to exactly the caches asked for', () => {
      // Act
      const decision = engine.decide(user('auth0|1', ['admin']), { caches: ['a', 'b'] });

      // Assess
      expect(granted(decision).grants).toEqual([
        { type: 'cache', cache: 'a', role: 'readwrite' },
        { type: 'cache', cache: 'b', role: 'readwrite' },
        { type: 'topic', cache: 'a', role: 'publishsubscribe' },
        { type: 'topic', cache: 'b', role: 'publishsubscribe' },
      ]);
    });

    it('denies 400 scope-too-large when the expansion exceeds 20 statements', () => {
      // Prepare
      const wide = engineFor(
        withTiers([
          {
            name: 'wide',
            groups: ['g'],
            permissions: [
              { type: 'cache', cache: '*', role: 'readonly' },
              { type: 'topic', cache: '*', role: 'subscribeonly' },
              { type: 'cache', cache: '*', role: 'readwrite', keyPrefix: 'own/' },
            ],
          },
        ]),
      );
      const caches = ['c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7'];

      // Act
      const atLimit = wide.decide(user('u1', ['g']), { caches: caches.slice(0, 6) });
      const overLimit = wide.decide(user('u1', ['g']), { caches });

      // Assess
      expect(granted(atLimit).grants).toHaveLength(18);
      expect(overLimit).toEqual({
        outcome: 'denied',
        status: 400,
        code: 'scope-too-large',
        detail: 'the request expands to 21 statements; Momento allows 20',
        tiers: ['wide'],
      });
    });
  });

  describe('tokenId', () => {
    it.each<[string, Principal, string | undefined]>([
      ['the verified id', user('b1c2-d3e4', ['admins']), 'b1c2-d3e4'],
      ['a 64-character id as is', user('x'.repeat(64), ['admins']), 'x'.repeat(64)],
    ])('is %s', (_label, principal, expected) => {
      // Act
      const decision = tvm.decide(principal);

      // Assess
      expect(granted(decision).tokenId).toBe(expected);
    });

    it('hashes ids longer than 64 characters to a stable, distinct id of at most 64', () => {
      // Prepare
      const long = 'x'.repeat(65);

      // Act
      const id = tokenIdOf(user(long, []));

      // Assess
      expect(id).toMatch(/^sha256:[A-Za-z0-9_-]{43}$/);
      expect(id!.length).toBeLessThanOrEqual(64);
      expect(tokenIdOf(user(long, []))).toBe(id);
      expect(tokenIdOf(user(`${long}y`, []))).not.toBe(id);
    });

    it.each<[string, Principal]>([
      ['anonymous', ANONYMOUS],
      ['an empty id', user('', [])],
    ])('is undefined for %s', (_label, principal) => {
      // Act & Assess
      expect(tokenIdOf(principal)).toBeUndefined();
    });
  });
});

describe('Function: coversTopic', () => {
  it.each<[Extract<Grant, { type: 'topic' }>, string, boolean]>([
    [{ type: 'topic', cache: 'app', role: 'subscribeonly' }, 'anything', true],
    [{ type: 'topic', cache: 'app', role: 'subscribeonly', topic: 'a' }, 'a', true],
    [{ type: 'topic', cache: 'app', role: 'subscribeonly', topic: 'a' }, 'ab', false],
    [{ type: 'topic', cache: 'app', role: 'subscribeonly', topicPrefix: 'chat-' }, 'chat-', true],
    [{ type: 'topic', cache: 'app', role: 'subscribeonly', topicPrefix: 'chat-' }, 'chat-x', true],
    [{ type: 'topic', cache: 'app', role: 'subscribeonly', topicPrefix: 'chat-' }, 'chat', false],
  ])('%o covers %p: %p', (grant, topic, expected) => {
    // Act & Assess
    expect(coversTopic(grant, topic)).toBe(expected);
  });
});

describe('Function: coversKey', () => {
  it.each<[Extract<Grant, { type: 'cache' }>, string, boolean, boolean]>([
    [{ type: 'cache', cache: 'app', role: 'readonly' }, 'k', false, true],
    [{ type: 'cache', cache: 'app', role: 'readonly' }, 'k', true, true],
    [{ type: 'cache', cache: 'app', role: 'readonly', key: 'k' }, 'k', false, true],
    [{ type: 'cache', cache: 'app', role: 'readonly', key: 'k' }, 'k', true, false],
    [{ type: 'cache', cache: 'app', role: 'readonly', key: 'k' }, 'k2', false, false],
    [{ type: 'cache', cache: 'app', role: 'readonly', keyPrefix: 'u/' }, 'u/a', false, true],
    [{ type: 'cache', cache: 'app', role: 'readonly', keyPrefix: 'u/' }, 'u/a/', true, true],
    [{ type: 'cache', cache: 'app', role: 'readonly', keyPrefix: 'u/' }, 'u', true, false],
  ])('%o covers %p (prefix %p): %p', (grant, key, prefix, expected) => {
    // Act & Assess
    expect(coversKey(grant, key, prefix)).toBe(expected);
  });
});

describe('Function: isWithin', () => {
  const c = (cache: string, role: 'readwrite' | 'readonly' | 'writeonly', more: object = {}): Grant => ({
    type: 'cache',
    cache,
    role,
    ...more,
  });
  const t = (cache: string, role: 'publishsubscribe' | 'subscribeonly' | 'publishonly', more: object = {}): Grant => ({
    type: 'topic',
    cache,
    role,
    ...more,
  });

  it.each<[string, Grant[], Grant[], boolean]>([
    ['nothing within anything', [], [], true],
    ['the same statement', [c('app', 'readonly')], [c('app', 'readonly')], true],
    ['a narrower role', [c('app', 'readonly'), c('app', 'writeonly')], [c('app', 'readwrite')], true],
    ['a wider role', [c('app', 'readwrite')], [c('app', 'readonly')], false],
    ['a sibling role', [c('app', 'writeonly')], [c('app', 'readonly')], false],
    ['subscribe within publish+subscribe', [t('app', 'subscribeonly')], [t('app', 'publishsubscribe')], true],
    ['publish within subscribe', [t('app', 'publishonly')], [t('app', 'subscribeonly')], false],
    ['a named cache within "*"', [c('app', 'readonly')], [c('*', 'readonly')], true],
    ['"*" within a named cache', [c('*', 'readonly')], [c('app', 'readonly')], false],
    ['another cache', [c('other', 'readonly')], [c('app', 'readonly')], false],
    ['a topic within a cache grant', [t('app', 'subscribeonly')], [c('app', 'readwrite')], false],
    [
      'a key within a prefix',
      [c('app', 'readonly', { key: 'u/a' })],
      [c('app', 'readonly', { keyPrefix: 'u/' })],
      true,
    ],
    [
      'a longer prefix within a prefix',
      [c('app', 'readonly', { keyPrefix: 'u/a/' })],
      [c('app', 'readonly', { keyPrefix: 'u/' })],
      true,
    ],
    [
      'a shorter prefix within a prefix',
      [c('app', 'readonly', { keyPrefix: 'u' })],
      [c('app', 'readonly', { keyPrefix: 'u/' })],
      false,
    ],
    ['a prefix within a key', [c('app', 'readonly', { keyPrefix: 'k' })], [c('app', 'readonly', { key: 'k' })], false],
    ['every key within a prefix', [c('app', 'readonly')], [c('app', 'readonly', { keyPrefix: 'u/' })], false],
    [
      'a topic within a topic prefix',
      [t('app', 'subscribeonly', { topic: 'chat-1' })],
      [t('app', 'subscribeonly', { topicPrefix: 'chat-' })],
      true,
    ],
    [
      'a topic prefix within a topic',
      [t('app', 'subscribeonly', { topicPrefix: 'chat-' })],
      [t('app', 'subscribeonly', { topic: 'chat-' })],
      false,
    ],
    [
      'every topic within a topic prefix',
      [t('app', 'subscribeonly')],
      [t('app', 'subscribeonly', { topicPrefix: 'chat-' })],
      false,
    ],
    ['one of two covered', [c('app', 'readonly'), c('b', 'readonly')], [c('app', 'readonly')], false],
  ])('%s: %p', (_label, grantedStatements, ceiling, expected) => {
    // Act & Assess
    expect(isWithin(grantedStatements, ceiling)).toBe(expected);
  });
});
