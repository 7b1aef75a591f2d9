/**
 * Runs before each integration test file, before grpc-js can load: grpc-js reads
 * GRPC_DEFAULT_SSL_ROOTS_FILE_PATH once, and the machine sets it to the system bundle, which does not hold the
 * fake Momento's test CA. The proxy part (`grpc_proxy`) is read per channel, so tests set it when their proxy
 * is up. Imports only dev/fake-momento/env (no grpc-js).
 */
import { fakeMomentoEnv } from '../../dev/fake-momento/env';

Object.assign(process.env, fakeMomentoEnv());
