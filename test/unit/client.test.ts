/**
 * The browser token client against a fake fetch, with jest's fake timers (which also drive `Date.now()` and
 * `performance.now()`). No network.
 */
import {
  backoffDelayMs,
  buildUrl,
  createTokenClient,
  momentoCredentials,
  refreshingMomentoClient,
  TokenVendingError,
  type TokenClientOptions,
  type TokenResponse,
  type TokenVendingClient,
} from '../../client/src/index';
import { parseRetryAfter } from '../../client/src/errors';

const URL_ = 'https://tvm.example.com/prod/token';

interface Call {
  readonly url: string;
  readonly init: RequestInit;
  /** Milliseconds since the test started (fake clock). */
  readonly at: number;
}

type Responder = (callNumber: number, call: Call) => Response | Promise<Response>;

/** A structural `Response`: the client only reads ok, status, statusText, headers and json(). */
function reply(status: number, body?: unknown, headers: Record<string, string> = {}): Response {
  return {
    ok: status >= 200 && status < 300,
    status,
    statusText: '',
    headers: new Headers(headers),
    json: () => (body === undefined ? Promise.reject(new SyntaxError('no body')) : Promise.resolve(body)),
  } as unknown as Response;
}

function tokenBody(n: number, expiresIn = 100, extra: Partial<TokenResponse> = {}): TokenResponse {
  return {
    authToken: `secret-token-${n}`,
    expiresAt: Math.floor(Date.now() / 1000) + expiresIn,
    expiresIn,
    endpoint: 'cell-1.momento.test',
    tokenId: 'user-1',
    permissions: [{ type: 'cache', cache: 'chat', role: 'readonly' }],
    ...extra,
  };
}

function problem(status: number, code: string, headers: Record<string, string> = {}): Response {
  return reply(
    status,
    { type: 'about:blank', title: `title ${status}`, status, code, detail: `detail ${code}` },
    headers,
  );
}

let t0 = 0;

function fakeFetch(responder: Responder) {
  const calls: Call[] = [];
  const fetch = jest.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const call = { url: String(input), init: init ?? {}, at: Date.now() - t0 };
    calls.push(call);
    return responder(calls.length, call);
  });
  return { fetch: fetch as unknown as typeof globalThis.fetch, calls };
}

/** Always answers a fresh token numbered by call. */
const okResponder =
  (expiresIn = 100): Responder =>
  (n) =>
    reply(200, tokenBody(n, expiresIn));

function client(fetch: typeof globalThis.fetch, options: Partial<TokenClientOptions> = {}) {
  return createTokenClient({ url: URL_, fetch, ...options });
}

/** Listens the one way there is (`subscribe`), one mock per event type. */
function listen(tokens: TokenVendingClient) {
  const onToken = jest.fn<void, [TokenResponse]>();
  const onError = jest.fn<void, [TokenVendingError]>();
  const onAuthError = jest.fn<void, [TokenVendingError]>();
  const unsubscribe = tokens.subscribe((event) => {
    if (event.type === 'token') onToken(event.token);
    else if (event.type === 'auth-error') onAuthError(event.error);
    else onError(event.error);
  });
  return { onToken, onError, onAuthError, unsubscribe };
}

/** Lets pending promise chains (fetch → json → settle) run without moving the clock. */
const flush = () => jest.advanceTimersByTimeAsync(0);

/** A minimal DOM: `document` and `window` as EventTargets, installed as globals like in a browser. */
function installFakeBrowser() {
  const doc = Object.assign(new EventTarget(), { visibilityState: 'visible' as DocumentVisibilityState });
  const win = new EventTarget();
  Object.assign(globalThis, { document: doc, window: win });
  const listening = new Set<string>();
  for (const [name, target] of [
    ['document', doc],
    ['window', win],
  ] as const) {
    const add = target.addEventListener.bind(target);
    const remove = target.removeEventListener.bind(target);
    target.addEventListener = (type: string, listener: EventListenerOrEventListenerObject | null) => {
      listening.add(`${name}:${type}`);
      add(type, listener);
    };
    target.removeEventListener = (type: string, listener: EventListenerOrEventListenerObject | null) => {
      listening.delete(`${name}:${type}`);
      remove(type, listener);
    };
  }
  return {
    /** Event types someone currently listens to, as `document:visibilitychange`. */
    listening,
    show() {
      doc.visibilityState = 'visible';
      doc.dispatchEvent(new Event('visibilitychange'));
    },
    hide() {
      doc.visibilityState = 'hidden';
      doc.dispatchEvent(new Event('visibilitychange'));
    },
    online() {
      win.dispatchEvent(new Event('online'));
    },
  };
}

const consoleMethods = ['log', 'info', 'warn', 'error', 'debug'] as const;
let consoleSpies: jest.SpyInstance[] = [];

beforeEach(() => {
  jest.useFakeTimers();
  t0 = Date.now();
  consoleSpies = consoleMethods.map((m) => jest.spyOn(console, m).mockImplementation(() => undefined));
});

afterEach(() => {
  // The client never writes to the console (and so never logs a token).
  for (const spy of consoleSpies) expect(spy).not.toHaveBeenCalled();
  jest.restoreAllMocks();
  jest.useRealTimers();
  delete (globalThis as { document?: unknown }).document;
  delete (globalThis as { window?: unknown }).window;
});

describe('Function: createTokenClient', () => {
  describe('getToken', () => {
    it('shares one request between 10 concurrent callers (single-flight)', async () => {
      // Prepare
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const { fetch, calls } = fakeFetch(async (n) => {
        await gate;
        return reply(200, tokenBody(n));
      });
      const tokens = client(fetch);

      // Act
      const results = Promise.all(Array.from({ length: 10 }, () => tokens.getToken()));
      await flush();
      release();
      const got = await results;

      // Assess
      expect(calls).toHaveLength(1);
      expect(new Set(got.map((t) => t.authToken))).toEqual(new Set(['secret-token-1']));
      await tokens.getToken();
      expect(calls).toHaveLength(1); // still fresh: served from memory
    });

    it('returns the current token while fresh and fetches once it is due (0.8 × expiresIn)', async () => {
      const { fetch, calls } = fakeFetch(okResponder(100));
      const tokens = client(fetch, { refreshJitter: 0 }); // the refresh point itself

      expect((await tokens.getToken()).authToken).toBe('secret-token-1');
      await jest.advanceTimersByTimeAsync(79_999);
      expect((await tokens.getToken()).authToken).toBe('secret-token-1');
      await jest.advanceTimersByTimeAsync(1);
      expect((await tokens.getToken()).authToken).toBe('secret-token-2');
      expect(calls).toHaveLength(2);
    });

    it('sends Accept, the Authorization header from getAuthHeader, and no-store', async () => {
      const { fetch, calls } = fakeFetch(okResponder());
      const tokens = client(fetch, { getAuthHeader: async () => 'Bearer id-token' });

      await tokens.getToken();

      const headers = calls[0]!.init.headers as Record<string, string>;
      expect(headers).toEqual({ Accept: 'application/json', Authorization: 'Bearer id-token' });
      expect(calls[0]!.init).toMatchObject({ method: 'GET', cache: 'no-store' });
    });

    it('sends no Authorization header when getAuthHeader returns undefined (open mode)', async () => {
      const { fetch, calls } = fakeFetch(okResponder());
      await client(fetch, { getAuthHeader: () => undefined }).getToken();
      expect(calls[0]!.init.headers).toEqual({ Accept: 'application/json' });
    });

    it('encodes the narrowing query parameters', async () => {
      const { fetch, calls } = fakeFetch(okResponder());
      const tokens = client(fetch, {
        url: `${URL_}?stage=1`,
        query: { cache: 'my cache', topic: ['a/b', 'c&d'], ttl: 600, key: undefined, keyPrefix: null },
      });

      await tokens.getToken();

      const sent = new URL(calls[0]!.url);
      expect(sent.origin + sent.pathname).toBe(URL_);
      expect(sent.searchParams.get('stage')).toBe('1');
      expect(sent.searchParams.get('cache')).toBe('my cache');
      expect(sent.searchParams.getAll('topic')).toEqual(['a/b', 'c&d']);
      expect(sent.searchParams.get('ttl')).toBe('600');
      expect(sent.searchParams.has('key')).toBe(false);
      expect(sent.searchParams.has('keyPrefix')).toBe(false);
      expect(calls[0]!.url).toContain('cache=my+cache');
      expect(calls[0]!.url).toContain('topic=c%26d');
      expect(tokens.url).toBe(calls[0]!.url);
    });

    it('retries transient failures up to maxAttempts, then rejects with the last error', async () => {
      const { fetch, calls } = fakeFetch(() => problem(503, 'momento-unavailable'));
      const tokens = client(fetch, { maxAttempts: 3, random: () => 0.5 });

      const result = tokens.getToken();
      const assertion = expect(result).rejects.toMatchObject({ status: 503, code: 'momento-unavailable' });
      await jest.advanceTimersByTimeAsync(10_000);
      await assertion;

      expect(calls).toHaveLength(3);
      await jest.advanceTimersByTimeAsync(120_000);
      expect(calls).toHaveLength(3); // not started: no background retries once the caller gave up
    });

    it('resolves after a transient failure when the retry succeeds', async () => {
      const { fetch, calls } = fakeFetch((n) =>
        n === 1 ? problem(429, 'throttled', { 'Retry-After': '1' }) : reply(200, tokenBody(n)),
      );
      const tokens = client(fetch);

      const result = tokens.getToken();
      await jest.advanceTimersByTimeAsync(1_000);

      expect((await result).authToken).toBe('secret-token-2');
      expect(calls.map((c) => c.at)).toEqual([0, 1_000]);
    });

    it('falls back to the unexpired token when a refresh fails', async () => {
      const { fetch } = fakeFetch((n) =>
        n === 1 ? reply(200, tokenBody(n, 100)) : Promise.reject(new TypeError('offline')),
      );
      const tokens = client(fetch);
      const { onError } = listen(tokens);
      await tokens.getToken();
      await jest.advanceTimersByTimeAsync(85_000); // due for refresh, 15 s of life left

      const token = await tokens.getToken();

      expect(token.authToken).toBe('secret-token-1');
      expect(onError).toHaveBeenCalledWith(
        expect.objectContaining({ status: 0, code: 'network-error', kind: 'transient' }),
      );
    });

    it('aborts a request that takes longer than requestTimeoutMs (code timeout)', async () => {
      const { fetch } = fakeFetch(
        (_n, call) =>
          new Promise<Response>((_resolve, reject) => {
            call.init.signal!.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
          }),
      );
      const tokens = client(fetch, { requestTimeoutMs: 2_000, maxAttempts: 1 });

      const result = tokens.getToken();
      const assertion = expect(result).rejects.toMatchObject({ status: 0, code: 'timeout', kind: 'transient' });
      await jest.advanceTimersByTimeAsync(2_000);
      await assertion;
    });

    it('treats a 2xx answer that is not a token as transient (invalid-response)', async () => {
      const { fetch, calls } = fakeFetch((n) =>
        n === 1 ? reply(200, { hello: 'captive portal' }) : reply(200, tokenBody(n)),
      );
      const tokens = client(fetch, { random: () => 0 });

      const token = tokens.getToken();
      await flush();

      expect((await token).authToken).toBe('secret-token-2');
      expect(calls).toHaveLength(2);
    });

    it('rejects at once on a fatal answer (400) and does not retry', async () => {
      const { fetch, calls } = fakeFetch(() => problem(400, 'unknown-parameter'));
      const tokens = client(fetch);
      const { onError } = listen(tokens);
      tokens.start();

      // joins the request start() made
      await expect(tokens.getToken()).rejects.toMatchObject({ status: 400, code: 'unknown-parameter', kind: 'fatal' });
      await jest.advanceTimersByTimeAsync(600_000);

      expect(calls).toHaveLength(1);
      expect(onError).toHaveBeenCalledTimes(1);
      expect(tokens.getStatus()).toMatchObject({ running: true, nextAttemptInMs: undefined });
      expect(tokens.getStatus().haltedBy?.code).toBe('unknown-parameter');
    });

    it('maps API Gateway’s own 401 body ({"message":"Unauthorized"}) to a typed error', async () => {
      const { fetch } = fakeFetch(() => reply(401, { message: 'Unauthorized' }));
      const error = await client(fetch)
        .getToken()
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TokenVendingError);
      expect(error).toMatchObject({ status: 401, code: 'http-401', title: 'Unauthorized', kind: 'auth' });
    });

    it('accepts an answer without expiresIn, deriving it from expiresAt', async () => {
      jest.setSystemTime(1_767_225_600_000);
      const { fetch } = fakeFetch(() =>
        reply(200, { authToken: 'secret-token-x', expiresAt: Math.floor(Date.now() / 1000) + 50, endpoint: 'e' }),
      );
      const token = await client(fetch).getToken();
      expect(token.expiresIn).toBe(50);
      expect(token.permissions).toEqual([]);
    });
  });

  describe('refresh', () => {
    it('fetches even while the token is fresh, and shares the request with concurrent callers', async () => {
      let release!: () => void;
      const { fetch, calls } = fakeFetch(async (n) => {
        if (n === 2) await new Promise<void>((r) => (release = r));
        return reply(200, tokenBody(n));
      });
      const tokens = client(fetch);
      await tokens.getToken();

      const forced = tokens.refresh();
      const joined = tokens.refresh();
      await flush();
      const fresh = await tokens.getToken(); // token 1 is still fresh: no need to wait
      release();

      expect(fresh.authToken).toBe('secret-token-1');
      expect((await forced).authToken).toBe('secret-token-2');
      expect((await joined).authToken).toBe('secret-token-2');
      expect(calls).toHaveLength(2);
    });

    it('does not fall back to the previous token when the forced request fails', async () => {
      const { fetch } = fakeFetch((n) => (n === 1 ? reply(200, tokenBody(n)) : problem(503, 'momento-unavailable')));
      const tokens = client(fetch, { maxAttempts: 1 });
      await tokens.getToken();

      await expect(tokens.refresh()).rejects.toMatchObject({ status: 503 });
      expect(tokens.currentToken?.authToken).toBe('secret-token-1');
    });
  });

  describe('background refresh', () => {
    it('refreshes at 0.8 × expiresIn after the token was requested, not before', async () => {
      // expiresAt is deliberately nonsense: the schedule must come from expiresIn, not the local clock.
      const { fetch, calls } = fakeFetch((n) => reply(200, tokenBody(n, 3_600, { expiresAt: 1 })));
      const tokens = client(fetch, { refreshJitter: 0 }); // the refresh point itself
      const { onToken } = listen(tokens);

      tokens.start();
      await flush();
      expect(calls).toHaveLength(1);
      await jest.advanceTimersByTimeAsync(0.8 * 3_600_000 - 1);
      expect(calls).toHaveLength(1);
      await jest.advanceTimersByTimeAsync(1);

      expect(calls.map((c) => c.at)).toEqual([0, 2_880_000]);
      expect(onToken.mock.calls.map(([t]) => (t as TokenResponse).authToken)).toEqual([
        'secret-token-1',
        'secret-token-2',
      ]);
      await jest.advanceTimersByTimeAsync(2_880_000);
      expect(calls.map((c) => c.at)).toEqual([0, 2_880_000, 5_760_000]);
      tokens.stop();
    });

    it('honours refreshFraction and the minRefreshSeconds floor', async () => {
      const { fetch, calls } = fakeFetch(okResponder(100));
      const tokens = client(fetch, { refreshFraction: 0.01, minRefreshSeconds: 5 });

      tokens.start();
      await jest.advanceTimersByTimeAsync(4_999);
      expect(calls).toHaveLength(1);
      await jest.advanceTimersByTimeAsync(1);
      expect(calls).toHaveLength(2);
      tokens.stop();
    });

    it('backs off with capped exponential delays (full jitter)', async () => {
      const { fetch, calls } = fakeFetch(() => problem(503, 'momento-unavailable'));
      const tokens = client(fetch, { random: () => 0.5, backoff: { baseMs: 500, maxMs: 30_000 } });

      tokens.start();
      for (let i = 0; i < 10; i += 1) await jest.advanceTimersByTimeAsync(30_000);
      tokens.stop();

      const gaps = calls.slice(1).map((c, i) => c.at - calls[i]!.at);
      // half of each ceiling: 500 · 2^n capped at 30 000
      expect(gaps.slice(0, 9)).toEqual([250, 500, 1_000, 2_000, 4_000, 8_000, 15_000, 15_000, 15_000]);
      expect(tokens.getStatus().consecutiveFailures).toBe(calls.length);
    });

    it('honours Retry-After as a floor under the jitter', async () => {
      const { fetch, calls } = fakeFetch((n) =>
        n <= 2 ? problem(429, 'momento-throttled', { 'Retry-After': '7' }) : reply(200, tokenBody(n)),
      );
      const tokens = client(fetch, { random: () => 0 }); // jitter alone would retry at once

      tokens.start();
      await jest.advanceTimersByTimeAsync(6_999);
      expect(calls).toHaveLength(1);
      await jest.advanceTimersByTimeAsync(1);
      expect(calls).toHaveLength(2);
      await jest.advanceTimersByTimeAsync(7_000);

      expect(calls.map((c) => c.at)).toEqual([0, 7_000, 14_000]);
      expect(tokens.currentToken?.authToken).toBe('secret-token-3');
      expect(tokens.getStatus().consecutiveFailures).toBe(0);
      tokens.stop();
    });

    it('stop() clears every timer and no request follows', async () => {
      const { fetch, calls } = fakeFetch(okResponder(100));
      const tokens = client(fetch);
      tokens.start();
      await flush();
      expect(jest.getTimerCount()).toBe(1);

      tokens.stop();

      expect(jest.getTimerCount()).toBe(0);
      await jest.advanceTimersByTimeAsync(3_600_000);
      expect(calls).toHaveLength(1);
      expect(tokens.getStatus()).toMatchObject({ running: false, nextAttemptInMs: undefined });
      expect(tokens.currentToken).toBeUndefined(); // expired meanwhile
    });

    it('stop() during backoff cancels the retry', async () => {
      const { fetch, calls } = fakeFetch(() => problem(503, 'momento-unavailable'));
      const tokens = client(fetch, { random: () => 0.5 });
      tokens.start();
      await flush();
      expect(tokens.getStatus().nextAttemptInMs).toBe(250);

      tokens.stop();

      expect(jest.getTimerCount()).toBe(0);
      await jest.advanceTimersByTimeAsync(60_000);
      expect(calls).toHaveLength(1);
    });

    it('reports the countdown to the next refresh', async () => {
      const { fetch } = fakeFetch(okResponder(100));
      const tokens = client(fetch, { refreshJitter: 0 }); // the refresh point itself
      tokens.start();
      await flush();
      await jest.advanceTimersByTimeAsync(30_000);

      expect(tokens.getStatus()).toMatchObject({
        running: true,
        fetching: false,
        tokenId: 'user-1',
        tokenExpiresInMs: 70_000,
        nextAttemptInMs: 50_000,
      });
      tokens.stop();
    });
  });

  describe.each([401, 403])('on %i', (status) => {
    const code = status === 401 ? 'unauthorized' : 'tier-required';

    it('calls onAuthError once, stops refreshing and rejects getToken with a TokenVendingError', async () => {
      const { fetch, calls } = fakeFetch(() => problem(status, code));
      const tokens = client(fetch);
      const { onAuthError, onError } = listen(tokens);

      tokens.start();
      await flush();

      expect(onAuthError).toHaveBeenCalledTimes(1);
      const error = onAuthError.mock.calls[0]![0] as TokenVendingError;
      expect(error).toBeInstanceOf(TokenVendingError);
      expect(error).toMatchObject({ status, code, title: `title ${status}`, detail: `detail ${code}`, kind: 'auth' });
      expect(error.isAuthError).toBe(true);
      expect(onError).not.toHaveBeenCalled();
      expect(jest.getTimerCount()).toBe(0);
      await jest.advanceTimersByTimeAsync(600_000);
      expect(calls).toHaveLength(1);
      expect(onAuthError).toHaveBeenCalledTimes(1);
    });

    it('rejects every waiting caller with status and code', async () => {
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const { fetch, calls } = fakeFetch(async () => {
        await gate;
        return problem(status, code);
      });
      const tokens = client(fetch);
      const { onAuthError } = listen(tokens);

      const waiting = Array.from({ length: 3 }, () => tokens.getToken().catch((e: unknown) => e));
      release();
      const errors = await Promise.all(waiting);

      expect(calls).toHaveLength(1);
      for (const e of errors) {
        expect(e).toBeInstanceOf(TokenVendingError);
        expect(e).toMatchObject({ status, code });
      }
      expect(onAuthError).toHaveBeenCalledTimes(1);
    });

    it('recovers when start() is called again after sign-in', async () => {
      let signedIn = false;
      const { fetch, calls } = fakeFetch((n) => (signedIn ? reply(200, tokenBody(n, 100)) : problem(status, code)));
      const tokens = client(fetch, { getAuthHeader: () => (signedIn ? 'Bearer new' : 'Bearer old') });
      const { onAuthError } = listen(tokens);
      tokens.start();
      await flush();
      expect(tokens.getStatus().haltedBy?.status).toBe(status);
      expect(onAuthError).toHaveBeenCalledTimes(1);

      signedIn = true;
      tokens.start();
      await flush();

      expect(calls).toHaveLength(2);
      expect((calls[1]!.init.headers as Record<string, string>)['Authorization']).toBe('Bearer new');
      expect(tokens.currentToken?.authToken).toBe('secret-token-2');
      await jest.advanceTimersByTimeAsync(80_000); // background refresh is back on
      expect(calls).toHaveLength(3);
      tokens.stop();
    });

    it('recovers when getToken() is called again after sign-in', async () => {
      let signedIn = false;
      const { fetch } = fakeFetch((n) => (signedIn ? reply(200, tokenBody(n)) : problem(status, code)));
      const tokens = client(fetch);
      await expect(tokens.getToken()).rejects.toMatchObject({ status });

      signedIn = true;

      expect((await tokens.getToken()).authToken).toBe('secret-token-2');
    });
  });

  it('treats a throwing getAuthHeader as an auth failure without calling the TVM', async () => {
    const { fetch, calls } = fakeFetch(okResponder());
    const tokens = client(fetch, {
      getAuthHeader: () => {
        throw new Error('not signed in');
      },
    });
    const { onAuthError } = listen(tokens);

    await expect(tokens.getToken()).rejects.toMatchObject({ status: 0, code: 'credentials-unavailable', kind: 'auth' });
    expect(onAuthError).toHaveBeenCalledTimes(1);
    expect(calls).toHaveLength(0);
  });

  describe('in a browser', () => {
    it('re-checks when the page becomes visible: a laptop that slept refreshes on wake', async () => {
      const browser = installFakeBrowser();
      const { fetch, calls } = fakeFetch(okResponder(100));
      const tokens = client(fetch);
      tokens.start();
      await flush();

      // Sleep: the wall clock moves 90 s while performance.now() and the timers stand still.
      jest.setSystemTime(Date.now() + 90_000);
      browser.hide();
      await flush();
      expect(calls).toHaveLength(1);
      browser.show();
      await flush();

      expect(calls).toHaveLength(2);
      expect(tokens.currentToken?.authToken).toBe('secret-token-2');
      tokens.stop();
    });

    it('does nothing on visibilitychange while the token is fresh', async () => {
      const browser = installFakeBrowser();
      const { fetch, calls } = fakeFetch(okResponder(100));
      const tokens = client(fetch);
      tokens.start();
      await flush();

      browser.show();
      await flush();

      expect(calls).toHaveLength(1);
      tokens.stop();
    });

    it('without any event, notices a sleep within a minute (timers are sliced)', async () => {
      installFakeBrowser();
      const { fetch, calls } = fakeFetch(okResponder(3_600));
      const tokens = client(fetch);
      tokens.start();
      await flush();

      jest.setSystemTime(Date.now() + 3_000_000); // slept 50 min; 48 min was the refresh point
      await jest.advanceTimersByTimeAsync(60_000);

      expect(calls).toHaveLength(2);
      tokens.stop();
    });

    it('retries at once when the network comes back (online)', async () => {
      const browser = installFakeBrowser();
      let offline = true;
      const { fetch, calls } = fakeFetch((n) =>
        offline ? Promise.reject(new TypeError('Failed to fetch')) : reply(200, tokenBody(n)),
      );
      const tokens = client(fetch, { random: () => 0.99 });
      tokens.start();
      for (let i = 0; i < 5; i += 1) await jest.advanceTimersByTimeAsync(20_000);
      const before = calls.length;
      expect(tokens.getStatus().nextAttemptInMs).toBeGreaterThan(1_000);

      offline = false;
      browser.online();
      await flush();

      expect(calls).toHaveLength(before + 1);
      expect(tokens.currentToken?.authToken).toBe(`secret-token-${before + 1}`);
      tokens.stop();
    });

    it('removes its listeners on stop()', async () => {
      const browser = installFakeBrowser();
      const { fetch, calls } = fakeFetch(okResponder(100));
      const tokens = client(fetch);
      tokens.start();
      await flush();
      expect([...browser.listening].sort()).toEqual(['document:visibilitychange', 'window:online', 'window:pageshow']);

      tokens.stop();

      expect(browser.listening.size).toBe(0);
      jest.setSystemTime(Date.now() + 200_000);
      browser.show();
      browser.online();
      await flush();

      expect(calls).toHaveLength(1);
    });
  });

  describe('reset', () => {
    it('forgets the token, rejects waiting callers and ignores the answer already on its way', async () => {
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const { fetch, calls } = fakeFetch(async (n) => {
        if (n === 2) await gate;
        return reply(200, tokenBody(n, 100));
      });
      const tokens = client(fetch);
      const { onToken } = listen(tokens);
      await tokens.getToken();
      await jest.advanceTimersByTimeAsync(80_000);
      const waiting = tokens.getToken();
      const assertion = expect(waiting).rejects.toMatchObject({ code: 'reset' });

      tokens.reset();
      release();
      await assertion;
      await flush();

      expect(tokens.currentToken).toBeUndefined();
      expect(onToken).toHaveBeenCalledTimes(1); // token 2 belonged to the previous session
      expect((await tokens.getToken()).authToken).toBe('secret-token-3');
      expect(calls).toHaveLength(3);
    });
  });

  describe('state machine', () => {
    it('walks idle → fetching → scheduled → fetching → backing-off → halted, and only the timer of its state runs', async () => {
      const { fetch } = fakeFetch((n) =>
        n === 1 ? reply(200, tokenBody(n, 100)) : n === 2 ? problem(503, 'momento-unavailable') : problem(401, 'x'),
      );
      const tokens = client(fetch, { random: () => 0 });
      const seen = [tokens.getStatus().state];

      tokens.start();
      seen.push(tokens.getStatus().state);
      await flush();
      seen.push(tokens.getStatus().state);
      expect(tokens.getStatus().nextAttemptInMs).toBe(80_000);
      expect(jest.getTimerCount()).toBe(1);
      await jest.advanceTimersByTimeAsync(60_000); // one slice: looks again, still fresh
      seen.push(tokens.getStatus().state);
      await jest.advanceTimersByTimeAsync(20_000);
      seen.push(tokens.getStatus().state);
      expect(tokens.getStatus()).toMatchObject({ consecutiveFailures: 1, lastError: { code: 'momento-unavailable' } });
      await jest.advanceTimersByTimeAsync(1); // random 0: the retry goes at once (as in Node, 0 ms is 1 ms), 401
      seen.push(tokens.getStatus().state);

      expect(seen).toEqual(['idle', 'fetching', 'scheduled', 'scheduled', 'backing-off', 'halted']);
      expect(tokens.getStatus()).toMatchObject({
        running: true,
        haltedBy: { status: 401 },
        nextAttemptInMs: undefined,
      });
      expect(jest.getTimerCount()).toBe(0);
      tokens.stop();
      expect(tokens.getStatus().state).toBe('halted');
      tokens.reset();
      expect(tokens.getStatus()).toMatchObject({ state: 'idle', running: false, consecutiveFailures: 0 });
    });

    it('stop() leaves scheduled for idle and disarms the refresh timer; a pending getToken() keeps its retries', async () => {
      const { fetch, calls } = fakeFetch((n) => (n === 1 ? reply(200, tokenBody(n, 100)) : problem(503, 'busy')));
      const tokens = client(fetch, { random: () => 0.5 });
      tokens.start();
      await flush();
      tokens.stop();
      expect(tokens.getStatus().state).toBe('idle');
      expect(jest.getTimerCount()).toBe(0);

      await jest.advanceTimersByTimeAsync(100_000); // the token expired: getToken() must fetch
      const pending = tokens.getToken().catch((e: unknown) => e);
      await flush();
      expect(tokens.getStatus().state).toBe('backing-off');
      tokens.stop(); // someone still waits: the retry stays armed
      expect(tokens.getStatus().state).toBe('backing-off');
      await jest.advanceTimersByTimeAsync(2_000);

      expect(await pending).toMatchObject({ status: 503, code: 'busy' });
      expect(calls).toHaveLength(4);
      expect(tokens.getStatus().state).toBe('idle');
    });
  });

  describe('subscribe', () => {
    it('is the one way to listen: token, error and auth-error events, until unsubscribed', async () => {
      const { fetch } = fakeFetch((n) =>
        n === 1 ? reply(200, tokenBody(n)) : n === 2 ? problem(400, 'unknown-parameter') : problem(403, 'no-tier'),
      );
      const tokens = client(fetch);
      const events: string[] = [];
      const unsubscribe = tokens.subscribe((e) =>
        events.push(e.type === 'token' ? `token ${e.token.tokenId}` : `${e.type} ${e.error.status} ${e.error.code}`),
      );

      await tokens.getToken();
      await tokens.refresh().catch(() => undefined);
      await tokens.refresh().catch(() => undefined);
      unsubscribe();
      await tokens.refresh().catch(() => undefined);

      expect(events).toEqual(['token user-1', 'error 400 unknown-parameter', 'auth-error 403 no-tier']);
    });

    it('a listener that throws disturbs neither the client nor the other listeners', async () => {
      const { fetch } = fakeFetch(okResponder());
      const tokens = client(fetch);
      const thrown: unknown[] = [];
      const realQueueMicrotask = globalThis.queueMicrotask;
      jest.spyOn(globalThis, 'queueMicrotask').mockImplementation((task) =>
        realQueueMicrotask(() => {
          try {
            task();
          } catch (e) {
            thrown.push(e);
          }
        }),
      );
      tokens.subscribe(() => {
        throw new Error('listener bug');
      });
      const { onToken } = listen(tokens);

      const token = await tokens.getToken();
      await flush();

      expect(token.authToken).toBe('secret-token-1');
      expect(onToken).toHaveBeenCalledTimes(1);
      expect(thrown).toEqual([new Error('listener bug')]);
    });
  });

  it('keeps only the permission statements that match the contract (type, role of that type, no extra member)', async () => {
    const permissions = [
      { type: 'cache', cache: 'chat', role: 'readonly', keyPrefix: 'u1/' },
      { type: 'topic', cache: 'chat', role: 'publishsubscribe', topic: 'room-1' },
      { type: 'topic', cache: 'chat', role: 'readwrite' }, // a cache role on a topic
      { type: 'queue', cache: 'chat', role: 'readonly' },
      { type: 'cache', cache: 'chat', role: 'readonly', topic: 'x' }, // a topic selector on a cache statement
      { type: 'cache', cache: 'chat', role: 'readonly', key: 7 },
    ];
    const { fetch } = fakeFetch(() => reply(200, { ...tokenBody(1), permissions, surprise: true }));

    const token = await client(fetch).getToken();

    expect(token.permissions).toEqual(permissions.slice(0, 2));
    expect(token).not.toHaveProperty('surprise');
    expect(Object.isFrozen(token) && Object.isFrozen(token.permissions) && Object.isFrozen(token.permissions[0])).toBe(
      true,
    );
  });

  it('reports every invalid option at once', () => {
    expect(() => createTokenClient({ url: '', refreshFraction: 1.5, maxAttempts: 0 })).toThrow(
      /url must be a non-empty string; refreshFraction must be in \(0, 1\]; maxAttempts must be an integer ≥ 1/,
    );
    expect(() => createTokenClient({ url: 'relative/without/page' })).toThrow(/url is not a valid URL/);
  });
});

describe('Function: backoffDelayMs', () => {
  const options = { baseMs: 500, maxMs: 30_000 };

  it.each([
    [1, 0.999, 499],
    [2, 0.999, 999],
    [3, 0.5, 1_000],
    [7, 0.999, 29_970],
    [8, 0.999, 29_970],
    [60, 0.999, 29_970],
    [3, 0, 0],
  ])('failure %i with random %f waits %i ms', (failures, r, expected) => {
    expect(backoffDelayMs(failures, options, () => r, undefined)).toBe(expected);
  });

  it('never goes below Retry-After, even above maxMs', () => {
    expect(backoffDelayMs(1, options, () => 0, 3)).toBe(3_000);
    expect(backoffDelayMs(8, options, () => 0.999, 2)).toBe(29_970);
    expect(backoffDelayMs(1, options, () => 0.5, 120)).toBe(120_000);
  });
});

describe('Function: parseRetryAfter', () => {
  it.each([
    ['7', 7],
    [' 0 ', 0],
    ['Thu, 01 Jan 1970 00:00:30 GMT', 20],
    ['soon', undefined],
    [null, undefined],
  ])('%p → %p', (value, expected) => {
    expect(parseRetryAfter(value, 10_000)).toBe(expected);
  });
});

describe('Function: buildUrl', () => {
  it('keeps an absolute URL and appends repeated parameters', () => {
    expect(buildUrl('http://localhost:8787/token', { topic: ['x', 'y'], ttl: 60 })).toBe(
      'http://localhost:8787/token?topic=x&topic=y&ttl=60',
    );
  });
});

describe('Function: momentoCredentials', () => {
  it('gives exactly { authToken } of the current token', async () => {
    const { fetch } = fakeFetch(okResponder());
    const credentials = await momentoCredentials(client(fetch));
    expect(credentials).toEqual({ authToken: 'secret-token-1' });
  });
});

describe('Function: refreshingMomentoClient', () => {
  it('builds a new SDK client for each new token and hands over the previous one', async () => {
    const { fetch } = fakeFetch(okResponder(100));
    const tokens = client(fetch);
    const create = jest.fn((credentials: { authToken: string }) => ({ credentials }));
    const onReplace = jest.fn();
    const holder = refreshingMomentoClient(tokens, create, { onReplace });

    const first = await holder.get();
    expect(await holder.get()).toBe(first);
    tokens.start();
    await jest.advanceTimersByTimeAsync(80_000);

    expect(create.mock.calls.map(([c]) => c.authToken)).toEqual(['secret-token-1', 'secret-token-2']);
    expect(onReplace).toHaveBeenCalledWith(holder.current, first);
    holder.close();
    await jest.advanceTimersByTimeAsync(80_000);
    expect(create).toHaveBeenCalledTimes(2);
    tokens.stop();
  });
});
