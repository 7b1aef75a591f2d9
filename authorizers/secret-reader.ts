/**
 * Reads the API-key secret through the AWS Parameters and Secrets Lambda Extension's local HTTP endpoint
 * (one `node:http` GET, shared with the vending function: lambda/secrets-extension.ts).
 *
 * `@aws-sdk/client-secrets-manager` alone costs ~70 ms of cold start (docs/architecture.md, "Cold start"). Nothing
 * is loaded or fetched until the first `ApiKey` request.
 */
import { ExtensionUnreachableError, getFromExtension } from '../lambda/secrets-extension';

/** Where and how to reach the extension. */
export interface ExtensionSecretReaderOptions {
  /** Secret name or ARN. */
  readonly secretId: string;
  /** The extension's port (`PARAMETERS_SECRETS_EXTENSION_HTTP_PORT`). @default 2773 */
  readonly port?: number;
  /** The extension's host. @default 'localhost' */
  readonly host?: string;
  /** The function's session token (`AWS_SESSION_TOKEN`): the extension requires it as proof of the caller. */
  readonly sessionToken: () => string | undefined;
  /** Give up after this long (the extension answers from its cache in ~1 ms). @default 1500 */
  readonly timeoutMs?: number;
}

/**
 * Returns a function that reads the secret's `SecretString`. Errors say what went wrong, never the secret.
 */
export function createExtensionSecretReader(options: ExtensionSecretReaderOptions): () => Promise<string> {
  const { secretId, port = 2773, host = 'localhost', timeoutMs = 1500 } = options;
  return async () => {
    const token = options.sessionToken();
    if (!token) throw new Error('AWS_SESSION_TOKEN is not set; the secrets extension needs it');
    const { status, body } = await getFromExtension({ secretId, port, host, sessionToken: token, timeoutMs }).catch(
      (err: unknown) => {
        // Only the transport's own words (ECONNREFUSED, a timeout): no secret reaches here.
        const why =
          err instanceof ExtensionUnreachableError && err.reason === 'timeout'
            ? `did not answer within ${timeoutMs} ms`
            : `is unreachable (${(err instanceof Error && (err.cause as NodeJS.ErrnoException | undefined)?.code) || 'no answer'})`;
        throw new Error(`secrets extension ${why} for ${secretId}`);
      },
    );
    if (status !== 200) throw new Error(`secrets extension answered ${status || 'no status'} for ${secretId}`);
    let reply: { SecretString?: unknown };
    try {
      reply = JSON.parse(body) as { SecretString?: unknown };
    } catch {
      throw new Error('secrets extension reply is not JSON');
    }
    if (typeof reply.SecretString !== 'string' || reply.SecretString === '')
      throw new Error(`secret ${secretId} has no SecretString (is it empty or binary?)`);
    return reply.SecretString;
  };
}
