/**
 * The Lambda authorizer's steps, with its I/O passed in: parse the `Authorization` header, verify the bearer
 * JWT or API key, answer `Allow` with the caller's identity, or fail closed with exactly `Unauthorized` — except
 * when the API-key table could not be read for a passing reason: then {@link AUTHORIZER_UNAVAILABLE_MESSAGE}
 * (API Gateway → 503 `authorizer-unavailable`, never 401 for a key that may well be good).
 */
import type { APIGatewayAuthorizerResult, APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { createLogWriter, type LogWriter } from '../common/log';
import type { ApiKeyStore } from './api-keys';
import { splitApiKey, verifyApiKey } from './api-keys';
import {
  AUTHORIZER_UNAVAILABLE_MESSAGE,
  AuthorizationDenied,
  AuthorizerUnavailable,
  OPERATOR_REASONS,
  allowPolicy,
  type AuthorizerContext,
  type DenyReason,
} from './identity';
import {
  createJwtVerifier,
  denyReasonOf,
  parseAuthorization,
  verifyBearer,
  type AuthorizerAuthConfig,
  type BearerVerifier,
} from './verify';

/** One structured log line. Carries reason codes only: never the token or the `Authorization` header. */
export interface AuthorizerLogEntry {
  readonly level: 'WARN' | 'ERROR';
  /** `authorizer unavailable`: a passing failure of our own (answered 503), not a refusal of the credential. */
  readonly message: 'authorization denied' | 'authorizer unavailable';
  readonly reason: DenyReason;
  /** Operator-facing detail about the JWKS or the API-keys secret (never caller input). */
  readonly detail?: string;
}

/** What {@link createAuthorizer} needs. */
export interface AuthorizerDeps {
  /** The validated `auth` section (mode `authorizer`). */
  readonly auth: AuthorizerAuthConfig;
  /** Verifies bearer JWTs. @default createJwtVerifier(auth) */
  readonly verifier?: BearerVerifier;
  /** API-key table; when absent, `ApiKey` credentials are refused. @default none */
  readonly apiKeyStore?: ApiKeyStore;
  /** Where denials are logged. @default jsonLog(): the functions' log writer (common/log.ts) */
  readonly log?: (entry: AuthorizerLogEntry) => void;
}

/** The authorizer's answer on success. */
export type AuthorizerResult = APIGatewayAuthorizerResult & { context: AuthorizerContext };

/**
 * Logs denials as one JSON line each through the functions' one log writer (common/log.ts): Powertools Logger's
 * format, the level from `POWERTOOLS_LOG_LEVEL` (the config's `logLevel`: at `ERROR`, routine refusals — WARN —
 * are not logged).
 *
 * @param writer the log writer @default createLogWriter() (POWERTOOLS_SERVICE_NAME, POWERTOOLS_LOG_LEVEL)
 */
export function jsonLog(writer: LogWriter = createLogWriter()): (entry: AuthorizerLogEntry) => void {
  return ({ level, message, ...fields }) => writer(level, message, fields);
}

/**
 * Builds the API Gateway REST `TOKEN` authorizer handler.
 *
 * @example
 * export const handler = createAuthorizer({ auth: config.auth });
 */
export function createAuthorizer(
  deps: AuthorizerDeps,
): (event: APIGatewayTokenAuthorizerEvent) => Promise<AuthorizerResult> {
  const { auth, apiKeyStore, log = jsonLog() } = deps;
  const verifier = deps.verifier ?? createJwtVerifier(auth);

  return async (event) => {
    try {
      const credential = parseAuthorization(event.authorizationToken);
      let identity;
      if (credential.scheme === 'bearer') {
        identity = await verifyBearer(auth, verifier, credential.token);
      } else {
        if (!apiKeyStore) throw new AuthorizationDenied('api-keys-disabled');
        // Shape first: a malformed key is refused (401) even while the table cannot be read (503).
        splitApiKey(credential.key);
        identity = verifyApiKey(await apiKeyStore.table(), credential.key);
      }
      return allowPolicy(identity, event.methodArn);
    } catch (err) {
      const reason = denyReasonOf(err);
      const level = OPERATOR_REASONS.has(reason) ? 'ERROR' : 'WARN';
      // Only our own infrastructure's messages are logged (JWKS/secret); library messages about the token are not.
      const detail =
        err instanceof AuthorizationDenied
          ? err.detail
          : reason === 'jwks-unavailable' && err instanceof Error
            ? err.message
            : undefined;
      const unavailable = err instanceof AuthorizerUnavailable;
      const message = unavailable ? 'authorizer unavailable' : 'authorization denied';
      log(detail === undefined ? { level, message, reason } : { level, message, reason, detail });
      // No `cause`: the Lambda runtime logs thrown errors, and library messages can quote the decoded token.
      // Not the caller's fault (the API-key table could not be read right now): any message but 'Unauthorized' makes
      // API Gateway answer through its authorizer-failure gateway response, which the stack turns into a 503.
      // eslint-disable-next-line preserve-caught-error
      if (unavailable) throw new Error(AUTHORIZER_UNAVAILABLE_MESSAGE);
      // Exactly 'Unauthorized': API Gateway answers 401 only for this message; any other error becomes a 500.
      // eslint-disable-next-line preserve-caught-error
      throw new Error('Unauthorized');
    }
  };
}
