/**
 * Fast synth for infra tests: cdk.json's context, bundling skipped (`aws:cdk:bundling-stacks: []`) and the
 * built-in CloudFormation validation off. One test in bundling.test.ts bundles for real.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { validateConfig, type ResolvedConfig, type TvmConfig } from '../../config/schema';
import { TvmStack, type TvmStackProps } from '../../lib/tvm-stack';

const ROOT = path.resolve(__dirname, '..', '..');
const CDK_CONTEXT = (
  JSON.parse(fs.readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }
).context;

/** An account and region so region-aware code paths resolve. */
export const TEST_ENV = { account: '123456789012', region: 'us-west-2' } as const;

/** A complete, valid configuration; tests override what they exercise. */
export function baseConfig(overrides: Partial<TvmConfig> = {}): TvmConfig {
  return {
    auth: { mode: 'cognito' },
    tiers: [
      { name: 'admin', groups: ['admins'], permissions: [{ type: 'cache', cache: 'app', role: 'readwrite' }] },
      {
        name: 'member',
        groups: ['members', 'staff'],
        permissions: [{ type: 'topic', cache: 'app', role: 'subscribeonly', topicPrefix: 'chat-' }],
      },
      { name: 'reader', groups: ['members'], permissions: [{ type: 'cache', cache: 'app', role: 'readonly' }] },
    ],
    cors: { allowOrigins: ['https://app.example.com'] },
    momento: { endpoint: 'cell-4-us-west-2-1.prod.a.momentohq.com', secret: { create: true } },
    ...overrides,
  };
}

/** Configurations for every mode the stack supports. */
export const MODES = {
  open: baseConfig({
    auth: { mode: 'open', allowUnauthenticated: true, anonymousTier: 'public' },
    tiers: [{ name: 'public', permissions: [{ type: 'topic', cache: 'demo', role: 'subscribeonly' }] }],
    cors: { allowOrigins: ['http://localhost:5173', 'https://app.example.com'] },
  }),
  cognito: baseConfig({ auth: { mode: 'cognito', mfa: 'optional' } }),
  cognitoExisting: baseConfig({
    auth: {
      mode: 'cognito',
      existingUserPool: { userPoolId: 'us-west-2_AbCdEf123', clientIds: ['client-a', 'client-b'] },
    },
  }),
  authorizer: baseConfig({
    auth: {
      mode: 'authorizer',
      issuer: 'https://example.eu.auth0.com/',
      audience: ['https://tvm.example.com'],
      resultCacheTtlSeconds: 120,
    },
  }),
  authorizerApiKeys: baseConfig({
    auth: {
      mode: 'authorizer',
      issuer: 'https://example.eu.auth0.com/',
      audience: ['https://tvm.example.com'],
      apiKeys: { secret: { create: true } },
    },
  }),
  waf: baseConfig({
    auth: { mode: 'open', allowUnauthenticated: true, anonymousTier: 'public' },
    tiers: [{ name: 'public', permissions: [{ type: 'topic', cache: 'demo', role: 'subscribeonly' }] }],
    waf: { ratePer5MinPerIp: 300, managedCommonRules: true },
    reservedConcurrency: 5,
    tracing: true,
    alarmEmail: 'ops@example.com',
  }),
} satisfies Record<string, TvmConfig>;

/** A synthesized stack. */
export interface Synth {
  readonly app: App;
  readonly stack: TvmStack;
  readonly template: Template;
  readonly config: ResolvedConfig;
}

const cache = new WeakMap<TvmConfig, Synth>();

/** Synthesizes a TvmStack for `config` without bundling (memoized for a config object given alone). */
export function synth(
  config: TvmConfig,
  props: Partial<Omit<TvmStackProps, 'config'>> = {},
  options: { bundle?: boolean } = {},
): Synth {
  const cacheable = Object.keys(props).length === 0 && !options.bundle;
  const cached = cacheable ? cache.get(config) : undefined;
  if (cached) return cached;
  const result = doSynth(config, props, options);
  if (cacheable) cache.set(config, result);
  return result;
}

function doSynth(
  config: TvmConfig,
  props: Partial<Omit<TvmStackProps, 'config'>>,
  options: { bundle?: boolean },
): Synth {
  const app = new App({
    context: { ...CDK_CONTEXT, ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }) },
    builtinCloudFormationValidation: false,
  });
  const resolved = validateConfig(config);
  const stack = new TvmStack(app, 'TestTvm', { env: TEST_ENV, ...props, config: resolved });
  return { app, stack, template: Template.fromStack(stack), config: resolved };
}

/** cdk-nag AwsSolutions findings that are not acknowledged, as `ruleName @ construct path` lines. */
export function nagFindings(s: Synth): string[] {
  const report = new AwsSolutionsChecks(s.app).validateScope(s.stack);
  return report.violations.flatMap((v) =>
    v.violatingResources.map((r) => `${v.severity} ${v.ruleName} @ ${r.constructPath ?? r.resourceLogicalId}`),
  );
}

/** Resources of one type, as [logicalId, resource] pairs. */
export function resourcesOf(template: Template, type: string): [string, { Properties?: Record<string, unknown> }][] {
  return Object.entries(template.findResources(type)) as [string, { Properties?: Record<string, unknown> }][];
}

/** The one resource of a type (optionally whose logical id contains `idPart`); fails the test unless exactly one. */
export function onlyResource(
  template: Template,
  type: string,
  idPart = '',
): [string, { Properties?: Record<string, unknown> }] {
  const found = resourcesOf(template, type).filter(([id]) => id.includes(idPart));
  if (found.length !== 1 || !found[0])
    throw new Error(`expected exactly one ${type}${idPart ? ` matching ${idPart}` : ''}, found ${found.length}`);
  return found[0];
}

/** The TVM's own functions (vending, authorizer), leaving out the account-role custom resource's handler. */
export function tvmFunctions(template: Template): [string, { Properties?: Record<string, unknown> }][] {
  return resourcesOf(template, 'AWS::Lambda::Function').filter(([id]) => /VendingFunction|AuthorizerFunction/.test(id));
}
