/**
 * The TVM's configuration: types, defaults and validation, from one schema.
 *
 * The same `validateConfig()` runs at `cdk synth` (bin/) and at Lambda cold start (lambda/), so a bad file
 * fails before anything deploys and a tampered bundle fails closed. It imports nothing but `zod/mini`
 * (≈20 KB bundled, ~5 ms to load; classic `zod` is ≈450 KB and ~40 ms — cold-start work).
 */
import * as z from 'zod/mini';
import { authSchema, secretRef } from './auth-schema';
import { ConfigError, parseConfig } from './parse';

export { ConfigError } from './parse';

/** Momento's platform maximum for a disposable token's lifetime (25 h, raised from 1 h in Feb 2026). */
export const MAX_TTL_SECONDS = 25 * 60 * 60;
/** Momento caps a disposable token at 20 permission statements. */
export const MAX_STATEMENTS = 20;
/** `tokenId` is bound into the token by Momento and limited to 64 characters. */
export const MAX_TOKEN_ID_LENGTH = 64;

/** Cache roles, as Momento's wire names them: read-write, read-only, write-only. */
export const CACHE_ROLES = ['readwrite', 'readonly', 'writeonly'] as const;
/** Topic roles: publish+subscribe, subscribe only, publish only. */
export const TOPIC_ROLES = ['publishsubscribe', 'subscribeonly', 'publishonly'] as const;
export type CacheRole = (typeof CACHE_ROLES)[number];
export type TopicRole = (typeof TOPIC_ROLES)[number];

/** A placeholder in a permission value: `{sub}` or `{claims.<claim name>}`. */
export const PLACEHOLDER = /\{(sub|claims\.[A-Za-z0-9_:.-]{1,128})\}/g;
const ANY_BRACE = /[{}]/;

// Names Momento accepts for caches and topics: printable, no whitespace, bounded.
const NAME_RE = /^[A-Za-z0-9_.:\-/@+=]+$/;
const name = (what: string) =>
  z
    .string()
    .check(
      z.minLength(1, `${what} must not be empty`),
      z.maxLength(255, `${what} must be at most 255 characters`),
      z.regex(NAME_RE, `${what} may contain only letters, digits and _ . : - / @ + =`),
    );

/** A value that may hold `{sub}` / `{claims.x}` placeholders (keys, key prefixes, topics, topic prefixes). */
const templated = (what: string) =>
  z.string().check(
    z.minLength(1, `${what} must not be empty`),
    z.maxLength(255, `${what} must be at most 255 characters`),
    z.refine((v) => !ANY_BRACE.test(v.replace(PLACEHOLDER, '')), {
      message: `${what} has a malformed placeholder; use {sub} or {claims.<name>}`,
    }),
    z.refine((v) => NAME_RE.test(v.replace(PLACEHOLDER, 'x')), {
      message: `${what} may contain only letters, digits, _ . : - / @ + = and placeholders`,
    }),
  );

const cacheRef = z.union([z.literal('*'), name('cache name')]);

const cachePermission = z.strictObject({
  /** Cache items. */
  type: z.literal('cache'),
  /** A cache name, or `*` for every cache. */
  cache: cacheRef,
  role: z.enum(CACHE_ROLES, { error: `role must be one of ${CACHE_ROLES.join(', ')}` }),
  /** Restrict to one key. */
  key: z.optional(templated('key')),
  /** Restrict to keys starting with this prefix. */
  keyPrefix: z.optional(templated('keyPrefix')),
});

const topicPermission = z.strictObject({
  /** Topics (pub/sub). */
  type: z.literal('topic'),
  cache: cacheRef,
  role: z.enum(TOPIC_ROLES, { error: `role must be one of ${TOPIC_ROLES.join(', ')}` }),
  /** Restrict to one topic. */
  topic: z.optional(templated('topic')),
  /** Restrict to topics whose name starts with this prefix (Momento's `topic_name_prefix`). */
  topicPrefix: z.optional(templated('topicPrefix')),
});

const permission = z.discriminatedUnion('type', [cachePermission, topicPermission], {
  error: 'each permission needs type "cache" or "topic"',
});

const ttl = (what: string) =>
  z
    .number()
    .check(
      z.int(`${what} must be a whole number of seconds`),
      z.gte(60, `${what} must be at least 60 seconds`),
      z.lte(MAX_TTL_SECONDS, `${what} must be at most ${MAX_TTL_SECONDS} seconds (Momento's 25 h limit)`),
    );

const tier = z.strictObject({
  /** Tier name, shown in logs and responses. */
  name: z.string().check(z.regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, 'tier name must be 1–64 letters, digits, _ or -')),
  /** Verified groups (Cognito groups or the authorizer's groups claim) that grant this tier. */
  groups: z._default(
    // 128: Cognito's limit for group names, and the authorizer's bound on one group.
    z.array(name('group name').check(z.maxLength(128, 'group name must be at most 128 characters'))),
    [],
  ),
  /** What a token of this tier may do (at most 20 statements). */
  permissions: z.array(permission).check(z.minLength(1, 'a tier needs at least one permission')),
  /** Cap on this tier's token lifetime. @default token.maxTtlSeconds */
  maxTtlSeconds: z.optional(ttl('maxTtlSeconds')),
});

const origin = z.string().check(
  z.refine((v) => v !== '*', {
    message: 'cors.allowOrigins must list origins; "*" would let any site fetch tokens for your users',
  }),
  z.refine(
    (v) => v === '*' || /^https:\/\/[a-z0-9.-]+(:\d{1,5})?$|^http:\/\/(localhost|127\.0\.0\.1)(:\d{1,5})?$/.test(v),
    {
      message: 'each origin must look like https://app.example.com (http only for localhost), with no path',
    },
  ),
);

/** The operator's configuration, as written (optional fields may be left out). */
export const tvmConfigSchema = z.strictObject({
  /** How callers prove who they are. */
  auth: authSchema,
  /** Permission tiers; a user gets the union of the tiers their groups grant. */
  tiers: z.array(tier).check(z.minLength(1, 'configure at least one tier')),
  token: z._default(
    z.strictObject({
      /** Lifetime when the caller asks for none. @default 3600 */
      defaultTtlSeconds: z._default(ttl('token.defaultTtlSeconds'), 3600),
      /** Longest lifetime a caller may ask for. @default 3600 */
      maxTtlSeconds: z._default(ttl('token.maxTtlSeconds'), 3600),
    }),
    { defaultTtlSeconds: 3600, maxTtlSeconds: 3600 },
  ),
  cors: z.strictObject({
    /** Origins allowed to call the API from a browser. No wildcard. */
    allowOrigins: z.array(origin),
  }),
  throttling: z._default(
    z.strictObject({
      /** Steady-state requests per second for the stage. @default 10 */
      rateLimit: z._default(z.number().check(z.gte(1), z.lte(10000)), 10),
      /** Burst for the stage. @default 20 */
      burstLimit: z._default(z.number().check(z.int(), z.gte(1), z.lte(5000)), 20),
    }),
    { rateLimit: 10, burstLimit: 20 },
  ),
  momento: z.strictObject({
    /** Momento endpoint of your region (e.g. cell-4-us-west-2-1.prod.a.momentohq.com); tokens are minted at token.<endpoint>. */
    endpoint: z
      .string()
      .check(
        z.regex(
          /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/,
          'momento.endpoint must be a host name such as cell-4-us-west-2-1.prod.a.momentohq.com',
        ),
      ),
    /** Where the vending key lives. */
    secret: secretRef,
    /** Deadline for one mint call, in ms (well under API Gateway's 29 s). @default 3000 */
    deadlineMs: z._default(z.number().check(z.int(), z.gte(100), z.lte(10000)), 3000),
  }),
  tokenCache: z._default(
    z.strictObject({
      /** Reuse a still-fresh token for the same identity + scope (protects Momento's auth rate limit). @default true */
      enabled: z._default(z.boolean(), true),
      /** Most tokens kept per container (LRU). @default 10000 */
      maxEntries: z._default(z.number().check(z.int(), z.gte(1), z.lte(1_000_000)), 10_000),
      /** Serve a cached token only while at least this fraction of its ttl remains. @default 0.5 */
      minRemainingFraction: z._default(z.number().check(z.gte(0.1), z.lte(1)), 0.5),
    }),
    { enabled: true, maxEntries: 10_000, minRemainingFraction: 0.5 },
  ),
  /** Optional AWS WAF web ACL on the stage. @default off */
  waf: z.optional(
    z.strictObject({
      /** Requests per 5 minutes per IP before WAF blocks. @default 600 */
      ratePer5MinPerIp: z._default(z.number().check(z.int(), z.gte(10), z.lte(2_000_000_000)), 600),
      /** Add the AWS managed common rule set. @default true */
      managedCommonRules: z._default(z.boolean(), true),
    }),
  ),
  /**
   * Per-caller limit on new mints (cache hits are free), per function instance: a verified identity, or the
   * client IP for anonymous callers of open mode. Over it → 429 + Retry-After. @default off
   */
  callerLimit: z.optional(
    z.strictObject({
      /** Sustained mints per minute per caller. */
      mintsPerMinute: z.number().check(z.int(), z.gte(1), z.lte(6000)),
      /** Mints a caller may make at once. @default mintsPerMinute */
      burst: z.optional(z.number().check(z.int(), z.gte(1), z.lte(6000))),
    }),
  ),
  /**
   * Revocation records (cognito and authorizer modes): a DynamoDB table the vending function reads before it
   * mints or serves a cached token; `npm run revoke` writes it. A revocation takes effect within `cacheSeconds`
   * (plus the lifetime of Momento tokens already handed out). Open mode has no identity to revoke: ignored there.
   * @default { enabled: true, cacheSeconds: 5, failOpen: false, maxCredentialLifetimeSeconds: 86400 }
   */
  revocation: z._default(
    z.strictObject({
      /** Create the table and check it on every request that reaches the policy. @default true */
      enabled: z._default(z.boolean(), true),
      /** Seconds a container reuses one principal's lookup (0: every request reads the table). @default 5 */
      cacheSeconds: z._default(z.number().check(z.int(), z.gte(0), z.lte(60)), 5),
      /**
       * When the table cannot be read: false answers 503 `revocation-check-failed`; true vends anyway (a
       * revoked principal may get tokens while DynamoDB is failing). @default false
       */
      failOpen: z._default(z.boolean(), false),
      /**
       * Longest lifetime of a caller's credential (Cognito ID token: at most 1 day; your IdP's JWTs; API keys
       * never expire). A record expires (DynamoDB TTL) after revocation time + this + token.maxTtlSeconds.
       * @default 86400
       */
      maxCredentialLifetimeSeconds: z._default(z.number().check(z.int(), z.gte(60), z.lte(366 * 86400)), 86400),
    }),
    { enabled: true, cacheSeconds: 5, failOpen: false, maxCredentialLifetimeSeconds: 86400 },
  ),
  /** Reserved concurrency for the vending function (caps cost); unset → unreserved. */
  reservedConcurrency: z.optional(z.number().check(z.int(), z.gte(1), z.lte(1000))),
  /** Email to subscribe to the alarm topic. */
  alarmEmail: z.optional(z.string().check(z.regex(/^[^@\s]+@[^@\s]+$/, 'alarmEmail must be an email address'))),
  /** Log level of the functions. @default 'INFO' */
  logLevel: z._default(z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']), 'INFO'),
  /** AWS X-Ray tracing on the API and functions. @default false */
  tracing: z._default(z.boolean(), false),
});

/** The configuration as an operator writes it. */
export type TvmConfig = z.input<typeof tvmConfigSchema>;
/** The configuration after validation, with every default filled in. */
export type ResolvedConfig = z.output<typeof tvmConfigSchema>;
export type Tier = ResolvedConfig['tiers'][number];
export type Permission = Tier['permissions'][number];
export type CachePermission = Extract<Permission, { type: 'cache' }>;
export type TopicPermission = Extract<Permission, { type: 'topic' }>;
export type { AuthConfig } from './auth-schema';

/** Identifies a permission's target for duplicate detection and the statement count. */
export const permissionKey = (p: Permission): string => JSON.stringify(p, Object.keys(p).sort());

/** Semantic checks the schema cannot express; returns problems (empty when fine). */
function crossCheck(c: ResolvedConfig): string[] {
  const problems: string[] = [];
  const tierNames = new Set<string>();
  c.tiers.forEach((t, i) => {
    if (tierNames.has(t.name)) problems.push(`tiers[${i}].name: duplicate tier name "${t.name}"`);
    tierNames.add(t.name);
    if (t.permissions.length > MAX_STATEMENTS)
      problems.push(
        `tiers[${i}].permissions: ${t.permissions.length} statements; Momento allows at most ${MAX_STATEMENTS}`,
      );
    t.permissions.forEach((p, j) => {
      const where = `tiers[${i}].permissions[${j}]`;
      if (p.type === 'cache' && p.key !== undefined && p.keyPrefix !== undefined)
        problems.push(`${where}: set key or keyPrefix, not both`);
      if (p.type === 'topic' && p.topic !== undefined && p.topicPrefix !== undefined)
        problems.push(`${where}: set topic or topicPrefix, not both`);
      // A prefix ending in a placeholder is ambiguous: "user/{sub}" for sub "ab" also covers user "abc".
      const prefix = p.type === 'cache' ? p.keyPrefix : p.topicPrefix;
      if (prefix !== undefined && /\}$/.test(prefix) && prefix.replace(PLACEHOLDER, '') !== prefix)
        problems.push(
          `${where}: a prefix must not end with a placeholder (one user's prefix would cover another's); add a separator such as "/" or "-" after it`,
        );
      // Same reason: "{claims.team}{sub}" is "xyz" for team x + sub yz and for team xy + sub z.
      const exact = p.type === 'cache' ? p.key : p.topic;
      if ([exact, prefix].some((v) => v?.includes('}{')))
        problems.push(
          `${where}: two placeholders side by side are ambiguous (two users could get the same value); put a separator such as "/" or "-" between them`,
        );
    });
    if (c.auth.mode !== 'open' && t.groups.length === 0 && c.auth.fallbackTier !== t.name)
      problems.push(`tiers[${i}].groups: tier "${t.name}" names no group, so nobody can get it`);
  });
  const union = new Set(c.tiers.flatMap((t) => t.permissions.map(permissionKey)));
  if (union.size > MAX_STATEMENTS)
    problems.push(
      `tiers: a user in every group would get ${union.size} distinct statements; Momento allows at most ${MAX_STATEMENTS} in one token`,
    );
  if (c.auth.mode === 'authorizer') {
    // The authorizer forwards only these claims (and the id claim); a template on any other can never resolve.
    const forwarded = new Set([...c.auth.forwardClaims, c.auth.tokenIdClaim]);
    c.tiers.forEach((t, i) => {
      for (const m of JSON.stringify(t.permissions).matchAll(PLACEHOLDER)) {
        const claim = m[1]!.startsWith('claims.') ? m[1]!.slice(7) : undefined;
        if (claim !== undefined && !forwarded.has(claim))
          problems.push(
            `tiers[${i}].permissions: {claims.${claim}} is not in auth.forwardClaims, so it could never be filled`,
          );
      }
    });
  }
  const { defaultTtlSeconds, maxTtlSeconds } = c.token;
  if (defaultTtlSeconds > maxTtlSeconds)
    problems.push(
      `token.defaultTtlSeconds (${defaultTtlSeconds}) must not exceed token.maxTtlSeconds (${maxTtlSeconds})`,
    );
  const mustBeTier = (field: string, value: string | undefined) => {
    if (value !== undefined && !tierNames.has(value)) problems.push(`${field}: no tier is named "${value}"`);
  };
  if (c.auth.mode === 'open') {
    const anonymousTier = c.auth.anonymousTier;
    mustBeTier('auth.anonymousTier', anonymousTier);
    const anon = c.tiers.find((t) => t.name === anonymousTier);
    if (anon && JSON.stringify(anon.permissions).match(PLACEHOLDER))
      problems.push(
        `auth.anonymousTier: tier "${anon.name}" uses {placeholders}, but open mode has no verified identity`,
      );
  } else {
    mustBeTier('auth.fallbackTier', c.auth.fallbackTier);
  }
  if (c.auth.mode === 'cognito' && c.auth.existingUserPool && c.auth.selfSignUp)
    problems.push('auth.selfSignUp: applies only to a pool the stack creates, not existingUserPool');
  if (c.cors.allowOrigins.length === 0)
    problems.push('cors.allowOrigins: list at least one origin that may call the API');
  return problems;
}

/**
 * Validates a configuration and fills in defaults. Collects every problem and throws one {@link ConfigError}.
 *
 * @example
 * const config = validateConfig(await import('./tvm.config').then((m) => m.default));
 */
export function validateConfig(input: unknown): ResolvedConfig {
  const data = parseConfig(tvmConfigSchema, input);
  const problems = crossCheck(data);
  if (problems.length > 0) throw new ConfigError(problems);
  return data;
}

/** Identity helper giving the operator's file type checking and editor completion. */
export const defineConfig = (config: TvmConfig): TvmConfig => config;
