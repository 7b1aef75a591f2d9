/**
 * The per-container cache in front of a slow lookup (the revocation table, Cognito's group list): a loaded value
 * is reused for `ttlSeconds`, concurrent lookups of one key share one load (single-flight), a failed load is
 * never cached, and at most `maxEntries` keys are kept.
 */

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
  private readonly entries = new Map<string, { value: V; until: number }>();
  private readonly inflight = new Map<string, Promise<V>>();
  private readonly now: () => number;
  private readonly maxEntries: number;

  constructor(private readonly options: LookupCacheOptions) {
    this.now = options.nowMs ?? Date.now;
    this.maxEntries = options.maxEntries ?? 10_000;
  }

  /** Number of cached keys, fresh or expired (for tests). */
  get size(): number {
    return this.entries.size;
  }

  /**
   * The value for `key`: cached while fresh, else the pending load of the same key, else `load(key)`.
   *
   * @throws whatever `load` throws (nothing is cached then)
   */
  async get(key: string, load: (key: string) => Promise<V>): Promise<V> {
    // Freshness counts from before the load: a value is never reused longer than ttlSeconds after it was asked for.
    const now = this.now();
    const hit = this.entries.get(key);
    if (hit && hit.until > now) return hit.value;
    const pending = this.inflight.get(key);
    if (pending) return pending;
    const p = load(key);
    this.inflight.set(key, p);
    try {
      const value = await p;
      if (this.options.ttlSeconds > 0) {
        // Map order is write order: a rewritten key moves to the back, the front is dropped first.
        this.entries.delete(key);
        this.entries.set(key, { value, until: now + this.options.ttlSeconds * 1000 });
        while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
      }
      return value;
    } finally {
      this.inflight.delete(key);
    }
  }

  /** Forgets every cached value (a load under way still completes and is cached). */
  clear(): void {
    this.entries.clear();
  }
}
