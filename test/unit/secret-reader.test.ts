import { AwsCallError } from '../../common/aws';
import { readSecretString, SECRET_READ_TIMEOUT_MS, SecretReadError } from '../../common/secret-reader';
import { useSecretsManagerStub, type SecretsManagerBehavior } from '../support/secrets-manager-stub';

describe('Function: readSecretString', () => {
  const ID = 'tvm/shared';
  const sm = useSecretsManagerStub();

  const failure = async (p: Promise<unknown>): Promise<SecretReadError> => {
    const e = await p.then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(SecretReadError);
    return e as SecretReadError;
  };

  it('returns SecretString as stored (no trimming: the caller decides)', async () => {
    sm.stub.set(ID, { value: ' {"keys":[]} ' });
    await expect(readSecretString(ID, { env: sm.stub.env })).resolves.toBe(' {"keys":[]} ');
    expect(sm.stub.refused).toEqual([]);
  });

  it('uses one timeout for both functions', () => {
    expect(SECRET_READ_TIMEOUT_MS).toBe(2000);
  });

  it.each<[SecretsManagerBehavior, string, boolean]>([
    ['not-found', 'secret-missing', false],
    ['no-value', 'secret-empty', false],
    ['binary', 'secret-empty', false],
    [{ value: '' }, 'secret-empty', false],
    ['access-denied', 'secret-unreadable', false],
    ['decryption-failure', 'secret-unreadable', false],
    ['throttled', 'secret-unavailable', true],
    ['server-error', 'secret-unavailable', true],
    ['drop', 'secret-unavailable', true],
  ])('%p → %s (transient: %p); an AWS error stays the cause', async (behavior, code, transient) => {
    sm.stub.set(ID, behavior);
    const e = await failure(readSecretString(ID, { env: sm.stub.env }));
    expect({ code: e.code, transient: e.transient }).toEqual({ code, transient });
    expect(e.message).toContain(ID);
    if (typeof behavior === 'string' && behavior !== 'binary') expect(e.cause).toBeInstanceOf(AwsCallError);
  });

  it('maps an AWS error type without a rule (here InvalidSignatureException) to secret-unreadable, naming it', async () => {
    // Prepare: a signature the stub refuses answers InvalidSignatureException, an error type it has no rule for.
    sm.stub.set(ID, { value: 'x' });
    const e = await failure(readSecretString(ID, { env: { ...sm.stub.env, AWS_SECRET_ACCESS_KEY: 'other' } }));
    expect(e.code).toBe('secret-unreadable');
    expect(e.message).toMatch(/InvalidSignatureException \(HTTP 400\)/);
  });

  it('is secret-unreadable, without calling, when the environment has no credentials or region', async () => {
    const noCreds = await failure(readSecretString(ID, { env: { ...sm.stub.env, AWS_ACCESS_KEY_ID: '' } }));
    const noRegion = await failure(readSecretString(ID, { env: { ...sm.stub.env, AWS_REGION: '' } }));
    expect(noCreds.code).toBe('secret-unreadable');
    expect(noCreds.message).toMatch(/AWS_ACCESS_KEY_ID/);
    expect(noRegion.message).toMatch(/AWS_REGION/);
    expect(sm.stub.reads).toEqual([]);
  });

  it('times out as secret-unavailable', async () => {
    sm.stub.set(ID, 'hang');
    const e = await failure(readSecretString(ID, { env: sm.stub.env, timeoutMs: 100 }));
    expect(e.code).toBe('secret-unavailable');
    expect(e.message).toMatch(/timeout/);
  });
});
