/**
 * The REST API: `GET /token` (+ CORS preflight) in front of the vending function, access logs, stage throttling,
 * problem+json gateway responses, the account's API Gateway logging role, and an optional custom domain.
 */
import {
  Annotations,
  Duration,
  Stack,
  Token,
  Validations,
  aws_apigateway as apigw,
  aws_certificatemanager as acm,
  aws_lambda as lambda,
  aws_logs as logs,
  aws_route53 as route53,
  aws_route53_targets as route53Targets,
} from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { CORS } from '../common/cors';
import type { ResolvedPolicy } from '../config/schema';
import { ApiGatewayAccountRole } from './api-gateway-account-role';
import { RETAIN_EXCEPT_ON_CREATE } from './functions';
import { addProblemGatewayResponses } from './gateway-responses';

/** A regional custom domain for the API. */
export interface TvmDomainProps {
  /** The host name, e.g. tvm.example.com (lower case). */
  readonly name: string;
  /** ACM certificate for the name, in the stack's region (a regional endpoint). */
  readonly certificateArn: string;
  /** Route 53 public hosted zone to create an A alias record in. @default - no record (point DNS yourself) */
  readonly hostedZoneId?: string;
}

/** What {@link createApi} needs. */
export interface TvmApiOptions {
  readonly restApiName: string;
  readonly policy: ResolvedPolicy;
  readonly vendingFunction: lambda.IFunction;
  readonly authorizer?: apigw.IAuthorizer;
  readonly stageName: string;
  readonly endpointType: apigw.EndpointType;
  readonly throttling: { readonly rateLimit: number; readonly burstLimit: number };
  readonly tracing: boolean;
  readonly logRetention: logs.RetentionDays;
  readonly ensureApiGatewayLogsRole: boolean;
  readonly domain?: TvmDomainProps;
  /** Whether a WAF web ACL protects the stage (only changes an acknowledgement and a warning). */
  readonly waf: boolean;
}

/** The API and the resources an operator tunes. */
export interface TvmApiParts {
  readonly api: apigw.RestApi;
  readonly accessLogGroup: logs.LogGroup;
  /** `API-Gateway-Execution-Logs_{restApiId}/{stage}`, owned by the stack so it has a retention. */
  readonly executionLogGroup: logs.LogGroup;
  readonly tokenMethod: apigw.Method;
  readonly apiGatewayAccountRole?: ApiGatewayAccountRole;
  readonly domainName?: apigw.DomainName;
  readonly tokenUrl: string;
}

/** Creates the API (`AccessLogs`, `Api`, `ApiGatewayAccountRole`, `Domain`…) in `scope`. */
export function createApi(scope: Construct, options: TvmApiOptions): TvmApiParts {
  const { policy } = options;
  const mode = policy.auth.mode;
  const accessLogGroup = new logs.LogGroup(scope, 'AccessLogs', {
    retention: options.logRetention,
    removalPolicy: RETAIN_EXCEPT_ON_CREATE,
  });
  const api = new apigw.RestApi(scope, 'Api', {
    // Not a physical name (API names need not be unique), but the ApiName dimension of the API's metrics: unique
    // per construct, so two TVMs never share alarms.
    restApiName: options.restApiName,
    description: 'Momento token vending machine',
    endpointTypes: [options.endpointType],
    // Not CDK's AWS::ApiGateway::Account: it would overwrite a role other APIs use (see below).
    cloudWatchRole: false,
    deployOptions: {
      stageName: options.stageName,
      throttlingRateLimit: options.throttling.rateLimit,
      throttlingBurstLimit: options.throttling.burstLimit,
      // Errors only and never data trace: data trace would log request headers, i.e. bearer tokens.
      loggingLevel: apigw.MethodLoggingLevel.ERROR,
      dataTraceEnabled: false,
      metricsEnabled: false,
      tracingEnabled: options.tracing,
      accessLogDestination: new apigw.LogGroupLogDestination(accessLogGroup),
      accessLogFormat: accessLogFormat(mode),
    },
  });
  // Execution logging (errors only) writes to this group; API Gateway would otherwise create it itself, outside
  // the stack and without retention. The stage depends on it, so the group exists before the first log line.
  const executionLogGroup = new logs.LogGroup(scope, 'ExecutionLogs', {
    logGroupName: `API-Gateway-Execution-Logs_${api.restApiId}/${options.stageName}`,
    retention: options.logRetention,
    removalPolicy: RETAIN_EXCEPT_ON_CREATE,
  });
  api.deploymentStage.node.addDependency(executionLogGroup);
  let apiGatewayAccountRole: ApiGatewayAccountRole | undefined;
  if (options.ensureApiGatewayLogsRole) {
    apiGatewayAccountRole = new ApiGatewayAccountRole(scope, 'ApiGatewayAccountRole', {
      logRetention: options.logRetention,
    });
    // The stage turns logging on, which API Gateway refuses until the account has its role.
    api.deploymentStage.node.addDependency(apiGatewayAccountRole);
  }
  Validations.of(api).acknowledge({
    id: 'AwsSolutions-APIG2',
    reason:
      'GET /token has no body and no required parameter; the vending function validates the query strictly (unknown parameter, bad narrowing or ttl → 400 problem+json), which API Gateway validators cannot express.',
  });
  if (!options.waf) {
    Validations.of(api).acknowledge({
      id: 'AwsSolutions-APIG3',
      reason:
        'WAF is optional (the waf prop); the stage is throttled and every token request is authenticated or explicitly open.',
    });
  }
  addProblemGatewayResponses(api, policy.cors.allowOrigins);

  const tokenResource = api.root.addResource('token', {
    // A mock integration: answers the preflight without invoking the function. With several origins
    // CDK's template echoes the request's Origin only when it is on the list (verified in the infra tests).
    defaultCorsPreflightOptions: {
      allowOrigins: [...policy.cors.allowOrigins],
      allowMethods: [...CORS.allowMethods],
      allowHeaders: [...CORS.allowHeaders],
      maxAge: Duration.seconds(CORS.maxAgeSeconds),
    },
  });
  const tokenMethod = tokenResource.addMethod(
    'GET',
    new apigw.LambdaIntegration(options.vendingFunction, { proxy: true, allowTestInvoke: false }),
    {
      authorizer: options.authorizer,
      authorizationType:
        mode === 'open'
          ? apigw.AuthorizationType.NONE
          : mode === 'cognito'
            ? apigw.AuthorizationType.COGNITO
            : apigw.AuthorizationType.CUSTOM,
    },
  );
  if (mode === 'open') {
    const reason =
      'Open mode is explicitly configured (auth.mode "open" with allowUnauthenticated: true): anyone may fetch an anonymous-tier token.';
    Validations.of(tokenMethod).acknowledge({ id: 'AwsSolutions-APIG4', reason });
    Validations.of(tokenMethod).acknowledge({ id: 'AwsSolutions-COG4', reason });
  } else if (mode === 'authorizer') {
    Validations.of(tokenMethod).acknowledge({
      id: 'AwsSolutions-COG4',
      reason:
        'Authorizer mode by config: a Lambda TOKEN authorizer verifies bearer JWTs from the configured OIDC issuer (not Cognito).',
    });
  }
  const domainName = options.domain ? addCustomDomain(scope, api, options.domain) : undefined;
  const tokenUrl = options.domain ? `https://${options.domain.name}/token` : api.urlForPath('/token');
  return { api, accessLogGroup, executionLogGroup, tokenMethod, apiGatewayAccountRole, domainName, tokenUrl };
}

/**
 * A regional custom domain (TLS 1.2) whose root maps to the stage, and, with a hosted zone, an A alias record
 * for it. The certificate must be in the stack's region.
 */
function addCustomDomain(scope: Construct, api: apigw.RestApi, domain: TvmDomainProps): apigw.DomainName {
  const stack = Stack.of(scope);
  const certRegion = domain.certificateArn.split(':')[3];
  if (Token.isUnresolved(stack.region)) {
    Annotations.of(scope).addWarningV2(
      'tvm:certificate-region',
      `The certificate of ${domain.name} is in ${certRegion}: deploy this region-agnostic stack only to ${certRegion} (a regional custom domain needs a certificate in its own region).`,
    );
  } else if (certRegion !== stack.region) {
    throw new Error(
      `domain.certificateArn is in ${certRegion}, the stack in ${stack.region}: a regional custom domain needs an ACM certificate in ${stack.region}.`,
    );
  }
  const domainName = new apigw.DomainName(scope, 'Domain', {
    domainName: domain.name,
    certificate: acm.Certificate.fromCertificateArn(scope, 'Certificate', domain.certificateArn),
    endpointType: apigw.EndpointType.REGIONAL,
    securityPolicy: apigw.SecurityPolicy.TLS_1_2,
  });
  // The root of the domain is the stage: https://<name>/token.
  new apigw.BasePathMapping(scope, 'BasePathMapping', { domainName, restApi: api, stage: api.deploymentStage });
  if (domain.hostedZoneId !== undefined) {
    new route53.ARecord(scope, 'DomainAliasRecord', {
      zone: route53.HostedZone.fromHostedZoneId(scope, 'HostedZone', domain.hostedZoneId),
      // Fully qualified (trailing dot): the zone is known by id only.
      recordName: `${domain.name}.`,
      target: route53.RecordTarget.fromAlias(new route53Targets.ApiGatewayDomain(domainName)),
    });
  }
  return domainName;
}

/**
 * Access log line (JSON). Identity fields are ids only; the Authorization header and request/response
 * bodies are never logged.
 */
function accessLogFormat(mode: ResolvedPolicy['auth']['mode']): apigw.AccessLogFormat {
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
