/**
 * What the authorizer hands API Gateway: the verified identity, the refusal reasons, and the `Allow` policy
 * with its context. Pure; shared by the JWT path (verify.ts) and the API-key path (api-keys.ts).
 */
import type { APIGatewayAuthorizerResult } from 'aws-lambda';

/**
 * Longest `Authorization` value accepted. API Gateway caps all request headers at 10 KB; real IdP tokens are
 * 1–4 KB. Anything longer is refused before it is base64-decoded or JSON-parsed.
 */
export const MAX_AUTHORIZATION_LENGTH = 8192;
// One set of identity bounds and one groups parser for both functions (common/groups.ts): a request that exceeds
// MAX_GROUPS or MAX_GROUP_LENGTH is refused in both modes (truncating would hand out an arbitrary subset); claims
// longer than MAX_CLAIM_LENGTH are dropped (never truncated) and a longer subject is refused.
export { MAX_CLAIM_LENGTH, MAX_GROUP_LENGTH, MAX_GROUPS } from '../common/groups';
/**
 * Subjects with this prefix are reserved for static API keys (`principalId` `apikey:<id>`). A JWT whose subject
 * starts with it is refused, so no IdP user can share an identity (and `{sub}`-templated scopes) with a key.
 */
export const API_KEY_PRINCIPAL_PREFIX = 'apikey:';

/**
 * Why a request was refused: a stable code for logs and metrics. Never the credential, never a claim value.
 */
export type DenyReason =
  | 'missing-authorization'
  | 'authorization-too-long'
  | 'unsupported-scheme'
  | 'malformed-token'
  | 'alg-not-allowed'
  | 'missing-kid'
  | 'crit-header'
  | 'key-alg-mismatch'
  | 'unknown-kid'
  | 'bad-signature'
  | 'expired'
  | 'missing-exp'
  | 'not-yet-valid'
  | 'wrong-issuer'
  | 'wrong-audience'
  | 'missing-subject'
  | 'subject-too-long'
  | 'subject-reserved'
  | 'groups-claim-invalid'
  | 'too-many-groups'
  | 'group-too-long'
  | 'jwks-unavailable'
  | 'api-keys-disabled'
  | 'malformed-api-key'
  | 'api-key-unknown-id'
  | 'api-key-mismatch'
  | 'api-keys-unavailable'
  | 'api-keys-secret-invalid'
  | 'bad-method-arn'
  | 'internal';

/** Reasons that point at our own infrastructure or a bug rather than at the caller: logged as errors. */
export const OPERATOR_REASONS: ReadonlySet<DenyReason> = new Set<DenyReason>([
  'jwks-unavailable',
  'api-keys-unavailable',
  'api-keys-secret-invalid',
  'bad-method-arn',
  'internal',
]);

/**
 * A refusal with its reason. Thrown inside the authorizer only; the handler turns every failure into
 * `Error('Unauthorized')` (the subclass {@link AuthorizerUnavailable}: {@link AUTHORIZER_UNAVAILABLE_MESSAGE}) and
 * logs `reason`.
 */
export class AuthorizationDenied extends Error {
  override readonly name: string = 'AuthorizationDenied';
  constructor(
    /** Stable reason code (safe to log). */
    readonly reason: DenyReason,
    /** Operator-facing detail about our own infrastructure (JWKS, secret); never caller input. */
    readonly detail?: string,
  ) {
    super(reason);
  }
}

/**
 * The authorizer cannot decide right now, through no fault of the caller: reading the API-key table failed for a
 * passing reason (Secrets Manager throttled, 5xx, timeout). Still a refusal (this request gets no `Allow`), but the
 * handler must not answer `Unauthorized`, which would tell a caller with a good key that the key is bad: it throws
 * {@link AUTHORIZER_UNAVAILABLE_MESSAGE} instead, and API Gateway answers with its authorizer-failure gateway response
 * (503 `authorizer-unavailable` with `Retry-After`, lib/gateway-responses.ts).
 */
export class AuthorizerUnavailable extends AuthorizationDenied {
  override readonly name = 'AuthorizerUnavailable';
}

/**
 * What the handler throws for {@link AuthorizerUnavailable}. Anything but exactly `Unauthorized` makes API Gateway
 * answer 500 through a gateway response of the authorizer-failure family, which the stack rewrites to 503
 * (docs/decisions.md, "Transient authorizer failures"). Fixed text: no reason, secret id or credential in it.
 */
export const AUTHORIZER_UNAVAILABLE_MESSAGE = 'Authorizer unavailable';

/** A caller the authorizer has verified: what goes into the policy and the context. */
export interface VerifiedIdentity {
  /** `principalId`: the JWT subject (`tokenIdClaim`) or `apikey:<id>`. */
  readonly principalId: string;
  /** Verified groups, de-duplicated, in claim order. */
  readonly groups: readonly string[];
  /** Forwarded claims (`forwardClaims` + `tokenIdClaim`), as strings. */
  readonly claims: Readonly<Record<string, string>>;
  /**
   * When the credential was issued, as the issuer says it (epoch seconds): the JWT's `auth_time` where present
   * (the sign-in, which a refreshed token keeps), else its `iat`. The revocation check compares it with a
   * record's `notBefore`, whatever `forwardClaims` lists. @default undefined (an API key; a JWT with neither)
   */
  readonly issuedAt?: IssueTime;
}

/** A credential's issue time and the claim it came from. */
export interface IssueTime {
  /** Epoch seconds (whole). */
  readonly seconds: number;
  /** `auth_time`: the sign-in, kept across refreshes; `iat`: when this very token was issued. */
  readonly claim: 'auth_time' | 'iat';
}

/**
 * The context API Gateway passes to the vending function as `requestContext.authorizer.*`. Values must be
 * string/number/boolean, so the lists are JSON strings.
 */
export interface AuthorizerContext {
  /** The verified subject; same as `principalId`. */
  readonly sub: string;
  /** `JSON.stringify(string[])`: the verified groups. */
  readonly groups: string;
  /** `JSON.stringify(Record<string, string>)`: the forwarded claims. */
  readonly claims: string;
  /** {@link VerifiedIdentity.issuedAt}'s seconds, as a decimal string. @default absent (no issue time) */
  readonly issuedAt?: string;
  /** {@link VerifiedIdentity.issuedAt}'s claim (`auth_time` or `iat`). @default absent (no issue time) */
  readonly issuedAtClaim?: string;
  [key: string]: string | undefined;
}

// arn:<partition>:execute-api:<region>:<account>:<apiId>/<stage>/<VERB>/<path…>
const METHOD_ARN = /^arn:aws[a-z-]*:execute-api:[a-z0-9-]+:\d{12}:[A-Za-z0-9]+\/[^/*?\s]+\/[A-Z]+\/[^*?\s]*$/;

/**
 * The authorizer's answer: `Allow` `execute-api:Invoke` on exactly the method being called, plus the context
 * the vending function reads.
 *
 * Why the exact method ARN and not `…/<stage>/*`: API Gateway caches this policy per `Authorization` value and
 * re-evaluates it against each later request's method ARN. Only `GET /token` uses this authorizer, so the
 * cached policy always matches. Were more methods to share the authorizer, a cached exact-ARN policy would
 * answer 403 on the others (never grant too much); list them explicitly then, rather than by wildcard.
 *
 * @throws AuthorizationDenied when the method ARN is not an execute-api method ARN.
 */
export function allowPolicy(
  identity: VerifiedIdentity,
  methodArn: string,
): APIGatewayAuthorizerResult & { context: AuthorizerContext } {
  if (!METHOD_ARN.test(methodArn)) throw new AuthorizationDenied('bad-method-arn');
  return {
    principalId: identity.principalId,
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: methodArn }],
    },
    context: {
      sub: identity.principalId,
      groups: JSON.stringify(identity.groups),
      claims: JSON.stringify(identity.claims),
      ...(identity.issuedAt === undefined
        ? {}
        : { issuedAt: String(identity.issuedAt.seconds), issuedAtClaim: identity.issuedAt.claim }),
    },
  };
}
