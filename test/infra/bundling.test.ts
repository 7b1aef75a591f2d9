/**
 * The one infra test that bundles for real (esbuild, locally): the function code CDK ships is the shared
 * BUNDLE_OPTIONS build of the real entry, with the validated config baked in and nothing left to read from
 * `process.env.TVM_CONFIG`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MODES, resourcesOf, synth } from './helpers';

describe('Construct: TokenVendingMachine — bundling', () => {
  it('bundles the vending and authorizer entries with the config baked in', () => {
    const s = synth(MODES.authorizer, {}, { bundle: true });
    const outdir = s.app.synth().directory;
    const fns = resourcesOf(s.template, 'AWS::Lambda::Function');
    expect(fns).toHaveLength(2);
    for (const [, fn] of fns) {
      const key = (fn.Properties?.Code as { S3Key: string }).S3Key;
      const dir = path.join(outdir, `asset.${key.replace(/\.zip$/, '')}`);
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
  }, 60_000);
});
