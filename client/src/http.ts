/**
 * The HTTP part of the client: one `GET /token` → a token, or a {@link TokenVendingError}. No state, no timers
 * other than the request timeout, no retries; the scheduler and the state machine decide when to call it.
 */
import type { Clock, StampedToken } from './clock.js';
import { isTokenPermission, type TokenPermission, type TokenResponse } from './contract.js';
import { CLIENT_ERROR_CODES, errorFromResponse, isRecord, parseRetryAfter, TokenVendingError } from './errors.js';

/** A query-string value; arrays repeat the parameter, `undefined`/`null` omit it. */
export type QueryValue = string | number | boolean | null | undefined | readonly (string | number | boolean)[];

/** What one token request needs. */
export interface TokenRequestOptions {
  /** Full request URL, query string included (see {@link buildUrl}). */
  readonly url: string;
  /** Returns the `Authorization` header value, or undefined to send none. */
  readonly getAuthHeader?: () => string | undefined | Promise<string | undefined>;
  /** Abort the request after this many milliseconds (code `timeout`). */
  readonly timeoutMs: number;
  /** The `fetch` to use; `globalThis.fetch` when undefined. */
  readonly fetch?: typeof fetch;
  readonly clock: Clock;
}

/**
 * Sends one token request. Rejects with a {@link TokenVendingError} only; an abort through `signal` rejects too
 * (the caller has stopped listening by then).
 */
export async function requestToken(options: TokenRequestOptions, signal: AbortSignal): Promise<StampedToken> {
  let authorization: string | undefined;
  if (options.getAuthHeader) {
    try {
      authorization = await options.getAuthHeader();
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
  const abort = (): void => controller.abort();
  signal.addEventListener('abort', abort, { once: true });
  let timedOut = false;
  const timeout = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, options.timeoutMs);
  const timeoutError = (cause: unknown): TokenVendingError =>
    new TokenVendingError({
      status: 0,
      code: CLIENT_ERROR_CODES.timeout,
      title: `No answer from the token vending machine within ${options.timeoutMs} ms`,
      kind: 'transient',
      cause,
    });
  // Sent, not received: the server's `expiresIn` started counting at or after this instant, so scheduling
  // from here can only refresh a little early, never late.
  const sentAtMonotonicMs = options.clock.monotonicMs();
  const sentAtWallMs = options.clock.wallMs();
  try {
    const fetchImpl = options.fetch ?? globalThis.fetch;
    let response: Response;
    try {
      // Called with the global as `this`: browsers throw "Illegal invocation" for any other receiver.
      response = await fetchImpl.call(globalThis, options.url, {
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
      const retryAfter = parseRetryAfter(response.headers.get('Retry-After'), options.clock.wallMs());
      throw errorFromResponse(response.status, response.statusText, body, retryAfter);
    }
    const token = parseTokenResponse(body, sentAtWallMs);
    if (!token) {
      throw new TokenVendingError({
        status: response.status,
        code: CLIENT_ERROR_CODES.invalidResponse,
        title: 'The token vending machine answered with something that is not a token',
        kind: 'transient',
      });
    }
    return { token, sentAtMonotonicMs, sentAtWallMs };
  } finally {
    clearTimeout(timeout);
    signal.removeEventListener('abort', abort);
  }
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
 * Validates a `200` body into a frozen {@link TokenResponse}, or undefined when it is not one. Members the
 * contract does not name are dropped, and so are permission statements that do not match it (they are for
 * display only; the token is the authority). `expiresIn` is what the schedule relies on; if an older TVM omits
 * it, it is derived from `expiresAt` and the local clock.
 *
 * @param sentAtWallMs wall-clock time the request was sent, for the `expiresIn` fallback
 */
export function parseTokenResponse(body: unknown, sentAtWallMs: number): TokenResponse | undefined {
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
  const granted: TokenPermission[] = Array.isArray(permissions)
    ? permissions.filter(isTokenPermission).map((p) => Object.freeze({ ...p }))
    : [];
  const token: TokenResponse = {
    authToken,
    expiresAt: hasExpiresAt ? expiresAt : Math.floor(sentAtWallMs / 1000 + lifetime),
    expiresIn: lifetime,
    endpoint: typeof endpoint === 'string' ? endpoint : '',
    ...(typeof tokenId === 'string' ? { tokenId } : {}),
    permissions: Object.freeze(granted),
  };
  return Object.freeze(token);
}
