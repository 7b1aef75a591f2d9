/**
 * Who is calling, from what API Gateway verified — never from headers or the query string.
 *
 * Cognito mode: `requestContext.authorizer.claims` (every value a string; `cognito:groups` arrives as "a,b" or,
 * depending on the integration, "[a b]"). Authorizer mode: exactly the context our Lambda authorizer returns
 * (authorizers/identity.ts `allowPolicy`: `principalId`, `groups` / `claims` as JSON strings, and `issuedAt`). Open mode:
 * anonymous. Groups go through the one parser both functions use (common/groups.ts), with the same limits.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { AuthConfig } from '../config/schema';
import { MAX_CLAIM_LENGTH, parseGroupList, type GroupsProblem } from '../common/groups';
import type { Principal } from './types';

/** The anonymous caller of open mode. */
export const ANONYMOUS: Principal = Object.freeze({
  id: undefined,
  groups: [],
  claims: Object.freeze({}),
  source: 'anonymous',
});

/** Why no principal could be taken from a request (logged as the audit `reason`; never a claim value). */
export type IdentityRefusal = 'no-identity' | 'wrong-client' | GroupsProblem;

/** The outcome of {@link identify}. */
export type Identification = { readonly principal: Principal } | { readonly refused: IdentityRefusal };

/**
 * Unwraps Cognito's groups claim as API Gateway may pass it — "a,b", "[a b]", a JSON array string, or an array —
 * into what the one group parser reads. The brackets are API Gateway's encoding, not part of a group name.
 */
function cognitoGroups(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const s = value.trim();
  if (!(s.startsWith('[') && s.endsWith(']'))) return s;
  try {
    const parsed: unknown = JSON.parse(s);
    if (Array.isArray(parsed)) return parsed;
  } catch {
    // "[a b]": not JSON, brackets around a space-separated list
  }
  return s.slice(1, -1);
}

/**
 * The authorizer context's `groups`: exactly the form our authorizer produces, a JSON array of strings in a
 * string. Anything else (a bare string, a JSON string, an array of non-strings, no value) → no groups.
 */
function authorizerGroups(value: unknown): readonly string[] {
  if (typeof value !== 'string') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return [];
  }
  return Array.isArray(parsed) && parsed.every((g) => typeof g === 'string') ? parsed : [];
}

/** Claims as a plain null-prototype record of bounded strings (so `__proto__` is just a name). */
function toClaims(source: Record<string, unknown> | undefined | null): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  if (!source) return out;
  for (const [k, v] of Object.entries(source)) {
    const s = typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
    if (s !== undefined && s.length <= MAX_CLAIM_LENGTH) out[k] = s;
  }
  return out;
}

/** The authorizer context's `issuedAt`: whole epoch seconds as our authorizer writes them, else undefined. */
function authorizerIssuedAt(value: unknown): number | undefined {
  const n =
    typeof value === 'number' ? value : typeof value === 'string' && /^\d{1,12}$/.test(value) ? Number(value) : NaN;
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

function parseJsonObject(value: unknown): Record<string, unknown> | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    const v: unknown = JSON.parse(value);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Checks beyond what API Gateway verified. */
export interface IdentityOptions {
  /**
   * Cognito mode: the app clients whose ID tokens may vend (`aud`). The stack always passes them
   * (TVM_USER_POOL_CLIENT_IDS). @default no client check (local development only)
   */
  readonly cognitoClientIds?: ReadonlySet<string>;
}

/**
 * The principal for this request, or why there is none: the mode requires a verified identity and API Gateway
 * passed none (a wiring mistake: answer 401, never fall back to anonymous), the ID token belongs to another app
 * client, or the groups exceed the bounds both functions enforce (common/groups.ts).
 */
export function identify(
  event: Pick<APIGatewayProxyEvent, 'requestContext'>,
  auth: AuthConfig,
  options: IdentityOptions = {},
): Identification {
  if (auth.mode === 'open') return { principal: ANONYMOUS };
  const authorizer = event.requestContext?.authorizer as Record<string, unknown> | null | undefined;
  if (!authorizer) return { refused: 'no-identity' };
  if (auth.mode === 'cognito') {
    const raw = authorizer.claims as Record<string, unknown> | undefined;
    const claims = toClaims(raw);
    const id = claims[auth.tokenIdClaim];
    if (!id) return { refused: 'no-identity' };
    // API Gateway's Cognito authorizer accepts an ID token from ANY app client of the pool; only ours may vend.
    const clients = options.cognitoClientIds;
    if (clients !== undefined && (claims.token_use !== 'id' || claims.aud === undefined || !clients.has(claims.aud)))
      return { refused: 'wrong-client' };
    // From the raw claim: toClaims drops any claim over 256 characters, which would silently cost a user in
    // many groups every one of them; the group parser refuses what exceeds its bounds instead.
    const value = raw !== null && typeof raw === 'object' ? cognitoGroups(raw['cognito:groups']) : undefined;
    const groups = parseGroupList(value);
    if (!groups.ok) return { refused: groups.problem };
    return { principal: { id, groups: groups.groups, claims, source: 'cognito' } };
  }
  const id =
    typeof authorizer.principalId === 'string' && authorizer.principalId !== '' ? authorizer.principalId : undefined;
  if (!id) return { refused: 'no-identity' };
  const groups = parseGroupList(authorizerGroups(authorizer.groups));
  if (!groups.ok) return { refused: groups.problem };
  const principal: Principal = {
    id,
    groups: groups.groups,
    claims: toClaims(parseJsonObject(authorizer.claims)),
    source: 'authorizer',
  };
  const issuedAt = authorizerIssuedAt(authorizer.issuedAt);
  return { principal: issuedAt === undefined ? principal : { ...principal, issuedAt } };
}
