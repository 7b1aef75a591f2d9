/** Production hardening: WAF, alarms to an encrypted topic, dashboard. */
import { Match } from 'aws-cdk-lib/assertions';
import { Stack, aws_sns as sns } from 'aws-cdk-lib';
import { MODES, TEST_ENV, onlyResource, resourcesOf, synth } from './helpers';

type AlarmProps = {
  MetricName?: string;
  Namespace?: string;
  Dimensions?: { Name: string; Value: unknown }[];
  Threshold: number;
  Statistic?: string;
  AlarmActions: unknown[];
  OKActions: unknown[];
};
const alarms = (s: ReturnType<typeof synth>) =>
  resourcesOf(s.template, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties as unknown as AlarmProps);

describe('Construct: TokenVendingMachine — WAF', () => {
  const s = synth(MODES.waf);

  it('puts a regional web ACL with a per-IP rate rule and the AWS common rule set in front of the stage', () => {
    s.template.hasResourceProperties('AWS::WAFv2::WebACL', {
      Scope: 'REGIONAL',
      DefaultAction: { Allow: {} },
      Rules: [
        Match.objectLike({
          Name: 'RateLimitPerIp',
          Priority: 0,
          Action: { Block: {} },
          Statement: { RateBasedStatement: { Limit: 300, AggregateKeyType: 'IP', EvaluationWindowSec: 300 } },
        }),
        Match.objectLike({
          Name: 'AWSManagedRulesCommonRuleSet',
          OverrideAction: { None: {} },
          Statement: { ManagedRuleGroupStatement: { VendorName: 'AWS', Name: 'AWSManagedRulesCommonRuleSet' } },
        }),
      ],
    });
    const [webAclId] = onlyResource(s.template, 'AWS::WAFv2::WebACL');
    const [stageId] = onlyResource(s.template, 'AWS::ApiGateway::Stage');
    const [apiId] = onlyResource(s.template, 'AWS::ApiGateway::RestApi');
    s.template.hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
      WebACLArn: { 'Fn::GetAtt': [webAclId, 'Arn'] },
      ResourceArn: {
        'Fn::Join': ['', ['arn:aws:apigateway:us-west-2::/restapis/', { Ref: apiId }, '/stages/', { Ref: stageId }]],
      },
    });
  });

  it('omits the common rule set when managedCommonRules is false', () => {
    const only = synth({ ...MODES.waf, waf: { ratePer5MinPerIp: 1000, managedCommonRules: false } });
    only.template.hasResourceProperties('AWS::WAFv2::WebACL', {
      Rules: [
        Match.objectLike({
          Name: 'RateLimitPerIp',
          Statement: { RateBasedStatement: Match.objectLike({ Limit: 1000 }) },
        }),
      ],
    });
  });

  it('creates no web ACL unless configured', () => {
    const none = synth(MODES.cognito);
    none.template.resourceCountIs('AWS::WAFv2::WebACL', 0);
    none.template.resourceCountIs('AWS::WAFv2::WebACLAssociation', 0);
  });
});

describe('Construct: TokenVendingMachine — alarms', () => {
  const s = synth(MODES.waf);
  const [topicId] = onlyResource(s.template, 'AWS::SNS::Topic');

  it('alarms on API 5xx and 4xx rates, vending errors and throttles, Momento auth errors and token throttling', () => {
    const found = alarms(s);
    const by = (metric: string) => found.filter((a) => a.MetricName === metric);
    expect(found.map((a) => a.MetricName).sort()).toEqual(
      ['4XXError', '5XXError', 'Errors', 'MomentoErrors', 'Throttled', 'Throttles'].sort(),
    );
    expect(by('5XXError')[0]).toEqual(
      expect.objectContaining({ Namespace: 'AWS/ApiGateway', Statistic: 'Average', Threshold: 0.05 }),
    );
    expect(by('4XXError')[0]).toEqual(expect.objectContaining({ Statistic: 'Average', Threshold: 0.25 }));
    expect(by('Errors')[0]).toEqual(expect.objectContaining({ Namespace: 'AWS/Lambda', Threshold: 1 }));
  });

  it('watches the function’s Momento auth errors by service and kind in the Powertools namespace', () => {
    const [momento] = alarms(s).filter((a) => a.MetricName === 'MomentoErrors');
    expect(momento).toEqual(
      expect.objectContaining({
        Namespace: 'MomentoTokenVendingMachine',
        Statistic: 'Sum',
        Threshold: 1,
        Dimensions: expect.arrayContaining([
          { Name: 'service', Value: 'TestTvm' },
          { Name: 'kind', Value: 'auth' },
        ]),
      }),
    );
    expect(momento?.Dimensions).toHaveLength(2);
  });

  it('sends ALARM and OK of every alarm to the topic', () => {
    for (const a of alarms(s)) {
      expect(a.AlarmActions).toEqual([{ Ref: topicId }]);
      expect(a.OKActions).toEqual([{ Ref: topicId }]);
    }
  });

  it('encrypts the topic with a rotating customer managed key that CloudWatch may use, enforces TLS and subscribes the email', () => {
    const [keyId] = onlyResource(s.template, 'AWS::KMS::Key');
    s.template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] },
      TopicName: Match.absent(),
    });
    s.template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          }),
        ]),
      },
    });
    s.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    s.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: { Ref: topicId },
    });
    s.template.hasOutput('AlarmTopicArn', { Value: { Ref: topicId } });
  });

  it('subscribes nobody without alarmEmail', () => {
    synth(MODES.cognito).template.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  it('uses a topic passed in instead of creating one', () => {
    const s2 = synth(MODES.cognito, {
      tvm: { alarmTopic: sns.Topic.fromTopicArn(new Stack(), 'OpsTopic', 'arn:aws:sns:us-west-2:123456789012:ops') },
    });
    s2.template.resourceCountIs('AWS::SNS::Topic', 0);
    s2.template.resourceCountIs('AWS::KMS::Key', 0);
    for (const a of alarms(s2)) expect(a.AlarmActions).toEqual(['arn:aws:sns:us-west-2:123456789012:ops']);
  });
});

describe('Construct: TokenVendingMachine — dashboard', () => {
  it('graphs requests, latency, errors, tokens, Momento errors, function duration and cold starts', () => {
    const s = synth(MODES.authorizer);
    const [, dashboard] = onlyResource(s.template, 'AWS::CloudWatch::Dashboard');
    const body = JSON.stringify(dashboard?.Properties?.DashboardBody);
    for (const text of [
      'Requests',
      'API latency',
      'p99',
      '4xx / 5xx',
      'TokensIssued',
      'TokensReused',
      'MomentoErrors',
      'Vending function duration',
      'cold starts',
      '@initDuration',
      'Authorizer function duration',
      'Alarms',
    ]) {
      expect(body).toContain(text);
    }
    // Named after the TVM (the stack name in the standalone app) and the region: dashboards are global per account.
    expect(dashboard?.Properties?.DashboardName).toBe(`TestTvm-${TEST_ENV.region}`);
    s.template.hasOutput('DashboardUrl', Match.anyValue());
  });
});

describe('Construct: TokenVendingMachine — alarm topic key', () => {
  it('lets CloudWatch use the key only for alarms of this account', () => {
    const s = synth(MODES.cognito);
    s.template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: Match.objectLike({
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'AllowCloudWatchAlarmsToPublish',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': TEST_ENV.account } },
          }),
        ]),
      }),
    });
  });
});
