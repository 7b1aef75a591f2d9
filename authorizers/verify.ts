/**
 * Bearer-JWT verification for the authorizer (the policy it returns is built in identity.ts).
 *
 * Verification is aws-jwt-verify's generic `JwtVerifier`; the only network access is its JWKS fetcher
 * (swappable: tests pass a stub or `cacheJwks`). Everything else here is pure: parsing the `Authorization`
 * header and reading the subject, groups and claims out of a verified payload.
 *
 * Imports are aws-jwt-verify's submodules, not its index: the index also loads the Cognito and ALB
 * verifiers, which this function never uses (cold start: 14.7 KB instead of 17.1 KB bundled).
 */
import { JwtVerifier } from 'aws-jwt-verify/jwt-verifier';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import { SimpleFetcher, type Fetcher } from 'aws-jwt-verify/https';
import { decomposeUnverifiedJwt } from 'aws-jwt-verify/jwt';
import {
  FetchError,
  JwkInvalidKtyError,
  JwkInvalidUseError,
  JwkValidationError,
  JwksValidationError,
  JwtExpiredError,
  JwtInvalidAudienceError,
  JwtInvalidIssuerError,
  JwtInvalidSignatureAlgorithmError,
  JwtInvalidSignatureError,
  JwtNotBeforeError,
  JwtParseError,
  JwtWithoutValidKidError,
  KidNotFoundInJwksError,
  WaitPeriodNotYetEndedJwkError,
} from 'aws-jwt-verify/error';
import type { Jwk } from 'aws-jwt-verify/jwk';
import type { JwtHeader, JwtPayload } from 'aws-jwt-verify/jwt-model';
import type { AuthConfig } from '../config/schema';
import { JWKS_RESPONSE_TIMEOUT_MS } from '../config/limits';
import { parseGroupList } from '../common/groups';
import {
  API_KEY_PRINCIPAL_PREFIX,
  AuthorizationDenied,
  MAX_AUTHORIZATION_LENGTH,
  MAX_CLAIM_LENGTH,
  type DenyReason,
  type IssueTime,
  type VerifiedIdentity,
} from './identity';

/** The `auth` section of a configuration in Lambda-authorizer mode. */
export type AuthorizerAuthConfig = Extract<AuthConfig, { mode: 'authorizer' }>;

/** Signature algorithms the config may allow (aws-jwt-verify supports exactly these; never `none`, never HS*). */
type SignatureAlgorithm = AuthorizerAuthConfig['algorithms'][number];

/** The credential in an `Authorization` header, by scheme. */
export type Credential =
  { readonly scheme: 'bearer'; readonly token: string } | { readonly scheme: 'apikey'; readonly key: string };

/**
 * Splits an `Authorization` header into its scheme and credential. Schemes are case-insensitive (RFC 9110);
 * anything other than `Bearer <jwt>` or `ApiKey <id>.<secret>` is refused.
 *
 * @throws AuthorizationDenied
 */
export function parseAuthorization(value: string | undefined): Credential {
  if (value === undefined || value.trim() === '') throw new AuthorizationDenied('missing-authorization');
  if (value.length > MAX_AUTHORIZATION_LENGTH) throw new AuthorizationDenied('authorization-too-long');
  const match = /^([A-Za-z]+) +(\S+)$/.exec(value.trim());
  if (!match) throw new AuthorizationDenied('unsupported-scheme');
  const scheme = match[1]!.toLowerCase();
  const credential = match[2]!;
  if (scheme === 'bearer') return { scheme: 'bearer', token: credential };
  if (scheme === 'apikey') return { scheme: 'apikey', key: credential };
  throw new AuthorizationDenied('unsupported-scheme');
}

/** The JWKS URI the config implies: `jwksUri`, or `<issuer without trailing slash>/.well-known/jwks.json`. */
export const jwksUriOf = (auth: AuthorizerAuthConfig): string =>
  auth.jwksUri ?? `${auth.issuer.replace(/\/+$/, '')}/.well-known/jwks.json`;

// Key type (and curve) each algorithm needs. aws-jwt-verify checks header.alg against the JWK's `alg` only
// when the JWK has one, and it hashes ES256 as 'RSA-SHA256': with an RSA JWK that lacks `alg`, a token
// labelled ES256 would verify as RS256 and slip past the operator's `algorithms` list.
const KEY_FOR_ALG: Readonly<Record<SignatureAlgorithm, (jwk: Jwk) => boolean>> = {
  RS256: (k) => k.kty === 'RSA',
  RS384: (k) => k.kty === 'RSA',
  RS512: (k) => k.kty === 'RSA',
  ES256: (k) => k.kty === 'EC' && k.crv === 'P-256',
  ES384: (k) => k.kty === 'EC' && k.crv === 'P-384',
  ES512: (k) => k.kty === 'EC' && k.crv === 'P-521',
  EdDSA: (k) => k.kty === 'OKP' && (k.crv === 'Ed25519' || k.crv === 'Ed448'),
};

/**
 * Header checks done before any key lookup, so a token with a forbidden algorithm never triggers a JWKS
 * download (and `none` / `HS256` never reach signature verification at all).
 */
function checkHeader(header: JwtHeader, allowed: ReadonlySet<string>): void {
  if (typeof header.alg !== 'string' || !allowed.has(header.alg)) throw new AuthorizationDenied('alg-not-allowed');
  if (typeof header.kid !== 'string' || header.kid === '') throw new AuthorizationDenied('missing-kid');
  // RFC 7515 §4.1.11: a recipient that does not understand a critical extension must reject the token.
  if (header.crit !== undefined) throw new AuthorizationDenied('crit-header');
}

const overlaps = (value: unknown, accepted: readonly string[]): boolean =>
  typeof value === 'string'
    ? accepted.includes(value)
    : Array.isArray(value) && value.some((v) => typeof v === 'string' && accepted.includes(v));

/**
 * Claim checks aws-jwt-verify's generic verifier does not make. Runs after the signature is verified.
 * - `exp` must be present: the library checks it only when present, and a token without it never expires.
 * - Audience: `aud` when present, else `client_id` (Cognito access tokens carry no `aud`). The library can only
 *   check `aud`, so it is told `audience: null` and this check replaces it; it is never skipped.
 */
function checkClaims(
  auth: AuthorizerAuthConfig,
  allowed: ReadonlySet<string>,
  header: JwtHeader,
  payload: JwtPayload,
  jwk: Jwk,
): void {
  const alg = header.alg as SignatureAlgorithm;
  if (!allowed.has(alg) || !KEY_FOR_ALG[alg](jwk)) throw new AuthorizationDenied('key-alg-mismatch');
  if (typeof payload.exp !== 'number') throw new AuthorizationDenied('missing-exp');
  const audienceOk =
    payload.aud !== undefined ? overlaps(payload.aud, auth.audience) : overlaps(payload.client_id, auth.audience);
  if (!audienceOk) throw new AuthorizationDenied('wrong-audience');
}

/** The verifier the authorizer uses; `cacheJwks` lets tests (and warm-up code) supply keys without a download. */
export type BearerVerifier = Pick<ReturnType<typeof createJwtVerifier>, 'verify' | 'cacheJwks'>;

/** Options for {@link createJwtVerifier}. */
export interface JwtVerifierOptions {
  /**
   * Downloads the JWKS. Tests pass a stub; production uses aws-jwt-verify's fetcher (HTTPS, one retry).
   * @default SimpleFetcher with a JWKS_RESPONSE_TIMEOUT_MS (1.5 s) response timeout
   */
  readonly fetcher?: Fetcher;
}

/**
 * Builds the JWT verifier for the configured issuer. Cheap: nothing is fetched until the first token arrives,
 * then the JWKS is cached for the container's life. It is re-fetched only for an unknown `kid` (key rotation),
 * at most once per 10 s after a miss (aws-jwt-verify's penalty box), so random `kid`s cannot flood the IdP.
 */
export function createJwtVerifier(auth: AuthorizerAuthConfig, options: JwtVerifierOptions = {}) {
  const allowed: ReadonlySet<string> = new Set(auth.algorithms);
  // SimpleFetcher retries once: 2 × 1.5 s stays inside the authorizer's timeout (config/limits.ts) when the IdP is
  // down, so the caller gets a clean 401 rather than a Lambda timeout (a 500).
  const fetcher =
    options.fetcher ?? new SimpleFetcher({ defaultRequestOptions: { responseTimeout: JWKS_RESPONSE_TIMEOUT_MS } });
  return JwtVerifier.create(
    {
      issuer: auth.issuer,
      audience: null, // replaced by checkClaims (aud or client_id); see there
      jwksUri: jwksUriOf(auth),
      customJwtCheck: ({ header, payload, jwk }) => checkClaims(auth, allowed, header, payload, jwk),
    },
    { jwksCache: new SimpleJwksCache({ fetcher }) },
  );
}

/**
 * Reads the groups claim with the one parser both functions use (common/groups.ts): an array of strings (other
 * elements dropped) or a space/comma separated string; absent → no groups. Any other type, more than MAX_GROUPS
 * groups or a group longer than MAX_GROUP_LENGTH refuses the request.
 *
 * @throws AuthorizationDenied
 */
function groupsFromClaim(value: unknown): string[] {
  const result = parseGroupList(value);
  if (!result.ok) throw new AuthorizationDenied(result.problem);
  return [...result.groups];
}

const claimOf = (payload: JwtPayload, name: string): unknown =>
  Object.hasOwn(payload, name) ? payload[name] : undefined;

/**
 * Turns a verified payload into the identity the vending function sees: subject from `tokenIdClaim`, groups
 * from `groupsClaim`, and only the configured claims (scalars, as strings, each ≤ {@link MAX_CLAIM_LENGTH};
 * others are dropped, so a `{claims.x}` template that needs them cannot resolve and the vend is refused).
 *
 * @throws AuthorizationDenied
 */
function identityFromPayload(auth: AuthorizerAuthConfig, payload: JwtPayload): VerifiedIdentity {
  const sub = claimOf(payload, auth.tokenIdClaim);
  if (typeof sub !== 'string' || sub === '') throw new AuthorizationDenied('missing-subject');
  if (sub.length > MAX_CLAIM_LENGTH) throw new AuthorizationDenied('subject-too-long');
  if (sub.startsWith(API_KEY_PRINCIPAL_PREFIX)) throw new AuthorizationDenied('subject-reserved');
  const groups = groupsFromClaim(claimOf(payload, auth.groupsClaim));
  const entries: [string, string][] = [];
  for (const name of new Set([...auth.forwardClaims, auth.tokenIdClaim])) {
    const v = claimOf(payload, name);
    const s =
      typeof v === 'string'
        ? v
        : typeof v === 'number' && Number.isFinite(v)
          ? String(v)
          : typeof v === 'boolean'
            ? String(v)
            : undefined;
    if (s !== undefined && s.length <= MAX_CLAIM_LENGTH) entries.push([name, s]);
  }
  // fromEntries defines own data properties: a claim named "__proto__" cannot reach a prototype.
  const claims = Object.fromEntries(entries);
  const issuedAt = issueTimeOf(payload);
  return issuedAt === undefined ? { principalId: sub, groups, claims } : { principalId: sub, groups, claims, issuedAt };
}

/** A JWT NumericDate claim as whole epoch seconds, or undefined when it is not a positive finite number. */
function numericDate(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : undefined;
}

/**
 * What the issuer says about when this credential was issued: `auth_time` where it sends one (OIDC: the sign-in,
 * which a refreshed token keeps, so a refresh cannot outrun a revocation), else `iat`.
 */
export function issueTimeOf(payload: JwtPayload): IssueTime | undefined {
  const authTime = numericDate(claimOf(payload, 'auth_time'));
  if (authTime !== undefined) return { seconds: authTime, claim: 'auth_time' };
  const iat = numericDate(claimOf(payload, 'iat'));
  return iat === undefined ? undefined : { seconds: iat, claim: 'iat' };
}

/**
 * Verifies a bearer JWT (signature against the issuer's JWKS, algorithm allow-list, `exp`/`nbf`, `iss`,
 * audience) and returns the caller's identity. Library errors propagate; {@link denyReasonOf} classifies them.
 */
export async function verifyBearer(
  auth: AuthorizerAuthConfig,
  verifier: BearerVerifier,
  token: string,
): Promise<VerifiedIdentity> {
  let header: JwtHeader;
  try {
    header = decomposeUnverifiedJwt(token).header;
  } catch {
    throw new AuthorizationDenied('malformed-token');
  }
  checkHeader(header, new Set(auth.algorithms));
  const payload = await verifier.verify(token);
  return identityFromPayload(auth, payload);
}

// aws-jwt-verify's error classes → our reason codes. By class, not by `name`: the library leaves `name` as
// "Error", and minification renames classes anyway.
const LIBRARY_REASONS: ReadonlyArray<readonly [abstract new (...args: never[]) => Error, DenyReason]> = [
  [JwtParseError, 'malformed-token'],
  [JwtInvalidSignatureError, 'bad-signature'],
  [JwtInvalidSignatureAlgorithmError, 'key-alg-mismatch'],
  [JwkInvalidKtyError, 'key-alg-mismatch'],
  [JwkInvalidUseError, 'key-alg-mismatch'],
  [JwtExpiredError, 'expired'],
  [JwtNotBeforeError, 'not-yet-valid'],
  [JwtInvalidIssuerError, 'wrong-issuer'],
  [JwtInvalidAudienceError, 'wrong-audience'],
  [JwtWithoutValidKidError, 'missing-kid'],
  [KidNotFoundInJwksError, 'unknown-kid'],
  [WaitPeriodNotYetEndedJwkError, 'unknown-kid'],
  [FetchError, 'jwks-unavailable'], // also NonRetryableFetchError
  [JwksValidationError, 'jwks-unavailable'],
  [JwkValidationError, 'jwks-unavailable'],
];

/** Classifies any failure into a reason code; unknown errors are `internal`. */
export function denyReasonOf(err: unknown): DenyReason {
  if (err instanceof AuthorizationDenied) return err.reason;
  // Anything else (Node crypto refusing a key, a bug) is `internal`: still a 401, but logged as an error.
  return LIBRARY_REASONS.find(([type]) => err instanceof type)?.[1] ?? 'internal';
}
