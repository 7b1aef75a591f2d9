/**
 * The policy engine: verified identity → tiers → ceiling → (caller's narrowing) → grants.
 *
 * Pure: no AWS, no Momento, no `process.env`. Decisions are values (`granted` / `denied` with the reason);
 * by construction every granted statement is derived from a ceiling statement and is never wider than it.
 */
import { createHash } from 'node:crypto';
import { type CacheRole, type TopicRole, MAX_STATEMENTS, MAX_TOKEN_ID_LENGTH, PLACEHOLDER } from '../config/limits';
import type { Permission, ResolvedPolicy, Tier } from '../config/schema';
import { PROBLEMS, type FunctionProblemCode } from '../common/problems';
import type { Grant, Principal } from './types';

/** What the caller asked for (already syntax-checked by request.ts); every field only narrows. */
export interface ScopeRequest {
  /** Only these caches. */
  readonly caches?: readonly string[];
  /** Only these topics (exact names); cache-item grants are left out unless keys are asked for too. */
  readonly topics?: readonly string[];
  /** Only these keys. */
  readonly keys?: readonly string[];
  /** Only keys with these prefixes. */
  readonly keyPrefixes?: readonly string[];
  /** Read-only: cache roles become read-only, topic roles subscribe-only; write-only grants drop out. */
  readonly readOnly?: boolean;
  /** Shorter lifetime than the default. */
  readonly ttlSeconds?: number;
}

/** The codes a policy decision may deny with. */
export type DenyCode = Extract<
  FunctionProblemCode,
  'no-tier' | 'claim-unusable' | 'scope-not-granted' | 'scope-too-large' | 'ttl-exceeds-tier'
>;

export type Decision =
  | {
      readonly outcome: 'granted';
      readonly grants: readonly Grant[];
      readonly ttlSeconds: number;
      /** Names of the tiers the principal holds. */
      readonly tiers: readonly string[];
      /** Undefined for a shared decision: one token serves every holder of the scope. */
      readonly tokenId: string | undefined;
      /** Every tier the principal holds is `shared`: the token is per scope, not per user. */
      readonly shared: boolean;
    }
  | {
      readonly outcome: 'denied';
      /** 403 when the principal may not have it, 400 when the request cannot be served as asked. */
      readonly status: number;
      /** The problem code (common/problems.ts): its table entry gives the same status. */
      readonly code: DenyCode;
      readonly detail: string;
      readonly tiers: readonly string[];
    };

/** Claim values that may go into a scope: a conservative charset, bounded length. */
const SAFE_VALUE = /^[A-Za-z0-9_.:@|+=-]{1,128}$/;

/**
 * Precomputed lookups for one configuration; build once per container (module scope), not per request.
 */
export class PolicyEngine {
  private readonly tiersByGroup = new Map<string, Tier[]>();
  private readonly tiersByName = new Map<string, Tier>();

  constructor(private readonly config: ResolvedPolicy) {
    for (const tier of config.tiers) {
      this.tiersByName.set(tier.name, tier);
      for (const group of tier.groups) {
        const list = this.tiersByGroup.get(group) ?? [];
        list.push(tier);
        this.tiersByGroup.set(group, list);
      }
    }
  }

  /** The tiers a principal holds: the union over its groups, or the anonymous / fallback tier. */
  tiersOf(principal: Principal): Tier[] {
    const auth = this.config.auth;
    if (auth.mode === 'open') return [this.tiersByName.get(auth.anonymousTier)!];
    const found = new Set<Tier>();
    for (const group of principal.groups) for (const t of this.tiersByGroup.get(group) ?? []) found.add(t);
    if (found.size === 0 && auth.fallbackTier !== undefined) found.add(this.tiersByName.get(auth.fallbackTier)!);
    // Config order, so the same groups always give the same statement order (and the same cache key).
    return this.config.tiers.filter((t) => found.has(t));
  }

  /** Decides what a principal gets for a request. */
  decide(principal: Principal, request: ScopeRequest = {}): Decision {
    const tiers = this.tiersOf(principal);
    const tierNames = tiers.map((t) => t.name);
    const deny = (code: DenyCode, detail: string): Decision => ({
      outcome: 'denied',
      status: PROBLEMS[code].status,
      code,
      detail,
      tiers: tierNames,
    });
    if (tiers.length === 0) return deny('no-tier', 'your verified groups grant no tier');

    const ceiling: Grant[] = [];
    const tierCeilings: { grants: Grant[]; maxTtl: number }[] = [];
    for (const tier of tiers) {
      const grants: Grant[] = [];
      for (const [i, p] of tier.permissions.entries()) {
        const resolved = resolveTemplates(p, principal);
        if (typeof resolved === 'string')
          return deny('claim-unusable', `grant ${tier.name}.permissions[${i}] needs ${resolved}`);
        grants.push(resolved);
      }
      ceiling.push(...grants);
      tierCeilings.push({
        grants,
        maxTtl: Math.min(this.config.token.maxTtlSeconds, tier.maxTtlSeconds ?? this.config.token.maxTtlSeconds),
      });
    }

    const narrowed = narrow(dedupe(ceiling), request);
    if (typeof narrowed === 'string') return deny('scope-not-granted', narrowed);
    if (narrowed.length === 0) return deny('scope-not-granted', 'nothing you asked for is granted to your tiers');
    if (narrowed.length > MAX_STATEMENTS)
      return deny(
        'scope-too-large',
        `the request expands to ${narrowed.length} statements; Momento allows ${MAX_STATEMENTS}`,
      );

    // A statement may live as long as the most generous tier that grants it, the token only as long as its
    // shortest-lived statement: holding a long-lived tier must not stretch a short-lived tier's statements.
    const ttlCeiling = Math.min(
      ...narrowed.map((g) => Math.max(...tierCeilings.filter((t) => isWithin([g], t.grants)).map((t) => t.maxTtl))),
    );
    let ttlSeconds = Math.min(this.config.token.defaultTtlSeconds, ttlCeiling);
    if (request.ttlSeconds !== undefined) {
      if (request.ttlSeconds > ttlCeiling)
        return deny('ttl-exceeds-tier', `ttl ${request.ttlSeconds} exceeds your maximum of ${ttlCeiling} seconds`);
      ttlSeconds = request.ttlSeconds;
    }

    // Shared only when every tier held is: a per-user tier's statements must not reach other users' tokens.
    const shared = tiers.every((t) => t.shared === true);
    return {
      outcome: 'granted',
      grants: narrowed,
      ttlSeconds,
      tiers: tierNames,
      tokenId: shared ? undefined : tokenIdOf(principal),
      shared,
    };
  }
}

/** `tokenId` from verified identity only; ids longer than Momento's limit are hashed (stable, unique). */
export function tokenIdOf(principal: Principal): string | undefined {
  const id = principal.id;
  if (id === undefined || id === '') return undefined;
  if (id.length <= MAX_TOKEN_ID_LENGTH) return id;
  return `sha256:${createHash('sha256').update(id).digest('base64url')}`;
}

/**
 * Fills `{sub}` / `{claims.x}` from verified identity. Returns a reason string when a value is missing or
 * unsafe: a value must match SAFE_VALUE and must not contain the character that follows the placeholder in
 * the template, so `user/{sub}/` can never reach into `user/{sub}/…` of another user whose id has a `/`.
 */
function resolveTemplates(p: Permission, principal: Principal): Grant | string {
  let problem: string | undefined;
  const fill = (template: string | undefined): string | undefined => {
    if (template === undefined || !template.includes('{')) return template;
    return template.replace(PLACEHOLDER, (match, name: string, offset: number) => {
      const value =
        name === 'sub'
          ? principal.id
          : Object.hasOwn(principal.claims, name.slice(7))
            ? principal.claims[name.slice(7)]
            : undefined;
      const next = template.charAt(offset + match.length);
      if (value === undefined || value === '') problem ??= `${match} but it is missing`;
      else if (!SAFE_VALUE.test(value) || (next !== '' && value.includes(next)))
        problem ??= `${match} but its value is not safe to put in a scope`;
      return value ?? '';
    });
  };
  const g: Grant =
    p.type === 'cache'
      ? strip({ type: 'cache', cache: p.cache, role: p.role, key: fill(p.key), keyPrefix: fill(p.keyPrefix) })
      : strip({ type: 'topic', cache: p.cache, role: p.role, topic: fill(p.topic), topicPrefix: fill(p.topicPrefix) });
  return problem ?? g;
}

function strip<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

const grantKey = (g: Grant): string =>
  JSON.stringify(
    g.type === 'cache'
      ? [g.type, g.cache, g.role, g.key, g.keyPrefix]
      : [g.type, g.cache, g.role, g.topic, g.topicPrefix],
  );

function dedupe(grants: Grant[]): Grant[] {
  const seen = new Set<string>();
  return grants.filter((g) => {
    const k = grantKey(g);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

const READ_ONLY_CACHE: Record<CacheRole, CacheRole | undefined> = {
  readwrite: 'readonly',
  readonly: 'readonly',
  writeonly: undefined,
};
const READ_ONLY_TOPIC: Record<TopicRole, TopicRole | undefined> = {
  publishsubscribe: 'subscribeonly',
  subscribeonly: 'subscribeonly',
  publishonly: undefined,
};

/** Does ceiling grant `g` cover topic `t`? */
export function coversTopic(g: Extract<Grant, { type: 'topic' }>, t: string): boolean {
  if (g.topic !== undefined) return g.topic === t;
  if (g.topicPrefix !== undefined) return t.startsWith(g.topicPrefix);
  return true;
}

/** Does ceiling grant `g` cover key `k` (or, with `prefix`, every key starting with `k`)? */
export function coversKey(g: Extract<Grant, { type: 'cache' }>, k: string, prefix: boolean): boolean {
  if (g.key !== undefined) return !prefix && g.key === k;
  if (g.keyPrefix !== undefined) return k.startsWith(g.keyPrefix);
  return true;
}

/** Intersects the ceiling with the request. Returns the refused item's description when something is not granted. */
function narrow(ceiling: Grant[], req: ScopeRequest): Grant[] | string {
  const wantTopics = (req.topics?.length ?? 0) > 0;
  const wantItems = (req.keys?.length ?? 0) + (req.keyPrefixes?.length ?? 0) > 0;
  const out: Grant[] = [];
  for (const g of ceiling) {
    const caches = req.caches ? req.caches.filter((c) => g.cache === '*' || g.cache === c) : [g.cache];
    if (g.type === 'topic') {
      if (wantItems && !wantTopics) continue;
      const role = req.readOnly ? READ_ONLY_TOPIC[g.role] : g.role;
      if (role === undefined) continue;
      for (const cache of caches) {
        if (!wantTopics) out.push({ ...g, cache, role });
        else
          for (const topic of req.topics!) if (coversTopic(g, topic)) out.push({ type: 'topic', cache, role, topic });
      }
    } else {
      if (wantTopics && !wantItems) continue;
      const role = req.readOnly ? READ_ONLY_CACHE[g.role] : g.role;
      if (role === undefined) continue;
      for (const cache of caches) {
        if (!wantItems) {
          out.push({ ...g, cache, role });
          continue;
        }
        for (const key of req.keys ?? []) if (coversKey(g, key, false)) out.push({ type: 'cache', cache, role, key });
        for (const keyPrefix of req.keyPrefixes ?? [])
          if (coversKey(g, keyPrefix, true)) out.push({ type: 'cache', cache, role, keyPrefix });
      }
    }
  }
  // Everything the caller named must be granted; silently dropping it would hide a denial.
  for (const c of req.caches ?? [])
    if (!out.some((g) => g.cache === c)) return `cache "${c}" is not granted to your tiers`;
  for (const t of req.topics ?? [])
    if (!out.some((g) => g.type === 'topic' && g.topic === t))
      return `topic "${t}" is not granted to your tiers${req.readOnly ? ' (read-only)' : ''}`;
  for (const k of req.keys ?? [])
    if (!out.some((g) => g.type === 'cache' && g.key === k)) return `key "${k}" is not granted to your tiers`;
  for (const p of req.keyPrefixes ?? [])
    if (!out.some((g) => g.type === 'cache' && g.keyPrefix === p))
      return `key prefix "${p}" is not granted to your tiers`;
  return mergeCovered(dedupe(out));
}

/**
 * Drops every statement another statement of the list already covers (same kind, same or wider cache, key or
 * topic scope, same or stronger role), e.g. `readonly user/u1/x/` next to `readwrite user/u1/x/`. Such pairs come
 * from overlapping tiers; each would count against Momento's statement limit while granting nothing more.
 * Order is kept; of two equal statements the first stays. The token's rights and ttl ceiling are unchanged: a
 * dropped statement is within the one kept, and every tier that grants the kept one also grants it.
 */
export function mergeCovered(grants: readonly Grant[]): Grant[] {
  return grants.filter(
    (g, i) => !grants.some((h, j) => j !== i && isWithin([g], [h]) && !(j > i && isWithin([h], [g]))),
  );
}

/** For tests and audits: is every granted statement covered by some ceiling statement of the same kind? */
export function isWithin(granted: readonly Grant[], ceiling: readonly Grant[]): boolean {
  const roleWithin = (r: string, c: string) =>
    r === c || (c === 'readwrite' && r !== 'readwrite') || (c === 'publishsubscribe' && r !== 'publishsubscribe');
  return granted.every((g) =>
    ceiling.some((c) => {
      if (c.type !== g.type || !(c.cache === '*' || c.cache === g.cache) || !roleWithin(g.role, c.role)) return false;
      if (g.type === 'topic' && c.type === 'topic') {
        if (g.topic !== undefined) return coversTopic(c, g.topic);
        if (g.topicPrefix !== undefined)
          return c.topic === undefined && (c.topicPrefix === undefined || g.topicPrefix.startsWith(c.topicPrefix));
        return c.topic === undefined && c.topicPrefix === undefined;
      }
      if (g.type === 'cache' && c.type === 'cache') {
        if (g.key !== undefined) return coversKey(c, g.key, false);
        if (g.keyPrefix !== undefined) return coversKey(c, g.keyPrefix, true);
        return c.key === undefined && c.keyPrefix === undefined;
      }
      return false;
    }),
  );
}
