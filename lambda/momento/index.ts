/**
 * The Momento adapter of the vending function. Everything exported here is light to import: grpc-js and the
 * generated protobuf types load on the first `mint()` (or `warmUp()`), not at module init. `./wire` (Grant[] →
 * protobuf) is not re-exported for that reason; the minter loads it lazily, tests import it directly.
 */
export { AGENT, createGrpcMinter, type GrpcMinter, type GrpcMinterOptions, type MinterEvent } from './grpc-minter';
export { encodeDisposableToken, parseApiKey, type ParsedApiKey } from './api-key';
export {
  secretsManagerKeySource,
  staticKeySource,
  type KeySource,
  type SecretsManagerKeySourceOptions,
} from './key-source';
