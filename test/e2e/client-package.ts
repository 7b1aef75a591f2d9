/**
 * Packs `@momento-tvm/client` the way a release does (`npm pack`, which runs the package's `prepack` build) and
 * installs the tarball into a brand-new project outside the repository, offline. Each call works on its own
 * copy in a temporary directory, so parallel test files never race on client/dist/.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { offlineNpm } from '../support/offline-npm';

const REPO = path.resolve(__dirname, '..', '..');
const CLIENT_DIR = path.join(REPO, 'client');
export const CLIENT_PACKAGE = '@momento-tvm/client';

export interface PackedClient {
  /** Temporary directory holding everything below; remove it with {@link removePacked}. */
  readonly workDir: string;
  /** The `.tgz` that `npm pack` wrote. */
  readonly tarball: string;
  /** Paths inside the package, as `npm pack` lists them (`npm pack --dry-run` lists the same). */
  readonly files: readonly string[];
}

/**
 * Copies client/ (without dist/ and node_modules/) into a temporary directory and runs `npm pack` there. The
 * copy's node_modules is a link to the repository's, which is where its `prepack` build finds tsc, tsx and
 * esbuild; npm never packs node_modules.
 */
export function packClient(): PackedClient {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tvm-client-pack-'));
  const stage = path.join(workDir, 'client');
  fs.cpSync(CLIENT_DIR, stage, {
    recursive: true,
    filter: (src) => !['dist', 'node_modules'].includes(path.relative(CLIENT_DIR, src).split(path.sep)[0] ?? ''),
  });
  fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(stage, 'node_modules'), 'dir');
  const out = offlineNpm(['pack', '--json', '--pack-destination', workDir], stage);
  // npm prints the JSON report last; the prepack build may print before it.
  const report = JSON.parse(out.slice(out.indexOf('[\n'))) as { filename: string; files: { path: string }[] }[];
  const [entry] = report;
  if (!entry) throw new Error(`npm pack reported nothing: ${out}`);
  return { workDir, tarball: path.join(workDir, entry.filename), files: entry.files.map((f) => f.path).sort() };
}

/**
 * Creates `<workDir>/consumer` (an ES module project with nothing but a package.json) and installs the tarball
 * into it offline; the package has no dependencies, so npm needs no registry.
 *
 * @returns the consumer project's directory
 */
export function installPacked(packed: PackedClient): string {
  const consumer = path.join(packed.workDir, 'consumer');
  fs.mkdirSync(consumer);
  fs.writeFileSync(
    path.join(consumer, 'package.json'),
    JSON.stringify({ name: 'tvm-client-consumer', version: '1.0.0', private: true, type: 'module' }, null, 2),
  );
  offlineNpm(['install', '--ignore-scripts', '--no-package-lock', packed.tarball], consumer);
  return consumer;
}

/** The file the package's `exports["."].import` names, in an installed copy. */
export function exportedModule(consumer: string): string {
  const dir = path.join(consumer, 'node_modules', ...CLIENT_PACKAGE.split('/'));
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
    exports: { '.': { import: string } };
  };
  return path.join(dir, manifest.exports['.'].import);
}

export function removePacked(packed: PackedClient | undefined): void {
  if (packed) fs.rmSync(packed.workDir, { recursive: true, force: true });
}
