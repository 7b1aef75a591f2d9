/**
 * Issue 17 items 1–9: what a failed first deploy, a destroy and a replacement leave behind, and what synthesizes
 * where.
 */
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { validateConfig } from '../../config/schema';
import { createUserPool } from '../../lib/auth';
import { MAX_METRIC_NAME_LENGTH, metricName } from '../../lib/web-acl';
import { MODES, TEST_ENV, baseConfig, nagFindings, resourcesOf, synth } from './helpers';

describe('User pool: a failed first create rolls back, a deployed pool is kept', () => {
  const { template } = synth(MODES.cognito);

  it('has deletion protection off, so rollback of a failed create can delete the pool', () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', { DeletionProtection: 'INACTIVE' });
  });

  it('is RetainExceptOnCreate: destroy and replacement keep it (CloudFormation never calls DeleteUserPool)', () => {
    template.hasResource('AWS::Cognito::UserPool', {
      DeletionPolicy: 'RetainExceptOnCreate',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('keeps the app client and every group with the pool (sign-in and tier memberships survive)', () => {
    for (const type of ['AWS::Cognito::UserPoolClient', 'AWS::Cognito::UserPoolGroup']) {
      const resources = Object.values(template.findResources(type));
      expect(resources.length).toBeGreaterThan(0);
      for (const r of resources) expect(r).toMatchObject({ DeletionPolicy: 'RetainExceptOnCreate' });
    }
  });

  it('a consumer-chosen removal policy applies to pool, client and groups alike', () => {
    const stack = new Stack(new App(), 'Pool', { env: TEST_ENV });
    const config = validateConfig(MODES.cognito);
    if (config.auth.mode !== 'cognito') throw new Error('cognito config expected');
    createUserPool(stack, config.auth, config.tiers, { removalPolicy: RemovalPolicy.DESTROY });
    const t = Template.fromStack(stack);
    for (const type of ['AWS::Cognito::UserPool', 'AWS::Cognito::UserPoolClient', 'AWS::Cognito::UserPoolGroup']) {
      const resources = Object.values(t.findResources(type));
      expect(resources.length).toBeGreaterThan(0);
      for (const r of resources) expect(r).toMatchObject({ DeletionPolicy: 'Delete' });
    }
  });
});

describe('Execution logs: owned by the stack, with retention', () => {
  const { template } = synth(MODES.cognito);

  it('creates API-Gateway-Execution-Logs_{restApiId}/{stage} with a retention, kept like the access logs', () => {
    const groups = resourcesOf(template, 'AWS::Logs::LogGroup').filter(([, r]) =>
      JSON.stringify(r.Properties?.LogGroupName ?? '').includes('API-Gateway-Execution-Logs_'),
    );
    expect(groups).toHaveLength(1);
    const [id, group] = groups[0]!;
    expect(group.Properties?.RetentionInDays).toEqual(expect.any(Number));
    expect(group.Properties?.LogGroupName).toEqual({
      'Fn::Join': ['', ['API-Gateway-Execution-Logs_', { Ref: expect.stringMatching(/Api[0-9A-F]{8}$/) }, '/prod']],
    });
    template.hasResource('AWS::Logs::LogGroup', {
      DeletionPolicy: 'RetainExceptOnCreate',
      Properties: group.Properties,
    });
    // The stage is created after the group, so API Gateway never creates its own.
    template.hasResource('AWS::ApiGateway::Stage', { DependsOn: Match.arrayWith([id]) });
  });
});

describe('Account-role custom resource', () => {
  it('fails after a ServiceTimeout of 300 s instead of hanging for an hour', () => {
    synth(MODES.cognito).template.hasResourceProperties('Custom::ApiGatewayAccountCloudWatchRole', {
      ServiceTimeout: '300',
    });
  });
});

describe('WAF metric names', () => {
  it('stay within 128 characters with a long stack name, keep the rule name, and differ per prefix', () => {
    const a = metricName('x'.repeat(200), 'RateLimitPerIp');
    const b = metricName(`${'x'.repeat(199)}y`, 'RateLimitPerIp');
    expect(a).toHaveLength(MAX_METRIC_NAME_LENGTH);
    expect(a.endsWith('-RateLimitPerIp')).toBe(true);
    expect(a).not.toBe(b);
    expect(metricName('short', 'WebAcl')).toBe('short-WebAcl');
  });

  it('synthesizes a web ACL for a 128-character stack name with every metric name ≤ 128', () => {
    const s = synth(MODES.waf, { stackName: `Tvm-${'a'.repeat(124)}` });
    const [[, acl]] = resourcesOf(s.template, 'AWS::WAFv2::WebACL') as [
      [string, { Properties: Record<string, never> }],
    ];
    const names = JSON.stringify(acl.Properties).match(/"MetricName":"[^"]*"/g) ?? [];
    expect(names.length).toBeGreaterThanOrEqual(3);
    for (const n of names) expect(n.length - '"MetricName":""'.length).toBeLessThanOrEqual(128);
  });
});

describe('Cognito mode and the China regions', () => {
  it.each(['cn-north-1', 'cn-northwest-1'])('refuses cognito mode at synth in %s, with a clear message', (region) => {
    expect(() => synth(MODES.cognito, { env: { account: '123456789012', region } })).toThrow(
      /auth.mode "cognito" is not available in cn-.*no Cognito user pools/,
    );
    expect(() => synth(MODES.cognitoExisting, { env: { account: '123456789012', region } })).toThrow(/cognito/);
  });

  it('still synthesizes authorizer mode in China', () => {
    expect(() => synth(MODES.authorizer, { env: { account: '123456789012', region: 'cn-north-1' } })).not.toThrow();
  });

  it('a region-agnostic cognito template carries a rule that refuses the aws-cn partition', () => {
    const { template } = synth(MODES.cognito, { env: undefined });
    expect(template.toJSON().Rules).toMatchObject({
      CognitoAvailable: {
        Assertions: [
          {
            Assert: { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'AWS::Partition' }, 'aws-cn'] }] },
            AssertDescription: expect.stringMatching(/China/),
          },
        ],
      },
    });
  });

  it('adds no rule when the region is known', () => {
    expect(synth(MODES.cognito).template.toJSON().Rules?.CognitoAvailable).toBeUndefined();
  });
});

describe('cdk-nag stays clean with the changes', () => {
  it.each(['cognito', 'waf'] as const)('%s', (mode) => {
    expect(nagFindings(synth(mode === 'waf' ? MODES.waf : baseConfig({ auth: { mode: 'cognito' } })))).toEqual([]);
  });
});

describe('DashboardUrl: the console host of the partition', () => {
  const urlIn = (env?: { account: string; region: string }) => {
    const s = synth(MODES.authorizer, { env });
    return { value: s.template.toJSON().Outputs.DashboardUrl.Value as unknown, mappings: s.template.toJSON().Mappings };
  };

  it.each([
    ['us-west-2', 'https://console.aws.amazon.com/cloudwatch/home?region=us-west-2#dashboards:name='],
    ['cn-north-1', 'https://console.amazonaws.cn/cloudwatch/home?region=cn-north-1#dashboards:name='],
    ['us-gov-west-1', 'https://console.amazonaws-us-gov.com/cloudwatch/home?region=us-gov-west-1#dashboards:name='],
  ])('%s: a literal URL on its partition’s console host', (region, prefix) => {
    const { value, mappings } = urlIn({ account: '123456789012', region });
    expect(JSON.stringify(value)).toContain(prefix);
    expect(mappings?.ConsoleHosts).toBeUndefined();
  });

  it('a region-agnostic stack looks the host up by AWS::Partition', () => {
    const { value, mappings } = urlIn(undefined);
    expect(mappings.ConsoleHosts).toEqual({
      aws: { Host: 'console.aws.amazon.com' },
      'aws-cn': { Host: 'console.amazonaws.cn' },
      'aws-us-gov': { Host: 'console.amazonaws-us-gov.com' },
    });
    expect(JSON.stringify(value)).toContain(
      '"https://",{"Fn::FindInMap":["ConsoleHosts",{"Ref":"AWS::Partition"},"Host"]},"/cloudwatch/home?region=",{"Ref":"AWS::Region"}',
    );
  });
});
