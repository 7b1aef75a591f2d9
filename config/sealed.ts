/**
 * The vending function's cold-start check of its configuration, without `zod/mini`.
 *
 * `validatePolicy()` runs when the construct stages the function (config/seal.ts, called by lib/function-code.ts), and the build
 * ships the validated config together with a seal: the id of the schema that validated it and the SHA-256 of
 * the exact config text. At cold start the function refuses (throws, so its init fails) a config
 * - without a seal, or with one it cannot read;
 * - sealed by another schema than the one this function was built with ({@link CONFIG_SCHEMA_ID}): a stale or
 *   foreign config;
 * - whose text is not the one that was sealed: a config changed after validation.
 *
 * So the function runs only with a config this schema validated, as when it re-validated with zod at cold start,
 * for a SHA-256 over a few kB instead of building the schema and parsing (≈ 12 ms of CPU: docs/decisions.md,
 * "Cold path"). The seal is an integrity check against mistakes (an edited or stale config), not a signature:
 * whoever can change the function's code can change both, exactly as they could change the validation code.
 */
import { createHash } from 'node:crypto';
import { configSchemaId } from './schema-id';
import type { ResolvedPolicy } from './schema';

// Set by the bundler (lib/bundling.ts) to the id of the sources it bundled; undefined when run from source.
declare const TVM_CONFIG_SCHEMA_ID: string | undefined;

/**
 * Id of the configuration schema (config/schema.ts, config/auth-schema.ts, config/limits.ts): the first 16 hex
 * digits of the SHA-256 of those files (config/schema-id.ts). A bundle carries it as a constant, written in when
 * it was built; run from source (tests, the dev server, the construct at synth) it is computed from the files. So
 * it changes whenever they do, and a function never accepts a config sealed by a different schema.
 */
export const CONFIG_SCHEMA_ID: string =
  typeof TVM_CONFIG_SCHEMA_ID === 'string' ? TVM_CONFIG_SCHEMA_ID : configSchemaId();

/** What the build ships next to the config text. */
export interface ConfigSeal {
  /** {@link CONFIG_SCHEMA_ID} of the schema that validated the config. */
  readonly schema: string;
  /** SHA-256 (hex) of the config text, as UTF-8. */
  readonly sha256: string;
}

/** SHA-256 (hex) of a config text. */
export const configDigest = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/**
 * The config a build sealed, after checking the seal.
 *
 * @param text the config text, exactly as sealed (JSON)
 * @param sealText the seal, JSON {@link ConfigSeal}
 * @throws Error saying which check failed (never quoting the config)
 * @example
 * const { text, seal } = readSealedFunctionConfig(__dirname); // common/function-config.ts
 * const policy = openSealedConfig(text, seal);
 */
export function openSealedConfig(text: string, sealText: string | undefined): ResolvedPolicy {
  const rebuild = 'stage the function with the construct (lib/function-code.ts), which validates and seals its policy';
  if (!sealText) throw new Error(`The configuration has no seal: ${rebuild}`);
  let seal: Partial<ConfigSeal> | null;
  try {
    seal = JSON.parse(sealText) as Partial<ConfigSeal> | null;
  } catch {
    throw new Error(`The configuration's seal is not JSON: ${rebuild}`);
  }
  if (typeof seal?.schema !== 'string' || typeof seal.sha256 !== 'string')
    throw new Error(`The configuration's seal has no schema id or digest: ${rebuild}`);
  if (seal.schema !== CONFIG_SCHEMA_ID)
    throw new Error(
      `The configuration was validated by another schema (${seal.schema.slice(0, 32)}) than this function's (${CONFIG_SCHEMA_ID}): ${rebuild}`,
    );
  if (seal.sha256 !== configDigest(text))
    throw new Error(
      `The configuration is not the one that was validated (its SHA-256 differs from the seal): ${rebuild}`,
    );
  const config = JSON.parse(text) as unknown;
  if (typeof config !== 'object' || config === null || Array.isArray(config))
    throw new Error(`The sealed configuration is not a JSON object: ${rebuild}`);
  return config as ResolvedPolicy;
}
