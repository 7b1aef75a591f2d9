/** Construct props checked once, all at once; the operator's config file loaded and validated as bin/ does. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack, aws_apigateway as apigw, aws_cognito as cognito, RemovalPolicy } from 'aws-cdk-lib';
import { ConfigError, policyOf, validateConfig } from '../../config/schema';
import { DEFAULT_CONFIG_FILE, loadConfigFile } from '../../lib/load-config';
import { TokenVendingMachine } from '../../lib/token-vending-machine';
import { MODES } from './helpers';

const ROOT = path.resolve(__dirname, '..', '..');

describe('Construct: TokenVendingMachine — props', () => {
  const build = (config: typeof MODES.open, props: object) => {
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'S');
    return () =>
      new TokenVendingMachine(stack, 'TokenVendingMachine', { config: policyOf(validateConfig(config)), ...props });
  };

  it('collects every incompatible prop and throws once, naming each', () => {
    const err = (() => {
      try {
        build(MODES.open, {
          endpointType: apigw.EndpointType.PRIVATE,
          userPoolFeaturePlan: cognito.FeaturePlan.PLUS,
          userPoolRemovalPolicy: RemovalPolicy.DESTROY,
          authorizerMemorySize: 64,
          vendingMemorySize: 100.5,
          stageName: 'prod stage',
          authorizerReservedConcurrency: 2,
          vendingReservedConcurrency: 0,
          throttling: { rateLimit: 0, burstLimit: 2.5 },
          waf: { ratePer5MinPerIp: 5 },
          alarmEmail: 'ops',
          domain: { name: 'TVM.example.com', certificateArn: 'arn:aws:acm:us-west-2:123456789012:certificate/abc' },
          userPoolClients: [],
        })();
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    expect(err?.message).toMatch(/^Invalid TokenVendingMachine props:/);
    for (const fragment of [
      'endpointType PRIVATE',
      'userPoolFeaturePlan applies only',
      'userPoolRemovalPolicy applies only',
      'authorizerMemorySize applies only',
      'authorizerMemorySize: Too small',
      'vendingMemorySize: Invalid input: expected int',
      'stageName: may',
      'authorizerReservedConcurrency applies only',
      'vendingReservedConcurrency: Too small',
      'throttling.rateLimit: Too small',
      'throttling.burstLimit: Invalid input: expected int',
      'waf.ratePer5MinPerIp: Too small',
      'alarmEmail: must be',
      'domain.name: must be',
      'userPoolClients applies only with userPool',
    ]) {
      expect(err?.message).toContain(fragment);
    }
  });

  it('accepts the pool props when it creates the pool', () => {
    expect(
      build(MODES.cognito, {
        userPoolFeaturePlan: cognito.FeaturePlan.PLUS,
        userPoolRemovalPolicy: RemovalPolicy.DESTROY,
      }),
    ).not.toThrow();
  });

  it('re-validates the config it is given', () => {
    const broken = {
      ...policyOf(validateConfig(MODES.cognito)),
      token: { defaultTtlSeconds: 7200, maxTtlSeconds: 3600 },
    };
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'S');
    expect(() => new TokenVendingMachine(stack, 'TokenVendingMachine', { config: broken })).toThrow(ConfigError);
  });

  it('reports an invalid policy and invalid props in one ConfigError, policy first', () => {
    // Prepare
    const broken = {
      ...policyOf(validateConfig(MODES.open)),
      token: { defaultTtlSeconds: 7200, maxTtlSeconds: 3600 },
    };
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'S');

    // Act
    let err: unknown;
    try {
      new TokenVendingMachine(stack, 'TokenVendingMachine', {
        config: broken,
        stageName: 'prod stage',
        alarmEmail: 'ops',
      });
    } catch (e) {
      err = e;
    }

    // Assess
    expect(err).toBeInstanceOf(ConfigError);
    const { message, problems } = err as ConfigError;
    expect(message).toMatch(
      /^Invalid TVM configuration \(1 problem\):\n {2}- token\.defaultTtlSeconds: [^\n]+\nInvalid TokenVendingMachine props:\n {2}- alarmEmail: must be[^\n]+\n {2}- stageName: may/,
    );
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/^token\.defaultTtlSeconds: /);
    expect(problems.slice(1)).toEqual([
      'alarmEmail: must be an email address',
      'stageName: may contain only letters, digits and _',
    ]);
  });

  it('refuses deployment settings in the policy, naming the prop to use', () => {
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'S');
    const config = { ...policyOf(validateConfig(MODES.cognito)), waf: {}, reservedConcurrency: 2, tracing: true };
    expect(() => new TokenVendingMachine(stack, 'TokenVendingMachine', { config })).toThrow(
      /waf: is a deployment setting, not policy: give it as the TokenVendingMachine prop waf[\s\S]*reservedConcurrency: .* prop vendingReservedConcurrency[\s\S]*tracing: .* prop tracing/,
    );
  });

  it('refuses CDK tokens in the policy (it is written into the functions at synth)', () => {
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'S');
    const pool = new cognito.UserPool(stack, 'Pool');
    const policy = policyOf(validateConfig(MODES.cognito));
    const config = {
      ...policy,
      auth: { mode: 'cognito' as const, existingUserPool: { userPoolId: pool.userPoolId, clientIds: ['c'] } },
    };
    expect(() => new TokenVendingMachine(stack, 'TokenVendingMachine', { config })).toThrow(
      /must hold literal values[\s\S]*userPool prop/,
    );
  });

  it('takes a user pool of the app with its clients, and refuses one in another mode', () => {
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'S');
    const pool = new cognito.UserPool(stack, 'Pool');
    const client = pool.addClient('Web');
    const tvm = new TokenVendingMachine(stack, 'Tvm', {
      config: policyOf(validateConfig(MODES.cognito)),
      userPool: pool,
      userPoolClients: [client],
    });
    expect(tvm.userPool).toBe(pool);
    expect(tvm.userPoolClient).toBeUndefined();
    expect(tvm.userPoolClientIds).toEqual([client.userPoolClientId]);
    expect(
      () => new TokenVendingMachine(stack, 'Open', { config: policyOf(validateConfig(MODES.open)), userPool: pool }),
    ).toThrow(/userPool applies only to auth.mode "cognito"[\s\S]*userPool needs userPoolClients/);
  });
});

describe('Function: loadConfigFile', () => {
  it.each([DEFAULT_CONFIG_FILE, 'config/examples/open.config.ts', 'config/examples/authorizer.config.ts'])(
    'loads and validates %s',
    (file) => {
      const config = loadConfigFile(file, ROOT);
      expect(config.tiers.length).toBeGreaterThan(0);
      expect(config.throttling).toEqual(expect.objectContaining({ rateLimit: expect.any(Number) }));
    },
  );

  it('reports a missing file as a config problem', () => {
    expect(() => loadConfigFile('config/nope.config.ts', ROOT)).toThrow(
      /config file not found: config\/nope\.config\.ts/,
    );
  });

  it('reports every problem of a bad file at once', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tvm-config-'));
    const file = path.join(dir, 'bad.config.ts');
    fs.writeFileSync(file, "export default { auth: { mode: 'open' }, tiers: [], cors: { allowOrigins: ['*'] } };\n");
    try {
      loadConfigFile(file);
      throw new Error('expected a ConfigError');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const problems = (e as ConfigError).problems.join('\n');
      expect(problems).toMatch(/allowUnauthenticated/);
      expect(problems).toMatch(/momento: is required/);
      expect(problems).toMatch(/tiers: configure at least one tier/);
      expect(problems).toMatch(/"\*" would let any site/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports a file without a default export', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tvm-config-'));
    const file = path.join(dir, 'named.config.ts');
    fs.writeFileSync(file, 'export const config = {};\n');
    try {
      expect(() => loadConfigFile(file)).toThrow(/has no default export/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
