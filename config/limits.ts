/**
 * Limits and names of the configuration that the vending function needs at run time, without `zod/mini`:
 * config/schema.ts builds its schema from these and re-exports them, and lambda/ imports them from here, so the
 * function's bundle does not construct the schema just to read a constant (≈ 7 ms of cold start, docs/decisions.md,
 * "Cold path").
 */

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

/**
 * The stage throttle when none is configured: high enough that a sign-in storm reaches the functions (cache hits
 * are cheap; the mint governor, not the stage, protects Momento's budget), low enough to bound abuse and cost.
 * docs/capacity.md explains the numbers.
 */
export const DEFAULT_STAGE_THROTTLING = { rateLimit: 100, burstLimit: 200 } as const;

/**
 * Longest a request waits for a mint slot from the fleet-wide governor before it is answered 429
 * `mint-budget-exhausted`. The vending function's timeout (lib/token-vending-machine.ts) includes it.
 */
export const MINT_WAIT_MS = 4000;
/** Longest one call to the governor's DynamoDB item may take. */
export const GOVERNOR_CALL_TIMEOUT_MS = 500;
/** Most calls one admission makes to the governor's item (lambda/mint-governor.ts). */
export const GOVERNOR_CALLS = 4;
