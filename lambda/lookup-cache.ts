/**
 * The per-container cache in front of a slow lookup (the revocation table, Cognito's group list): a loaded value
 * is reused for `ttlSeconds`, concurrent lookups of one key share one load (single-flight), a failed load is
 * never cached, and at most `maxEntries` keys are kept. Built on the one single-flight cache
 * (common/single-flight-cache.ts).
 */
import { SingleFlightCache } from '../common/single-flight-cache';

/** Options of {@link LookupCache}. */
export interface LookupCacheOptions {
  /** Seconds a loaded value is reused; 0 keeps nothing (every call loads, concurrent calls still share a load). */
  readonly ttlSeconds: number;
  /** Most keys kept; the one written longest ago is dropped first. @default 10000 */
  readonly maxEntries?: number;
  /** Clock in epoch milliseconds. @default Date.now */
  readonly nowMs?: () => number;
}

/** A TTL + single-flight + size-capped cache of `load(key)` results, hits and `undefined` results alike. */
export class LookupCache<V> {
  private readonly cache: SingleFlightCache<V>;

  constructor(private readonly options: LookupCacheOptions) {
    this.cache = new SingleFlightCache<V>({ maxEntries: options.maxEntries, nowMs: options.nowMs });
  }

  /** Number of cached keys, fresh or expired (for tests). */
  get size(): number {
    return this.cache.size;
  }

  /**
   * The value for `key`: cached while fresh, else the pending load of the same key, else `load(key)`.
   * Freshness counts from before the load: a value is never reused longer than ttlSeconds after it was asked for.
   *
   * @throws whatever `load` throws (nothing is cached then)
   */
  get(key: string, load: (key: string) => Promise<V>): Promise<V> {
    return this.cache.get(key, () => load(key), this.options.ttlSeconds * 1000);
  }

  /** Forgets every cached value; a load under way is not cached (a revocation is never masked by an older read). */
  clear(): void {
    this.cache.invalidate();
  }
}
