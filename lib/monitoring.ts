/**
 * Alarms (to an SNS topic) and a dashboard for the TVM: API errors and throttling, the vending function, and
 * the business metrics the function emits with Powertools (EMF) — `TokensIssued`, `TokensReused`, `Denied`,
 * `Throttled`, `MintLatency` with dimension `service`, and `MomentoErrors` with dimensions `service` + `kind`.
 */
import {
  ArnFormat,
  Duration,
  RemovalPolicy,
  Stack,
  aws_apigateway as apigw,
  aws_cloudwatch as cw,
  aws_cloudwatch_actions as cwActions,
  aws_iam as iam,
  aws_kms as kms,
  aws_lambda as lambda,
  aws_logs as logs,
  aws_sns as sns,
  aws_sns_subscriptions as subs,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';

/** Properties of {@link TvmMonitoring}. */
export interface TvmMonitoringProps {
  readonly api: apigw.RestApi;
  readonly vendingFunction: lambda.IFunction;
  /** The vending function's log group: cold starts are read from its REPORT lines. */
  readonly vendingLogGroup: logs.ILogGroup;
  /** @default - no authorizer widgets */
  readonly authorizerFunction?: lambda.IFunction;
  /** CloudWatch namespace of the function's EMF metrics (`POWERTOOLS_METRICS_NAMESPACE`). */
  readonly metricsNamespace: string;
  /** Value of the `service` dimension (`POWERTOOLS_SERVICE_NAME`); unique per stack so two stacks never share alarms. */
  readonly serviceName: string;
  /** @default - no subscription */
  readonly alarmEmail?: string;
  /** Topic the alarms notify. @default - a new topic encrypted with a new customer managed KMS key */
  readonly alarmTopic?: sns.ITopic;
  /** The function checks a revocation table: alarm when it cannot. @default false */
  readonly revocation?: boolean;
}

const FIVE_MINUTES = Duration.minutes(5);

/** Alarms, their topic and a dashboard for one TVM. */
export class TvmMonitoring extends Construct {
  /** Where every alarm sends its ALARM and OK notifications. */
  readonly alarmTopic: sns.ITopic;
  /** The key encrypting {@link alarmTopic}, when this construct created the topic. */
  readonly alarmTopicKey?: kms.IKey;
  /** The TVM's dashboard. */
  readonly dashboard: cw.Dashboard;
  /** Every alarm, by construct id. */
  readonly alarms: Readonly<Record<string, cw.Alarm>>;

  constructor(scope: Construct, id: string, props: TvmMonitoringProps) {
    super(scope, id);
    const { api, vendingFunction: fn, metricsNamespace: namespace, serviceName } = props;

    if (props.alarmTopic) {
      this.alarmTopic = props.alarmTopic;
    } else {
      // A customer managed key: CloudWatch alarms cannot publish to a topic encrypted with the AWS managed
      // key (alias/aws/sns) because its key policy cannot grant cloudwatch.amazonaws.com — notifications
      // would be dropped silently.
      const key = new kms.Key(this, 'AlarmTopicKey', {
        description: 'Encrypts the Momento TVM alarm topic',
        enableKeyRotation: true,
        // The key protects transient notifications only; nothing at rest outlives the stack.
        removalPolicy: RemovalPolicy.DESTROY,
        pendingWindow: Duration.days(7),
      });
      // Only this account's alarms in this region (confused-deputy guard), for the key and the topic alike.
      const stack = Stack.of(this);
      const fromThisAccountsAlarms = {
        StringEquals: { 'aws:SourceAccount': stack.account },
        ArnLike: {
          'aws:SourceArn': stack.formatArn({
            service: 'cloudwatch',
            resource: 'alarm',
            resourceName: '*',
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        },
      };
      const cloudWatch = new iam.ServicePrincipal('cloudwatch.amazonaws.com');
      key.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'AllowCloudWatchAlarmsToPublish',
          principals: [cloudWatch],
          actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          resources: ['*'],
          conditions: fromThisAccountsAlarms,
        }),
      );
      this.alarmTopicKey = key;
      const topic = new sns.Topic(this, 'AlarmTopic', {
        displayName: 'Momento TVM alarms',
        masterKey: key,
        enforceSSL: true,
      });
      // enforceSSL writes a topic policy, which replaces SNS's default one: without this statement nothing
      // may publish and every alarm notification would be dropped.
      topic.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'AllowCloudWatchAlarmsToPublish',
          principals: [cloudWatch],
          actions: ['sns:Publish'],
          resources: [topic.topicArn],
          conditions: fromThisAccountsAlarms,
        }),
      );
      this.alarmTopic = topic;
    }
    if (props.alarmEmail !== undefined) this.alarmTopic.addSubscription(new subs.EmailSubscription(props.alarmEmail));

    const emf = (metricName: string, statistic: string, dimensionsMap: Record<string, string> = {}) =>
      new cw.Metric({
        namespace,
        metricName,
        statistic,
        period: FIVE_MINUTES,
        dimensionsMap: { service: serviceName, ...dimensionsMap },
      });

    const action = new cwActions.SnsAction(this.alarmTopic);
    const alarms: Record<string, cw.Alarm> = {};
    const alarm = (alarmId: string, props: cw.AlarmProps): cw.Alarm => {
      const a = new cw.Alarm(this, alarmId, { treatMissingData: cw.TreatMissingData.NOT_BREACHING, ...props });
      a.addAlarmAction(action);
      a.addOkAction(action);
      alarms[alarmId] = a;
      return a;
    };

    // 5XXError and 4XXError are 0/1 per request, so their Average is the error rate.
    alarm('ApiServerErrorAlarm', {
      alarmDescription: 'More than 5% of token requests failed with a 5xx (API Gateway or the vending function).',
      metric: api.metricServerError({ statistic: cw.Stats.AVERAGE, period: FIVE_MINUTES }),
      threshold: 0.05,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
    });
    alarm('ApiClientErrorAlarm', {
      alarmDescription:
        'Over 25% of requests got a 4xx for 15 minutes: clients throttled (429), rejected credentials (401/403) or a broken front end.',
      metric: api.metricClientError({ statistic: cw.Stats.AVERAGE, period: FIVE_MINUTES }),
      threshold: 0.25,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 3,
    });
    alarm('VendingFunctionErrorAlarm', {
      alarmDescription: 'The vending function crashed or timed out (it answers every expected failure itself).',
      metric: fn.metricErrors({ statistic: cw.Stats.SUM, period: FIVE_MINUTES }),
      threshold: 1,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
    });
    alarm('VendingFunctionThrottleAlarm', {
      alarmDescription: 'The vending function was throttled (reserved or account concurrency exhausted).',
      metric: fn.metricThrottles({ statistic: cw.Stats.SUM, period: FIVE_MINUTES }),
      threshold: 1,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
    });
    alarm('MomentoAuthErrorAlarm', {
      alarmDescription:
        'Momento rejected the TVM’s own API key (PERMISSION_DENIED/UNAUTHENTICATED): the secret holds a wrong, expired or revoked key. Every request fails with 502.',
      metric: emf('MomentoErrors', cw.Stats.SUM, { kind: 'auth' }),
      threshold: 1,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
    });
    alarm('TokenThrottleAlarm', {
      alarmDescription:
        'Token requests were answered 429: Momento’s token rate limit was reached (consider the token cache or a limit raise).',
      metric: emf('Throttled', cw.Stats.SUM),
      threshold: 5,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
    });
    if (props.revocation) {
      alarm('RevocationCheckAlarm', {
        alarmDescription:
          'The revocation table could not be read: requests were refused with 503 revocation-check-failed (or, with revocation.failOpen, let through unchecked).',
        metric: emf('RevocationCheckFailed', cw.Stats.SUM),
        threshold: 1,
        comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
      });
    }
    this.alarms = alarms;

    // SEARCH finds every `kind` without hard-coding the list of Momento failure kinds here.
    const search = (label: string, query: string, stat: string) =>
      new cw.MathExpression({
        label,
        expression: `SEARCH('${query}', '${stat}', 300)`,
        usingMetrics: {},
        period: FIVE_MINUTES,
      });
    const latency = (m: (o: cw.MetricOptions) => cw.Metric, what: string) => [
      m({ statistic: 'p50', label: `${what} p50` }),
      m({ statistic: 'p99', label: `${what} p99` }),
    ];
    const fnOpts = (statistic: string, label: string): cw.MetricOptions => ({ statistic, label, period: FIVE_MINUTES });

    this.dashboard = new cw.Dashboard(this, 'Dashboard', { defaultInterval: Duration.hours(6) });
    this.dashboard.addWidgets(
      new cw.GraphWidget({
        title: 'Requests',
        left: [api.metricCount({ statistic: cw.Stats.SUM, label: 'requests' })],
        width: 8,
      }),
      new cw.GraphWidget({
        title: 'API latency (ms)',
        left: [
          ...latency((o) => api.metricLatency(o), 'latency'),
          ...latency((o) => api.metricIntegrationLatency(o), 'integration'),
        ],
        width: 8,
      }),
      new cw.GraphWidget({
        title: '4xx / 5xx',
        left: [
          api.metricClientError({ statistic: cw.Stats.SUM, label: '4xx' }),
          api.metricServerError({ statistic: cw.Stats.SUM, label: '5xx' }),
        ],
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new cw.GraphWidget({
        title: 'Tokens',
        left: ['TokensIssued', 'TokensReused', 'Denied', 'Throttled', 'Revoked'].map((m) =>
          emf(m, cw.Stats.SUM).with({ label: m }),
        ),
        width: 8,
      }),
      new cw.GraphWidget({
        title: 'Mint latency (ms)',
        left: [emf('MintLatency', 'p50').with({ label: 'p50' }), emf('MintLatency', 'p99').with({ label: 'p99' })],
        width: 8,
      }),
      new cw.GraphWidget({
        title: 'Momento errors by kind',
        left: [search('', `{${namespace},kind,service} MetricName="MomentoErrors" service="${serviceName}"`, 'Sum')],
        width: 8,
      }),
    );
    const fnWidgets = (f: lambda.IFunction, name: string, errorsLabel: string) => [
      new cw.GraphWidget({
        title: `${name} function duration (ms)`,
        left: [f.metricDuration(fnOpts('p50', 'p50')), f.metricDuration(fnOpts('p99', 'p99'))],
        width: 8,
      }),
      new cw.GraphWidget({
        title: `${name} function invocations`,
        left: [f.metricInvocations(fnOpts(cw.Stats.SUM, 'invocations'))],
        right: [
          f.metricErrors(fnOpts(cw.Stats.SUM, errorsLabel)),
          f.metricThrottles(fnOpts(cw.Stats.SUM, 'throttles')),
        ],
        width: 8,
      }),
    ];
    this.dashboard.addWidgets(
      ...fnWidgets(fn, 'Vending', 'errors'),
      // Lambda has no cold-start metric; its REPORT log line carries the init duration of each cold start.
      new cw.LogQueryWidget({
        title: 'Vending function cold starts',
        logGroupNames: [props.vendingLogGroup.logGroupName],
        queryLines: [
          'filter @type = "REPORT" and ispresent(@initDuration)',
          'stats count(*) as coldStarts, avg(@initDuration) as avgInitMs, max(@initDuration) as maxInitMs by bin(5m)',
        ],
        view: cw.LogQueryVisualizationType.LINE,
        width: 8,
      }),
    );
    if (props.authorizerFunction) {
      // A TOKEN authorizer fails closed by throwing "Unauthorized", which Lambda counts as an error.
      this.dashboard.addWidgets(...fnWidgets(props.authorizerFunction, 'Authorizer', 'errors (incl. denials)'));
    }
    this.dashboard.addWidgets(new cw.AlarmStatusWidget({ title: 'Alarms', alarms: Object.values(alarms), width: 24 }));
  }
}
