/**
 * A tiny HTTP CONNECT proxy on 127.0.0.1 that sends every tunnel to one local port, whatever host it names.
 * With `grpc_proxy` pointing here, grpc-js dials `token.momento.test:443` as in production (DNS name, TLS
 * with SNI and hostname check) and lands on the fake. It also lets tests break connections the way a Lambda
 * freeze does: reset them, or black-hole them (bytes vanish, nothing is closed).
 */
import * as http from 'node:http';
import * as net from 'node:net';

/** Options of {@link startConnectProxy}. */
export interface ConnectProxyOptions {
  /** Where every tunnel goes (the fake's `port`). */
  readonly targetPort: number;
}

/** A running proxy. */
export interface ConnectProxy {
  /** Port the proxy listens on (127.0.0.1). */
  readonly port: number;
  /** `http://127.0.0.1:<port>`, the value for `grpc_proxy`. */
  readonly url: string;
  /** Tunnels opened so far. */
  readonly connections: number;
  /** Tunnels open now. */
  readonly openConnections: number;
  /** CONNECT targets asked for, in order (e.g. `token.momento.test:443`). */
  readonly targets: readonly string[];
  /** Resets every open tunnel (both sides), as when a NAT flow or the peer died during a freeze. */
  destroyAll(): void;
  /**
   * Silently drops everything on every open tunnel from now on, without closing it: the client keeps writing
   * into the void, as over a connection that died while the Lambda was frozen. New tunnels work normally.
   */
  blackholeAll(): void;
  close(): Promise<void>;
}

interface Tunnel {
  readonly client: net.Socket;
  readonly upstream: net.Socket;
}

/**
 * Starts the proxy.
 *
 * @example
 * const proxy = await startConnectProxy({ targetPort: fake.port });
 * Object.assign(process.env, fakeMomentoEnv({ proxyPort: proxy.port }));
 */
export async function startConnectProxy(options: ConnectProxyOptions): Promise<ConnectProxy> {
  const tunnels = new Set<Tunnel>();
  const targets: string[] = [];
  const sockets = new Set<net.Socket>();
  let connections = 0;

  const server = http.createServer((_req, res) => {
    res.writeHead(405, { Allow: 'CONNECT' }).end();
  });
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    connections += 1;
    targets.push(req.url ?? '');
    const upstream = net.connect(options.targetPort, '127.0.0.1');
    const tunnel: Tunnel = { client, upstream };
    tunnels.add(tunnel);
    // Small gRPC frames must not sit in Nagle's buffer: latency assertions depend on it.
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const teardown = (): void => {
      tunnels.delete(tunnel);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', teardown).on('close', teardown);
    upstream.on('error', teardown).on('close', teardown);
    upstream.once('connect', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;

  return {
    port,
    url: `http://127.0.0.1:${port}`,
    get connections() {
      return connections;
    },
    get openConnections() {
      return tunnels.size;
    },
    targets,
    destroyAll() {
      for (const t of [...tunnels]) {
        t.client.resetAndDestroy();
        t.upstream.destroy();
      }
    },
    blackholeAll() {
      for (const t of tunnels) {
        t.client.unpipe(t.upstream);
        t.upstream.unpipe(t.client);
        // Keep reading and discard, so the client's writes "succeed" and vanish; never answer.
        t.client.on('data', () => undefined);
        t.upstream.pause();
      }
    },
    async close() {
      for (const t of [...tunnels]) {
        t.client.destroy();
        t.upstream.destroy();
      }
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
