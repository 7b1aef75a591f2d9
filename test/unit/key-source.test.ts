import { MisconfiguredError, SecretUnavailableError, TvmError } from '../../lambda/errors';
import { secretsManagerKeySource, staticKeySource } from '../../lambda/momento/key-source';
import {
  startSecretsManagerStub,
  useSecretsManagerStub,
  type SecretsManagerBehavior,
} from '../support/secrets-manager-stub';

const SECRET_ID = 'arn:aws:secretsmanager:us-west-2:123456789012:secret:tvm/key-AbCdEf';
const KEY = 'eyJhbGciOiJIUzI1NiJ9.eyJ0IjoiZyJ9.c2VjcmV0LXNpZ25hdHVyZQ';

async function rejection(p: Promise<unknown>): Promise<TvmError> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TvmError);
  return error as TvmError;
}

describe('Function: secretsManagerKeySource', () => {
  const sm = useSecretsManagerStub();
  const answer = (behavior: SecretsManagerBehavior) => sm.stub.set(SECRET_ID, behavior);
  const source = (extra: Partial<Parameters<typeof secretsManagerKeySource>[0]> = {}) =>
    secretsManagerKeySource({ secretId: SECRET_ID, env: sm.stub.env, ...extra });

  it('reads the raw key (trimmed) with a signed GetSecretValue carrying the session token', async () => {
    // Prepare
    answer({ value: `  ${KEY}\n` });

    // Act
    const key = await source().getKey();

    // Assess: the stub verified target, session token and signature before answering.
    expect(key).toBe(KEY);
    expect(sm.stub.refused).toEqual([]);
    expect(sm.stub.reads).toEqual([expect.objectContaining({ secretId: SECRET_ID, region: 'us-west-2' })]);
    expect(sm.stub.reads[0]?.signedHeaders).toEqual(expect.arrayContaining(['x-amz-security-token', 'x-amz-target']));
  });

  it('accepts the JSON form {"apiKey": "..."}', async () => {
    answer({ value: JSON.stringify({ apiKey: ` ${KEY} ` }) });
    await expect(source().getKey()).resolves.toBe(KEY);
  });

  it('reads region, credentials and endpoint from process.env on each read', async () => {
    // Prepare
    const saved = { ...process.env };
    Object.assign(process.env, sm.stub.env);
    answer({ value: KEY });
    try {
      // Act
      const key = await secretsManagerKeySource({ secretId: SECRET_ID }).getKey();
      // Assess
      expect(key).toBe(KEY);
      expect(sm.stub.reads).toHaveLength(1);
    } finally {
      process.env = saved;
    }
  });

  it('caches the key per container', async () => {
    answer({ value: KEY });
    const keys = source();
    await keys.getKey();
    await keys.getKey();
    expect(sm.stub.reads).toHaveLength(1);
  });

  it('reads again after invalidate() and returns the new value', async () => {
    // Prepare
    const keys = source();
    answer({ value: 'old-key' });
    await keys.getKey();
    answer({ value: 'new-key' });

    // Act
    keys.invalidate();
    const key = await keys.getKey();

    // Assess
    expect(key).toBe('new-key');
    expect(sm.stub.reads).toHaveLength(2);
  });

  it('shares one request between concurrent first reads (single-flight)', async () => {
    // Prepare
    answer({ value: KEY, delayMs: 50 });
    const keys = source();

    // Act
    const results = await Promise.all(Array.from({ length: 5 }, () => keys.getKey()));

    // Assess
    expect(results).toEqual(Array(5).fill(KEY));
    expect(sm.stub.reads).toHaveLength(1);
  });

  it('does not let a read started before invalidate() repopulate the cache', async () => {
    // Prepare
    const keys = source();
    answer({ value: 'old-key', delayMs: 50 });
    const stale = keys.getKey();

    // Act
    keys.invalidate();
    answer({ value: 'new-key' });
    await stale;
    const key = await keys.getKey();

    // Assess
    expect(key).toBe('new-key');
    expect(sm.stub.reads).toHaveLength(2);
  });

  it('does not cache failures', async () => {
    const keys = source();
    answer('server-error');
    await rejection(keys.getKey());
    answer({ value: KEY });
    await expect(keys.getKey()).resolves.toBe(KEY);
  });

  it.each<[string, string, string]>([
    ['an empty string', '', 'secret-empty'],
    ['only whitespace', ' \n ', 'secret-empty'],
    ['JSON with an empty apiKey', JSON.stringify({ apiKey: '' }), 'secret-empty'],
    ['JSON without apiKey', JSON.stringify({ key: 'S3CRET-value' }), 'secret-invalid'],
    ['broken JSON', '{"apiKey": "S3CRET-value"', 'secret-invalid'],
  ])('refuses %s with a 500', async (_name, secretString, code) => {
    // Prepare
    answer({ value: secretString });

    // Act
    const e = await rejection(source().getKey());

    // Assess
    expect(e).toBeInstanceOf(MisconfiguredError);
    expect(e.code).toBe(code);
    expect(e.status).toBe(500);
    expect(e.message).toContain('tvm/key-AbCdEf');
    expect(`${e.message} ${String(e.cause)}`).not.toContain('S3CRET-value');
  });

  it.each<[string, SecretsManagerBehavior, string, RegExp]>([
    ['ResourceNotFound', 'not-found', 'secret-missing', /does not exist/],
    ['no current version', 'no-value', 'secret-empty', /has no value yet; put the Momento API key into it/],
    ['a binary secret', 'binary', 'secret-empty', /no SecretString/],
    ['AccessDenied', 'access-denied', 'secret-unreadable', /secretsmanager:GetSecretValue/],
    ['a KMS decrypt failure', 'decryption-failure', 'secret-unreadable', /kms:Decrypt/],
  ])('maps %s to a 500 (%s)', async (_name, behavior, code, message) => {
    answer(behavior);
    const e = await rejection(source().getKey());
    expect(e).toBeInstanceOf(MisconfiguredError);
    expect(e.status).toBe(500);
    expect(e.code).toBe(code);
    expect(e.message).toMatch(message);
  });

  it.each<[string, SecretsManagerBehavior, RegExp]>([
    ['throttling', 'throttled', /throttled: ThrottlingException/],
    ['a Secrets Manager 500', 'server-error', /server: InternalServiceError/],
    ['a dropped connection', 'drop', /connection/],
  ])('maps %s to 503 secret-unavailable with Retry-After', async (_name, behavior, reason) => {
    answer(behavior);
    const e = await rejection(source().getKey());
    expect(e).toBeInstanceOf(SecretUnavailableError);
    expect(e).toMatchObject({ status: 503, code: 'secret-unavailable', retryAfterSeconds: 1 });
    // The caller's message is fixed; the operator's reason names the secret and the failure.
    expect(e.message).not.toContain('tvm/key');
    expect((e as SecretUnavailableError).reason).toMatch(reason);
  });

  it('answers 503 when Secrets Manager refuses connections', async () => {
    // Prepare: a port nothing listens on.
    const other = await startSecretsManagerStub();
    await other.close();

    // Act
    const e = await rejection(source({ env: other.env }).getKey());

    // Assess
    expect(e).toMatchObject({ status: 503, code: 'secret-unavailable' });
    expect((e as SecretUnavailableError).reason).toMatch(/connection/);
  });

  it('gives up on a hanging Secrets Manager after timeoutMs (503)', async () => {
    // Prepare: never answer.
    answer('hang');
    const started = Date.now();

    // Act
    const e = await rejection(source({ timeoutMs: 150 }).getKey());

    // Assess
    expect(e).toMatchObject({ status: 503, code: 'secret-unavailable' });
    expect((e as SecretUnavailableError).reason).toMatch(/timeout/);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('refuses credentials the stub does not know (the signature is checked): 500 secret-unreadable', async () => {
    answer({ value: KEY });
    const e = await rejection(
      source({ env: { ...sm.stub.env, AWS_SECRET_ACCESS_KEY: 'wrong-secret-access-key' } }).getKey(),
    );
    expect(e).toMatchObject({ status: 500, code: 'secret-unreadable' });
    expect(sm.stub.refused).toEqual(['signature mismatch']);
  });

  it('refuses a missing secret id', () => {
    expect(() => secretsManagerKeySource({ secretId: '' })).toThrow(MisconfiguredError);
  });
});

describe('Function: staticKeySource', () => {
  it('returns the trimmed key and ignores invalidate()', async () => {
    const keys = staticKeySource(` ${KEY}\n`);
    keys.invalidate();
    await expect(keys.getKey()).resolves.toBe(KEY);
  });

  it('refuses an empty key', () => {
    expect(() => staticKeySource('  ')).toThrow(expect.objectContaining({ code: 'secret-empty' }));
  });
});
