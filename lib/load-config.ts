/**
 * Loads the operator's configuration file (a TypeScript module whose default export is the config) and
 * validates it. Used by bin/ at synth; the file is loaded with `require`, which tsx (the CDK app runner) and
 * jest both transform.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError, validateConfig, type ResolvedConfig } from '../config/schema';

/** The configuration file used when no `-c config=<path>` is given, relative to the repository. */
export const DEFAULT_CONFIG_FILE = 'config/tvm.config.ts';

/**
 * Loads and validates a configuration file.
 *
 * @param file path of the file, relative to `cwd` (the repository when run by the CDK CLI)
 * @throws ConfigError listing every problem (a missing file or missing default export is one problem too)
 * @example
 * const config = loadConfigFile(app.node.tryGetContext('config') ?? DEFAULT_CONFIG_FILE);
 */
export function loadConfigFile(file: string, cwd: string = process.cwd()): ResolvedConfig {
  const abs = path.resolve(cwd, file);
  if (!fs.existsSync(abs)) throw new ConfigError([`config file not found: ${file} (looked at ${abs})`]);
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the file is chosen at run time
  const mod: unknown = require(abs);
  const config = typeof mod === 'object' && mod !== null && 'default' in mod ? mod.default : undefined;
  if (config === undefined)
    throw new ConfigError([`${file} has no default export; write \`export default defineConfig({ … })\``]);
  return validateConfig(config);
}
