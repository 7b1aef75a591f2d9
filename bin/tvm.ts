#!/usr/bin/env node
/**
 * CDK app: `-c config=<path>` (default config/tvm.config.ts), `-c stackName=<name>` (default MomentoTvm).
 * The target account and region come from the config's `env`, else from the CDK CLI (AWS_REGION / the profile,
 * and the credentials' account); the app says on stderr which one it synthesizes for. cdk-nag AwsSolutions runs
 * on synth.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigError, type ResolvedConfig } from '../config/schema';
import { DEFAULT_CONFIG_FILE, loadConfigFile } from '../lib/load-config';
import { TvmStack } from '../lib/tvm-stack';

const app = new App();
const configFile = String(app.node.tryGetContext('config') ?? DEFAULT_CONFIG_FILE);
let config: ResolvedConfig;
try {
  config = loadConfigFile(configFile);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(err.message); // starts with the file name; every problem, or the one line the file fails at
  process.exit(1);
}

const stackName = String(app.node.tryGetContext('stackName') ?? 'MomentoTvm');
const account = config.env?.account ?? process.env.CDK_DEFAULT_ACCOUNT;
const region = config.env?.region ?? process.env.CDK_DEFAULT_REGION;
const regionSource = config.env?.region
  ? `env.region in ${configFile}`
  : process.env.AWS_REGION
    ? 'AWS_REGION'
    : process.env.AWS_DEFAULT_REGION
      ? 'AWS_DEFAULT_REGION'
      : region
        ? 'the AWS profile, or the CDK CLI default us-east-1 when no region is configured'
        : undefined;
console.error(
  region
    ? `${stackName}: synthesizing for region ${region} (from ${regionSource}), account ${account ?? 'unknown (no credentials)'}.`
    : `${stackName}: synthesizing a region-agnostic template (no region configured).`,
);
if (!config.env?.region)
  console.error(
    `  To pin the target: AWS_REGION=<region> npx cdk deploy, --profile <profile>, or env: { region: '<region>' } in ${configFile}.`,
  );
if (app.node.tryGetContext('apiGatewayCloudWatchRole') !== undefined)
  console.error(
    '  -c apiGatewayCloudWatchRole is no longer used: the stack sets the API Gateway CloudWatch Logs role only if the account has none.',
  );

new TvmStack(app, stackName, { config, env: account || region ? { account, region } : undefined });
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
