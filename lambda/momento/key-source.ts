/**
 * Where the vending key comes from.
 *
 * In Lambda: Secrets Manager's `GetSecretValue`, called directly through the reader both functions share
 * (common/secret-reader.ts: one SigV4-signed `node:https` request, no extension layer, no AWS SDK). The value
 * is cached per container and read again when Momento says the key is bad (`invalidate()`), so a rotated
 * secret is picked up without a cold start.
 *
 * Locally (dev server): {@link staticKeySource} over `MOMENTO_API_KEY`.
 *
 * Nothing here runs at module scope, and no message ever contains the secret value.
 */
import { readSecretString, SECRET_READ_TIMEOUT_MS, SecretReadError } from '../../common/secret-reader';
import { SingleFlightCache } from '../../common/single-flight-cache';
import { MisconfiguredError, SecretUnavailableError } from '../errors';
import type { KeySource } from '../types';

export type { KeySource } from '../types';

/** Options of {@link secretsManagerKeySource}. */
export interface SecretsManagerKeySourceOptions {
  /** Secret name or ARN (`TVM_SECRET_ID`). */
  readonly secretId: string;
  /**
   * Abort a read after this long; the request then answers 503 `secret-unavailable`.
   * @default SECRET_READ_TIMEOUT_MS (2000, the same in both functions)
   */
  readonly timeoutMs?: number;
  /**
   * Region, credentials (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`) and endpoint
   * variables (`AWS_ENDPOINT_URL_SECRETS_MANAGER`, `AWS_ENDPOINT_URL`).
   * @default process.env, read on each read (the runtime may rotate credentials)
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

function secretValueToKey(secretString: unknown, secretId: string): string {
  if (typeof secretString !== 'string' || secretString.trim() === '') {
    throw new MisconfiguredError(
      'secret-empty',
      `Secret "${secretId}" has no value; put the Momento API key into it (the raw key, or JSON {"apiKey": "..."})`,
    );
  }
  const raw = secretString.trim();
  if (!raw.startsWith('{')) return raw;
  // JSON form, e.g. what the console's key/value editor writes.
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    // No cause: a JSON.parse error quotes the secret.
    throw new MisconfiguredError('secret-invalid', `Secret "${secretId}" starts with "{" but is not valid JSON`);
  }
  const apiKey = (parsed as { apiKey?: unknown } | null)?.apiKey;
  if (typeof apiKey !== 'string') {
    throw new MisconfiguredError(
      'secret-invalid',
      `Secret "${secretId}" is JSON without a string "apiKey" field; store the raw key or {"apiKey": "..."}`,
    );
  }
  if (apiKey.trim() === '') {
    throw new MisconfiguredError(
      'secret-empty',
      `Secret "${secretId}" has an empty "apiKey"; put the Momento API key into it`,
    );
  }
  return apiKey.trim();
}

/** The one key of the cache: a key source holds one secret's value. */
const KEY = 'key';

/** A failed read → the vending function's answer: 503 for passing trouble, 500 with the reason otherwise. */
function toTvmError(err: SecretReadError): MisconfiguredError | SecretUnavailableError {
  return err.code === 'secret-unavailable'
    ? new SecretUnavailableError(err.message, { cause: err })
    : new MisconfiguredError(
        err.code,
        err.code === 'secret-empty'
          ? `${err.message}; put the Momento API key into it (the raw key, or JSON {"apiKey": "..."})`
          : err.message,
        { cause: err },
      );
}

/**
 * Reads the vending key from Secrets Manager (`GetSecretValue`, common/secret-reader.ts). The value is cached
 * per container; concurrent first reads share one request (single-flight); `invalidate()` makes the next
 * `getKey()` read again. A failed read is not cached, so the next request retries.
 *
 * The secret may hold the raw key (whitespace trimmed) or JSON `{"apiKey": "..."}`.
 *
 * Errors: `SecretUnavailableError` (503 `secret-unavailable` + `Retry-After`: timeout, throttling, 5xx, connection
 * refused) or `MisconfiguredError` (500): `secret-missing`, `secret-empty`, `secret-invalid`, `secret-unreadable`
 * (access denied, KMS decrypt failure, no credentials, scheduled for deletion).
 *
 * @example
 * const keySource = secretsManagerKeySource({ secretId: process.env.TVM_SECRET_ID! });
 */
export function secretsManagerKeySource(options: SecretsManagerKeySourceOptions): KeySource {
  const { secretId } = options;
  if (!secretId) throw new MisconfiguredError('secret-missing', 'No secret id configured for the Momento API key');
  const timeoutMs = options.timeoutMs ?? SECRET_READ_TIMEOUT_MS;

  // One entry, kept until invalidate(): a read under way when it is called does not bring the old key back.
  const cache = new SingleFlightCache<string>();

  async function read(): Promise<string> {
    let secretString: string;
    try {
      secretString = await readSecretString(secretId, { timeoutMs, env: options.env });
    } catch (err) {
      if (err instanceof SecretReadError) {
        throw toTvmError(err);
      }
      throw err;
    }
    return secretValueToKey(secretString, secretId);
  }

  return {
    getKey(): Promise<string> {
      const hit = cache.peek(KEY);
      if (hit) return Promise.resolve(hit.value);
      // Errors are not cached: the next request reads again.
      return cache.flight(KEY, read, (key) => ({ value: key, untilMs: Infinity })).then((r) => r.loaded);
    },
    invalidate(): void {
      cache.invalidate();
    },
  };
}

/**
 * A fixed key, for the local dev server (`MOMENTO_API_KEY`) and tests. `invalidate()` is a no-op: there is
 * nothing to re-read.
 */
export function staticKeySource(key: string): KeySource {
  if (!key || key.trim() === '') {
    throw new MisconfiguredError('secret-empty', 'No Momento API key given (set MOMENTO_API_KEY for the dev server)');
  }
  const trimmed = key.trim();
  return { getKey: () => Promise.resolve(trimmed), invalidate: () => undefined };
}
