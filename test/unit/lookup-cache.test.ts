import { LookupCache } from '../../lambda/lookup-cache';

/** A loader that counts its calls per key and answers `<key>#<n>` (n = that key's call number). */
const counting = () => {
  const calls: string[] = [];
  const load = async (key: string): Promise<string> => {
    calls.push(key);
    return `${key}#${calls.filter((k) => k === key).length}`;
  };
  return { calls, load };
};

describe('Class: LookupCache', () => {
  it('reuses a value until ttlSeconds have passed since it was asked for, then loads again', async () => {
    // Prepare
    let now = 1_000_000;
    const { calls, load } = counting();
    const cache = new LookupCache<string>({ ttlSeconds: 5, nowMs: () => now });

    // Act + Assess
    await expect(cache.get('a', load)).resolves.toBe('a#1');
    now += 4999;
    await expect(cache.get('a', load)).resolves.toBe('a#1');
    now += 1;
    await expect(cache.get('a', load)).resolves.toBe('a#2');
    expect(calls).toEqual(['a', 'a']);
  });

  it('caches an undefined result like any other', async () => {
    let loads = 0;
    const cache = new LookupCache<string | undefined>({ ttlSeconds: 5 });
    const load = async () => {
      loads += 1;
      return undefined;
    };
    await expect(cache.get('a', load)).resolves.toBeUndefined();
    await expect(cache.get('a', load)).resolves.toBeUndefined();
    expect(loads).toBe(1);
  });

  it('ttlSeconds 0 keeps nothing: every call loads', async () => {
    const { calls, load } = counting();
    const cache = new LookupCache<string>({ ttlSeconds: 0 });
    await expect(cache.get('a', load)).resolves.toBe('a#1');
    await expect(cache.get('a', load)).resolves.toBe('a#2');
    expect(calls).toEqual(['a', 'a']);
    expect(cache.size).toBe(0);
  });

  it.each([5, 0])('shares one load among concurrent calls for one key (ttlSeconds %i)', async (ttlSeconds) => {
    // Prepare
    let release!: (v: string) => void;
    let loads = 0;
    const load = () => {
      loads += 1;
      return new Promise<string>((r) => (release = r));
    };
    const cache = new LookupCache<string>({ ttlSeconds });

    // Act
    const all = Promise.all([cache.get('a', load), cache.get('a', load), cache.get('a', load)]);
    release('v');

    // Assess
    await expect(all).resolves.toEqual(['v', 'v', 'v']);
    expect(loads).toBe(1);
  });

  it('does not share a load between different keys', async () => {
    const { calls, load } = counting();
    const cache = new LookupCache<string>({ ttlSeconds: 5 });
    await expect(Promise.all([cache.get('a', load), cache.get('b', load)])).resolves.toEqual(['a#1', 'b#1']);
    expect(calls).toEqual(['a', 'b']);
  });

  it('does not cache a failed load: every waiter gets the error, the next call loads again', async () => {
    // Prepare
    const boom = new Error('store down');
    let reject!: (e: unknown) => void;
    let loads = 0;
    const failing = () => {
      loads += 1;
      return new Promise<string>((_, r) => (reject = r));
    };
    const cache = new LookupCache<string>({ ttlSeconds: 5 });

    // Act
    const first = cache.get('a', failing);
    const second = cache.get('a', failing);
    reject(boom);

    // Assess
    await expect(first).rejects.toBe(boom);
    await expect(second).rejects.toBe(boom);
    expect(loads).toBe(1);
    expect(cache.size).toBe(0);
    await expect(cache.get('a', async () => 'ok')).resolves.toBe('ok');
    expect(cache.size).toBe(1);
  });

  it('keeps at most maxEntries keys, dropping the one written longest ago', async () => {
    // Prepare
    const { calls, load } = counting();
    const cache = new LookupCache<string>({ ttlSeconds: 60, maxEntries: 2 });

    // Act: "c" evicts "a"; "b" is still cached
    for (const key of ['a', 'b', 'c', 'b', 'a']) await cache.get(key, load);

    // Assess
    expect(calls).toEqual(['a', 'b', 'c', 'a']);
    expect(cache.size).toBe(2);
  });

  it('a rewritten key moves to the back of the eviction order', async () => {
    let now = 0;
    const { calls, load } = counting();
    const cache = new LookupCache<string>({ ttlSeconds: 5, maxEntries: 2, nowMs: () => now });
    await cache.get('a', load);
    await cache.get('b', load);
    now = 5000; // both expired: reloading "a" rewrites it behind "b"
    await cache.get('a', load);
    await cache.get('c', load); // evicts "b", not "a"
    await expect(cache.get('a', load)).resolves.toBe('a#2');
    expect(calls).toEqual(['a', 'b', 'a', 'c']);
  });

  it('clear() forgets every cached value', async () => {
    const { calls, load } = counting();
    const cache = new LookupCache<string>({ ttlSeconds: 60 });
    await cache.get('a', load);
    cache.clear();
    await expect(cache.get('a', load)).resolves.toBe('a#2');
    expect(calls).toEqual(['a', 'a']);
  });
});
