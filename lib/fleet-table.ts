/**
 * The token table: the fleet-wide token cache (items `tok#…`, each token sealed with a key only the functions can
 * derive) and the mint governor's queue (`gov#mint`). lambda/fleet-tokens.ts and lambda/mint-governor.ts are its
 * only readers and writers; docs/decisions.md, D25 "Fleet token cache" and D26 "Mint governor".
 *
 * A separate table from the revocation records: the vending function must be able to write here and must never be
 * able to write there, and DynamoDB's BatchGetItem reads both in one round trip anyway.
 */
import { RemovalPolicy, aws_dynamodb as dynamodb, aws_iam as iam, aws_lambda as lambda } from 'aws-cdk-lib';
import { Construct } from 'constructs';

/** Attribute names (they equal TOKEN_TABLE_ATTRIBUTES in lambda/fleet-tokens.ts; test/infra checks it). */
export const FLEET_TABLE_ATTRIBUTES = { pk: 'pk', ttl: 'ttl' } as const;
/** The item key prefixes the functions may touch (the IAM condition). */
export const FLEET_KEY_PREFIXES = ['tok#', 'gov#'] as const;

/** The token table: on-demand, TTL on `ttl`, encrypted at rest; deleted with the stack (it holds only a cache). */
export class FleetTable extends Construct {
  /** The table (partition key `pk`). */
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: FLEET_TABLE_ATTRIBUTES.pk, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: FLEET_TABLE_ATTRIBUTES.ttl,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      // Recovery of a cache is pointless, but cheap for a table this small, and cdk-nag (AwsSolutions-DDB3) asks for it.
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Only sealed, short-lived tokens and a counter: nothing to keep when the stack goes.
      removalPolicy: RemovalPolicy.DESTROY,
    });
  }

  /** Lets `fn` read and write its items (`tok#…`, `gov#…` only) and names the table in `TVM_FLEET_TABLE`. */
  bind(fn: lambda.Function): void {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'UseFleetTokenTable',
        actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
        resources: [this.table.tableArn],
        conditions: {
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': FLEET_KEY_PREFIXES.map((p) => `${p}*`) },
        },
      }),
    );
    fn.addEnvironment('TVM_FLEET_TABLE', this.table.tableName);
  }
}
