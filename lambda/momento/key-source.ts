/**
 * Where the vending key comes from.
 *
 * In Lambda: the AWS Parameters and Secrets Lambda Extension, a localhost HTTP endpoint in the execution
 * environment. Reading through it instead of `@aws-sdk/client-secrets-manager` costs no bundle bytes and no
 * module-init time (the client alone is ≈0.45 MB and ≈70 ms of `require`: docs/architecture.md, "Cold start");
 * the request is one `node:http` GET (lambda/secrets-extension.ts). The stack turns the extension's own cache off,
 * so a rotated secret is visible on the next read.
 *
 * Locally (dev server): {@link staticKeySource} over `MOMENTO_API_KEY`.
 *
 * Nothing here runs at module scope, and no message ever contains the secret value.
 */
import { MisconfiguredError } from '../errors';
import { ExtensionUnreachableError, extensionPort, getFromExtension } from '../secrets-extension';
import type { KeySource } from '../types';

export type { KeySource } from '../types';

/** Options of {@link extensionKeySource}. */
export interface ExtensionKeySourceOptions {
  /** Secret name or ARN. */
  readonly secretId: string;
  /**
   * Port of the extension's HTTP endpoint.
   * @default process.env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT, else 2773
   */
  readonly port?: number;
  /**
   * Host of the extension's HTTP endpoint (AWS documents `localhost`; Node ≥ 20 tries IPv4 and IPv6).
   * @default 'localhost'
   */
  readonly host?: string;
  /**
   * Value of `X-Aws-Parameters-Secrets-Token`; the extension refuses requests without it (SSRF protection).
   * @default process.env.AWS_SESSION_TOKEN, read on each request
   */
  readonly sessionToken?: string;
  /**
   * Abort a read after this long. The extension answers from its cache in ~1 ms and from Secrets Manager in tens
   * of ms; anything slower means it is stuck, and a 503-ish failure beats eating the request's budget.
   * @default 2000
   */
  readonly timeoutMs?: number;
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

/** Maps the extension's error answer (it relays Secrets Manager's error name in a text body) to a reason. */
function extensionError(status: number, body: string, secretId: string): MisconfiguredError {
  if (/ResourceNotFound/i.test(body) && /AWSCURRENT|staging label|secret value/i.test(body)) {
    // The secret exists but has no current version yet (created empty by the stack).
    return new MisconfiguredError(
      'secret-empty',
      `Secret "${secretId}" has no value yet; put the Momento API key into it`,
    );
  }
  if (status === 404 || /ResourceNotFound/i.test(body)) {
    return new MisconfiguredError(
      'secret-missing',
      `Secret "${secretId}" does not exist (check the name/ARN and region)`,
    );
  }
  if (/AccessDenied|not authorized/i.test(body) || status === 403) {
    return new MisconfiguredError(
      'secret-unreadable',
      `Not allowed to read secret "${secretId}" (execution role needs secretsmanager:GetSecretValue, and kms:Decrypt for a customer-managed key)`,
    );
  }
  return new MisconfiguredError(
    'secret-unreadable',
    `The Parameters and Secrets extension answered HTTP ${status} for secret "${secretId}"`,
  );
}

/**
 * Reads the vending key through the AWS Parameters and Secrets Lambda Extension
 * (`GET /secretsmanager/get?secretId=…`). The value is cached per container; concurrent first reads share
 * one request (single-flight); `invalidate()` makes the next `getKey()` read again. A failed read is not
 * cached, so the next request retries.
 *
 * The secret may hold the raw key (whitespace trimmed) or JSON `{"apiKey": "..."}`.
 *
 * Errors (all `MisconfiguredError`, 500): `secret-missing`, `secret-empty`, `secret-invalid`,
 * `secret-unreadable` (extension unreachable, timed out, access denied or any other failure).
 *
 * @example
 * const keySource = extensionKeySource({ secretId: process.env.TVM_SECRET_ID! });
 */
export function extensionKeySource(options: ExtensionKeySourceOptions): KeySource {
  const { secretId } = options;
  if (!secretId) throw new MisconfiguredError('secret-missing', 'No secret id configured for the Momento API key');
  const port = options.port ?? extensionPort();
  const timeoutMs = options.timeoutMs ?? 2000;

  let cached: string | undefined;
  let inflight: Promise<string> | undefined;
  // Bumped by invalidate(): a read that started before it must not repopulate the cache with the old value.
  let generation = 0;

  async function read(): Promise<string> {
    const token = options.sessionToken ?? process.env.AWS_SESSION_TOKEN ?? '';
    let status: number;
    let body: string;
    try {
      ({ status, body } = await getFromExtension({
        secretId,
        port,
        host: options.host,
        sessionToken: token,
        timeoutMs,
      }));
    } catch (err) {
      const why =
        err instanceof ExtensionUnreachableError && err.reason === 'timeout'
          ? `did not answer within ${timeoutMs} ms`
          : 'is unreachable';
      throw new MisconfiguredError(
        'secret-unreadable',
        `The Parameters and Secrets extension at port ${port} ${why} while reading secret "${secretId}" (is the extension layer attached?)`,
        // Network errors carry no secret; keep them for the logs.
        { cause: err },
      );
    }
    if (status !== 200) throw extensionError(status, body, secretId);
    let secretString: unknown;
    try {
      secretString = (JSON.parse(body) as { SecretString?: unknown }).SecretString;
    } catch {
      throw new MisconfiguredError(
        'secret-unreadable',
        `The Parameters and Secrets extension returned a non-JSON answer for secret "${secretId}"`,
      );
    }
    return secretValueToKey(secretString, secretId);
  }

  return {
    getKey(): Promise<string> {
      if (cached !== undefined) return Promise.resolve(cached);
      if (inflight) return inflight;
      const started = generation;
      const p = read().then((key) => {
        if (generation === started) cached = key;
        return key;
      });
      inflight = p;
      // Clear the single-flight slot either way; errors are not cached.
      p.finally(() => {
        if (inflight === p) inflight = undefined;
      }).catch(() => undefined);
      return p;
    },
    invalidate(): void {
      generation += 1;
      cached = undefined;
      inflight = undefined;
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
