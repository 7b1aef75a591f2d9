/**
 * The deployable stack of the standalone app: one {@link TokenVendingMachine} and the outputs ops and front-end
 * developers need. It maps the operator's configuration file onto the construct — the policy as `config`, the
 * deployment settings as props — and outputs.
 */
import { Aws, CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { deploymentPropsOf, policyOf, type ResolvedConfig } from '../config/schema';
import { TokenVendingMachine, type TokenVendingMachineProps } from './token-vending-machine';
import { dashboardUrl } from './console-url';

/** Properties of {@link TvmStack}. */
export interface TvmStackProps extends StackProps {
  /** The validated configuration. */
  readonly config: ResolvedConfig;
  /** Overrides for the construct (everything but `config`). @default - the construct's defaults and the file's settings */
  readonly tvm?: Omit<TokenVendingMachineProps, 'config'>;
}

/** A Momento token vending machine stack. */
export class TvmStack extends Stack {
  /** The token vending machine. */
  readonly tvm: TokenVendingMachine;

  constructor(scope: Construct, id: string, props: TvmStackProps) {
    super(scope, id, {
      description: `Momento token vending machine (${props.config.auth.mode} mode)`,
      ...props,
    });
    const tvm = new TokenVendingMachine(this, 'TokenVendingMachine', {
      // Each deployment setting of the file as its construct prop (config/schema.ts, SETTING_PROPS).
      ...deploymentPropsOf(props.config),
      // The stack's name, not the construct's path-derived default: the standalone app's API, metric dimension and
      // WAF metric names stay the same across upgrades.
      serviceName: this.stackName,
      ...props.tvm,
      config: policyOf(props.config),
    });
    this.tvm = tvm;

    const out = (id: string, value: string, description: string) => new CfnOutput(this, id, { value, description });
    out('TokenUrl', tvm.tokenUrl, 'GET this URL for a Momento token');
    out('Region', Aws.REGION, 'Region of the API (and of the user pool)');
    if (tvm.domainName && props.config.domain?.hostedZoneId === undefined)
      out(
        'DomainTarget',
        tvm.domainName.domainNameAliasDomainName,
        `Point DNS for ${props.config.domain?.name} here (a CNAME, or a Route 53 alias with DomainTargetHostedZoneId)`,
      );
    if (tvm.domainName && props.config.domain?.hostedZoneId === undefined)
      out(
        'DomainTargetHostedZoneId',
        tvm.domainName.domainNameAliasHostedZoneId,
        'Hosted zone id of DomainTarget (for a Route 53 alias record)',
      );
    out('SecretArn', tvm.secret.secretArn, 'Secret holding the Momento API key');
    out('SecretName', tvm.secret.secretName, 'Name of the secret holding the Momento API key');
    out(
      'PutSecretCommand',
      `aws secretsmanager put-secret-value --region ${Aws.REGION} --secret-id ${tvm.secret.secretArn} --secret-string "$MOMENTO_API_KEY"`,
      'Run with MOMENTO_API_KEY set to put the Momento API key into the secret',
    );
    if (tvm.userPool) out('UserPoolId', tvm.userPool.userPoolId, 'Cognito user pool whose ID tokens the API accepts');
    if (tvm.userPoolClient)
      out('UserPoolClientId', tvm.userPoolClient.userPoolClientId, 'App client id for the web front end');
    else if (tvm.userPoolClientIds)
      out('UserPoolClientIds', tvm.userPoolClientIds.join(','), 'App client ids the TVM is configured for');
    if (tvm.apiKeysSecret)
      out('ApiKeysSecretArn', tvm.apiKeysSecret.secretArn, 'Secret holding the hashed API keys for the authorizer');
    if (tvm.revocationTable)
      out(
        'RevocationTableName',
        tvm.revocationTable.tableName,
        'Revocation table: TVM_REVOCATION_TABLE for npm run revoke / npm run users -- revoke',
      );
    out('AlarmTopicArn', tvm.alarmTopic.topicArn, 'SNS topic the alarms notify');
    out('DashboardUrl', dashboardUrl(this, tvm.dashboard.dashboardName), 'CloudWatch dashboard of the TVM');
  }
}
