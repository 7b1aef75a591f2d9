/**
 * A tiny static server for the demo page on 127.0.0.1 and a free port, started *before* the dev server so
 * its origin can go into the config's CORS allow-list. Serves demo/ and the browser client, built into a
 * temporary directory (so it never races with another build of client/dist/).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildClient } from '../../client/build';
import { startDemoServer } from '../../dev/demo-server';

export interface StaticDemo {
  /** e.g. http://127.0.0.1:41234 (no trailing slash): exactly what the browser sends as `Origin`. */
  readonly origin: string;
  close(): Promise<void>;
}

export async function startStaticDemo(): Promise<StaticDemo> {
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tvm-e2e-client-'));
  const demo = await startDemoServer({
    port: 0,
    clientFile: await buildClient({ outfile: path.join(outDir, 'tvm-client.js') }),
  });
  return {
    origin: demo.origin,
    async close() {
      await demo.close();
      fs.rmSync(outDir, { recursive: true, force: true });
    },
  };
}
