/**
 * The wire contract of `GET /token`: the one definition of the `200` body and its permission statements, used by
 * this client and by the server (`lambda/` imports these types), and published in this package's `.d.ts`.
 *
 * Change it here and both sides follow: the server's body is typed with {@link TokenResponse}, and
 * `test/unit/contract.test.ts` fails when the server's configuration roles or its real answers drift from it.
 */

/** Cache roles, as Momento names them: read-write, read-only, write-only. */
export const CACHE_ROLES = ['readwrite', 'readonly', 'writeonly'] as const;
/** Topic roles: publish + subscribe, subscribe only, publish only. */
export const TOPIC_ROLES = ['publishsubscribe', 'subscribeonly', 'publishonly'] as const;

/** A Momento cache role. */
export type CacheRole = (typeof CACHE_ROLES)[number];
/** A Momento topic role. */
export type TopicRole = (typeof TOPIC_ROLES)[number];

/** Access to cache items. */
export interface CachePermission {
  readonly type: 'cache';
  /** Cache name, or `*` for all caches. */
  readonly cache: string;
  readonly role: CacheRole;
  /** Single key the statement is limited to. */
  readonly key?: string;
  /** Key prefix the statement is limited to. */
  readonly keyPrefix?: string;
}

/** Access to topics (pub/sub). */
export interface TopicPermission {
  readonly type: 'topic';
  /** Cache name, or `*` for all caches. */
  readonly cache: string;
  readonly role: TopicRole;
  /** Single topic the statement is limited to. */
  readonly topic?: string;
  /** Topic prefix the statement is limited to. */
  readonly topicPrefix?: string;
}

/**
 * One permission statement of a token, as minted (placeholders resolved). The TVM reports them for display;
 * the token itself is the authority.
 */
export type TokenPermission = CachePermission | TopicPermission;

/** The TVM's `200` answer to `GET /token`. */
export interface TokenResponse {
  /** The Momento disposable token: pass it to `CredentialProvider.fromDisposableToken`. Never log it. */
  readonly authToken: string;
  /** Epoch seconds after which Momento refuses the token (server clock). */
  readonly expiresAt: number;
  /** Seconds the token was valid for when the server answered; schedule refreshes with this, not the local clock. */
  readonly expiresIn: number;
  /** Momento endpoint the token is for. */
  readonly endpoint: string;
  /** Identity the server bound into the token, when it did. */
  readonly tokenId?: string;
  /** What was granted, one statement per permission. */
  readonly permissions: readonly TokenPermission[];
}

/** An RFC 9457 problem document as the TVM sends it (`application/problem+json`) for every non-2xx answer. */
export interface ProblemDetails {
  /** URI reference naming the problem type. */
  readonly type?: string;
  /** Short human-readable summary. */
  readonly title?: string;
  /** HTTP status the server answered with. */
  readonly status?: number;
  /** Human-readable explanation of this occurrence (safe to show). */
  readonly detail?: string;
  /** Stable machine-readable code, e.g. `no-tier` or `momento-throttled`. */
  readonly code?: string;
  /** Extension members (the TVM adds `requestId`). */
  readonly [member: string]: unknown;
}

const PERMISSION_KEYS: Readonly<Record<TokenPermission['type'], ReadonlySet<string>>> = {
  cache: new Set(['type', 'cache', 'role', 'key', 'keyPrefix']),
  topic: new Set(['type', 'cache', 'role', 'topic', 'topicPrefix']),
};

/**
 * True when `value` is a {@link TokenPermission}: a known `type`, a role of that type, string selectors, and no
 * member the contract does not name.
 */
export function isTokenPermission(value: unknown): value is TokenPermission {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const p = value as Record<string, unknown>;
  if (p.type !== 'cache' && p.type !== 'topic') return false;
  const roles: readonly string[] = p.type === 'cache' ? CACHE_ROLES : TOPIC_ROLES;
  if (typeof p.cache !== 'string' || typeof p.role !== 'string' || !roles.includes(p.role)) return false;
  const allowed = PERMISSION_KEYS[p.type];
  return Object.entries(p).every(
    ([name, member]) => allowed.has(name) && (name === 'type' || name === 'role' || typeof member === 'string'),
  );
}

/**
 * What is wrong with a `GET /token` body (empty when nothing), one line per member: a documented member missing
 * or mistyped, or a permission that {@link isTokenPermission} refuses. The strict check of a server's answer, for
 * tests and the smoke test (the client's own parser is lenient with older servers).
 *
 * @param options.requireTokenId `tokenId` must be there (a per-user token); otherwise it is optional
 * @example
 * const problems = tokenResponseProblems(JSON.parse(text), { requireTokenId: true });
 */
export function tokenResponseProblems(body: unknown, options: { readonly requireTokenId?: boolean } = {}): string[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return ['not a JSON object'];
  const b = body as Record<string, unknown>;
  const problems: string[] = [];
  const need = (name: keyof TokenResponse, ok: (v: unknown) => boolean, what: string) => {
    if (!(name in b)) problems.push(`${name} missing`);
    else if (!ok(b[name])) problems.push(`${name} not ${what}`);
  };
  const nonEmpty = (v: unknown) => typeof v === 'string' && v.length > 0;
  need('authToken', nonEmpty, 'a non-empty string');
  need('expiresAt', (v) => Number.isInteger(v), 'an integer');
  need('expiresIn', (v) => Number.isInteger(v) && (v as number) > 0, 'a positive integer');
  need('endpoint', nonEmpty, 'a non-empty string');
  need(
    'permissions',
    (v) => Array.isArray(v) && v.length > 0 && v.every(isTokenPermission),
    'a non-empty list of {type, cache, role}',
  );
  if (options.requireTokenId) need('tokenId', nonEmpty, 'a non-empty string');
  else if (b.tokenId !== undefined && typeof b.tokenId !== 'string') problems.push('tokenId not a string');
  return problems;
}
