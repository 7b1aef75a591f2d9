/**
 * Browser client for the Momento token vending machine. Build with `npx tsx client/build.ts` →
 * `client/dist/tvm-client.js` (ES module, no dependencies).
 */
export {
  buildUrl,
  createTokenClient,
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_MIN_REFRESH_SECONDS,
  DEFAULT_REFRESH_FRACTION,
  DEFAULT_REQUEST_TIMEOUT_MS,
  TokenVendingClient,
} from './tvm-client';
export type { QueryValue, TokenClientOptions, TokenClientStatus, TokenPermission, TokenResponse } from './tvm-client';
export { CLIENT_ERROR_CODES, TokenVendingError } from './errors';
export type { ProblemDetails, TokenErrorKind, TokenVendingErrorInit } from './errors';
export { backoffDelayMs, DEFAULT_BACKOFF } from './backoff';
export type { BackoffOptions } from './backoff';
export { momentoCredentials, refreshingMomentoClient } from './momento';
export type {
  DisposableTokenCredentials,
  RefreshingMomentoClient,
  RefreshingMomentoClientOptions,
  TokenSource,
} from './momento';
