/**
 * The one secret reader of both functions: the vending function reads the Momento key with it
 * (lambda/momento/key-source.ts), the authorizer its API-key table (authorizers/handler.ts).
 *
 * One `GetSecretValue` call to Secrets Manager in the function's region (common/aws/), signed with the execution
 * role's credentials from the environment. `AWS_ENDPOINT_URL_SECRETS_MANAGER` / `AWS_ENDPOINT_URL` point it at a
 * local stub, as they do for the AWS SDKs.
 *
 * Failures are {@link SecretReadError}s with a code that says what the operator must do — or that nothing needs
 * doing (`secret-unavailable`: retry later). No message ever contains the secret value or a credential.
 */
import { SECRET_READ_TIMEOUT_MS } from '../config/limits';
import { AwsCallError, AwsConfigError, awsJsonCall, SECRETS_MANAGER } from './aws';

/**
 * How long one read may take, in both functions (Secrets Manager answers in tens of milliseconds). Defined with
 * the vending function's timeout budget (config/limits.ts), which counts two reads.
 */
export { SECRET_READ_TIMEOUT_MS };

/** Why a read failed. */
export type SecretReadFailure =
  /** No such secret (name/ARN or region wrong): ResourceNotFoundException. */
  | 'secret-missing'
  /** The secret exists but has no current value, or a binary one. */
  | 'secret-empty'
  /** Not allowed (AccessDenied, KMS decrypt failure), scheduled for deletion, no credentials, or a bad answer. */
  | 'secret-unreadable'
  /** Passing trouble — timeout, connection refused or reset, throttling, Secrets Manager 5xx: retry later. */
  | 'secret-unavailable';

/** A failed secret read; `code` says why. `cause` holds the AWS call error (never a value). */
export class SecretReadError extends Error {
  override readonly name = 'SecretReadError';
  constructor(
    readonly code: SecretReadFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
  /** `true` for `secret-unavailable`: the same read may succeed shortly. */
  get transient(): boolean {
    return this.code === 'secret-unavailable';
  }
}

/** Options of {@link readSecretString}. */
export interface ReadSecretOptions {
  /** Give up after this long (a `secret-unavailable` failure). @default SECRET_READ_TIMEOUT_MS */
  readonly timeoutMs?: number;
  /** Region, credentials and endpoint variables. @default process.env, read on each call */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

// Secrets Manager answers ResourceNotFoundException both for an unknown secret and for a secret without an
// AWSCURRENT version (created empty by the stack); its message tells them apart.
const NO_CURRENT_VALUE = /AWSCURRENT|staging label|secret value/i;

function fromAwsError(err: AwsCallError, secretId: string): SecretReadError {
  if (err.kind === 'transient') {
    return new SecretReadError(
      'secret-unavailable',
      `Secrets Manager could not be read for secret "${secretId}" right now (${err.failure}${err.errorType ? `: ${err.errorType}` : ''})`,
      { cause: err },
    );
  }
  switch (err.errorType) {
    case 'ResourceNotFoundException':
      return NO_CURRENT_VALUE.test(err.message)
        ? new SecretReadError('secret-empty', `Secret "${secretId}" has no value yet`, {
            cause: err,
          })
        : new SecretReadError(
            'secret-missing',
            `Secret "${secretId}" does not exist (check the name/ARN and the region)`,
            { cause: err },
          );
    case 'AccessDeniedException':
      return new SecretReadError(
        'secret-unreadable',
        `Not allowed to read secret "${secretId}" (the execution role needs secretsmanager:GetSecretValue on it)`,
        { cause: err },
      );
    case 'DecryptionFailure':
    case 'KMSAccessDeniedException':
    case 'KMSDisabledException':
    case 'KMSInvalidStateException':
      return new SecretReadError(
        'secret-unreadable',
        `Secret "${secretId}" cannot be decrypted (for a customer-managed KMS key the execution role needs kms:Decrypt, and the key must be enabled)`,
        { cause: err },
      );
    default:
      return new SecretReadError(
        'secret-unreadable',
        `Secret "${secretId}" cannot be read: ${err.errorType ?? err.failure}${err.status ? ` (HTTP ${err.status})` : ''}`,
        { cause: err },
      );
  }
}

/**
 * Reads the secret's current `SecretString` (`GetSecretValue` on `AWSCURRENT`).
 *
 * @throws SecretReadError — `secret-missing`, `secret-empty` (no current version, empty or binary value),
 * `secret-unreadable` (access denied, KMS, deleted, no credentials/region, malformed answer) or
 * `secret-unavailable` (timeout, connection error, throttling, 5xx)
 * @example
 * const text = await readSecretString(process.env.TVM_SECRET_ID!);
 */
export async function readSecretString(secretId: string, options: ReadSecretOptions = {}): Promise<string> {
  const timeoutMs = options.timeoutMs ?? SECRET_READ_TIMEOUT_MS;
  let reply: { SecretString?: unknown };
  try {
    reply = await awsJsonCall<{ SecretString?: unknown }>({
      service: SECRETS_MANAGER,
      operation: 'GetSecretValue',
      body: { SecretId: secretId },
      timeoutMs,
      env: options.env,
    });
  } catch (err) {
    if (err instanceof AwsCallError) throw fromAwsError(err, secretId);
    if (err instanceof AwsConfigError)
      throw new SecretReadError('secret-unreadable', `Cannot call Secrets Manager: ${err.message}`, { cause: err });
    throw err;
  }
  if (typeof reply.SecretString !== 'string' || reply.SecretString === '')
    throw new SecretReadError('secret-empty', `Secret "${secretId}" has no SecretString (is it empty or binary?)`);
  return reply.SecretString;
}
