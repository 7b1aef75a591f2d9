/**
 * The policy a function runs with, read once at cold start from `tvm-config.json` next to its bundle: the
 * construct writes the validated policy there when it stages the function's code asset (lib/function-code.ts).
 * One small synchronous read and `JSON.parse` (no environment-size limit, no network). `TVM_CONFIG_FILE` names
 * another file — the benchmark and the tests use it; a deployed function does not set it.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

/** Name of the policy file in a function's code asset. */
export const FUNCTION_CONFIG_FILE = 'tvm-config.json';

/** The seal of a policy file (config/sealed.ts): `tvm-config.json` → `tvm-config.seal.json`, beside it. */
export const sealFileOf = (configFile: string): string => configFile.replace(/(\.json)?$/, '.seal.json');

/** The policy file's path and exact text. */
function readConfigText(dir: string): { file: string; text: string } {
  const file = process.env.TVM_CONFIG_FILE || path.join(dir, FUNCTION_CONFIG_FILE);
  try {
    return { file, text: readFileSync(file, 'utf8') };
  } catch (err) {
    throw new Error(`The function has no configuration: cannot read ${file} (${(err as Error).message})`, {
      cause: err,
    });
  }
}

/**
 * The policy file's exact text and its seal (undefined when there is none: config/sealed.ts then refuses it),
 * for the functions, which check the seal instead of re-validating with zod.
 *
 * @param dir the directory of the running bundle (`__dirname` of the handler)
 */
export function readSealedFunctionConfig(dir: string): { text: string; seal: string | undefined } {
  const { file, text } = readConfigText(dir);
  let seal: string | undefined;
  try {
    seal = readFileSync(sealFileOf(file), 'utf8');
  } catch {
    seal = undefined;
  }
  return { text, seal };
}
