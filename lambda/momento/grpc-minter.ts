/**
 * The real minting path: one unary gRPC call, `/token.Token/GenerateDisposableToken` on `token.<endpoint>:443`
 * over TLS, with `@grpc/grpc-js` and the official generated token types. Replaces the SDK's AuthClient, which
 * has a fixed 60 s deadline, no retry, no reconnect and no `close()` (docs/decisions.md, "Own deadline, one retry,
 * fresh connection"), and whose scope conversion fails open when topics and key restrictions mix.
 *
 * Connection policy, for Lambda's freeze/thaw:
 * - one client, created on first use and reused by warm invocations;
 * - our own deadline per call (`deadlineMs`), so a black-holed connection costs one deadline, not 60 s;
 * - UNAVAILABLE (reset / refused / TLS failure) → one retry on a fresh channel;
 * - DEADLINE_EXCEEDED → the client is closed and the next call opens a fresh connection;
 * - a client idle longer than `maxIdleMs` (the container was probably frozen; AWS NLBs drop idle flows after
 *   350 s) or in TRANSIENT_FAILURE is replaced before use, as the SDK's `IdleGrpcClientWrapper` does;
 * - no keepalive pings: a Lambda frozen between a ping and its ack would see a false keepalive timeout and kill a
 *   healthy connection on thaw (the SDK disables them for Lambda for the same reason); the idle rule and the
 *   deadline cover dead connections instead;
 * - `grpc.use_local_subchannel_pool`: each client owns its subchannel instead of sharing grpc-js's
 *   process-wide pool, so closing a client always tears its connection down and a fresh client dials anew.
 *
 * Cold start: grpc-js and the generated types (≈45 ms of `require` unbundled) load on first use or on
 * `warmUp()`, not when this module is imported, so a handler can answer preflight / 4xx without them.
 */
import type * as GrpcJs from '@grpc/grpc-js';
import type { token as TokenTypes } from '@gomomento/generated-types/dist/token';
import type { permission_messages as PermissionTypes } from '@gomomento/generated-types/dist/permissionmessages';
import { MomentoError, type MomentoFailure } from '../errors';
import type { Grant, KeySource, MintedToken, MintRequest, Minter } from '../types';
import { encodeDisposableToken, parseApiKey, type ParsedApiKey } from './api-key';

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
  /**
   * Loads grpc-js, reads the key and opens the connection ahead of the first request (e.g. kicked off during
   * Lambda init). Best effort: never rejects; a failure shows up again on the first `mint()`.
   */
  warmUp(): Promise<void>;
  /** Closes the connection; a later `mint()` opens a new one. */
  close(): void;
}

type TokenClient = TokenTypes.TokenClient;
type TokenReply = TokenTypes._GenerateDisposableTokenResponse;

interface Runtime {
  readonly grpc: typeof GrpcJs;
  readonly token: typeof TokenTypes;
  readonly toPermissions: (grants: readonly Grant[]) => PermissionTypes.Permissions;
}

interface Connection {
  readonly client: TokenClient;
  readonly target: string;
  lastUsed: number;
  agentSent: boolean;
}

let runtime: Runtime | undefined;

/**
 * Loads the heavy modules on first use, once per container. A `require` inside a function stays lazy in an
 * esbuild CommonJS bundle (the module body runs on first call); `import()` would need ESM resolution here.
 */
function loadRuntime(): Runtime {
  /* eslint-disable @typescript-eslint/no-require-imports */
  runtime ??= {
    grpc: require('@grpc/grpc-js') as typeof GrpcJs,
    token: (require('@gomomento/generated-types/dist/token') as { token: typeof TokenTypes }).token,
    toPermissions: (require('./wire') as typeof import('./wire')).toPermissions,
  };
  /* eslint-enable @typescript-eslint/no-require-imports */
  return runtime;
}

// gRPC status codes (stable across implementations; spelled out so mapping needs no grpc-js at import time).
const OK = 0;
const CANCELLED = 1;
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

interface GrpcError {
  readonly code?: number;
  readonly details?: string;
}

/** Maps a gRPC failure; the cause keeps code and details for logs, with the key redacted, and drops metadata. */
function toMomentoError(err: GrpcError, secret: string): MomentoError {
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
 *   keySource: extensionKeySource({ secretId }),
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
    c.client.close();
    emit({ type: 'reconnect', reason, grpcCode });
  }

  function connection(rt: Runtime, target: string): Connection {
    if (conn) {
      const idle = Date.now() - conn.lastUsed;
      const state = conn.client.getChannel().getConnectivityState(false);
      if (conn.target !== target) drop(conn, 'endpoint changed');
      else if (idle > maxIdleMs) drop(conn, `idle ${idle} ms`);
      else if (state === rt.grpc.connectivityState.TRANSIENT_FAILURE || state === rt.grpc.connectivityState.SHUTDOWN)
        drop(conn, `channel ${rt.grpc.connectivityState[state]}`);
    }
    conn ??= {
      client: new rt.token.TokenClient(target, rt.grpc.credentials.createSsl(), {
        'grpc.use_local_subchannel_pool': 1,
        // No service-config lookups: nothing to learn from them, and our retry policy is the only one.
        'grpc.service_config_disable_resolution': 1,
      }),
      target,
      lastUsed: Date.now(),
      agentSent: false,
    };
    return conn;
  }

  function call(rt: Runtime, c: Connection, request: TokenTypes._GenerateDisposableTokenRequest): Promise<TokenReply> {
    const metadata = new rt.grpc.Metadata();
    if (!c.agentSent) {
      c.agentSent = true;
      metadata.set('agent', AGENT);
      metadata.set('runtime-version', `nodejs:${process.versions.node}`);
    }
    return new Promise((resolve, reject) => {
      c.client.GenerateDisposableToken(request, metadata, { deadline: Date.now() + deadlineMs }, (err, reply) => {
        if (err) reject(err);
        else if (!reply) reject(Object.assign(new Error('empty reply'), { code: CANCELLED }));
        else resolve(reply);
      });
    });
  }

  async function mintWithKey(
    rt: Runtime,
    key: string,
    permissions: PermissionTypes.Permissions,
    req: MintRequest,
  ): Promise<MintedToken> {
    const { authToken, endpoint } = parse(key);
    const target = `token.${endpoint}:443`;
    const request = new rt.token._GenerateDisposableTokenRequest({
      expires: new rt.token._GenerateDisposableTokenRequest.Expires({ valid_for_seconds: req.ttlSeconds }),
      auth_token: authToken,
      permissions,
      ...(req.tokenId ? { token_id: req.tokenId } : {}),
    });
    for (let attempt = 1; ; attempt++) {
      const c = connection(rt, target);
      let reply: TokenReply;
      try {
        reply = await call(rt, c, request);
      } catch (e) {
        const err = e as GrpcError;
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
      if (!reply.api_key || !reply.endpoint || !(reply.valid_until > 0)) {
        throw new MomentoError('internal', OK, {
          cause: new Error('Momento replied without api_key, endpoint or valid_until'),
        });
      }
      return {
        authToken: encodeDisposableToken(reply.endpoint, reply.api_key),
        endpoint: reply.endpoint,
        expiresAt: reply.valid_until,
      };
    }
  }

  return {
    async mint(req: MintRequest): Promise<MintedToken> {
      if (!Number.isInteger(req.ttlSeconds) || req.ttlSeconds < 1) {
        throw new Error(`ttlSeconds must be a positive whole number, got ${req.ttlSeconds}`);
      }
      const rt = loadRuntime();
      const permissions = rt.toPermissions(req.grants);
      const key = await keySource.getKey();
      try {
        return await mintWithKey(rt, key, permissions, req);
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
        return await mintWithKey(rt, fresh, permissions, req);
      }
    },

    async warmUp(): Promise<void> {
      try {
        const rt = loadRuntime();
        const { endpoint } = parse(await keySource.getKey());
        const c = connection(rt, `token.${endpoint}:443`);
        await new Promise<void>((resolve) => c.client.waitForReady(Date.now() + deadlineMs, () => resolve()));
      } catch {
        // Best effort by contract: configuration errors resurface, with their status, on the first mint().
      }
    },

    close(): void {
      if (conn) {
        conn.client.close();
        conn = undefined;
      }
    },
  };
}
