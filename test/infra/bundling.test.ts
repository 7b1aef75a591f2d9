/**
 * The one infra test that bundles for real (esbuild, locally): the function code CDK ships is the shared
 * BUNDLE_OPTIONS build of the real entry, with the validated policy next to it as tvm-config.json (read at cold
 * start) — and no deployment setting in it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { policyOf } from '../../config/schema';
import { SCHEMA_ID_FILE } from '../../config/schema-id';
import { CONFIG_SCHEMA_ID } from '../../config/sealed';
import { MODES, resourcesOf, synth, tvmFunctions } from './helpers';

describe('Construct: TokenVendingMachine — bundling', () => {
  it('bundles the vending and authorizer entries, each with the validated policy as tvm-config.json', () => {
    const s = synth(
      {
        ...MODES.authorizer,
        momento: { endpoint: 'cell-9-bundling-test.example.momentohq.com', secret: { create: true } },
        waf: { ratePer5MinPerIp: 300 },
        alarmEmail: 'ops@example.com',
      },
      {},
      {
        bundle: true,
      },
    );
    const outdir = s.app.synth().directory;
    const assetDir = (fn: { Properties?: Record<string, unknown> }) =>
      path.join(outdir, `asset.${(fn.Properties?.Code as { S3Key: string }).S3Key.replace(/\.zip$/, '')}`);
    const fns = tvmFunctions(s.template);
    expect(fns).toHaveLength(2);
    for (const [, fn] of fns) {
      const dir = assetDir(fn);
      const code = fs.readFileSync(path.join(dir, 'index.js'), 'utf8');
      expect(fs.existsSync(path.join(dir, 'index.js.map'))).toBe(true);
      // The policy is data next to the code, not part of it: the same bundle serves every configuration...
      expect(code).not.toContain('https://example.eu.auth0.com/');
      expect(code).not.toContain('cell-9-bundling-test');
      expect(code).toContain('tvm-config.json');
      // ...and the file is exactly the validated policy: no deployment setting reaches a function.
      const written = JSON.parse(fs.readFileSync(path.join(dir, 'tvm-config.json'), 'utf8')) as Record<string, unknown>;
      expect(written).toEqual(JSON.parse(JSON.stringify(policyOf(s.config))));
      for (const key of ['waf', 'alarmEmail', 'throttling', 'tracing', 'logLevel'])
        expect(written).not.toHaveProperty(key);
      // Both functions check the seal against the schema id built into them (the one the synth sealed with), and
      // neither carries the schema code (zod's classes are named $Zod…).
      const seal = JSON.parse(fs.readFileSync(path.join(dir, 'tvm-config.seal.json'), 'utf8')) as { schema: string };
      expect(seal.schema).toBe(CONFIG_SCHEMA_ID);
      expect(code).toContain(`"${CONFIG_SCHEMA_ID}"`);
      expect(code).not.toContain(SCHEMA_ID_FILE);
      expect(code).not.toContain('$Zod');
      // CommonJS, minified.
      expect(code).toMatch(/module\.exports|exports\./);
      expect(code.split('\n').length).toBeLessThan(50);
    }
    // The account-role handler: small, no config, and the AWS SDK left to the Node.js runtime.
    const [[, crHandler] = []] = resourcesOf(s.template, 'AWS::Lambda::Function').filter(([id]) =>
      id.includes('ApiGatewayAccountRoleHandler'),
    );
    expect(crHandler).toBeDefined();
    const crCode = fs.readFileSync(path.join(assetDir(crHandler!), 'index.js'), 'utf8');
    expect(crCode).toContain('/cloudwatchRoleArn');
    expect(crCode).toMatch(/require\("@aws-sdk\/client-api-gateway"\)/);
    expect(crCode).not.toContain('momentohq.com');
    expect(fs.existsSync(path.join(assetDir(crHandler!), 'tvm-config.json'))).toBe(false);
    expect(Buffer.byteLength(crCode)).toBeLessThan(10_000);
  }, 60_000);
});
