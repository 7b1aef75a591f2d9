/**
 * fast-check arbitraries for the policy engine: valid configurations with random tiers, hostile principals and
 * random narrowing requests. Values are drawn from small shared vocabularies so that requests often hit (and
 * often just miss) what the tiers grant — uniform random strings would almost never exercise narrowing.
 */
import fc from 'fast-check';
import { CACHE_ROLES, TOPIC_ROLES, type TvmConfig } from '../../config/schema';
import type { ScopeRequest } from '../../lambda/policy';
import type { Principal } from '../../lambda/types';

/** Cache names tiers may use (plus `*`), and one that no tier uses. */
export const CACHES = ['app', 'demo', 'other'] as const;
export const UNGRANTED_CACHE = 'zzz';

/** Names that live on `Object.prototype`: a lookup through a plain object would find them on every object. */
export const PROTOTYPE_NAMES = [
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  'valueOf',
  'isPrototypeOf',
  '__defineGetter__',
] as const;

/** Groups a tier may name (all valid group names in the schema), including the prototype names. */
export const TIER_GROUPS = ['admins', 'members', 'readers', 'ops', ...PROTOTYPE_NAMES] as const;

/** Groups a verified principal might carry that no tier can name: unicode, whitespace, case twins, very long. */
export const FOREIGN_GROUPS = [
  'Admins',
  'admins ',
  ' admins',
  'админы',
  '管理员',
  'admins\u200b',
  'a'.repeat(129),
  'g'.repeat(4096),
  'strangers',
  '',
] as const;

/** Claim names templates may use; `__proto__` and `constructor` must resolve only from own properties. */
export const CLAIM_NAMES = ['team', 'custom:team', '__proto__', 'constructor'] as const;

/**
 * Claim / subject values: safe ones, and ones that must never reach a scope (a separator, `..`, a space, too
 * long, empty, non-ASCII).
 */
export const SAFE_VALUES = ['alice', 'bob', 'red', 'a.b', 'x:y', 'u@example.com', 'a'.repeat(128)] as const;
export const UNSAFE_VALUES = ['a/b', 'x-y', '../', 'with space', 'a'.repeat(129), '', 'é', 'a{sub}'] as const;

const PLACEHOLDERS = [
  '{sub}',
  '{claims.team}',
  '{claims.custom:team}',
  '{claims.__proto__}',
  '{claims.constructor}',
] as const;
const LITERALS = ['user/', 'chat-', 'inbox-', 'team-', 'k', 'a.b'] as const;
const SEPARATORS = ['/', '-', ':', '.'] as const;

/** An exact key or topic: a literal, optionally with one placeholder (which may end the value). */
const exactTemplateArb = fc.oneof(
  fc.constantFrom(...LITERALS, 'k1', 'chat-lobby', 'news'),
  fc
    .tuple(fc.constantFrom('', ...LITERALS), fc.constantFrom(...PLACEHOLDERS), fc.constantFrom('', ...SEPARATORS, '/x'))
    .map(([a, p, b]) => `${a}${p}${b}`),
);

/** A key or topic prefix: a literal, or literal + placeholder + separator (never ending in a placeholder). */
const prefixTemplateArb = fc.oneof(
  fc.constantFrom(...LITERALS),
  fc
    .tuple(fc.constantFrom('', ...LITERALS), fc.constantFrom(...PLACEHOLDERS), fc.constantFrom(...SEPARATORS))
    .map(([a, p, b]) => `${a}${p}${b}`),
);

type PermissionInput = TvmConfig['tiers'][number]['permissions'][number];

const cacheRefArb = fc.constantFrom('*', ...CACHES);

export const permissionArb: fc.Arbitrary<PermissionInput> = fc.oneof(
  fc
    .record({
      cache: cacheRefArb,
      role: fc.constantFrom(...CACHE_ROLES),
      restrict: fc.oneof(
        fc.constant({}),
        exactTemplateArb.map((key) => ({ key })),
        prefixTemplateArb.map((keyPrefix) => ({ keyPrefix })),
      ),
    })
    .map(({ cache, role, restrict }): PermissionInput => ({ type: 'cache', cache, role, ...restrict })),
  fc
    .record({
      cache: cacheRefArb,
      role: fc.constantFrom(...TOPIC_ROLES),
      restrict: fc.oneof(
        fc.constant({}),
        exactTemplateArb.map((topic) => ({ topic })),
        prefixTemplateArb.map((topicPrefix) => ({ topicPrefix })),
      ),
    })
    .map(({ cache, role, restrict }): PermissionInput => ({ type: 'topic', cache, role, ...restrict })),
);

const TTLS = [60, 300, 900, 3600, 7200, 90_000] as const;

/**
 * A valid cognito-mode configuration: 1–4 tiers of 1–5 permissions (so the union stays within Momento's 20),
 * each tier naming 1–3 groups, optional per-tier ttl caps, and optionally a fallback tier.
 */
export function configArb(options: { fallback?: boolean } = {}): fc.Arbitrary<TvmConfig> {
  const tierArb = fc.record(
    {
      groups: fc.uniqueArray(fc.constantFrom(...TIER_GROUPS), { minLength: 1, maxLength: 3 }),
      permissions: fc.array(permissionArb, { minLength: 1, maxLength: 5 }),
      maxTtlSeconds: fc.constantFrom(...TTLS),
    },
    { requiredKeys: ['groups', 'permissions'] },
  );
  return fc
    .record({
      tiers: fc.array(tierArb, { minLength: 1, maxLength: 4 }),
      maxTtl: fc.constantFrom(900, 3600, 7200, 90_000),
      defaultTtl: fc.constantFrom(60, 900, 3600, 7200),
      fallbackIndex: options.fallback === true ? fc.nat(3) : fc.constant(undefined),
    })
    .map(({ tiers, maxTtl, defaultTtl, fallbackIndex }): TvmConfig => {
      // A tier cap above token.maxTtlSeconds is a config error, so the caps stay within it.
      const named = tiers.map((t, i) => ({
        name: `t${i}`,
        ...t,
        ...(t.maxTtlSeconds === undefined ? {} : { maxTtlSeconds: Math.min(t.maxTtlSeconds, maxTtl) }),
      }));
      const fallbackTier = fallbackIndex === undefined ? undefined : named[fallbackIndex % named.length]!.name;
      return {
        auth: { mode: 'cognito', ...(fallbackTier === undefined ? {} : { fallbackTier }) },
        tiers: named,
        token: { defaultTtlSeconds: Math.min(defaultTtl, maxTtl), maxTtlSeconds: maxTtl },
        cors: { allowOrigins: ['https://app.example.com'] },
        momento: { endpoint: 'cell-4-us-west-2-1.prod.a.momentohq.com', secret: { create: true } },
      };
    });
}

/** A claims record as identity.ts builds it: null prototype, own string properties only. */
export function claimsOf(entries: readonly (readonly [string, string])[]): Record<string, string> {
  const claims: Record<string, string> = Object.create(null);
  for (const [k, v] of entries) claims[k] = v;
  return claims;
}

const valueArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...SAFE_VALUES) },
  { weight: 1, arbitrary: fc.constantFrom(...UNSAFE_VALUES) },
);

/** A verified principal: groups from the tiers' vocabulary plus foreign/hostile ones, random claims. */
export const principalArb: fc.Arbitrary<Principal> = fc
  .record({
    id: fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom(...SAFE_VALUES) },
      { weight: 2, arbitrary: fc.constantFrom(...UNSAFE_VALUES) },
      { weight: 1, arbitrary: fc.constant('s'.repeat(65)) },
    ),
    groups: fc.uniqueArray(
      fc.oneof(
        { weight: 3, arbitrary: fc.constantFrom(...TIER_GROUPS) },
        { weight: 1, arbitrary: fc.constantFrom(...FOREIGN_GROUPS) },
      ),
      {
        maxLength: 5,
      },
    ),
    // Mostly every claim with a safe value (so templates resolve and narrowing gets exercised), sometimes anything.
    claims: fc.oneof(
      {
        weight: 3,
        arbitrary: fc.tuple(...CLAIM_NAMES.map((k) => fc.constantFrom(...SAFE_VALUES).map((v) => [k, v] as const))),
      },
      {
        weight: 1,
        arbitrary: fc.uniqueArray(fc.tuple(fc.constantFrom(...CLAIM_NAMES), valueArb), {
          maxLength: 4,
          selector: ([k]) => k,
        }),
      },
    ),
  })
  .map(({ id, groups, claims }): Principal => ({ id, groups, claims: claimsOf(claims), source: 'cognito' }));

/**
 * A principal for a given configuration: usually holding some of the groups its tiers name (so most cases
 * reach templating and narrowing), plus foreign and prototype-named groups.
 */
export function principalForArb(config: TvmConfig): fc.Arbitrary<Principal> {
  const named = [...new Set(config.tiers.flatMap((t) => t.groups ?? []))];
  const groupsArb = fc.oneof(
    {
      weight: 9,
      arbitrary: fc
        .tuple(
          fc.subarray(named, { minLength: 1 }),
          fc.subarray([...FOREIGN_GROUPS, ...PROTOTYPE_NAMES], { maxLength: 2 }),
        )
        .map(([mine, foreign]) => [...mine, ...foreign]),
    },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
  return fc.tuple(principalArb, groupsArb).map(([p, groups]): Principal => ({ ...p, groups: groups ?? p.groups }));
}

/** Strings a caller might ask for: built from the same atoms the templates use, so they often match. */
const scopeValueArb = fc
  .tuple(
    fc.constantFrom('', 'user/', 'chat-', 'inbox-', 'team-', 'k', 'a.b', 'news'),
    fc.constantFrom('', ...SAFE_VALUES.slice(0, 5), 'x-y', 'a'),
    fc.constantFrom('', '/', '-', ':', '.', '/x', 'lobby', '1'),
  )
  .map(([a, b, c]) => `${a}${b}${c}`)
  .filter((s) => s !== '');

const some = <T>(arb: fc.Arbitrary<T>) => fc.uniqueArray(arb, { minLength: 1, maxLength: 3 });

/** A narrowing request (each field optional), as request.ts would produce it. */
export const scopeRequestArb: fc.Arbitrary<ScopeRequest> = fc.record(
  {
    caches: some(fc.constantFrom(...CACHES, UNGRANTED_CACHE)),
    topics: some(scopeValueArb),
    keys: some(scopeValueArb),
    keyPrefixes: some(scopeValueArb),
    readOnly: fc.boolean(),
    ttlSeconds: fc.constantFrom(60, 300, 900, 901, 3600, 3601, 7200, 90_000),
  },
  { requiredKeys: [] },
);
