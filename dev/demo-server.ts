/**
 * Serves the demo page and the built browser client on 127.0.0.1 — for `npm run dev` and the browser test.
 * A fixed file map, not a directory listing: nothing outside these files can be asked for. Like the token server,
 * it answers only requests whose `Host` is this machine at its own port (dev/host-guard.ts).
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { refuseForeignHost } from './host-guard';

const DEMO_DIR = path.resolve(__dirname, '..', 'demo');
// Scripts only from this server: `?client=<module URL>` (demo/demo.js) must not import another origin's code
// into an origin the TVM's CORS allow-list may trust (the default config lists http://localhost:8080).
const CSP = "script-src 'self'; object-src 'none'; base-uri 'none'";
const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
};

export interface DemoServer {
  readonly server: http.Server;
  /** e.g. http://127.0.0.1:41234 — exactly what a browser sends as `Origin` from this page. */
  readonly origin: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Starts the demo server.
 *
 * @param options.port port to listen on; 0 picks a free one
 * @param options.clientFile the built client (client/build.ts `buildClient()`), served at /client/tvm-client.js
 * @param options.log where a refused request is reported (default: nowhere)
 */
export async function startDemoServer(options: {
  port: number;
  clientFile: string;
  log?: (line: string) => void;
}): Promise<DemoServer> {
  const { clientFile } = options;
  const files: Record<string, string> = {
    '/': path.join(DEMO_DIR, 'index.html'),
    '/index.html': path.join(DEMO_DIR, 'index.html'),
    '/demo.js': path.join(DEMO_DIR, 'demo.js'),
    '/client/tvm-client.js': clientFile,
    '/client/tvm-client.js.map': `${clientFile}.map`,
  };
  const server = http.createServer((req, res) => {
    if (refuseForeignHost(req, res, (server.address() as AddressInfo).port)) {
      options.log?.(`${new Date().toISOString()} 403 host-not-allowed on the demo server`);
      return;
    }
    const file = files[new URL(req.url ?? '/', 'http://127.0.0.1').pathname];
    if (!file) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    fs.readFile(file, (err, data) => {
      if (err) res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      else
        res
          .writeHead(200, {
            'Content-Type': MIME[path.extname(file)] ?? 'application/octet-stream',
            'Cache-Control': 'no-store',
            'Content-Security-Policy': CSP,
          })
          .end(data);
    });
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(options.port, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    port,
    origin: `http://127.0.0.1:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
