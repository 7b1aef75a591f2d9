/**
 * HTTP shapes of the contract (docs/architecture.md, "HTTP contract"): the JSON success body,
 * `application/problem+json` errors, and CORS headers from the allow-list. Every error turns into a response here,
 * in one place.
 */
import type { APIGatewayProxyResult } from 'aws-lambda';
import { CORS } from '../common/cors';
import { problemBody, problemOf, type ProblemCode } from '../common/problems';
import { MisconfiguredError, TvmError } from './errors';
import type { TokenBody } from './types';

/** Headers a page may read from a TVM answer (common/cors.ts; used by the dev server's own answers too). */
export const CORS_EXPOSE_HEADERS = CORS.exposeHeaders.join(',');

/**
 * CORS headers for one request: the caller's origin is echoed only when it is on the allow-list. `Vary: Origin`
 * always, so no shared cache hands one origin's answer to another.
 */
export function corsHeaders(origin: string | undefined, allowOrigins: ReadonlySet<string>): Record<string, string> {
  const headers: Record<string, string> = { Vary: 'Origin' };
  if (origin !== undefined && allowOrigins.has(origin)) {
    headers['Access-Control-Allow-Origin'] = origin;
    headers['Access-Control-Expose-Headers'] = CORS_EXPOSE_HEADERS;
  }
  return headers;
}

/** The answer to a CORS preflight, as the stack's API Gateway mock integration gives it (for the dev server). */
export function preflightResponse(
  origin: string | undefined,
  allowOrigins: ReadonlySet<string>,
): APIGatewayProxyResult {
  const headers = corsHeaders(origin, allowOrigins);
  if (headers['Access-Control-Allow-Origin']) {
    headers['Access-Control-Allow-Methods'] = CORS.allowMethods.join(',');
    headers['Access-Control-Allow-Headers'] = CORS.allowHeaders.join(',');
    headers['Access-Control-Max-Age'] = String(CORS.maxAgeSeconds);
  }
  return { statusCode: 204, headers, body: '' };
}

const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };

export function tokenResponse(body: TokenBody, cors: Record<string, string>): APIGatewayProxyResult {
  return {
    statusCode: 200,
    headers: { ...cors, ...NO_STORE, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  };
}

/**
 * An RFC 9457 problem answer; status, title and (unless `extra` names one) `Retry-After` come from the problem
 * table (common/problems.ts).
 */
export function problemResponse(
  code: ProblemCode,
  detail: string | undefined,
  cors: Record<string, string>,
  extra: { requestId?: string; retryAfterSeconds?: number } = {},
): APIGatewayProxyResult {
  const problem = problemOf(code);
  if (problem.status === undefined) throw new Error(`problem ${code} has no fixed status`);
  const headers: Record<string, string> = { ...cors, ...NO_STORE, 'Content-Type': 'application/problem+json' };
  const retryAfter = extra.retryAfterSeconds ?? problem.retryAfterSeconds;
  if (retryAfter !== undefined) headers['Retry-After'] = String(retryAfter);
  return {
    statusCode: problem.status,
    headers,
    body: JSON.stringify(problemBody(code, detail, extra.requestId)),
  };
}

/** What a caller reads for a 500 of ours; the reason (secret id, account, IAM hint) goes to the operator's log only. */
const MISCONFIGURED_DETAIL =
  'the token vending machine is misconfigured; its operator has the reason (quote the requestId)';

/**
 * Maps any thrown value to a problem answer. Unknown errors become a generic 500 that names only the request id;
 * a {@link MisconfiguredError} keeps its code but not its message, which names the secret (ARN: account, region).
 */
export function errorResponse(
  err: unknown,
  cors: Record<string, string>,
  requestId: string | undefined,
): APIGatewayProxyResult {
  if (err instanceof MisconfiguredError) return problemResponse(err.code, MISCONFIGURED_DETAIL, cors, { requestId });
  if (err instanceof TvmError) {
    // 5xx details come from our own fixed messages, never from the upstream's text.
    return problemResponse(err.code, err.message, cors, {
      requestId,
      retryAfterSeconds: err.retryAfterSeconds,
    });
  }
  return problemResponse('internal', 'unexpected error; quote the requestId when reporting it', cors, {
    requestId,
  });
}
