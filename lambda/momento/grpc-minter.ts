/**
 * The real minting path: one unary gRPC call, `/token.Token/GenerateDisposableToken` on `token.<endpoint>:443`
 * over TLS, with our own `node:http2` gRPC transport (./grpc-transport.ts) and protobuf messages written field by
 * field as Momento's .proto files define them (./wire.ts). Not the SDK's AuthClient: it has a fixed 60 s deadline,
 * no retry, no reconnect and no `close()`, and its scope conversion fails open when topics and key restrictions mix.
 *
 * Connection policy, for Lambda's freeze/thaw:
 * - one HTTP/2 connection, opened on first use and reused by warm invocations;
 * - our own deadline per call (`deadlineMs`, connecting included), so a black-holed connection costs one
 *   deadline, not 60 s;
 * - UNAVAILABLE (reset / refused / TLS failure / GOAWAY) → one retry on a fresh connection;
 * - DEADLINE_EXCEEDED → the connection is closed and the next call opens a fresh one;
 * - a connection idle longer than `maxIdleMs` (the container was probably frozen; AWS NLBs drop idle flows after
 *   350 s), or one that failed or received GOAWAY, is replaced before use, as the SDK's `IdleGrpcClientWrapper`
 *   does;
 * - no keepalive pings: a Lambda frozen between a ping and its ack would see a false keepalive timeout and kill a
 *   healthy connection on thaw (the SDK disables them for Lambda for the same reason); the idle rule and the
 *   deadline cover dead connections instead.
 *
 * Cold start: everything here is small (node:http2 and `@bufbuild/protobuf`'s wire primitives; docs/measurements.md,
 * M2) and loads with the module; the first mint pays for reading the key and the TLS handshake only.
 */
import { MomentoError, type MomentoFailure } from '../errors';
import type { KeySource, MintedToken, MintRequest, Minter } from '../types';
import { encodeDisposableToken, isHostName, parseApiKey, type ParsedApiKey } from './api-key';
import { GrpcStatusError, openGrpcConnection, Status, type GrpcConnection } from './grpc-transport';
import { decodeTokenReply, encodeTokenRequest, toPermissions, type TokenReply } from './wire';

/** Sent once per connection like the SDK's `agent` header, so Momento can tell TVM traffic apart. */
export const AGENT = 'nodejs:tvm:0.1.0';

/** Something worth a log line or a metric; never carries a key or token. */
export interface MinterEvent {
  readonly type: 'retry' | 'reconnect' | 'key-reloaded';
  /** Why, in words: e.g. `UNAVAILABLE`, `idle 300000 ms`, `deadline exceeded`. */
  readonly reason: string;
  readonly grpcCode?: number;
}

/** Options of {@link createGrpcMinter}. */
export interface GrpcMinterOptions {
  /** Where the TVM's Momento API key comes from. */
  readonly keySource: KeySource;
  /** Config `momento.endpoint` (e.g. cell-4-us-west-2-1.prod.a.momentohq.com); used with v2 keys. */
  readonly endpoint: string | undefined;
  /**
   * Deadline of one gRPC attempt, in ms. Worst case of one `mint()`: two attempts (UNAVAILABLE retry) plus,
   * after an auth failure with a rotated key, two more.
   * @default 3000
   */
  readonly deadlineMs?: number;
  /**
   * Replace a client unused for longer than this before the next call.
   * @default 240000 (4 min, under the 350 s idle timeout of AWS NLBs, as the SDK)
   */
  readonly maxIdleMs?: number;
  /** Called on retries, reconnects and key reloads (for logs / metrics). @default none */
  readonly onEvent?: (event: MinterEvent) => void;
}

/** A {@link Minter} that owns a gRPC connection. */
export interface GrpcMinter extends Minter {
  prepare(): void;
  /**
   * Reads the key and opens the connection ahead of the first request (e.g. kicked off during Lambda init).
   * Best effort: never rejects; a failure shows up again on the first `mint()`.
   */
  warmUp(): Promise<void>;
  /** Closes the connection; a later `mint()` opens a new one. */
  close(): void;
}

/** The gRPC method that mints. */
export const GENERATE_DISPOSABLE_TOKEN = '/token.Token/GenerateDisposableToken';
/** `user-agent` of our transport (grpc-js sends `grpc-node-js/<version>`; Momento reads `agent`). */
export const USER_AGENT = 'momento-tvm/0.1.0 (node:http2)';

interface Connection {
  readonly grpc: GrpcConnection;
  readonly target: string;
  lastUsed: number;
  agentSent: boolean;
}

// gRPC status codes (github.com/grpc/grpc/blob/master/doc/statuscodes.md).
const OK = 0;
const DEADLINE_EXCEEDED = 4;
const NOT_FOUND = 5;
const PERMISSION_DENIED = 7;
const RESOURCE_EXHAUSTED = 8;
const FAILED_PRECONDITION = 9;
const OUT_OF_RANGE = 11;
const UNAVAILABLE = 14;
const UNAUTHENTICATED = 16;
const INVALID_ARGUMENT = 3;

const FAILURE_BY_CODE: Readonly<Record<number, MomentoFailure>> = {
  [PERMISSION_DENIED]: 'auth',
  [UNAUTHENTICATED]: 'auth',
  [RESOURCE_EXHAUSTED]: 'throttled',
  [UNAVAILABLE]: 'unavailable',
  [DEADLINE_EXCEEDED]: 'timeout',
  [INVALID_ARGUMENT]: 'rejected',
  [FAILED_PRECONDITION]: 'rejected',
  [OUT_OF_RANGE]: 'rejected',
  [NOT_FOUND]: 'rejected',
};

/** Maps a gRPC failure; the cause keeps code and details for logs, with the key redacted, and drops metadata. */
function toMomentoError(err: GrpcStatusError, secret: string): MomentoError {
  const code = typeof err.code === 'number' ? err.code : undefined;
  const failure = (code !== undefined && FAILURE_BY_CODE[code]) || 'internal';
  let details = typeof err.details === 'string' ? err.details : '';
  if (secret && details.includes(secret)) details = details.split(secret).join('[redacted]');
  return new MomentoError(failure, code, { cause: new Error(`gRPC status ${code ?? '?'}: ${details}`) });
}

/**
 * Creates the production {@link Minter}.
 *
 * Errors: `MomentoError` (`auth` → 502, `throttled` → 429, `unavailable` / `timeout` → 503, `rejected` /
 * `internal` → 502) and `MisconfiguredError` from the key source or a malformed key (500). On an `auth` failure
 * the key source is invalidated and read again once; if the key changed (rotation) the call is retried with it.
 * No error message ever contains the key or a token.
 *
 * @example
 * const minter = createGrpcMinter({
 *   keySource: secretsManagerKeySource({ secretId }),
 *   endpoint: config.momento.endpoint,
 *   deadlineMs: config.momento.deadlineMs,
 * });
 */
export function createGrpcMinter(options: GrpcMinterOptions): GrpcMinter {
  const { keySource } = options;
  const deadlineMs = options.deadlineMs ?? 3000;
  const maxIdleMs = options.maxIdleMs ?? 240_000;
  const emit = (event: MinterEvent): void => {
    try {
      options.onEvent?.(event);
    } catch {
      // A logging hook must never break minting.
    }
  };

  let conn: Connection | undefined;
  const configured = options.endpoint?.trim();
  const preconnectTarget = configured && isHostName(configured) ? `token.${configured}` : undefined;
  let parsedFor: { key: string; parsed: ParsedApiKey } | undefined;

  const parse = (key: string): ParsedApiKey => {
    if (parsedFor?.key !== key) {
      try {
        parsedFor = { key, parsed: parseApiKey(key, options.endpoint) };
      } catch (err) {
        // The key source cached a value we cannot use: drop it, so the operator's fix to the secret is read on
        // the next request instead of failing with 500 until the container is recycled.
        keySource.invalidate();
        throw err;
      }
    }
    return parsedFor.parsed;
  };

  function drop(c: Connection, reason: string, grpcCode?: number): void {
    if (conn === c) conn = undefined;
    c.grpc.close();
    emit({ type: 'reconnect', reason, grpcCode });
  }

  function connection(target: string): Connection {
    if (conn) {
      const idle = Date.now() - conn.lastUsed;
      if (conn.target !== target) drop(conn, 'endpoint changed');
      else if (idle > maxIdleMs) drop(conn, `idle ${idle} ms`);
      else if (!conn.grpc.usable) drop(conn, 'connection closed or GOAWAY');
    }
    conn ??= {
      grpc: openGrpcConnection({ host: target, userAgent: USER_AGENT }),
      target,
      lastUsed: Date.now(),
      agentSent: false,
    };
    return conn;
  }

  async function call(c: Connection, message: Uint8Array): Promise<TokenReply> {
    let metadata: Record<string, string> | undefined;
    if (!c.agentSent) {
      // Once per connection, as the SDK does.
      c.agentSent = true;
      metadata = { agent: AGENT, 'runtime-version': `nodejs:${process.versions.node}` };
    }
    const bytes = await c.grpc.unary({ path: GENERATE_DISPOSABLE_TOKEN, message, metadata, deadlineMs });
    try {
      return decodeTokenReply(bytes);
    } catch (e) {
      throw new GrpcStatusError(Status.INTERNAL, `malformed reply: ${(e as Error).message}`);
    }
  }

  async function mintWithKey(key: string, permissions: Uint8Array, req: MintRequest): Promise<MintedToken> {
    const { authToken, endpoint } = parse(key);
    const target = `token.${endpoint}`;
    const message = encodeTokenRequest({
      authToken,
      permissions,
      validForSeconds: req.ttlSeconds,
      tokenId: req.tokenId,
    });
    for (let attempt = 1; ; attempt++) {
      const c = connection(target);
      let reply: TokenReply;
      try {
        reply = await call(c, message);
      } catch (e) {
        const err = e instanceof GrpcStatusError ? e : new GrpcStatusError(Status.INTERNAL, String(e));
        if (err.code === UNAVAILABLE) {
          drop(c, 'UNAVAILABLE', UNAVAILABLE);
          if (attempt === 1) {
            emit({ type: 'retry', reason: 'UNAVAILABLE', grpcCode: UNAVAILABLE });
            continue;
          }
        } else if (err.code === DEADLINE_EXCEEDED) {
          // The connection may be black-holed (frozen container, dead NAT flow): never reuse it.
          drop(c, 'deadline exceeded', DEADLINE_EXCEEDED);
        }
        throw toMomentoError(err, authToken);
      }
      c.lastUsed = Date.now();
      if (!reply.apiKey || !reply.endpoint || !(reply.validUntil > 0)) {
        throw new MomentoError('internal', OK, {
          cause: new Error('Momento replied without api_key, endpoint or valid_until'),
        });
      }
      return {
        authToken: encodeDisposableToken(reply.endpoint, reply.apiKey),
        endpoint: reply.endpoint,
        expiresAt: reply.validUntil,
      };
    }
  }

  /** With a v2 key the endpoint is in the config: the connection can start before the key is known. */
  const preconnect = (): void => {
    if (!conn && preconnectTarget) connection(preconnectTarget);
  };

  return {
    prepare(): void {
      preconnect();
      // Cached on success (and shared with mint() while in flight); a failure is not cached, so mint() reads
      // again and reports it.
      keySource.getKey().catch(() => undefined);
    },

    async mint(req: MintRequest): Promise<MintedToken> {
      if (!Number.isInteger(req.ttlSeconds) || req.ttlSeconds < 1) {
        throw new Error(`ttlSeconds must be a positive whole number, got ${req.ttlSeconds}`);
      }
      const permissions = toPermissions(req.grants);
      // With a v2 key the endpoint is in the config, not in the key: start the TLS connection while the key is
      // read (on a cold start both are round trips). A v1 key naming another endpoint replaces it.
      preconnect();
      const key = await keySource.getKey();
      try {
        return await mintWithKey(key, permissions, req);
      } catch (err) {
        if (!(err instanceof MomentoError) || err.failure !== 'auth') throw err;
        // Momento refused our key: maybe it was rotated since we cached it. Re-read once.
        keySource.invalidate();
        const fresh = await keySource.getKey();
        if (fresh === key) throw err;
        emit({
          type: 'key-reloaded',
          reason: 'Momento rejected the cached key; the secret holds a new one',
          grpcCode: err.grpcCode,
        });
        return await mintWithKey(fresh, permissions, req);
      }
    },

    async warmUp(): Promise<void> {
      try {
        const { endpoint } = parse(await keySource.getKey());
        await connection(`token.${endpoint}`).grpc.ready(deadlineMs);
      } catch {
        // Best effort by contract: configuration errors resurface, with their status, on the first mint().
      }
    },

    close(): void {
      if (conn) {
        conn.grpc.close();
        conn = undefined;
      }
    },
  };
}
