/**
 * Browser client for the token vending machine: fetches a Momento disposable token, shares one request
 * between concurrent callers, refreshes it before it expires, backs off on transient failures and stops on
 * authentication failures. Dependency-free; runs in browsers and in Node ≥ 18 (global `fetch`).
 */
import { backoffDelayMs, DEFAULT_BACKOFF, type BackoffOptions } from './backoff';
import { CLIENT_ERROR_CODES, errorFromResponse, isRecord, parseRetryAfter, TokenVendingError } from './errors';

/** One permission statement the TVM granted (as it reports it; the token itself is the authority). */
export interface TokenPermission {
  /** `cache` for data access, `topic` for pub/sub. */
  readonly type: string;
  /** Cache name, or `*` for all caches. */
  readonly cache: string;
  /** Momento role, e.g. `readonly`, `readwrite`, `publishsubscribe`. */
  readonly role: string;
  /** Single key the statement is limited to. */
  readonly key?: string;
  /** Key prefix the statement is limited to. */
  readonly keyPrefix?: string;
  /** Single topic the statement is limited to. */
  readonly topic?: string;
  /** Topic prefix the statement is limited to. */
  readonly topicPrefix?: string;
}

/** The TVM's `200` answer (docs/architecture.md, "HTTP contract"). */
export interface TokenResponse {
  /** The Momento disposable token: pass it to `CredentialProvider.fromDisposableToken`. Never log it. */
  readonly authToken: string;
  /** Epoch seconds after which Momento refuses the token (server clock). */
  readonly expiresAt: number;
  /** Seconds the token was valid for when the server answered; the refresh schedule is based on this. */
  readonly expiresIn: number;
  /** Momento endpoint the token is for. */
  readonly endpoint: string;
  /** Identity the server bound into the token, when it did. */
  readonly tokenId?: string;
  /** What was granted. */
  readonly permissions: readonly TokenPermission[];
}

/** A query-string value; arrays repeat the parameter, `undefined`/`null` omit it. */
export type QueryValue = string | number | boolean | null | undefined | readonly (string | number | boolean)[];

/** Options of {@link TokenVendingClient}. */
export interface TokenClientOptions {
  /** The TVM's token URL, e.g. `https://abc.execute-api.eu-west-1.amazonaws.com/prod/token`; may be relative. */
  readonly url: string;
  /**
   * Returns the `Authorization` header value to send, e.g. `() => 'Bearer ' + idToken` for Cognito or your
   * own IdP; `undefined` sends none (open mode). Called before every request, so it can return a freshly
   * refreshed ID token. If it throws, the client treats it like a 401 (code `credentials-unavailable`).
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
   * Called with every new token. Do not log the token.
   * @default none
   */
  readonly onToken?: (token: TokenResponse) => void;
  /**
   * Called on every failed request that is not an authentication failure (transient or fatal), and on
   * authentication failures too when `onAuthError` is not given.
   * @default none
   */
  readonly onError?: (error: TokenVendingError) => void;
  /**
   * Called once per 401/403 answer (or when `getAuthHeader` throws). Refresh then stops until `start()` or
   * `getToken()` is called again, typically after the user signs in.
   * @default none (falls back to `onError`)
   */
  readonly onAuthError?: (error: TokenVendingError) => void;
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

/** A snapshot of what the client is doing, for status displays. Never contains the token. */
export interface TokenClientStatus {
  /** `start()` was called and `stop()` was not. */
  readonly running: boolean;
  /** A request is in flight. */
  readonly fetching: boolean;
  /** Failures in a row since the last token. */
  readonly consecutiveFailures: number;
  /** The auth or fatal error that halted refreshing, until `start()`/`getToken()` is called again. */
  readonly haltedBy: TokenVendingError | undefined;
  /** The last failure, cleared by the next token. */
  readonly lastError: TokenVendingError | undefined;
  /** `tokenId` of the current token. */
  readonly tokenId: string | undefined;
  /** Milliseconds the current token remains valid (by the server's `expiresIn`), undefined without one. */
  readonly tokenExpiresInMs: number | undefined;
  /** Milliseconds until the next scheduled refresh or retry; undefined when nothing is scheduled. */
  readonly nextAttemptInMs: number | undefined;
}

/** Default refresh point: 80 % of the token's lifetime. */
export const DEFAULT_REFRESH_FRACTION = 0.8;
/** Default floor of the refresh delay, in seconds. */
export const DEFAULT_MIN_REFRESH_SECONDS = 5;
/** Default number of requests one `getToken()` call makes on transient failures. */
export const DEFAULT_MAX_ATTEMPTS = 3;
/** Default request timeout. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

/**
 * Longest single timer the client sets. A long `setTimeout` runs on a clock that may stop while the machine
 * sleeps, so a 48-minute timer can fire hours late; waking up at least once a minute to re-check against
 * the wall clock bounds how stale a token can get after a wake-up when no browser event fires.
 */
const MAX_TIMER_SLICE_MS = 60_000;
/** A token this close to expiry (or closer) is not handed out: it could expire before Momento sees it. */
const EXPIRY_MARGIN_MS = 5_000;

interface HeldToken {
  readonly token: TokenResponse;
  /** `performance.now()` when the request was sent. */
  readonly monoAt: number;
  /** `Date.now()` when the request was sent. */
  readonly wallAt: number;
  readonly lifetimeMs: number;
}

interface Waiter {
  readonly resolve: (token: TokenResponse) => void;
  readonly reject: (error: TokenVendingError) => void;
  attemptsLeft: number;
  /** From `refresh()`: wants a new token, not the previous one. */
  readonly forced?: boolean;
}

function monoNow(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}

/**
 * Fetches, caches and refreshes Momento disposable tokens from the TVM.
 *
 * @example
 * ```ts
 * const tokens = createTokenClient({
 *   url: 'https://abc.execute-api.eu-west-1.amazonaws.com/prod/token',
 *   getAuthHeader: async () => 'Bearer ' + (await currentIdToken()),
 *   onAuthError: () => showSignIn(),
 * });
 * tokens.start();
 * const { authToken } = await tokens.getToken();
 * ```
 */
export class TokenVendingClient {
  private readonly requestUrl: string;
  private readonly getAuthHeader: TokenClientOptions['getAuthHeader'];
  private readonly refreshFraction: number;
  private readonly minRefreshMs: number;
  private readonly backoff: Required<BackoffOptions>;
  private readonly maxAttempts: number;
  private readonly requestTimeoutMs: number;
  private readonly fetchImpl: typeof fetch | undefined;
  private readonly random: () => number;
  private readonly onTokenCallback: TokenClientOptions['onToken'];
  private readonly onErrorCallback: TokenClientOptions['onError'];
  private readonly onAuthErrorCallback: TokenClientOptions['onAuthError'];

  private current: HeldToken | undefined;
  private waiters: Waiter[] = [];
  private inFlight = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerKind: 'refresh' | 'retry' | undefined;
  private timerDueMono = 0;
  private retryNotBeforeMono = 0;
  private failures = 0;
  private running = false;
  private haltedBy: TokenVendingError | undefined;
  private lastError: TokenVendingError | undefined;
  /** Bumped by `reset()`: answers to requests sent before it are dropped. */
  private generation = 0;
  private abortController: AbortController | undefined;
  private readonly listeners = new Set<(token: TokenResponse) => void>();
  private detachListeners: (() => void) | undefined;

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
    const backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    if (!(backoff.baseMs > 0 && Number.isFinite(backoff.baseMs))) problems.push('backoff.baseMs must be > 0');
    if (!(backoff.maxMs >= backoff.baseMs && Number.isFinite(backoff.maxMs))) {
      problems.push('backoff.maxMs must be ≥ backoff.baseMs');
    }
    const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    if (!(Number.isInteger(maxAttempts) && maxAttempts >= 1)) problems.push('maxAttempts must be an integer ≥ 1');
    const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    if (!(requestTimeoutMs > 0)) problems.push('requestTimeoutMs must be > 0');
    let requestUrl = '';
    if (problems.length === 0) {
      try {
        requestUrl = buildUrl(options.url, options.query);
      } catch {
        problems.push(`url is not a valid URL: ${options.url}`);
      }
    }
    if (problems.length > 0) throw new TypeError(`Invalid token client options: ${problems.join('; ')}`);

    this.requestUrl = requestUrl;
    this.getAuthHeader = options.getAuthHeader;
    this.refreshFraction = refreshFraction;
    this.minRefreshMs = minRefreshSeconds * 1000;
    this.backoff = backoff;
    this.maxAttempts = maxAttempts;
    this.requestTimeoutMs = requestTimeoutMs;
    this.fetchImpl = options.fetch;
    this.random = options.random ?? Math.random;
    this.onTokenCallback = options.onToken;
    this.onErrorCallback = options.onError;
    this.onAuthErrorCallback = options.onAuthError;
  }

  /** The full request URL, query string included. */
  get url(): string {
    return this.requestUrl;
  }

  /** The last token if it has not expired yet (it may be due for refresh), else undefined. */
  get currentToken(): TokenResponse | undefined {
    return this.current && this.isUsable(this.current) ? this.current.token : undefined;
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
    const resuming = this.haltedBy !== undefined;
    this.haltedBy = undefined;
    const held = this.current;
    if (held && this.isFresh(held)) {
      if (resuming) this.check();
      return Promise.resolve(held.token);
    }
    // Refresh is already failing and backing off: an unexpired token beats waiting for the next retry.
    if (held && this.timerKind === 'retry' && this.isUsable(held)) return Promise.resolve(held.token);
    return new Promise<TokenResponse>((resolve, reject) => {
      this.waiters.push({ resolve, reject, attemptsLeft: this.maxAttempts });
      if (!this.inFlight && this.timerKind !== 'retry') void this.attempt();
    });
  }

  /**
   * Fetches a new token now, even if the current one is fresh (e.g. after the user's groups changed).
   * Joins a request already in flight, and a retry that is backing off (so `Retry-After` is honoured).
   * Settles like {@link getToken}, except that it never falls back to the previous token.
   */
  refresh(): Promise<TokenResponse> {
    this.haltedBy = undefined;
    return new Promise<TokenResponse>((resolve, reject) => {
      this.waiters.push({ resolve, reject, attemptsLeft: this.maxAttempts, forced: true });
      if (!this.inFlight && this.timerKind !== 'retry') void this.attempt();
    });
  }

  /**
   * Starts background refresh (fetching a token now if there is none fresh) and, in a browser, re-checks
   * when the page becomes visible again, is restored from the back/forward cache, or the network comes back.
   * Also resumes refreshing after an authentication failure. Idempotent.
   */
  start(): void {
    this.haltedBy = undefined;
    if (!this.running) {
      this.running = true;
      this.attachListeners();
    }
    this.check();
  }

  /**
   * Stops background refresh: cancels the refresh timer and removes the browser listeners. A pending
   * `getToken()` call still completes (its remaining retries still run). The current token is kept.
   */
  stop(): void {
    this.running = false;
    this.detachListeners?.();
    this.detachListeners = undefined;
    if (this.timerKind === 'refresh' || (this.timerKind === 'retry' && this.waiters.length === 0)) this.clearTimer();
  }

  /**
   * Stops, aborts any request, forgets the current token and rejects pending `getToken()` calls (code
   * `reset`). Call it when the user signs out, so the next user never gets the previous user's token.
   */
  reset(): void {
    this.stop();
    this.generation += 1;
    this.abortController?.abort();
    this.abortController = undefined;
    this.clearTimer();
    this.inFlight = false;
    this.current = undefined;
    this.failures = 0;
    this.retryNotBeforeMono = 0;
    this.haltedBy = undefined;
    this.lastError = undefined;
    const error = new TokenVendingError({
      status: 0,
      code: CLIENT_ERROR_CODES.reset,
      title: 'The token client was reset',
      kind: 'fatal',
    });
    for (const waiter of this.takeWaiters()) waiter.reject(error);
  }

  /**
   * Registers a listener for every new token (e.g. to recreate Momento Web SDK clients).
   * @returns a function that removes the listener
   */
  subscribe(listener: (token: TokenResponse) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** What the client is doing right now (no secrets). */
  getStatus(): TokenClientStatus {
    const held = this.current;
    let nextAttemptInMs: number | undefined;
    if (this.timerKind === 'retry') nextAttemptInMs = Math.max(0, this.timerDueMono - monoNow());
    else if (this.timerKind === 'refresh' && held) {
      nextAttemptInMs = Math.max(0, this.refreshDelayMs(held) - this.elapsedMs(held));
    }
    return {
      running: this.running,
      fetching: this.inFlight,
      consecutiveFailures: this.failures,
      haltedBy: this.haltedBy,
      lastError: this.lastError,
      tokenId: held?.token.tokenId,
      tokenExpiresInMs: held ? Math.max(0, held.lifetimeMs - this.elapsedMs(held)) : undefined,
      nextAttemptInMs,
    };
  }

  /**
   * Time since the token's request was sent. `performance.now()` is monotonic (immune to clock changes) but
   * on some platforms stops while the machine sleeps, which would make a token look younger than it is
   * after a wake-up; `Date.now()` keeps counting through sleep but can jump with clock changes. Taking the
   * larger of the two errs towards refreshing early: a backwards clock jump is ignored, a forwards one
   * costs at most one extra request.
   */
  private elapsedMs(held: HeldToken): number {
    return Math.max(monoNow() - held.monoAt, Date.now() - held.wallAt);
  }

  /** Delay from sending the request to refreshing: the fraction of `expiresIn`, floored, within lifetime. */
  private refreshDelayMs(held: HeldToken): number {
    return Math.min(Math.max(this.minRefreshMs, this.refreshFraction * held.lifetimeMs), usableMs(held));
  }

  private isFresh(held: HeldToken): boolean {
    return this.elapsedMs(held) < this.refreshDelayMs(held);
  }

  private isUsable(held: HeldToken): boolean {
    return this.elapsedMs(held) < usableMs(held);
  }

  /** Refreshes now if the token is due; otherwise (re)arms the refresh timer. Runs only in background mode. */
  private check(): void {
    if (!this.running || this.haltedBy || this.inFlight || this.timerKind === 'retry') return;
    const held = this.current;
    if (!held || !this.isFresh(held)) {
      void this.attempt();
      return;
    }
    const dueInMs = this.refreshDelayMs(held) - this.elapsedMs(held);
    this.setTimer('refresh', Math.min(dueInMs, MAX_TIMER_SLICE_MS), () => this.check());
  }

  /** The network is back: a retry that was backing off (e.g. because we were offline) may go now. */
  private onOnline(): void {
    if (!this.running || this.haltedBy || this.inFlight) return;
    if (this.timerKind === 'retry' && monoNow() >= this.retryNotBeforeMono) void this.attempt();
    else this.check();
  }

  private attachListeners(): void {
    const doc = typeof document !== 'undefined' ? document : undefined;
    const win = typeof window !== 'undefined' ? window : undefined;
    const onVisibilityChange = (): void => {
      if (doc?.visibilityState === 'visible') this.check();
    };
    const onPageShow = (): void => this.check();
    const onOnline = (): void => this.onOnline();
    doc?.addEventListener('visibilitychange', onVisibilityChange);
    win?.addEventListener('pageshow', onPageShow);
    win?.addEventListener('online', onOnline);
    this.detachListeners = () => {
      doc?.removeEventListener('visibilitychange', onVisibilityChange);
      win?.removeEventListener('pageshow', onPageShow);
      win?.removeEventListener('online', onOnline);
    };
  }

  /** One request; settles the waiters and schedules what comes next. Never throws. */
  private async attempt(): Promise<void> {
    this.clearTimer();
    this.inFlight = true;
    const generation = this.generation;
    let result: { held: HeldToken } | { error: TokenVendingError };
    try {
      result = { held: await this.request() };
    } catch (e) {
      result = { error: asTokenError(e) };
    }
    // reset() ran meanwhile: it already rejected the waiters; this answer belongs to a previous session.
    if (generation !== this.generation) return;
    this.inFlight = false;
    if ('held' in result) this.succeed(result.held);
    else this.fail(result.error);
  }

  private succeed(held: HeldToken): void {
    this.current = held;
    this.failures = 0;
    this.retryNotBeforeMono = 0;
    this.lastError = undefined;
    this.haltedBy = undefined;
    for (const waiter of this.takeWaiters()) waiter.resolve(held.token);
    this.check();
    safeCall(this.onTokenCallback, held.token);
    for (const listener of [...this.listeners]) safeCall(listener, held.token);
  }

  private fail(error: TokenVendingError): void {
    this.lastError = error;
    if (error.kind !== 'transient') {
      this.haltedBy = error;
      this.clearTimer();
      for (const waiter of this.takeWaiters()) waiter.reject(error);
      if (error.kind === 'auth' && this.onAuthErrorCallback) safeCall(this.onAuthErrorCallback, error);
      else safeCall(this.onErrorCallback, error);
      return;
    }
    this.failures += 1;
    const delayMs = backoffDelayMs(this.failures, this.backoff, this.random, error.retryAfterSeconds);
    this.retryNotBeforeMono = error.retryAfterSeconds === undefined ? 0 : monoNow() + error.retryAfterSeconds * 1000;
    const held = this.current && this.isUsable(this.current) ? this.current : undefined;
    const stillWaiting: Waiter[] = [];
    for (const waiter of this.takeWaiters()) {
      waiter.attemptsLeft -= 1;
      if (held && !waiter.forced) waiter.resolve(held.token);
      else if (waiter.attemptsLeft <= 0) waiter.reject(error);
      else stillWaiting.push(waiter);
    }
    this.waiters = stillWaiting;
    if (stillWaiting.length > 0 || this.running) this.setTimer('retry', delayMs, () => void this.attempt());
    safeCall(this.onErrorCallback, error);
  }

  private async request(): Promise<HeldToken> {
    let authorization: string | undefined;
    if (this.getAuthHeader) {
      try {
        authorization = await this.getAuthHeader();
      } catch (cause) {
        throw new TokenVendingError({
          status: 0,
          code: CLIENT_ERROR_CODES.credentialsUnavailable,
          title: 'No credentials to send to the token vending machine',
          kind: 'auth',
          cause,
        });
      }
    }
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (authorization) headers['Authorization'] = authorization;

    const controller = new AbortController();
    this.abortController = controller;
    let timedOut = false;
    const timeout = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.requestTimeoutMs);
    const timeoutError = (cause: unknown): TokenVendingError =>
      new TokenVendingError({
        status: 0,
        code: CLIENT_ERROR_CODES.timeout,
        title: `No answer from the token vending machine within ${this.requestTimeoutMs} ms`,
        kind: 'transient',
        cause,
      });
    // Sent, not received: the server's `expiresIn` started counting at or after this instant, so scheduling
    // from here can only refresh a little early, never late.
    const monoAt = monoNow();
    const wallAt = Date.now();
    try {
      const fetchImpl = this.fetchImpl ?? globalThis.fetch;
      let response: Response;
      try {
        // Called with the global as `this`: browsers throw "Illegal invocation" for any other receiver.
        response = await fetchImpl.call(globalThis, this.requestUrl, {
          method: 'GET',
          headers,
          cache: 'no-store',
          signal: controller.signal,
        });
      } catch (cause) {
        if (timedOut) throw timeoutError(cause);
        throw new TokenVendingError({
          status: 0,
          code: CLIENT_ERROR_CODES.network,
          title: 'Could not reach the token vending machine',
          kind: 'transient',
          cause,
        });
      }
      let body: unknown;
      try {
        body = await response.json();
      } catch (cause) {
        if (timedOut) throw timeoutError(cause);
        body = undefined;
      }
      if (!response.ok) {
        const retryAfter = parseRetryAfter(response.headers.get('Retry-After'), Date.now());
        throw errorFromResponse(response.status, response.statusText, body, retryAfter);
      }
      const token = parseToken(body, wallAt);
      if (!token) {
        throw new TokenVendingError({
          status: response.status,
          code: CLIENT_ERROR_CODES.invalidResponse,
          title: 'The token vending machine answered with something that is not a token',
          kind: 'transient',
        });
      }
      return { token, monoAt, wallAt, lifetimeMs: token.expiresIn * 1000 };
    } finally {
      clearTimeout(timeout);
      if (this.abortController === controller) this.abortController = undefined;
    }
  }

  private takeWaiters(): Waiter[] {
    const waiters = this.waiters;
    this.waiters = [];
    return waiters;
  }

  private setTimer(kind: 'refresh' | 'retry', delayMs: number, fire: () => void): void {
    this.clearTimer();
    const ms = Math.max(0, delayMs);
    this.timerKind = kind;
    this.timerDueMono = monoNow() + ms;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerKind = undefined;
      fire();
    }, ms);
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerKind = undefined;
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

/** How long the token may be handed out: its lifetime minus a safety margin (at most 10 % of it). */
function usableMs(held: HeldToken): number {
  return held.lifetimeMs - Math.min(EXPIRY_MARGIN_MS, held.lifetimeMs * 0.1);
}

/** Resolves `url` against the page (so `/token` works) and appends the query parameters. */
export function buildUrl(url: string, query?: Readonly<Record<string, QueryValue>>): string {
  const base = typeof location !== 'undefined' ? location.href : undefined;
  const target = new URL(url, base);
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value === undefined || value === null) continue;
    target.searchParams.delete(name);
    const values: readonly (string | number | boolean)[] = Array.isArray(value) ? value : [value];
    for (const v of values) target.searchParams.append(name, String(v));
  }
  return target.toString();
}

/**
 * Validates a 200 body into a frozen {@link TokenResponse}, or undefined when it is not one. `expiresIn` is
 * what the schedule relies on; if an older TVM omits it, it is derived from `expiresAt` and the local clock.
 */
function parseToken(body: unknown, sentAtWallMs: number): TokenResponse | undefined {
  if (!isRecord(body)) return undefined;
  const { authToken, expiresAt, expiresIn, endpoint, tokenId, permissions } = body;
  if (typeof authToken !== 'string' || authToken.length === 0) return undefined;
  const hasExpiresAt = typeof expiresAt === 'number' && Number.isFinite(expiresAt);
  const lifetime =
    typeof expiresIn === 'number' && Number.isFinite(expiresIn)
      ? expiresIn
      : hasExpiresAt
        ? expiresAt - sentAtWallMs / 1000
        : Number.NaN;
  if (!(lifetime > 0)) return undefined;
  const token: TokenResponse = {
    authToken,
    expiresAt: hasExpiresAt ? expiresAt : Math.floor(sentAtWallMs / 1000 + lifetime),
    expiresIn: lifetime,
    endpoint: typeof endpoint === 'string' ? endpoint : '',
    ...(typeof tokenId === 'string' ? { tokenId } : {}),
    permissions: Object.freeze(
      Array.isArray(permissions) ? permissions.filter(isPermission).map((p) => Object.freeze({ ...p })) : [],
    ),
  };
  return Object.freeze(token);
}

function isPermission(value: unknown): value is TokenPermission {
  return (
    isRecord(value) &&
    typeof value.type === 'string' &&
    typeof value.cache === 'string' &&
    typeof value.role === 'string'
  );
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

/**
 * Calls an application callback without letting its exception break the refresh loop; the exception is
 * re-thrown asynchronously so it still shows up as an uncaught error.
 */
function safeCall<T>(callback: ((arg: T) => void) | undefined, arg: T): void {
  if (!callback) return;
  try {
    callback(arg);
  } catch (e) {
    queueMicrotask(() => {
      throw e;
    });
  }
}
