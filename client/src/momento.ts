/**
 * Glue for the Momento Web SDK (`@gomomento/sdk-web`), structural so this package does not depend on it.
 *
 * A Web SDK credential provider holds its token for life (there is no way to swap the token of an existing
 * `CacheClient`/`TopicClient`), so "refreshing" means building new clients from the new token and retiring
 * the old ones; topic subscriptions have to be re-opened on the new client.
 */
import type { TokenResponse } from './contract.js';
import type { TokenClientEvent } from './tvm-client.js';

/**
 * The Web SDK's `endpointOverrides` for a local Momento: every endpoint is the given `http://` URL, which the SDK
 * uses as is (plain HTTP, no `web.` prefix).
 */
export interface LocalMomentoEndpoints {
  readonly cacheEndpoint: string;
  readonly controlEndpoint: string;
  readonly tokenEndpoint: string;
  readonly secureConnection: false;
}

/** What `CredentialProvider.fromDisposableToken(...)` takes. */
export interface DisposableTokenCredentials {
  /** The Momento disposable token. Never log it. */
  readonly authToken: string;
  /**
   * Only for a token of a local Momento (`npm run dev` without a Momento key), whose `endpoint` is
   * `http://127.0.0.1:<port>`; absent for a real Momento endpoint (the SDK then derives `https://web.cache.…` etc.
   * from the token itself).
   */
  readonly endpointOverrides?: LocalMomentoEndpoints;
}

/**
 * Whether `endpoint` (a token response's) names a local Momento: `http://` on this machine (`127.0.0.1`,
 * `localhost` or `[::1]`) with a port. Real Momento endpoints are host names; plain HTTP anywhere else is refused
 * so a wrong answer cannot send a token over the network unencrypted.
 */
export function isLocalMomentoEndpoint(endpoint: string | undefined): boolean {
  return endpoint !== undefined && /^http:\/\/(?:127\.0\.0\.1|localhost|\[::1\]):\d{1,5}$/.test(endpoint);
}

/**
 * The credentials of one token response in the shape `CredentialProvider.fromDisposableToken` expects: the
 * token, plus `endpointOverrides` when the token is for a local Momento ({@link isLocalMomentoEndpoint}). The same
 * page code then works against a deployed stack and against `npm run dev`.
 *
 * @example
 * ```ts
 * import { CredentialProvider, TopicClient, TopicConfigurations } from '@gomomento/sdk-web';
 * const topics = new TopicClient({
 *   configuration: TopicConfigurations.Browser.latest(),
 *   credentialProvider: CredentialProvider.fromDisposableToken(momentoCredentialsFor(await tokens.getToken())),
 * });
 * ```
 */
export function momentoCredentialsFor(
  token: Pick<TokenResponse, 'authToken' | 'endpoint'>,
): DisposableTokenCredentials {
  const { authToken, endpoint } = token;
  if (!isLocalMomentoEndpoint(endpoint)) return { authToken };
  return {
    authToken,
    endpointOverrides: {
      cacheEndpoint: endpoint,
      controlEndpoint: endpoint,
      tokenEndpoint: endpoint,
      secureConnection: false,
    },
  };
}

/** Anything that hands out tokens like {@link TokenVendingClient} (structural, so a test double fits). */
export interface TokenSource {
  getToken(): Promise<TokenResponse>;
  /** When present, used to follow background refreshes. */
  subscribe?(listener: (event: TokenClientEvent) => void): () => void;
}

/**
 * The current token in the shape `CredentialProvider.fromDisposableToken` expects, fetching one if needed
 * ({@link momentoCredentialsFor}: with `endpointOverrides` for a local Momento).
 *
 * @example
 * ```ts
 * import { CacheClient, Configurations, CredentialProvider } from '@gomomento/sdk-web';
 * const cache = new CacheClient({
 *   configuration: Configurations.Browser.v1(),
 *   credentialProvider: CredentialProvider.fromDisposableToken(await momentoCredentials(tokens)),
 *   defaultTtlSeconds: 60,
 * });
 * ```
 */
export async function momentoCredentials(source: Pick<TokenSource, 'getToken'>): Promise<DisposableTokenCredentials> {
  return momentoCredentialsFor(await source.getToken());
}

/** Options of {@link refreshingMomentoClient}. */
export interface RefreshingMomentoClientOptions<T> {
  /**
   * Called after a client built from a new token has replaced `previous`: move topic subscriptions over,
   * then close or drop `previous`.
   * @default nothing (the previous client is dropped)
   */
  readonly onReplace?: (next: T, previous: T) => void;
}

/** A Momento Web SDK client that is rebuilt whenever the token changes. */
export interface RefreshingMomentoClient<T> {
  /** Resolves with a client built from a token that is not due for refresh (rebuilding it if needed). */
  get(): Promise<T>;
  /** The latest client, if one was built. */
  readonly current: T | undefined;
  /** Stops following token refreshes. */
  close(): void;
}

/**
 * Keeps one Momento Web SDK client in step with the token: `create` is called with the credentials of each
 * new token (on `get()` and on background refreshes).
 *
 * @example
 * ```ts
 * const caches = refreshingMomentoClient(tokens, (credentials) =>
 *   new CacheClient({
 *     configuration: Configurations.Browser.v1(),
 *     credentialProvider: CredentialProvider.fromDisposableToken(credentials),
 *     defaultTtlSeconds: 60,
 *   }),
 * );
 * const cache = await caches.get();
 * ```
 */
export function refreshingMomentoClient<T>(
  source: TokenSource,
  create: (credentials: DisposableTokenCredentials) => T,
  options: RefreshingMomentoClientOptions<T> = {},
): RefreshingMomentoClient<T> {
  let client: T | undefined;
  let builtFor: string | undefined;

  const adopt = (token: TokenResponse): T => {
    if (client !== undefined && builtFor === token.authToken) return client;
    const next = create(momentoCredentialsFor(token));
    const previous = client;
    client = next;
    builtFor = token.authToken;
    if (previous !== undefined) options.onReplace?.(next, previous);
    return next;
  };
  const unsubscribe = source.subscribe?.((event) => {
    if (event.type === 'token') adopt(event.token);
  });

  return {
    async get() {
      return adopt(await source.getToken());
    },
    get current() {
      return client;
    },
    close() {
      unsubscribe?.();
    },
  };
}
