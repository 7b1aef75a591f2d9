/**
 * The one loader of the operator's configuration file, used by the CDK app (bin/) and the dev server (dev/): a
 * TypeScript or JavaScript module whose default export is the config, or a JSON file. The file is loaded with
 * `require`, which tsx (the runner of both) and jest transform.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError, validateConfig, type ResolvedConfig } from '../config/schema';

/** The configuration file used when no `-c config=<path>` is given, relative to the repository. */
export const DEFAULT_CONFIG_FILE = 'config/tvm.config.ts';

/** A problem with the file itself, as one line (no stack trace): the file cannot be found, parsed or run. */
const fileProblem = (line: string) => new ConfigError([line], line);

/** esbuild's loader for a config file name. */
const loaderFor = (file: string): 'ts' | 'js' | 'json' =>
  /\.json$/i.test(file) ? 'json' : /\.[cm]?js$/i.test(file) ? 'js' : 'ts';

/**
 * The first syntax error of `abs` as `file:line:column: syntax error: …` (line and column from 1), or undefined
 * when it parses. Parsed with esbuild, the parser tsx uses, loaded only here: a config that loads never pays.
 */
function syntaxError(abs: string, file: string): string | undefined {
  let transformSync: typeof import('esbuild').transformSync;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- only on the failure path
    ({ transformSync } = require('esbuild') as typeof import('esbuild'));
  } catch {
    return undefined; // no esbuild (a consumer's install): the caller reports the loader's own message
  }
  try {
    transformSync(fs.readFileSync(abs, 'utf8'), { loader: loaderFor(abs), sourcefile: abs, logLevel: 'silent' });
    return undefined;
  } catch (err) {
    const first = (err as { errors?: { text: string; location?: { line: number; column: number } | null }[] })
      .errors?.[0];
    if (first === undefined) return undefined;
    const where = first.location ? `${file}:${first.location.line}:${first.location.column + 1}` : file;
    return `${where}: syntax error: ${first.text}`;
  }
}

/** Why `require` of the file failed, as one line, with the file's line and column when the stack names them. */
function loadError(err: unknown, abs: string, file: string): string {
  const syntax = syntaxError(abs, file);
  if (syntax !== undefined) return syntax;
  const e = err instanceof Error ? err : new Error(String(err));
  const frame = e.stack?.split('\n').find((l) => l.includes(abs));
  const at = frame && new RegExp(`${abs.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:(\\d+):(\\d+)`).exec(frame);
  const message = e.message.split('\n').find((l) => l.trim() !== '') ?? e.name;
  return `${at ? `${file}:${at[1]}:${at[2]}` : file}: could not be loaded: ${e.name}: ${message}`;
}

/**
 * Loads and validates a configuration file.
 *
 * @param file path of the file, relative to `cwd` (the repository when run by the CDK CLI)
 * @throws ConfigError whose message starts with the file name: every problem of the configuration, one per line,
 *   or one line when the file is missing, does not parse (with line and column), fails to run or has no default
 *   export
 * @example
 * const config = loadConfigFile(app.node.tryGetContext('config') ?? DEFAULT_CONFIG_FILE);
 */
export function loadConfigFile(file: string, cwd: string = process.cwd()): ResolvedConfig {
  const abs = path.resolve(cwd, file);
  if (!fs.existsSync(abs)) throw fileProblem(`config file not found: ${file} (looked at ${abs})`);
  let mod: unknown;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the file is chosen at run time
    mod = require(abs);
  } catch (err) {
    throw fileProblem(loadError(err, abs, file));
  }
  const config =
    loaderFor(abs) === 'json'
      ? mod
      : typeof mod === 'object' && mod !== null && 'default' in mod
        ? mod.default
        : undefined;
  if (config === undefined)
    throw fileProblem(`${file} has no default export; write \`export default defineConfig({ … })\``);
  try {
    return validateConfig(config);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new ConfigError(err.problems, `${file}: ${err.message}`);
  }
}
