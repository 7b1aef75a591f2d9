/**
 * The one infra test that bundles for real (esbuild, locally): the function code CDK ships is the shared
 * BUNDLE_OPTIONS build of the real entry, with the validated config baked in and nothing left to read from
 * `process.env.TVM_CONFIG`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MODES, resourcesOf, synth, tvmFunctions } from './helpers';

describe('Construct: TokenVendingMachine — bundling', () => {
  it('bundles the vending and authorizer entries with the config baked in', () => {
    const s = synth(MODES.authorizer, {}, { bundle: true });
    const outdir = s.app.synth().directory;
    const assetDir = (fn: { Properties?: Record<string, unknown> }) =>
      path.join(outdir, `asset.${(fn.Properties?.Code as { S3Key: string }).S3Key.replace(/\.zip$/, '')}`);
    const fns = tvmFunctions(s.template);
    expect(fns).toHaveLength(2);
    for (const [, fn] of fns) {
      const dir = assetDir(fn);
      const code = fs.readFileSync(path.join(dir, 'index.js'), 'utf8');
      expect(fs.existsSync(path.join(dir, 'index.js.map'))).toBe(true);
      // The config is a literal in the bundle: the issuer and the Momento endpoint are there...
      expect(code).toContain('https://example.eu.auth0.com/');
      expect(code).toContain('cell-4-us-west-2-1.prod.a.momentohq.com');
      // ...and nothing reads it from the environment any more.
      expect(code).not.toContain('process.env.TVM_CONFIG');
      expect(code).not.toMatch(/\.TVM_CONFIG\b/);
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
    expect(Buffer.byteLength(crCode)).toBeLessThan(10_000);
  }, 60_000);
});
