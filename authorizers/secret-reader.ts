/**
 * Reads a secret through the AWS Parameters and Secrets Lambda Extension's local HTTP endpoint.
 *
 * Deliberately tiny and separate from the vending function's reader: the authorizer needs one secret, rarely,
 * and `@aws-sdk/client-secrets-manager` alone costs ~70 ms of cold start (DESIGN.md §6). Nothing is loaded or
 * fetched until the first `ApiKey` request.
 */
import { request } from 'node:http';

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

// Secrets Manager caps a secret at 64 KB; its JSON envelope adds little. Refuse anything much larger.
const MAX_REPLY_BYTES = 256 * 1024;

/**
 * Returns a function that reads the secret's `SecretString`. Errors say what went wrong, never the secret.
 */
export function createExtensionSecretReader(options: ExtensionSecretReaderOptions): () => Promise<string> {
  const { secretId, port = 2773, host = 'localhost', timeoutMs = 1500 } = options;
  const path = `/secretsmanager/get?secretId=${encodeURIComponent(secretId)}`;
  return () =>
    new Promise<string>((resolve, reject) => {
      const token = options.sessionToken();
      if (!token) {
        reject(new Error('AWS_SESSION_TOKEN is not set; the secrets extension needs it'));
        return;
      }
      const req = request(
        { host, port, path, method: 'GET', headers: { 'X-Aws-Parameters-Secrets-Token': token }, timeout: timeoutMs },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_REPLY_BYTES) req.destroy(new Error('secrets extension reply too large'));
            else chunks.push(chunk);
          });
          res.on('error', reject);
          res.on('end', () => {
            if (res.statusCode !== 200) {
              reject(new Error(`secrets extension answered ${res.statusCode ?? 'no status'} for ${secretId}`));
              return;
            }
            try {
              const reply = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { SecretString?: unknown };
              if (typeof reply.SecretString !== 'string' || reply.SecretString === '') {
                reject(new Error(`secret ${secretId} has no SecretString (is it empty or binary?)`));
                return;
              }
              resolve(reply.SecretString);
            } catch {
              reject(new Error('secrets extension reply is not JSON'));
            }
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`secrets extension did not answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end();
    });
}
