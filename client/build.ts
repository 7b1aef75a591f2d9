/**
 * Bundles the browser client into one dependency-free ES module, `client/dist/tvm-client.js`, which the dev
 * server serves at `/client/tvm-client.js`. `dist/` is not committed: the dev server builds on start.
 *
 * CLI: `npx tsx client/build.ts [outfile]`.
 */
import * as path from 'node:path';
import { build } from 'esbuild';

/** Where {@link buildClient} writes by default. */
export const CLIENT_OUTFILE = path.join(__dirname, 'dist', 'tvm-client.js');
/** The module's entry point. */
export const CLIENT_ENTRY = path.join(__dirname, 'src', 'index.ts');

/** Options of {@link buildClient}. */
export interface BuildClientOptions {
  /**
   * Output file (its `.map` is written next to it).
   * @default client/dist/tvm-client.js
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
 * const file = await buildClient(); // …/client/dist/tvm-client.js
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

if (require.main === module) {
  buildClient({ outfile: process.argv[2] })
    .then((file) => console.log(`built ${path.relative(process.cwd(), file)}`))
    .catch((error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    });
}
