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

// ── The vending function's timeout budget ───────────────────────────────────────────────────────────────────
// What the function's code waits on, and the function timeout the construct computes from the same numbers
// (vendingTimeoutSeconds), so the function answers its own 503 instead of being cut off.

/** Longest one Secrets Manager read may take, in both functions (then 503 `secret-unavailable`). */
export const SECRET_READ_TIMEOUT_MS = 2000;
/**
 * Longest one lookup call before a mint may take: the revocation `GetItem` and the token table's calls
 * (DynamoDB), one `AdminListGroupsForUser` page (Cognito, liveGroups).
 */
export const LOOKUP_CALL_TIMEOUT_MS = 1000;
/** Groups per `AdminListGroupsForUser` page (Cognito's maximum). */
export const LIVE_GROUPS_PAGE_SIZE = 60;
/**
 * What one liveGroups lookup (`ListUsers` and every `AdminListGroupsForUser` page, lambda/live-groups.ts) may take
 * in all; each call also gives up after {@link LOOKUP_CALL_TIMEOUT_MS}.
 */
export const LIVE_GROUPS_BUDGET_MS = 2000;
/** Slack for everything that is not a wait (parsing, policy, signing, the response): 1 s. */
const VENDING_SLACK_MS = 1000;

/**
 * What the lookups before a mint may take at most: the revocation `GetItem` (batched with the token table's read,
 * one call) and the liveGroups lookup run at the same time.
 */
export const LOOKUPS_BUDGET_MS = Math.max(LOOKUP_CALL_TIMEOUT_MS, LIVE_GROUPS_BUDGET_MS);

/**
 * Timeout of the vending function in seconds: long enough for the worst ordinary request — the revocation /
 * live-group lookups, the wait for a mint slot and the governor's calls, two mint attempts (one retry on
 * UNAVAILABLE) and two reads of the key from Secrets Manager, plus a second — so the function answers its own 503
 * instead of being cut off; at least 10 s, and under API Gateway's 29 s.
 *
 * @param deadlineMs the policy's `momento.deadlineMs` (one mint attempt)
 * @example
 * timeout: Duration.seconds(vendingTimeoutSeconds(policy.momento.deadlineMs))
 */
export function vendingTimeoutSeconds(deadlineMs: number): number {
  const governorMs = MINT_WAIT_MS + GOVERNOR_CALLS * GOVERNOR_CALL_TIMEOUT_MS;
  const worstMs = LOOKUPS_BUDGET_MS + governorMs + 2 * deadlineMs + 2 * SECRET_READ_TIMEOUT_MS + VENDING_SLACK_MS;
  return Math.min(28, Math.max(10, Math.ceil(worstMs / 1000)));
}

/** Log levels of the functions (`logLevel`, `POWERTOOLS_LOG_LEVEL`), lowest first. */
export const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR'] as const;
/** A log level of the functions. */
export type LogLevel = (typeof LOG_LEVELS)[number];
/** The functions' log level when none is configured. */
export const DEFAULT_LOG_LEVEL: LogLevel = 'INFO';

// ── The authorizer's timeout budget ─────────────────────────────────────────────────────────────────────────

/** Longest one JWKS download may take (aws-jwt-verify's fetcher retries once on failure). */
export const JWKS_RESPONSE_TIMEOUT_MS = 1500;
/**
 * Timeout of the authorizer function in seconds: a JWKS download and its one retry (an unreachable IdP), or a
 * Secrets Manager read of the API-key table, plus slack, end inside it — the caller gets a clean 401 or 503, not a
 * Lambda timeout (a 500). test/unit/timeout-budget.test.ts holds it to those waits.
 */
export const AUTHORIZER_TIMEOUT_SECONDS = 5;
