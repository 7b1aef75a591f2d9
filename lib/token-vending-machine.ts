/**
 * `TokenVendingMachine`: the L3 construct. A REST API (`GET /token` + CORS preflight) in front of the vending
 * function, authenticated per `config.auth.mode` (open, Cognito user pool, or a Lambda TOKEN authorizer for
 * any OIDC issuer), with the Momento key in Secrets Manager, access logs, throttling, optional WAF, alarms
 * and a dashboard. Handler code is referred to only by entry path (lib/bundling.ts → ENTRIES).
 */
import * as path from 'node:path';
import {
  Annotations,
  ArnFormat,
  Duration,
  RemovalPolicy,
  Stack,
  Token,
  Validations,
  aws_apigateway as apigw,
  aws_certificatemanager as acm,
  aws_cognito as cognito,
  aws_dynamodb as dynamodb,
  aws_iam as iam,
  aws_kms as kms,
  aws_lambda as lambda,
  aws_lambda_nodejs as nodejs,
  aws_logs as logs,
  aws_route53 as route53,
  aws_route53_targets as route53Targets,
  aws_secretsmanager as sm,
  aws_sns as sns,
  aws_cloudwatch as cw,
  aws_wafv2 as wafv2,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { validateConfig, type ResolvedConfig } from '../config/schema';
import { ApiGatewayAccountRole } from './api-gateway-account-role';
import { ENTRIES, ROOT } from './bundling';
import { addProblemGatewayResponses } from './gateway-responses';
import { TvmMonitoring } from './monitoring';
import { tvmBundling } from './nodejs-bundling';
import { addRevocation } from './revocation';
import { TvmWebAcl } from './web-acl';

/** Properties of {@link TokenVendingMachine}. */
export interface TokenVendingMachineProps {
  /** The validated configuration (`validateConfig()` of the operator's file). It is validated again here. */
  readonly config: ResolvedConfig;
  /** Entry file of the vending function. @default lib/bundling.ts `ENTRIES.vending` (lambda/handler.ts) */
  readonly vendingEntry?: string;
  /** Entry file of the authorizer function (authorizer mode only). @default `ENTRIES.authorizer` (authorizers/handler.ts) */
  readonly authorizerEntry?: string;
  /** Name of the API stage (part of the URL). @default 'prod' */
  readonly stageName?: string;
  /** API endpoint type; PRIVATE is not supported. @default apigw.EndpointType.REGIONAL */
  readonly endpointType?: apigw.EndpointType;
  /** Retention of the function and access log groups (retained when the stack is deleted). @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Give the account (this region) an API Gateway CloudWatch Logs role if it has none — access and execution
   * logging are refused without one — through a custom resource that never overwrites a role already set. The
   * role is retained when the stack is deleted (other APIs may log through it by then). Turn off only if the
   * role is managed elsewhere and is certainly set. @default true
   */
  readonly ensureApiGatewayLogsRole?: boolean;
  /**
   * Cognito feature plan of a user pool the construct creates. PLUS (billed per monthly active user) turns
   * on threat protection (compromised credentials, adaptive authentication) in enforcement mode.
   * @default cognito.FeaturePlan.ESSENTIALS
   */
  readonly userPoolFeaturePlan?: cognito.FeaturePlan;
  /**
   * Removal policy of a user pool the construct creates (it holds your users; it also has deletion
   * protection). @default RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE (kept, except when the first deploy fails)
   */
  readonly userPoolRemovalPolicy?: RemovalPolicy;
  /** CloudWatch namespace of the function metrics (`POWERTOOLS_METRICS_NAMESPACE`). @default 'MomentoTokenVendingMachine' */
  readonly metricsNamespace?: string;
  /**
   * `POWERTOOLS_SERVICE_NAME`, the `service` dimension of every metric. Unique per deployment so two stacks
   * in one account never trip each other's alarms. @default - the stack name
   */
  readonly serviceName?: string;
  /** Topic for the alarms. @default - a new topic encrypted with a new customer managed KMS key */
  readonly alarmTopic?: sns.ITopic;
  /** Memory of the vending function in MB (more memory, more CPU: faster cold start). @default 512 */
  readonly vendingMemorySize?: number;
  /** Memory of the authorizer function in MB. @default 256 */
  readonly authorizerMemorySize?: number;
  /** Customer managed key for the revocation table. @default - the AWS managed key for DynamoDB */
  readonly revocationTableKey?: kms.IKey;
}

/** Where a secret lives and what the function and its policy call it. */
interface SecretBinding {
  readonly secret: sm.ISecret;
  /** What the function passes to GetSecretValue (name or ARN). */
  readonly secretId: string;
  /** The IAM resource matching exactly that secret. */
  readonly policyArn: string;
  /** Customer managed key encrypting an imported secret. @default - the AWS managed key (no grant needed) */
  readonly kmsKeyArn?: string;
}

type SecretRef = ResolvedConfig['momento']['secret'];
type CognitoAuth = Extract<ResolvedConfig['auth'], { mode: 'cognito' }>;

/** Longest a function waits for one Secrets Manager read before giving up (it then answers 503). */
const SECRET_READ_TIMEOUT_MS = 2000;

/**
 * Retained on update and delete, but removed when the first deploy fails (CloudFormation
 * `RetainExceptOnCreate`): a rolled-back first attempt leaves no user pool or log group behind.
 */
const RETAIN_EXCEPT_ON_CREATE = RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE;

/**
 * API Gateway's pre-check of the `Authorization` header in authorizer mode: the schemes authorizers/verify.ts
 * (`parseAuthorization`) accepts, case-insensitively (`Bearer`, `bearer`, `APIKEY`, …), spaces, and a
 * credential. Anything else is answered 401 without invoking the authorizer.
 */
export const AUTHORIZATION_VALIDATION_REGEX = '^([Bb][Ee][Aa][Rr][Ee][Rr]|[Aa][Pp][Ii][Kk][Ee][Yy]) +\\S+$';

/**
 * A serverless Momento token vending machine: `GET /token` answers a short-lived, least-privilege Momento
 * disposable token for the verified caller's tier.
 *
 * @example
 * const tvm = new TokenVendingMachine(this, 'TokenVendingMachine', { config: validateConfig(myConfig) });
 * new CfnOutput(this, 'TokenUrl', { value: tvm.tokenUrl });
 */
export class TokenVendingMachine extends Construct {
  /** The REST API. */
  readonly api: apigw.RestApi;
  /** `https://…/<stage>/token`. */
  readonly tokenUrl: string;
  /** The function that mints tokens. */
  readonly vendingFunction: nodejs.NodejsFunction;
  /** The Lambda TOKEN authorizer's function (authorizer mode). */
  readonly authorizerFunction?: nodejs.NodejsFunction;
  /** The API Gateway authorizer guarding `GET /token` (cognito and authorizer modes). */
  readonly authorizer?: apigw.IAuthorizer;
  /** The user pool (cognito mode): created, or imported from `auth.existingUserPool`. */
  readonly userPool?: cognito.IUserPool;
  /** The SPA app client of a user pool the construct created. */
  readonly userPoolClient?: cognito.UserPoolClient;
  /** App client ids whose ID tokens are meant for this API (cognito mode). */
  readonly userPoolClientIds?: readonly string[];
  /** The secret holding the Momento API key. */
  readonly secret: sm.ISecret;
  /** The secret holding the authorizer's API keys (authorizer mode with `auth.apiKeys`). */
  readonly apiKeysSecret?: sm.ISecret;
  /** The topic every alarm notifies. */
  readonly alarmTopic: sns.ITopic;
  /** Every alarm, by construct id. */
  readonly alarms: Readonly<Record<string, cw.Alarm>>;
  /** The CloudWatch dashboard. */
  readonly dashboard: cw.Dashboard;
  /** The WAF web ACL on the stage (when `config.waf` is set). */
  readonly webAcl?: wafv2.CfnWebACL;
  /** Sets the account's API Gateway CloudWatch Logs role if none is set (unless `ensureApiGatewayLogsRole` is false). */
  readonly apiGatewayAccountRole?: ApiGatewayAccountRole;
  /** The custom domain (when `config.domain` is set). */
  readonly domainName?: apigw.DomainName;
  /** The revocation table (`config.revocation.enabled`, cognito and authorizer modes). */
  readonly revocationTable?: dynamodb.ITable;

  constructor(scope: Construct, id: string, props: TokenVendingMachineProps) {
    super(scope, id);
    const config = validateConfig(props.config);
    const { auth } = config;
    const createsUserPool = auth.mode === 'cognito' && auth.existingUserPool === undefined;
    checkProps(props, config, createsUserPool);

    const stack = Stack.of(this);
    const retention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    const serviceName = props.serviceName ?? stack.stackName;
    const metricsNamespace = props.metricsNamespace ?? 'MomentoTokenVendingMachine';
    const configJson = JSON.stringify(config);
    const powertools = {
      POWERTOOLS_SERVICE_NAME: serviceName,
      POWERTOOLS_METRICS_NAMESPACE: metricsNamespace,
      POWERTOOLS_LOG_LEVEL: config.logLevel,
    };
    const tracing = config.tracing ? lambda.Tracing.ACTIVE : lambda.Tracing.DISABLED;

    /** A function with its own log group and a role that may write only there (no managed policy). */
    const tvmFunction = (
      fnId: string,
      fnProps: {
        entry: string;
        description: string;
        memorySize: number;
        timeout: Duration;
        reservedConcurrency: number | undefined;
        environment: Record<string, string>;
      },
    ) => {
      // Retained on delete: the vending log is the issuance audit trail; retention still expires its events.
      // Not on a failed first deploy (RetainExceptOnCreate): a rollback then leaves nothing behind.
      const logGroup = new logs.LogGroup(this, `${fnId}Logs`, { retention, removalPolicy: RETAIN_EXCEPT_ON_CREATE });
      const role = new iam.Role(this, `${fnId}Role`, {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `${fnProps.description} (execution role)`,
      });
      logGroup.grantWrite(role);
      const fn = new nodejs.NodejsFunction(this, fnId, {
        entry: fnProps.entry,
        handler: 'handler',
        projectRoot: ROOT,
        depsLockFilePath: path.join(ROOT, 'package-lock.json'),
        runtime: lambda.Runtime.NODEJS_24_X,
        architecture: lambda.Architecture.ARM_64,
        memorySize: fnProps.memorySize,
        timeout: fnProps.timeout,
        description: fnProps.description,
        role,
        logGroup,
        tracing,
        reservedConcurrentExecutions: fnProps.reservedConcurrency,
        environment: { ...powertools, ...fnProps.environment },
        bundling: tvmBundling(configJson),
      });
      if (config.tracing) {
        Validations.of(role).acknowledge({
          id: 'AwsSolutions-IAM5[Resource::*]',
          reason:
            'X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions; tracing is on by config.',
        });
      }
      return { fn, role, logGroup };
    };

    // ── Momento API key ────────────────────────────────────────────────────────────────────────────────
    const momentoSecret = this.bindSecret(
      'MomentoApiKey',
      config.momento.secret,
      'Momento API key used by the token vending machine to mint tokens',
    );
    this.secret = momentoSecret.secret;

    const clientIdsEnv: Record<string, string> = {};
    let userPoolClientIds: string[] | undefined;
    if (auth.mode === 'cognito') {
      if (auth.existingUserPool) {
        const { userPoolId } = auth.existingUserPool;
        // A pool id starts with its region (us-east-1_AbC…), which need not be the stack's.
        const poolArn = stack.formatArn({
          service: 'cognito-idp',
          region: userPoolId.split('_')[0],
          resource: 'userpool',
          resourceName: userPoolId,
        });
        this.userPool = cognito.UserPool.fromUserPoolArn(this, 'UserPool', poolArn);
        userPoolClientIds = [...auth.existingUserPool.clientIds];
      } else {
        const { pool, client } = this.createUserPool(auth, config.tiers, props);
        this.userPool = pool;
        this.userPoolClient = client;
        userPoolClientIds = [client.userPoolClientId];
      }
      this.userPoolClientIds = userPoolClientIds;
      // API Gateway's Cognito authorizer accepts an ID token from any app client of the pool; the function
      // can check `aud` against these.
      clientIdsEnv.TVM_USER_POOL_CLIENT_IDS = userPoolClientIds.join(',');
    }

    const vending = tvmFunction('VendingFunction', {
      entry: props.vendingEntry ?? ENTRIES.vending,
      description: 'Momento token vending machine: mints disposable tokens',
      memorySize: props.vendingMemorySize ?? 512,
      timeout: Duration.seconds(vendingTimeoutSeconds(config.momento.deadlineMs)),
      reservedConcurrency: config.reservedConcurrency,
      environment: { TVM_SECRET_ID: momentoSecret.secretId, ...clientIdsEnv },
    });
    this.vendingFunction = vending.fn;
    allowGetSecretValue(vending.role, momentoSecret, 'ReadMomentoApiKey');
    const reserved = [
      ['vending', config.reservedConcurrency],
      ['authorizer', config.authorizerReservedConcurrency],
    ].filter(([, n]) => n !== undefined);
    if (reserved.length > 0) {
      Annotations.of(this).addWarningV2(
        'tvm:reserved-concurrency',
        `Reserved concurrency (${reserved.map(([f, n]) => `${f} ${n}`).join(', ')}) is taken from the account's unreserved pool: Lambda refuses the deploy if that would leave less than its minimum unreserved (100 with the usual quota of 1,000). New accounts may have a quota of 10, where any reservation fails: ask for a raise first, or leave it unset.`,
      );
    }

    // ── Authentication ─────────────────────────────────────────────────────────────────────────────────
    if (auth.mode === 'authorizer') {
      const environment: Record<string, string> = {};
      let keys: SecretBinding | undefined;
      if (auth.apiKeys) {
        keys = this.bindSecret(
          'ApiKeys',
          auth.apiKeys.secret,
          'Hashed API keys accepted by the token vending machine authorizer',
        );
        this.apiKeysSecret = keys.secret;
        environment.TVM_API_KEYS_SECRET_ID = keys.secretId;
      }
      const authz = tvmFunction('AuthorizerFunction', {
        entry: props.authorizerEntry ?? ENTRIES.authorizer,
        description: 'Momento token vending machine: verifies bearer JWTs (Lambda TOKEN authorizer)',
        memorySize: props.authorizerMemorySize ?? 256,
        timeout: Duration.seconds(5),
        reservedConcurrency: config.authorizerReservedConcurrency,
        environment,
      });
      if (keys) allowGetSecretValue(authz.role, keys, 'ReadApiKeys');
      this.authorizerFunction = authz.fn;
      this.authorizer = new apigw.TokenAuthorizer(this, 'TokenAuthorizer', {
        handler: authz.fn,
        identitySource: apigw.IdentitySource.header('Authorization'),
        // Junk that can never verify is refused with 401 by API Gateway, without invoking (and paying for) the
        // authorizer; the authorizer still checks everything itself.
        // The scheme is case-insensitive, as in authorizers/verify.ts (parseAuthorization); one space, then a
        // credential without spaces.
        validationRegex: AUTHORIZATION_VALIDATION_REGEX,
        resultsCacheTtl: Duration.seconds(auth.resultCacheTtlSeconds),
      });
    } else if (auth.mode === 'cognito' && this.userPool) {
      this.authorizer = new apigw.CognitoUserPoolsAuthorizer(this, 'UserPoolAuthorizer', {
        cognitoUserPools: [this.userPool],
        identitySource: apigw.IdentitySource.header('Authorization'),
      });
    }

    // ── API ────────────────────────────────────────────────────────────────────────────────────────────
    const accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention, removalPolicy: RETAIN_EXCEPT_ON_CREATE });
    this.api = new apigw.RestApi(this, 'Api', {
      // Not a physical name (API names need not be unique); the stack name tells two deployments apart.
      restApiName: `${stack.stackName}-token-vending-machine`,
      description: 'Momento token vending machine',
      endpointTypes: [props.endpointType ?? apigw.EndpointType.REGIONAL],
      // Not CDK's AWS::ApiGateway::Account: it would overwrite a role other APIs use (see below).
      cloudWatchRole: false,
      deployOptions: {
        stageName: props.stageName ?? 'prod',
        throttlingRateLimit: config.throttling.rateLimit,
        throttlingBurstLimit: config.throttling.burstLimit,
        // Errors only and never data trace: data trace would log request headers, i.e. bearer tokens.
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        metricsEnabled: false,
        tracingEnabled: config.tracing,
        accessLogDestination: new apigw.LogGroupLogDestination(accessLogs),
        accessLogFormat: accessLogFormat(auth.mode),
      },
    });
    if (props.ensureApiGatewayLogsRole ?? true) {
      this.apiGatewayAccountRole = new ApiGatewayAccountRole(this, 'ApiGatewayAccountRole', {
        logRetention: retention,
      });
      // The stage turns logging on, which API Gateway refuses until the account has its role.
      this.api.deploymentStage.node.addDependency(this.apiGatewayAccountRole);
    }
    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-APIG2',
      reason:
        'GET /token has no body and no required parameter; the vending function validates the query strictly (unknown parameter, bad narrowing or ttl → 400 problem+json), which API Gateway validators cannot express.',
    });
    if (!config.waf) {
      Validations.of(this.api).acknowledge({
        id: 'AwsSolutions-APIG3',
        reason:
          'WAF is optional by config (config.waf); the stage is throttled and every token request is authenticated or explicitly open.',
      });
    }
    addProblemGatewayResponses(this.api, config.cors.allowOrigins);

    const tokenResource = this.api.root.addResource('token', {
      // A mock integration: answers the preflight without invoking the function. With several origins
      // CDK's template echoes the request's Origin only when it is on the list (verified in the infra tests).
      defaultCorsPreflightOptions: {
        allowOrigins: [...config.cors.allowOrigins],
        allowMethods: ['GET', 'OPTIONS'],
        allowHeaders: ['Authorization', 'Content-Type'],
        maxAge: Duration.hours(1),
      },
    });
    const getToken = tokenResource.addMethod(
      'GET',
      new apigw.LambdaIntegration(vending.fn, { proxy: true, allowTestInvoke: false }),
      {
        authorizer: this.authorizer,
        authorizationType:
          auth.mode === 'open'
            ? apigw.AuthorizationType.NONE
            : auth.mode === 'cognito'
              ? apigw.AuthorizationType.COGNITO
              : apigw.AuthorizationType.CUSTOM,
      },
    );
    this.domainName = config.domain ? this.addCustomDomain(config.domain) : undefined;
    this.tokenUrl = config.domain ? `https://${config.domain.name}/token` : this.api.urlForPath('/token');

    if (auth.mode === 'open') {
      Annotations.of(this).addWarningV2(
        'tvm:open-mode',
        `Open mode: anyone who can reach GET /token gets a "${auth.anonymousTier}" token without signing in; callers are limited only by stage throttling${config.waf ? ' and the WAF rate limit' : ''}.`,
      );
      if (!config.waf) {
        Annotations.of(this).addWarningV2(
          'tvm:open-mode-no-waf',
          'Open mode without WAF: only stage-wide throttling limits a single client. Consider config.waf (per-IP rate limit).',
        );
      }
      const reason =
        'Open mode is explicitly configured (auth.mode "open" with allowUnauthenticated: true): anyone may fetch an anonymous-tier token.';
      Validations.of(getToken).acknowledge({ id: 'AwsSolutions-APIG4', reason });
      Validations.of(getToken).acknowledge({ id: 'AwsSolutions-COG4', reason });
    } else if (auth.mode === 'authorizer') {
      Validations.of(getToken).acknowledge({
        id: 'AwsSolutions-COG4',
        reason:
          'Authorizer mode by config: a Lambda TOKEN authorizer verifies bearer JWTs from the configured OIDC issuer (not Cognito).',
      });
    }
    const plainHttp = config.cors.allowOrigins.filter((o) => o.startsWith('http://'));
    if (plainHttp.length > 0) {
      Annotations.of(this).addWarningV2(
        'tvm:localhost-origins',
        `cors.allowOrigins lists local development origins (${plainHttp.join(', ')}): any page served there may fetch tokens for your users. Remove them from production configs.`,
      );
    }
    if (auth.mode === 'cognito' && auth.selfSignUp && auth.fallbackTier !== undefined) {
      Annotations.of(this).addWarningV2(
        'tvm:self-sign-up-fallback',
        `Self sign-up is on and auth.fallbackTier is "${auth.fallbackTier}": anyone can create an account and get that tier.`,
      );
    }

    // ── WAF ────────────────────────────────────────────────────────────────────────────────────────────
    if (config.waf) {
      this.webAcl = new TvmWebAcl(this, 'WebAcl', {
        stageArn: this.api.deploymentStage.stageArn,
        ratePer5MinPerIp: config.waf.ratePer5MinPerIp,
        managedCommonRules: config.waf.managedCommonRules,
      }).webAcl;
    }

    // ── Revocation (lib/revocation.ts) ─────────────────────────────────────────────────────────────────
    this.revocationTable = addRevocation(this, {
      config,
      vendingFunction: vending.fn,
      userPool: this.userPool,
      encryptionKey: props.revocationTableKey,
    })?.table;

    // ── Alarms and dashboard ───────────────────────────────────────────────────────────────────────────
    const monitoring = new TvmMonitoring(this, 'Monitoring', {
      api: this.api,
      vendingFunction: vending.fn,
      vendingLogGroup: vending.logGroup,
      authorizerFunction: this.authorizerFunction,
      metricsNamespace,
      serviceName,
      alarmEmail: config.alarmEmail,
      alarmTopic: props.alarmTopic,
      revocation: this.revocationTable !== undefined,
    });
    this.alarmTopic = monitoring.alarmTopic;
    this.alarms = monitoring.alarms;
    this.dashboard = monitoring.dashboard;
  }

  /**
   * The secret a {@link SecretRef} names: created empty, or imported by name or complete ARN. Nothing is guessed:
   * a name is in the stack's account and region, and its IAM resource is `…:secret:<name>-??????` (the six
   * characters Secrets Manager appends); an ARN is complete and is the IAM resource as is.
   */
  private bindSecret(id: string, ref: SecretRef, description: string): SecretBinding {
    const stack = Stack.of(this);
    if ('create' in ref) {
      const secret = new sm.Secret(this, id, { description });
      // CDK's Secret asks CloudFormation to generate a random value when given none; without either
      // GenerateSecretString or SecretString CloudFormation creates the secret with no value at all. The
      // operator puts the key in (see the PutSecretCommand output); until then the function answers 500.
      (secret.node.defaultChild as sm.CfnSecret).addPropertyDeletionOverride('GenerateSecretString');
      Validations.of(secret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'A third-party (Momento) API key: Secrets Manager cannot rotate it; rotate it in Momento and put the new value.',
      });
      return { secret, secretId: secret.secretArn, policyArn: secret.secretArn };
    }
    const kmsKeyArn = ref.kmsKeyArn;
    if ('name' in ref) {
      const secret = sm.Secret.fromSecretNameV2(this, id, ref.name);
      const policyArn = stack.formatArn({
        service: 'secretsmanager',
        resource: 'secret',
        resourceName: `${ref.name}-??????`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });
      return { secret, secretId: ref.name, policyArn, kmsKeyArn };
    }
    const secret = sm.Secret.fromSecretCompleteArn(this, id, ref.arn);
    const secretRegion = ref.arn.split(':')[3];
    // The functions call Secrets Manager in their own region (AWS_REGION), where another region's ARN is unknown.
    if (Token.isUnresolved(stack.region)) {
      Annotations.of(this).addWarningV2(
        'tvm:secret-region',
        `The secret ${ref.arn} is in ${secretRegion}: deploy this region-agnostic stack only to ${secretRegion}, since the functions read secrets in their own region.`,
      );
    } else if (secretRegion !== stack.region) {
      throw new Error(
        `The secret ${ref.arn} is in ${secretRegion}, the stack in ${stack.region}: the functions read secrets in their own region. Replicate the secret to ${stack.region} (Secrets Manager replica) and give that ARN.`,
      );
    }
    return { secret, secretId: ref.arn, policyArn: ref.arn, kmsKeyArn };
  }

  /**
   * A regional custom domain (TLS 1.2) whose root maps to the stage, and, with a hosted zone, an A alias record
   * for it. The certificate must be in the stack's region.
   */
  private addCustomDomain(domain: NonNullable<ResolvedConfig['domain']>): apigw.DomainName {
    const stack = Stack.of(this);
    const certRegion = domain.certificateArn.split(':')[3];
    if (Token.isUnresolved(stack.region)) {
      Annotations.of(this).addWarningV2(
        'tvm:certificate-region',
        `The certificate of ${domain.name} is in ${certRegion}: deploy this region-agnostic stack only to ${certRegion} (a regional custom domain needs a certificate in its own region).`,
      );
    } else if (certRegion !== stack.region) {
      throw new Error(
        `domain.certificateArn is in ${certRegion}, the stack in ${stack.region}: a regional custom domain needs an ACM certificate in ${stack.region}.`,
      );
    }
    const domainName = new apigw.DomainName(this, 'Domain', {
      domainName: domain.name,
      certificate: acm.Certificate.fromCertificateArn(this, 'Certificate', domain.certificateArn),
      endpointType: apigw.EndpointType.REGIONAL,
      securityPolicy: apigw.SecurityPolicy.TLS_1_2,
    });
    // The root of the domain is the stage: https://<name>/token.
    new apigw.BasePathMapping(this, 'BasePathMapping', {
      domainName,
      restApi: this.api,
      stage: this.api.deploymentStage,
    });
    if (domain.hostedZoneId !== undefined) {
      new route53.ARecord(this, 'DomainAliasRecord', {
        zone: route53.HostedZone.fromHostedZoneId(this, 'HostedZone', domain.hostedZoneId),
        // Fully qualified (trailing dot): the zone is known by id only.
        recordName: `${domain.name}.`,
        target: route53.RecordTarget.fromAlias(new route53Targets.ApiGatewayDomain(domainName)),
      });
    }
    return domainName;
  }

  /** A user pool for the TVM's users and its public SPA client. */
  private createUserPool(
    auth: CognitoAuth,
    tiers: ResolvedConfig['tiers'],
    props: TokenVendingMachineProps,
  ): { pool: cognito.UserPool; client: cognito.UserPoolClient } {
    const plan = props.userPoolFeaturePlan ?? cognito.FeaturePlan.ESSENTIALS;
    const mfa = { off: cognito.Mfa.OFF, optional: cognito.Mfa.OPTIONAL, required: cognito.Mfa.REQUIRED }[auth.mfa];
    const pool = new cognito.UserPool(this, 'UserPool', {
      selfSignUpEnabled: auth.selfSignUp,
      signInAliases: { email: true },
      signInCaseSensitive: false,
      autoVerify: { email: true },
      keepOriginal: { email: true },
      standardAttributes: { email: { required: true, mutable: true } },
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      mfa,
      // TOTP only: SMS would need an SNS role, spending limits and origination numbers.
      mfaSecondFactor: mfa === cognito.Mfa.OFF ? undefined : { sms: false, otp: true },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      featurePlan: plan,
      standardThreatProtectionMode:
        plan === cognito.FeaturePlan.PLUS ? cognito.StandardThreatProtectionMode.FULL_FUNCTION : undefined,
      deletionProtection: true,
      removalPolicy: props.userPoolRemovalPolicy ?? RETAIN_EXCEPT_ON_CREATE,
    });
    if (auth.mfa !== 'required') {
      Validations.of(pool).acknowledge({
        id: 'AwsSolutions-COG2',
        reason: `MFA is "${auth.mfa}" by config (auth.mfa); users can enrol TOTP. Set auth.mfa: "required" to enforce it.`,
      });
    }
    if (plan !== cognito.FeaturePlan.PLUS) {
      Validations.of(pool).acknowledge({
        id: 'AwsSolutions-COG8',
        reason:
          'Threat protection needs the PLUS feature plan, billed per monthly active user; opt in with the userPoolFeaturePlan prop.',
      });
    }
    const client = pool.addClient('WebClient', {
      // A browser app cannot keep a secret.
      generateSecret: false,
      authFlows: { userSrp: true },
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      idTokenValidity: Duration.hours(1),
      accessTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.days(30),
      // No hosted UI / OAuth redirect flows (CDK would otherwise default to example.com callbacks).
      disableOAuth: true,
      // Users may edit their profile, but nothing a tier could template: no custom attributes (so
      // {claims.custom:x} stays admin-controlled), no phone/preferred_username. Email (sign-in and identity)
      // only with self sign-up: SignUp must write every attribute the pool requires, and a changed email is
      // verified before it counts (keepOriginal).
      writeAttributes: new cognito.ClientAttributes().withStandardAttributes({
        fullname: true,
        givenName: true,
        familyName: true,
        nickname: true,
        locale: true,
        timezone: true,
        email: auth.selfSignUp,
      }),
    });
    const groups = new Map<string, string[]>();
    for (const tier of tiers) for (const g of tier.groups) groups.set(g, [...(groups.get(g) ?? []), tier.name]);
    for (const [groupName, tiers] of groups) {
      // Keyed by name so reordering tiers never replaces (and empties) a group.
      new cognito.CfnUserPoolGroup(this, `Group-${encodeURIComponent(groupName)}`, {
        userPoolId: pool.userPoolId,
        groupName,
        description: `Grants token vending machine tier${tiers.length > 1 ? 's' : ''} ${tiers.join(', ')}`.slice(
          0,
          2048,
        ),
      });
    }
    return { pool, client };
  }
}

/**
 * Timeout of the vending function: long enough for the worst ordinary request — two mint attempts (one retry
 * on UNAVAILABLE) and two reads of the key from Secrets Manager, plus a second — so the function answers its own
 * 503 instead of being cut off; at least 10 s, and under API Gateway's 29 s.
 */
export function vendingTimeoutSeconds(deadlineMs: number): number {
  return Math.min(28, Math.max(10, Math.ceil((2 * deadlineMs + 2 * SECRET_READ_TIMEOUT_MS + 1000) / 1000)));
}

/**
 * Allows exactly one action on exactly one secret (the function needs nothing else), and, for a secret under a
 * customer managed key, `kms:Decrypt` on that key only when Secrets Manager of the stack's region asks.
 */
function allowGetSecretValue(role: iam.Role, binding: SecretBinding, sid: string): void {
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({ sid, actions: ['secretsmanager:GetSecretValue'], resources: [binding.policyArn] }),
  );
  if (binding.kmsKeyArn !== undefined) {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: `${sid}Key`,
        actions: ['kms:Decrypt'],
        resources: [binding.kmsKeyArn],
        conditions: {
          StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(role).region}.${Stack.of(role).urlSuffix}` },
        },
      }),
    );
  }
}

/**
 * Access log line (JSON). Identity fields are ids only; the Authorization header and request/response
 * bodies are never logged.
 */
function accessLogFormat(mode: ResolvedConfig['auth']['mode']): apigw.AccessLogFormat {
  const fields: Record<string, string> = {
    requestId: '$context.requestId',
    extendedRequestId: '$context.extendedRequestId',
    requestTime: '$context.requestTimeEpoch',
    ip: '$context.identity.sourceIp',
    userAgent: '$context.identity.userAgent',
    httpMethod: '$context.httpMethod',
    path: '$context.path',
    status: '$context.status',
    responseLength: '$context.responseLength',
    latencyMs: '$context.responseLatency',
    integrationLatencyMs: '$context.integrationLatency',
    integrationStatus: '$context.integrationStatus',
    errorType: '$context.error.responseType',
    error: '$context.error.message',
    wafStatus: '$context.waf.status',
  };
  if (mode === 'cognito') fields.principalId = '$context.authorizer.claims.sub';
  if (mode === 'authorizer') {
    fields.principalId = '$context.authorizer.principalId';
    fields.authorizerError = '$context.authorizer.error';
    fields.authorizerLatencyMs = '$context.authorizer.latency';
  }
  return apigw.AccessLogFormat.custom(JSON.stringify(fields));
}

/** Collects every incompatible or out-of-range prop and throws once. */
function checkProps(props: TokenVendingMachineProps, config: ResolvedConfig, createsUserPool: boolean): void {
  const problems: string[] = [];
  const mode = config.auth.mode;
  if (props.endpointType === apigw.EndpointType.PRIVATE)
    problems.push('endpointType PRIVATE is not supported (browsers call the API from the internet)');
  if (config.domain && props.endpointType !== undefined && props.endpointType !== apigw.EndpointType.REGIONAL)
    problems.push('config.domain is a regional custom domain: it needs endpointType REGIONAL (the default)');
  if (!createsUserPool) {
    if (props.userPoolFeaturePlan !== undefined)
      problems.push(
        'userPoolFeaturePlan applies only to a user pool the construct creates (cognito mode without existingUserPool)',
      );
    if (props.userPoolRemovalPolicy !== undefined)
      problems.push(
        'userPoolRemovalPolicy applies only to a user pool the construct creates (cognito mode without existingUserPool)',
      );
  }
  if (mode !== 'authorizer') {
    if (props.authorizerEntry !== undefined)
      problems.push(`authorizerEntry applies only to auth.mode "authorizer" (this config is "${mode}")`);
    if (props.authorizerMemorySize !== undefined)
      problems.push(`authorizerMemorySize applies only to auth.mode "authorizer" (this config is "${mode}")`);
  }
  for (const [name, mb] of [
    ['vendingMemorySize', props.vendingMemorySize],
    ['authorizerMemorySize', props.authorizerMemorySize],
  ] as const) {
    if (mb !== undefined && (!Number.isInteger(mb) || mb < 128 || mb > 10240))
      problems.push(`${name} must be a whole number of MB from 128 to 10240 (got ${mb})`);
  }
  if (props.stageName !== undefined && !/^[A-Za-z0-9_]{1,128}$/.test(props.stageName))
    problems.push('stageName may contain only letters, digits and _');
  if (props.serviceName !== undefined && props.serviceName.trim() === '')
    problems.push('serviceName must not be empty');
  if (props.metricsNamespace !== undefined && !/^[A-Za-z0-9._/#:-]{1,255}$/.test(props.metricsNamespace))
    problems.push('metricsNamespace may contain only letters, digits and . _ / # : -');
  if (problems.length > 0) throw new Error(`Invalid TokenVendingMachine props:\n  - ${problems.join('\n  - ')}`);
}
