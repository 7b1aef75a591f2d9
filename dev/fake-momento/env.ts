/**
 * Environment and fake keys for talking to the fake Momento token service. Deliberately free of grpc-js:
 * jest setup files and the dev server import this *before* grpc-js loads, because grpc-js reads
 * `GRPC_DEFAULT_SSL_ROOTS_FILE_PATH` once, when it is first required.
 *
 * TEST ONLY. The CA under ./certs is committed on purpose and trusted nowhere else.
 */
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';

/** Directory of the committed test CA and server certificate (regenerate with make-certs.sh). */
export const CERT_DIR = path.join(__dirname, 'certs');
/** The test CA that signed the fake's certificate. */
export const TEST_CA_PATH = path.join(CERT_DIR, 'ca.crt');
/** Base endpoint the fake impersonates; the minter dials `token.momento.test:443`. */
export const FAKE_ENDPOINT = 'momento.test';

/** Options of {@link fakeMomentoEnv}. */
export interface FakeMomentoEnvOptions {
  /** Port of the CONNECT proxy ({@link startConnectProxy}); leave out to get only the TLS part. */
  readonly proxyPort?: number;
}

/**
 * The environment that makes the production gRPC path reach the fake: the CONNECT proxy (`grpc_proxy`, read by
 * grpc-js per channel), the test CA (`GRPC_DEFAULT_SSL_ROOTS_FILE_PATH`, read once when grpc-js loads: set it
 * first; it overrides the machine-wide value) and `MOMENTO_ENDPOINT`. `no_grpc_proxy` is set to a name that
 * matches nothing, so a machine-wide `no_proxy` cannot send `token.momento.test` around the proxy.
 *
 * @example
 * Object.assign(process.env, fakeMomentoEnv({ proxyPort: proxy.port }));
 */
export function fakeMomentoEnv(options: FakeMomentoEnvOptions = {}): Record<string, string> {
  const env: Record<string, string> = {
    GRPC_DEFAULT_SSL_ROOTS_FILE_PATH: TEST_CA_PATH,
    MOMENTO_ENDPOINT: FAKE_ENDPOINT,
  };
  if (options.proxyPort !== undefined) {
    env.grpc_proxy = `http://127.0.0.1:${options.proxyPort}`;
    env.no_grpc_proxy = 'no-proxy.invalid';
  }
  return env;
}

const b64url = (v: string | Buffer): string => Buffer.from(v).toString('base64url');

/**
 * A fake v2 Momento API key: a JWT-shaped `header.{"t":"g",…}.signature` (base64url), random each call unless
 * `claims` pin it. Accepted by `CredentialProvider.fromApiKeyV2` and by our `parseApiKey`; worthless anywhere else.
 */
export function fakeV2ApiKey(claims: Record<string, unknown> = {}): string {
  const header = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const payload = b64url(JSON.stringify({ t: 'g', id: randomBytes(8).toString('hex'), ...claims }));
  return `${header}.${payload}.${b64url(randomBytes(32))}`;
}

/** A fake legacy v1 key: base64 of JSON `{"endpoint", "api_key"}`. */
export function fakeV1ApiKey(endpoint: string = FAKE_ENDPOINT, apiKey: string = fakeV2ApiKey()): string {
  return Buffer.from(JSON.stringify({ endpoint, api_key: apiKey })).toString('base64');
}
