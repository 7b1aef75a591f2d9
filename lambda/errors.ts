/**
 * The TVM's error tree. Each error carries a stable machine-readable code from the one problem table
 * (common/problems.ts), which gives its HTTP status and title; they turn into `application/problem+json` answers
 * in one place (`errorResponse` in http.ts). Exceptions are for broken things and for the upstream; policy
 * decisions are values (see policy.ts).
 */
import { PROBLEMS, type FunctionProblemCode } from '../common/problems';

/** Base of every error the TVM answers with a specific status. */
export class TvmError extends Error {
  override readonly name: string = 'TvmError';
  /** HTTP status of the answer (from the problem table). */
  readonly status: number;
  /**
   * Seconds for the `Retry-After` header (429/503). Fixed values live only in the problem table; an error passes
   * one only when it is computed (a backlog, a caller's wait). @default the problem table's value for `code`
   */
  readonly retryAfterSeconds: number | undefined;
  constructor(
    /** Stable machine-readable code, e.g. `momento-unavailable`; its status comes from the problem table. */
    readonly code: FunctionProblemCode,
    /** Human-readable detail safe to show to the caller (never a secret). */
    message: string,
    options?: { cause?: unknown; retryAfterSeconds?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    const problem = PROBLEMS[code];
    this.status = problem.status;
    this.retryAfterSeconds =
      options?.retryAfterSeconds ?? ('retryAfterSeconds' in problem ? problem.retryAfterSeconds : undefined);
  }
}

/** 400: the request is malformed (unknown parameter, bad narrowing request, ttl not a number). */
export class BadRequestError extends TvmError {
  override readonly name = 'BadRequestError';
  constructor(
    code: 'unknown-parameter' | 'too-many-parameters' | 'bad-parameter' | 'query-too-long' | 'headers-too-large',
    message: string,
  ) {
    super(code, message);
  }
}

/** Kinds of Momento trouble, each with its answer (docs/architecture.md, "HTTP contract" and "Momento wire facts"). */
export type MomentoFailure =
  | 'auth' // PERMISSION_DENIED / UNAUTHENTICATED: Momento rejected the TVM's own key → 502
  | 'throttled' // RESOURCE_EXHAUSTED: Momento's auth rate limit → 429 + Retry-After
  | 'unavailable' // UNAVAILABLE (after one retry) → 503 + Retry-After
  | 'timeout' // our own deadline passed → 503 + Retry-After
  | 'rejected' // INVALID_ARGUMENT and friends: Momento refused what we asked → 502
  | 'internal'; // anything else from Momento → 502

const FAILURE_MESSAGE: Record<MomentoFailure, string> = {
  auth: 'Momento rejected the token vending machine’s API key',
  throttled: 'Momento’s token rate limit was reached; retry shortly',
  unavailable: 'Momento is unavailable; retry shortly',
  timeout: 'Momento did not answer in time; retry shortly',
  rejected: 'Momento rejected the token request',
  internal: 'Momento failed to issue a token',
};

/** Momento (or the network to it) failed; `failure` says how. `grpcCode` is kept for logs and metrics. */
export class MomentoError extends TvmError {
  override readonly name = 'MomentoError';
  constructor(
    readonly failure: MomentoFailure,
    readonly grpcCode: number | undefined,
    options?: { cause?: unknown; retryAfterSeconds?: number },
  ) {
    super(`momento-${failure}`, FAILURE_MESSAGE[failure], options);
  }
}

/** 500: the TVM itself is misconfigured (secret missing or empty, bad key format). Logged with the reason. */
export class MisconfiguredError extends TvmError {
  override readonly name = 'MisconfiguredError';
  constructor(
    code:
      | 'secret-missing'
      | 'secret-empty'
      | 'secret-invalid'
      | 'secret-unreadable'
      | 'momento-key-invalid'
      | 'momento-endpoint-invalid',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
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
    super('secret-unavailable', 'The token vending machine could not read its key right now; retry shortly', {
      cause: options?.cause,
    });
  }
}
