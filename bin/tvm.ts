#!/usr/bin/env node
/**
 * CDK app: `-c config=<path>` (default config/tvm.config.ts), `-c stackName=<name>` (default MomentoTvm),
 * `-c apiGatewayCloudWatchRole=true` for the first API in a fresh account. cdk-nag AwsSolutions runs on synth.
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

const { CDK_DEFAULT_ACCOUNT: account, CDK_DEFAULT_REGION: region } = process.env;
new TvmStack(app, String(app.node.tryGetContext('stackName') ?? 'MomentoTvm'), {
  config,
  env: account || region ? { account, region } : undefined,
  tvm: { apiGatewayCloudWatchRole: String(app.node.tryGetContext('apiGatewayCloudWatchRole')) === 'true' },
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
