/**
 * `@momento-tvm/client`: the browser client of the Momento token vending machine. An ES module with no
 * dependencies; see README.md.
 */
export {
  createTokenClient,
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_MIN_REFRESH_SECONDS,
  DEFAULT_REFRESH_FRACTION,
  DEFAULT_REFRESH_JITTER,
  DEFAULT_REQUEST_TIMEOUT_MS,
  TokenVendingClient,
} from './tvm-client.js';
export type { TokenClientEvent, TokenClientOptions, TokenClientState, TokenClientStatus } from './tvm-client.js';
export { buildUrl } from './http.js';
export type { QueryValue } from './http.js';
export { CACHE_ROLES, isTokenPermission, TOPIC_ROLES } from './contract.js';
export type {
  CachePermission,
  CacheRole,
  ProblemDetails,
  TokenPermission,
  TokenResponse,
  TopicPermission,
  TopicRole,
} from './contract.js';
export { CLIENT_ERROR_CODES, TokenVendingError } from './errors.js';
export type { TokenErrorKind, TokenVendingErrorInit } from './errors.js';
export { backoffDelayMs, DEFAULT_BACKOFF } from './backoff.js';
export type { BackoffOptions } from './backoff.js';
export {
  isLocalMomentoEndpoint,
  momentoCredentials,
  momentoCredentialsFor,
  refreshingMomentoClient,
} from './momento.js';
export type {
  DisposableTokenCredentials,
  LocalMomentoEndpoints,
  RefreshingMomentoClient,
  RefreshingMomentoClientOptions,
  TokenSource,
} from './momento.js';
// Topic subscriptions that survive token refresh (client/README.md, "Topic subscriptions").
export {
  DEFAULT_MAX_RESUBSCRIBE_ATTEMPTS,
  DEFAULT_MOVE_TIMEOUT_MS,
  FATAL_TOPIC_ERROR_CODES,
  subscribeWithRefresh,
  SubscriptionError,
} from './subscription.js';
export type {
  RefreshingSubscription,
  RefreshingSubscriptionOptions,
  SubscriptionStatus,
  TopicClientLike,
  TopicDiscontinuityLike,
  TopicErrorLike,
  TopicGap,
  TopicItemLike,
  TopicStreamLike,
  TopicSubscribeCallbacks,
} from './subscription.js';
