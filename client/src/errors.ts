/**
 * What can go wrong when asking the TVM for a token, as one typed error. HTTP failures carry the server's
 * RFC 9457 problem details; failures with no HTTP answer (network, timeout) have `status: 0`.
 */

import type { ProblemDetails } from './contract.js';

export type { ProblemDetails } from './contract.js';

/**
 * How the client reacts to an error:
 * - `auth`: 401/403 or no credentials to send; background refresh stops until `start()`/`getToken()`.
 * - `transient`: network, timeout, unreadable answer, 408, 429, 5xx; retried with backoff.
 * - `fatal`: any other answer (400 bad query, 404 wrong URL, …); retrying cannot help, refresh stops.
 */
export type TokenErrorKind = 'auth' | 'transient' | 'fatal';

/** Codes the client itself uses when there is no server code to report. */
export const CLIENT_ERROR_CODES = {
  /** `fetch` rejected: offline, DNS, refused connection, or a CORS failure (the browser hides which). */
  network: 'network-error',
  /** No complete answer within `requestTimeoutMs`. */
  timeout: 'timeout',
  /** A 2xx answer that is not a token (e.g. a captive portal's HTML page). */
  invalidResponse: 'invalid-response',
  /** `getAuthHeader` threw: the user is probably not signed in. */
  credentialsUnavailable: 'credentials-unavailable',
  /** `reset()` was called while the caller waited. */
  reset: 'reset',
} as const;

/** Fields of a {@link TokenVendingError}. */
export interface TokenVendingErrorInit {
  /** HTTP status, or 0 when there was no HTTP answer. */
  readonly status: number;
  /** Stable machine-readable code (the server's `code`, or one of {@link CLIENT_ERROR_CODES}). */
  readonly code: string;
  /** Short summary. */
  readonly title: string;
  /** Explanation, when the server gave one. */
  readonly detail?: string;
  /** Problem type URI, when the server gave one. */
  readonly type?: string;
  /** How the client treats the error. */
  readonly kind: TokenErrorKind;
  /** Seconds from the `Retry-After` header, when present and readable (CORS must expose it). */
  readonly retryAfterSeconds?: number;
  /** The parsed problem document, when the answer had one. */
  readonly problem?: ProblemDetails;
  /** Underlying error (e.g. the `fetch` TypeError). */
  readonly cause?: unknown;
}

/**
 * The one error type the token client rejects with and reports to `onError` / `onAuthError`.
 * Never contains a token or a credential.
 *
 * @example
 * ```ts
 * try {
 *   await client.getToken();
 * } catch (e) {
 *   if (e instanceof TokenVendingError && e.kind === 'auth') showSignIn();
 * }
 * ```
 */
export class TokenVendingError extends Error {
  override readonly name = 'TokenVendingError';
  /** HTTP status, or 0 when there was no HTTP answer. */
  readonly status: number;
  /** Stable machine-readable code. */
  readonly code: string;
  /** Short summary. */
  readonly title: string;
  /** Explanation, when the server gave one. */
  readonly detail: string | undefined;
  /** Problem type URI, when the server gave one. */
  readonly type: string | undefined;
  /** How the client treats the error. */
  readonly kind: TokenErrorKind;
  /** Seconds from `Retry-After`, when present. */
  readonly retryAfterSeconds: number | undefined;
  /** The parsed problem document, when the answer had one. */
  readonly problem: ProblemDetails | undefined;

  constructor(init: TokenVendingErrorInit) {
    super(
      `${init.status === 0 ? 'no answer' : `HTTP ${init.status}`} ${init.code}: ${init.detail ?? init.title}`,
      init.cause === undefined ? undefined : { cause: init.cause },
    );
    this.status = init.status;
    this.code = init.code;
    this.title = init.title;
    this.detail = init.detail;
    this.type = init.type;
    this.kind = init.kind;
    this.retryAfterSeconds = init.retryAfterSeconds;
    this.problem = init.problem;
  }

  /** True for 401/403 (and missing credentials): the user has to sign in (again) or lacks a tier. */
  get isAuthError(): boolean {
    return this.kind === 'auth';
  }

  /** True when the client retries this error by itself. */
  get retryable(): boolean {
    return this.kind === 'transient';
  }
}

/** How an HTTP status is handled (docs/architecture.md, "HTTP contract"). */
function classifyStatus(status: number): TokenErrorKind {
  if (status === 401 || status === 403) return 'auth';
  if (status === 408 || status === 429 || status >= 500) return 'transient';
  return 'fatal';
}

/**
 * Parses a `Retry-After` value (delay-seconds or an HTTP date) into seconds, or undefined when absent or
 * unreadable.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - nowMs) / 1000));
}

/** Builds the error for a non-2xx answer from its status, headers and (maybe) problem document. */
export function errorFromResponse(
  status: number,
  statusText: string,
  body: unknown,
  retryAfterSeconds: number | undefined,
): TokenVendingError {
  const problem = isRecord(body) ? (body as ProblemDetails) : undefined;
  // API Gateway's own answers (e.g. the default 401) are `{ "message": "Unauthorized" }`, not problem+json.
  const message = typeof problem?.['message'] === 'string' ? problem['message'] : undefined;
  return new TokenVendingError({
    status,
    code: stringOr(problem?.code, `http-${status}`),
    title: stringOr(problem?.title, message ?? (statusText || `HTTP ${status}`)),
    detail: typeof problem?.detail === 'string' ? problem.detail : undefined,
    type: typeof problem?.type === 'string' ? problem.type : undefined,
    kind: classifyStatus(status),
    retryAfterSeconds,
    problem,
  });
}

function stringOr(value: unknown, fallback: string): string {
  return typeof value === 'string' && value.length > 0 ? value : fallback;
}

/** True for a plain JSON object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
