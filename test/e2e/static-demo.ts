/**
 * A tiny static server for the demo page on 127.0.0.1 and a free port, started *before* the dev server so
 * its origin can go into the config's CORS allow-list. Serves demo/ and the browser client, built into a
 * temporary directory (so it never races with another build of client/dist/).
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildClient } from '../../client/build';

const DEMO_DIR = path.resolve(__dirname, '..', '..', 'demo');
const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
};

export interface StaticDemo {
  /** e.g. http://127.0.0.1:41234 (no trailing slash): exactly what the browser sends as `Origin`. */
  readonly origin: string;
  close(): Promise<void>;
}

export async function startStaticDemo(): Promise<StaticDemo> {
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tvm-e2e-client-'));
  const clientFile = await buildClient({ outfile: path.join(outDir, 'tvm-client.js') });
  const files: Record<string, string> = {
    '/': path.join(DEMO_DIR, 'index.html'),
    '/index.html': path.join(DEMO_DIR, 'index.html'),
    '/demo.js': path.join(DEMO_DIR, 'demo.js'),
    '/client/tvm-client.js': clientFile,
    '/client/tvm-client.js.map': `${clientFile}.map`,
  };
  const server = http.createServer((req, res) => {
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
          })
          .end(data);
    });
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      fs.rmSync(outDir, { recursive: true, force: true });
    },
  };
}
