/** Retry delays: capped exponential backoff with full jitter, and the server's `Retry-After` as a floor. */

/** Backoff settings. */
export interface BackoffOptions {
  /**
   * Ceiling of the first retry's delay; each later retry doubles the ceiling.
   * @default 500
   */
  readonly baseMs?: number;
  /**
   * Largest ceiling, whatever the number of failures.
   * @default 30000
   */
  readonly maxMs?: number;
}

/** Default backoff: 0.5 s doubling up to 30 s. */
export const DEFAULT_BACKOFF = { baseMs: 500, maxMs: 30_000 } as const;

/**
 * Delay before retry number `failures` (1 for the first retry).
 *
 * Full jitter (a uniform pick in `[0, ceiling)`) rather than a fixed exponential: when a TVM outage or
 * Momento's auth rate limit hits every open tab at once, fixed delays make them all come back at the same
 * instant and trip the limit again. `Retry-After` is a floor, never shortened by jitter; it is not capped
 * by `maxMs` because the server knows better than our defaults.
 *
 * @param failures consecutive failures so far (≥ 1)
 * @param random a number in [0, 1), `Math.random` in production
 * @param retryAfterSeconds the server's `Retry-After`, when present
 */
export function backoffDelayMs(
  failures: number,
  options: Required<BackoffOptions>,
  random: () => number,
  retryAfterSeconds?: number,
): number {
  // 2 ** 30 is far past any sane cap; limiting the exponent keeps the arithmetic finite.
  const exponent = Math.min(Math.max(failures - 1, 0), 30);
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** exponent);
  const r = Math.min(Math.max(random(), 0), 1);
  const jittered = Math.floor(r * ceiling);
  const floor = retryAfterSeconds === undefined ? 0 : retryAfterSeconds * 1000;
  return Math.max(jittered, floor);
}
