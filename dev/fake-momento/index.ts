/**
 * The fake Momento token service, for tests and the local dev server. TEST / LOCAL DEVELOPMENT ONLY.
 *
 * Importing this module does not load grpc-js; `startFakeMomento` does. Set the environment from
 * {@link fakeMomentoEnv} before anything in the process requires grpc-js (see env.ts).
 */
import { fakeMomentoEnv } from './env';
import { startConnectProxy, type ConnectProxy } from './proxy';
import { startFakeMomento, type FakeMomento, type FakeMomentoOptions } from './server';

export * from './env';
export * from './proxy';
export * from './server';

/** A fake plus the CONNECT proxy in front of it. */
export interface LocalMomento {
  readonly fake: FakeMomento;
  readonly proxy: ConnectProxy;
  /** What {@link fakeMomentoEnv} returns for this proxy; apply it before grpc-js loads. */
  readonly env: Record<string, string>;
  close(): Promise<void>;
}

/**
 * Starts the fake and a CONNECT proxy to it. Does not touch `process.env`: apply `env` yourself (before
 * grpc-js loads, for `GRPC_DEFAULT_SSL_ROOTS_FILE_PATH`).
 *
 * @example
 * Object.assign(process.env, fakeMomentoEnv()); // CA first: before any grpc-js require
 * const local = await startLocalMomento();
 * Object.assign(process.env, local.env); // grpc_proxy: read per channel
 */
export async function startLocalMomento(options: FakeMomentoOptions = {}): Promise<LocalMomento> {
  const fake = await startFakeMomento(options);
  const proxy = await startConnectProxy({ targetPort: fake.port });
  return {
    fake,
    proxy,
    env: fakeMomentoEnv({ proxyPort: proxy.port }),
    async close() {
      await proxy.close();
      await fake.close();
    },
  };
}
