/**
 * {@link BUNDLE_OPTIONS} expressed as `NodejsFunction` bundling options, so `cdk deploy` ships exactly what
 * `npm run bench` measures. Kept apart from lib/bundling.ts so the benchmark does not load aws-cdk-lib.
 */
import { aws_lambda_nodejs as nodejs } from 'aws-cdk-lib';
import { BUNDLE_OPTIONS, configDefine } from './bundling';

const FORMATS: Record<typeof BUNDLE_OPTIONS.format, nodejs.OutputFormat> = { cjs: nodejs.OutputFormat.CJS };
const LOG_LEVELS: Record<typeof BUNDLE_OPTIONS.logLevel, nodejs.LogLevel> = { error: nodejs.LogLevel.ERROR };

/**
 * Bundling options for a TVM function with the validated configuration baked in.
 *
 * @param configJson `JSON.stringify` of the validated configuration (becomes `process.env.TVM_CONFIG`).
 */
export function tvmBundling(configJson: string): nodejs.BundlingOptions {
  return {
    minify: BUNDLE_OPTIONS.minify,
    sourceMap: BUNDLE_OPTIONS.sourcemap,
    target: BUNDLE_OPTIONS.target,
    format: FORMATS[BUNDLE_OPTIONS.format],
    mainFields: [...BUNDLE_OPTIONS.mainFields],
    logLevel: LOG_LEVELS[BUNDLE_OPTIONS.logLevel],
    define: configDefine(configJson),
    // NodejsFunction leaves @aws-sdk/* out by default; we bundle it like the benchmark does (the code runs
    // against what we tested, not whatever the runtime carries) and leave out only what BUNDLE_OPTIONS says.
    externalModules: [...BUNDLE_OPTIONS.external],
    esbuildArgs: { '--legal-comments': BUNDLE_OPTIONS.legalComments },
  };
}
