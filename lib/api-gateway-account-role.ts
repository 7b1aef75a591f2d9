/**
 * `ApiGatewayAccountRole`: gives the account (per region) an API Gateway CloudWatch Logs role when it has none,
 * so a stage with access and execution logging deploys in a fresh account — and leaves a role that is already
 * set untouched, creating nothing then. Handler: lib/api-gateway-account/handler.ts.
 */
import {
  CustomResource,
  Duration,
  RemovalPolicy,
  Stack,
  aws_iam as iam,
  aws_lambda as lambda,
  aws_logs as logs,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { PUSH_TO_LOGS_POLICY, ROLE_NAME, ROLE_PATH } from './api-gateway-logs-role-name';
import { functionCode } from './function-code';

/** Properties of {@link ApiGatewayAccountRole}. */
export interface ApiGatewayAccountRoleProps {
  /** Retention of the handler's log group. @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * A custom resource that gives the account an API Gateway CloudWatch Logs role only if it has none.
 *
 * - An account that already names a role keeps it, and nothing is created.
 * - Otherwise the handler creates the IAM role `service-role/ApiGatewayCloudWatchLogs` (one per account, for
 *   every region; reused when it exists) and sets it. A failed try deletes a role it created.
 * - The role is not a stack resource: once set it is the account's, so `cdk destroy` leaves the role and the
 *   setting in place (other APIs may log through it), and a second stack or deploy creates nothing.
 */
export class ApiGatewayAccountRole extends Construct {
  /** ARN of the role the handler creates and sets when the account has none. */
  readonly roleArn: string;
  /** The custom resource; `getAttString('RoleArn')` is the role the account uses afterwards. */
  readonly resource: CustomResource;
  /** The custom resource's handler. */
  readonly handler: lambda.Function;
  /** The handler's execution role. */
  readonly handlerRole: iam.Role;
  /** The handler's log group. */
  readonly handlerLogGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ApiGatewayAccountRoleProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);
    this.roleArn = stack.formatArn({
      service: 'iam',
      region: '',
      resource: 'role',
      resourceName: `${ROLE_PATH.slice(1)}${ROLE_NAME}`,
    });

    const logGroup = new logs.LogGroup(this, 'HandlerLogs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const handlerRole = new iam.Role(this, 'HandlerRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Sets the API Gateway account CloudWatch role when none is set (execution role)',
    });
    logGroup.grantWrite(handlerRole);
    handlerRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadAndSetApiGatewayAccount',
        actions: ['apigateway:GET', 'apigateway:PATCH'],
        resources: [`arn:${stack.partition}:apigateway:${stack.region}::/account`],
      }),
    );
    handlerRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'CreateTheLogsRoleWhenNoneIsSet',
        actions: ['iam:GetRole', 'iam:CreateRole', 'iam:DeleteRole'],
        resources: [this.roleArn],
      }),
    );
    handlerRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'AttachOnlyThePushToLogsPolicy',
        actions: ['iam:AttachRolePolicy', 'iam:DetachRolePolicy'],
        resources: [this.roleArn],
        conditions: { ArnEquals: { 'iam:PolicyARN': `arn:${stack.partition}:${PUSH_TO_LOGS_POLICY}` } },
      }),
    );
    handlerRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'PassTheLogsRoleToApiGateway',
        actions: ['iam:PassRole'],
        resources: [this.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'apigateway.amazonaws.com' } },
      }),
    );

    const fn = new lambda.Function(this, 'Handler', {
      // Bundled like the TVM functions (lib/function-code.ts), with `@aws-sdk/*` from the runtime.
      code: functionCode('api-gateway-account'),
      handler: 'index.handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 128,
      // Up to ten attempts six seconds apart while IAM propagates a new role.
      timeout: Duration.minutes(2),
      description: 'Sets the API Gateway account CloudWatch Logs role if none is set (custom resource)',
      role: handlerRole,
      logGroup,
    });

    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: fn.functionArn,
      resourceType: 'Custom::ApiGatewayAccountCloudWatchRole',
      // A crashed handler never answers: fail after 5 minutes (the handler's own timeout is 2), not CloudFormation's
      // default hour.
      serviceTimeout: Duration.minutes(5),
      properties: { RoleName: ROLE_NAME },
    });
    // The handler must be able to create and pass the role and write logs before CloudFormation invokes it.
    this.resource.node.addDependency(handlerRole);
    this.handler = fn;
    this.handlerRole = handlerRole;
    this.handlerLogGroup = logGroup;
  }
}
