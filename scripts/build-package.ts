/**
 * `npm run build:package` (also `prepack`): builds what the npm package ships, into dist/:
 * - dist/lib, dist/config, dist/common: the construct and the policy schema as CommonJS + `.d.ts`
 *   (tsconfig.build.json, entry lib/index.ts);
 * - dist/functions/<name>/index.js (+ source map): every function the construct deploys, bundled with the same
 *   esbuild options the repository's own synth uses (lib/bundling.ts), so an installed package never bundles
 *   from the consumer's repository or lockfile (lib/function-code.ts picks these up).
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import * as path from 'node:path';
import { ENTRIES, ROOT, buildFunctionSync, type FunctionName } from '../lib/bundling';

const DIST = path.join(ROOT, 'dist');
const started = Date.now();
rmSync(DIST, { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.build.json')], {
  stdio: 'inherit',
});
for (const name of Object.keys(ENTRIES) as FunctionName[]) buildFunctionSync(name, path.join(DIST, 'functions', name));
console.log(`build:package: dist/ built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
