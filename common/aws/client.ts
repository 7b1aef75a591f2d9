/**
 * One AWS JSON-protocol call (Secrets Manager, DynamoDB, Cognito user pools): `POST /` with `X-Amz-Target`,
 * signed with SigV4 by `aws4` (chosen by measurement over `@smithy/signature-v4`: docs/decisions.md), sent with
 * `node:http`/`node:https` through one keep-alive agent per protocol that every call reuses.
 *
 * Not the global `fetch`: its first call loads Node's bundled undici (~35 ms of cold start, `npm run bench`).
 *
 * Failures reject with {@link AwsCallError}, classified as the AWS SDKs classify them: `transient` (timeout,
 * connection error, throttling error types, HTTP 5xx/429 — worth a retry later) or `permanent`. Messages name
 * the operation, the AWS error type and AWS's error message; never credentials, signatures or a 2xx body.
 */
import type * as Http from 'node:http';
import type { ClientRequest, IncomingMessage } from 'node:http';
import type * as Https from 'node:https';
import type * as Aws4 from 'aws4';
import { credentialsFromEnv, regionFromEnv, resolveEndpoint } from './environment';
import type { AwsService } from './services';

/** What went wrong, in a word; `kind` says whether it is worth retrying. */
export type AwsFailure =
  | 'timeout' // no complete answer within timeoutMs
  | 'connection' // refused, reset, DNS: the request may not have reached AWS
  | 'throttled' // a throttling error type, or HTTP 429
  | 'server' // HTTP 5xx
  | 'service' // AWS answered with an error type (4xx): ResourceNotFoundException, AccessDeniedException, …
  | 'protocol'; // an answer that is not what the protocol promises (not JSON, too large)

/** A failed AWS call. Never carries credentials or a response body that could hold a secret. */
export class AwsCallError extends Error {
  override readonly name = 'AwsCallError';
  /** `transient`: retrying later may succeed (answer 503). `permanent`: it will not until something changes. */
  readonly kind: 'transient' | 'permanent';
  constructor(
    /** e.g. `secretsmanager.GetSecretValue`. */
    readonly target: string,
    readonly failure: AwsFailure,
    detail: {
      /** AWS error type without namespace, e.g. `ResourceNotFoundException`. */
      readonly errorType?: string;
      /** HTTP status, when an answer arrived. */
      readonly status?: number;
      /** Human-readable reason (AWS's own error message for `service` failures). */
      readonly message: string;
      readonly cause?: unknown;
    },
  ) {
    super(
      `${target} failed (${[detail.errorType, detail.status && `HTTP ${detail.status}`].filter(Boolean).join(', ') || failure}): ${detail.message}`,
      detail.cause === undefined ? undefined : { cause: detail.cause },
    );
    this.errorType = detail.errorType;
    this.status = detail.status;
    this.kind = failure === 'service' || failure === 'protocol' ? 'permanent' : 'transient';
  }
  readonly errorType: string | undefined;
  readonly status: number | undefined;
}

// The AWS SDKs' lists (@smithy/service-error-classification): these error types mean "slow down", or "try again".
const THROTTLING_TYPES = new Set([
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
  'LimitExceededException',
  'PriorRequestNotComplete',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ThrottledException',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'TransactionInProgressException',
]);
const TRANSIENT_TYPES = new Set(['RequestTimeout', 'RequestTimeoutException']);

/**
 * Classifies an AWS error answer. Exported for tests and for callers that map error types themselves.
 *
 * @param errorType the error type without namespace (see {@link parseErrorType}), if any
 */
export function classifyAwsError(status: number, errorType: string | undefined): AwsFailure {
  if (errorType && THROTTLING_TYPES.has(errorType)) return 'throttled';
  if (status === 429) return 'throttled';
  if (errorType && TRANSIENT_TYPES.has(errorType)) return 'timeout';
  if (status >= 500) return 'server';
  return 'service';
}

/**
 * The error type of a JSON-protocol error answer: the `x-amzn-ErrorType` header, else the body's `__type`
 * (or `code`), with the namespace (`com.amazonaws.secretsmanager#`) and any `:http://…` suffix removed.
 */
export function parseErrorType(header: string | undefined, body: unknown): string | undefined {
  const fromBody = (b: unknown): unknown =>
    typeof b === 'object' && b !== null
      ? ((b as Record<string, unknown>).__type ?? (b as Record<string, unknown>).code)
      : undefined;
  const raw = header || fromBody(body);
  if (typeof raw !== 'string' || raw === '') return undefined;
  const name = raw.split(':')[0]!.split('#').pop()!.trim();
  return /^[A-Za-z0-9_.]{1,128}$/.test(name) ? name : undefined;
}

// AWS's error messages name resources and principals, never secret values; still, keep them short and printable.
function errorMessageOf(body: unknown): string {
  const b = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const m = b.message ?? b.Message;
  return typeof m === 'string' && m !== '' ? m.replace(/[^\x20-\x7e]/g, ' ').slice(0, 300) : 'no message';
}

/** One call. */
export interface AwsJsonCall {
  /** The service: signing name, endpoint, JSON version, target prefix. */
  readonly service: AwsService;
  /** Operation name, e.g. `GetSecretValue` (→ `X-Amz-Target: secretsmanager.GetSecretValue`). */
  readonly operation: string;
  /** The request document (serialized with `JSON.stringify`). */
  readonly body: unknown;
  /** The whole call (connect, send, answer) must finish within this long, or it fails `transient`/`timeout`. */
  readonly timeoutMs: number;
  /**
   * The region to call (and sign for), when it is not the function's: a Cognito user pool's own region.
   * @default - `AWS_REGION`, else `AWS_DEFAULT_REGION`
   */
  readonly region?: string;
  /** Where region, credentials and endpoint variables are read, on each call. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Refuse answers larger than this. @default 2 MiB */
  readonly maxResponseBytes?: number;
}

interface Transport {
  readonly sign: typeof Aws4.sign;
  readonly request: typeof Http.request;
  /** One keep-alive agent, reused by every call of the container: DynamoDB is called per request, and a fresh
   * TLS handshake costs more than the call itself. */
  readonly agent: Http.Agent;
}
let httpsTransport: Transport | undefined;
let httpTransport: Transport | undefined;

/**
 * Loads the signer and the HTTP stack on the first call, not at import: a container that never calls AWS (or not
 * before its first request) does not pay for them at init (`node:https` + `aws4` ≈ 4–9 ms of `require` here). A
 * `require` inside a function stays lazy in the esbuild CommonJS bundle.
 */
function transport(secure: boolean): Transport {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { sign } = require('aws4') as typeof Aws4;
  if (secure) {
    const https = require('node:https') as typeof Https;
    return (httpsTransport ??= { sign, request: https.request, agent: new https.Agent({ keepAlive: true }) });
  }
  const http = require('node:http') as typeof Http;
  return (httpTransport ??= { sign, request: http.request, agent: new http.Agent({ keepAlive: true }) });
  /* eslint-enable @typescript-eslint/no-require-imports */
}

/**
 * Sends one signed JSON-protocol request and returns the parsed answer document.
 *
 * A request that fails with a connection reset on a reused keep-alive socket (the server closed it while the
 * container was frozen) is sent once more on a new socket, within the same `timeoutMs`.
 *
 * @throws AwsCallError for every failure of the call; AwsConfigError when region or credentials are missing
 * @example
 * const answer = await awsJsonCall<{ SecretString?: string }>({
 *   service: SECRETS_MANAGER, operation: 'GetSecretValue', body: { SecretId: 'tvm/momento' }, timeoutMs: 2000,
 * });
 */
export async function awsJsonCall<T = Record<string, unknown>>(call: AwsJsonCall): Promise<T> {
  const env = call.env ?? process.env;
  const region = call.region ?? regionFromEnv(env);
  const endpoint = resolveEndpoint(call.service, region, env);
  const target = `${call.service.targetPrefix}.${call.operation}`;
  const body = JSON.stringify(call.body);
  const secure = endpoint.protocol === 'https:';
  const { sign, request: send, agent } = transport(secure);
  const signed = sign(
    {
      host: endpoint.host,
      path: endpoint.pathname || '/',
      method: 'POST',
      service: call.service.signingName,
      region,
      headers: {
        Host: endpoint.host,
        'Content-Type': `application/x-amz-json-${call.service.jsonVersion}`,
        'X-Amz-Target': target,
        'Content-Length': String(Buffer.byteLength(body)),
      },
      body,
    },
    credentialsFromEnv(env),
  );
  const headers = signed.headers as Record<string, string>;
  const maxBytes = call.maxResponseBytes ?? 2 * 1024 * 1024;
  const started = Date.now();

  const attempt = (retryOnStaleSocket: boolean): Promise<{ status: number; errorHeader?: string; text: string }> =>
    new Promise((resolve, reject) => {
      let settled = false;
      const fail = (err: AwsCallError): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(err);
      };
      const req: ClientRequest = send(
        {
          protocol: endpoint.protocol,
          hostname: endpoint.hostname.replace(/^\[|\]$/g, ''),
          port: endpoint.port || undefined,
          path: endpoint.pathname || '/',
          method: 'POST',
          headers,
          agent,
        },
        (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > maxBytes) {
              fail(
                new AwsCallError(target, 'protocol', {
                  status: res.statusCode,
                  message: `answer exceeds ${maxBytes} bytes`,
                }),
              );
              req.destroy();
            } else chunks.push(chunk);
          });
          res.on('error', (cause) =>
            fail(
              new AwsCallError(target, 'connection', {
                message: `answer interrupted (${codeOf(cause)})`,
                cause: bare(cause),
              }),
            ),
          );
          res.on('end', () => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            const errorHeader = res.headers['x-amzn-errortype'];
            resolve({
              status: res.statusCode ?? 0,
              errorHeader: Array.isArray(errorHeader) ? errorHeader[0] : errorHeader,
              text: Buffer.concat(chunks).toString('utf8'),
            });
          });
        },
      );
      const timer = setTimeout(
        () => {
          fail(new AwsCallError(target, 'timeout', { message: `no answer within ${call.timeoutMs} ms` }));
          req.destroy();
        },
        Math.max(0, call.timeoutMs - (Date.now() - started)),
      );
      req.on('error', (cause: NodeJS.ErrnoException) => {
        if (settled) return;
        // Node's documented pattern for keep-alive: the server may close an idle socket just as we reuse it.
        if (retryOnStaleSocket && req.reusedSocket && (cause.code === 'ECONNRESET' || cause.code === 'EPIPE')) {
          settled = true;
          clearTimeout(timer);
          attempt(false).then(resolve, reject);
          return;
        }
        fail(
          new AwsCallError(target, 'connection', {
            message: `cannot reach ${endpoint.host} (${codeOf(cause)})`,
            cause: bare(cause),
          }),
        );
      });
      req.end(body);
    });

  const { status, errorHeader, text } = await attempt(true);
  let doc: unknown;
  try {
    doc = text === '' ? {} : JSON.parse(text);
  } catch {
    // No cause and no excerpt: a JSON.parse error quotes the text, and a 2xx text can hold a secret.
    if (status >= 200 && status < 300)
      throw new AwsCallError(target, 'protocol', { status, message: 'answer is not JSON' });
    doc = undefined;
  }
  if (status >= 200 && status < 300) {
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
      throw new AwsCallError(target, 'protocol', { status, message: 'answer is not a JSON object' });
    return doc as T;
  }
  const errorType = parseErrorType(errorHeader, doc);
  return Promise.reject(
    new AwsCallError(target, classifyAwsError(status, errorType), { errorType, status, message: errorMessageOf(doc) }),
  );
}

function codeOf(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : 'no answer';
}

// Keep the network error's code and syscall for the logs, not the object graph (it references the request,
// whose headers hold the signature and session token).
function bare(err: unknown): Error {
  const e = err as NodeJS.ErrnoException;
  const copy = new Error(e?.message ?? String(err));
  copy.name = e?.name ?? 'Error';
  if (e?.code) (copy as NodeJS.ErrnoException).code = e.code;
  if (e?.syscall) (copy as NodeJS.ErrnoException).syscall = e.syscall;
  return copy;
}
