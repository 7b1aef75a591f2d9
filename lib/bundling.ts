/**
 * esbuild options for the Lambda bundles, shared by the construct (lib/function-code.ts: from source in this
 * repository), the package build (scripts/build-package.ts: dist/functions/ at pack time) and the benchmark, so
 * what `npm run bench` measures is what `cdk deploy` ships. No aws-cdk-lib here: the benchmark loads this file.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { computeSchemaId } from '../config/schema-id';

/** Repository root (in the package: dist/, where no source entry exists). */
export const ROOT = path.resolve(__dirname, '..');

/** Entry points of the functions the stack deploys. */
export const ENTRIES = {
  vending: path.join(ROOT, 'lambda', 'handler.ts'),
  authorizer: path.join(ROOT, 'authorizers', 'handler.ts'),
  'api-gateway-account': path.join(ROOT, 'lib', 'api-gateway-account', 'handler.ts'),
} as const;

/** A function the construct deploys; its bundle is `functions/<name>/index.js` in the package. */
export type FunctionName = keyof typeof ENTRIES;

/**
 * Options common to every bundle. `mainFields` prefers ESM builds so esbuild can tree-shake zod/mini and
 * aws-jwt-verify; the output stays CommonJS (Lambda's default loader, no top-level await needed).
 */
export const BUNDLE_OPTIONS = {
  bundle: true,
  minify: true,
  sourcemap: true,
  platform: 'node',
  target: 'node22',
  format: 'cjs',
  mainFields: ['module', 'main'],
  // Only metadata that has no runtime use; dropping it keeps the bundle small.
  legalComments: 'none',
  // Neither function bundles grpc-js (the vending function speaks gRPC over node:http2); the benchmark's
  // reference handler (full Momento SDK) does, with these same options. grpc-js requires
  // @grpc/proto-loader (with protobufjs and long, ~125 kB) only for its server-side channelz / ORCA services;
  // left out, a client never misses it, and the path would fail loudly ("Cannot find module") if ever taken.
  external: ['@grpc/proto-loader'],
  logLevel: 'error',
} as const;

/**
 * esbuild `define` of a bundle built from the sources under {@link ROOT}: `TVM_CONFIG_SCHEMA_ID`, the id of their
 * configuration schema, which config/sealed.ts checks seals against (so the bundle never reads the schema files).
 * Every bundle of the functions needs it, alongside {@link BUNDLE_OPTIONS}.
 */
export function sourceDefines(): Record<string, string> {
  return { TVM_CONFIG_SCHEMA_ID: JSON.stringify(computeSchemaId(ROOT)) };
}

/**
 * The esbuild options of one function. The account-role custom resource handler runs only at deploy time and
 * uses the runtime's AWS SDK v3 (`@aws-sdk/*` left out, no source map); the TVM functions bundle everything.
 */
function bundleOptionsOf(name: FunctionName) {
  return {
    ...BUNDLE_OPTIONS,
    mainFields: [...BUNDLE_OPTIONS.mainFields],
    external: name === 'api-gateway-account' ? ['@aws-sdk/*'] : [...BUNDLE_OPTIONS.external],
    sourcemap: name === 'api-gateway-account' ? false : BUNDLE_OPTIONS.sourcemap,
    define: sourceDefines(),
  };
}

/**
 * Bundles one function from source into `outdir/index.js` (and its source map) with esbuild, which is a
 * development dependency: only this repository (and the package build) bundles from source; an installed
 * package ships the bundles (dist/functions/).
 */
export function buildFunctionSync(name: FunctionName, outdir: string): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when bundling from source
  const esbuild = require('esbuild') as typeof import('esbuild');
  const result = esbuild.buildSync({
    ...bundleOptionsOf(name),
    entryPoints: [ENTRIES[name]],
    outfile: path.join(outdir, 'index.js'),
    write: false,
  });
  fs.mkdirSync(outdir, { recursive: true });
  for (const file of result.outputFiles)
    fs.writeFileSync(file.path, file.path.endsWith('.map') ? portableSourceMap(file.text, outdir) : file.contents);
}

/**
 * The source map with `sources` relative to the repository root (`lambda/handler.ts`, `node_modules/…`) instead
 * of to the output directory: esbuild writes them relative to `outdir`, which is a temporary directory, so the
 * map (and with it the asset hash) would depend on where the checkout and the build live, and would tell the
 * build path to anyone who reads the code.
 */
export function portableSourceMap(text: string, outdir: string): string {
  const map = JSON.parse(text) as { sources: string[]; sourceRoot?: string };
  map.sources = map.sources.map((source) =>
    path.relative(ROOT, path.resolve(outdir, source)).split(path.sep).join('/'),
  );
  delete map.sourceRoot;
  return JSON.stringify(map);
}
