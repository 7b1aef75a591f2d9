/**
 * Properties of `TokenVendingMachine` — infrastructure only; the policy is the one validated `config` — and
 * their validation: every incompatible or out-of-range prop is collected and thrown once.
 */
import {
  aws_apigateway as apigw,
  type RemovalPolicy,
  type aws_cognito as cognito,
  type aws_kms as kms,
  type aws_logs as logs,
  type aws_sns as sns,
} from 'aws-cdk-lib';
import { LOG_LEVELS, type LogLevel } from '../config/limits';
import { ConfigError, validatePolicy, type PolicyConfig, type ResolvedPolicy } from '../config/schema';
import type { TvmDomainProps } from './api';

export type { TvmDomainProps } from './api';

/** Log level of the functions (`POWERTOOLS_LOG_LEVEL`). */
export type TvmLogLevel = LogLevel;

/** Stage-wide API Gateway throttling. */
export interface TvmThrottlingProps {
  /** Steady-state requests per second for the stage (1–10000). @default 10 */
  readonly rateLimit?: number;
  /** Burst for the stage (whole number, 1–5000). @default 20 */
  readonly burstLimit?: number;
}

/** An AWS WAF web ACL on the stage. */
export interface TvmWafProps {
  /** Requests per 5 minutes from one IP before WAF blocks it (whole number, 10–2000000000). @default 600 */
  readonly ratePer5MinPerIp?: number;
  /** Add the AWS managed common rule set (`AWSManagedRulesCommonRuleSet`). @default true */
  readonly managedCommonRules?: boolean;
}

/** Properties of `TokenVendingMachine`. */
export interface TokenVendingMachineProps {
  /**
   * The policy — auth mode, tiers, token lifetimes, CORS origins, Momento endpoint and secret, token cache,
   * caller limit — validated here (`validatePolicy`) and written into the functions' code asset. Deployment
   * settings are props, not policy.
   */
  readonly config: PolicyConfig;
  /**
   * Name of this TVM: `POWERTOOLS_SERVICE_NAME` (the `service` dimension of its metrics) and the prefix of the
   * API name (the `ApiName` dimension of the API's metrics), WAF metric names and the dashboard name.
   * @default - unique per construct path (`Names.uniqueResourceName`), so two instances never share names or alarms
   */
  readonly serviceName?: string;
  /** CloudWatch namespace of the function metrics (`POWERTOOLS_METRICS_NAMESPACE`). @default 'MomentoTokenVendingMachine' */
  readonly metricsNamespace?: string;
  /**
   * A user pool you already manage in this CDK app (cognito mode without `auth.existingUserPool`): its ID tokens
   * are accepted instead of creating a pool. Give `userPoolClients` with it.
   * @default - a new user pool (or `auth.existingUserPool` of the policy)
   */
  readonly userPool?: cognito.IUserPool;
  /** App clients of `userPool` whose ID tokens the API accepts (required with `userPool`). @default - none */
  readonly userPoolClients?: readonly cognito.IUserPoolClient[];
  /** Name of the API stage (part of the URL). @default 'prod' */
  readonly stageName?: string;
  /** API endpoint type; PRIVATE is not supported. @default apigw.EndpointType.REGIONAL */
  readonly endpointType?: apigw.EndpointType;
  /** Stage throttling. @default { rateLimit: 100, burstLimit: 200 } (DEFAULT_STAGE_THROTTLING) */
  readonly throttling?: TvmThrottlingProps;
  /** A WAF web ACL with a per-IP rate limit on the stage. @default - no WAF */
  readonly waf?: TvmWafProps;
  /** AWS X-Ray tracing on the stage and the functions. @default false */
  readonly tracing?: boolean;
  /** Log level of the functions. @default 'INFO' */
  readonly logLevel?: TvmLogLevel;
  /** Retention of the function and access log groups (retained when the stack is deleted). @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** Memory of the vending function in MB (more memory, more CPU: faster cold start). @default 512 */
  readonly vendingMemorySize?: number;
  /** Memory of the authorizer function in MB (authorizer mode). @default 256 */
  readonly authorizerMemorySize?: number;
  /**
   * Reserved concurrency of the vending function (caps cost), taken from the account's unreserved pool (new
   * accounts may have a quota of 10, where any reservation fails). @default - unreserved
   */
  readonly vendingReservedConcurrency?: number;
  /** Reserved concurrency of the authorizer function (authorizer mode). @default - unreserved */
  readonly authorizerReservedConcurrency?: number;
  /** Customer managed key for the revocation table. @default - the AWS managed key for DynamoDB */
  readonly revocationTableKey?: kms.IKey;
  /** E-mail address subscribed to the alarm topic. @default - no subscription */
  readonly alarmEmail?: string;
  /** Topic for the alarms. @default - a new topic encrypted with a new customer managed KMS key */
  readonly alarmTopic?: sns.ITopic;
  /** A regional custom domain (TLS 1.2): `tokenUrl` becomes `https://<name>/token`. @default - the execute-api URL */
  readonly domain?: TvmDomainProps;
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
}

const between = (v: number, lo: number, hi: number, whole: boolean) =>
  Number.isFinite(v) && v >= lo && v <= hi && (!whole || Number.isInteger(v));

/**
 * The validated policy of `props.config`, once the props fit it.
 *
 * @throws ConfigError listing every problem at once: the policy's (as `validatePolicy` words them), then the
 *   props' under "Invalid TokenVendingMachine props:". Props that depend on the auth mode are judged only
 *   against a valid policy.
 */
export function validateProps(props: TokenVendingMachineProps): ResolvedPolicy {
  let policy: ResolvedPolicy | undefined;
  let policyError: ConfigError | undefined;
  try {
    policy = validatePolicy(props.config);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    policyError = err;
  }
  const problems = [...(policy ? authPropProblems(props, policy) : []), ...propProblems(props)];
  if (problems.length === 0) {
    if (policyError) throw policyError;
    return policy!;
  }
  const propsText = `Invalid TokenVendingMachine props:\n  - ${problems.join('\n  - ')}`;
  throw new ConfigError(
    [...(policyError?.problems ?? []), ...problems],
    policyError ? `${policyError.message}\n${propsText}` : propsText,
  );
}

/** Problems of the props that depend on the auth mode, against the validated policy. */
function authPropProblems(props: TokenVendingMachineProps, policy: ResolvedPolicy): string[] {
  const problems: string[] = [];
  const mode = policy.auth.mode;
  const usesOwnPool = props.userPool !== undefined;
  const createsUserPool = mode === 'cognito' && policy.auth.existingUserPool === undefined && !usesOwnPool;
  if (usesOwnPool) {
    if (mode !== 'cognito') problems.push(`userPool applies only to auth.mode "cognito" (this config is "${mode}")`);
    else if (policy.auth.existingUserPool !== undefined)
      problems.push('give either userPool (a pool of this app) or auth.existingUserPool (a pool by id), not both');
    if (!props.userPoolClients?.length)
      problems.push('userPool needs userPoolClients: the app clients whose ID tokens the API accepts');
    if (mode === 'cognito' && policy.auth.selfSignUp)
      problems.push('auth.selfSignUp applies only to a pool the construct creates, not to userPool');
  } else if (props.userPoolClients !== undefined) problems.push('userPoolClients applies only with userPool');
  if (!createsUserPool) {
    if (props.userPoolFeaturePlan !== undefined)
      problems.push(
        'userPoolFeaturePlan applies only to a user pool the construct creates (cognito mode, no pool given)',
      );
    if (props.userPoolRemovalPolicy !== undefined)
      problems.push(
        'userPoolRemovalPolicy applies only to a user pool the construct creates (cognito mode, no pool given)',
      );
  }
  if (mode !== 'authorizer') {
    for (const name of ['authorizerMemorySize', 'authorizerReservedConcurrency'] as const)
      if (props[name] !== undefined)
        problems.push(`${name} applies only to auth.mode "authorizer" (this config is "${mode}")`);
  }
  return problems;
}

/** Problems of the props on their own (ranges and formats), one line each. */
function propProblems(props: TokenVendingMachineProps): string[] {
  const problems: string[] = [];
  if (props.endpointType === apigw.EndpointType.PRIVATE)
    problems.push('endpointType PRIVATE is not supported (browsers call the API from the internet)');
  if (props.domain && props.endpointType !== undefined && props.endpointType !== apigw.EndpointType.REGIONAL)
    problems.push('domain is a regional custom domain: it needs endpointType REGIONAL (the default)');
  for (const name of ['vendingMemorySize', 'authorizerMemorySize'] as const) {
    const mb = props[name];
    if (mb !== undefined && !between(mb, 128, 10240, true))
      problems.push(`${name} must be a whole number of MB from 128 to 10240 (got ${mb})`);
  }
  for (const name of ['vendingReservedConcurrency', 'authorizerReservedConcurrency'] as const) {
    const n = props[name];
    if (n !== undefined && !between(n, 1, 1000, true))
      problems.push(`${name} must be a whole number from 1 to 1000 (got ${n})`);
  }
  const t = props.throttling;
  if (t?.rateLimit !== undefined && !between(t.rateLimit, 1, 10000, false))
    problems.push(`throttling.rateLimit must be from 1 to 10000 (got ${t.rateLimit})`);
  if (t?.burstLimit !== undefined && !between(t.burstLimit, 1, 5000, true))
    problems.push(`throttling.burstLimit must be a whole number from 1 to 5000 (got ${t.burstLimit})`);
  const rate = props.waf?.ratePer5MinPerIp;
  if (rate !== undefined && !between(rate, 10, 2_000_000_000, true))
    problems.push(`waf.ratePer5MinPerIp must be a whole number from 10 to 2000000000 (got ${rate})`);
  if (props.alarmEmail !== undefined && !/^[^@\s]+@[^@\s]+$/.test(props.alarmEmail))
    problems.push('alarmEmail must be an email address');
  if (props.logLevel !== undefined && !(LOG_LEVELS as readonly string[]).includes(props.logLevel))
    problems.push(
      `logLevel must be ${LOG_LEVELS.slice(0, -1).join(', ')} or ${LOG_LEVELS.at(-1)} (got ${String(props.logLevel)})`,
    );
  if (props.domain) {
    if (!/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(props.domain.name))
      problems.push('domain.name must be a lower-case host name such as tvm.example.com');
    if (!/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/.test(props.domain.certificateArn))
      problems.push('domain.certificateArn must be an ACM certificate ARN');
    if (props.domain.hostedZoneId !== undefined && !/^Z[A-Z0-9]{1,31}$/.test(props.domain.hostedZoneId))
      problems.push('domain.hostedZoneId must look like Z0123456789ABCDEFGHIJ');
  }
  if (props.stageName !== undefined && !/^[A-Za-z0-9_]{1,128}$/.test(props.stageName))
    problems.push('stageName may contain only letters, digits and _');
  if (props.serviceName !== undefined && !/^[A-Za-z0-9._-]{1,200}$/.test(props.serviceName))
    problems.push('serviceName must be 1–200 letters, digits, . _ or -');
  if (props.metricsNamespace !== undefined && !/^[A-Za-z0-9._/#:-]{1,255}$/.test(props.metricsNamespace))
    problems.push('metricsNamespace may contain only letters, digits and . _ / # : -');
  return problems;
}
