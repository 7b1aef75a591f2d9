/**
 * Bundles the browser client into one dependency-free ES module, `client/dist/index.js` (+ `.map`): the
 * JavaScript of the npm package (`tsc -p client` writes its `.d.ts` next to it; `npm run build:client` runs
 * both). The dev server serves the same file at `/client/tvm-client.js`. `dist/` is not committed.
 *
 * CLI: `npx tsx client/build.ts [outfile]`.
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

// client/package.json says "type": "module", so this file is an ES module for tsx/Node (no __dirname).
const CLIENT_DIR = path.dirname(fileURLToPath(import.meta.url));

/** Where {@link buildClient} writes by default: the package's `exports` entry. */
export const CLIENT_OUTFILE = path.join(CLIENT_DIR, 'dist', 'index.js');
/** The module's entry point. */
export const CLIENT_ENTRY = path.join(CLIENT_DIR, 'src', 'index.ts');

/** Options of {@link buildClient}. */
export interface BuildClientOptions {
  /**
   * Output file (its `.map` is written next to it).
   * @default client/dist/index.js
   */
  readonly outfile?: string;
  /**
   * Minify the output.
   * @default false (readable in the browser's dev tools; the module is a few KB either way)
   */
  readonly minify?: boolean;
}

/**
 * Builds the client as a browser ES module with a source map.
 *
 * @returns the absolute path of the written file
 * @example
 * ```ts
 * const file = await buildClient(); // …/client/dist/index.js
 * ```
 */
export async function buildClient(options: BuildClientOptions = {}): Promise<string> {
  const outfile = path.resolve(options.outfile ?? CLIENT_OUTFILE);
  await build({
    entryPoints: [CLIENT_ENTRY],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    // Evergreen browsers of the last few years; `??`, `?.` and class fields need no lowering there.
    target: ['es2020', 'chrome91', 'firefox90', 'safari15'],
    sourcemap: true,
    minify: options.minify ?? false,
    legalComments: 'none',
    logLevel: 'error',
  });
  return outfile;
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  buildClient({ outfile: process.argv[2] })
    .then((file) => console.log(`built ${path.relative(process.cwd(), file)}`))
    .catch((error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    });
}
