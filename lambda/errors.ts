/**
 * The TVM's error tree. Each error carries its HTTP status and a stable machine-readable code; they turn into
 * `application/problem+json` answers in one place (`errorResponse` in http.ts). Exceptions are for broken
 * things and for the upstream; policy decisions are values (see policy.ts).
 */

/** Base of every error the TVM answers with a specific status. */
export class TvmError extends Error {
  override readonly name: string = 'TvmError';
  constructor(
    /** HTTP status of the answer. */
    readonly status: number,
    /** Stable machine-readable code, e.g. `momento-unavailable`. */
    readonly code: string,
    /** Human-readable detail safe to show to the caller (never a secret). */
    message: string,
    options?: { cause?: unknown; retryAfterSeconds?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }
  /** Seconds for the `Retry-After` header (429/503). */
  readonly retryAfterSeconds: number | undefined;
}

/** 400: the request is malformed (unknown parameter, bad narrowing request, ttl not a number). */
export class BadRequestError extends TvmError {
  override readonly name = 'BadRequestError';
  constructor(code: string, message: string) {
    super(400, code, message);
  }
}

/** Kinds of Momento trouble, each with its answer (DESIGN.md §3/§5). */
export type MomentoFailure =
  | 'auth' // PERMISSION_DENIED / UNAUTHENTICATED: Momento rejected the TVM's own key → 502
  | 'throttled' // RESOURCE_EXHAUSTED: Momento's auth rate limit → 429 + Retry-After
  | 'unavailable' // UNAVAILABLE (after one retry) → 503 + Retry-After
  | 'timeout' // our own deadline passed → 503 + Retry-After
  | 'rejected' // INVALID_ARGUMENT and friends: Momento refused what we asked → 502
  | 'internal'; // anything else from Momento → 502

const FAILURE_ANSWER: Record<MomentoFailure, { status: number; retryAfter?: number; message: string }> = {
  auth: { status: 502, message: 'Momento rejected the token vending machine’s API key' },
  throttled: { status: 429, retryAfter: 1, message: 'Momento’s token rate limit was reached; retry shortly' },
  unavailable: { status: 503, retryAfter: 2, message: 'Momento is unavailable; retry shortly' },
  timeout: { status: 503, retryAfter: 2, message: 'Momento did not answer in time; retry shortly' },
  rejected: { status: 502, message: 'Momento rejected the token request' },
  internal: { status: 502, message: 'Momento failed to issue a token' },
};

/** Momento (or the network to it) failed; `failure` says how. `grpcCode` is kept for logs and metrics. */
export class MomentoError extends TvmError {
  override readonly name = 'MomentoError';
  constructor(
    readonly failure: MomentoFailure,
    readonly grpcCode: number | undefined,
    options?: { cause?: unknown },
  ) {
    const a = FAILURE_ANSWER[failure];
    super(a.status, `momento-${failure}`, a.message, { cause: options?.cause, retryAfterSeconds: a.retryAfter });
  }
}

/** 500: the TVM itself is misconfigured (secret missing or empty, bad key format). Logged with the reason. */
export class MisconfiguredError extends TvmError {
  override readonly name = 'MisconfiguredError';
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(500, code, message, options);
  }
}

/**
 * 503 `secret-unavailable` + `Retry-After`: the key's secret could not be read for a passing reason (timeout,
 * throttling, Secrets Manager 5xx, connection refused). The caller sees a fixed message; `reason` (which names
 * the secret) is for the operator's log only.
 */
export class SecretUnavailableError extends TvmError {
  override readonly name = 'SecretUnavailableError';
  constructor(
    /** Operator-only detail, e.g. `… (throttled: ThrottlingException)`. */
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(503, 'secret-unavailable', 'The token vending machine could not read its key right now; retry shortly', {
      cause: options?.cause,
      retryAfterSeconds: 1,
    });
  }
}
