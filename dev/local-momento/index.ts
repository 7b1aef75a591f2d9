/**
 * A local Momento data plane for front ends: the real `@gomomento/sdk-web` talks to it from a browser (grpc-web
 * text over plain HTTP on 127.0.0.1) with tokens the local token service (dev/fake-momento) minted, and it
 * enforces exactly what each token allows. See README.md beside this file.
 *
 * Importing this module loads neither grpc-js nor the generated messages; {@link startLocalDataPlane} does.
 *
 * TEST / LOCAL DEVELOPMENT ONLY.
 */
import * as http from 'node:http';
import * as net from 'node:net';
import type { permission_messages as PermissionTypes } from '@gomomento/generated-types/dist/permissionmessages';
import { createCore, type Core } from './core';
import { createGrpcWebHandler } from './grpc-web';
import { startNativeFace } from './grpc-native';
import { createTokenIssuer, grantsFromPermissions, type LocalTokenIssuer } from './tokens';

export { GRPC_STATUS, METHODS } from './core';
export type { GrpcStatus } from './core';
export { createTokenIssuer, grantsFromPermissions } from './tokens';
export type { LocalGrant, LocalTokenClaims, LocalTokenIssuer, TokenRefusal } from './tokens';
export { allows, grantAllows } from './permissions';
export type { LocalOperation } from './permissions';

/** Options of {@link startLocalDataPlane}. */
export interface LocalDataPlaneOptions {
  /** Page origins allowed to call it (exact `scheme://host:port`, never `*`), e.g. the dev server's CORS origins. */
  readonly allowOrigins: readonly string[];
  /** Port on 127.0.0.1; 0 picks a free one. @default 0 */
  readonly port?: number;
  /** Milliseconds between heartbeats on a subscription. @default 5000 */
  readonly heartbeatMs?: number;
  /** Items kept per topic for subscribers that resume. @default 1000 */
  readonly historyPerTopic?: number;
  /** Cache names that exist (others: NOT_FOUND, the SDK's NOT_FOUND_ERROR). @default every name exists */
  readonly caches?: readonly string[];
  /** The token issuer (share one with a token service). @default a new one with its own secret */
  readonly issuer?: LocalTokenIssuer;
}

/** What the local token service asks for when it mints (dev/fake-momento `issueToken`). */
export interface MintedTokenRequest {
  /** The `permissions` of `GenerateDisposableToken`. */
  readonly permissions: PermissionTypes.Permissions | undefined;
  /** Epoch seconds, what the reply's `valid_until` says. */
  readonly validUntil: number;
  /** `token_id` ('' when none). */
  readonly tokenId: string;
}

/** A running data plane. */
export interface LocalDataPlane {
  /** Port on 127.0.0.1. */
  readonly port: number;
  /**
   * `http://127.0.0.1:<port>`: the `endpoint` of its tokens, and every Web SDK endpoint override. The same port
   * serves native gRPC (h2c) for the Node SDK at `127.0.0.1:<port>` with `secureConnection: false`.
   */
  readonly endpoint: string;
  /** Signs and verifies its tokens. */
  readonly issuer: LocalTokenIssuer;
  /** A local token for what a `GenerateDisposableToken` asked: plug into the token service's `issueToken`. */
  issueToken(request: MintedTokenRequest): { readonly apiKey: string; readonly endpoint: string };
  /**
   * Test hook: breaks every open subscribe stream. `reset` (default) destroys the connection as a network loss
   * does (the Web SDK reconnects and resumes after the last sequence number it saw); `end` ends the streams with
   * status OK (the SDK resubscribes at once). Returns how many streams were dropped.
   */
  dropSubscriptions(how?: 'reset' | 'end'): number;
  /** Open subscribe streams. */
  readonly subscriptions: number;
  /** Stops the server (open streams end with UNAVAILABLE). */
  close(): Promise<void>;
}

/**
 * Starts the data plane on 127.0.0.1.
 *
 * @example
 * const plane = await startLocalDataPlane({ allowOrigins: ['http://localhost:8080'] });
 * await startLocalMomento({ issueToken: plane.issueToken }); // the fake token service mints its tokens
 */
export async function startLocalDataPlane(options: LocalDataPlaneOptions): Promise<LocalDataPlane> {
  const bad = options.allowOrigins.filter((o) => !/^https?:\/\/[^/*\s]+$/.test(o));
  if (bad.length > 0)
    throw new Error(`allowOrigins must be exact origins (scheme://host[:port]), got ${bad.join(', ')}`);
  const issuer = options.issuer ?? createTokenIssuer();
  const core: Core = createCore({
    issuer,
    heartbeatMs: options.heartbeatMs,
    historyPerTopic: options.historyPerTopic,
    caches: options.caches,
  });
  const native = await startNativeFace(core);
  // One port for both faces: a connection that opens with the HTTP/2 preface ("PRI * HTTP/2.0") is native gRPC
  // (the Node SDK, h2c) and is relayed to grpc-js; anything else is HTTP/1.1 for the grpc-web face.
  let port = 0;
  const web = http.createServer(
    createGrpcWebHandler({ core, allowOrigins: new Set(options.allowOrigins), port: () => port }),
  );
  const sockets = new Set<net.Socket>();
  const front = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.once('error', () => socket.destroy());
    socket.once('data', (first: Buffer) => {
      socket.pause();
      socket.unshift(first);
      if (first.subarray(0, 4).toString('latin1') === 'PRI ') {
        const back = net.connect(native.port, '127.0.0.1');
        sockets.add(back);
        back.once('close', () => {
          sockets.delete(back);
          socket.destroy();
        });
        back.once('error', () => back.destroy());
        socket.once('close', () => back.destroy());
        socket.pipe(back).pipe(socket);
      } else {
        web.emit('connection', socket);
        socket.resume();
      }
    });
  });
  await new Promise<void>((resolve, reject) =>
    front.once('error', reject).listen(options.port ?? 0, '127.0.0.1', resolve),
  );
  port = (front.address() as net.AddressInfo).port;
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    port,
    endpoint,
    issuer,
    issueToken: (request) => ({
      apiKey: issuer.issue({
        grants: grantsFromPermissions(request.permissions),
        expiresAt: request.validUntil,
        tokenId: request.tokenId,
      }),
      endpoint,
    }),
    dropSubscriptions: (how) => core.dropSubscriptions(how),
    get subscriptions() {
      return core.subscriptions;
    },
    async close() {
      core.close();
      native.close();
      for (const s of sockets) s.destroy();
      web.closeAllConnections();
      await new Promise<void>((resolve) => front.close(() => resolve()));
    },
  };
}
