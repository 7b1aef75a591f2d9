/**
 * A local stand-in for AWS Secrets Manager's `GetSecretValue` on 127.0.0.1, for the integration tests, unit tests
 * and the benchmark. Point the code at it with `AWS_ENDPOINT_URL_SECRETS_MANAGER` (its `env` has that plus the
 * region and the credentials it accepts).
 *
 * It checks each request as Secrets Manager would before answering: `POST /`, `X-Amz-Target:
 * secretsmanager.GetSecretValue`, `Content-Type: application/x-amz-json-1.1`, the session token, and the SigV4
 * signature — recomputed with `@smithy/signature-v4` (the AWS SDK's signer), an implementation independent of
 * the `aws4` signer the functions use. A request that fails a check gets Secrets Manager's error answer and is
 * counted in `refused` with the reason.
 *
 * Then it answers what the test set for that secret id: the value, or an AWS error, a 500, a hang, a dropped
 * connection. Loopback only; `close()` ends every connection, and the server never keeps the process alive.
 */
import { createHash, createHmac } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignatureV4 } from '@smithy/signature-v4';

/** What the stub answers for a secret id. */
export type SecretsManagerBehavior =
  /** 200 with `SecretString` (may be `''`), after `delayMs` if given. */
  | { readonly value: string; readonly delayMs?: number }
  /** 200 with `SecretBinary` and no `SecretString`. */
  | 'binary'
  /** 400 ResourceNotFoundException: no such secret. */
  | 'not-found'
  /** 400 ResourceNotFoundException for AWSCURRENT: the secret exists but never got a value (created empty). */
  | 'no-value'
  /** 400 AccessDeniedException: the role may not read it. */
  | 'access-denied'
  /** 400 DecryptionFailure: KMS refused to decrypt it. */
  | 'decryption-failure'
  /** 400 ThrottlingException. */
  | 'throttled'
  /** 500 InternalServiceError. */
  | 'server-error'
  /** Never answers (until `close()`). */
  | 'hang'
  /** Destroys the connection without an answer. */
  | 'drop';

/** One request that passed every check. */
export interface SecretsManagerRead {
  readonly secretId: string;
  /** Access key id of the credential scope. */
  readonly accessKeyId: string;
  /** Region of the credential scope. */
  readonly region: string;
  /** Headers covered by the signature. */
  readonly signedHeaders: readonly string[];
}

/** A running stub. */
export interface SecretsManagerStub {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /**
   * Environment that points a client at this stub: `AWS_ENDPOINT_URL_SECRETS_MANAGER`, `AWS_REGION`,
   * `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`.
   */
  readonly env: Readonly<Record<string, string>>;
  /** Verified `GetSecretValue` requests, in order (whatever was answered). */
  readonly reads: SecretsManagerRead[];
  /** Requests refused by a check, with the reason (e.g. `signature mismatch`, `session token`). */
  readonly refused: string[];
  /** Sets the answer for `secretId`, or for every id without its own (`'*'`). */
  set(secretId: string, behavior: SecretsManagerBehavior): void;
  /** Stops listening and ends every connection (connections are then refused). */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** Options of {@link startSecretsManagerStub}. */
export interface SecretsManagerStubOptions {
  /** Region the stub serves (the credential scope must name it). @default 'us-west-2' */
  readonly region?: string;
  /** The only credentials it accepts. @default fixed test values */
  readonly credentials?: {
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly sessionToken: string;
  };
  /** Answers by secret id; `'*'` for any other id. @default {} (every id: not-found) */
  readonly secrets?: Readonly<Record<string, SecretsManagerBehavior>>;
}

/** The credentials the stub accepts by default (dummy values, for tests only). */
export const STUB_CREDENTIALS = {
  accessKeyId: 'AKIDSTUBEXAMPLE00001',
  secretAccessKey: 'stub-secret-access-key-for-tests-only',
  sessionToken: 'stub-session-token-for-tests-only',
} as const;

type Bytes = string | ArrayBuffer | ArrayBufferView;
const toBuffer = (data: Bytes): Buffer =>
  typeof data === 'string'
    ? Buffer.from(data, 'utf8')
    : ArrayBuffer.isView(data)
      ? Buffer.from(data.buffer, data.byteOffset, data.byteLength)
      : Buffer.from(data);

/** SHA-256 / HMAC-SHA-256 in the shape `@smithy/signature-v4` takes (what `@smithy/hash-node` provides). */
class NodeSha256 {
  private hash: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;
  constructor(private readonly secret?: Bytes) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(secret));
  }
  update(data: Bytes): void {
    this.hash.update(toBuffer(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
  reset(): void {
    this.hash = this.secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(this.secret));
  }
}

const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;
// Headers a Secrets Manager request must sign (a signature that leaves them out would let them be changed).
const MUST_SIGN = ['host', 'x-amz-date', 'x-amz-target', 'x-amz-security-token', 'content-type'];

/** `20261126T123456Z` → Date. */
function parseAmzDate(value: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  return m ? new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!)) : undefined;
}

const AWS_ERRORS: Record<string, { status: number; type: string; message: string }> = {
  'not-found': {
    status: 400,
    type: 'ResourceNotFoundException',
    message: "Secrets Manager can't find the specified secret.",
  },
  'no-value': {
    status: 400,
    type: 'ResourceNotFoundException',
    message: "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT",
  },
  'access-denied': {
    status: 400,
    type: 'AccessDeniedException',
    message:
      'User: arn:aws:sts::123456789012:assumed-role/tvm-fn/tvm is not authorized to perform: secretsmanager:GetSecretValue',
  },
  'decryption-failure': {
    status: 400,
    type: 'DecryptionFailure',
    message: 'Secrets Manager can’t decrypt the protected secret text using the provided KMS key.',
  },
  throttled: { status: 400, type: 'ThrottlingException', message: 'Rate exceeded' },
  'server-error': { status: 500, type: 'InternalServiceError', message: 'An error occurred on the server side.' },
};

/** Starts the stub on 127.0.0.1 (a free port). */
export async function startSecretsManagerStub(options: SecretsManagerStubOptions = {}): Promise<SecretsManagerStub> {
  const region = options.region ?? 'us-west-2';
  const credentials = options.credentials ?? STUB_CREDENTIALS;
  const behaviors = new Map<string, SecretsManagerBehavior>(Object.entries(options.secrets ?? {}));
  const reads: SecretsManagerRead[] = [];
  const refused: string[] = [];
  const signer = new SignatureV4({
    service: 'secretsmanager',
    region,
    credentials,
    sha256: NodeSha256,
    applyChecksum: false,
  });

  const awsError = (res: http.ServerResponse, status: number, type: string, message: string): void => {
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': 'stub' });
    res.end(JSON.stringify({ __type: type, message }));
  };

  /** Every check a real endpoint makes before it looks at the secret; returns the refusal, if any. */
  async function check(
    req: http.IncomingMessage,
    body: string,
  ): Promise<{ status: number; type: string; reason: string; read?: SecretsManagerRead }> {
    const refuse = (status: number, type: string, reason: string) => ({ status, type, reason });
    if (req.method !== 'POST' || (req.url ?? '/') !== '/')
      return refuse(404, 'UnknownOperationException', 'not POST /');
    if (req.headers['x-amz-target'] !== 'secretsmanager.GetSecretValue')
      return refuse(400, 'UnknownOperationException', 'X-Amz-Target');
    if (req.headers['content-type'] !== 'application/x-amz-json-1.1')
      return refuse(400, 'SerializationException', 'content type');
    const auth = AUTHORIZATION.exec(req.headers.authorization ?? '');
    if (!auth) return refuse(400, 'IncompleteSignatureException', 'authorization header');
    const [, accessKeyId, day, scopeRegion, service, signedList, signature] = auth as unknown as string[];
    if (accessKeyId !== credentials.accessKeyId) return refuse(400, 'UnrecognizedClientException', 'access key id');
    if (req.headers['x-amz-security-token'] !== credentials.sessionToken)
      return refuse(400, 'UnrecognizedClientException', 'session token');
    if (scopeRegion !== region || service !== 'secretsmanager')
      return refuse(400, 'InvalidSignatureException', 'credential scope');
    const signedHeaders = signedList!.split(';');
    const unsigned = MUST_SIGN.filter((h) => !signedHeaders.includes(h));
    if (unsigned.length > 0) return refuse(400, 'InvalidSignatureException', `unsigned ${unsigned.join(',')}`);
    const amzDate = String(req.headers['x-amz-date'] ?? '');
    const signingDate = parseAmzDate(amzDate);
    if (!signingDate || !amzDate.startsWith(day!)) return refuse(400, 'IncompleteSignatureException', 'x-amz-date');
    if (Math.abs(Date.now() - signingDate.getTime()) > 5 * 60_000)
      return refuse(400, 'InvalidSignatureException', 'signature expired');
    const headers: Record<string, string> = {};
    for (const name of signedHeaders) {
      const value = req.headers[name];
      if (value === undefined) return refuse(400, 'IncompleteSignatureException', `missing signed header ${name}`);
      headers[name] = Array.isArray(value) ? value.join(',') : value;
    }
    const expected = await signer.sign(
      { method: 'POST', protocol: 'http:', hostname: headers.host ?? '', path: '/', query: {}, headers, body },
      { signingDate, signingRegion: region, signingService: 'secretsmanager' },
    );
    const expectedSignature = /Signature=([0-9a-f]{64})/.exec(String(expected.headers.authorization ?? ''))?.[1];
    if (expectedSignature !== signature) return refuse(400, 'InvalidSignatureException', 'signature mismatch');
    let secretId: unknown;
    try {
      secretId = (JSON.parse(body) as { SecretId?: unknown }).SecretId;
    } catch {
      return refuse(400, 'SerializationException', 'body not JSON');
    }
    if (typeof secretId !== 'string' || secretId === '') return refuse(400, 'InvalidParameterException', 'SecretId');
    return { status: 200, type: '', reason: '', read: { secretId, accessKeyId: accessKeyId!, region, signedHeaders } };
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void check(req, Buffer.concat(chunks).toString('utf8')).then(
        (verdict) => {
          if (!verdict.read) {
            refused.push(verdict.reason);
            awsError(res, verdict.status, verdict.type, `request refused by the stub: ${verdict.reason}`);
            return;
          }
          const { secretId } = verdict.read;
          reads.push(verdict.read);
          const behavior = behaviors.get(secretId) ?? behaviors.get('*') ?? 'not-found';
          if (behavior === 'hang') return;
          if (behavior === 'drop') {
            req.socket.destroy();
            return;
          }
          if (typeof behavior === 'string' && behavior !== 'binary') {
            const e = AWS_ERRORS[behavior]!;
            awsError(res, e.status, e.type, e.message);
            return;
          }
          const answer = JSON.stringify({
            ARN: `arn:aws:secretsmanager:${region}:123456789012:secret:${secretId}-AbCdEf`,
            Name: secretId,
            ...(behavior === 'binary' ? { SecretBinary: 'AAECAw==' } : { SecretString: behavior.value }),
            VersionId: '00000000-0000-4000-8000-000000000000',
            VersionStages: ['AWSCURRENT'],
            CreatedDate: 1767225600,
          });
          const send = () => void res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' }).end(answer);
          const delayMs = typeof behavior === 'object' ? (behavior.delayMs ?? 0) : 0;
          if (delayMs > 0) setTimeout(send, delayMs).unref();
          else send();
        },
        () => awsError(res, 500, 'InternalServiceError', 'stub failure'),
      );
    });
  });
  // Never keep a test or benchmark process alive.
  server.unref();
  server.on('connection', (socket) => socket.unref());

  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
      server.closeAllConnections();
    });
  await listen(0);
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    port,
    env: {
      AWS_ENDPOINT_URL_SECRETS_MANAGER: url,
      AWS_REGION: region,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_SESSION_TOKEN: credentials.sessionToken,
    },
    reads,
    refused,
    set: (secretId, behavior) => void behaviors.set(secretId, behavior),
    stop,
    restart: () => listen(port),
    close: stop,
  };
}

/**
 * One stub for the enclosing `describe` block: started before its tests, closed after them, its records
 * (`reads`, `refused`) cleared before each test. Use it through the handle (`sm.stub`) inside the tests.
 */
export function useSecretsManagerStub(options?: SecretsManagerStubOptions): { readonly stub: SecretsManagerStub } {
  let current: SecretsManagerStub | undefined;
  beforeAll(async () => {
    current = await startSecretsManagerStub(options);
  });
  afterAll(() => current?.close());
  beforeEach(() => {
    current?.reads.splice(0);
    current?.refused.splice(0);
  });
  return {
    get stub(): SecretsManagerStub {
      if (current === undefined) throw new Error('the Secrets Manager stub starts in beforeAll: use it inside a test');
      return current;
    },
  };
}
