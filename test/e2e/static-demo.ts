/**
 * A tiny static server for the demo page on 127.0.0.1 and a free port, started *before* the dev server so
 * its origin can go into the config's CORS allow-list. Serves demo/ and the browser client *as published*:
 * `npm pack` of client/, installed from the tarball into a temporary project; the page loads the file the
 * package's `exports` names (a temporary copy, so it never races with another build of client/dist/).
 */
import { startDemoServer } from '../../dev/demo-server';
import { exportedModule, installPacked, packClient, removePacked } from './client-package';

export interface StaticDemo {
  /** e.g. http://127.0.0.1:41234 (no trailing slash): exactly what the browser sends as `Origin`. */
  readonly origin: string;
  /** The installed package's module the page loads (at /client/tvm-client.js). */
  readonly clientFile: string;
  close(): Promise<void>;
}

export async function startStaticDemo(): Promise<StaticDemo> {
  const packed = packClient();
  try {
    const clientFile = exportedModule(installPacked(packed));
    const demo = await startDemoServer({ port: 0, clientFile });
    return {
      origin: demo.origin,
      clientFile,
      async close() {
        await demo.close();
        removePacked(packed);
      },
    };
  } catch (error) {
    removePacked(packed);
    throw error;
  }
}
