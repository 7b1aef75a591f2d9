/**
 * The token table (fleet cache + mint governor) and what watches the mint budget: the table's shape, the vending
 * function's grant (only its own item prefixes, never a delete), the budget alarm, the dashboard, the warning for a
 * shared tier that can publish, and the default stage throttle of the bare construct.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { DEFAULT_STAGE_THROTTLING } from '../../config/limits';
import { policyOf, validateConfig, type TvmConfig } from '../../config/schema';
import { FLEET_TABLE_KEY_SCHEMA } from '../../dev/fleet-table';
import { TOKEN_TABLE_ATTRIBUTES } from '../../lambda/fleet-tokens';
import { GOVERNOR_ITEM } from '../../lambda/mint-governor';
import { FLEET_KEY_PREFIXES, FLEET_TABLE_ATTRIBUTES } from '../../lib/fleet-table';
import { TokenVendingMachine } from '../../lib/token-vending-machine';
import { MODES, TEST_ENV, onlyResource, resourcesOf, synth } from './helpers';

type Statement = { Sid?: string; Action: string | string[]; Resource: unknown; Condition?: unknown };

describe('Construct: FleetTable', () => {
  it.each(Object.entries(MODES))('%s: a token table with pk, TTL on ttl, deleted with the stack', (_mode, config) => {
    const s = synth(config);
    const [id, table] = onlyResource(s.template, 'AWS::DynamoDB::Table', 'FleetTokens');
    expect(table).toMatchObject({
      DeletionPolicy: 'Delete',
      Properties: {
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: FLEET_TABLE_KEY_SCHEMA.KeySchema,
        AttributeDefinitions: FLEET_TABLE_KEY_SCHEMA.AttributeDefinitions,
        TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
        SSESpecification: { SSEEnabled: true },
      },
    });
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('mints'),
      Environment: { Variables: Match.objectLike({ TVM_FLEET_TABLE: { Ref: id } }) },
    });
  });

  it('the stack, the code and the local table agree on the attribute names and key prefixes', () => {
    expect(FLEET_TABLE_ATTRIBUTES).toEqual(TOKEN_TABLE_ATTRIBUTES);
    expect(FLEET_KEY_PREFIXES.some((p) => GOVERNOR_ITEM.startsWith(p))).toBe(true);
    expect(FLEET_KEY_PREFIXES).toContain('tok#');
  });

  it('grants the vending function reads and writes of its own item prefixes only: no delete, no scan', () => {
    const s = synth(MODES.cognito);
    const [tableId] = onlyResource(s.template, 'AWS::DynamoDB::Table', 'FleetTokens');
    const statements = resourcesOf(s.template, 'AWS::IAM::Policy')
      .flatMap(([, p]) => (p.Properties?.PolicyDocument as { Statement: Statement[] }).Statement)
      .filter((st) => JSON.stringify(st.Resource).includes(tableId));
    expect(statements).toEqual([
      {
        Sid: 'UseFleetTokenTable',
        Effect: 'Allow',
        Action: ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
        Resource: { 'Fn::GetAtt': [tableId, 'Arn'] },
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['tok#*', 'gov#*'] } },
      },
    ]);
  });
});

describe('Construct: TvmMonitoring — the mint budget', () => {
  it.each([
    [5, 300],
    [50, 3000],
  ])(
    'alarms at 80%% of a %i/s budget sustained for 15 minutes, saying what to ask Momento for',
    (budget, perMinute) => {
      const s = synth({ ...MODES.cognito, momento: { ...MODES.cognito.momento, mintsPerSecond: budget } });
      const [, alarm] = onlyResource(s.template, 'AWS::CloudWatch::Alarm', 'MintBudgetAlarm');
      expect(alarm.Properties).toMatchObject({
        Threshold: 0.8,
        EvaluationPeriods: 15,
        DatapointsToAlarm: 15,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
      expect(alarm.Properties!.AlarmDescription).toContain(`(${budget}/s)`);
      expect(alarm.Properties!.AlarmDescription).toContain("raise the account's auth-operations-per-second limit");
      const metrics = alarm.Properties!.Metrics as {
        Expression?: string;
        MetricStat?: { Metric: { MetricName: string }; Period: number };
      }[];
      expect(metrics.find((m) => m.Expression)?.Expression).toBe(`calls / ${perMinute}`);
      expect(metrics.find((m) => m.MetricStat)?.MetricStat).toMatchObject({
        Metric: { MetricName: 'MintCalls' },
        Period: 60,
      });
    },
  );

  it('puts budget use, refusals and the fleet cache on the dashboard', () => {
    const s = synth(MODES.cognito);
    const [, dashboard] = onlyResource(s.template, 'AWS::CloudWatch::Dashboard');
    const body = JSON.stringify(dashboard.Properties?.DashboardBody);
    for (const m of [
      'MintCalls',
      'MintBudgetExhausted',
      'StaleTokensServed',
      'FleetCacheHits',
      'FleetCacheMisses',
      'MintWait',
    ])
      expect(body).toContain(m);
  });
});

describe('Construct: TokenVendingMachine — shared tiers and throttling, used bare', () => {
  const bare = (config: TvmConfig) => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false });
    const stack = new Stack(app, 'Bare', { env: TEST_ENV });
    new TokenVendingMachine(stack, 'Tvm', { config: policyOf(validateConfig(config)) });
    return stack;
  };

  it('warns when a shared tier can publish, and not when it only subscribes', () => {
    const publishing = bare({
      ...MODES.cognito,
      tiers: [
        {
          name: 'crowd',
          groups: ['crowd'],
          shared: true,
          permissions: [{ type: 'topic', cache: 'app', role: 'publishsubscribe', topicPrefix: 'chat-' }],
        },
      ],
    });
    Annotations.fromStack(publishing).hasWarning('*', Match.stringLikeRegexp('Shared tier "crowd" can publish'));
    const quiet = bare({
      ...MODES.cognito,
      tiers: [
        {
          name: 'crowd',
          groups: ['crowd'],
          shared: true,
          permissions: [{ type: 'topic', cache: 'app', role: 'subscribeonly', topicPrefix: 'chat-' }],
        },
      ],
    });
    Annotations.fromStack(quiet).hasNoWarning('*', Match.stringLikeRegexp('can publish'));
  });

  it('throttles the stage at the default that lets a sign-in storm reach the governor (100/s, burst 200)', () => {
    Template.fromStack(bare(MODES.cognito)).hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: [Match.objectLike({ ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 })],
    });
    expect(DEFAULT_STAGE_THROTTLING).toEqual({ rateLimit: 100, burstLimit: 200 });
  });
});
