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
