/**
 * The one single-flight cache of both functions: per-container values with an expiry, a size cap, concurrent
 * loads of one key shared (single-flight), failed loads never kept, and explicit invalidation. The revocation and
 * live-group lookups (lambda/lookup-cache.ts), the token cache (lambda/token-cache.ts), the Momento key
 * (lambda/momento/key-source.ts) and the authorizer's API-key table (authorizers/api-keys.ts) are built on it.
 *
 * Invalidation is one rule for all: {@link SingleFlightCache.invalidate} forgets the value, and a load under way
 * when it was called is detached — its callers still get its result, but it is not cached and later callers start
 * a new load — so a value read before the invalidation never comes back after it.
 */

/** Options of {@link SingleFlightCache}. */
export interface SingleFlightCacheOptions {
  /** Most entries kept; beyond that the first in order (oldest written or used) is dropped. @default 10000 */
  readonly maxEntries?: number;
  /** Clock in epoch milliseconds. @default Date.now */
  readonly nowMs?: () => number;
}

/** A cached value and the instant (epoch ms) it expires at. */
export interface CacheEntry<V> {
  readonly value: V;
  readonly untilMs: number;
}

/**
 * Values of type `V` by key; loads produce `L` (by default `V`), and the caller says what of a load to keep.
 *
 * @example
 * const cache = new SingleFlightCache<Groups>();
 * const groups = await cache.get(user, () => source.groupsOf(user), 5000);
 */
export class SingleFlightCache<V, L = V> {
  private readonly entries = new Map<string, CacheEntry<V>>();
  private readonly inflight = new Map<string, { readonly promise: Promise<L>; readonly generation: number }>();
  private readonly maxEntries: number;
  private readonly now: () => number;
  // Bumped by invalidate(): a load that started before it must not be kept, nor joined.
  private generation = 0;

  constructor(options: SingleFlightCacheOptions = {}) {
    this.maxEntries = options.maxEntries ?? 10_000;
    this.now = options.nowMs ?? Date.now;
  }

  /** Number of entries kept, expired or not. */
  get size(): number {
    return this.entries.size;
  }

  /** The entry for `key` while it has not expired (an expired one is dropped); no recency update. */
  peek(key: string): CacheEntry<V> | undefined {
    const hit = this.entries.get(key);
    if (hit && hit.untilMs <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return hit;
  }

  /**
   * Runs `load` for `key` unless a load of the same key is under way (its result then comes back with
   * `shared: true`). `keep` says what to cache of a successful load (nothing when it answers undefined); a failed
   * load is never kept, and neither is one overtaken by {@link invalidate}.
   *
   * @throws whatever `load` throws
   */
  async flight(
    key: string,
    load: () => Promise<L>,
    keep?: (loaded: L) => CacheEntry<V> | undefined,
  ): Promise<{ readonly loaded: L; readonly shared: boolean }> {
    const pending = this.inflight.get(key);
    if (pending && pending.generation === this.generation) return { loaded: await pending.promise, shared: true };
    const generation = this.generation;
    const promise = (async () => load())().then((loaded) => {
      const entry = generation === this.generation ? keep?.(loaded) : undefined;
      if (entry !== undefined) this.set(key, entry.value, entry.untilMs);
      return loaded;
    });
    const flight = { promise, generation };
    this.inflight.set(key, flight);
    try {
      return { loaded: await promise, shared: false };
    } finally {
      if (this.inflight.get(key) === flight) this.inflight.delete(key);
    }
  }

  /**
   * The value for `key`: cached while unexpired, else the pending load of the same key, else `load()`, kept for
   * `ttlMs` counted from when it was asked for (0 keeps nothing; concurrent calls still share the load).
   *
   * @throws whatever `load` throws (nothing is cached then)
   */
  async get(this: SingleFlightCache<V, V>, key: string, load: () => Promise<V>, ttlMs: number): Promise<V> {
    const askedAt = this.now();
    const hit = this.peek(key);
    if (hit) return hit.value;
    const { loaded } = await this.flight(key, load, (value) =>
      ttlMs > 0 ? { value, untilMs: askedAt + ttlMs } : undefined,
    );
    return loaded;
  }

  /**
   * Caches `value` under `key` until `untilMs` (the newest write wins) at the back of the eviction order, dropping
   * the front beyond the cap: rewriting an entry on each use makes the order least-recently-used.
   */
  set(key: string, value: V, untilMs: number): void {
    this.entries.delete(key);
    this.entries.set(key, { value, untilMs });
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
  }

  /** Forgets every value and detaches the loads under way, whose results are then not cached. */
  invalidate(): void {
    this.generation += 1;
    this.entries.clear();
  }
}
