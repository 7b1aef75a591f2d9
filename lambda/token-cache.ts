/**
 * The container's own token cache: reuses a still-fresh token for the same verified identity and the same granted
 * scope, so bursts of page loads do not each spend one of Momento's few auth operations per second
 * (docs/decisions.md, "Token reuse per identity and scope"). lambda/token-reuse.ts puts the fleet's cache and
 * the mint governor behind it.
 *
 * Keys are built by the caller from (identity, grants, ttl): never from the client IP, never shared across
 * identities or scopes. Entries live only in this container's memory (vended tokens cannot read it), bounded
 * by an LRU cap. Concurrent identical requests share one load (single-flight); failures are not cached. An entry
 * past its freshness stays until it expires or is replaced: {@link TokenCache.peek} hands it out when no new token
 * can be had.
 */
import { SingleFlightCache } from '../common/single-flight-cache';
import type { MintedToken } from './types';

export interface TokenCacheOptions {
  /** Most entries kept (least recently used evicted first). */
  readonly maxEntries: number;
  /** Serve a cached token only while at least this fraction of its ttl remains. */
  readonly minRemainingFraction: number;
  /** Clock in epoch seconds. @default Date.now()/1000 */
  readonly nowSeconds?: () => number;
}

/**
 * How a token was obtained: freshly minted, reused from this container's cache, shared with a concurrent identical
 * request, found in the fleet's cache, or a still-valid older token served because no new one could be minted.
 */
export type TokenSource = 'minted' | 'cached' | 'shared' | 'fleet' | 'stale';

/** A cached token. */
export interface CachedToken {
  readonly token: MintedToken;
  readonly ttlSeconds: number;
  /** Epoch seconds it was minted at. */
  readonly mintedAt: number;
}

/** What a load produced. */
export interface Loaded {
  readonly token: MintedToken;
  readonly mintedAt: number;
  readonly source: TokenSource;
}

/** The container's token cache (see the module comment), on the one single-flight cache. */
export class TokenCache {
  // Entries expire with their token; map order is recency order (a hit is touched).
  private readonly cache: SingleFlightCache<CachedToken, Loaded>;
  private readonly now: () => number;

  constructor(private readonly options: TokenCacheOptions) {
    this.now = options.nowSeconds ?? (() => Date.now() / 1000);
    this.cache = new SingleFlightCache({ maxEntries: options.maxEntries, nowMs: () => this.now() * 1000 });
  }

  /** Number of cached tokens (for tests and metrics). */
  get size(): number {
    return this.cache.size;
  }

  /** Whether `entry` still has at least the configured fraction of its ttl left. */
  isFresh(entry: Pick<CachedToken, 'token' | 'ttlSeconds'>): boolean {
    return entry.token.expiresAt - this.now() >= this.options.minRemainingFraction * entry.ttlSeconds;
  }

  /** The entry for `key` while it has not expired, fresh or not (no recency update). */
  peek(key: string): CachedToken | undefined {
    return this.cache.peek(key)?.value;
  }

  /** Returns a fresh-enough cached token for `key`, or mints one (once, however many callers ask at once). */
  async getOrMint(
    key: string,
    ttlSeconds: number,
    mint: () => Promise<MintedToken>,
  ): Promise<{ token: MintedToken; source: TokenSource }> {
    const { token, source } = await this.getOrLoad(key, ttlSeconds, async () => {
      const mintedAt = this.now();
      return { token: await mint(), mintedAt, source: 'minted' };
    });
    return { token, source };
  }

  /**
   * Returns a fresh-enough cached token for `key`, or what `load` produces (once, however many callers ask at
   * once: the others get it as `shared`), and caches that.
   */
  async getOrLoad(key: string, ttlSeconds: number, load: () => Promise<Loaded>): Promise<Loaded> {
    const hit = this.peek(key);
    if (hit && this.isFresh(hit)) {
      this.touch(key, hit);
      return { token: hit.token, mintedAt: hit.mintedAt, source: 'cached' };
    }
    return this.flight(key, ttlSeconds, load);
  }

  /**
   * Runs `load` for `key` unless a load of the same key is under way (then its result comes back as `shared`), and
   * caches what it produced. A stale token served for want of a new one is not written back.
   */
  async flight(key: string, ttlSeconds: number, load: () => Promise<Loaded>): Promise<Loaded> {
    const { loaded, shared } = await this.cache.flight(key, load, (l) =>
      l.source === 'stale' ? undefined : entryOf({ token: l.token, ttlSeconds, mintedAt: l.mintedAt }),
    );
    return shared ? { ...loaded, source: 'shared' } : loaded;
  }

  /** Counts a hit as use: map order is recency order, so the entry (re)written moves to the back. */
  touch(key: string, entry: CachedToken): void {
    this.store(key, entry);
  }

  /** Caches `entry` under `key` (the newest write wins), evicting the least recently used beyond the cap. */
  store(key: string, entry: CachedToken): void {
    const { value, untilMs } = entryOf(entry);
    this.cache.set(key, value, untilMs);
  }
}

/** A token's cache entry: kept until the token expires. */
const entryOf = (entry: CachedToken) => ({ value: entry, untilMs: entry.token.expiresAt * 1000 });
