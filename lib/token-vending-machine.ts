/**
 * `TokenVendingMachine`: the L3 construct. A REST API (`GET /token` + CORS preflight) in front of the vending
 * function, authenticated per the policy's `auth.mode` (open, Cognito user pool, or a Lambda TOKEN authorizer for
 * any OIDC issuer), with the Momento key in Secrets Manager, access logs, throttling, optional WAF, alarms and a
 * dashboard. Its parts: lib/secrets.ts, lib/functions.ts (+ lib/function-code.ts), lib/auth.ts, lib/api.ts,
 * lib/web-acl.ts, lib/monitoring.ts; props and their validation: lib/props.ts.
 */
import {
  Annotations,
  Duration,
  Names,
  Stack,
  Token,
  aws_apigateway as apigw,
  aws_cloudwatch as cw,
  aws_cognito as cognito,
  aws_dynamodb as dynamodb,
  aws_iam as iam,
  aws_kms as kms,
  aws_lambda as lambda,
  aws_logs as logs,
  aws_secretsmanager as sm,
  aws_sns as sns,
  aws_wafv2 as wafv2,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { ResolvedPolicy } from '../config/schema';
import { AUTHORIZER_TIMEOUT_SECONDS, vendingTimeoutSeconds } from '../config/limits';
import { FleetTable } from './fleet-table';
import { createApi } from './api';
import type { ApiGatewayAccountRole } from './api-gateway-account-role';
import { createUserPool, importUserPool, tokenAuthorizer, userPoolAuthorizer } from './auth';
import { createTvmFunction } from './functions';
import { TvmMonitoring } from './monitoring';
import { validateProps, type TokenVendingMachineProps } from './props';
import { addRevocation } from './revocation';
import { allowGetSecretValue, bindSecret, type SecretBinding } from './secrets';
import { TvmWebAcl } from './web-acl';

export { AUTHORIZATION_VALIDATION_REGEX } from './auth';
export { vendingTimeoutSeconds } from '../config/limits';
export type * from './props';

/**
 * A serverless Momento token vending machine: `GET /token` answers a short-lived, least-privilege Momento
 * disposable token for the verified caller's tier.
 *
 * @example
 * const tvm = new TokenVendingMachine(this, 'Tvm', {
 *   config: { auth: { mode: 'cognito' }, tiers, cors: { allowOrigins: ['https://app.example.com'] }, momento },
 *   userPool, userPoolClients: [webClient], alarmEmail: 'ops@example.com',
 * });
 * new CfnOutput(this, 'TokenUrl', { value: tvm.tokenUrl });
 */
export class TokenVendingMachine extends Construct {
  /** The validated policy the functions run with (written into their code assets). */
  readonly policy: ResolvedPolicy;
  /** This TVM's name: `POWERTOOLS_SERVICE_NAME`, and the prefix of its API, WAF metric and dashboard names. */
  readonly serviceName: string;
  /** The REST API. */
  readonly api: apigw.RestApi;
  /** The API's access-log group. */
  readonly accessLogGroup: logs.LogGroup;
  /** `GET /token`. */
  readonly tokenMethod: apigw.Method;
  /** `https://…/<stage>/token`, or `https://<domain>/token`. */
  readonly tokenUrl: string;
  /** The function that mints tokens. */
  readonly vendingFunction: lambda.Function;
  /** Its execution role. */
  readonly vendingRole: iam.Role;
  /** Its log group (the issuance audit trail). */
  readonly vendingLogGroup: logs.LogGroup;
  /** The Lambda TOKEN authorizer's function (authorizer mode). */
  readonly authorizerFunction?: lambda.Function;
  /** Its execution role (authorizer mode). */
  readonly authorizerRole?: iam.Role;
  /** Its log group (authorizer mode). */
  readonly authorizerLogGroup?: logs.LogGroup;
  /** The API Gateway authorizer guarding `GET /token` (cognito and authorizer modes). */
  readonly authorizer?: apigw.IAuthorizer;
  /** The user pool (cognito mode): created, imported from `auth.existingUserPool`, or the `userPool` prop. */
  readonly userPool?: cognito.IUserPool;
  /** The SPA app client of a user pool the construct created. */
  readonly userPoolClient?: cognito.UserPoolClient;
  /** App client ids whose ID tokens are meant for this API (cognito mode). */
  readonly userPoolClientIds?: readonly string[];
  /** The secret holding the Momento API key. */
  readonly secret: sm.ISecret;
  /** The secret holding the authorizer's API keys (authorizer mode with `auth.apiKeys`). */
  readonly apiKeysSecret?: sm.ISecret;
  /** Alarms, their topic (and its key) and the dashboard. */
  readonly monitoring: TvmMonitoring;
  /** The topic every alarm notifies. */
  readonly alarmTopic: sns.ITopic;
  /** The key encrypting {@link alarmTopic}, when the construct created the topic. */
  readonly alarmTopicKey?: kms.IKey;
  /** Every alarm, by construct id. */
  readonly alarms: Readonly<Record<string, cw.Alarm>>;
  /** The CloudWatch dashboard. */
  readonly dashboard: cw.Dashboard;
  /** The WAF web ACL on the stage (with the `waf` prop). */
  readonly webAcl?: wafv2.CfnWebACL;
  /** The web ACL construct with its stage association (with the `waf` prop). */
  readonly waf?: TvmWebAcl;
  /** Sets the account's API Gateway CloudWatch Logs role if none is set (unless `ensureApiGatewayLogsRole` is false). */
  readonly apiGatewayAccountRole?: ApiGatewayAccountRole;
  /** The custom domain (with the `domain` prop). */
  readonly domainName?: apigw.DomainName;
  /** The revocation table (`revocation.enabled` of the policy, cognito and authorizer modes). */
  readonly revocationTable?: dynamodb.ITable;
  /** The token table: the fleet-wide token cache and the mint governor's queue. */
  readonly fleetTable: dynamodb.ITable;

  constructor(scope: Construct, id: string, props: TokenVendingMachineProps) {
    super(scope, id);
    // The policy is written into the functions' code at synth: it must be literal values, not CDK tokens.
    if (Token.isUnresolved(JSON.stringify(props.config)))
      throw new Error(
        'TokenVendingMachine config must hold literal values (it is written into the functions at synth), not CDK tokens: give a user pool of this app with the userPool prop, and a secret by its complete ARN string or name.',
      );
    // Every plain-value prop comes back validated, with its default (lib/props.ts, config/schema.ts).
    const { policy, settings } = validateProps(props);
    this.policy = policy;
    const { auth } = policy;
    const stack = Stack.of(this);
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    const { tracing, metricsNamespace } = settings;
    this.serviceName = settings.serviceName ?? Names.uniqueResourceName(this, { maxLength: 64, separator: '-' });
    const powertools = {
      POWERTOOLS_SERVICE_NAME: this.serviceName,
      POWERTOOLS_METRICS_NAMESPACE: metricsNamespace,
      POWERTOOLS_LOG_LEVEL: settings.logLevel,
    };

    // ── Momento API key ────────────────────────────────────────────────────────────────────────────────
    const momentoSecret = bindSecret(
      this,
      'MomentoApiKey',
      policy.momento.secret,
      'Momento API key used by the token vending machine to mint tokens',
    );
    this.secret = momentoSecret.secret;

    // ── User pool (cognito mode) ───────────────────────────────────────────────────────────────────────
    const clientIdsEnv: Record<string, string> = {};
    if (auth.mode === 'cognito') {
      if (props.userPool) {
        this.userPool = props.userPool;
        this.userPoolClientIds = (props.userPoolClients ?? []).map((c) => c.userPoolClientId);
      } else if (auth.existingUserPool) {
        this.userPool = importUserPool(this, auth.existingUserPool.userPoolId);
        this.userPoolClientIds = [...auth.existingUserPool.clientIds];
      } else {
        const { pool, client } = createUserPool(this, auth, policy.tiers, {
          featurePlan: props.userPoolFeaturePlan,
          removalPolicy: props.userPoolRemovalPolicy,
        });
        this.userPool = pool;
        this.userPoolClient = client;
        this.userPoolClientIds = [client.userPoolClientId];
      }
      // API Gateway's Cognito authorizer accepts an ID token from any app client of the pool; the function
      // checks `aud` against these.
      clientIdsEnv.TVM_USER_POOL_CLIENT_IDS = this.userPoolClientIds.join(',');
    }

    // ── Functions ──────────────────────────────────────────────────────────────────────────────────────
    const vending = createTvmFunction(this, 'VendingFunction', {
      code: 'vending',
      policy,
      description: 'Momento token vending machine: mints disposable tokens',
      memorySize: settings.vendingMemorySize,
      timeout: Duration.seconds(vendingTimeoutSeconds(policy.momento.deadlineMs)),
      reservedConcurrency: settings.vendingReservedConcurrency,
      environment: { ...powertools, TVM_SECRET_ID: momentoSecret.secretId, ...clientIdsEnv },
      logRetention,
      tracing,
    });
    this.vendingFunction = vending.fn;
    this.vendingRole = vending.role;
    this.vendingLogGroup = vending.logGroup;
    allowGetSecretValue(vending.role, momentoSecret, 'ReadMomentoApiKey');

    if (auth.mode === 'authorizer') {
      const environment: Record<string, string> = { ...powertools };
      let keys: SecretBinding | undefined;
      if (auth.apiKeys) {
        keys = bindSecret(
          this,
          'ApiKeys',
          auth.apiKeys.secret,
          'Hashed API keys accepted by the token vending machine authorizer',
        );
        this.apiKeysSecret = keys.secret;
        environment.TVM_API_KEYS_SECRET_ID = keys.secretId;
      }
      const authz = createTvmFunction(this, 'AuthorizerFunction', {
        code: 'authorizer',
        policy,
        description: 'Momento token vending machine: verifies bearer JWTs (Lambda TOKEN authorizer)',
        memorySize: settings.authorizerMemorySize,
        timeout: Duration.seconds(AUTHORIZER_TIMEOUT_SECONDS),
        reservedConcurrency: settings.authorizerReservedConcurrency,
        environment,
        logRetention,
        tracing,
      });
      if (keys) allowGetSecretValue(authz.role, keys, 'ReadApiKeys');
      this.authorizerFunction = authz.fn;
      this.authorizerRole = authz.role;
      this.authorizerLogGroup = authz.logGroup;
      this.authorizer = tokenAuthorizer(this, authz.fn, auth.resultCacheTtlSeconds);
    } else if (this.userPool) {
      this.authorizer = userPoolAuthorizer(this, this.userPool);
    }

    // ── API ────────────────────────────────────────────────────────────────────────────────────────────
    const api = createApi(this, {
      restApiName: `${this.serviceName}-token-vending-machine`,
      policy,
      vendingFunction: vending.fn,
      authorizer: this.authorizer,
      stageName: settings.stageName,
      endpointType: props.endpointType ?? apigw.EndpointType.REGIONAL,
      throttling: settings.throttling,
      tracing,
      logRetention,
      ensureApiGatewayLogsRole: settings.ensureApiGatewayLogsRole,
      domain: settings.domain,
      waf: settings.waf !== undefined,
    });
    this.api = api.api;
    this.accessLogGroup = api.accessLogGroup;
    this.tokenMethod = api.tokenMethod;
    this.apiGatewayAccountRole = api.apiGatewayAccountRole;
    this.domainName = api.domainName;
    this.tokenUrl = api.tokenUrl;

    // ── WAF ────────────────────────────────────────────────────────────────────────────────────────────
    if (settings.waf) {
      this.waf = new TvmWebAcl(this, 'WebAcl', {
        stageArn: this.api.deploymentStage.stageArn,
        ratePer5MinPerIp: settings.waf.ratePer5MinPerIp,
        managedCommonRules: settings.waf.managedCommonRules,
        metricNamePrefix: this.serviceName,
      });
      this.webAcl = this.waf.webAcl;
    }

    // ── Revocation (lib/revocation.ts) ─────────────────────────────────────────────────────────────────
    this.revocationTable = addRevocation(this, {
      config: policy,
      vendingFunction: vending.fn,
      userPool: this.userPool,
      encryptionKey: props.revocationTableKey,
    })?.table;

    // ── Fleet token cache and mint governor (lib/fleet-table.ts) ───────────────────────────────────────
    const fleetTable = new FleetTable(this, 'FleetTokens');
    fleetTable.bind(vending.fn);
    this.fleetTable = fleetTable.table;

    // ── Alarms and dashboard ───────────────────────────────────────────────────────────────────────────
    this.monitoring = new TvmMonitoring(this, 'Monitoring', {
      api: this.api,
      vendingFunction: vending.fn,
      vendingLogGroup: vending.logGroup,
      authorizerFunction: this.authorizerFunction,
      metricsNamespace,
      serviceName: this.serviceName,
      dashboardName: `${this.serviceName.replace(/[^A-Za-z0-9_-]/g, '-')}-${stack.region}`,
      alarmEmail: settings.alarmEmail,
      alarmTopic: props.alarmTopic,
      revocation: this.revocationTable !== undefined,
      mintsPerSecond: policy.momento.mintsPerSecond,
    });
    this.alarmTopic = this.monitoring.alarmTopic;
    this.alarmTopicKey = this.monitoring.alarmTopicKey;
    this.alarms = this.monitoring.alarms;
    this.dashboard = this.monitoring.dashboard;

    this.warn(props, policy);
  }

  /** Warnings (`Annotations`, acknowledgeable by id) about settings that deploy but deserve a second look. */
  private warn(props: TokenVendingMachineProps, policy: ResolvedPolicy): void {
    const { auth } = policy;
    const reserved = [
      ['vending', props.vendingReservedConcurrency],
      ['authorizer', props.authorizerReservedConcurrency],
    ].filter(([, n]) => n !== undefined);
    if (reserved.length > 0) {
      Annotations.of(this).addWarningV2(
        'tvm:reserved-concurrency',
        `Reserved concurrency (${reserved.map(([f, n]) => `${f} ${n}`).join(', ')}) is taken from the account's unreserved pool: Lambda refuses the deploy if that would leave less than its minimum unreserved (100 with the usual quota of 1,000). New accounts may have a quota of 10, where any reservation fails: ask for a raise first, or leave it unset.`,
      );
    }
    if (auth.mode === 'open') {
      Annotations.of(this).addWarningV2(
        'tvm:open-mode',
        `Open mode: anyone who can reach GET /token gets a "${auth.anonymousTier}" token without signing in; callers are limited only by stage throttling${props.waf ? ' and the WAF rate limit' : ''}.`,
      );
      if (!props.waf) {
        Annotations.of(this).addWarningV2(
          'tvm:open-mode-no-waf',
          "Open mode without WAF: only stage-wide throttling limits a single client. Consider a per-IP rate limit (the waf prop; waf in the standalone app's config file).",
        );
      }
    }
    const plainHttp = policy.cors.allowOrigins.filter((o) => o.startsWith('http://'));
    if (plainHttp.length > 0) {
      Annotations.of(this).addWarningV2(
        'tvm:localhost-origins',
        `cors.allowOrigins lists local development origins (${plainHttp.join(', ')}): any page served there may fetch tokens for your users. Remove them from production configs.`,
      );
    }
    const publishing = policy.tiers.filter(
      (t) => t.shared === true && t.permissions.some((p) => p.type === 'topic' && p.role !== 'subscribeonly'),
    );
    if (publishing.length > 0) {
      Annotations.of(this).addWarningV2(
        'tvm:shared-tier-publishes',
        `Shared tier${publishing.length > 1 ? 's' : ''} ${publishing.map((t) => `"${t.name}"`).join(', ')} can publish: all its users hold one token without a per-user tokenId, so subscribers cannot tell who published a message. Make the tier per-user (drop shared) if publisher identity matters.`,
      );
    }
    if (auth.mode === 'cognito' && auth.selfSignUp && auth.fallbackTier !== undefined) {
      Annotations.of(this).addWarningV2(
        'tvm:self-sign-up-fallback',
        `Self sign-up is on and auth.fallbackTier is "${auth.fallbackTier}": anyone can create an account and get that tier.`,
      );
    }
  }
}
