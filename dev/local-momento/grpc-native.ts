/**
 * The native gRPC face of the local data plane: the same core served by grpc-js over plain HTTP/2 (h2c), for the
 * Node SDK (`@gomomento/sdk` with `secureConnection: false`), which is what `npm run smoke -- --momento` uses.
 * Requests and replies pass through as bytes, so the core decodes and encodes them exactly as for grpc-web.
 *
 * TEST / LOCAL DEVELOPMENT ONLY.
 */
import type * as GrpcJs from '@grpc/grpc-js';
import { GRPC_STATUS, METHODS, type CallMetadata, type Core, type GrpcStatus } from './core';

/** A running grpc-js server on 127.0.0.1 (internal: the public port hands HTTP/2 connections to it). */
export interface NativeFace {
  readonly port: number;
  close(): void;
}

const bytes = {
  serialize: (b: Uint8Array): Buffer => Buffer.from(b),
  deserialize: (b: Buffer): Buffer => b,
};

function metadataOf(metadata: GrpcJs.Metadata): CallMetadata {
  const first = (name: string): string | undefined => {
    const v = metadata.get(name)[0];
    return typeof v === 'string' ? v : undefined;
  };
  return { authorization: first('authorization'), cache: first('cache') };
}

/** Starts grpc-js on 127.0.0.1 (a free port) serving every method of {@link METHODS} from `core`. */
export async function startNativeFace(core: Core): Promise<NativeFace> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const grpc = require('@grpc/grpc-js') as typeof GrpcJs;
  const errorOf = (status: GrpcStatus): Partial<GrpcJs.StatusObject> => {
    const metadata = new grpc.Metadata();
    for (const [k, v] of Object.entries(status.metadata ?? {})) metadata.set(k, v);
    return { code: status.code, details: status.details, metadata };
  };
  const definition: Record<string, GrpcJs.MethodDefinition<Buffer, Buffer>> = {};
  const handlers: GrpcJs.UntypedServiceImplementation = {};
  for (const [name, path] of Object.entries(METHODS)) {
    const streaming = core.isStreaming(path);
    definition[name] = {
      path,
      requestStream: false,
      responseStream: streaming,
      requestSerialize: bytes.serialize,
      requestDeserialize: bytes.deserialize,
      responseSerialize: bytes.serialize,
      responseDeserialize: bytes.deserialize,
      originalName: name,
    };
    handlers[name] = streaming
      ? (call: GrpcJs.ServerWritableStream<Buffer, Buffer>) => {
          const stream = core.subscribe(metadataOf(call.metadata), call.request, {
            write: (b) => call.write(Buffer.from(b)),
            end: (status) => {
              if (status.code === GRPC_STATUS.OK) call.end();
              else call.destroy(errorOf(status) as Error);
            },
            // No socket of its own to break: a lost connection looks like UNAVAILABLE to a native client.
            reset: () =>
              call.destroy(
                errorOf({ code: GRPC_STATUS.UNAVAILABLE, details: 'connection dropped (test hook)' }) as Error,
              ),
          });
          if (stream) call.once('cancelled', () => stream.close()).once('close', () => stream.close());
        }
      : (call: GrpcJs.ServerUnaryCall<Buffer, Buffer>, callback: GrpcJs.sendUnaryData<Buffer>) => {
          const result = core.unary(path, metadataOf(call.metadata), call.request);
          if (result.ok) callback(null, Buffer.from(result.bytes));
          else callback(errorOf(result.status));
        };
  }
  const server = new grpc.Server();
  server.addService(definition, handlers);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return { port, close: () => server.forceShutdown() };
}
