/**
 * `npm run build:package` (also `prepack`): builds what the npm package ships, into dist/:
 * - dist/lib, dist/config, dist/common: the construct and the policy schema as CommonJS + `.d.ts`
 *   (tsconfig.build.json, entry lib/index.ts), and dist/config/schema-id.json, the id of that schema;
 * - dist/functions/<name>/index.js (+ source map): every function the construct deploys, bundled with the same
 *   esbuild options the repository's own synth uses (lib/bundling.ts), so an installed package never bundles
 *   from the consumer's repository or lockfile (lib/function-code.ts picks these up).
 */
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { SCHEMA_ID_FILE, computeSchemaId } from '../config/schema-id';
import { ENTRIES, ROOT, buildFunctionSync, type FunctionName } from '../lib/bundling';

const DIST = path.join(ROOT, 'dist');
const started = Date.now();
rmSync(DIST, { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.build.json')], {
  stdio: 'inherit',
});
// The package ships no schema sources: config/schema-id.ts reads the id of the ones compiled here.
writeFileSync(path.join(DIST, 'config', SCHEMA_ID_FILE), JSON.stringify({ id: computeSchemaId(ROOT) }));
for (const name of Object.keys(ENTRIES) as FunctionName[]) buildFunctionSync(name, path.join(DIST, 'functions', name));
console.log(`build:package: dist/ built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
