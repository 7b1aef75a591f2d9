/**
 * The revocation table and its grants: on-demand, PITR, TTL, encryption, retained; the vending function may
 * only GetItem on it (and, with liveGroups, only ListUsers and AdminListGroupsForUser on the pool); nothing in the stack can
 * write it; an alarm on failed checks; the table name as an output and in the function's environment.
 */
import { Match, Template } from 'aws-cdk-lib/assertions';
import { App, Stack, aws_kms as kms } from 'aws-cdk-lib';
import { policyOf, validateConfig, type TvmConfig } from '../../config/schema';
import { TABLE_KEY_SCHEMA } from '../../dev/revocation';
import { REVOCATION_ATTRIBUTES } from '../../lambda/revocation';
import { TABLE_ATTRIBUTES } from '../../lib/revocation';
import { TokenVendingMachine } from '../../lib/token-vending-machine';
import { MODES, TEST_ENV, nagFindings, onlyResource, resourcesOf, synth } from './helpers';

type Statement = { Sid?: string; Action: string | string[]; Resource: unknown; Effect: string };
const actions = (st: Statement) => (Array.isArray(st.Action) ? st.Action : [st.Action]);
const allStatements = (s: ReturnType<typeof synth>): [string, Statement][] =>
  resourcesOf(s.template, 'AWS::IAM::Policy').flatMap(([id, p]) =>
    (p.Properties?.PolicyDocument as { Statement: Statement[] }).Statement.map((st) => [id, st] as [string, Statement]),
  );

const LIVE_GROUPS = { ...MODES.cognito, auth: { mode: 'cognito', liveGroups: { cacheSeconds: 5 } } } as TvmConfig;
const WITH_TABLE = [
  ['cognito', MODES.cognito],
  ['cognitoExisting', MODES.cognitoExisting],
  ['authorizer', MODES.authorizer],
  ['authorizerApiKeys', MODES.authorizerApiKeys],
  ['cognito + liveGroups', LIVE_GROUPS],
] as [string, TvmConfig][];

// DynamoDB actions that change data or the table (anything but reads).
const WRITES = /^dynamodb:(Put|Update|Delete|BatchWrite|TransactWrite|Import|Restore|Create|\*)|^dynamodb:\*$|^\*$/;

describe('Construct: RevocationTable', () => {
  it('on-demand, point-in-time recovery, TTL on expiresAt, AWS managed encryption, retained', () => {
    const s = synth(MODES.cognito);
    const [id, table] = onlyResource(s.template, 'AWS::DynamoDB::Table', 'Revocation');
    expect(table).toMatchObject({
      DeletionPolicy: 'RetainExceptOnCreate',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [{ AttributeName: 'principal', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'principal', AttributeType: 'S' }],
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        SSESpecification: { SSEEnabled: true },
      },
    });
    expect(table.Properties?.TableName).toBeUndefined(); // no fixed physical name
    s.template.hasOutput('RevocationTableName', { Value: { Ref: id } });
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ TVM_REVOCATION_TABLE: { Ref: id } }) },
    });
  });

  it('the table the stack creates is the table the code and the local table use', () => {
    expect(TABLE_ATTRIBUTES.principal).toBe(REVOCATION_ATTRIBUTES.principal);
    expect(TABLE_ATTRIBUTES.expiresAt).toBe(REVOCATION_ATTRIBUTES.expiresAt);
    const [, table] = onlyResource(synth(MODES.cognito).template, 'AWS::DynamoDB::Table', 'Revocation');
    expect(table.Properties?.KeySchema).toEqual(TABLE_KEY_SCHEMA.KeySchema);
    expect(table.Properties?.AttributeDefinitions).toEqual(TABLE_KEY_SCHEMA.AttributeDefinitions);
  });

  it('a customer managed key: the table uses it and the function may decrypt with it', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false });
    const stack = new Stack(app, 'KeyTest', { env: TEST_ENV });
    const key = new kms.Key(stack, 'TableKey', { enableKeyRotation: true });
    new TokenVendingMachine(stack, 'Tvm', { config: policyOf(validateConfig(MODES.cognito)), revocationTableKey: key });
    const template = Template.fromStack(stack);
    const [keyId] = onlyResource(template, 'AWS::KMS::Key', 'TableKey');
    expect(onlyResource(template, 'AWS::DynamoDB::Table', 'Revocation')[1].Properties?.SSESpecification).toEqual({
      SSEEnabled: true,
      SSEType: 'KMS',
      KMSMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] },
    });
    const kmsStatements = resourcesOf(template, 'AWS::IAM::Policy')
      .filter(([id]) => id.includes('VendingFunctionRole'))
      .flatMap(([, p]) => (p.Properties?.PolicyDocument as { Statement: Statement[] }).Statement)
      .filter((st) => actions(st).some((a) => a.startsWith('kms:')));
    expect(kmsStatements).toEqual([
      expect.objectContaining({ Action: 'kms:Decrypt', Resource: { 'Fn::GetAtt': [keyId, 'Arn'] } }),
    ]);
  });

  it('no table in open mode or with revocation.enabled false', () => {
    expect(
      resourcesOf(synth(MODES.open).template, 'AWS::DynamoDB::Table').filter(([id]) => id.includes('Revocation')),
    ).toEqual([]);
    expect(
      resourcesOf(synth({ ...MODES.cognito, revocation: { enabled: false } }).template, 'AWS::DynamoDB::Table').filter(
        ([id]) => id.includes('Revocation'),
      ),
    ).toEqual([]);
  });
});

describe('Construct: TokenVendingMachine — revocation least privilege', () => {
  it.each(WITH_TABLE)(
    '%s: the vending role may only read records (GetItem, BatchGetItem), on exactly the table',
    (_mode, config) => {
      const s = synth(config);
      const [tableId] = onlyResource(s.template, 'AWS::DynamoDB::Table', 'Revocation');
      const onTable = allStatements(s).filter(([, st]) => JSON.stringify(st.Resource).includes(tableId));
      expect(onTable).toEqual([
        [
          expect.stringMatching(/VendingFunctionRole/),
          {
            Sid: 'CheckRevocations',
            Effect: 'Allow',
            Action: ['dynamodb:BatchGetItem', 'dynamodb:GetItem'],
            Resource: { 'Fn::GetAtt': [tableId, 'Arn'] },
          },
        ],
      ]);
    },
  );

  it.each(WITH_TABLE)('%s: nothing in the stack can write the table', (_mode, config) => {
    const s = synth(config);
    const [tableId] = onlyResource(s.template, 'AWS::DynamoDB::Table', 'Revocation');
    // Only the token table (the fleet cache) is writable, and no statement reaches both.
    for (const [, st] of allStatements(s))
      if (JSON.stringify(st.Resource).includes(tableId) || st.Resource === '*')
        expect(actions(st).filter((a) => WRITES.test(a))).toEqual([]);
    // No resource policy on the table either.
    expect(
      onlyResource(s.template, 'AWS::DynamoDB::Table', 'Revocation')[1].Properties?.ResourcePolicy,
    ).toBeUndefined();
  });

  it('liveGroups: ListUsers (by sub) and AdminListGroupsForUser on the pool only, and the pool id in the environment', () => {
    const s = synth(LIVE_GROUPS);
    const [poolId] = onlyResource(s.template, 'AWS::Cognito::UserPool');
    const cog = allStatements(s).filter(([, st]) => actions(st).some((a) => a.startsWith('cognito-idp:')));
    expect(cog).toEqual([
      [
        expect.stringMatching(/VendingFunctionRole/),
        {
          Sid: 'ReadLiveGroups',
          Effect: 'Allow',
          Action: ['cognito-idp:AdminListGroupsForUser', 'cognito-idp:ListUsers'],
          Resource: { 'Fn::GetAtt': [poolId, 'Arn'] },
        },
      ],
    ]);
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ TVM_USER_POOL_ID: { Ref: poolId } }) },
    });
  });

  it('without liveGroups the function has no Cognito permission', () => {
    const cog = allStatements(synth(MODES.cognito)).filter(([, st]) =>
      actions(st).some((a) => a.startsWith('cognito-idp:')),
    );
    expect(cog).toEqual([]);
  });

  it('an alarm on failed revocation checks', () => {
    const s = synth(MODES.cognito);
    s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'RevocationCheckFailed',
      Namespace: 'MomentoTokenVendingMachine',
      Statistic: 'Sum',
      Threshold: 1,
      AlarmActions: [Match.anyValue()],
    });
    expect(s.stack.tvm.alarms.RevocationCheckAlarm).toBeDefined();
    expect(synth(MODES.open).stack.tvm.alarms.RevocationCheckAlarm).toBeUndefined();
  });

  it('cdk-nag: zero findings with liveGroups', () => {
    expect(nagFindings(synth(LIVE_GROUPS))).toEqual([]);
  });
});
