/**
 * Revocation: "refuse credentials of this principal issued before time T". A Momento token cannot be revoked,
 * so what the TVM controls is who gets the NEXT token; the vending function asks {@link RevocationCheck}
 * before it mints and before it serves a cached token.
 *
 * Pure logic (the record's meaning, the issue time of a credential, the per-container cache, fail closed or
 * open) against a small {@link RevocationStore} port; lambda/revocation-dynamodb.ts is the DynamoDB adapter.
 */
import { TvmError } from './errors';
import { LookupCache } from './lookup-cache';
import type { Principal } from './types';

/** One revocation record, keyed by principal as the audit log writes it: `<source>:<id>`. */
export interface RevocationRecord {
  /** `<source>:<id>`, e.g. `cognito:0f2c…` or `authorizer:user-42`. */
  readonly principal: string;
  /** Epoch seconds: credentials issued at or before this are refused. */
  readonly notBefore: number;
  /** Epoch seconds: DynamoDB's TTL deletes the record after this; absent, the record lasts until lifted. */
  readonly expiresAt?: number;
}

/** Where revocation records live (DynamoDB in the stack, dynalite locally, a Map in unit tests). */
export interface RevocationStore {
  /** The record for `principal`, or undefined. Throws when the store cannot answer. */
  get(principal: string): Promise<RevocationRecord | undefined>;
}

/** 503: the revocation table could not be read, and the TVM fails closed (`revocation.failOpen` is false). */
export class RevocationCheckError extends TvmError {
  override readonly name = 'RevocationCheckError';
  constructor(options?: { cause?: unknown }) {
    super('revocation-check-failed', 'the revocation list could not be checked; retry shortly', {
      cause: options?.cause,
    });
  }
}

/** The key of a principal's record, exactly as the audit log names it (`source` + `:` + `principalId`). */
export const principalKey = (p: Pick<Principal, 'source' | 'id'>): string | undefined =>
  p.id === undefined ? undefined : `${p.source}:${p.id}`;

// "Thu Jan 01 00:00:00 UTC 2026" (API Gateway's REST Cognito authorizer) and ISO 8601; nothing looser, since
// Date.parse accepts almost anything ("-5" is a date in 2001).
const APIGW_DATE = /^[A-Z][a-z]{2} [A-Z][a-z]{2} \d{2} \d{2}:\d{2}:\d{2} (UTC|GMT) \d{4}$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** Parses a claim time: epoch seconds as a number string, or API Gateway's "Thu Jan 01 00:00:00 UTC 2026". */
export function parseClaimTime(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const s = value.trim();
  const n = /^\d{1,12}(\.\d+)?$/.test(s)
    ? Number(s)
    : APIGW_DATE.test(s) || ISO_DATE.test(s)
      ? Date.parse(s) / 1000
      : NaN;
  return Number.isFinite(n) && n > 0 ? Math.floor(n) : undefined;
}

/**
 * When the caller's credential was issued, in epoch seconds, or undefined when nothing says.
 *
 * `auth_time` (when the user authenticated) wins over `iat`: a Cognito ID token refreshed after a revocation has
 * a new `iat` but its original `auth_time`, and a refresh must not undo a revocation. Only a new sign-in does.
 * Authorizer mode: the authorizer forwards that choice as `issuedAt` (authorizers/verify.ts `issueTimeOf`),
 * whatever `auth.forwardClaims` lists. Cognito mode: API Gateway passes `iat` as a date string and `auth_time` as
 * a number string in the claims.
 */
export function credentialIssuedAt(principal: Pick<Principal, 'claims' | 'issuedAt'>): number | undefined {
  return principal.issuedAt ?? parseClaimTime(principal.claims.auth_time) ?? parseClaimTime(principal.claims.iat);
}

/**
 * Whether a record refuses a credential issued at `issuedAt`: issued at or before `notBefore`. Claim times are
 * whole seconds, so a sign-in in the same second as the revocation may have happened before it: refused too.
 * A credential with no usable issue time is refused while any record exists (API keys, a JWT with neither
 * `auth_time` nor `iat`): refusing is the safe reading.
 */
export const refuses = (record: RevocationRecord | undefined, issuedAt: number | undefined): boolean =>
  record !== undefined && (issuedAt === undefined || issuedAt <= record.notBefore);

/** What the check found for one request. */
export type RevocationVerdict =
  | { readonly outcome: 'allowed'; readonly record?: RevocationRecord }
  | { readonly outcome: 'revoked'; readonly record: RevocationRecord }
  /** The store failed and `failOpen` is on: allowed, recorded as such. */
  | { readonly outcome: 'failed-open'; readonly error: unknown };

/** Options of {@link RevocationCheck}. */
export interface RevocationCheckOptions {
  readonly store: RevocationStore;
  /** Seconds one principal's lookup is reused in this container; 0 reads the store on every request. */
  readonly cacheSeconds: number;
  /** Allow the request when the store fails (instead of a 503). */
  readonly failOpen: boolean;
  /** Most principals remembered (oldest dropped first). @default 10000 */
  readonly maxEntries?: number;
  /** Clock in epoch milliseconds. @default Date.now */
  readonly nowMs?: () => number;
}

/**
 * Checks a principal against the store, with a short per-container cache (hits and misses alike) and
 * single-flight lookups. Failures are never cached.
 */
export class RevocationCheck {
  private readonly cache: LookupCache<RevocationRecord | undefined>;

  constructor(private readonly options: RevocationCheckOptions) {
    this.cache = new LookupCache({
      ttlSeconds: options.cacheSeconds,
      maxEntries: options.maxEntries,
      nowMs: options.nowMs,
    });
  }

  /**
   * The verdict for `principal` (anonymous callers are never revoked).
   *
   * @throws RevocationCheckError when the store fails and `failOpen` is off
   */
  async check(principal: Principal): Promise<RevocationVerdict> {
    const key = principalKey(principal);
    if (key === undefined) return { outcome: 'allowed' };
    let record: RevocationRecord | undefined;
    try {
      record = await this.cache.get(key, (k) => this.options.store.get(k));
    } catch (error) {
      if (this.options.failOpen) return { outcome: 'failed-open', error };
      throw new RevocationCheckError({ cause: error });
    }
    return refuses(record, credentialIssuedAt(principal))
      ? { outcome: 'revoked', record: record! }
      : { outcome: 'allowed', record };
  }

  /** Forgets every cached lookup (tests, and the dev server after a local revoke). */
  clear(): void {
    this.cache.clear();
  }
}

/** Attribute names of the table (the stack, the CLI and the adapter agree on these). */
export const REVOCATION_ATTRIBUTES = {
  /** Partition key (S): `<source>:<id>`. */
  principal: 'principal',
  /** N, epoch seconds: credentials issued at or before this are refused. */
  notBefore: 'notBefore',
  /** N, epoch seconds: the table's TTL attribute. */
  expiresAt: 'expiresAt',
} as const;

/**
 * When a record written at `revokedAt` may be deleted: after every credential issued before it can no longer be
 * presented (`maxCredentialLifetimeSeconds`, refreshes included) and every token minted from one has expired
 * (`maxTokenTtlSeconds`). Undefined (no TTL: the record lasts until lifted) when the credential lifetime is not
 * configured, since a Cognito refresh token keeps an old `auth_time` alive for its whole validity.
 */
export const revocationExpiry = (
  revokedAt: number,
  lifetimes: { maxCredentialLifetimeSeconds?: number; maxTokenTtlSeconds: number },
): number | undefined =>
  lifetimes.maxCredentialLifetimeSeconds === undefined
    ? undefined
    : Math.ceil(revokedAt) + lifetimes.maxCredentialLifetimeSeconds + lifetimes.maxTokenTtlSeconds;
