/**
 * Tab sharing and refresh jitter of the browser client: the pure parts (message validation, the jitter window)
 * and two clients sharing through Node's real BroadcastChannel with a stand-in for `navigator.locks`.
 * The Chromium test (test/e2e/client-tabs.test.ts) covers real tabs.
 */
import { createTokenClient, type TokenClientOptions } from '../../client/src/index';
import { jitteredRefreshAfterMs } from '../../client/src/scheduler';
import { ASK_WAIT_MS, parseTabMessage, tabScopeKey } from '../../client/src/tabs';

const URL_ = 'https://tvm.example/prod/token';
const KEY = tabScopeKey(URL_);

const token = (n: number, expiresIn = 100) => ({
  authToken: `secret-token-${n}`,
  expiresAt: 2_000_000_000,
  expiresIn,
  endpoint: 'cell-1.example',
  tokenId: `user-${n}`,
  permissions: [{ type: 'cache', cache: 'chat', role: 'readonly' }],
});

describe('Function: jitteredRefreshAfterMs', () => {
  const policy = { refreshFraction: 0.8, minRefreshMs: 5_000, refreshJitterFraction: 0.1 };

  it.each([
    [0, 80_000], // the refresh point itself
    [0.5, 76_000],
    [0.999, 72_008],
    [-1, 80_000], // a random() out of range is clamped, never moves the refresh past the refresh point
    [2, 72_000],
  ])('random %f → %i ms for a 100 s token', (r, expected) => {
    expect(jitteredRefreshAfterMs(100_000, policy, r, 95_000)).toBeCloseTo(expected, 6);
  });

  it('stays within [1 − refreshJitter, 1] × refreshFraction × expiresIn for any draw', () => {
    for (let r = 0; r < 1; r += 0.01) {
      const ms = jitteredRefreshAfterMs(100_000, policy, r, 95_000);
      expect(ms).toBeGreaterThan(72_000 - 1e-6);
      expect(ms).toBeLessThanOrEqual(80_000);
    }
  });

  it('keeps the minRefresh floor and the usable-life cap', () => {
    expect(jitteredRefreshAfterMs(10_000, { ...policy, refreshFraction: 0.1 }, 0.9, 9_000)).toBe(5_000);
    expect(jitteredRefreshAfterMs(10_000, { ...policy, minRefreshMs: 60_000 }, 0.5, 9_000)).toBe(9_000);
  });
});

describe('Client: refresh jitter', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  it('refreshes at the drawn point, drawn once per token (first draw 0.5 → 76 s of a 100 s token; later draws 0)', async () => {
    let n = 0;
    const fetch = jest.fn(async () => new Response(JSON.stringify(token(++n)), { status: 200 }));
    const tokens = createTokenClient({
      url: URL_,
      fetch: fetch as unknown as typeof globalThis.fetch,
      random: jest.fn().mockReturnValueOnce(0.5).mockReturnValue(0),
    });
    tokens.start();
    await jest.advanceTimersByTimeAsync(0);
    expect(fetch).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(75_900); // many minute-slices and re-checks: the point does not move
    expect(fetch).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(200);
    expect(fetch).toHaveBeenCalledTimes(2);
    tokens.stop();
  });

  it('rejects a jitter outside [0, 1)', () => {
    expect(() => createTokenClient({ url: URL_, refreshJitter: 1 })).toThrow(/refreshJitter must be in \[0, 1\)/);
    expect(() => createTokenClient({ url: URL_, refreshJitter: -0.1 })).toThrow(/refreshJitter/);
  });
});

describe('Function: parseTabMessage', () => {
  const valid = { v: 1, key: KEY, type: 'token', token: token(1), sentAtWallMs: 1_000 };

  it('accepts an ask, a token and a halt of this key', () => {
    expect(parseTabMessage({ v: 1, key: KEY, type: 'ask' }, KEY)).toEqual({ v: 1, key: KEY, type: 'ask' });
    expect(parseTabMessage(valid, KEY)).toEqual(valid);
    const halt = {
      v: 1,
      key: KEY,
      type: 'halt',
      error: { status: 401, code: 'unauthorized', title: 'No', kind: 'auth' },
    };
    expect(parseTabMessage(halt, KEY)).toEqual(halt);
  });

  it('drops permission statements the contract does not know, keeping the token', () => {
    const withJunk = { ...valid, token: { ...token(1), permissions: [{ type: 'cache', cache: 'c', role: 'admin' }] } };
    expect(parseTabMessage(withJunk, KEY)).toMatchObject({ type: 'token', token: { permissions: [] } });
  });

  it.each<[string, unknown]>([
    ['not an object', 'token'],
    ['null', null],
    ['another protocol version', { ...valid, v: 2 }],
    ['another scope (foreign key)', { ...valid, key: tabScopeKey(`${URL_}?cache=other`) }],
    ['an unknown type', { ...valid, type: 'tokens' }],
    ['no token', { ...valid, token: undefined }],
    ['an empty authToken', { ...valid, token: { ...token(1), authToken: '' } }],
    ['a numeric authToken', { ...valid, token: { ...token(1), authToken: 42 } }],
    ['expiresIn 0', { ...valid, token: { ...token(1), expiresIn: 0 } }],
    ['expiresIn as text', { ...valid, token: { ...token(1), expiresIn: '100' } }],
    ['no endpoint', { ...valid, token: { ...token(1), endpoint: undefined } }],
    ['permissions not an array', { ...valid, token: { ...token(1), permissions: {} } }],
    ['a sentAtWallMs that is not finite', { ...valid, sentAtWallMs: Number.POSITIVE_INFINITY }],
    [
      'a transient halt',
      { v: 1, key: KEY, type: 'halt', error: { status: 503, code: 'x', title: 'x', kind: 'transient' } },
    ],
    ['a halt without status', { v: 1, key: KEY, type: 'halt', error: { code: 'x', title: 'x', kind: 'auth' } }],
    ['a halt without error', { v: 1, key: KEY, type: 'halt' }],
  ])('ignores %s', (_name, data) => {
    expect(parseTabMessage(data, KEY)).toBeUndefined();
  });

  it('scopes by the full URL: another query string is another key', () => {
    expect(tabScopeKey(`${URL_}?ttl=600`)).not.toBe(tabScopeKey(`${URL_}?ttl=900`));
  });
});

/** A stand-in for `navigator.locks`: one queue per lock name, like the browser's exclusive mode. */
function installLocks() {
  const tails = new Map<string, Promise<unknown>>();
  const requested: string[] = [];
  const locks = {
    request(name: string, work: () => Promise<unknown>) {
      requested.push(name);
      const run = (tails.get(name) ?? Promise.resolve()).then(work);
      tails.set(
        name,
        run.catch(() => undefined),
      );
      return run;
    },
  };
  Object.defineProperty(globalThis, 'navigator', { value: { locks }, configurable: true, writable: true });
  return {
    requested,
    uninstall: () => {
      delete (globalThis as { navigator?: unknown }).navigator;
    },
  };
}

describe('Client: sharing between tabs (Node BroadcastChannel, real timers)', () => {
  let locks: ReturnType<typeof installLocks>;
  const clients: { reset(): void }[] = [];
  beforeEach(() => {
    locks = installLocks();
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.reset(); // closes the channels, so the worker can exit
    locks.uninstall();
  });

  function tab(fetch: jest.Mock, options: Partial<TokenClientOptions> = {}) {
    const c = createTokenClient({ url: URL_, fetch: fetch as unknown as typeof globalThis.fetch, ...options });
    clients.push(c);
    return c;
  }
  const counter = () => {
    let n = 0;
    return jest.fn(async () => new Response(JSON.stringify(token(++n)), { status: 200 }));
  };

  it('without navigator.locks each client works on its own (no throw)', async () => {
    locks.uninstall();
    const fetch = counter();
    const a = tab(fetch);
    const b = tab(fetch);
    expect(a.getStatus().sharedAcrossTabs).toBe(false);
    await a.getToken();
    await b.getToken();
    expect(fetch).toHaveBeenCalledTimes(2);
  });

  it('shareAcrossTabs: false opts out', () => {
    expect(tab(counter(), { shareAcrossTabs: false }).getStatus().sharedAcrossTabs).toBe(false);
    expect(tab(counter()).getStatus().sharedAcrossTabs).toBe(true);
  });

  it('two tabs asking at once: one request, under the lock named after the URL, and both get its token', async () => {
    const fetch = counter();
    const a = tab(fetch);
    const b = tab(fetch);
    const [ta, tb] = await Promise.all([a.getToken(), b.getToken()]);
    expect(fetch).toHaveBeenCalledTimes(1);
    expect(ta.tokenId).toBe('user-1');
    expect(tb.tokenId).toBe('user-1');
    expect(locks.requested).toEqual([KEY, KEY]);
  });

  it('a newly opened tab takes the token another tab holds', async () => {
    const fetch = counter();
    await tab(fetch).getToken();
    const started = Date.now();
    expect((await tab(fetch).getToken()).tokenId).toBe('user-1');
    expect(fetch).toHaveBeenCalledTimes(1);
    expect(Date.now() - started).toBeLessThan(ASK_WAIT_MS); // the answer ended the wait
  });

  it('a different scope does not share', async () => {
    const fetch = counter();
    await tab(fetch).getToken();
    await tab(fetch, { query: { ttl: 600 } }).getToken();
    expect(fetch).toHaveBeenCalledTimes(2);
  });

  it('ignores a token that expires sooner than its own, and malformed or foreign messages', async () => {
    const fetch = counter();
    const a = tab(fetch);
    await a.getToken();
    const channel = new BroadcastChannel(KEY);
    channel.postMessage({ v: 1, key: KEY, type: 'token', token: token(99, 100), sentAtWallMs: Date.now() - 10_000 });
    channel.postMessage({ v: 1, key: KEY, type: 'token', token: { authToken: 'x' }, sentAtWallMs: Date.now() });
    channel.postMessage({ v: 1, key: 'elsewhere', type: 'token', token: token(98, 900), sentAtWallMs: Date.now() });
    channel.postMessage('garbage');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(a.currentToken?.tokenId).toBe('user-1');
    // A later-expiring one is taken, and announced like a fetched token.
    const events: string[] = [];
    a.subscribe((e) => events.push(e.type === 'token' ? `token ${e.token.tokenId}` : e.type));
    channel.postMessage({ v: 1, key: KEY, type: 'token', token: token(7, 200), sentAtWallMs: Date.now() });
    await new Promise((resolve) => setTimeout(resolve, 50));
    channel.close();
    expect(a.currentToken?.tokenId).toBe('user-7');
    expect(events).toEqual(['token user-7']);
    expect(fetch).toHaveBeenCalledTimes(1);
  });

  it('a 401 in one tab halts the others without them asking the TVM', async () => {
    const ok = counter();
    const a = tab(ok);
    const b = tab(ok);
    a.start();
    b.start();
    await Promise.all([a.getToken(), b.getToken()]);
    const denied = jest.fn(
      async () =>
        new Response(JSON.stringify({ status: 401, code: 'unauthorized', title: 'Sign in again' }), {
          status: 401,
          headers: { 'content-type': 'application/problem+json' },
        }),
    );
    const c = tab(denied);
    const authErrors: string[] = [];
    b.subscribe((e) => e.type === 'auth-error' && authErrors.push(e.error.code));
    await expect(c.refresh()).rejects.toMatchObject({ status: 401 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(b.getStatus()).toMatchObject({ state: 'halted', haltedBy: { status: 401, code: 'unauthorized' } });
    expect(a.getStatus().state).toBe('halted');
    expect(authErrors).toEqual(['unauthorized']);
    expect(ok).toHaveBeenCalledTimes(1);
  });
});
