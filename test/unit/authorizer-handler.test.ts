import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { generateApiKey } from '../../authorizers/api-keys';
import { AUTHORIZER_UNAVAILABLE_MESSAGE } from '../../authorizers/identity';
import type { handler as Handler } from '../../authorizers/handler';
import { sealPolicy } from '../../config/seal';
import { sealFileOf } from '../../common/function-config';
import cognitoConfig from '../../config/tvm.config';
import { policyOf, validateConfig } from '../../config/schema';
import { startSecretsManagerStub, type SecretsManagerStub } from '../support/secrets-manager-stub';
import { testConfig, tokenEvent, rs256 } from './authorizer-fixtures';

type HandlerModule = { handler: typeof Handler };

const ENV_KEYS = [
  'TVM_CONFIG_FILE',
  'TVM_API_KEYS_SECRET_ID',
  'AWS_ENDPOINT_URL_SECRETS_MANAGER',
  'AWS_REGION',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'POWERTOOLS_LOG_LEVEL',
] as const;
let savedEnv: Record<string, string | undefined>;
/** What the handler logged, one line each: the console, and stdout/stderr (the log writer of common/log.ts). */
let logged: string[];
/** The streams each line of {@link logged} went to. */
let streams: string[];
/** Powertools Logger's envelope of every line (common/log.ts); the tests below compare the entries within it. */
const ENVELOPE = ['timestamp', 'service', 'sampling_rate', 'xray_trace_id'];
const entries = () =>
  logged.map((l) => {
    const record = JSON.parse(l) as Record<string, unknown>;
    for (const k of ENVELOPE) {
      if (k !== 'xray_trace_id') expect(record).toHaveProperty(k);
      delete record[k];
    }
    return record;
  });

beforeEach(() => {
  savedEnv = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
  for (const k of ENV_KEYS) delete process.env[k];
  logged = [];
  streams = [];
  for (const m of ['log', 'info', 'warn', 'error'] as const) {
    jest.spyOn(console, m).mockImplementation((...args: unknown[]) => {
      logged.push(args.map(String).join(' '));
      streams.push(`console.${m}`);
    });
  }
  for (const stream of ['stdout', 'stderr'] as const) {
    jest.spyOn(process[stream], 'write').mockImplementation((chunk: string | Uint8Array) => {
      for (const l of String(chunk).split('\n')) {
        if (l.trim() === '') continue;
        logged.push(l);
        streams.push(stream);
      }
      return true;
    });
  }
});
afterEach(() => {
  for (const k of ENV_KEYS) {
    if (savedEnv[k] === undefined) delete process.env[k];
    else process.env[k] = savedEnv[k];
  }
  jest.restoreAllMocks();
});

const configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tvm-authorizer-handler-'));
afterAll(() => fs.rmSync(configDir, { recursive: true, force: true }));
let configFiles = 0;

/**
 * Loads authorizers/handler.ts afresh (module scope runs again) with the given environment and a policy file
 * (common/function-config.ts; TVM_CONFIG_FILE points at it): `policy` validated and sealed as the construct stages
 * it (config/seal.ts), or a raw `text` with the given `seal` (none when undefined), or no file at all.
 */
async function loadHandler(
  env: Partial<Record<(typeof ENV_KEYS)[number], string>> & { policy?: unknown; text?: string; seal?: string },
): Promise<HandlerModule> {
  const { policy, text, seal, ...vars } = env;
  const file = path.join(configDir, `config-${++configFiles}.json`);
  const staged = policy !== undefined ? sealPolicy(policy) : { text, seal };
  if (staged.text !== undefined) fs.writeFileSync(file, staged.text);
  if (staged.seal !== undefined) fs.writeFileSync(sealFileOf(file), staged.seal);
  Object.assign(process.env, { ...vars, TVM_CONFIG_FILE: file });
  let mod: HandlerModule | undefined;
  await jest.isolateModulesAsync(async () => {
    mod = (await import('../../authorizers/handler')) as HandlerModule;
  });
  return mod!;
}

describe('Function: authorizer handler (module scope)', () => {
  it('builds the authorizer from its policy file and fails closed with exactly "Unauthorized"', async () => {
    const { handler } = await loadHandler({ policy: testConfig() });
    await expect(handler(tokenEvent(undefined))).rejects.toEqual(new Error('Unauthorized'));
    expect(entries()).toEqual([{ level: 'WARN', message: 'authorization denied', reason: 'missing-authorization' }]);
    // Powertools' format and streams, as the vending function logs (common/log.ts).
    expect(streams).toEqual(['stderr']);
  });

  it('honours logLevel ERROR (POWERTOOLS_LOG_LEVEL, set by the stack): routine refusals are not logged', async () => {
    const { handler } = await loadHandler({ policy: testConfig(), POWERTOOLS_LOG_LEVEL: 'ERROR' });
    await expect(handler(tokenEvent('Basic abc'))).rejects.toEqual(new Error('Unauthorized'));
    expect(logged).toEqual([]);
  });

  it('fetches the JWKS lazily and refuses (ERROR log, no token) when the issuer is unreachable', async () => {
    // 127.0.0.1:9 (discard) refuses connections at once: no network, no wait.
    const { handler } = await loadHandler({
      policy: testConfig({ jwksUri: 'https://127.0.0.1:9/jwks.json' }),
    });
    const token = rs256();
    await expect(handler(tokenEvent(`Bearer ${token}`))).rejects.toEqual(new Error('Unauthorized'));
    expect(logged).toHaveLength(1);
    expect(JSON.parse(logged[0]!)).toMatchObject({ level: 'ERROR', reason: 'jwks-unavailable' });
    expect(logged[0]).not.toContain(token.split('.')[2]!);
    expect(logged[0]).not.toContain(token.split('.')[1]!);
  });

  const sealed = sealPolicy(testConfig());
  const widened = sealed.text.replace('"https://', '"http://');
  it.each([
    ['the policy file is missing', {}, /has no configuration: cannot read .*config-\d+\.json/],
    ['the policy has no seal', { text: sealed.text }, /The configuration has no seal/],
    [
      'the policy was changed after it was sealed (an issuer edited to http)',
      { text: widened, seal: sealed.seal },
      /is not the one that was validated/,
    ],
    [
      'the seal is from another schema',
      { text: sealed.text, seal: JSON.stringify({ ...JSON.parse(sealed.seal), schema: '0123456789abcdef' }) },
      /validated by another schema \(0123456789abcdef\)/,
    ],
    [
      'the config is not in authorizer mode',
      { policy: policyOf(validateConfig(cognitoConfig)) },
      /needs auth\.mode "authorizer", but the configuration says "cognito"/,
    ],
    [
      'API keys are configured without TVM_API_KEYS_SECRET_ID',
      { policy: testConfig({ apiKeys: { secret: { create: true } } }) },
      /TVM_API_KEYS_SECRET_ID is not set/,
    ],
  ])('fails at init when %s', async (_what, env, message) => {
    await expect(loadHandler(env)).rejects.toThrow(message);
  });

  describe('API keys read from Secrets Manager (GetSecretValue)', () => {
    let stub: SecretsManagerStub;
    const { key, entry } = generateApiKey('svc-a', ['admins']);

    beforeAll(async () => {
      stub = await startSecretsManagerStub({
        secrets: { 'tvm/api-keys': { value: JSON.stringify({ keys: [entry] }) } },
      });
    });
    afterAll(() => stub.close());

    it('reads the key table lazily (on the first ApiKey request only) and allows a valid key', async () => {
      // Prepare
      const { handler } = await loadHandler({
        policy: testConfig({ apiKeys: { secret: { create: true } } }),
        TVM_API_KEYS_SECRET_ID: 'tvm/api-keys',
        ...stub.env,
      });
      expect(stub.reads).toEqual([]);
      // Act
      const result = await handler(tokenEvent(`ApiKey ${key}`));
      const wrong = `${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`;
      await expect(handler(tokenEvent(`ApiKey ${wrong}`))).rejects.toEqual(new Error('Unauthorized'));
      // Assess: one verified read (signature, session token, target checked by the stub), then the cache.
      expect(result.principalId).toBe('apikey:svc-a');
      expect(result.context).toEqual({ sub: 'apikey:svc-a', groups: '["admins"]', claims: '{}' });
      expect(stub.reads.map((r) => r.secretId)).toEqual(['tvm/api-keys']);
      expect(stub.refused).toEqual([]);
      expect(logged.join('\n')).not.toContain(key.split('.')[1]!);
    });

    it.each([
      ['throttles', 'throttled', /^secret-unavailable: .*ThrottlingException/],
      ['answers a 5xx', 'server-error', /^secret-unavailable: .*InternalServiceError/],
      ['drops the connection', 'drop', /^secret-unavailable: /],
    ] as const)(
      'refuses without "Unauthorized" (→ 503 authorizer-unavailable) and logs secret-unavailable when Secrets Manager %s',
      async (_what, behavior, detail) => {
        // Prepare
        const secretId = `tvm/${behavior}`;
        stub.set(secretId, behavior);
        const { handler } = await loadHandler({
          policy: testConfig({ apiKeys: { secret: { create: true } } }),
          TVM_API_KEYS_SECRET_ID: secretId,
          ...stub.env,
        });
        // Act
        const error = await handler(tokenEvent(`ApiKey ${key}`)).then(
          () => undefined,
          (e: unknown) => e,
        );
        // Assess: any message but exactly 'Unauthorized' is API Gateway's authorizer-failure family, not a 401.
        expect(error).toEqual(new Error(AUTHORIZER_UNAVAILABLE_MESSAGE));
        expect(entries()).toEqual([
          {
            level: 'ERROR',
            message: 'authorizer unavailable',
            reason: 'api-keys-unavailable',
            detail: expect.stringMatching(detail) as unknown,
          },
        ]);
        expect(logged.join('\n')).not.toContain(key.split('.')[1]!);
      },
    );

    it.each([
      ['the secret does not exist', 'not-found', /^secret-missing: /],
      ['the role may not read it', 'access-denied', /^secret-unreadable: /],
    ] as const)(
      'still fails closed with exactly "Unauthorized" when %s (the operator must act)',
      async (_what, behavior, detail) => {
        const secretId = `tvm/${behavior}`;
        stub.set(secretId, behavior);
        const { handler } = await loadHandler({
          policy: testConfig({ apiKeys: { secret: { create: true } } }),
          TVM_API_KEYS_SECRET_ID: secretId,
          ...stub.env,
        });
        await expect(handler(tokenEvent(`ApiKey ${key}`))).rejects.toEqual(new Error('Unauthorized'));
        expect(entries()).toEqual([
          expect.objectContaining({
            level: 'ERROR',
            message: 'authorization denied',
            reason: 'api-keys-unavailable',
            detail: expect.stringMatching(detail) as unknown,
          }),
        ]);
      },
    );
  });
});
