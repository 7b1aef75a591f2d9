/**
 * A minimal gRPC client for unary calls over `node:http2` + TLS: one HTTP/2 connection to one `host:port`,
 * everything a unary call needs and nothing else (no streaming, no compression, no load balancing, no
 * service config). It replaces `@grpc/grpc-js`, whose ≈250 KB and module init were most of the vending
 * function's cold start (docs/decisions.md, "Cold path").
 *
 * What it implements of the gRPC-over-HTTP/2 protocol (github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md):
 * - request: `POST <path>`, `content-type: application/grpc`, `te: trailers`, `grpc-timeout`, custom metadata,
 *   one length-prefixed uncompressed message, end of stream;
 * - response: length-prefixed messages (a compressed one is refused: we never offer compression), status from the
 *   trailers or from the headers of a trailers-only response, `grpc-message` percent-decoded, a non-200 HTTP
 *   status mapped as the spec says;
 * - per-call deadline: covers connecting and the call; on expiry the stream is cancelled (RST_STREAM CANCEL) and
 *   the call fails with DEADLINE_EXCEEDED;
 * - RST_STREAM → status as grpc-js maps it (REFUSED_STREAM → UNAVAILABLE, CANCEL → CANCELLED, …); a dropped
 *   connection, a refused connect, a failed TLS handshake or a GOAWAY that left the stream unprocessed →
 *   UNAVAILABLE (what grpc-js reports, and what the minter retries);
 * - GOAWAY: the connection takes no new calls (`usable` turns false), calls in flight finish;
 * - `grpc_proxy` / `https_proxy` / `http_proxy` and `no_grpc_proxy` / `no_proxy`, as grpc-js reads them: the
 *   connection is tunnelled with HTTP CONNECT (production Lambdas have none of these set);
 * - `GRPC_DEFAULT_SSL_ROOTS_FILE_PATH`: replaces the trusted roots, as in grpc-js (tests point it at a test CA).
 *
 * The connection holds no timers and is unref'd while idle, so it never keeps a process alive.
 */
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import * as http2 from 'node:http2';
import { isIP, connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, createSecureContext, type SecureContext, type TLSSocket } from 'node:tls';

/** gRPC status codes used here (github.com/grpc/grpc/blob/master/doc/statuscodes.md). */
export const Status = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  DEADLINE_EXCEEDED: 4,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

/** A failed call: gRPC status code and the (decoded) `grpc-message`. */
export class GrpcStatusError extends Error {
  constructor(
    readonly code: number,
    readonly details: string,
  ) {
    super(`gRPC status ${code}: ${details}`);
    this.name = 'GrpcStatusError';
  }
}

/** One unary call. */
export interface UnaryCall {
  /** `/package.Service/Method`. */
  readonly path: string;
  /** The serialized request message. */
  readonly message: Uint8Array;
  /** Custom metadata (lower-case ASCII names, ASCII values). */
  readonly metadata?: Readonly<Record<string, string>>;
  /** Time budget of the call, connecting included, in ms. */
  readonly deadlineMs: number;
}

/** A connection to one gRPC server. */
export interface GrpcConnection {
  /** Sends one unary call; resolves with the reply message, rejects with {@link GrpcStatusError}. */
  unary(call: UnaryCall): Promise<Uint8Array>;
  /** False once the connection failed, was closed or received GOAWAY: open a new one for the next call. */
  readonly usable: boolean;
  /** Whether the connection has been established (TLS done). */
  readonly connected: boolean;
  /** Resolves when connected, rejects with {@link GrpcStatusError} (UNAVAILABLE / DEADLINE_EXCEEDED). */
  ready(deadlineMs: number): Promise<void>;
  /** Graceful: takes no new calls; calls already made (even those still waiting for the connection) run to their end, then the socket closes. */
  close(): void;
  /** Immediate: calls in flight fail with UNAVAILABLE. */
  destroy(): void;
}

/** Options of {@link openGrpcConnection}. */
export interface GrpcConnectionOptions {
  readonly host: string;
  /** @default 443 */
  readonly port?: number;
  /** Sent as `user-agent`. */
  readonly userAgent?: string;
  /** Environment to read proxy and CA settings from. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
}

const { NGHTTP2_CANCEL, NGHTTP2_REFUSED_STREAM, NGHTTP2_ENHANCE_YOUR_CALM, NGHTTP2_INADEQUATE_SECURITY } =
  http2.constants;

/** RST_STREAM code → gRPC status, as grpc-js maps it. */
function statusOfReset(rstCode: number): number {
  if (rstCode === NGHTTP2_REFUSED_STREAM) return Status.UNAVAILABLE;
  if (rstCode === NGHTTP2_CANCEL) return Status.CANCELLED;
  if (rstCode === NGHTTP2_ENHANCE_YOUR_CALM) return Status.RESOURCE_EXHAUSTED;
  if (rstCode === NGHTTP2_INADEQUATE_SECURITY) return Status.PERMISSION_DENIED;
  return Status.INTERNAL;
}

/** HTTP status of a non-gRPC answer → gRPC status (PROTOCOL-HTTP2.md, "HTTP to gRPC Status Code Mapping"). */
function statusOfHttp(httpStatus: number): number {
  switch (httpStatus) {
    case 400:
      return Status.INTERNAL;
    case 401:
      return Status.UNAUTHENTICATED;
    case 403:
      return Status.PERMISSION_DENIED;
    case 404:
      return Status.UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
      return Status.UNAVAILABLE;
    default:
      return Status.UNKNOWN;
  }
}

/** `grpc-message` is percent-encoded UTF-8; a malformed escape is left as it is (spec: do not fail the call). */
export function decodeGrpcMessage(raw: string): string {
  if (!raw.includes('%')) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw.replace(/(%[0-9A-Fa-f]{2})+/g, (run) => {
      try {
        return decodeURIComponent(run);
      } catch {
        return run;
      }
    });
  }
}

const header = (h: http2.IncomingHttpHeaders | undefined, name: string): string | undefined => {
  const v = h?.[name];
  return Array.isArray(v) ? v[0] : v;
};

/** grpc-js's proxy selection: `grpc_proxy`, then `https_proxy`, then `http_proxy`; `no_grpc_proxy`, then `no_proxy`. */
export function proxyFor(host: string, env: NodeJS.ProcessEnv): URL | undefined {
  const raw = env.grpc_proxy ?? env.https_proxy ?? env.http_proxy;
  if (!raw) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return undefined; // grpc-js logs and connects directly
  }
  if (url.protocol !== 'http:') return undefined; // grpc-js supports only http:// proxies
  const noProxy = env.no_grpc_proxy ?? env.no_proxy;
  if (noProxy) {
    const h = host.toLowerCase();
    for (const entry of noProxy.split(',')) {
      const e = entry
        .trim()
        .toLowerCase()
        .replace(/^\*?\./, '');
      if (e === '*' || (e !== '' && (h === e || h.endsWith(`.${e}`)))) return undefined;
    }
  }
  return url;
}

let rootsCache: { path: string; pem: Buffer } | undefined;

/** The CA bundle grpc-js would trust: `GRPC_DEFAULT_SSL_ROOTS_FILE_PATH` if set, else Node's default roots. */
function trustedRoots(env: NodeJS.ProcessEnv): Buffer | undefined {
  const file = env.GRPC_DEFAULT_SSL_ROOTS_FILE_PATH;
  if (!file) return undefined;
  if (rootsCache?.path !== file) rootsCache = { path: file, pem: readFileSync(file) };
  return rootsCache.pem;
}

/** Opens the TCP (or tunnelled) + TLS socket, ALPN h2. */
function connectTls(
  host: string,
  port: number,
  env: NodeJS.ProcessEnv,
  onSocket: (s: Socket) => void,
): Promise<TLSSocket> {
  const ca = trustedRoots(env);
  const proxy = proxyFor(host, env);
  // Building the TLS context makes Node parse its bundled root certificates, ≈ 20 ms of CPU once per process.
  // Do it right after the TCP connect / CONNECT request is on the wire (and after the caller's own synchronous
  // work, e.g. sending the secret request), so it overlaps the round trips instead of following them.
  let context: SecureContext | undefined;
  const secureContext = (): SecureContext => (context ??= createSecureContext(ca ? { ca } : {}));
  setImmediate(() => {
    try {
      secureContext();
    } catch {
      // Reported by the handshake, which builds it again.
    }
  });
  const handshake = (socket: Socket): Promise<TLSSocket> =>
    new Promise((resolve, reject) => {
      let tls: TLSSocket;
      try {
        tls = tlsConnect({
          socket,
          // SNI names hosts only (RFC 6066); an IP literal is still checked against the certificate.
          ...(isIP(host) ? {} : { servername: host }),
          host,
          ALPNProtocols: ['h2'],
          secureContext: secureContext(),
        });
      } catch (e) {
        socket.destroy();
        reject(e instanceof Error ? e : new Error(String(e)));
        return;
      }
      onSocket(tls);
      tls.setNoDelay(true);
      tls.once('secureConnect', () => {
        tls.removeListener('error', reject);
        if (tls.alpnProtocol !== 'h2') {
          tls.destroy();
          reject(new Error(`server did not negotiate HTTP/2 (ALPN ${String(tls.alpnProtocol)})`));
        } else resolve(tls);
      });
      tls.once('error', reject);
    });
  if (!proxy) {
    return new Promise<Socket>((resolve, reject) => {
      const tcp = netConnect({ host, port });
      onSocket(tcp);
      tcp.once('connect', () => {
        tcp.removeListener('error', reject);
        resolve(tcp);
      });
      tcp.once('error', reject);
    }).then(handshake);
  }
  return new Promise<Socket>((resolve, reject) => {
    const target = `${host}:${port}`;
    const headers: Record<string, string> = { Host: target };
    if (proxy.username) {
      const auth = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
      headers['Proxy-Authorization'] = `Basic ${Buffer.from(auth).toString('base64')}`;
    }
    const req = httpRequest({
      host: proxy.hostname.replace(/^\[|\]$/g, ''),
      port: proxy.port || 80,
      method: 'CONNECT',
      path: target,
      headers,
      agent: false,
    });
    req.once('socket', onSocket);
    req.once('connect', (res, socket, head) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        reject(new Error(`proxy refused CONNECT ${target}: HTTP ${res.statusCode}`));
        return;
      }
      if (head.length > 0) socket.unshift(head);
      resolve(socket);
    });
    req.once('error', reject);
    req.end();
  }).then(handshake);
}

const unavailable = (why: string): GrpcStatusError => new GrpcStatusError(Status.UNAVAILABLE, why);

/**
 * Opens a connection to `host:port` (TLS, ALPN h2), through a CONNECT proxy when the environment names one.
 * Connecting starts at once; calls made meanwhile wait for it (within their deadline).
 *
 * @example
 * const conn = openGrpcConnection({ host: 'token.cell-1.prod.a.momentohq.com' });
 * const reply = await conn.unary({ path: '/token.Token/GenerateDisposableToken', message, deadlineMs: 3000 });
 */
export function openGrpcConnection(options: GrpcConnectionOptions): GrpcConnection {
  const { host } = options;
  const port = options.port ?? 443;
  const env = options.env ?? process.env;
  const authority = port === 443 ? host : `${host}:${port}`;
  let session: http2.ClientHttp2Session | undefined;
  let socket: Socket | undefined;
  let failure: Error | undefined;
  let goaway = false;
  let closing = false;
  let active = 0;

  let dialing: Promise<TLSSocket>;
  try {
    dialing = connectTls(host, port, env, (s) => (socket = s));
  } catch (e) {
    // E.g. an unreadable GRPC_DEFAULT_SSL_ROOTS_FILE_PATH: an UNAVAILABLE call, as with grpc-js, not a crash.
    dialing = Promise.reject(e instanceof Error ? e : new Error(String(e)));
  }
  const connected = dialing.then(
    (tls) => {
      if (closing && active === 0) {
        tls.destroy();
        throw unavailable('connection closed');
      }
      const s = http2.connect(`https://${authority}`, {
        createConnection: () => tls,
        settings: { enablePush: false },
      });
      session = s;
      s.on('goaway', () => (goaway = true));
      s.on('error', (e: Error) => (failure ??= e));
      s.on('close', () => (failure ??= new Error('connection closed')));
      if (active === 0) s.unref();
      return s;
    },
    (e: unknown) => {
      failure = e instanceof Error ? e : new Error(String(e));
      throw unavailable(`connect to ${authority} failed: ${failure.message}`);
    },
  );
  // A connect failure is reported by the calls waiting for it; nobody waiting is fine.
  connected.catch(() => undefined);

  /** Whether calls already handed to this connection can still start on it. */
  const alive = (): boolean => !goaway && failure === undefined && !(session?.destroyed ?? false);
  const usable = (): boolean => !closing && alive();
  /** A graceful close waits until every call handed to the connection has started (and then finished). */
  const closeIfIdle = (): void => {
    if (!closing || active > 0) return;
    if (session) session.close();
    else socket?.destroy();
  };

  function unary(call: UnaryCall): Promise<Uint8Array> {
    return new Promise<Uint8Array>((resolve, reject) => {
      let settled = false;
      let stream: http2.ClientHttp2Stream | undefined;
      const finish = (err: GrpcStatusError | undefined, reply?: Uint8Array): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (--active === 0) {
          if (closing) closeIfIdle();
          else if (session && !session.destroyed) session.unref();
        }
        if (err) reject(err);
        else resolve(reply as Uint8Array);
      };
      active += 1;
      session?.ref();
      const timer = setTimeout(() => {
        if (stream && !stream.destroyed) stream.close(NGHTTP2_CANCEL);
        finish(new GrpcStatusError(Status.DEADLINE_EXCEEDED, 'Deadline exceeded'));
      }, call.deadlineMs);

      connected.then((s) => {
        if (settled) return;
        if (!alive()) return finish(unavailable(`connection unusable: ${failure?.message ?? 'GOAWAY received'}`));
        s.ref();
        let st: http2.ClientHttp2Stream;
        try {
          st = s.request(
            {
              ':method': 'POST',
              ':path': call.path,
              'content-type': 'application/grpc',
              te: 'trailers',
              'grpc-timeout': `${Math.max(1, Math.ceil(call.deadlineMs))}m`,
              ...(options.userAgent ? { 'user-agent': options.userAgent } : {}),
              ...call.metadata,
            },
            { endStream: false },
          );
        } catch (e) {
          return finish(unavailable(`cannot start a call: ${(e as Error).message}`));
        }
        stream = st;
        const frame = Buffer.allocUnsafe(5 + call.message.length);
        frame[0] = 0;
        frame.writeUInt32BE(call.message.length, 1);
        frame.set(call.message, 5);
        st.end(frame);

        let headers: http2.IncomingHttpHeaders | undefined;
        let trailers: http2.IncomingHttpHeaders | undefined;
        const chunks: Buffer[] = [];
        st.on('response', (h) => (headers = h));
        st.on('trailers', (t) => (trailers = t));
        st.on('data', (d: Buffer) => chunks.push(d));
        // 'error' precedes 'close' on resets and connection loss; the outcome is decided in 'close'.
        st.on('error', () => undefined);
        st.on('close', () => {
          if (settled) return;
          const httpStatus = Number(header(headers, ':status'));
          // Trailers-only responses carry grpc-status in the headers.
          const statusText = header(trailers, 'grpc-status') ?? header(headers, 'grpc-status');
          if (statusText === undefined) {
            if (headers && httpStatus !== 200)
              return finish(new GrpcStatusError(statusOfHttp(httpStatus), `HTTP status ${httpStatus}`));
            // Connection lost, or a GOAWAY left this stream unprocessed: safe to try again on a new connection.
            if (s.destroyed || goaway || failure !== undefined)
              return finish(unavailable(`connection dropped${failure ? `: ${failure.message}` : ''}`));
            if (st.rstCode !== undefined && st.rstCode !== 0)
              return finish(new GrpcStatusError(statusOfReset(st.rstCode), `stream reset (code ${st.rstCode})`));
            return finish(new GrpcStatusError(Status.INTERNAL, 'stream closed without a gRPC status'));
          }
          const code = Number(statusText);
          const details = decodeGrpcMessage(header(trailers, 'grpc-message') ?? header(headers, 'grpc-message') ?? '');
          if (!Number.isInteger(code) || code < 0) return finish(new GrpcStatusError(Status.UNKNOWN, details));
          if (code !== Status.OK) return finish(new GrpcStatusError(code, details));
          if (httpStatus !== 200)
            return finish(new GrpcStatusError(statusOfHttp(httpStatus), `HTTP status ${httpStatus}`));
          const body = Buffer.concat(chunks);
          if (body.length < 5) return finish(new GrpcStatusError(Status.INTERNAL, 'no response message'));
          if (body[0] !== 0) return finish(new GrpcStatusError(Status.INTERNAL, 'compressed response not requested'));
          const len = body.readUInt32BE(1);
          if (body.length !== 5 + len)
            return finish(new GrpcStatusError(Status.INTERNAL, 'expected exactly one response message'));
          finish(undefined, body.subarray(5));
        });
      }, finish);
    });
  }

  return {
    unary,
    get usable() {
      return usable();
    },
    get connected() {
      return session !== undefined;
    },
    ready(deadlineMs) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new GrpcStatusError(Status.DEADLINE_EXCEEDED, 'Deadline exceeded while connecting')),
          deadlineMs,
        );
      });
      return Promise.race([connected.then(() => undefined), timeout]).finally(() => clearTimeout(timer));
    },
    close() {
      closing = true;
      closeIfIdle();
    },
    destroy() {
      closing = true;
      failure ??= new Error('connection destroyed');
      if (session) session.destroy();
      else socket?.destroy();
    },
  };
}
