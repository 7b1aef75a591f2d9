/**
 * The one single-flight cache (common/single-flight-cache.ts) and its invalidation rule, which the revocation
 * and live-group lookups, the token cache, the Momento key and the authorizer's API-key table share.
 */
import { SingleFlightCache } from '../../common/single-flight-cache';
import { createApiKeyStore } from '../../authorizers/api-keys';
import { LookupCache } from '../../lambda/lookup-cache';
import { secretsManagerKeySource } from '../../lambda/momento/key-source';

/** A load whose answer the test hands out by hand. */
function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe('Function: SingleFlightCache', () => {
  it('shares one load among concurrent callers, and says who shared', async () => {
    const cache = new SingleFlightCache<string>();
    const d = deferred<string>();
    let loads = 0;
    const load = () => (loads++, d.promise);
    const a = cache.flight('k', load, (v) => ({ value: v, untilMs: Infinity }));
    const b = cache.flight('k', load);
    d.resolve('v');
    await expect(a).resolves.toEqual({ loaded: 'v', shared: false });
    await expect(b).resolves.toEqual({ loaded: 'v', shared: true });
    expect(loads).toBe(1);
    expect(cache.peek('k')?.value).toBe('v');
  });

  it('never keeps a failed load: the next call loads again', async () => {
    let now = 0;
    const cache = new SingleFlightCache<string>({ nowMs: () => now });
    await expect(cache.get('k', () => Promise.reject(new Error('down')), 1000)).rejects.toThrow('down');
    expect(cache.size).toBe(0);
    await expect(cache.get('k', async () => 'up', 1000)).resolves.toBe('up');
    now = 999;
    await expect(cache.get('k', async () => 'again', 1000)).resolves.toBe('up');
    now = 1000; // expires ttlMs after it was asked for
    await expect(cache.get('k', async () => 'again', 1000)).resolves.toBe('again');
  });

  it('invalidate() forgets values and detaches loads under way: their result is not cached nor joined', async () => {
    const cache = new SingleFlightCache<string>();
    await cache.get('old', async () => 'o', 60_000);
    const before = deferred<string>();
    const pending = cache.get('k', () => before.promise, 60_000);
    cache.invalidate();
    expect(cache.peek('old')).toBeUndefined();
    // A caller after the invalidation does not join the older load.
    const after = cache.get('k', async () => 'new', 60_000);
    before.resolve('stale');
    await expect(pending).resolves.toBe('stale');
    await expect(after).resolves.toBe('new');
    expect(cache.peek('k')?.value).toBe('new');
  });

  it('keeps at most maxEntries, dropping the front of the order (oldest write)', () => {
    const cache = new SingleFlightCache<number>({ maxEntries: 2 });
    cache.set('a', 1, Infinity);
    cache.set('b', 2, Infinity);
    cache.set('a', 3, Infinity); // rewritten: moves behind "b"
    cache.set('c', 4, Infinity);
    expect([cache.peek('a')?.value, cache.peek('b')?.value, cache.peek('c')?.value]).toEqual([3, undefined, 4]);
  });
});

// The four users follow the same rule: a value read before an invalidation never comes back after it.
describe('Rule: one invalidation rule for every single-flight cache', () => {
  it('LookupCache.clear() during a lookup: the older answer is not cached (a local revoke is seen at once)', async () => {
    const cache = new LookupCache<string>({ ttlSeconds: 60 });
    const d = deferred<string>();
    const pending = cache.get('sub', () => d.promise);
    cache.clear();
    d.resolve('not revoked');
    await expect(pending).resolves.toBe('not revoked');
    await expect(cache.get('sub', async () => 'revoked')).resolves.toBe('revoked');
  });

  it('the Momento key source: invalidate() during a read does not bring the old key back', async () => {
    // The secret reader goes to a stub that answers by hand (AWS_ENDPOINT_URL_SECRETS_MANAGER is not needed:
    // readSecretString is replaced through the module system, so the test stays offline).
    jest.resetModules();
    const answers: ReturnType<typeof deferred<string>>[] = [];
    jest.doMock('../../common/secret-reader', () => ({
      ...jest.requireActual('../../common/secret-reader'),
      readSecretString: () => {
        const d = deferred<string>();
        answers.push(d);
        return d.promise;
      },
    }));
    const { secretsManagerKeySource: fresh } = jest.requireActual<{
      secretsManagerKeySource: typeof secretsManagerKeySource;
    }>('../../lambda/momento/key-source');
    const keys = fresh({ secretId: 'tvm/key' });
    const first = keys.getKey();
    keys.invalidate();
    const second = keys.getKey();
    expect(answers).toHaveLength(2);
    answers[0]!.resolve('old-key');
    answers[1]!.resolve('new-key');
    await expect(first).resolves.toBe('old-key');
    await expect(second).resolves.toBe('new-key');
    await expect(keys.getKey()).resolves.toBe('new-key');
    expect(answers).toHaveLength(2);
    jest.dontMock('../../common/secret-reader');
  });

  it('the API-key table: concurrent first calls share one read; a failed read is not kept', async () => {
    const reads: ReturnType<typeof deferred<string>>[] = [];
    const store = createApiKeyStore(() => {
      const d = deferred<string>();
      reads.push(d);
      return d.promise;
    });
    const a = store.table();
    const b = store.table();
    expect(reads).toHaveLength(1);
    reads[0]!.reject(Object.assign(new Error('throttled'), { code: 'secret-unavailable', transient: true }));
    await expect(a).rejects.toThrow();
    await expect(b).rejects.toThrow();
    const c = store.table();
    expect(reads).toHaveLength(2);
    reads[1]!.resolve(JSON.stringify({ keys: [] }));
    await expect(c).resolves.toBeDefined();
  });
});
