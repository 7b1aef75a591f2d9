/**
 * `ApiGatewayAccountRole`: gives the account (per region) an API Gateway CloudWatch Logs role when it has none,
 * so a stage with access and execution logging deploys in a fresh account — and leaves a role that is already
 * set untouched. Handler: lib/api-gateway-account/handler.ts.
 */
import {
  CustomResource,
  Duration,
  RemovalPolicy,
  Stack,
  Validations,
  aws_iam as iam,
  aws_lambda as lambda,
  aws_logs as logs,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { functionCode } from './function-code';

/** Properties of {@link ApiGatewayAccountRole}. */
export interface ApiGatewayAccountRoleProps {
  /** Retention of the handler's log group. @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * An IAM role API Gateway may use to write logs, and a custom resource that makes it the account's role only if
 * the account has none. Make the logging stage depend on this construct.
 *
 * - The role is **retained** when the stack is deleted: once set, other APIs in the account may log through it.
 * - On delete the custom resource does nothing (the account setting is not the stack's to undo).
 * - An account that already names a role keeps it (the created role then stays unused).
 */
export class ApiGatewayAccountRole extends Construct {
  /** The role offered to API Gateway (AmazonAPIGatewayPushToCloudWatchLogs). */
  readonly role: iam.Role;
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

    this.role = new iam.Role(this, 'LogsRole', {
      assumedBy: new iam.ServicePrincipal('apigateway.amazonaws.com'),
      description: 'API Gateway account-wide role for writing access and execution logs to CloudWatch Logs',
      managedPolicies: [
        iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonAPIGatewayPushToCloudWatchLogs'),
      ],
    });
    this.role.applyRemovalPolicy(RemovalPolicy.RETAIN);
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      reason:
        'The account-wide API Gateway logging role; AWS documents this managed policy for exactly this role (it needs logs:* on every API log group).',
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
        sid: 'PassTheLogsRoleToApiGateway',
        actions: ['iam:PassRole'],
        resources: [this.role.roleArn],
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
      // Up to ten attempts six seconds apart while IAM propagates the new role.
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
      properties: { RoleArn: this.role.roleArn },
    });
    // The handler must be able to pass the role and write logs before CloudFormation invokes it.
    this.resource.node.addDependency(handlerRole);
    this.handler = fn;
    this.handlerRole = handlerRole;
    this.handlerLogGroup = logGroup;
  }
}
