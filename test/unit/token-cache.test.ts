import { TokenCache, type TokenCacheOptions } from '../../lambda/token-cache';
import type { MintedToken } from '../../lambda/types';

const T0 = 1_767_225_600;

/** A cache with a hand-driven clock and a minter that counts its calls. */
function setup(options: Partial<TokenCacheOptions> = {}) {
  let now = T0;
  const cache = new TokenCache({ maxEntries: 100, minRemainingFraction: 0.5, nowSeconds: () => now, ...options });
  let minted = 0;
  /** Mints a token living `ttl` seconds from the current clock. */
  const mint = (ttl: number) => async (): Promise<MintedToken> => {
    minted += 1;
    return { authToken: `tok-${minted}`, endpoint: 'cell-1.example.momentohq.com', expiresAt: now + ttl };
  };
  return { cache, mint, advance: (s: number) => (now += s), mints: () => minted };
}

/** A promise settled by hand, to hold a mint in flight. */
function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const TOKEN: MintedToken = { authToken: 'tok-x', endpoint: 'cell-1.example.momentohq.com', expiresAt: T0 + 3600 };

describe('Function: TokenCache.getOrMint', () => {
  it('mints on a miss and stores the token', async () => {
    // Prepare
    const { cache, mint, mints } = setup();

    // Act
    const result = await cache.getOrMint('k', 3600, mint(3600));

    // Assess
    expect(result).toEqual({
      token: { authToken: 'tok-1', endpoint: 'cell-1.example.momentohq.com', expiresAt: T0 + 3600 },
      source: 'minted',
    });
    expect(mints()).toBe(1);
    expect(cache.size).toBe(1);
  });

  it.each<[string, number]>([
    ['just minted', 0],
    ['half-way (exactly the fraction remaining)', 1800],
  ])('serves the same token with its true expiresAt while fresh: %s', async (_label, elapsed) => {
    // Prepare
    const { cache, mint, advance, mints } = setup();
    const first = await cache.getOrMint('k', 3600, mint(3600));
    advance(elapsed);

    // Act
    const second = await cache.getOrMint('k', 3600, mint(3600));

    // Assess
    expect(second.source).toBe('cached');
    expect(second.token).toBe(first.token);
    expect(second.token.expiresAt).toBe(T0 + 3600);
    expect(mints()).toBe(1);
  });

  it('mints again once less than the fraction remains, and replaces the entry', async () => {
    // Prepare
    const { cache, mint, advance, mints } = setup();
    await cache.getOrMint('k', 3600, mint(3600));
    advance(1801);

    // Act
    const stale = await cache.getOrMint('k', 3600, mint(3600));
    const again = await cache.getOrMint('k', 3600, mint(3600));

    // Assess
    expect(stale).toEqual({
      token: expect.objectContaining({ authToken: 'tok-2', expiresAt: T0 + 1801 + 3600 }),
      source: 'minted',
    });
    expect(again).toEqual({ token: stale.token, source: 'cached' });
    expect(mints()).toBe(2);
    expect(cache.size).toBe(1);
  });

  it.each<[number, number, 'cached' | 'minted']>([
    [0.1, 3240, 'cached'],
    [0.1, 3241, 'minted'],
    [1, 0, 'cached'],
    [1, 1, 'minted'],
  ])('with minRemainingFraction %p after %p s: %p', async (fraction, elapsed, source) => {
    // Prepare
    const { cache, mint, advance } = setup({ minRemainingFraction: fraction });
    await cache.getOrMint('k', 3600, mint(3600));
    advance(elapsed);

    // Act
    const result = await cache.getOrMint('k', 3600, mint(3600));

    // Assess
    expect(result.source).toBe(source);
  });

  it('judges freshness from the token’s real expiry, not from when it was stored', async () => {
    // Prepare: Momento answered with less lifetime than asked (e.g. the mint took a while or clocks differ).
    const { cache, advance } = setup();
    await cache.getOrMint('k', 3600, async () => ({ ...TOKEN, expiresAt: T0 + 1900 }));
    advance(101);

    // Act
    const result = await cache.getOrMint('k', 3600, async () => ({ ...TOKEN, authToken: 'fresh' }));

    // Assess
    expect(result).toEqual({ token: expect.objectContaining({ authToken: 'fresh' }), source: 'minted' });
  });

  it('shares one mint among 100 concurrent identical requests', async () => {
    // Prepare
    const { cache } = setup();
    const pending = deferred<MintedToken>();
    const mint = jest.fn(() => pending.promise);

    // Act
    const all = Promise.all(Array.from({ length: 100 }, () => cache.getOrMint('same', 3600, mint)));
    pending.resolve(TOKEN);
    const results = await all;

    // Assess
    expect(mint).toHaveBeenCalledTimes(1);
    expect(results.filter((r) => r.source === 'minted')).toHaveLength(1);
    expect(results.filter((r) => r.source === 'shared')).toHaveLength(99);
    expect(results.every((r) => r.token === TOKEN)).toBe(true);
    expect(cache.size).toBe(1);
  });

  it('never shares between different keys, concurrent or not', async () => {
    // Prepare
    const { cache, mint, mints } = setup();

    // Act
    const results = await Promise.all(
      ['alice|scope', 'bob|scope', 'alice|other', 'alice|scope '].map((k) => cache.getOrMint(k, 3600, mint(3600))),
    );
    const later = await cache.getOrMint('bob|scope', 3600, mint(3600));

    // Assess
    expect(results.map((r) => r.source)).toEqual(['minted', 'minted', 'minted', 'minted']);
    expect(new Set(results.map((r) => r.token.authToken)).size).toBe(4);
    expect(later.token).toBe(results[1]!.token);
    expect(mints()).toBe(4);
  });

  it('does not cache a failed mint: every waiter rejects, and the next call mints again', async () => {
    // Prepare
    const { cache } = setup();
    const pending = deferred<MintedToken>();
    const failing = jest.fn(() => pending.promise);
    const boom = new Error('momento unavailable');

    // Act
    const waiters = Array.from({ length: 5 }, () => cache.getOrMint('k', 3600, failing));
    pending.reject(boom);
    const settled = await Promise.allSettled(waiters);
    const next = await cache.getOrMint('k', 3600, async () => TOKEN);

    // Assess
    expect(failing).toHaveBeenCalledTimes(1);
    expect(settled).toEqual(Array.from({ length: 5 }, () => ({ status: 'rejected', reason: boom })));
    expect(next).toEqual({ token: TOKEN, source: 'minted' });
    expect(cache.size).toBe(1);
  });

  it('rejects when the minter throws synchronously, and caches nothing', async () => {
    // Prepare
    const { cache } = setup();
    const throwing = (): Promise<MintedToken> => {
      throw new Error('misconfigured');
    };

    // Act & Assess
    await expect(cache.getOrMint('k', 3600, throwing)).rejects.toThrow('misconfigured');
    expect(cache.size).toBe(0);
    await expect(cache.getOrMint('k', 3600, async () => TOKEN)).resolves.toEqual({ token: TOKEN, source: 'minted' });
  });

  it('evicts the least recently used entry at maxEntries', async () => {
    // Prepare
    const { cache, mint, mints } = setup({ maxEntries: 3 });
    for (const k of ['a', 'b', 'c']) await cache.getOrMint(k, 3600, mint(3600));

    // Act
    await cache.getOrMint('d', 3600, mint(3600));

    // Assess
    expect(cache.size).toBe(3);
    expect((await cache.getOrMint('b', 3600, mint(3600))).source).toBe('cached');
    expect((await cache.getOrMint('c', 3600, mint(3600))).source).toBe('cached');
    expect((await cache.getOrMint('d', 3600, mint(3600))).source).toBe('cached');
    expect(mints()).toBe(4);
    expect((await cache.getOrMint('a', 3600, mint(3600))).source).toBe('minted');
  });

  it('counts a cache hit as use: a recently read entry outlives older writes', async () => {
    // Prepare
    const { cache, mint } = setup({ maxEntries: 3 });
    for (const k of ['a', 'b', 'c']) await cache.getOrMint(k, 3600, mint(3600));
    await cache.getOrMint('a', 3600, mint(3600)); // a is now the most recently used

    // Act
    await cache.getOrMint('d', 3600, mint(3600)); // evicts b, the least recently used

    // Assess
    expect((await cache.getOrMint('a', 3600, mint(3600))).source).toBe('cached');
    expect((await cache.getOrMint('c', 3600, mint(3600))).source).toBe('cached');
    expect((await cache.getOrMint('b', 3600, mint(3600))).source).toBe('minted');
  });

  it('keeps a single entry with maxEntries 1', async () => {
    // Prepare
    const { cache, mint } = setup({ maxEntries: 1 });

    // Act
    await cache.getOrMint('a', 3600, mint(3600));
    await cache.getOrMint('b', 3600, mint(3600));

    // Assess
    expect(cache.size).toBe(1);
    expect((await cache.getOrMint('b', 3600, mint(3600))).source).toBe('cached');
    expect((await cache.getOrMint('a', 3600, mint(3600))).source).toBe('minted');
  });

  it('uses the wall clock by default', async () => {
    // Prepare
    const cache = new TokenCache({ maxEntries: 10, minRemainingFraction: 0.5 });
    const expiresAt = Math.floor(Date.now() / 1000) + 3600;

    // Act
    await cache.getOrMint('k', 3600, async () => ({ ...TOKEN, expiresAt }));
    const second = await cache.getOrMint('k', 3600, async () => TOKEN);

    // Assess
    expect(second.source).toBe('cached');
    expect(second.token.expiresAt).toBe(expiresAt);
  });
});
