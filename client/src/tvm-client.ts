/**
 * Browser client for the token vending machine: fetches a Momento disposable token, shares one request
 * between concurrent callers, refreshes it before it expires, backs off on transient failures and stops on
 * authentication failures. Dependency-free; runs in browsers and in Node ≥ 18 (global `fetch`).
 *
 * Three parts: {@link requestToken} sends one request (http.ts), {@link RefreshScheduler} decides when
 * (scheduler.ts), and {@link TokenVendingClient} is the state machine between them (this file).
 */
import type { BackoffOptions } from './backoff.js';
import { DEFAULT_BACKOFF } from './backoff.js';
import { SYSTEM_CLOCK, type StampedToken } from './clock.js';
import type { TokenResponse } from './contract.js';
import { CLIENT_ERROR_CODES, TokenVendingError } from './errors.js';
import { buildUrl, requestToken, type QueryValue, type TokenRequestOptions } from './http.js';
import { RefreshScheduler } from './scheduler.js';
import { expiresAtWallMs, stampShared, TabChannel, type SharedHalt, type SharedToken } from './tabs.js';

/** Options of {@link TokenVendingClient}. */
export interface TokenClientOptions {
  /** The TVM's token URL, e.g. `https://abc.execute-api.eu-west-1.amazonaws.com/prod/token`; may be relative. */
  readonly url: string;
  /**
   * Returns the `Authorization` header value to send: the raw Cognito ID token in the `cognito` auth mode,
   * `Bearer <JWT>` for your own IdP behind the `jwt` mode; `undefined` sends none (open mode). Called before
   * every request, so it can return a freshly refreshed token. If it throws, the client treats it like a 401
   * (code `credentials-unavailable`).
   * @default no Authorization header
   */
  readonly getAuthHeader?: () => string | undefined | Promise<string | undefined>;
  /**
   * Narrowing parameters sent as the query string, e.g. `{ cache: 'chat', topic: 'room-1', ttl: 600 }`.
   * The TVM can only narrow what the caller's tier allows; asking for more is a 403.
   * @default none
   */
  readonly query?: Readonly<Record<string, QueryValue>>;
  /**
   * Fraction of the server-stated `expiresIn` after which the token is refreshed.
   * @default 0.8
   */
  readonly refreshFraction?: number;
  /**
   * Floor of the refresh delay in seconds, so a very short-lived token cannot make the client hammer the
   * TVM. The refresh never waits past the token's usable lifetime, whatever this floor.
   * @default 5
   */
  readonly minRefreshSeconds?: number;
  /**
   * Width of the random window before the refresh point, as a fraction of that point: each token is
   * refreshed at a uniform pick in `[(1 − refreshJitter) × refreshFraction, refreshFraction] × expiresIn`
   * (never before `minRefreshSeconds`), so clients that signed in together do not all refresh at the same
   * instant; by default between 72 % and 80 %. 0 refreshes exactly at the refresh point. The pick uses
   * `random`.
   * @default 0.1
   */
  readonly refreshJitter?: number;
  /**
   * Share one token, and one request for it, among the tabs of this origin that use the same `url` and
   * `query`: a tab that gets a token sends it to the others (`BroadcastChannel`), a Web Lock lets one tab
   * at a time ask the TVM, a newly opened tab asks the others before it fetches, and a 401/403 or other
   * session-ending error stops every tab. Where the browser lacks `BroadcastChannel` or `navigator.locks`
   * (or outside a secure context), each tab works on its own. See the README, "Tabs".
   * @default true
   */
  readonly shareAcrossTabs?: boolean;
  /**
   * Backoff between retries of transient failures (full jitter, `Retry-After` as a floor).
   * @default { baseMs: 500, maxMs: 30000 }
   */
  readonly backoff?: BackoffOptions;
  /**
   * Requests one `getToken()` call makes on transient failures before it rejects (when no unexpired token is
   * available to fall back on). Background refresh keeps retrying for as long as the client runs.
   * @default 3
   */
  readonly maxAttempts?: number;
  /**
   * Milliseconds after which a request is aborted and counted as a transient failure (code `timeout`).
   * @default 10000
   */
  readonly requestTimeoutMs?: number;
  /**
   * The `fetch` to use.
   * @default globalThis.fetch
   */
  readonly fetch?: typeof fetch;
  /**
   * Source of randomness in [0, 1) for the backoff jitter; inject for deterministic tests.
   * @default Math.random
   */
  readonly random?: () => number;
}

/**
 * What {@link TokenVendingClient.subscribe} listeners receive:
 * - `token`: a new token (do not log it);
 * - `error`: a failed request that is not an authentication failure (transient: retried; fatal: refresh stops);
 * - `auth-error`: a 401/403 (or `getAuthHeader` threw); refresh stops until `start()`, `getToken()` or
 *   `refresh()`, typically after the user signs in. Sent once per failed request.
 */
export type TokenClientEvent =
  | { readonly type: 'token'; readonly token: TokenResponse }
  | { readonly type: 'error'; readonly error: TokenVendingError }
  | { readonly type: 'auth-error'; readonly error: TokenVendingError };

/**
 * The state machine's states:
 * - `idle`: no request and no timer (never started, stopped, or nothing left to do);
 * - `fetching`: one request in flight, shared by every waiting caller;
 * - `scheduled`: a fresh token is held and the refresh timer is armed (background refresh);
 * - `backing-off`: the last request failed transiently and the retry timer is armed;
 * - `halted`: an auth or fatal error stopped refreshing, until `start()`, `getToken()` or `refresh()`.
 */
export type TokenClientState = 'idle' | 'fetching' | 'scheduled' | 'backing-off' | 'halted';

/** A snapshot of what the client is doing, for status displays. Never contains the token. */
export interface TokenClientStatus {
  /** The state machine's state. */
  readonly state: TokenClientState;
  /** `start()` was called and `stop()` was not. */
  readonly running: boolean;
  /** A request is in flight (`state === 'fetching'`). */
  readonly fetching: boolean;
  /** Failures in a row since the last token. */
  readonly consecutiveFailures: number;
  /** The auth or fatal error that halted refreshing (`state === 'halted'`). */
  readonly haltedBy: TokenVendingError | undefined;
  /** The last failure, cleared by the next token. */
  readonly lastError: TokenVendingError | undefined;
  /** `tokenId` of the current token. */
  readonly tokenId: string | undefined;
  /** Milliseconds the current token remains valid (by the server's `expiresIn`), undefined without one. */
  readonly tokenExpiresInMs: number | undefined;
  /** Milliseconds until the next scheduled refresh or retry; undefined when nothing is scheduled. */
  readonly nextAttemptInMs: number | undefined;
  /** Tokens are shared with the other tabs of this origin (the option is on and the browser can). */
  readonly sharedAcrossTabs: boolean;
}

/** Default refresh point: 80 % of the token's lifetime. */
export const DEFAULT_REFRESH_FRACTION = 0.8;
/** Default floor of the refresh delay, in seconds. */
export const DEFAULT_MIN_REFRESH_SECONDS = 5;
/** Default number of requests one `getToken()` call makes on transient failures. */
export const DEFAULT_MAX_ATTEMPTS = 3;
/** Default request timeout. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
/** Default width of the refresh jitter window, as a fraction of the refresh point. */
export const DEFAULT_REFRESH_JITTER = 0.1;

/** Each state with what only it has. */
type State =
  | { readonly name: 'idle' }
  | { readonly name: 'fetching'; readonly abort: AbortController }
  | { readonly name: 'scheduled' }
  | { readonly name: 'backing-off'; readonly error: TokenVendingError }
  | { readonly name: 'halted'; readonly error: TokenVendingError };

const IDLE: State = { name: 'idle' };

/** A caller of `getToken()`/`refresh()` waiting for the request in flight (or its retries). */
interface Waiter {
  readonly resolve: (token: TokenResponse) => void;
  readonly reject: (error: TokenVendingError) => void;
  attemptsLeft: number;
  /** From `refresh()`: wants a new token, not the previous one. */
  readonly forced: boolean;
  /** Wall clock at the call: a token another tab requested before then is not new to a `refresh()`. */
  readonly sinceWallMs: number;
}

/**
 * Fetches, caches and refreshes Momento disposable tokens from the TVM.
 *
 * @example
 * ```ts
 * const tokens = createTokenClient({
 *   url: 'https://abc.execute-api.eu-west-1.amazonaws.com/prod/token',
 *   getAuthHeader: async () => await currentIdToken(), // cognito mode: the raw ID token
 * });
 * tokens.subscribe((event) => {
 *   if (event.type === 'auth-error') showSignIn();
 * });
 * tokens.start();
 * const { authToken } = await tokens.getToken();
 * ```
 */
export class TokenVendingClient {
  private readonly request: TokenRequestOptions;
  private readonly maxAttempts: number;
  private readonly scheduler: RefreshScheduler;
  private readonly listeners = new Set<(event: TokenClientEvent) => void>();

  private state: State = IDLE;
  /** Background refresh on (`start()`); orthogonal to the state: `getToken()` works either way. */
  private running = false;
  /** The last token received; kept through failures so an unexpired one can still be handed out. */
  private held: StampedToken | undefined;
  private waiters: Waiter[] = [];
  private failures = 0;
  private lastError: TokenVendingError | undefined;
  /** The other tabs, when sharing is on and the browser supports it; dropped by `reset()`. */
  private tabs: TabChannel | undefined;

  /** @throws TypeError naming every invalid option at once. */
  constructor(options: TokenClientOptions) {
    const problems: string[] = [];
    if (typeof options.url !== 'string' || options.url.length === 0) problems.push('url must be a non-empty string');
    const refreshFraction = options.refreshFraction ?? DEFAULT_REFRESH_FRACTION;
    if (!(refreshFraction > 0 && refreshFraction <= 1)) problems.push('refreshFraction must be in (0, 1]');
    const minRefreshSeconds = options.minRefreshSeconds ?? DEFAULT_MIN_REFRESH_SECONDS;
    if (!(minRefreshSeconds >= 0 && Number.isFinite(minRefreshSeconds))) {
      problems.push('minRefreshSeconds must be a finite number ≥ 0');
    }
    const refreshJitter = options.refreshJitter ?? DEFAULT_REFRESH_JITTER;
    if (!(refreshJitter >= 0 && refreshJitter < 1)) problems.push('refreshJitter must be in [0, 1)');
    const backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    if (!(backoff.baseMs > 0 && Number.isFinite(backoff.baseMs))) problems.push('backoff.baseMs must be > 0');
    if (!(backoff.maxMs >= backoff.baseMs && Number.isFinite(backoff.maxMs))) {
      problems.push('backoff.maxMs must be ≥ backoff.baseMs');
    }
    const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    if (!(Number.isInteger(maxAttempts) && maxAttempts >= 1)) problems.push('maxAttempts must be an integer ≥ 1');
    const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    if (!(requestTimeoutMs > 0)) problems.push('requestTimeoutMs must be > 0');
    let url = '';
    if (problems.length === 0) {
      try {
        url = buildUrl(options.url, options.query);
      } catch {
        problems.push(`url is not a valid URL: ${options.url}`);
      }
    }
    if (problems.length > 0) throw new TypeError(`Invalid token client options: ${problems.join('; ')}`);

    this.request = {
      url,
      getAuthHeader: options.getAuthHeader,
      timeoutMs: requestTimeoutMs,
      fetch: options.fetch,
      clock: SYSTEM_CLOCK,
    };
    this.maxAttempts = maxAttempts;
    this.scheduler = new RefreshScheduler(
      {
        refreshFraction,
        minRefreshMs: minRefreshSeconds * 1000,
        refreshJitterFraction: refreshJitter,
        backoff,
        random: options.random ?? Math.random,
      },
      {
        onCheck: () => this.check(),
        onRetry: () => void this.attempt(),
        onOnline: () => this.onOnline(),
      },
      SYSTEM_CLOCK,
    );
    if (options.shareAcrossTabs ?? true) {
      this.tabs = TabChannel.open(url, {
        onToken: (shared) => this.adopt(shared),
        onHalt: (error) => this.haltFromTab(error),
        current: () => (this.held && this.scheduler.isUsable(this.held) ? toShared(this.held) : undefined),
      });
    }
  }

  /** The full request URL, query string included. */
  get url(): string {
    return this.request.url;
  }

  /** The last token if it has not expired yet (it may be due for refresh), else undefined. */
  get currentToken(): TokenResponse | undefined {
    return this.held && this.scheduler.isUsable(this.held) ? this.held.token : undefined;
  }

  /**
   * Resolves with a token that is not yet due for refresh, fetching one when needed. Concurrent callers
   * share a single request. On transient failures the call retries (with backoff, up to `maxAttempts`
   * requests) unless the previous token is still unexpired, in which case it resolves with that one while
   * the retries go on in the background. Rejects with a {@link TokenVendingError}; on 401/403 at once.
   *
   * Calling it after an authentication failure (e.g. once the user has signed in) resumes refreshing.
   */
  getToken(): Promise<TokenResponse> {
    const resuming = this.resume();
    const held = this.held;
    if (held && this.scheduler.isFresh(held)) {
      if (resuming) this.check();
      return Promise.resolve(held.token);
    }
    // Refresh is already failing and backing off: an unexpired token beats waiting for the next retry.
    if (held && this.state.name === 'backing-off' && this.scheduler.isUsable(held)) return Promise.resolve(held.token);
    return this.wait(false);
  }

  /**
   * Fetches a new token now, even if the current one is fresh (e.g. after the user's groups changed).
   * Joins a request already in flight, and a retry that is backing off (so `Retry-After` is honoured).
   * Settles like {@link getToken}, except that it never falls back to the previous token.
   */
  refresh(): Promise<TokenResponse> {
    this.resume();
    return this.wait(true);
  }

  /**
   * Starts background refresh (fetching a token now if there is none fresh) and, in a browser, re-checks
   * when the page becomes visible again, is restored from the back/forward cache, or the network comes back.
   * Also resumes refreshing after an authentication failure. Idempotent.
   */
  start(): void {
    this.resume();
    if (!this.running) {
      this.running = true;
      this.scheduler.watch();
    }
    this.check();
  }

  /**
   * Stops background refresh: cancels the refresh timer and removes the browser listeners. A pending
   * `getToken()` call still completes (its remaining retries still run). The current token is kept.
   */
  stop(): void {
    this.running = false;
    this.scheduler.stopWatching();
    if (this.state.name === 'scheduled' || (this.state.name === 'backing-off' && this.waiters.length === 0)) {
      this.enter(IDLE);
    }
  }

  /**
   * Stops, aborts any request, forgets the current token and rejects pending `getToken()` calls (code
   * `reset`). Call it when the user signs out, so the next user never gets the previous user's token. It
   * also stops sharing with the other tabs (which may still hold the previous user's token): from then on
   * this client fetches on its own; create a new client to share again.
   */
  reset(): void {
    this.tabs?.close();
    this.tabs = undefined;
    this.stop();
    // Leaving `fetching` makes attempt() drop the answer to this request when it arrives.
    if (this.state.name === 'fetching') this.state.abort.abort();
    this.enter(IDLE);
    this.held = undefined;
    this.failures = 0;
    this.lastError = undefined;
    this.scheduler.clearRetryAfter();
    const error = new TokenVendingError({
      status: 0,
      code: CLIENT_ERROR_CODES.reset,
      title: 'The token client was reset',
      kind: 'fatal',
    });
    for (const waiter of this.takeWaiters()) waiter.reject(error);
  }

  /**
   * The one way to listen: every new token, every failed request. Listeners run after the client has
   * settled its own state; one that throws does not disturb the others (the exception is re-thrown
   * asynchronously, so it still shows up as an uncaught error).
   *
   * @returns a function that removes the listener
   * @example
   * ```ts
   * const unsubscribe = tokens.subscribe((event) => {
   *   if (event.type === 'token') rebuildMomentoClients(event.token);
   *   else if (event.type === 'auth-error') showSignIn();
   *   else showBanner(`${event.error.status} ${event.error.code}`);
   * });
   * ```
   */
  subscribe(listener: (event: TokenClientEvent) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** What the client is doing right now (no secrets). */
  getStatus(): TokenClientStatus {
    const held = this.held;
    const { state } = this;
    let nextAttemptInMs: number | undefined;
    if (state.name === 'backing-off') nextAttemptInMs = this.scheduler.retryInMs();
    else if (state.name === 'scheduled' && held) nextAttemptInMs = this.scheduler.refreshInMs(held);
    return {
      state: state.name,
      running: this.running,
      fetching: state.name === 'fetching',
      consecutiveFailures: this.failures,
      haltedBy: state.name === 'halted' ? state.error : undefined,
      lastError: this.lastError,
      tokenId: held?.token.tokenId,
      tokenExpiresInMs: held ? this.scheduler.expiresInMs(held) : undefined,
      nextAttemptInMs,
      sharedAcrossTabs: this.tabs !== undefined,
    };
  }

  /**
   * The one place the state changes. Timers follow the state: entering `scheduled` arms the refresh timer,
   * `backing-off` the retry timer, any other state disarms both.
   */
  private enter(next: State): void {
    this.state = next;
    if (next.name === 'scheduled' && this.held) this.scheduler.armRefresh(this.held);
    else if (next.name === 'backing-off') this.scheduler.armRetry(this.failures, next.error.retryAfterSeconds);
    else this.scheduler.cancel();
  }

  /** Leaves `halted` (the caller wants tokens again); true when it did. */
  private resume(): boolean {
    if (this.state.name !== 'halted') return false;
    this.enter(IDLE);
    return true;
  }

  /** Queues a caller for the next token and starts a request unless one is in flight or backing off. */
  private wait(forced: boolean): Promise<TokenResponse> {
    return new Promise<TokenResponse>((resolve, reject) => {
      this.waiters.push({
        resolve,
        reject,
        attemptsLeft: this.maxAttempts,
        forced,
        sinceWallMs: SYSTEM_CLOCK.wallMs(),
      });
      if (this.state.name !== 'fetching' && this.state.name !== 'backing-off') void this.attempt();
    });
  }

  /** Background refresh: fetches now if the token is due, otherwise (re)arms the refresh timer. */
  private check(): void {
    if (!this.running) return;
    if (this.state.name !== 'idle' && this.state.name !== 'scheduled') return;
    if (this.held && this.scheduler.isFresh(this.held)) this.enter({ name: 'scheduled' });
    else void this.attempt();
  }

  /** The network is back: a retry that was backing off (e.g. because we were offline) may go now. */
  private onOnline(): void {
    if (!this.running) return;
    if (this.state.name === 'backing-off' && this.scheduler.mayRetryNow()) void this.attempt();
    else this.check();
  }

  /**
   * `fetching`: one request; then settles the waiters and moves on. Never throws. When sharing, the request
   * waits for the tabs' lock and first asks the other tabs, so of several tabs due at once one fetches and
   * the others take its token.
   */
  private async attempt(): Promise<void> {
    const fetching: State = { name: 'fetching', abort: new AbortController() };
    this.enter(fetching);
    const tabs = this.tabs;
    // Undefined when the state moved on while waiting: a token or a halt from another tab, or reset().
    const run = async (): Promise<Outcome | undefined> => {
      if (this.state !== fetching) return undefined;
      if (tabs) {
        await tabs.ask();
        if (this.state !== fetching) return undefined;
      }
      try {
        const held = await requestToken(this.request, fetching.abort.signal);
        // Still inside the lock, so the next tab to get it has already been sent this token.
        if (this.state === fetching) tabs?.shareToken(toShared(held));
        return { held };
      } catch (e) {
        return { error: asTokenError(e) };
      }
    };
    // run() never throws, so a rejection means the lock itself failed: fetch without it.
    const outcome = tabs ? await tabs.exclusive(run).catch(() => run()) : await run();
    // The state moved on meanwhile (reset() already rejected the waiters; an adopted token resolved them).
    if (!outcome || this.state !== fetching) return;
    if ('held' in outcome) this.succeed(outcome.held);
    else {
      const { error } = outcome;
      // Status 0 (no credentials to send) is this tab's own affair; a server's 4xx is the same for every tab.
      if (error.kind !== 'transient' && error.status !== 0) tabs?.shareHalt(toSharedHalt(error));
      this.fail(error);
    }
  }

  /**
   * Another tab's token: taken when it expires later than the one held (an older one is ignored), is
   * still usable, and was requested after any pending `refresh()` call. Resolves the waiters, re-arms the
   * refresh timer, and resumes a tab halted by an auth error (the user signed in again elsewhere). True when
   * taken.
   */
  private adopt(shared: SharedToken): boolean {
    if (this.held && expiresAtWallMs(shared) <= expiresAtWallMs(toShared(this.held))) return false;
    if (this.waiters.some((w) => w.forced && shared.sentAtWallMs < w.sinceWallMs)) return false;
    const held = stampShared(shared, SYSTEM_CLOCK.monotonicMs(), SYSTEM_CLOCK.wallMs());
    if (!this.scheduler.isUsable(held)) return false;
    if (this.state.name === 'fetching') this.state.abort.abort();
    this.succeed(held);
    return true;
  }

  /** Another tab's session ended: stop here too (once), rather than each tab asking the TVM again. */
  private haltFromTab(shared: SharedHalt): void {
    if (this.state.name === 'halted') return;
    if (this.state.name === 'fetching') this.state.abort.abort();
    this.fail(new TokenVendingError(shared));
  }

  /** `fetching` → `scheduled` (running) or `idle`. */
  private succeed(held: StampedToken): void {
    this.held = held;
    this.failures = 0;
    this.lastError = undefined;
    this.scheduler.clearRetryAfter();
    this.enter(IDLE);
    for (const waiter of this.takeWaiters()) waiter.resolve(held.token);
    this.check();
    this.emit({ type: 'token', token: held.token });
  }

  /** `fetching` → `halted` (auth, fatal), `backing-off` (transient, someone still waits) or `idle`. */
  private fail(error: TokenVendingError): void {
    this.lastError = error;
    if (error.kind !== 'transient') {
      this.enter({ name: 'halted', error });
      for (const waiter of this.takeWaiters()) waiter.reject(error);
      this.emit(error.kind === 'auth' ? { type: 'auth-error', error } : { type: 'error', error });
      return;
    }
    this.failures += 1;
    const fallback = this.held && this.scheduler.isUsable(this.held) ? this.held.token : undefined;
    const stillWaiting: Waiter[] = [];
    for (const waiter of this.takeWaiters()) {
      waiter.attemptsLeft -= 1;
      if (fallback && !waiter.forced) waiter.resolve(fallback);
      else if (waiter.attemptsLeft <= 0) waiter.reject(error);
      else stillWaiting.push(waiter);
    }
    this.waiters = stillWaiting;
    this.enter(stillWaiting.length > 0 || this.running ? { name: 'backing-off', error } : IDLE);
    this.emit({ type: 'error', error });
  }

  private takeWaiters(): Waiter[] {
    const waiters = this.waiters;
    this.waiters = [];
    return waiters;
  }

  private emit(event: TokenClientEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (e) {
        queueMicrotask(() => {
          throw e;
        });
      }
    }
  }
}

/**
 * Creates a {@link TokenVendingClient}.
 *
 * @example
 * ```ts
 * const tokens = createTokenClient({ url: '/token', query: { cache: 'chat' } });
 * const { authToken } = await tokens.getToken();
 * ```
 */
export function createTokenClient(options: TokenClientOptions): TokenVendingClient {
  return new TokenVendingClient(options);
}

/** What one request produced. */
type Outcome = { readonly held: StampedToken } | { readonly error: TokenVendingError };

function toShared(held: StampedToken): SharedToken {
  return { token: held.token, sentAtWallMs: held.sentAtWallMs };
}

function toSharedHalt(error: TokenVendingError): SharedHalt {
  return {
    status: error.status,
    code: error.code,
    title: error.title,
    kind: error.kind === 'auth' ? 'auth' : 'fatal',
    ...(error.detail === undefined ? {} : { detail: error.detail }),
  };
}

function asTokenError(e: unknown): TokenVendingError {
  if (e instanceof TokenVendingError) return e;
  return new TokenVendingError({
    status: 0,
    code: CLIENT_ERROR_CODES.network,
    title: 'Token request failed',
    kind: 'transient',
    cause: e,
  });
}
