/**
 * The vending function's cold-start config check without zod (config/sealed.ts): a config is accepted only with
 * the seal of the schema this code was built with, over exactly its text; and the shipped bundle really has no
 * zod in it (the point of the change: docs/decisions.md, "Cold path").
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as esbuild from 'esbuild';
import { FUNCTION_CONFIG_FILE, sealFileOf } from '../../common/function-config';
import { sealPolicy } from '../../config/seal';
import { CONFIG_SCHEMA_ID, configDigest, openSealedConfig } from '../../config/sealed';
import { CONFIG_SCHEMA_FILES, SCHEMA_ID_FILE, computeSchemaId } from '../../config/schema-id';
import { policyOf, validateConfig, validatePolicy } from '../../config/schema';
import defaultConfig from '../../config/tvm.config';
import { BUNDLE_OPTIONS, ENTRIES, sourceDefines } from '../../lib/bundling';

const ROOT = path.resolve(__dirname, '../..');
/** The policy the construct stages for the default (cognito) config. */
const cognitoConfig = policyOf(validateConfig(defaultConfig));

/** What CONFIG_SCHEMA_ID must be: SHA-256 over each schema file's name, length and text, first 16 hex digits. */
function schemaFingerprint(root = ROOT): string {
  const h = createHash('sha256');
  for (const f of ['config/schema.ts', 'config/auth-schema.ts', 'config/limits.ts']) {
    const text = fs.readFileSync(path.join(root, f), 'utf8').replace(/\r\n/g, '\n');
    h.update(`${f}\n${Buffer.byteLength(text)}\n${text}`);
  }
  return h.digest('hex').slice(0, 16);
}

const ENV_KEYS = [
  'TVM_CONFIG_FILE',
  'TVM_SECRET_ID',
  'TVM_USER_POOL_CLIENT_IDS',
  'TVM_REVOCATION_TABLE',
  'AWS_REGION',
] as const;
let savedEnv: Record<string, string | undefined>;
beforeEach(() => {
  savedEnv = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
  for (const k of ENV_KEYS) delete process.env[k];
});
afterEach(() => {
  for (const k of ENV_KEYS) {
    if (savedEnv[k] === undefined) delete process.env[k];
    else process.env[k] = savedEnv[k];
  }
});

/**
 * Loads lambda/handler.ts afresh (its module scope runs again) with a cognito-mode environment and the policy
 * staged as the construct stages it: `tvm-config.json` and, unless `seal` is undefined, `tvm-config.seal.json`.
 */
async function loadVendingHandler(config: string, seal: string | undefined): Promise<unknown> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tvm-seal-'));
  const file = path.join(dir, FUNCTION_CONFIG_FILE);
  fs.writeFileSync(file, config);
  if (seal !== undefined) fs.writeFileSync(sealFileOf(file), seal);
  Object.assign(process.env, {
    TVM_CONFIG_FILE: file,
    TVM_SECRET_ID: 'tvm/test/momento',
    TVM_USER_POOL_CLIENT_IDS: 'client1',
    TVM_REVOCATION_TABLE: 'tvm-test-revocations',
    AWS_REGION: 'us-west-2',
  });
  let mod: { handler?: unknown } | undefined;
  await jest.isolateModulesAsync(async () => {
    mod = (await import('../../lambda/handler')) as { handler?: unknown };
  });
  return mod?.handler;
}

describe('Config seal (config/sealed.ts): the vending function runs only with a config this schema validated', () => {
  it('CONFIG_SCHEMA_ID is the fingerprint of the schema files, computed from them', () => {
    expect(CONFIG_SCHEMA_FILES).toEqual(['config/schema.ts', 'config/auth-schema.ts', 'config/limits.ts']);
    expect(CONFIG_SCHEMA_ID).toMatch(/^[0-9a-f]{16}$/);
    expect(CONFIG_SCHEMA_ID).toBe(schemaFingerprint());
    expect(sourceDefines()).toEqual({ TVM_CONFIG_SCHEMA_ID: JSON.stringify(CONFIG_SCHEMA_ID) });
  });

  it.each(CONFIG_SCHEMA_FILES)('the schema id follows a change of %s', (file) => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tvm-schema-id-'));
    for (const f of CONFIG_SCHEMA_FILES) {
      fs.mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
      fs.copyFileSync(path.join(ROOT, f), path.join(root, f));
    }
    expect(computeSchemaId(root)).toBe(CONFIG_SCHEMA_ID);
    fs.appendFileSync(path.join(root, file), '\nexport const ADDED = 1;\n');
    const changed = computeSchemaId(root);
    expect(changed).not.toBe(CONFIG_SCHEMA_ID);
    expect(changed).toBe(schemaFingerprint(root));
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('opens what sealPolicy sealed: the validated policy, defaults filled in', () => {
    const { policy, text, seal } = sealPolicy(cognitoConfig);
    expect(policy).toEqual(validatePolicy(cognitoConfig));
    expect(JSON.parse(seal)).toEqual({ schema: CONFIG_SCHEMA_ID, sha256: configDigest(text) });
    expect(openSealedConfig(text, seal)).toEqual(policy);
  });

  it('sealPolicy validates: an invalid policy gets no seal', () => {
    expect(() => sealPolicy({ ...cognitoConfig, tiers: [] })).toThrow(/at least one tier/);
  });

  const { text, seal } = sealPolicy(cognitoConfig);
  const widened = text.replace('"readonly"', '"readwrite"');
  it.each([
    ['no seal', text, undefined, /has no seal/],
    ['an empty seal', text, '', /has no seal/],
    ['a seal that is not JSON', text, '{', /seal is not JSON/],
    ['a seal without digest', text, JSON.stringify({ schema: CONFIG_SCHEMA_ID }), /no schema id or digest/],
    [
      'a seal of another schema',
      text,
      JSON.stringify({ ...JSON.parse(seal), schema: 'ffffffffffffffff' }),
      /another schema/,
    ],
    ['a config changed after sealing (a role widened)', widened, seal, /SHA-256 differs/],
    ['a config with a byte added', `${text} `, seal, /SHA-256 differs/],
    [
      'a sealed text that is not an object',
      '[]',
      JSON.stringify({ schema: CONFIG_SCHEMA_ID, sha256: configDigest('[]') }),
      /not a JSON object/,
    ],
  ])('refuses %s, without quoting the config', (_name, configText, sealText, message) => {
    expect(widened).not.toBe(text);
    let error: unknown;
    try {
      openSealedConfig(configText, sealText);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain(cognitoConfig.momento.endpoint);
  });

  it('lambda/handler.ts fails its init on a tampered config and starts with a sealed one', async () => {
    await expect(loadVendingHandler(widened, seal)).rejects.toThrow(/SHA-256 differs/);
    await expect(loadVendingHandler(text, undefined)).rejects.toThrow(/has no seal/);
    expect(typeof (await loadVendingHandler(text, seal))).toBe('function');
  });

  it('the vending bundle has no zod and carries the schema id it checks seals against', async () => {
    const result = await esbuild.build({
      ...BUNDLE_OPTIONS,
      mainFields: [...BUNDLE_OPTIONS.mainFields],
      external: [...BUNDLE_OPTIONS.external],
      define: sourceDefines(),
      entryPoints: [ENTRIES.vending],
      write: false,
      sourcemap: false,
      metafile: true,
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((f) => f.includes('lambda/handler.ts'))).toBe(true);
    expect(inputs.filter((f) => /node_modules\/zod\/|config\/schema\.ts/.test(f))).toEqual([]);
    const code = result.outputFiles[0]!.text;
    expect(code).toContain(CONFIG_SCHEMA_ID);
    // The id is a constant of the bundle: the code computing it from the schema files (not in the asset) is gone.
    expect(code).not.toContain(SCHEMA_ID_FILE);
    expect(code).not.toContain('config/auth-schema.ts');
  }, 30_000);
});
