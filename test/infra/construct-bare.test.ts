/**
 * The construct used bare — in a plain Stack, with only its policy, not through the standalone TvmStack — and its
 * defaults. Every default of a deployment-setting prop is the config file's (config/schema.ts): the bare
 * construct must deploy exactly what a config file that leaves the setting out deploys, so changing a default on
 * one side alone (a `??` in the construct, or the schema) fails here.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { DEFAULT_METRICS_NAMESPACE } from '../../common/metrics';
import {
  AUTHORIZER_TIMEOUT_SECONDS,
  DEFAULT_LOG_LEVEL,
  DEFAULT_STAGE_THROTTLING,
  vendingTimeoutSeconds,
} from '../../config/limits';
import {
  DEPLOYMENT_PROP_NAMES,
  DEPLOYMENT_SETTING_PROPS,
  deploymentPropsOf,
  policyOf,
  validateConfig,
  type TvmConfig,
} from '../../config/schema';
import { TokenVendingMachine, type TokenVendingMachineProps } from '../../lib/token-vending-machine';
import { MODES, TEST_ENV, onlyResource, resourcesOf, synth, tvmFunctions } from './helpers';

/** A bare construct: a plain Stack holding nothing but it. */
function bare(config: TvmConfig, props: Omit<TokenVendingMachineProps, 'config'> = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false });
  const stack = new Stack(app, 'Bare', { env: TEST_ENV });
  const tvm = new TokenVendingMachine(stack, 'Tvm', { config: policyOf(validateConfig(config)), ...props });
  return { tvm, template: Template.fromStack(stack) };
}

const vendingOf = (template: Template) =>
  tvmFunctions(template).find(([, f]) => String(f.Properties?.Description).includes('mints'))![1].Properties!;
const stageOf = (template: Template) =>
  onlyResource(template, 'AWS::ApiGateway::Stage')[1].Properties as {
    StageName: string;
    TracingEnabled: boolean;
    MethodSettings: { ThrottlingRateLimit: number; ThrottlingBurstLimit: number }[];
  };

describe('Construct: TokenVendingMachine used bare — its defaults', () => {
  const { tvm, template } = bare(MODES.authorizer);
  const fileDefaults = validateConfig(MODES.authorizer); // the settings a config file leaves out, resolved

  it('stage: prod, the default throttle, no tracing — the config file’s defaults', () => {
    const stage = stageOf(template);
    expect(stage.StageName).toBe('prod');
    expect(stage.MethodSettings[0]).toMatchObject({
      ThrottlingRateLimit: DEFAULT_STAGE_THROTTLING.rateLimit,
      ThrottlingBurstLimit: DEFAULT_STAGE_THROTTLING.burstLimit,
    });
    expect({ ...stage.MethodSettings[0] }).toMatchObject({
      ThrottlingRateLimit: fileDefaults.throttling.rateLimit,
      ThrottlingBurstLimit: fileDefaults.throttling.burstLimit,
    });
    expect(stage.TracingEnabled).toBe(fileDefaults.tracing);
  });

  it('functions: 512 / 256 MB, the timeout of the budget, log level and namespace defaults, unreserved', () => {
    const vending = vendingOf(template);
    expect(vending.MemorySize).toBe(512);
    expect(vending.Timeout).toBe(vendingTimeoutSeconds(tvm.policy.momento.deadlineMs));
    expect(vending.ReservedConcurrentExecutions).toBeUndefined();
    expect(vending.TracingConfig).toBeUndefined();
    const env = (vending.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(env).toMatchObject({
      POWERTOOLS_LOG_LEVEL: DEFAULT_LOG_LEVEL,
      POWERTOOLS_METRICS_NAMESPACE: DEFAULT_METRICS_NAMESPACE,
      POWERTOOLS_SERVICE_NAME: tvm.serviceName,
    });
    expect(env.POWERTOOLS_LOG_LEVEL).toBe(fileDefaults.logLevel);
    expect(tvm.serviceName).toMatch(/^Bare-Tvm-[A-Za-z0-9]+$/);
    expect(tvm.authorizerFunction).toBeDefined();
    const authorizer = tvmFunctions(template).find(([, f]) => f.Properties !== vending)![1].Properties!;
    expect(authorizer.MemorySize).toBe(256);
    expect(authorizer.Timeout).toBe(AUTHORIZER_TIMEOUT_SECONDS);
  });

  it('no WAF, no alarm e-mail, no custom domain; the API Gateway logs role is ensured', () => {
    expect(tvm.waf).toBeUndefined();
    expect(resourcesOf(template, 'AWS::WAFv2::WebACL')).toHaveLength(0);
    expect(resourcesOf(template, 'AWS::SNS::Subscription')).toHaveLength(0);
    expect(tvm.domainName).toBeUndefined();
    expect(tvm.apiGatewayAccountRole).toBeDefined();
  });

  it('waf: {} takes the config file’s WAF defaults', () => {
    const withWaf = bare(MODES.authorizer, { waf: {} });
    const fileWaf = validateConfig({ ...MODES.authorizer, waf: {} }).waf!;
    const [, acl] = onlyResource(withWaf.template, 'AWS::WAFv2::WebACL');
    const rules = acl.Properties?.Rules as { Name: string; Statement: { RateBasedStatement?: { Limit: number } } }[];
    expect(rules.find((r) => r.Name === 'RateLimitPerIp')?.Statement.RateBasedStatement?.Limit).toBe(
      fileWaf.ratePer5MinPerIp,
    );
    expect(rules.some((r) => r.Name.includes('CommonRuleSet'))).toBe(fileWaf.managedCommonRules);
  });

  it('a partial throttle keeps the other default, as the config file does', () => {
    const stage = stageOf(bare(MODES.authorizer, { throttling: { rateLimit: 7 } }).template);
    const file = validateConfig({ ...MODES.authorizer, throttling: { rateLimit: 7 } }).throttling;
    expect(stage.MethodSettings[0]).toMatchObject({
      ThrottlingRateLimit: file.rateLimit,
      ThrottlingBurstLimit: file.burstLimit,
    });
  });
});

describe('Rule: deployment settings are props, validated by the settings’ schema', () => {
  it('every setting but env maps to a prop, and propsOf passes each one', () => {
    const props = Object.entries(DEPLOYMENT_SETTING_PROPS).filter(([s]) => s !== 'env');
    expect(props.map(([, p]) => p).sort()).toEqual([...DEPLOYMENT_PROP_NAMES].sort());
    const config = validateConfig({
      ...MODES.authorizer,
      throttling: { rateLimit: 3, burstLimit: 4 },
      waf: { ratePer5MinPerIp: 100, managedCommonRules: false },
      reservedConcurrency: 2,
      authorizerReservedConcurrency: 3,
      domain: { name: 'tvm.example.com', certificateArn: 'arn:aws:acm:us-west-2:123456789012:certificate/abc' },
      alarmEmail: 'ops@example.com',
      logLevel: 'WARN',
      tracing: true,
    });
    const given = deploymentPropsOf(config);
    for (const [setting, prop] of props)
      expect(given[prop as keyof typeof given]).toEqual(config[setting as keyof typeof config]);
  });

  it('the standalone stack and the bare construct deploy the same settings', () => {
    const settings: Partial<TvmConfig> = {
      throttling: { rateLimit: 3, burstLimit: 4 },
      waf: { ratePer5MinPerIp: 100 },
      logLevel: 'WARN',
      tracing: true,
    };
    const viaStack = synth({ ...MODES.authorizer, ...settings }).template;
    const direct = bare(MODES.authorizer, deploymentPropsOf(validateConfig({ ...MODES.authorizer, ...settings })));
    expect(stageOf(direct.template).MethodSettings).toEqual(stageOf(viaStack).MethodSettings);
    // The rules, without their metric names (prefixed with each one's service name).
    const rules = (t: Template) =>
      JSON.stringify(resourcesOf(t, 'AWS::WAFv2::WebACL')[0]?.[1].Properties?.Rules).replace(
        /"MetricName":"[^"]*"/g,
        '',
      );
    expect(rules(direct.template)).toEqual(rules(viaStack));
    expect((vendingOf(direct.template).Environment as { Variables: object }).Variables).toMatchObject({
      POWERTOOLS_LOG_LEVEL: 'WARN',
    });
  });
});
