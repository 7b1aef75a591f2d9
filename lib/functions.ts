/**
 * One TVM function: its own log group, a role that may write only there (no managed policy), and its code asset
 * (lib/function-code.ts: the package's bundle + the validated policy).
 */
import {
  Duration,
  RemovalPolicy,
  Validations,
  aws_iam as iam,
  aws_lambda as lambda,
  aws_logs as logs,
} from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { ResolvedPolicy } from '../config/schema';
import type { FunctionName } from './bundling';
import { functionCode } from './function-code';

/**
 * Retained on update and delete, but removed when the first deploy fails (CloudFormation
 * `RetainExceptOnCreate`): a rolled-back first attempt leaves no user pool or log group behind.
 */
export const RETAIN_EXCEPT_ON_CREATE = RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE;

/** What {@link createTvmFunction} needs. */
export interface TvmFunctionOptions {
  readonly code: FunctionName;
  readonly policy: ResolvedPolicy;
  readonly description: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly reservedConcurrency?: number;
  readonly environment: Record<string, string>;
  readonly logRetention: logs.RetentionDays;
  readonly tracing: boolean;
}

/** A function with the resources an operator tunes. */
export interface TvmFunctionParts {
  readonly fn: lambda.Function;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
}

/** Creates `<id>`, `<id>Logs` and `<id>Role` in `scope`. */
export function createTvmFunction(scope: Construct, id: string, options: TvmFunctionOptions): TvmFunctionParts {
  // Retained on delete: the vending log is the issuance audit trail; retention still expires its events.
  // Not on a failed first deploy (RetainExceptOnCreate): a rollback then leaves nothing behind.
  const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
    retention: options.logRetention,
    removalPolicy: RETAIN_EXCEPT_ON_CREATE,
  });
  const role = new iam.Role(scope, `${id}Role`, {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: `${options.description} (execution role)`,
  });
  logGroup.grantWrite(role);
  const fn = new lambda.Function(scope, id, {
    code: functionCode(options.code, options.policy),
    handler: 'index.handler',
    runtime: lambda.Runtime.NODEJS_24_X,
    architecture: lambda.Architecture.ARM_64,
    memorySize: options.memorySize,
    timeout: options.timeout,
    description: options.description,
    role,
    logGroup,
    tracing: options.tracing ? lambda.Tracing.ACTIVE : lambda.Tracing.DISABLED,
    reservedConcurrentExecutions: options.reservedConcurrency,
    environment: options.environment,
  });
  if (options.tracing) {
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions; tracing is on by the tracing prop.',
    });
  }
  return { fn, role, logGroup };
}
