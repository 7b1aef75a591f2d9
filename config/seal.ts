/**
 * Build side of config/sealed.ts: validates a configuration with the schema and seals the result, so the
 * vending function can check at cold start, without zod, that it runs with a config this schema validated.
 */
import { validateConfig, type ResolvedConfig } from './schema';
import { CONFIG_SCHEMA_ID, configDigest, type ConfigSeal } from './sealed';

/** A validated config, its text and the seal of that text. */
export interface SealedConfig {
  readonly config: ResolvedConfig;
  /** `JSON.stringify(config)`: the text the seal covers. */
  readonly text: string;
  /** JSON {@link ConfigSeal}. */
  readonly seal: string;
}

/**
 * Validates `input` (throws ConfigError like {@link validateConfig}) and seals the validated config.
 *
 * @example
 * const { text, seal } = sealConfig(defaultConfig); // ship both; the function calls openSealedConfig(text, seal)
 */
export function sealConfig(input: unknown): SealedConfig {
  const config = validateConfig(input);
  const text = JSON.stringify(config);
  const seal: ConfigSeal = { schema: CONFIG_SCHEMA_ID, sha256: configDigest(text) };
  return { config, text, seal: JSON.stringify(seal) };
}
