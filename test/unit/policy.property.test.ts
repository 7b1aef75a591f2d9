/**
 * Property tests for "issued ⊆ ceiling". The ceiling, the tiers a principal holds and what "covers" means are
 * computed here from the configuration by a small reference model written for the tests — not with the engine's
 * own helpers — and the model is checked against `isWithin` on the same cases.
 */
import fc from 'fast-check';
import { MAX_STATEMENTS, validateConfig, type ResolvedConfig } from '../../config/schema';
import { PolicyEngine, isWithin, mergeCovered, tokenIdOf, type Decision, type ScopeRequest } from '../../lambda/policy';
import type { Grant, Principal } from '../../lambda/types';
import {
  CACHES,
  FOREIGN_GROUPS,
  PROTOTYPE_NAMES,
  configArb,
  principalArb,
  principalForArb,
  scopeRequestArb,
} from '../support/arbitraries';

// ---------------------------------------------------------------------------------------------------------------
// Reference model
// ---------------------------------------------------------------------------------------------------------------

/** Which roles a role includes (Momento's semantics: read-write = read + write, pub+sub = pub + sub). */
const INCLUDES: Record<string, readonly string[]> = {
  readwrite: ['readwrite', 'readonly', 'writeonly'],
  readonly: ['readonly'],
  writeonly: ['writeonly'],
  publishsubscribe: ['publishsubscribe', 'subscribeonly', 'publishonly'],
  subscribeonly: ['subscribeonly'],
  publishonly: ['publishonly'],
};

/** The names a statement selects: one exact name, every name with a prefix, or every name. */
type Selection = { kind: 'all' } | { kind: 'exact'; name: string } | { kind: 'prefix'; prefix: string };

function selectionOf(g: Grant): Selection {
  const exact = g.type === 'cache' ? g.key : g.topic;
  const prefix = g.type === 'cache' ? g.keyPrefix : g.topicPrefix;
  if (exact !== undefined) return { kind: 'exact', name: exact };
  if (prefix !== undefined) return { kind: 'prefix', prefix };
  return { kind: 'all' };
}

/** Is every name `inner` selects also selected by `outer`? */
function selects(outer: Selection, inner: Selection): boolean {
  switch (outer.kind) {
    case 'all':
      return true;
    case 'exact':
      return inner.kind === 'exact' && inner.name === outer.name;
    case 'prefix':
      return (
        (inner.kind === 'exact' && inner.name.startsWith(outer.prefix)) ||
        (inner.kind === 'prefix' && inner.prefix.startsWith(outer.prefix))
      );
  }
}

/** Reference "covers": everything `g` allows, `c` allows. */
function covers(c: Grant, g: Grant): boolean {
  return (
    c.type === g.type &&
    (c.cache === '*' || c.cache === g.cache) &&
    INCLUDES[c.role]!.includes(g.role) &&
    selects(selectionOf(c), selectionOf(g))
  );
}

/**
 * What a placeholder value must look like (docs/configuration.md, "Permission statements and templates"): charset,
 * length, no following separator.
 */
const SAFE = /^[A-Za-z0-9_.:@|+=-]{1,128}$/;

type Filled = { ok: true; value: string | undefined } | { ok: false };

function fill(template: string | undefined, p: Principal): Filled {
  if (template === undefined) return { ok: true, value: undefined };
  let ok = true;
  const value = template.replace(
    /\{(sub|claims\.([^{}]+))\}/g,
    (match, name: string, claim: string | undefined, offset: number) => {
      const v =
        name === 'sub' ? p.id : claim !== undefined && Object.hasOwn(p.claims, claim) ? p.claims[claim] : undefined;
      const next = template.charAt(offset + match.length);
      if (v === undefined || !SAFE.test(v) || (next !== '' && v.includes(next))) ok = false;
      return v ?? '';
    },
  );
  return ok ? { ok: true, value } : { ok: false };
}

interface CeilingStatement {
  readonly grant: Grant;
  /** Longest ttl this statement's tier allows. */
  readonly maxTtl: number;
}

type Tier = ResolvedConfig['tiers'][number];

/** Tiers held: a tier counts when it lists one of the principal's groups (plain array search, no lookups). */
function heldTiers(config: ResolvedConfig, p: Principal): Tier[] {
  const auth = config.auth;
  if (auth.mode === 'open') return config.tiers.filter((t) => t.name === auth.anonymousTier);
  const held = config.tiers.filter((t) => t.groups.some((g) => p.groups.includes(g)));
  if (held.length === 0 && auth.fallbackTier !== undefined)
    return config.tiers.filter((t) => t.name === auth.fallbackTier);
  return held;
}

/** The principal's ceiling: every held tier's permissions with templates filled, or `undefined` if a value is unusable. */
function ceilingOf(config: ResolvedConfig, tiers: readonly Tier[], p: Principal): CeilingStatement[] | undefined {
  const out: CeilingStatement[] = [];
  for (const tier of tiers) {
    const maxTtl = Math.min(config.token.maxTtlSeconds, tier.maxTtlSeconds ?? config.token.maxTtlSeconds);
    for (const perm of tier.permissions) {
      if (perm.type === 'cache') {
        const key = fill(perm.key, p);
        const keyPrefix = fill(perm.keyPrefix, p);
        if (!key.ok || !keyPrefix.ok) return undefined;
        const grant: Grant = {
          type: 'cache',
          cache: perm.cache,
          role: perm.role,
          ...(key.value === undefined ? {} : { key: key.value }),
          ...(keyPrefix.value === undefined ? {} : { keyPrefix: keyPrefix.value }),
        };
        out.push({ grant, maxTtl });
      } else {
        const topic = fill(perm.topic, p);
        const topicPrefix = fill(perm.topicPrefix, p);
        if (!topic.ok || !topicPrefix.ok) return undefined;
        const grant: Grant = {
          type: 'topic',
          cache: perm.cache,
          role: perm.role,
          ...(topic.value === undefined ? {} : { topic: topic.value }),
          ...(topicPrefix.value === undefined ? {} : { topicPrefix: topicPrefix.value }),
        };
        out.push({ grant, maxTtl });
      }
    }
  }
  return out;
}

const isGranted = (d: Decision): d is Extract<Decision, { outcome: 'granted' }> => d.outcome === 'granted';

/**
 * Checks every invariant of one decision against the reference and returns the violations (empty when fine).
 * Collected rather than asserted one by one: thousands of `expect` calls per run would dominate the runtime.
 */
function violationsOf(config: ResolvedConfig, p: Principal, request: ScopeRequest, d: Decision): string[] {
  const v: string[] = [];
  const check = (ok: boolean, what: string) => {
    if (!ok) v.push(what);
  };
  const tiers = heldTiers(config, p);
  check(JSON.stringify(d.tiers) === JSON.stringify(tiers.map((t) => t.name)), `tiers ${JSON.stringify(d.tiers)}`);
  if (tiers.length === 0) {
    check(d.outcome === 'denied' && d.status === 403 && d.code === 'no-tier', 'no tier held, so 403 no-tier');
    return v;
  }
  const ceiling = ceilingOf(config, tiers, p);
  if (ceiling === undefined) {
    check(
      d.outcome === 'denied' && d.status === 403 && d.code === 'claim-unusable',
      'an unusable template value, so 403 claim-unusable',
    );
    return v;
  }
  if (!isGranted(d)) return v;

  check(
    d.grants.length > 0 && d.grants.length <= MAX_STATEMENTS,
    `1..${MAX_STATEMENTS} statements, got ${d.grants.length}`,
  );
  for (const g of d.grants) {
    const at = JSON.stringify(g);
    // Issued ⊆ ceiling, in scope and in time: some held tier grants g for at least this long.
    const coveredBy = ceiling.filter((s) => covers(s.grant, g));
    check(coveredBy.length > 0, `${at} is covered by a ceiling statement`);
    check(
      d.ttlSeconds <= Math.max(...coveredBy.map((s) => s.maxTtl)),
      `${at} lives no longer than a tier granting it allows (ttl ${d.ttlSeconds})`,
    );
    // The reference agrees with the engine's audit helper on every pair seen.
    for (const s of ceiling)
      check(
        isWithin([g], [s.grant]) === covers(s.grant, g),
        `isWithin agrees with the reference on ${at} in ${JSON.stringify(s.grant)}`,
      );
    // The request only narrows what it names.
    if (request.caches) check(request.caches.includes(g.cache), `${at} is in a cache asked for`);
    if (request.readOnly) check(g.role === 'readonly' || g.role === 'subscribeonly', `${at} is read-only`);
    if (g.type === 'topic' && request.topics)
      check(request.topics.includes(g.topic ?? '\0'), `${at} is a topic asked for`);
    if (g.type === 'cache' && (request.keys || request.keyPrefixes))
      check(
        (request.keys ?? []).includes(g.key ?? '\0') || (request.keyPrefixes ?? []).includes(g.keyPrefix ?? '\0'),
        `${at} is a key or prefix asked for`,
      );
  }
  check(
    isWithin(
      d.grants,
      ceiling.map((s) => s.grant),
    ),
    'isWithin(grants, ceiling)',
  );
  const { maxTtlSeconds, defaultTtlSeconds } = config.token;
  const tierCap = Math.max(...tiers.map((t) => Math.min(maxTtlSeconds, t.maxTtlSeconds ?? maxTtlSeconds)));
  check(d.ttlSeconds <= tierCap, `ttl ${d.ttlSeconds} ≤ the held tiers' cap ${tierCap}`);
  if (request.ttlSeconds !== undefined)
    check(d.ttlSeconds === request.ttlSeconds, `ttl ${d.ttlSeconds} is the ttl asked for`);
  else check(d.ttlSeconds <= defaultTtlSeconds, `ttl ${d.ttlSeconds} ≤ the default ${defaultTtlSeconds}`);
  const expectedId = p.id === undefined || p.id === '' ? undefined : p.id.length <= 64 ? p.id : 'hashed';
  check(
    expectedId === 'hashed' ? /^sha256:[\w-]{43}$/.test(d.tokenId ?? '') : d.tokenId === expectedId,
    `tokenId ${String(d.tokenId)}`,
  );
  return v;
}

/** Asserts every invariant of one decision; returns whether it was a grant. */
function checkDecision(config: ResolvedConfig, p: Principal, request: ScopeRequest, d: Decision): boolean {
  expect(violationsOf(config, p, request, d)).toEqual([]);
  return isGranted(d);
}

const decide = (config: ResolvedConfig, p: Principal, request?: ScopeRequest) =>
  new PolicyEngine(config).decide(p, request);

/** Valid configurations, validated (defaults filled in) as the engine receives them. */
const validConfigArb = (options?: { fallback?: boolean }) => configArb(options).map((c) => validateConfig(c));

/** A validated configuration and a principal that usually holds some of its groups. */
const caseArb = (options?: { fallback?: boolean }) =>
  configArb(options).chain((c) => fc.tuple(fc.constant(validateConfig(c)), principalForArb(c)));

// ---------------------------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------------------------

describe('Function: PolicyEngine.decide (properties)', () => {
  it('grants only what the held tiers’ templated permissions cover, within 20 statements and the tiers’ ttl', () => {
    // Prepare
    let grants = 0;

    // Act & Assess
    fc.assert(
      fc.property(caseArb(), scopeRequestArb, ([config, principal], request) => {
        if (checkDecision(config, principal, request, decide(config, principal, request))) grants += 1;
        if (checkDecision(config, principal, {}, decide(config, principal, {}))) grants += 1;
      }),
      { numRuns: 400 },
    );
    // Not vacuous: a good share of the 800 decisions were grants.
    expect(grants).toBeGreaterThan(200);
  });

  it('holds with a fallback tier too', () => {
    fc.assert(
      fc.property(caseArb({ fallback: true }), scopeRequestArb, ([config, principal], request) => {
        checkDecision(config, principal, request, decide(config, principal, request));
      }),
      { numRuns: 300 },
    );
  });

  it('grants the whole ceiling when nothing is asked for and every template resolves', () => {
    fc.assert(
      fc.property(caseArb(), ([config, principal]) => {
        const tiers = heldTiers(config, principal);
        const ceiling = ceilingOf(config, tiers, principal);
        fc.pre(tiers.length > 0 && ceiling !== undefined);
        const d = decide(config, principal);
        expect(d.outcome).toBe('granted');
        const grants = isGranted(d) ? d.grants : [];
        // Same set as the reference ceiling (up to duplicates): nothing lost, nothing added.
        expect(
          isWithin(
            grants,
            ceiling!.map((s) => s.grant),
          ),
        ).toBe(true);
        for (const s of ceiling!) expect(grants.some((g) => covers(g, s.grant))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('never lets a narrowing parameter yield a grant the un-narrowed request did not', () => {
    const narrowingArb = fc.oneof(
      fc.record({ caches: fc.uniqueArray(fc.constantFrom(...CACHES, 'zzz'), { minLength: 1, maxLength: 3 }) }),
      fc.record({ readOnly: fc.constant(true) }),
      fc.record({ ttlSeconds: fc.constantFrom(60, 900, 3600) }),
    );
    fc.assert(
      fc.property(caseArb(), scopeRequestArb, narrowingArb, ([config, principal], request, extra) => {
        const all = decide(config, principal);
        const base = decide(config, principal, request);
        // A cache list narrows only within the caches already asked for.
        const caches = 'caches' in extra && request.caches ? { caches: request.caches.slice(0, 1) } : {};
        const narrowed = decide(config, principal, { ...request, ...extra, ...caches });
        if (isGranted(base) && isGranted(all)) expect(isWithin(base.grants, all.grants)).toBe(true);
        if (isGranted(narrowed) && isGranted(base)) expect(isWithin(narrowed.grants, base.grants)).toBe(true);
        if (isGranted(narrowed) && isGranted(all)) expect(isWithin(narrowed.grants, all.grants)).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it('never lets topics or keys asked for on their own yield a grant outside the un-narrowed grant set', () => {
    const itemsArb = scopeRequestArb.map((r): ScopeRequest => {
      const pick: { -readonly [K in keyof ScopeRequest]: ScopeRequest[K] } = {};
      if (r.topics) pick.topics = r.topics;
      else if (r.keys) pick.keys = r.keys;
      else if (r.keyPrefixes) pick.keyPrefixes = r.keyPrefixes;
      if (r.caches) pick.caches = r.caches;
      return pick;
    });
    fc.assert(
      fc.property(caseArb(), itemsArb, ([config, principal], request) => {
        const { topics: _t, keys: _k, keyPrefixes: _p, ...without } = request;
        const base = decide(config, principal, without);
        const narrowed = decide(config, principal, request);
        if (isGranted(narrowed) && isGranted(base)) expect(isWithin(narrowed.grants, base.grants)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('denies a principal whose groups map to no tier (no fallback), whatever it asks for', () => {
    const strangerArb = fc.uniqueArray(fc.constantFrom(...FOREIGN_GROUPS, ...PROTOTYPE_NAMES, 'admins', 'members'), {
      maxLength: 6,
    });
    fc.assert(
      fc.property(
        validConfigArb(),
        principalArb,
        strangerArb,
        scopeRequestArb,
        (config, principal, groups, request) => {
          const named = new Set(config.tiers.flatMap((t) => t.groups));
          const stranger: Principal = { ...principal, groups: groups.filter((g) => !named.has(g)) };
          expect(decide(config, stranger, request)).toEqual({
            outcome: 'denied',
            status: 403,
            code: 'no-tier',
            detail: expect.any(String),
            tiers: [],
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('gives Object.prototype group names exactly the tiers that name them explicitly', () => {
    fc.assert(
      fc.property(
        validConfigArb(),
        principalArb,
        fc.uniqueArray(fc.constantFrom<string>(...PROTOTYPE_NAMES), { minLength: 1 }),
        (config, principal, groups) => {
          const p: Principal = { ...principal, groups };
          const d = decide(config, p);
          const naming = config.tiers.filter((t) => t.groups.some((g) => groups.includes(g))).map((t) => t.name);
          expect(d.tiers).toEqual(naming);
          if (naming.length === 0) expect(d).toMatchObject({ outcome: 'denied', code: 'no-tier' });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never puts another principal’s names into a grant unless the caller’s own ceiling covers them', () => {
    // The attacker asks, by name, for what the victim's tiers grant the victim (inbox-<victim>, user/<victim>/…).
    fc.assert(
      fc.property(caseArb(), principalArb, fc.boolean(), ([config, attacker], victim, readOnly) => {
        const victimCeiling = ceilingOf(config, heldTiers(config, victim), victim) ?? [];
        const names = victimCeiling
          .map((s) => selectionOf(s.grant))
          .flatMap((sel) =>
            sel.kind === 'exact' ? [sel.name] : sel.kind === 'prefix' ? [sel.prefix, `${sel.prefix}x`] : [],
          );
        fc.pre(names.length > 0);
        const request: ScopeRequest = {
          topics: names.slice(0, 10),
          keys: names.slice(0, 10),
          keyPrefixes: names.slice(0, 10),
          readOnly,
        };
        const d = decide(config, attacker, request);
        checkDecision(config, attacker, request, d);
      }),
      { numRuns: 300 },
    );
  });
});

describe('Function: isWithin (against the reference)', () => {
  const nameArb = fc
    .tuple(fc.constantFrom('', 'u', 'u/', 'chat-', 'chat-1'), fc.constantFrom('', 'a', '/', '-', 'a/b'))
    .map(([a, b]) => `${a}${b}`)
    .filter((s) => s !== '');
  const restrictionArb = fc.oneof(
    fc.constant({}),
    nameArb.map((name) => ({ exact: name })),
    nameArb.map((name) => ({ prefix: name })),
  );
  const grantArb: fc.Arbitrary<Grant> = fc.oneof(
    fc
      .tuple(
        fc.constantFrom('*', 'app', 'b'),
        fc.constantFrom('readwrite', 'readonly', 'writeonly' as const),
        restrictionArb,
      )
      .map(([cache, role, r]): Grant => ({
        type: 'cache',
        cache,
        role,
        ...('exact' in r ? { key: r.exact } : {}),
        ...('prefix' in r ? { keyPrefix: r.prefix } : {}),
      })),
    fc
      .tuple(
        fc.constantFrom('*', 'app', 'b'),
        fc.constantFrom('publishsubscribe', 'subscribeonly', 'publishonly' as const),
        restrictionArb,
      )
      .map(([cache, role, r]): Grant => ({
        type: 'topic',
        cache,
        role,
        ...('exact' in r ? { topic: r.exact } : {}),
        ...('prefix' in r ? { topicPrefix: r.prefix } : {}),
      })),
  );

  it('agrees with the reference "covers" on random statements', () => {
    fc.assert(
      fc.property(fc.array(grantArb, { maxLength: 4 }), fc.array(grantArb, { maxLength: 4 }), (granted, ceiling) => {
        expect(isWithin(granted, ceiling)).toBe(granted.every((g) => ceiling.some((c) => covers(c, g))));
      }),
      { numRuns: 500 },
    );
  });

  it('merges covered statements away without losing or adding anything (reference "covers")', () => {
    fc.assert(
      fc.property(fc.array(grantArb, { maxLength: 8 }), (grants) => {
        const merged = mergeCovered(grants);
        // Only statements of the input, each at most once as often as given.
        for (const g of merged) expect(grants).toContainEqual(g);
        // Nothing lost: every input statement is covered by one that stays.
        for (const g of grants) expect(merged.some((m) => covers(m, g))).toBe(true);
        // Nothing redundant: no statement that stays is covered by another one that stays.
        merged.forEach((g, i) => expect(merged.some((m, j) => j !== i && covers(m, g))).toBe(false));
      }),
      { numRuns: 500 },
    );
  });

  it('never grants a statement another granted statement covers', () => {
    fc.assert(
      fc.property(caseArb(), scopeRequestArb, ([config, principal], request) => {
        const d = decide(config, principal, request);
        if (!isGranted(d)) return;
        d.grants.forEach((g, i) => expect(d.grants.some((m, j) => j !== i && covers(m, g))).toBe(false));
      }),
      { numRuns: 300 },
    );
  });
});

describe('Function: tokenIdOf (properties)', () => {
  it('keeps ids up to 64 characters and hashes longer ones to at most 64, injectively in practice', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 300, unit: 'grapheme' }),
        fc.string({ minLength: 1, maxLength: 300 }),
        (a, b) => {
          const p = (id: string): Principal => ({ id, groups: [], claims: {}, source: 'authorizer' });
          const idA = tokenIdOf(p(a))!;
          expect(idA.length).toBeLessThanOrEqual(64);
          if (a.length <= 64) expect(idA).toBe(a);
          if (a !== b && a.length > 64 && b.length > 64) expect(tokenIdOf(p(b))).not.toBe(idA);
        },
      ),
      { numRuns: 300 },
    );
  });
});
