/**
 * One GET against the AWS Parameters and Secrets Lambda Extension's local HTTP endpoint, shared by the vending
 * function (the Momento key) and the authorizer (the API-key table).
 *
 * `node:http` rather than the global `fetch`: grpc-js and aws-jwt-verify load `node:http` anyway, while the first
 * `fetch` call loads Node's bundled undici synchronously (~35 ms here, measured by `npm run bench`) — cold start.
 */
import { request } from 'node:http';

/** Where and how to reach the extension. */
export interface ExtensionRequest {
  /** Secret name or ARN. */
  readonly secretId: string;
  /** The extension's port (`PARAMETERS_SECRETS_EXTENSION_HTTP_PORT`). */
  readonly port: number;
  /** The extension's host. @default 'localhost' */
  readonly host?: string;
  /** `X-Aws-Parameters-Secrets-Token`: the function's `AWS_SESSION_TOKEN` (the extension's SSRF guard). */
  readonly sessionToken: string;
  /** Give up after this long. */
  readonly timeoutMs: number;
}

/** The extension's answer: status and body (Secrets Manager's JSON reply, or its error text). */
export interface ExtensionReply {
  readonly status: number;
  readonly body: string;
}

/** Why a read failed before an answer arrived. */
export class ExtensionUnreachableError extends Error {
  override readonly name = 'ExtensionUnreachableError';
  constructor(
    readonly reason: 'timeout' | 'unreachable' | 'too-large',
    options?: { cause?: unknown },
  ) {
    super(`secrets extension ${reason}`, options);
  }
}

// Secrets Manager caps a secret at 64 KB; its JSON envelope adds little. Refuse anything much larger.
const MAX_REPLY_BYTES = 256 * 1024;

/** The extension's port from the environment. @default 2773 */
export function extensionPort(): number {
  const port = Number(process.env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT);
  return Number.isInteger(port) && port > 0 ? port : 2773;
}

/** GETs `/secretsmanager/get?secretId=…`. Rejects only with {@link ExtensionUnreachableError}; never with the value. */
export function getFromExtension(options: ExtensionRequest): Promise<ExtensionReply> {
  const path = `/secretsmanager/get?secretId=${encodeURIComponent(options.secretId)}`;
  return new Promise<ExtensionReply>((resolve, reject) => {
    const req = request(
      {
        host: options.host ?? 'localhost',
        port: options.port,
        path,
        method: 'GET',
        headers: { 'X-Aws-Parameters-Secrets-Token': options.sessionToken },
        timeout: options.timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_REPLY_BYTES) req.destroy(new ExtensionUnreachableError('too-large'));
          else chunks.push(chunk);
        });
        res.on('error', (err) =>
          reject(
            err instanceof ExtensionUnreachableError
              ? err
              : new ExtensionUnreachableError('unreachable', { cause: err }),
          ),
        );
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('timeout', () => req.destroy(new ExtensionUnreachableError('timeout')));
    req.on('error', (err) =>
      reject(
        err instanceof ExtensionUnreachableError ? err : new ExtensionUnreachableError('unreachable', { cause: err }),
      ),
    );
    req.end();
  });
}
