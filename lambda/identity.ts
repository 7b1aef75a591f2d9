/**
 * Who is calling, from what API Gateway verified — never from headers or the query string.
 *
 * Cognito mode: `requestContext.authorizer.claims` (every value a string; `cognito:groups` arrives as
 * "a,b", "[a b]" or a JSON array depending on the integration). Authorizer mode: the context our Lambda
 * authorizer returned (`groups` and `claims` as JSON strings, `principalId`). Open mode: anonymous.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { AuthConfig } from '../config/schema';
import type { Principal } from './types';

/** Most groups taken from one identity; more is a malformed or hostile token. */
export const MAX_GROUPS = 100;
/** Longest group name (Cognito's own limit). */
export const MAX_GROUP_LENGTH = 128;
/** Longest claim value taken into a principal (and into `{claims.x}` templates). */
export const MAX_CLAIM_LENGTH = 256;

/** The anonymous caller of open mode. */
export const ANONYMOUS: Principal = Object.freeze({
  id: undefined,
  groups: [],
  claims: Object.freeze({}),
  source: 'anonymous',
});

/**
 * Normalizes a groups claim in any shape API Gateway or an IdP delivers: an array, a JSON array string,
 * "[a b]" (HTTP API style), or a comma/space separated string. Non-strings and empties are dropped.
 */
export function parseGroups(value: unknown): string[] {
  let items: unknown[];
  if (Array.isArray(value)) items = value;
  else if (typeof value === 'string') {
    const s = value.trim();
    let parsed: unknown;
    if (s.startsWith('[') && s.endsWith(']')) {
      try {
        parsed = JSON.parse(s);
      } catch {
        parsed = s.slice(1, -1).split(/[\s,]+/);
      }
    }
    items = Array.isArray(parsed) ? parsed : s.split(/[\s,]+/);
  } else return [];
  const groups = new Set<string>();
  for (const g of items) {
    if (typeof g === 'string' && g !== '' && g.length <= MAX_GROUP_LENGTH) groups.add(g);
    if (groups.size >= MAX_GROUPS) break;
  }
  return [...groups];
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
 * The principal for this request, or `undefined` when the mode requires a verified identity and API Gateway
 * passed none (a wiring mistake: answer 401, never fall back to anonymous).
 */
export function principalFrom(
  event: Pick<APIGatewayProxyEvent, 'requestContext'>,
  auth: AuthConfig,
  options: IdentityOptions = {},
): Principal | undefined {
  if (auth.mode === 'open') return ANONYMOUS;
  const authorizer = event.requestContext?.authorizer as Record<string, unknown> | null | undefined;
  if (!authorizer) return undefined;
  if (auth.mode === 'cognito') {
    const raw = authorizer.claims as Record<string, unknown> | undefined;
    const claims = toClaims(raw);
    const id = claims[auth.tokenIdClaim];
    if (!id) return undefined;
    // API Gateway's Cognito authorizer accepts an ID token from ANY app client of the pool; only ours may vend.
    const clients = options.cognitoClientIds;
    if (clients !== undefined && (claims.token_use !== 'id' || claims.aud === undefined || !clients.has(claims.aud)))
      return undefined;
    // From the raw claim: parseGroups bounds it (100 × 128), while toClaims drops any claim over 256 characters,
    // which silently cost a user in many groups every one of them.
    const groups = raw !== null && typeof raw === 'object' ? parseGroups(raw['cognito:groups']) : [];
    return { id, groups, claims, source: 'cognito' };
  }
  const id =
    typeof authorizer.principalId === 'string' && authorizer.principalId !== '' ? authorizer.principalId : undefined;
  if (!id) return undefined;
  let groups: string[] = [];
  if (typeof authorizer.groups === 'string') {
    try {
      groups = parseGroups(JSON.parse(authorizer.groups));
    } catch {
      groups = [];
    }
  }
  return { id, groups, claims: toClaims(parseJsonObject(authorizer.claims)), source: 'authorizer' };
}
