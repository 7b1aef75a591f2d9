/**
 * Local disposable tokens: what the local token service hands out as `api_key` and what the local data plane
 * accepts in `authorization`. A token is `lm1.<claims>.<signature>` — base64url JSON claims (grants, expiry, token
 * id) and an HMAC-SHA256 over them with a secret that lives only in this process. Real Momento has never seen that
 * secret and parses its own keys differently, so local tokens are useless against it; a real Momento key or token
 * has no valid local signature, so the data plane refuses it (UNAUTHENTICATED).
 *
 * TEST / LOCAL DEVELOPMENT ONLY.
 */
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { permission_messages as PermissionTypes } from '@gomomento/generated-types/dist/permissionmessages';

/** Cache roles as Momento names them (`permissionmessages.proto` CacheRole 1, 2, 3). */
export type LocalCacheRole = 'readwrite' | 'readonly' | 'writeonly';
/** Topic roles (`permissionmessages.proto` TopicRole 1, 2, 3). */
export type LocalTopicRole = 'publishsubscribe' | 'subscribeonly' | 'publishonly';

/**
 * One permission statement of a local token. Keys are bytes on Momento's wire, so they are kept as base64.
 * No `key` / `keyPrefix` (or `topic` / `topicPrefix`) means all items (all topics).
 */
export type LocalGrant =
  | {
      readonly type: 'cache';
      readonly role: LocalCacheRole;
      /** Cache name, or `*` for all caches. */
      readonly cache: string;
      /** base64 of the one key the statement covers. */
      readonly keyB64?: string;
      /** base64 of the key prefix the statement covers. */
      readonly keyPrefixB64?: string;
    }
  | {
      readonly type: 'topic';
      readonly role: LocalTopicRole;
      readonly cache: string;
      readonly topic?: string;
      readonly topicPrefix?: string;
    }
  /** `super_user` permissions: everything. */
  | { readonly type: 'superuser' };

/** What a verified local token says. */
export interface LocalTokenClaims {
  readonly grants: readonly LocalGrant[];
  /** Epoch seconds; the data plane refuses the token from this second on. */
  readonly expiresAt: number;
  /** The `token_id` it was minted with ('' when none): subscribers see it as the publisher. */
  readonly tokenId: string;
  /** A unique id of this token (never shown to other callers). */
  readonly jti: string;
}

/** Why a token was refused. */
export type TokenRefusal = 'missing' | 'malformed' | 'bad-signature' | 'expired';

/** Issues and verifies local tokens with one per-process secret. */
export interface LocalTokenIssuer {
  /** Signs `claims` (a fresh `jti` unless given) into an `api_key`. */
  issue(claims: Omit<LocalTokenClaims, 'jti'> & { readonly jti?: string }): string;
  /** The claims of `apiKey`, or why it is refused, at `nowMs`. */
  verify(
    apiKey: string | undefined,
    nowMs?: number,
  ): { readonly ok: true; readonly claims: LocalTokenClaims } | { readonly ok: false; readonly reason: TokenRefusal };
}

const PREFIX = 'lm1';

/** Options of {@link createTokenIssuer}. */
export interface TokenIssuerOptions {
  /** The HMAC secret (tests pin it to forge nothing by accident). @default 32 random bytes */
  readonly secret?: Buffer;
}

/**
 * Creates an issuer with its own secret: tokens of one issuer are refused by every other.
 *
 * @example
 * const issuer = createTokenIssuer();
 * const apiKey = issuer.issue({ grants: [{ type: 'cache', role: 'readonly', cache: 'app' }], expiresAt, tokenId: 'u1' });
 * issuer.verify(apiKey).ok // true
 */
export function createTokenIssuer(options: TokenIssuerOptions = {}): LocalTokenIssuer {
  const secret = options.secret ?? randomBytes(32);
  const sign = (payload: string): Buffer => createHmac('sha256', secret).update(`${PREFIX}.${payload}`).digest();
  return {
    issue(claims) {
      const body: LocalTokenClaims = { ...claims, jti: claims.jti ?? randomUUID() };
      const payload = Buffer.from(JSON.stringify(body)).toString('base64url');
      return `${PREFIX}.${payload}.${sign(payload).toString('base64url')}`;
    },
    verify(apiKey, nowMs = Date.now()) {
      if (!apiKey) return { ok: false, reason: 'missing' };
      const parts = apiKey.split('.');
      if (parts.length !== 3 || parts[0] !== PREFIX) return { ok: false, reason: 'malformed' };
      const expected = sign(parts[1]!);
      const given = Buffer.from(parts[2]!, 'base64url');
      if (given.length !== expected.length || !timingSafeEqual(given, expected))
        return { ok: false, reason: 'bad-signature' };
      let claims: LocalTokenClaims;
      try {
        claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as LocalTokenClaims;
      } catch {
        return { ok: false, reason: 'malformed' };
      }
      if (!(nowMs < claims.expiresAt * 1000)) return { ok: false, reason: 'expired' };
      return { ok: true, claims };
    },
  };
}

const CACHE_ROLES: Readonly<Record<number, LocalCacheRole>> = { 1: 'readwrite', 2: 'readonly', 3: 'writeonly' };
const TOPIC_ROLES: Readonly<Record<number, LocalTopicRole>> = {
  1: 'publishsubscribe',
  2: 'subscribeonly',
  3: 'publishonly',
};

/**
 * The grants of Momento's wire `Permissions` (what `GenerateDisposableToken` received). A statement with role
 * "permit none", no cache selector, or an empty item / topic selector grants nothing; function permissions are
 * not served locally and grant nothing either.
 */
export function grantsFromPermissions(p: PermissionTypes.Permissions | undefined): LocalGrant[] {
  if (p === undefined) return [];
  if (p.kind === 'super_user') return [{ type: 'superuser' }];
  if (p.kind !== 'explicit') return [];
  const grants: LocalGrant[] = [];
  for (const t of p.explicit.permissions) {
    if (t.kind === 'cache_permissions') {
      const c = t.cache_permissions;
      const role = CACHE_ROLES[c.role];
      const cache = c.cache === 'all_caches' ? '*' : c.cache === 'cache_selector' ? c.cache_selector.cache_name : '';
      if (role === undefined || cache === '') continue;
      if (c.cache_item === 'item_selector') {
        const i = c.item_selector;
        if (i.kind === 'key')
          grants.push({ type: 'cache', role, cache, keyB64: Buffer.from(i.key).toString('base64') });
        else if (i.kind === 'key_prefix')
          grants.push({ type: 'cache', role, cache, keyPrefixB64: Buffer.from(i.key_prefix).toString('base64') });
      } else if (c.cache_item === 'all_items') grants.push({ type: 'cache', role, cache });
    } else if (t.kind === 'topic_permissions') {
      const c = t.topic_permissions;
      const role = TOPIC_ROLES[c.role];
      const cache = c.cache === 'all_caches' ? '*' : c.cache === 'cache_selector' ? c.cache_selector.cache_name : '';
      if (role === undefined || cache === '') continue;
      if (c.topic === 'topic_selector') {
        const s = c.topic_selector;
        if (s.kind === 'topic_name') grants.push({ type: 'topic', role, cache, topic: s.topic_name });
        else if (s.kind === 'topic_name_prefix')
          grants.push({ type: 'topic', role, cache, topicPrefix: s.topic_name_prefix });
      } else if (c.topic === 'all_topics') grants.push({ type: 'topic', role, cache });
    }
  }
  return grants;
}
