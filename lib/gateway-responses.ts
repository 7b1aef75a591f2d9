/**
 * API Gateway's own error answers (401 from an authorizer, 429 from stage throttling, 5xx when the
 * integration fails …) rewritten as `application/problem+json` with CORS headers, so a browser on an allowed
 * origin can read them exactly like the function's own errors (docs/architecture.md, "HTTP contract").
 */
import { aws_apigateway as apigw } from 'aws-cdk-lib';
import { CORS } from '../common/cors';
import { problemOf, type ProblemCode } from '../common/problems';

/** One gateway response: which API Gateway answer, its status and the problem `code`. */
export interface ProblemGatewayResponse {
  /** Construct id of the `AWS::ApiGateway::GatewayResponse`. */
  readonly id: string;
  readonly type: apigw.ResponseType;
  /** Status to answer with; undefined keeps API Gateway's own status (the DEFAULT_* families). */
  readonly status?: number;
  readonly title: string;
  /** Stable machine-readable code, kebab-case like the function's codes. */
  readonly code: ProblemCode;
  /** Fixed detail; undefined uses API Gateway's own message (`$context.error.messageString`). */
  readonly detail?: string;
  /** Seconds for `Retry-After`. */
  readonly retryAfterSeconds?: number;
}

/** A gateway response whose status, title, detail and `Retry-After` come from the problem table. */
const fromTable = (id: string, type: apigw.ResponseType, code: ProblemCode): ProblemGatewayResponse => {
  const p = problemOf(code);
  return { id, type, code, status: p.status, title: p.title, detail: p.detail, retryAfterSeconds: p.retryAfterSeconds };
};

/**
 * The gateway responses the TVM customizes (texts in common/problems.ts). The DEFAULT_* families catch every
 * other API Gateway error; the explicit ones get a fixed status and code clients can switch on.
 */
export const PROBLEM_GATEWAY_RESPONSES: readonly ProblemGatewayResponse[] = [
  fromTable('Unauthorized', apigw.ResponseType.UNAUTHORIZED, 'unauthorized'),
  fromTable('AccessDenied', apigw.ResponseType.ACCESS_DENIED, 'access-denied'),
  fromTable('Throttled', apigw.ResponseType.THROTTLED, 'throttled'),
  fromTable('WafFiltered', apigw.ResponseType.WAF_FILTERED, 'blocked'),
  // API Gateway says 403 "Missing Authentication Token" for any route it does not have.
  fromTable('RouteNotFound', apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN, 'not-found'),
  fromTable('IntegrationTimeout', apigw.ResponseType.INTEGRATION_TIMEOUT, 'timeout'),
  // A Lambda authorizer that throws anything but "Unauthorized" (authorizers/: the API-key table could not be read
  // right now) gets a 500 from API Gateway; which of the two types it is, AWS does not document (docs/decisions.md,
  // D17 "Transient authorizer failures"), so both answer 503 + Retry-After instead of a bare 500.
  fromTable('AuthorizerFailure', apigw.ResponseType.AUTHORIZER_FAILURE, 'authorizer-unavailable'),
  fromTable(
    'AuthorizerConfigurationError',
    apigw.ResponseType.AUTHORIZER_CONFIGURATION_ERROR,
    'authorizer-unavailable',
  ),
  fromTable('Default4xx', apigw.ResponseType.DEFAULT_4XX, 'rejected'),
  fromTable('Default5xx', apigw.ResponseType.DEFAULT_5XX, 'gateway-error'),
];

/**
 * The `Access-Control-Allow-Origin` value of a gateway response (a gateway response parameter: a quoted
 * literal or a request mapping).
 *
 * One origin → that origin, as a literal. Several origins → the request's `Origin` echoed. Gateway responses
 * cannot choose among values (their templates are not VTL, their parameters are a literal or a plain
 * mapping), so there are only two ways: name one origin (and every other allowed front end sees an opaque
 * network error instead of its 401/429) or echo. Echoing is safe here because (1) every gateway response
 * body is fixed text plus the request id, (2) `Access-Control-Allow-Credentials` is never sent, and (3) the
 * only request that carries credentials — GET with `Authorization` — is not a CORS-simple request: the browser
 * sends it only after the preflight, and the preflight (OPTIONS, below) answers only allowed origins. A
 * foreign page can therefore read nothing but a fixed error for a request it made without credentials.
 */
export function gatewayAllowOrigin(allowOrigins: readonly string[]): string {
  if (allowOrigins.length === 0) throw new Error('gatewayAllowOrigin: no origin to allow');
  return allowOrigins.length === 1 ? `'${allowOrigins[0]}'` : 'method.request.header.Origin';
}

/** Response parameters (headers) of one gateway response. */
function problemResponseHeaders(
  allowOrigins: readonly string[],
  response: ProblemGatewayResponse,
): Record<string, string> {
  const headers: Record<string, string> = {
    'Access-Control-Allow-Origin': gatewayAllowOrigin(allowOrigins),
    'Access-Control-Expose-Headers': `'${CORS.exposeHeaders.join(',')}'`,
    Vary: "'Origin'",
    'Content-Type': "'application/problem+json'",
    'Cache-Control': "'no-store'",
  };
  if (response.retryAfterSeconds !== undefined) headers['Retry-After'] = `'${response.retryAfterSeconds}'`;
  return headers;
}

/**
 * The problem+json body. Gateway response templates only substitute `$context` variables (no VTL), so the
 * JSON is written out here; the values are fixed strings, API Gateway's quoted message and the request id.
 */
export function problemResponseBody(response: ProblemGatewayResponse): string {
  const q = JSON.stringify;
  const fields = [`"type":"about:blank"`, `"title":${q(response.title)}`];
  if (response.status !== undefined) fields.push(`"status":${response.status}`);
  fields.push(`"code":${q(response.code)}`);
  // `messageString` is API Gateway's own message, already a quoted JSON string.
  fields.push(`"detail":${response.detail === undefined ? '$context.error.messageString' : q(response.detail)}`);
  fields.push(`"requestId":"$context.requestId"`);
  return `{${fields.join(',')}}`;
}

/** Adds every {@link PROBLEM_GATEWAY_RESPONSES} entry to `api`. */
export function addProblemGatewayResponses(
  api: apigw.RestApi,
  allowOrigins: readonly string[],
): apigw.GatewayResponse[] {
  return PROBLEM_GATEWAY_RESPONSES.map((r) =>
    api.addGatewayResponse(r.id, {
      type: r.type,
      statusCode: r.status === undefined ? undefined : String(r.status),
      responseHeaders: problemResponseHeaders(allowOrigins, r),
      // One template under API Gateway's default content type; the Content-Type header above says problem+json.
      templates: { 'application/json': problemResponseBody(r) },
    }),
  );
}
