/**
 * Properties of `TokenVendingMachine` — infrastructure only; the policy is the one validated `config` — and
 * their validation: every incompatible or out-of-range prop is collected and thrown once. The props that are
 * deployment settings of the config file are checked, and get their defaults, from the settings' own schema
 * (config/schema.ts); the construct's other plain-value props from {@link constructPropsShape} below; only the
 * checks between props (and against the auth mode) are written by hand.
 */
import {
  aws_apigateway as apigw,
  type RemovalPolicy,
  type aws_cognito as cognito,
  type aws_kms as kms,
  type aws_logs as logs,
  type aws_sns as sns,
} from 'aws-cdk-lib';
import * as z from 'zod/mini';
import { DEFAULT_METRICS_NAMESPACE } from '../common/metrics';
import type { LogLevel } from '../config/limits';
import { configError, schemaProblems } from '../config/parse';
import {
  ConfigError,
  validateDeploymentProps,
  validatePolicy,
  type DeploymentSettingProps,
  type PolicyConfig,
  type ResolvedDeploymentSettingProps,
  type ResolvedPolicy,
} from '../config/schema';
import type { TvmDomainProps } from './api';

export type { TvmDomainProps } from './api';

/** Log level of the functions (`POWERTOOLS_LOG_LEVEL`). */
export type TvmLogLevel = LogLevel;

/** Stage-wide API Gateway throttling. */
export interface TvmThrottlingProps {
  /** Steady-state requests per second for the stage (1–10000). @default 100 (DEFAULT_STAGE_THROTTLING) */
  readonly rateLimit?: number;
  /** Burst for the stage (whole number, 1–5000). @default 200 (DEFAULT_STAGE_THROTTLING) */
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

/**
 * The construct's own plain-value props (not deployment settings of the config file), their checks and defaults:
 * one schema, as the settings have theirs (config/schema.ts, `validateDeploymentProps`).
 */
const constructPropsShape = {
  vendingMemorySize: z._default(z.number().check(z.int(), z.gte(128), z.lte(10240)), 512),
  authorizerMemorySize: z._default(z.number().check(z.int(), z.gte(128), z.lte(10240)), 256),
  stageName: z._default(
    z.string().check(z.regex(/^[A-Za-z0-9_]{1,128}$/, 'may contain only letters, digits and _')),
    'prod',
  ),
  serviceName: z.optional(
    z.string().check(z.regex(/^[A-Za-z0-9._-]{1,200}$/, 'must be 1–200 letters, digits, . _ or -')),
  ),
  metricsNamespace: z._default(
    z.string().check(z.regex(/^[A-Za-z0-9._/#:-]{1,255}$/, 'may contain only letters, digits and . _ / # : -')),
    DEFAULT_METRICS_NAMESPACE,
  ),
  ensureApiGatewayLogsRole: z._default(z.boolean(), true),
};
const constructPropsSchema = z.object(constructPropsShape);
const CONSTRUCT_PROP_NAMES = Object.keys(constructPropsShape) as (keyof typeof constructPropsShape)[];

/** The plain-value props, each of its schema's type: a prop typed otherwise in the interface fails to compile. */
type PlainProps = DeploymentSettingProps & z.input<typeof constructPropsSchema>;
type PlainPropNames = keyof PlainProps;
type Agree<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const propsAgreeWithTheSchemas: Agree<Pick<TokenVendingMachineProps, PlainPropNames>, PlainProps> = true;
void propsAgreeWithTheSchemas;

/** The props after validation: the policy, and every plain-value prop with its default filled in. */
export interface ValidatedProps {
  readonly policy: ResolvedPolicy;
  /** Deployment-setting props (their defaults: the config file's, config/schema.ts) and the construct's own. */
  readonly settings: ResolvedDeploymentSettingProps & z.output<typeof constructPropsSchema>;
}

/**
 * The validated policy of `props.config` and the plain-value props with their defaults, once the props fit.
 *
 * @throws ConfigError listing every problem at once: the policy's (as `validatePolicy` words them), then the
 *   props' under "Invalid TokenVendingMachine props:". Props that depend on the auth mode are judged only
 *   against a valid policy.
 */
export function validateProps(props: TokenVendingMachineProps): ValidatedProps {
  let policy: ResolvedPolicy | undefined;
  let policyError: ConfigError | undefined;
  try {
    policy = validatePolicy(props.config);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    policyError = err;
  }
  const deployment = validateDeploymentProps(props);
  const own = ownProps(props);
  const problems = [
    ...(policy ? authPropProblems(props, policy) : []),
    ...propProblems(props),
    ...deployment.problems,
    ...own.problems,
  ];
  if (problems.length === 0 && 'settings' in deployment && 'settings' in own) {
    if (policyError) throw policyError;
    return { policy: policy!, settings: { ...deployment.settings, ...own.settings } };
  }
  const propsText = `Invalid TokenVendingMachine props:\n  - ${problems.join('\n  - ')}`;
  throw new ConfigError(
    [...(policyError?.problems ?? []), ...problems],
    policyError ? `${policyError.message}\n${propsText}` : propsText,
  );
}

/** The construct's own plain-value props, validated with their schema and defaults filled in. */
function ownProps(
  props: TokenVendingMachineProps,
): { settings: z.output<typeof constructPropsSchema>; problems: [] } | { problems: string[] } {
  const given = Object.fromEntries(
    CONSTRUCT_PROP_NAMES.flatMap((k) => (props[k] === undefined ? [] : [[k, props[k]]])),
  );
  const parsed = z.safeParse(constructPropsSchema, given);
  if (parsed.success) return { settings: parsed.data, problems: [] };
  return { problems: [...configError(schemaProblems(constructPropsSchema, given), CONSTRUCT_PROP_NAMES).problems] };
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

/** Problems between props that no one prop's schema can see, one line each. */
function propProblems(props: TokenVendingMachineProps): string[] {
  const problems: string[] = [];
  if (props.endpointType === apigw.EndpointType.PRIVATE)
    problems.push('endpointType PRIVATE is not supported (browsers call the API from the internet)');
  if (props.domain && props.endpointType !== undefined && props.endpointType !== apigw.EndpointType.REGIONAL)
    problems.push('domain is a regional custom domain: it needs endpointType REGIONAL (the default)');
  return problems;
}
