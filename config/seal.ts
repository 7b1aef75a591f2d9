/**
 * Build side of config/sealed.ts: validates the policy with the schema and seals the result, so the vending
 * function can check at cold start, without zod, that it runs with a policy this schema validated. The construct
 * (lib/function-code.ts) and the benchmark stage the text and its seal next to the bundle.
 */
import { validatePolicy, type ResolvedPolicy } from './schema';
import { CONFIG_SCHEMA_ID, configDigest, type ConfigSeal } from './sealed';

/** A validated policy, its text and the seal of that text. */
export interface SealedPolicy {
  readonly policy: ResolvedPolicy;
  /** `JSON.stringify(policy)`: the text the seal covers. */
  readonly text: string;
  /** JSON {@link ConfigSeal}. */
  readonly seal: string;
}

/**
 * Validates `input` (throws ConfigError like {@link validatePolicy}) and seals the validated policy.
 *
 * @example
 * const { text, seal } = sealPolicy(policy); // stage both; the function calls openSealedConfig(text, seal)
 */
export function sealPolicy(input: unknown): SealedPolicy {
  const policy = validatePolicy(input);
  const text = JSON.stringify(policy);
  const seal: ConfigSeal = { schema: CONFIG_SCHEMA_ID, sha256: configDigest(text) };
  return { policy, text, seal: JSON.stringify(seal) };
}
