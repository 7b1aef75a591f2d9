/**
 * The Momento adapter of the vending function: the minter (our node:http2 gRPC transport + Momento's wire
 * messages written with @bufbuild/protobuf's wire primitives), API-key parsing and the key source. All of it is
 * small and loads with the module. `./wire` and `./grpc-transport` are not re-exported; tests import them directly.
 */
export {
  AGENT,
  createGrpcMinter,
  GENERATE_DISPOSABLE_TOKEN,
  USER_AGENT,
  type GrpcMinter,
  type GrpcMinterOptions,
  type MinterEvent,
} from './grpc-minter';
export { encodeDisposableToken, parseApiKey, type ParsedApiKey } from './api-key';
export {
  secretsManagerKeySource,
  staticKeySource,
  type KeySource,
  type SecretsManagerKeySourceOptions,
} from './key-source';
