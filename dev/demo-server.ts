/**
 * Serves the demo pages (token inspector, chat), the built browser client and the bundled Web SDK on 127.0.0.1 —
 * for `npm run dev` and the browser tests.
 * A fixed file map, not a directory listing: nothing outside these files can be asked for. Like the token server,
 * it answers only requests whose `Host` is this machine at its own port (dev/host-guard.ts).
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { refuseForeignHost } from './host-guard';

// --- chat demo (demo/chat.*): the Momento Web SDK as one browser module ---
/** Where the chat page loads the Web SDK from. */
export const WEB_SDK_PATH = '/vendor/momento-sdk-web.js';
let webSdkBundle: Promise<Uint8Array> | undefined;

/**
 * `@gomomento/sdk-web` (the pinned devDependency) bundled by esbuild into one ES module, in memory: no install
 * or build step beyond `npm ci`. Built on the first request for it (≈0.6 s), then kept for the process, so the
 * servers that never serve the chat page (most tests) do not pay for it.
 */
export function buildWebSdk(): Promise<Uint8Array> {
  webSdkBundle ??= import('esbuild')
    .then(async ({ build }) =>
      build({
        stdin: {
          // The SDK is CommonJS: `export *` of it would export nothing, so its names are listed.
          contents: `export { ${Object.keys(await import('@gomomento/sdk-web'))
            .filter((name) => name !== 'default' && /^[A-Za-z_$][\w$]*$/.test(name))
            .join(', ')} } from '@gomomento/sdk-web';`,
          resolveDir: path.resolve(__dirname, '..'),
          loader: 'js',
        },
        bundle: true,
        format: 'esm',
        platform: 'browser',
        target: ['es2020'],
        minify: true,
        legalComments: 'none',
        write: false,
        logLevel: 'error',
      }),
    )
    .then((result) => {
      const file = result.outputFiles[0];
      if (file === undefined) throw new Error('esbuild wrote no Web SDK bundle');
      return file.contents;
    });
  // A failed build is retried on the next request rather than cached.
  webSdkBundle.catch(() => (webSdkBundle = undefined));
  return webSdkBundle;
}
// --- end chat demo ---

const DEMO_DIR = path.resolve(__dirname, '..', 'demo');
// Scripts only from this server: `?client=<module URL>` (demo/demo.js) must not import another origin's code
// into an origin the TVM's CORS allow-list may trust (the default config lists http://localhost:8080).
const CSP = "script-src 'self'; object-src 'none'; base-uri 'none'";
const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
};

function headersFor(ext: string): http.OutgoingHttpHeaders {
  return {
    'Content-Type': MIME[ext] ?? 'application/octet-stream',
    'Cache-Control': 'no-store',
    'Content-Security-Policy': CSP,
  };
}

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
    '/chat.html': path.join(DEMO_DIR, 'chat.html'),
    '/chat.js': path.join(DEMO_DIR, 'chat.js'),
    '/client/tvm-client.js': clientFile,
    '/client/tvm-client.js.map': `${clientFile}.map`,
  };
  const server = http.createServer((req, res) => {
    if (refuseForeignHost(req, res, (server.address() as AddressInfo).port)) {
      options.log?.(`${new Date().toISOString()} 403 host-not-allowed on the demo server`);
      return;
    }
    const pathname = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    if (pathname === WEB_SDK_PATH) {
      buildWebSdk().then(
        (bundle) => res.writeHead(200, headersFor('.js')).end(bundle),
        (err: unknown) => {
          options.log?.(`demo server: Web SDK bundle failed: ${err instanceof Error ? err.message : String(err)}`);
          res.writeHead(500, { 'Content-Type': 'text/plain' }).end('Web SDK bundle failed');
        },
      );
      return;
    }
    const file = files[pathname];
    if (!file) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    fs.readFile(file, (err, data) => {
      if (err) res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      else res.writeHead(200, headersFor(path.extname(file))).end(data);
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
