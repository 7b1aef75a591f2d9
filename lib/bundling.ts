/**
 * esbuild options for the Lambda bundles, shared by the stack (NodejsFunction) and the benchmark, so what
 * `npm run bench` measures is what `cdk deploy` ships.
 */
import * as path from 'node:path';
import { sealConfig } from '../config/seal';

/** Repository root. */
export const ROOT = path.resolve(__dirname, '..');

/** Entry points of the functions the stack deploys. */
export const ENTRIES = {
  vending: path.join(ROOT, 'lambda', 'handler.ts'),
  authorizer: path.join(ROOT, 'authorizers', 'handler.ts'),
} as const;

/**
 * Options common to every bundle. `mainFields` prefers ESM builds so esbuild can tree-shake zod/mini and
 * aws-jwt-verify; the output stays CommonJS (Lambda's default loader, no top-level await needed).
 */
export const BUNDLE_OPTIONS = {
  bundle: true,
  minify: true,
  sourcemap: true,
  platform: 'node',
  target: 'node22',
  format: 'cjs',
  mainFields: ['module', 'main'],
  // Only metadata that has no runtime use; dropping it keeps the bundle small.
  legalComments: 'none',
  // Neither function bundles grpc-js any more (the vending function speaks gRPC over node:http2); the benchmark's
  // reference handler (full Momento SDK) still does, with these same options. grpc-js requires
  // @grpc/proto-loader (with protobufjs and long, ~125 kB) only for its server-side channelz / ORCA services;
  // left out, a client never misses it, and the path would fail loudly ("Cannot find module") if ever taken.
  external: ['@grpc/proto-loader'],
  logLevel: 'error',
} as const;

/**
 * The validated configuration is baked into the bundle as a constant (`process.env.TVM_CONFIG` is replaced
 * at build time), validated and sealed (`process.env.TVM_CONFIG_SEAL`, config/sealed.ts): no 4 KB environment
 * limit, no extra read at cold start; the vending function checks the seal when it starts, the authorizer
 * re-validates its auth section. Locally (dev server, tests) the variable is read from the environment.
 */
export const configDefine = (configJson: string): Record<string, string> => {
  // Sealed (config/seal.ts): the vending function checks the seal at cold start instead of re-validating.
  const { text, seal } = sealConfig(JSON.parse(configJson));
  return { 'process.env.TVM_CONFIG': JSON.stringify(text), 'process.env.TVM_CONFIG_SEAL': JSON.stringify(seal) };
};
