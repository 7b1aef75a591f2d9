/**
 * What a first `cdk deploy` would hit and no offline test ran into before: every region, a fresh account (no
 * API Gateway CloudWatch role), a failed first deploy, alarm delivery, reserved concurrency, self sign-up, and
 * the custom domain.
 */
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { RegionInfo } from 'aws-cdk-lib/region-info';
import type { TvmConfig } from '../../config/schema';
import { MODES, TEST_ENV, baseConfig, nagFindings, onlyResource, resourcesOf, synth } from './helpers';

const ALL_MODES = Object.entries(MODES) as [keyof typeof MODES, TvmConfig][];

/** The commercial regions, including the ones the secrets extension layer never covered. */
const COMMERCIAL_REGIONS = [
  ...new Set([
    'us-east-1',
    'us-east-2',
    'us-west-1',
    'us-west-2',
    'af-south-1',
    'ap-east-1',
    'ap-east-2',
    'ap-south-1',
    'ap-south-2',
    'ap-northeast-1',
    'ap-northeast-2',
    'ap-northeast-3',
    'ap-southeast-1',
    'ap-southeast-2',
    'ap-southeast-3',
    'ap-southeast-4',
    'ap-southeast-5',
    'ap-southeast-7',
    'ca-central-1',
    'ca-west-1',
    'eu-central-1',
    'eu-central-2',
    'eu-north-1',
    'eu-south-1',
    'eu-south-2',
    'eu-west-1',
    'eu-west-2',
    'eu-west-3',
    'il-central-1',
    'me-central-1',
    'me-south-1',
    'mx-central-1',
    'sa-east-1',
    // …and whatever else this aws-cdk-lib knows in the commercial partition.
    ...RegionInfo.regions.filter((r) => r.partition === 'aws').map((r) => r.name),
  ]),
];
const OTHER_PARTITIONS = ['us-gov-west-1', 'us-gov-east-1', 'cn-north-1', 'cn-northwest-1'];
const KNOWN_REGIONS = [...COMMERCIAL_REGIONS, ...OTHER_PARTITIONS];

/** A config that reaches every optional resource: authorizer with API keys, WAF, email, domain, concurrency. */
const everything = (region: string): TvmConfig => ({
  ...MODES.authorizerApiKeys,
  waf: { ratePer5MinPerIp: 300 },
  alarmEmail: 'ops@example.com',
  reservedConcurrency: 5,
  authorizerReservedConcurrency: 2,
  domain: {
    name: 'tvm.example.com',
    certificateArn: `arn:aws:acm:${region}:123456789012:certificate/12345678-1234-1234-1234-123456789012`,
    hostedZoneId: 'Z0123456789ABCDEFGHIJ',
  },
});

/** Region codes (of any partition) that appear in a template. */
const regionsIn = (json: string): string[] =>
  KNOWN_REGIONS.filter((r) => json.includes(`"${r}`) || json.includes(`${r}.`) || json.includes(`:${r}:`));

describe('Synth in every region', () => {
  it.each([...COMMERCIAL_REGIONS, ...OTHER_PARTITIONS])(
    '%s: synthesizes with no layer, no region mapping and no other region in the template',
    (region) => {
      const s = synth(everything(region), { env: { account: TEST_ENV.account, region } });
      const json = JSON.stringify(s.template.toJSON());
      expect(json).not.toContain('Fn::FindInMap');
      expect(s.template.toJSON().Mappings).toBeUndefined();
      expect(json).not.toMatch(/"Layers"|:layer:/);
      expect(regionsIn(json).filter((r) => r !== region)).toEqual([]);
      // ARNs the stack writes out are in the region's partition (aws, aws-us-gov, aws-cn); the config's own
      // example ARNs (certificate, built from the test's literal) are left out.
      const partition = RegionInfo.get(region).partition;
      const arnPartitions = [...json.matchAll(/"arn:([a-z-]+):(?!acm:)/g)].map((m) => m[1]);
      expect(arnPartitions.length).toBeGreaterThan(0);
      expect(new Set(arnPartitions)).toEqual(new Set([partition]));
    },
  );

  it('synthesizes a region-agnostic template with no region at all, no mapping, no layer, cdk-nag clean', () => {
    const s = synth({ ...MODES.authorizerApiKeys, waf: { ratePer5MinPerIp: 300 } }, { env: undefined });
    const json = JSON.stringify(s.template.toJSON());
    // One mapping only, keyed by partition (not region): the console host of DashboardUrl (lib/console-url.ts).
    expect(Object.keys(s.template.toJSON().Mappings ?? {})).toEqual(['ConsoleHosts']);
    expect([...json.matchAll(/"Fn::FindInMap":\["([A-Za-z]+)",\{"Ref":"AWS::Partition"\}/g)].map((m) => m[1])).toEqual([
      'ConsoleHosts',
    ]);
    expect(json.match(/Fn::FindInMap/g)).toHaveLength(1);
    expect(json).not.toMatch(/"Layers"|:layer:/);
    expect(regionsIn(json)).toEqual([]);
    expect(json).toContain('"Ref":"AWS::Region"');
    expect(nagFindings(s)).toEqual([]);
  });

  it('lists the regions the extension layer did not cover', () => {
    expect(COMMERCIAL_REGIONS).toEqual(
      expect.arrayContaining([
        'eu-central-2',
        'ap-southeast-5',
        'mx-central-1',
        'ca-west-1',
        'il-central-1',
        'ap-northeast-3',
        'me-central-1',
      ]),
    );
  });
});

describe('No layers', () => {
  it.each(ALL_MODES)('%s: no function has a layer or extension settings', (_mode, config) => {
    const s = synth(config);
    for (const [, fn] of resourcesOf(s.template, 'AWS::Lambda::Function')) {
      expect(fn.Properties?.Layers).toBeUndefined();
      expect(JSON.stringify(fn.Properties?.Environment ?? {})).not.toMatch(/PARAMETERS_SECRETS_EXTENSION/);
    }
    s.template.resourceCountIs('AWS::Lambda::LayerVersion', 0);
  });
});

describe('Fresh account: the API Gateway CloudWatch Logs role', () => {
  const s = synth(MODES.cognito);
  const [crId, cr] = onlyResource(s.template, 'Custom::ApiGatewayAccountCloudWatchRole');
  const ROLE = `arn:aws:iam::${TEST_ENV.account}:role/service-role/ApiGatewayCloudWatchLogs`;

  it('creates no IAM role in the template: the handler creates one only when the account has none', () => {
    expect(JSON.stringify(s.template.toJSON())).not.toMatch(/ApiGatewayAccountRoleLogsRole/);
    for (const [, r] of resourcesOf(s.template, 'AWS::IAM::Role'))
      expect(JSON.stringify(r.Properties?.AssumeRolePolicyDocument)).not.toContain('apigateway.amazonaws.com');
  });

  it('names the role to a custom resource that the stage depends on', () => {
    expect(cr.Properties?.RoleName).toBe('ApiGatewayCloudWatchLogs');
    const [, stage] = onlyResource(s.template, 'AWS::ApiGateway::Stage');
    expect((stage as { DependsOn?: string[] }).DependsOn).toEqual(expect.arrayContaining([crId]));
  });

  it('lets the handler patch only the account setting, create, attach only the push-to-logs policy to, and pass only that role', () => {
    const [, policy] = onlyResource(s.template, 'AWS::IAM::Policy', 'ApiGatewayAccountRoleHandlerRole');
    const statements = (policy.Properties?.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement;
    expect(statements).toEqual(
      expect.arrayContaining([
        {
          Sid: 'ReadAndSetApiGatewayAccount',
          Effect: 'Allow',
          Action: ['apigateway:GET', 'apigateway:PATCH'],
          Resource: `arn:aws:apigateway:${TEST_ENV.region}::/account`,
        },
        {
          Sid: 'CreateTheLogsRoleWhenNoneIsSet',
          Effect: 'Allow',
          Action: ['iam:CreateRole', 'iam:DeleteRole', 'iam:GetRole'],
          Resource: ROLE,
        },
        {
          Sid: 'AttachOnlyThePushToLogsPolicy',
          Effect: 'Allow',
          Action: ['iam:AttachRolePolicy', 'iam:DetachRolePolicy'],
          Resource: ROLE,
          Condition: {
            ArnEquals: { 'iam:PolicyARN': 'arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs' },
          },
        },
        {
          Sid: 'PassTheLogsRoleToApiGateway',
          Effect: 'Allow',
          Action: 'iam:PassRole',
          Resource: ROLE,
          Condition: { StringEquals: { 'iam:PassedToService': 'apigateway.amazonaws.com' } },
        },
      ]),
    );
    expect(statements).toHaveLength(5); // and its own log group
  });

  it('runs the handler on nodejs24.x arm64 with time for IAM to propagate', () => {
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('API Gateway account CloudWatch Logs role'),
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Timeout: 120,
    });
  });

  it('never writes AWS::ApiGateway::Account and never uses CDK’s cloudWatchRole (both overwrite)', () => {
    s.template.resourceCountIs('AWS::ApiGateway::Account', 0);
  });

  it('can be turned off when the role is managed elsewhere', () => {
    const off = synth(MODES.cognito, { tvm: { ensureApiGatewayLogsRole: false } });
    off.template.resourceCountIs('Custom::ApiGatewayAccountCloudWatchRole', 0);
    off.template.resourceCountIs('AWS::ApiGateway::Account', 0);
    expect(JSON.stringify(off.template.toJSON())).not.toContain('AmazonAPIGatewayPushToCloudWatchLogs');
  });
});

describe('A failed first deploy leaves nothing behind', () => {
  it.each(ALL_MODES)('%s: user pool and TVM log groups are RetainExceptOnCreate', (_mode, config) => {
    const s = synth(config);
    const resources = s.template.toJSON().Resources as Record<string, { Type: string; DeletionPolicy?: string }>;
    const retained = Object.entries(resources).filter(([, r]) =>
      ['AWS::Cognito::UserPool', 'AWS::Logs::LogGroup'].includes(r.Type),
    );
    expect(retained.length).toBeGreaterThan(0);
    for (const [id, r] of retained) {
      // The custom resource handler's own log group has nothing worth keeping.
      const expected = id.includes('ApiGatewayAccountRoleHandlerLogs') ? 'Delete' : 'RetainExceptOnCreate';
      expect([id, r.DeletionPolicy]).toEqual([id, expected]);
    }
    // Nothing is plainly retained (a failed create would leave it behind).
    const plainRetain = Object.entries(resources).filter(([, r]) => r.DeletionPolicy === 'Retain');
    expect(plainRetain.map(([id]) => id)).toEqual([]);
  });
});

describe('Alarm topic: CloudWatch may publish', () => {
  const s = synth(MODES.waf);
  const [topicId] = onlyResource(s.template, 'AWS::SNS::Topic');
  const alarmArn = `arn:aws:cloudwatch:${TEST_ENV.region}:${TEST_ENV.account}:alarm:*`;
  const conditions = {
    StringEquals: { 'aws:SourceAccount': TEST_ENV.account },
    ArnLike: { 'aws:SourceArn': alarmArn },
  };

  it('allows sns:Publish to cloudwatch.amazonaws.com for this account’s alarms, and keeps the TLS-only Deny', () => {
    const [, policy] = onlyResource(s.template, 'AWS::SNS::TopicPolicy');
    expect(policy.Properties?.Topics).toEqual([{ Ref: topicId }]);
    const statements = (policy.Properties?.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement;
    expect(statements).toEqual(
      expect.arrayContaining([
        {
          Sid: 'AllowCloudWatchAlarmsToPublish',
          Effect: 'Allow',
          Principal: { Service: 'cloudwatch.amazonaws.com' },
          Action: 'sns:Publish',
          Resource: { Ref: topicId },
          Condition: conditions,
        },
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      ]),
    );
    expect(statements).toHaveLength(2);
  });

  it('lets CloudWatch use the topic key with the same conditions, and nobody else but the account', () => {
    const [, key] = onlyResource(s.template, 'AWS::KMS::Key');
    const statements = (key.Properties?.KeyPolicy as { Statement: Record<string, unknown>[] }).Statement;
    expect(statements).toEqual([
      expect.objectContaining({ Principal: { AWS: `arn:aws:iam::${TEST_ENV.account}:root` } }),
      {
        Sid: 'AllowCloudWatchAlarmsToPublish',
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        Resource: '*',
        Condition: conditions,
      },
    ]);
  });
});

describe('Reserved concurrency', () => {
  it('applies reservedConcurrency to the vending function only, and authorizerReservedConcurrency to the authorizer', () => {
    const s = synth({ ...MODES.authorizer, reservedConcurrency: 7, authorizerReservedConcurrency: 3 });
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('mints'),
      ReservedConcurrentExecutions: 7,
    });
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('authorizer'),
      ReservedConcurrentExecutions: 3,
    });
  });

  it('leaves the authorizer unreserved when only reservedConcurrency is set', () => {
    const s = synth({ ...MODES.authorizer, reservedConcurrency: 7 });
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('authorizer'),
      ReservedConcurrentExecutions: Match.absent(),
    });
    const reserved = resourcesOf(s.template, 'AWS::Lambda::Function').filter(
      ([, fn]) => fn.Properties?.ReservedConcurrentExecutions !== undefined,
    );
    expect(reserved.map(([id]) => id)).toEqual([expect.stringMatching(/VendingFunction/)]);
  });

  it('warns at synth that reserving needs unreserved concurrency in the account', () => {
    const s = synth({ ...MODES.authorizer, reservedConcurrency: 7, authorizerReservedConcurrency: 3 });
    Annotations.fromStack(s.stack).hasWarning(
      '/TestTvm/TokenVendingMachine',
      Match.stringLikeRegexp('Reserved concurrency \\(vending 7, authorizer 3\\).*quota of 10'),
    );
    Annotations.fromStack(synth(MODES.authorizer).stack).hasNoWarning(
      '*',
      Match.stringLikeRegexp('Reserved concurrency'),
    );
  });

  it('refuses authorizerReservedConcurrency outside authorizer mode', () => {
    expect(() => synth({ ...MODES.cognito, authorizerReservedConcurrency: 2 })).toThrow(
      /authorizerReservedConcurrency: applies only to auth.mode "authorizer"/,
    );
  });
});

describe('Cognito self sign-up', () => {
  const writable = (config: TvmConfig): string[] => {
    const [, client] = onlyResource(synth(config).template, 'AWS::Cognito::UserPoolClient');
    return (client.Properties?.WriteAttributes ?? []) as string[];
  };
  const required = (config: TvmConfig): string[] => {
    const [, pool] = onlyResource(synth(config).template, 'AWS::Cognito::UserPool');
    return ((pool.Properties?.Schema ?? []) as { Name: string; Required?: boolean }[])
      .filter((a) => a.Required)
      .map((a) => a.Name);
  };
  const selfSignUp = baseConfig({ auth: { mode: 'cognito', selfSignUp: true, fallbackTier: 'reader' } });

  it('with selfSignUp, the app client may write every attribute the pool requires (email)', () => {
    expect(required(selfSignUp)).toEqual(['email']);
    expect(writable(selfSignUp)).toEqual(expect.arrayContaining(required(selfSignUp)));
    onlyResource(synth(selfSignUp).template, 'AWS::Cognito::UserPool');
    synth(selfSignUp).template.hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: false },
    });
    // Still nothing a tier could template, and no phone.
    expect(writable(selfSignUp).filter((a) => a.startsWith('custom:') || a === 'phone_number')).toEqual([]);
    expect(nagFindings(synth(selfSignUp))).toEqual([]);
  });

  it('without selfSignUp, users cannot write email, phone or custom attributes', () => {
    expect(
      writable(MODES.cognito).filter(
        (a) => a.startsWith('custom:') || ['email', 'phone_number', 'preferred_username'].includes(a),
      ),
    ).toEqual([]);
  });
});

describe('Custom domain', () => {
  const certificateArn = `arn:aws:acm:${TEST_ENV.region}:123456789012:certificate/12345678-1234-1234-1234-123456789012`;
  const withDomain = (hostedZoneId?: string) =>
    synth({ ...MODES.cognito, domain: { name: 'tvm.example.com', certificateArn, hostedZoneId } });

  it('creates a regional TLS 1.2 domain mapped at its root to the stage, and TokenUrl uses it', () => {
    const s = withDomain();
    const [domainId] = onlyResource(s.template, 'AWS::ApiGateway::DomainName');
    s.template.hasResourceProperties('AWS::ApiGateway::DomainName', {
      DomainName: 'tvm.example.com',
      RegionalCertificateArn: certificateArn,
      EndpointConfiguration: { Types: ['REGIONAL'] },
      SecurityPolicy: 'TLS_1_2',
    });
    s.template.hasResourceProperties('AWS::ApiGateway::BasePathMapping', {
      DomainName: { Ref: domainId },
      RestApiId: { Ref: Match.stringLikeRegexp('Api') },
      Stage: { Ref: Match.stringLikeRegexp('DeploymentStage') },
      BasePath: Match.absent(),
    });
    s.template.hasOutput('TokenUrl', { Value: 'https://tvm.example.com/token' });
    s.template.resourceCountIs('AWS::Route53::RecordSet', 0);
    // Without a hosted zone the operator points DNS: the outputs say where.
    s.template.hasOutput('DomainTarget', { Value: { 'Fn::GetAtt': [domainId, 'RegionalDomainName'] } });
    s.template.hasOutput('DomainTargetHostedZoneId', { Value: { 'Fn::GetAtt': [domainId, 'RegionalHostedZoneId'] } });
    expect(nagFindings(s)).toEqual([]);
  });

  it('adds an A alias record in the hosted zone when one is given', () => {
    const s = withDomain('Z0123456789ABCDEFGHIJ');
    const [domainId] = onlyResource(s.template, 'AWS::ApiGateway::DomainName');
    s.template.hasResourceProperties('AWS::Route53::RecordSet', {
      HostedZoneId: 'Z0123456789ABCDEFGHIJ',
      Name: 'tvm.example.com.',
      Type: 'A',
      AliasTarget: {
        DNSName: { 'Fn::GetAtt': [domainId, 'RegionalDomainName'] },
        HostedZoneId: { 'Fn::GetAtt': [domainId, 'RegionalHostedZoneId'] },
      },
    });
    expect(s.template.toJSON().Outputs.DomainTarget).toBeUndefined();
  });

  it('refuses a certificate from another region', () => {
    expect(() =>
      synth({
        ...MODES.cognito,
        domain: { name: 'tvm.example.com', certificateArn: certificateArn.replace(TEST_ENV.region, 'us-east-1') },
      }),
    ).toThrow(/certificateArn is in us-east-1, the stack in us-west-2/);
  });

  it('keeps the execute-api TokenUrl without a domain', () => {
    const s = synth(MODES.cognito);
    s.template.resourceCountIs('AWS::ApiGateway::DomainName', 0);
    expect(JSON.stringify(s.template.toJSON().Outputs.TokenUrl)).toContain('execute-api');
  });
});
