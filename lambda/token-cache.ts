/**
 * Reuses a still-fresh token for the same verified identity and the same granted scope, so bursts of page
 * loads do not each spend one of Momento's few auth operations per second (docs/decisions.md, "Token reuse per
 * identity and scope").
 *
 * Keys are built by the caller from (identity, grants, ttl): never from the client IP, never shared across
 * identities or scopes. Entries live only in this container's memory (vended tokens cannot read it), bounded
 * by an LRU cap. Concurrent identical requests share one mint (single-flight); failures are not cached.
 */
import type { MintedToken } from './types';

export interface TokenCacheOptions {
  /** Most entries kept (least recently used evicted first). */
  readonly maxEntries: number;
  /** Serve a cached token only while at least this fraction of its ttl remains. */
  readonly minRemainingFraction: number;
  /** Clock in epoch seconds. @default Date.now()/1000 */
  readonly nowSeconds?: () => number;
}

/** How a token was obtained: freshly minted, reused from the cache, or shared with a concurrent identical mint. */
export type TokenSource = 'minted' | 'cached' | 'shared';

export class TokenCache {
  private readonly entries = new Map<string, { token: MintedToken; ttlSeconds: number }>();
  private readonly inflight = new Map<string, Promise<MintedToken>>();
  private readonly now: () => number;

  constructor(private readonly options: TokenCacheOptions) {
    this.now = options.nowSeconds ?? (() => Date.now() / 1000);
  }

  /** Number of cached tokens (for tests and metrics). */
  get size(): number {
    return this.entries.size;
  }

  /** Returns a fresh-enough cached token for `key`, or mints one (once, however many callers ask at once). */
  async getOrMint(
    key: string,
    ttlSeconds: number,
    mint: () => Promise<MintedToken>,
  ): Promise<{ token: MintedToken; source: TokenSource }> {
    const hit = this.entries.get(key);
    if (hit) {
      if (hit.token.expiresAt - this.now() >= this.options.minRemainingFraction * hit.ttlSeconds) {
        // Map order is recency order: move to the back.
        this.entries.delete(key);
        this.entries.set(key, hit);
        return { token: hit.token, source: 'cached' };
      }
      this.entries.delete(key);
    }
    const pending = this.inflight.get(key);
    if (pending) return { token: await pending, source: 'shared' };
    const p = mint().then((token) => {
      this.store(key, token, ttlSeconds);
      return token;
    });
    this.inflight.set(key, p);
    try {
      return { token: await p, source: 'minted' };
    } finally {
      this.inflight.delete(key);
    }
  }

  private store(key: string, token: MintedToken, ttlSeconds: number): void {
    this.entries.set(key, { token, ttlSeconds });
    while (this.entries.size > this.options.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }
}
