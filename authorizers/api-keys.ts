/**
 * Static API keys for server-to-server callers (`Authorization: ApiKey <id>.<secret>`).
 *
 * Only SHA-256 digests of the secrets are stored, in a Secrets Manager secret:
 * `{"keys":[{"id":"svc-a","sha256":"<hex>","groups":["admins"]}]}`. The secret part is 256 random bits, so a
 * fast hash is enough (no password-style KDF needed): nobody can brute-force it from the digest.
 *
 * Shared by the authorizer and `scripts/api-keys.ts` (which creates keys), so both agree on the format.
 * Pure apart from `node:crypto`; the secret is fetched by whatever `load` function the caller passes.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { SingleFlightCache } from '../common/single-flight-cache';
import {
  API_KEY_PRINCIPAL_PREFIX,
  AuthorizationDenied,
  AuthorizerUnavailable,
  MAX_GROUP_LENGTH,
  MAX_GROUPS,
  type VerifiedIdentity,
} from './identity';

/** Key ids: 1–64 lower-case letters, digits and inner hyphens (no dot: the dot separates id from secret). */
export const API_KEY_ID_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;
/** Random bytes in a key's secret part (256 bits). */
const API_KEY_SECRET_BYTES = 32;
// base64url of 32 bytes, unpadded.
const SECRET_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;

/** One stored key: its id, the hex SHA-256 of its secret part, and the groups it grants. */
export interface ApiKeyEntry {
  readonly id: string;
  readonly sha256: string;
  readonly groups: readonly string[];
}

/** The parsed secret: key id → digest and groups. A `Map`, so ids like `__proto__` are just keys. */
export type ApiKeyTable = ReadonlyMap<string, { readonly digest: Buffer; readonly groups: readonly string[] }>;

/** Hex SHA-256 of a key's secret part: what the secret stores. */
export const hashApiKeySecret = (secret: string): string => createHash('sha256').update(secret, 'utf8').digest('hex');

/**
 * Creates a new key. The key is shown to the operator once; only `entry` (its digest) is stored.
 *
 * @example
 * const { key, entry } = generateApiKey('svc-a', ['admins']);
 * // key:   "svc-a.3q2-…" → the caller sends `Authorization: ApiKey svc-a.3q2-…`
 * // entry: {"id":"svc-a","sha256":"…","groups":["admins"]} → append to the secret's "keys"
 */
export function generateApiKey(id: string, groups: readonly string[]): { key: string; entry: ApiKeyEntry } {
  const problems = [...checkId(id, 'id'), ...checkGroups(groups, 'groups')];
  if (problems.length > 0) throw new Error(problems.join('; '));
  const secret = randomBytes(API_KEY_SECRET_BYTES).toString('base64url');
  return { key: `${id}.${secret}`, entry: { id, sha256: hashApiKeySecret(secret), groups: [...new Set(groups)] } };
}

function checkId(id: unknown, where: string): string[] {
  return typeof id === 'string' && API_KEY_ID_PATTERN.test(id)
    ? []
    : [`${where} must be 1–64 lower-case letters, digits or inner hyphens`];
}

function checkGroups(groups: unknown, where: string): string[] {
  if (!Array.isArray(groups)) return [`${where} must be an array of group names`];
  if (groups.length > MAX_GROUPS) return [`${where} has more than ${MAX_GROUPS} groups`];
  return groups.some((g) => typeof g !== 'string' || g === '' || g.length > MAX_GROUP_LENGTH)
    ? [`${where} must hold non-empty strings of at most ${MAX_GROUP_LENGTH} characters`]
    : [];
}

/** The API-keys secret is not in the expected shape. Lists every problem; never echoes a value. */
export class ApiKeysDocumentError extends Error {
  override readonly name = 'ApiKeysDocumentError';
  constructor(readonly problems: readonly string[]) {
    super(`API-keys secret is invalid: ${problems.join('; ')}`);
  }
}

/**
 * Parses and validates the secret's JSON text into a lookup table.
 *
 * @throws ApiKeysDocumentError
 */
export function parseApiKeysDocument(text: string): ApiKeyTable {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new ApiKeysDocumentError(['not JSON']);
  }
  const keys =
    typeof doc === 'object' && doc !== null && !Array.isArray(doc) ? (doc as { keys?: unknown }).keys : undefined;
  if (!Array.isArray(keys)) throw new ApiKeysDocumentError(['expected {"keys":[{"id","sha256","groups"}, …]}']);
  const problems: string[] = [];
  const table = new Map<string, { digest: Buffer; groups: readonly string[] }>();
  keys.forEach((k: unknown, i) => {
    const where = `keys[${i}]`;
    if (typeof k !== 'object' || k === null || Array.isArray(k)) {
      problems.push(`${where} must be an object`);
      return;
    }
    const { id, sha256, groups } = k as Record<string, unknown>;
    const own = [
      ...checkId(id, `${where}.id`),
      ...(typeof sha256 === 'string' && SHA256_HEX.test(sha256)
        ? []
        : [`${where}.sha256 must be 64 lower-case hex digits`]),
      ...checkGroups(groups, `${where}.groups`),
    ];
    if (own.length === 0 && table.has(id as string)) own.push(`${where}.id duplicates an earlier key`);
    problems.push(...own);
    if (own.length === 0) {
      table.set(id as string, {
        digest: Buffer.from(sha256 as string, 'hex'),
        groups: [...new Set(groups as string[])],
      });
    }
  });
  if (problems.length > 0) throw new ApiKeysDocumentError(problems);
  return table;
}

/**
 * Splits `<id>.<secret>` and checks both parts' shape.
 *
 * @throws AuthorizationDenied (`malformed-api-key`)
 */
export function splitApiKey(credential: string): { id: string; secret: string } {
  const dot = credential.indexOf('.');
  const id = credential.slice(0, dot);
  const secret = credential.slice(dot + 1);
  if (dot < 1 || !API_KEY_ID_PATTERN.test(id) || !SECRET_PATTERN.test(secret))
    throw new AuthorizationDenied('malformed-api-key');
  return { id, secret };
}

// Compared against when the id is unknown, so unknown ids and wrong secrets take the same path.
const NO_SUCH_KEY = createHash('sha256').update('no such key').digest();

/**
 * Checks a presented key against the table. The digest of the presented secret is always computed and
 * compared in constant time (equal-length SHA-256 digests), whether or not the id exists.
 *
 * @throws AuthorizationDenied (`malformed-api-key`, `api-key-unknown-id`, `api-key-mismatch`)
 */
export function verifyApiKey(table: ApiKeyTable, credential: string): VerifiedIdentity {
  const { id, secret } = splitApiKey(credential);
  const presented = createHash('sha256').update(secret, 'utf8').digest();
  const entry = table.get(id);
  const same = timingSafeEqual(presented, entry?.digest ?? NO_SUCH_KEY);
  if (!entry) throw new AuthorizationDenied('api-key-unknown-id');
  if (!same) throw new AuthorizationDenied('api-key-mismatch');
  return { principalId: `${API_KEY_PRINCIPAL_PREFIX}${id}`, groups: entry.groups, claims: {} };
}

/** Where the authorizer gets the current key table. */
export interface ApiKeyStore {
  /**
   * The table; loaded on first use and refreshed after `ttlMs`. Rejects with `AuthorizationDenied`, or with its
   * subclass `AuthorizerUnavailable` when the secret could not be read for a passing reason.
   */
  table(): Promise<ApiKeyTable>;
}

/** The one key of the store's cache. */
const TABLE = 'table';

/** Options for {@link createApiKeyStore}. */
export interface ApiKeyStoreOptions {
  /**
   * How long a loaded table is used before it is read again, so a revoked key stops working within minutes
   * without a cold start (plus API Gateway's own authorizer result cache, `auth.resultCacheTtlSeconds`).
   * @default 300000 (5 minutes)
   */
  readonly ttlMs?: number;
  /** Clock, for tests. @default Date.now */
  readonly now?: () => number;
}

/**
 * A lazily loaded, cached key table. Concurrent first calls share one load; a failed load is not cached
 * (the next request retries) and fails closed: every API-key request is refused until the secret is readable —
 * with `AuthorizerUnavailable` (503) when the read failed for a passing reason, `AuthorizationDenied` otherwise.
 */
export function createApiKeyStore(load: () => Promise<string>, options: ApiKeyStoreOptions = {}): ApiKeyStore {
  const ttlMs = options.ttlMs ?? 300_000;
  const now = options.now ?? Date.now;
  // The functions' one single-flight cache (common/single-flight-cache.ts), with one entry: the table.
  const cache = new SingleFlightCache<ApiKeyTable>({ nowMs: now });
  const refresh = async (): Promise<ApiKeyTable> => {
    let text: string;
    try {
      text = await load();
    } catch (err) {
      // The reader's code (secret-missing, secret-unavailable, …) leads the operator's log line; never a value.
      const code = (err as { code?: unknown } | null)?.code;
      const message = err instanceof Error ? err.message : 'secret read failed';
      const detail = typeof code === 'string' ? `${code}: ${message}` : message;
      // A passing failure (SecretReadError.transient: throttling, 5xx, timeout) is not the caller's fault: 503, not
      // 401. A missing, empty or unreadable secret stays a plain refusal (the operator must act; the log says so).
      if ((err as { transient?: unknown } | null)?.transient === true)
        throw new AuthorizerUnavailable('api-keys-unavailable', detail);
      throw new AuthorizationDenied('api-keys-unavailable', detail);
    }
    try {
      return parseApiKeysDocument(text);
    } catch (err) {
      throw new AuthorizationDenied('api-keys-secret-invalid', err instanceof Error ? err.message : undefined);
    }
  };
  return {
    table() {
      const hit = cache.peek(TABLE);
      if (hit) return Promise.resolve(hit.value);
      // Used for ttlMs from when it was read.
      return cache.flight(TABLE, refresh, (table) => ({ value: table, untilMs: now() + ttlMs })).then((r) => r.loaded);
    },
  };
}
