/**
 * The code asset of a TVM function: the function's bundle and, for the TVM functions, the validated policy as
 * `tvm-config.json` (read once at cold start, common/function-config.ts). The bundle comes from the package's own
 * files only — never from the consumer's repository root or lockfile:
 *
 * - installed package: the bundle built at pack time (`dist/functions/<name>/index.js`, scripts/build-package.ts);
 * - this repository (source, no dist): the same esbuild options bundle the source (lib/bundling.ts).
 *
 * Staged through CDK asset bundling with a local bundler (no Docker), so `cdk synth` stages it, the asset hash is
 * that of the output (bundle + policy: a policy change updates the function), and stacks CDK is told not to
 * bundle (`cdk deploy OtherStack --exclusively`, tests) skip the work.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AssetHashType, DockerImage, type ILocalBundling, aws_lambda as lambda } from 'aws-cdk-lib';
import { FUNCTION_CONFIG_FILE, sealFileOf } from '../common/function-config';
import { sealPolicy, type SealedPolicy } from '../config/seal';
import { ENTRIES, buildFunctionSync, type FunctionName } from './bundling';

/** Where the package ships a prebuilt bundle of `name` (dist/lib/ → dist/functions/<name>/). */
const prebuiltDir = (name: FunctionName): string => path.resolve(__dirname, '..', 'functions', name);

/** Bundles built from source in this process, by function (one esbuild run per function per synth process). */
const builtFromSource = new Map<FunctionName, string>();

/** The directory holding `index.js` of `name`: the package's prebuilt bundle, or one built from source. */
function bundleDir(name: FunctionName): string {
  const prebuilt = prebuiltDir(name);
  if (fs.existsSync(path.join(prebuilt, 'index.js'))) return prebuilt;
  let built = builtFromSource.get(name);
  if (built === undefined) {
    if (!fs.existsSync(ENTRIES[name]))
      throw new Error(
        `The ${name} function has no bundle: neither ${path.join(prebuilt, 'index.js')} (an installed package) nor its source ${ENTRIES[name]} (this repository) exists. Reinstall the package.`,
      );
    built = fs.mkdtempSync(path.join(os.tmpdir(), `tvm-${name}-`));
    buildFunctionSync(name, built);
    builtFromSource.set(name, built);
  }
  return built;
}

/**
 * Copies the bundle (and its source map) and writes the sealed policy. Its fields are part of CDK's asset cache
 * key, so two functions with different policies never share a staged asset.
 */
class StageFunction implements ILocalBundling {
  constructor(
    readonly functionName: FunctionName,
    /** The validated policy's text and its seal (config/seal.ts); undefined for a function that reads none. */
    readonly policy: SealedPolicy | undefined,
  ) {}

  tryBundle(outputDir: string): boolean {
    const from = bundleDir(this.functionName);
    for (const file of ['index.js', 'index.js.map'])
      if (fs.existsSync(path.join(from, file))) fs.copyFileSync(path.join(from, file), path.join(outputDir, file));
    if (this.policy !== undefined) {
      // Both functions check the seal at cold start instead of re-validating with zod (config/sealed.ts).
      fs.writeFileSync(path.join(outputDir, FUNCTION_CONFIG_FILE), this.policy.text);
      fs.writeFileSync(path.join(outputDir, sealFileOf(FUNCTION_CONFIG_FILE)), this.policy.seal);
    }
    return true;
  }
}

/**
 * The code of a TVM function (handler `index.handler`).
 *
 * @param name which function
 * @param policy the validated policy, written next to the bundle (omit for a function that reads none)
 */
export function functionCode(name: FunctionName, policy?: object): lambda.Code {
  const prebuilt = prebuiltDir(name);
  return lambda.Code.fromAsset(fs.existsSync(prebuilt) ? prebuilt : path.dirname(ENTRIES[name]), {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      local: new StageFunction(name, policy === undefined ? undefined : sealPolicy(policy)),
      // Never used: the local bundler always stages the asset (or throws). CDK requires an image.
      image: DockerImage.fromRegistry('public.ecr.aws/docker/library/node:22-slim'),
    },
  });
}
