/**
 * Parses the TVM's own Momento API key the way `@gomomento/sdk` 1.118.1 does (sdk-core
 * `internal/utils/auth.js` and `auth/credential-provider.js`), without loading the SDK:
 *
 * - **v2 API key** (current): a JWT whose payload has `"t": "g"`. It carries no endpoint; the SDK's
 *   `fromApiKeyV2({ apiKey, endpoint })` takes it from `MOMENTO_ENDPOINT`, here from config `momento.endpoint`.
 *   The key itself goes into `auth_token`.
 * - **v1 API key** (legacy): base64 of JSON `{"endpoint": "...", "api_key": "..."}`; the endpoint comes from the
 *   key and the inner `api_key` goes into `auth_token`.
 *
 * Either way the token service is `token.<endpoint>` over TLS on 443, and nothing key-related travels in gRPC
 * metadata (the SDK only sends `agent` / `runtime-version` headers). Legacy JWT keys without `"t": "g"` (with
 * `c` / `cp` endpoint claims) predate v1 keys; the SDK's v2 path rejects them and so do we.
 *
 * Error messages never contain the key, and no `cause` is attached: a `JSON.parse` error quotes its input.
 */
import { MisconfiguredError } from '../errors';

/** What the minter needs from the key. */
export interface ParsedApiKey {
  /** What goes into the request's `auth_token` (the v2 key itself, or the v1 key's inner `api_key`). */
  readonly authToken: string;
  /** Momento base endpoint (e.g. cell-4-us-west-2-1.prod.a.momentohq.com); tokens are minted at `token.<endpoint>`. */
  readonly endpoint: string;
  /** Key format, for logs (never log the key itself). */
  readonly version: 'v2' | 'v1';
}

const BASE64URL_PART = /^[A-Za-z0-9_-]+={0,2}$/;
// A host name: the token service is reached at token.<endpoint>:443, so no scheme, port or path.
const HOST = /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

/** Whether `s` is a plain host name (what `momento.endpoint` and a v1 key's endpoint must be). */
export const isHostName = (s: string): boolean => HOST.test(s);

const invalid = (why: string): MisconfiguredError =>
  new MisconfiguredError('momento-key-invalid', `The Momento API key in the secret is not usable: ${why}`);

/** The SDK's `isBase64`: decoding and re-encoding gives back the same string (a JWT's dots never survive). */
function isBase64(s: string): boolean {
  return s.length > 0 && Buffer.from(s, 'base64').toString('base64') === s;
}

function jsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function checkEndpoint(endpoint: string, where: string): string {
  if (!HOST.test(endpoint)) {
    throw new MisconfiguredError(
      'momento-endpoint-invalid',
      `${where} must be a host name such as cell-4-us-west-2-1.prod.a.momentohq.com (no scheme, port or path)`,
    );
  }
  return endpoint;
}

/**
 * Parses a Momento API key (v2 or legacy v1).
 *
 * @param key - the key as stored in the secret; surrounding whitespace is ignored.
 * @param configuredEndpoint - config `momento.endpoint`; used for v2 keys (v1 keys carry their own endpoint).
 * @throws MisconfiguredError `momento-key-invalid` when the key is neither, `momento-endpoint-invalid` when
 *   the endpoint a v2 key needs is missing or not a host name.
 * @example
 * const { authToken, endpoint } = parseApiKey(await keySource.getKey(), config.momento.endpoint);
 */
export function parseApiKey(key: string, configuredEndpoint: string | undefined): ParsedApiKey {
  const k = key.trim();
  if (k === '') throw invalid('it is empty');

  if (isBase64(k)) {
    const v1 = jsonObject(Buffer.from(k, 'base64').toString('utf8'));
    if (v1 === undefined) throw invalid('it is base64 but not a v1 key (base64 of JSON {"endpoint", "api_key"})');
    const { endpoint, api_key: apiKey } = v1;
    if (typeof apiKey !== 'string' || apiKey === '' || typeof endpoint !== 'string' || endpoint === '') {
      throw invalid('a v1 key needs non-empty "endpoint" and "api_key" fields');
    }
    return {
      authToken: apiKey,
      endpoint: checkEndpoint(endpoint, 'The endpoint inside the v1 API key'),
      version: 'v1',
    };
  }

  const parts = k.split('.');
  if (parts.length !== 3 || !parts.every((p) => BASE64URL_PART.test(p))) {
    throw invalid('expected a v2 API key (a JWT: three base64url parts separated by dots) or a legacy v1 key');
  }
  const claims = jsonObject(Buffer.from(parts[1] as string, 'base64url').toString('utf8'));
  if (claims === undefined) throw invalid('the middle part of the JWT is not a JSON object');
  if (claims['t'] !== 'g') {
    throw invalid('this is a legacy JWT key, not a v2 API key; create a v2 API key in the Momento console');
  }
  if (configuredEndpoint === undefined || configuredEndpoint.trim() === '') {
    throw new MisconfiguredError(
      'momento-endpoint-invalid',
      'A v2 Momento API key needs momento.endpoint in the configuration (the region endpoint shown next to the key in the Momento console)',
    );
  }
  return { authToken: k, endpoint: checkEndpoint(configuredEndpoint.trim(), 'momento.endpoint'), version: 'v2' };
}

/**
 * Formats what a disposable-token reply means to a client exactly as the SDK's
 * `GenerateDisposableToken.Success` does: base64 of `JSON.stringify({ endpoint, api_key })`, field order included,
 * so `CredentialProvider.fromDisposableToken({ authToken })` in the Web SDK reads it.
 */
export function encodeDisposableToken(endpoint: string, apiKey: string): string {
  return Buffer.from(JSON.stringify({ endpoint, api_key: apiKey }), 'utf8').toString('base64');
}

/**
 * Reads back what {@link encodeDisposableToken} wrote (the post-deploy smoke test checks a deployed TVM's tokens
 * with it): `{ endpoint, apiKey }`, or undefined when `token` is not base64 of a JSON object with non-empty
 * string `endpoint` and `api_key`. Never include the result in a message: `apiKey` is a credential.
 */
export function decodeDisposableToken(token: string): { endpoint: string; apiKey: string } | undefined {
  if (!isBase64(token)) return undefined;
  const decoded = jsonObject(Buffer.from(token, 'base64').toString('utf8'));
  const endpoint = decoded?.['endpoint'];
  const apiKey = decoded?.['api_key'];
  if (typeof endpoint !== 'string' || endpoint === '' || typeof apiKey !== 'string' || apiKey === '') return undefined;
  return { endpoint, apiKey };
}
