/**
 * The TVM's configuration: types, defaults and validation, from one schema.
 *
 * `validateConfig()` runs at `cdk synth` (bin/), so a bad file fails before anything deploys; the vending function
 * checks at cold start that its config is one this schema validated (config/sealed.ts). It imports nothing but `zod/mini`
 * (≈20 KB bundled, ~5 ms to load; classic `zod` is ≈450 KB and ~40 ms — cold-start work).
 */
import * as z from 'zod/mini';
import { authSchema, secretRef } from './auth-schema';
import {
  CACHE_ROLES,
  DEFAULT_LOG_LEVEL,
  DEFAULT_STAGE_THROTTLING,
  LOG_LEVELS,
  MAX_STATEMENTS,
  MAX_TTL_SECONDS,
  PLACEHOLDER,
  TOPIC_ROLES,
} from './limits';
import { configError, didYouMean, schemaProblems, type ConfigPath, type Problem } from './parse';

export { ConfigError } from './parse';

// The limits live in a zod-free module (the vending function imports them without building this schema).
export {
  CACHE_ROLES,
  MAX_STATEMENTS,
  MAX_TOKEN_ID_LENGTH,
  MAX_TTL_SECONDS,
  PLACEHOLDER,
  TOPIC_ROLES,
  type CacheRole,
  type TopicRole,
} from './limits';

const ANY_BRACE = /[{}]/;

/** Momento's documented default budget of auth operations (token mints) per second per account. */
export const DEFAULT_MINTS_PER_SECOND = 5;

// Names Momento accepts for caches and topics: printable, no whitespace, bounded.
const NAME_RE = /^[A-Za-z0-9_.:\-/@+=]*$/; // empty is minLength's to report
const name = (what: string) =>
  z
    .string()
    .check(
      z.minLength(1, `${what} must not be empty`),
      z.maxLength(255, `${what} must be at most 255 characters`),
      z.regex(NAME_RE, `${what} may contain only letters, digits and _ . : - / @ + =`),
    );

/** A value that may hold `{sub}` / `{claims.x}` placeholders (keys, key prefixes, topics, topic prefixes). */
const templated = () =>
  z.string().check(
    z.minLength(1, 'must not be empty'),
    z.maxLength(255, 'must be at most 255 characters'),
    z.refine((v) => !ANY_BRACE.test(v.replace(PLACEHOLDER, '')), {
      message: 'has a malformed placeholder; use {sub} or {claims.<name>}',
    }),
    // Braces are the malformed-placeholder check's to report (once), not this one's.
    z.refine((v) => NAME_RE.test(v.replace(PLACEHOLDER, 'x').replace(/[{}]/g, 'x')), {
      message: 'may contain only letters, digits, _ . : - / @ + = and placeholders',
    }),
  );

const cacheRef = z.union([z.literal('*'), name('cache name')]);

const cachePermission = z.strictObject({
  /** Cache items. */
  type: z.literal('cache'),
  /** A cache name, or `*` for every cache. */
  cache: cacheRef,
  role: z.enum(CACHE_ROLES, { error: `must be one of ${CACHE_ROLES.join(', ')}` }),
  /** Restrict to one key. */
  key: z.optional(templated()),
  /** Restrict to keys starting with this prefix. */
  keyPrefix: z.optional(templated()),
});

const topicPermission = z.strictObject({
  /** Topics (pub/sub). */
  type: z.literal('topic'),
  cache: cacheRef,
  role: z.enum(TOPIC_ROLES, { error: `must be one of ${TOPIC_ROLES.join(', ')}` }),
  /** Restrict to one topic. */
  topic: z.optional(templated()),
  /** Restrict to topics whose name starts with this prefix (Momento's `topic_name_prefix`). */
  topicPrefix: z.optional(templated()),
});

const permission = z.discriminatedUnion('type', [cachePermission, topicPermission], {
  error: 'each permission needs type "cache" or "topic"',
});

const ttl = () =>
  z
    .number()
    .check(
      z.int('must be a whole number of seconds'),
      z.gte(60, 'must be at least 60 seconds'),
      z.lte(MAX_TTL_SECONDS, `must be at most ${MAX_TTL_SECONDS} seconds (Momento's 25 h limit)`),
    );
const TTL = ttl();
/** Whether `v` is a valid ttl (cross-field checks compare only valid values; the schema reports the rest). */
const isTtl = (v: unknown): v is number => z.safeParse(TTL, v).success;

const tier = z.strictObject({
  /** Tier name, shown in logs and responses. */
  name: z
    .string()
    .check(z.regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, 'must be 1–64 letters, digits, _ or -, starting with a letter')),
  /** Verified groups (Cognito groups or the authorizer's groups claim) that grant this tier. */
  groups: z._default(
    // 128: Cognito's limit for group names, and the authorizer's bound on one group.
    z.array(name('group name').check(z.maxLength(128, 'group name must be at most 128 characters'))),
    [],
  ),
  /** What a token of this tier may do (at most 20 statements). */
  permissions: z.array(permission).check(z.minLength(1, 'a tier needs at least one permission')),
  /** Cap on this tier's token lifetime. @default token.maxTtlSeconds */
  maxTtlSeconds: z.optional(ttl()),
  /**
   * One token per scope for every user of this tier, fleet-wide, without a per-user `tokenId`: a million readers
   * cost a few mints an hour instead of one each (docs/capacity.md). Only for permissions without `{sub}` or
   * `{claims.…}`; revocation still applies per user before the shared token is handed out. A user who also holds a
   * tier that is not shared gets a token of their own. @default false
   */
  shared: z.optional(z.boolean()),
});

const origin = z.string().check(
  z.refine((v) => v !== '*', {
    message: 'must be an origin; "*" would let any site fetch tokens for your users',
  }),
  z.refine(
    (v) => v === '*' || /^https:\/\/[a-z0-9.-]+(:\d{1,5})?$|^http:\/\/(localhost|127\.0\.0\.1)(:\d{1,5})?$/.test(v),
    {
      message: 'each origin must look like https://app.example.com (http only for localhost), with no path',
    },
  ),
);

/**
 * The policy: what the functions need at run time (who may get which token, for how long, from where). It is
 * validated at synth and again at cold start, and baked into the functions' code asset as JSON.
 */
const policyShape = {
  /** How callers prove who they are. */
  auth: authSchema,
  /** Permission tiers; a user gets the union of the tiers their groups grant. */
  tiers: z.array(tier).check(z.minLength(1, 'configure at least one tier')),
  token: z._default(
    z.strictObject({
      /** Lifetime when the caller asks for none. @default 3600 */
      defaultTtlSeconds: z._default(ttl(), 3600),
      /** Longest lifetime a caller may ask for. @default 3600 */
      maxTtlSeconds: z._default(ttl(), 3600),
    }),
    { defaultTtlSeconds: 3600, maxTtlSeconds: 3600 },
  ),
  cors: z.strictObject({
    /** Origins allowed to call the API from a browser. No wildcard. */
    allowOrigins: z.array(origin),
  }),
  momento: z.strictObject({
    /** Momento endpoint of your region (e.g. cell-4-us-west-2-1.prod.a.momentohq.com); tokens are minted at token.<endpoint>. */
    endpoint: z
      .string()
      .check(
        z.regex(
          /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/,
          'must be a host name such as cell-4-us-west-2-1.prod.a.momentohq.com',
        ),
      ),
    /** Where the vending key lives. @default { create: true } (an empty secret the stack creates) */
    secret: z._default(secretRef, { create: true }),
    /** Deadline for one mint call, in ms (well under API Gateway's 29 s). @default 3000 */
    deadlineMs: z._default(z.number().check(z.int(), z.gte(100), z.lte(10000)), 3000),
    /**
     * The account's token-mint budget (Momento's auth operations per second; 5 unless Momento raised it). The
     * functions never mint faster than this across the whole fleet (docs/capacity.md). Lower it when other apps
     * share the account. @default 5
     */
    mintsPerSecond: z._default(z.number().check(z.int(), z.gte(1), z.lte(1000)), DEFAULT_MINTS_PER_SECOND),
  }),
  tokenCache: z._default(
    z.strictObject({
      /** Reuse a still-fresh token for the same identity + scope (protects Momento's auth rate limit). @default true */
      enabled: z._default(z.boolean(), true),
      /** Most tokens kept per container (LRU). @default 10000 */
      maxEntries: z._default(z.number().check(z.int(), z.gte(1), z.lte(1_000_000)), 10_000),
      /** Serve a cached token only while at least this fraction of its ttl remains. @default 0.5 */
      minRemainingFraction: z._default(z.number().check(z.gte(0.1), z.lte(1)), 0.5),
      /**
       * Share cached tokens among all the function's containers through the stack's token table (encrypted under a
       * key derived from the Momento API key), not only within one container. @default true
       */
      fleet: z._default(z.boolean(), true),
    }),
    { enabled: true, maxEntries: 10_000, minRemainingFraction: 0.5, fleet: true },
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
   * @default { enabled: true, cacheSeconds: 5, failOpen: false, clockMarginSeconds: 60 }
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
       * Longest a credential issued before a revocation can still be presented, refreshes included (Cognito: the
       * app client's refresh-token validity, 30 days in the client this stack creates, since a refreshed ID token
       * keeps its `auth_time`; your IdP's equivalent; API keys never expire). When set, a record expires
       * (DynamoDB TTL) after revocation time + this + token.maxTtlSeconds. Unset: a record lasts until lifted.
       * @default undefined (records last until lifted)
       */
      maxCredentialLifetimeSeconds: z.optional(z.number().check(z.int(), z.gte(60), z.lte(366 * 86400))),
      /**
       * Seconds `npm run revoke` adds to the operator's clock for `notBefore`, so a clock that runs slow by up
       * to this still refuses every credential issued up to the revocation (a sign-in within this margin after
       * it is refused too: sign in again after it).
       * @default 60
       */
      clockMarginSeconds: z._default(z.number().check(z.int(), z.gte(0), z.lte(3600)), 60),
    }),
    { enabled: true, cacheSeconds: 5, failOpen: false, clockMarginSeconds: 60 },
  ),
};

/**
 * Deployment settings of the standalone app (bin/tvm.ts): infrastructure the stack maps onto
 * `TokenVendingMachine` props. They never reach the functions.
 */
const deploymentShape = {
  throttling: z._default(
    z.strictObject({
      /** Steady-state requests per second for the stage. @default 100 */
      rateLimit: z._default(z.number().check(z.gte(1), z.lte(10000)), DEFAULT_STAGE_THROTTLING.rateLimit),
      /** Burst for the stage. @default 200 */
      burstLimit: z._default(z.number().check(z.int(), z.gte(1), z.lte(5000)), DEFAULT_STAGE_THROTTLING.burstLimit),
    }),
    { ...DEFAULT_STAGE_THROTTLING },
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
   * Account and region to deploy to (the CDK app's stack env). Unset parts come from the CDK CLI: AWS_REGION /
   * the profile's region, and the credentials' account. @default - from the CLI's environment
   */
  env: z.optional(
    z.strictObject({
      account: z.optional(z.string().check(z.regex(/^\d{12}$/, 'must be a 12-digit AWS account id'))),
      region: z.optional(
        z.string().check(z.regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be a region code such as eu-central-2')),
      ),
    }),
  ),
  /**
   * Reserved concurrency for the vending function (caps cost); unset → unreserved. Reserving needs that much
   * unreserved concurrency left in the account (new accounts may have a quota of 10).
   */
  reservedConcurrency: z.optional(z.number().check(z.int(), z.gte(1), z.lte(1000))),
  /** Reserved concurrency for the authorizer function (authorizer mode only); unset → unreserved. */
  authorizerReservedConcurrency: z.optional(z.number().check(z.int(), z.gte(1), z.lte(1000))),
  /**
   * Optional custom domain for the API (a regional API Gateway domain, TLS 1.2): `TokenUrl` becomes
   * `https://<name>/token`. @default off (the execute-api URL)
   */
  domain: z.optional(
    z.strictObject({
      /** The host name, e.g. tvm.example.com. */
      name: z
        .string()
        .check(
          z.regex(
            /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/,
            'must be a lower-case host name such as tvm.example.com',
          ),
        ),
      /** ACM certificate for the name, in the stack's region (regional endpoint). */
      certificateArn: z
        .string()
        .check(
          z.regex(
            /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/,
            'must be an ACM certificate ARN',
          ),
        ),
      /** Route 53 public hosted zone to create an A alias record in. @default no record (point DNS yourself) */
      hostedZoneId: z.optional(z.string().check(z.regex(/^Z[A-Z0-9]{1,31}$/, 'must look like Z0123456789ABCDEFGHIJ'))),
    }),
  ),
  /** Email to subscribe to the alarm topic. */
  alarmEmail: z.optional(z.string().check(z.regex(/^[^@\s]+@[^@\s]+$/, 'must be an email address'))),
  /** Log level of the functions. @default 'INFO' */
  logLevel: z._default(z.enum(LOG_LEVELS), DEFAULT_LOG_LEVEL),
  /** AWS X-Ray tracing on the API and functions. @default false */
  tracing: z._default(z.boolean(), false),
};

/** The policy alone: what `TokenVendingMachine` takes as `config`. */
const policySchema = z.strictObject(policyShape);

/** The operator's configuration file of the standalone app, as written (optional fields may be left out). */
const tvmConfigSchema = z.strictObject({ ...policyShape, ...deploymentShape });

/** The configuration as an operator writes it. */
export type TvmConfig = z.input<typeof tvmConfigSchema>;
/** The configuration after validation, with every default filled in. */
export type ResolvedConfig = z.output<typeof tvmConfigSchema>;
export type Tier = ResolvedConfig['tiers'][number];
export type Permission = Tier['permissions'][number];
export type CachePermission = Extract<Permission, { type: 'cache' }>;
export type TopicPermission = Extract<Permission, { type: 'topic' }>;
export type { AuthConfig } from './auth-schema';
/** The policy as written: what `TokenVendingMachine` takes as `config` (optional fields may be left out). */
export type PolicyConfig = z.input<typeof policySchema>;
/** The policy after validation, with every default filled in: what the functions read at cold start. */
export type ResolvedPolicy = z.output<typeof policySchema>;

/** Top-level keys of the policy, in schema order. */
const POLICY_KEYS = Object.keys(policyShape) as (keyof typeof policyShape)[];

/**
 * The `TokenVendingMachine` prop of each deployment setting (`undefined`: `env` is the standalone app's stack
 * environment, not a prop). Every setting must be listed: one left out fails to compile here. The props are
 * validated, and their defaults filled in, by the very schema of their settings ({@link validateDeploymentProps}).
 */
const SETTING_PROPS = {
  throttling: 'throttling',
  waf: 'waf',
  env: undefined,
  reservedConcurrency: 'vendingReservedConcurrency',
  authorizerReservedConcurrency: 'authorizerReservedConcurrency',
  domain: 'domain',
  alarmEmail: 'alarmEmail',
  logLevel: 'logLevel',
  tracing: 'tracing',
} as const satisfies Record<keyof typeof deploymentShape, string | undefined>;

type SettingProps = typeof SETTING_PROPS;
/** The settings that are props, keyed by prop name, each with its setting's schema. */
type PropSettingsShape = {
  -readonly [
    K in keyof SettingProps as SettingProps[K] extends string ? SettingProps[K] : never
  ]: (typeof deploymentShape)[K];
};
const propSettingsShape = Object.fromEntries(
  Object.entries(SETTING_PROPS).flatMap(([setting, prop]) =>
    prop === undefined ? [] : [[prop, deploymentShape[setting as keyof typeof deploymentShape]]],
  ),
) as PropSettingsShape;
const propSettingsSchema = z.object(propSettingsShape);

/** The `TokenVendingMachine` props that are deployment settings, as given (optional fields may be left out). */
export type DeploymentSettingProps = z.input<typeof propSettingsSchema>;
/** Those props after validation, with the settings' defaults filled in. */
export type ResolvedDeploymentSettingProps = z.output<typeof propSettingsSchema>;
/** Names of the `TokenVendingMachine` props that are deployment settings. */
export const DEPLOYMENT_PROP_NAMES = Object.keys(propSettingsShape) as readonly (keyof PropSettingsShape)[];

/**
 * Deployment settings of the config file and the `TokenVendingMachine` prop each one maps to (the standalone
 * app's stack environment for `env`).
 */
export const DEPLOYMENT_SETTING_PROPS: Readonly<Record<keyof typeof deploymentShape, string>> = Object.fromEntries(
  Object.entries(SETTING_PROPS).map(([setting, prop]) => [setting, prop ?? "(none: it is the stack's env)"]),
) as Record<keyof typeof deploymentShape, string>;

/**
 * Validates the deployment-setting props of `TokenVendingMachine` with the schema of their settings and fills in
 * the settings' defaults (the other props are ignored here).
 *
 * @returns the resolved props, or the problems (one line each, `prop: what is wrong`)
 * @example
 * const { settings, problems } = validateDeploymentProps(props);
 */
export function validateDeploymentProps(
  props: object,
):
  | { readonly settings: ResolvedDeploymentSettingProps; readonly problems: readonly [] }
  | { readonly problems: readonly string[] } {
  const given = Object.fromEntries(
    DEPLOYMENT_PROP_NAMES.flatMap((k) => ((props as Raw)[k] === undefined ? [] : [[k, (props as Raw)[k]]])),
  );
  const parsed = z.safeParse(propSettingsSchema, given);
  if (parsed.success) return { settings: parsed.data, problems: [] };
  return { problems: configError(schemaProblems(propSettingsSchema, given), DEPLOYMENT_PROP_NAMES).problems };
}

/** The deployment settings of a validated configuration file as `TokenVendingMachine` props. */
export function deploymentPropsOf(config: ResolvedConfig): ResolvedDeploymentSettingProps {
  const props: Record<string, unknown> = {};
  for (const [setting, prop] of Object.entries(SETTING_PROPS))
    if (prop !== undefined) props[prop] = config[setting as keyof typeof deploymentShape];
  return props as ResolvedDeploymentSettingProps;
}

/** The schema's default for `token.defaultTtlSeconds` and `token.maxTtlSeconds`. */
const DEFAULT_TTL_SECONDS = 3600;

type Raw = Record<string, unknown>;
const record = (v: unknown): Raw | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Raw) : undefined;
const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Identifies a permission's target for the statement count (key order does not matter). */
const permissionKey = (p: Raw): string => JSON.stringify(p, Object.keys(p).sort());

/**
 * Checks the schema cannot express, between fields. They read the input as written, defensively, so they run
 * even when the schema found problems elsewhere: one run reports everything. A value the schema rejects is
 * left to the schema (no second problem about it).
 */
function crossCheck(input: unknown): Problem[] {
  const c = record(input);
  if (c === undefined) return [];
  const problems: Problem[] = [];
  const at = (path: ConfigPath, message: string) => problems.push({ path, message });
  const auth = record(c.auth) ?? {};
  const tiers = Array.isArray(c.tiers) ? c.tiers.map(record) : undefined;
  const token = c.token === undefined ? {} : (record(c.token) ?? {});
  const defaultTtl = token.defaultTtlSeconds ?? DEFAULT_TTL_SECONDS;
  const maxTtl = token.maxTtlSeconds ?? DEFAULT_TTL_SECONDS;
  const tokenMax = isTtl(maxTtl) ? maxTtl : undefined;
  const fallbackTier = text(auth.fallbackTier);
  const tierNames = new Set<string>();

  tiers?.forEach((t, i) => {
    if (t === undefined) return;
    const name = text(t.name);
    if (name !== undefined && tierNames.has(name)) at(['tiers', i, 'name'], `duplicate tier name "${name}"`);
    if (name !== undefined) tierNames.add(name);
    const permissions = Array.isArray(t.permissions) ? t.permissions : [];
    if (permissions.length > MAX_STATEMENTS)
      at(
        ['tiers', i, 'permissions'],
        `${permissions.length} statements; Momento allows at most ${MAX_STATEMENTS} in one token`,
      );
    permissions.forEach((raw, j) => {
      const p = record(raw);
      if (p === undefined || (p.type !== 'cache' && p.type !== 'topic')) return;
      const where = ['tiers', i, 'permissions', j];
      const [exactField, prefixField] = p.type === 'cache' ? ['key', 'keyPrefix'] : ['topic', 'topicPrefix'];
      const exact = text(p[exactField]);
      const prefix = text(p[prefixField]);
      if (exact !== undefined && prefix !== undefined) at(where, `set ${exactField} or ${prefixField}, not both`);
      // A prefix ending in a placeholder is ambiguous: "user/{sub}" for sub "ab" also covers user "abc".
      if (prefix?.endsWith('}') && prefix.replace(PLACEHOLDER, '') !== prefix)
        at(
          [...where, prefixField],
          'must not end with a placeholder (one user’s prefix would cover another’s); add a separator such as "/" or "-" after it',
        );
      // Same reason: "{claims.team}{sub}" is "xyz" for team x + sub yz and for team xy + sub z.
      for (const [field, value] of [
        [exactField, exact],
        [prefixField, prefix],
      ] as const)
        if (value?.includes('}{'))
          at(
            [...where, field],
            'has two placeholders side by side, which two users could fill alike; put a separator such as "/" or "-" between them',
          );
      if (auth.mode === 'authorizer') {
        // The authorizer forwards only these claims (and the id claim); a template on any other can never resolve.
        const forwarded = [
          ...(Array.isArray(auth.forwardClaims) ? auth.forwardClaims : []),
          auth.tokenIdClaim ?? 'sub',
        ];
        for (const m of JSON.stringify(p).matchAll(PLACEHOLDER))
          if (m[1]!.startsWith('claims.') && !forwarded.includes(m[1]!.slice(7)))
            at(where, `{${m[1]!}} is not in auth.forwardClaims, so it could never be filled`);
      }
    });
    if (t.shared === true) {
      const templated = permissions.findIndex((p) => JSON.stringify(p ?? null).match(PLACEHOLDER) !== null);
      if (templated >= 0)
        at(
          ['tiers', i, 'shared'],
          `a shared tier gives all its users one token, so its permissions cannot use {sub} or {claims.…} (permissions[${templated}] does); make the tier per-user or drop the placeholder`,
        );
    }
    if (isTtl(t.maxTtlSeconds) && tokenMax !== undefined && t.maxTtlSeconds > tokenMax)
      at(
        ['tiers', i, 'maxTtlSeconds'],
        `${t.maxTtlSeconds} is above token.maxTtlSeconds (${tokenMax}); a tier can only shorten the lifetime`,
      );
    const groups = t.groups ?? [];
    if ((auth.mode === 'cognito' || auth.mode === 'authorizer') && Array.isArray(groups) && groups.length === 0)
      if (name === undefined || name !== fallbackTier)
        at(['tiers', i, 'groups'], `tier "${name ?? i}" names no group, so nobody can get it`);
  });

  const union = new Set(
    (tiers ?? []).flatMap((t) =>
      (Array.isArray(t?.permissions) ? t.permissions : []).flatMap((p) => {
        const r = record(p);
        return r ? [permissionKey(r)] : [];
      }),
    ),
  );
  // Reported once: a tier over the limit alone already says so.
  if (union.size > MAX_STATEMENTS && problems.every((p) => !/ statements; /.test(p.message)))
    at(
      ['tiers'],
      `a user in every group would get ${union.size} distinct statements; Momento allows at most ${MAX_STATEMENTS} in one token`,
    );

  if (isTtl(defaultTtl) && tokenMax !== undefined && defaultTtl > tokenMax)
    at(['token', 'defaultTtlSeconds'], `${defaultTtl} is above token.maxTtlSeconds (${tokenMax})`);

  const mustBeTier = (field: string) => {
    const value = text(auth[field]);
    if (value === undefined || tiers === undefined || tierNames.has(value)) return;
    const near = didYouMean(value, tierNames);
    at(['auth', field], `no tier is named "${value}"${near === undefined ? '' : `; did you mean \`${near}\`?`}`);
  };
  if (auth.mode === 'open') {
    mustBeTier('anonymousTier');
    const anon = tiers?.find((t) => t !== undefined && t.name === auth.anonymousTier);
    if (anon !== undefined && JSON.stringify(anon.permissions ?? []).match(PLACEHOLDER))
      at(
        ['auth', 'anonymousTier'],
        `tier "${String(anon.name)}" uses {placeholders}, but open mode has no verified identity`,
      );
  } else {
    mustBeTier('fallbackTier');
  }
  if (auth.mode === 'cognito' && auth.selfSignUp === true && auth.existingUserPool !== undefined)
    at(['auth', 'selfSignUp'], 'applies only to a pool the stack creates, not to existingUserPool');
  if (c.authorizerReservedConcurrency !== undefined && auth.mode !== 'authorizer')
    at(
      ['authorizerReservedConcurrency'],
      `applies only to auth.mode "authorizer" (this config is "${String(auth.mode)}")`,
    );
  const origins = record(c.cors)?.allowOrigins;
  if (Array.isArray(origins) && origins.length === 0)
    at(['cors', 'allowOrigins'], 'list at least one origin that may call the API');
  return problems;
}

/** Top-level keys in the order the schema (and a config file) lists them; problems are reported in this order. */
const SECTIONS = Object.keys(tvmConfigSchema.def.shape);

/**
 * Validates a configuration and fills in defaults. Collects every problem, of single fields and between fields,
 * and throws one {@link ConfigError} listing each once.
 *
 * @example
 * const config = validateConfig(await import('./tvm.config').then((m) => m.default));
 */
export function validateConfig(input: unknown): ResolvedConfig {
  const parsed = z.safeParse(tvmConfigSchema, input);
  const problems = parsed.success
    ? crossCheck(parsed.data)
    : [...schemaProblems(tvmConfigSchema, input), ...crossCheck(input)];
  if (!parsed.success || problems.length > 0) throw configError(problems, SECTIONS);
  return parsed.data;
}

/**
 * Validates a policy (the `config` of `TokenVendingMachine`, and what the functions read at cold start) and fills
 * in defaults. Like {@link validateConfig} it collects every problem and throws one {@link ConfigError}; a
 * deployment setting (`waf`, `throttling`, …) is reported as the construct prop to use instead.
 *
 * @example
 * const policy = validatePolicy({ auth: { mode: 'cognito' }, tiers, cors, momento });
 */
export function validatePolicy(input: unknown): ResolvedPolicy {
  const c = record(input);
  const misplaced: Problem[] = [];
  if (c !== undefined)
    for (const [key, prop] of Object.entries(DEPLOYMENT_SETTING_PROPS))
      if (key in c)
        misplaced.push({
          path: [key],
          message: `is a deployment setting, not policy: give it as the TokenVendingMachine prop ${prop} (policyOf() keeps only the policy of a config file)`,
        });
  const rest =
    c === undefined ? input : Object.fromEntries(Object.entries(c).filter(([k]) => !(k in DEPLOYMENT_SETTING_PROPS)));
  const parsed = z.safeParse(policySchema, rest);
  const problems = [
    ...misplaced,
    ...(parsed.success ? crossCheck(parsed.data) : [...schemaProblems(policySchema, rest), ...crossCheck(rest)]),
  ];
  if (!parsed.success || problems.length > 0) throw configError(problems, POLICY_KEYS);
  return parsed.data;
}

/** The policy part of a validated configuration file (what `TokenVendingMachine` takes as `config`). */
export function policyOf(config: ResolvedConfig): ResolvedPolicy {
  const policy: Record<string, unknown> = {};
  for (const key of POLICY_KEYS) if (config[key] !== undefined) policy[key] = config[key];
  return policy as ResolvedPolicy;
}

/** Identity helper giving the operator's file type checking and editor completion. */
export const defineConfig = (config: TvmConfig): TvmConfig => config;

/** Identity helper giving a policy written in code (the construct's `config`) type checking and completion. */
export const definePolicy = (policy: PolicyConfig): PolicyConfig => policy;
