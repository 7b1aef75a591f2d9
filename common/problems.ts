/**
 * The one table of problem codes: every `application/problem+json` answer the TVM gives — from the vending
 * function (lambda/http.ts, lambda/errors.ts), from API Gateway's gateway responses (lib/gateway-responses.ts)
 * and from the dev server — takes its status and title from here. The error table of docs/http-contract.md is
 * checked against it (test/unit/problems.test.ts), so the three cannot drift apart.
 */

/** One problem code. */
export interface Problem {
  /** HTTP status; undefined for API Gateway's DEFAULT_4XX/5XX families, which keep API Gateway's own status. */
  readonly status: number | undefined;
  /** RFC 9457 `title`. */
  readonly title: string;
  /** Who answers with it: the vending function, API Gateway (a gateway response), or only the dev server. */
  readonly from: 'function' | 'gateway' | 'dev';
  /** Seconds for `Retry-After`, when the answer always carries one. */
  readonly retryAfterSeconds?: number;
  /**
   * Gateway responses only: the fixed `detail` (undefined → API Gateway's own message). The dev server sends
   * the same text, so its 401/404 look exactly like the deployed API's.
   */
  readonly detail?: string;
}

/** A problem the vending function answers with: always a fixed status. */
interface FunctionProblem extends Problem {
  readonly status: number;
  readonly from: 'function';
}

const fn = (status: number, title: string, retryAfterSeconds?: number): FunctionProblem =>
  retryAfterSeconds === undefined
    ? { status, title, from: 'function' }
    : { status, title, from: 'function', retryAfterSeconds };

const BAD_REQUEST = 'Bad Request';
const FORBIDDEN = 'Forbidden';
const TOO_MANY = 'Too Many Requests';
const INTERNAL = 'Internal Server Error';
const BAD_GATEWAY = 'Bad Gateway';
const UNAVAILABLE = 'Service Unavailable';

/** Every problem code, its status and its title. */
export const PROBLEMS = {
  // 400: the request is malformed (lambda/request.ts) or cannot be served as asked (lambda/policy.ts).
  'unknown-parameter': fn(400, BAD_REQUEST),
  'too-many-parameters': fn(400, BAD_REQUEST),
  'bad-parameter': fn(400, BAD_REQUEST),
  'query-too-long': fn(400, BAD_REQUEST),
  'headers-too-large': fn(400, BAD_REQUEST),
  'scope-too-large': fn(400, BAD_REQUEST),
  // 401
  unauthenticated: fn(401, 'Unauthorized'),
  unauthorized: {
    status: 401,
    title: 'Unauthorized',
    from: 'gateway',
    detail: 'missing or invalid credentials; sign in again',
  },
  // 403
  'no-tier': fn(403, FORBIDDEN),
  'scope-not-granted': fn(403, FORBIDDEN),
  'ttl-exceeds-tier': fn(403, FORBIDDEN),
  'claim-unusable': fn(403, FORBIDDEN),
  // The principal has a revocation record newer than its credential (lambda/revocation.ts).
  revoked: fn(403, FORBIDDEN),
  'access-denied': {
    status: 403,
    title: FORBIDDEN,
    from: 'gateway',
    detail: 'the credentials were not accepted for this API',
  },
  blocked: {
    status: 403,
    title: FORBIDDEN,
    from: 'gateway',
    detail: 'the request was blocked by the web application firewall',
  },
  // The dev server answers only requests addressed to this machine (a DNS-rebinding guard).
  'host-not-allowed': { status: 403, title: FORBIDDEN, from: 'dev' },
  // The dev server's local DynamoDB answers only local tools, never a web page (dev/revocation.ts).
  'origin-not-allowed': { status: 403, title: FORBIDDEN, from: 'dev' },
  // 404: API Gateway answers 403 "Missing Authentication Token" for any route it does not have; rewritten.
  'not-found': { status: 404, title: 'Not Found', from: 'gateway', detail: 'no such route; the API serves GET /token' },
  // 405
  'method-not-allowed': fn(405, 'Method Not Allowed'),
  // 429
  throttled: {
    status: 429,
    title: TOO_MANY,
    from: 'gateway',
    detail: 'request rate limit exceeded; retry shortly',
    retryAfterSeconds: 1,
  },
  'momento-throttled': fn(429, TOO_MANY, 1),
  'caller-rate-limited': fn(429, TOO_MANY),
  // The fleet-wide governor: no mint slot within the wait bound; Retry-After is computed from the backlog.
  'mint-budget-exhausted': fn(429, TOO_MANY),
  // 500: the TVM is misconfigured or broken; the reason goes to the operator's log only.
  'secret-missing': fn(500, INTERNAL),
  'secret-empty': fn(500, INTERNAL),
  'secret-invalid': fn(500, INTERNAL),
  'secret-unreadable': fn(500, INTERNAL),
  'momento-key-invalid': fn(500, INTERNAL),
  'momento-endpoint-invalid': fn(500, INTERNAL),
  internal: fn(500, INTERNAL),
  // 502: Momento rejected the TVM's own key or request.
  'momento-auth': fn(502, BAD_GATEWAY),
  'momento-rejected': fn(502, BAD_GATEWAY),
  'momento-internal': fn(502, BAD_GATEWAY),
  // 503
  'momento-unavailable': fn(503, UNAVAILABLE, 2),
  'momento-timeout': fn(503, UNAVAILABLE, 2),
  // The secret store could not be reached (a transient failure, unlike the 500 secret-* codes).
  'secret-unavailable': fn(503, UNAVAILABLE, 1),
  // The revocation table (lambda/revocation.ts) or Cognito's current groups (lambda/live-groups.ts) could not be read.
  'revocation-check-failed': fn(503, UNAVAILABLE, 2),
  'groups-check-failed': fn(503, UNAVAILABLE, 2),
  // The authorizer could not decide (its API-key table unreadable right now, or it failed to run): API Gateway's
  // AUTHORIZER_FAILURE / AUTHORIZER_CONFIGURATION_ERROR (500) rewritten, so a good credential never reads as a 401.
  'authorizer-unavailable': {
    status: 503,
    title: UNAVAILABLE,
    from: 'gateway',
    detail: 'the credentials could not be checked right now; retry shortly',
    retryAfterSeconds: 1,
  },
  // 504
  timeout: {
    status: 504,
    title: 'Gateway Timeout',
    from: 'gateway',
    detail: 'the token vending function did not answer in time; retry shortly',
    retryAfterSeconds: 2,
  },
  // Any other API Gateway 4xx / 5xx, with API Gateway's own status and message.
  rejected: { status: undefined, title: 'Request Rejected', from: 'gateway' },
  'gateway-error': { status: undefined, title: 'Gateway Error', from: 'gateway' },
} as const satisfies Record<string, Problem>;

/** A problem code of {@link PROBLEMS}. */
export type ProblemCode = keyof typeof PROBLEMS;

/** Codes the vending function itself answers with (everything but the gateway responses). */
export type FunctionProblemCode = {
  [K in ProblemCode]: (typeof PROBLEMS)[K]['from'] extends 'function' ? K : never;
}[ProblemCode];

/** The entry of `code` (typed as the wider {@link Problem}). */
export const problemOf = (code: ProblemCode): Problem => PROBLEMS[code];

/**
 * The problem+json body, fields in the order the gateway response templates write them (lib/gateway-responses.ts):
 * type, title, status, code, detail, requestId.
 */
export function problemBody(
  code: ProblemCode,
  detail: string | undefined,
  requestId: string | undefined,
): Record<string, unknown> {
  const p = problemOf(code);
  const body: Record<string, unknown> = { type: 'about:blank', title: p.title };
  if (p.status !== undefined) body.status = p.status;
  body.code = code;
  if (detail !== undefined) body.detail = detail;
  if (requestId !== undefined) body.requestId = requestId;
  return body;
}
