/**
 * Revocation infrastructure: the table of revocation records the vending function reads before it mints or
 * serves a cached token (`npm run revoke` writes it), and — with `auth.liveGroups` — read access to the user
 * pool's group memberships. The function gets exactly `dynamodb:GetItem` on this table and
 * `cognito-idp:ListUsers` + `cognito-idp:AdminListGroupsForUser` on this pool; nothing in the stack can write the table (operators do,
 * with their own credentials).
 */
import {
  RemovalPolicy,
  aws_cognito as cognito,
  aws_dynamodb as dynamodb,
  aws_iam as iam,
  aws_kms as kms,
  aws_lambda as lambda,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { ResolvedPolicy } from '../config/schema';

/**
 * The table's attribute names. lib/ never imports handler code: these equal REVOCATION_ATTRIBUTES in
 * lambda/revocation.ts, which test/infra/revocation.test.ts checks.
 */
export const TABLE_ATTRIBUTES = { principal: 'principal', expiresAt: 'expiresAt' } as const;

/** Properties of {@link RevocationTable}. */
export interface RevocationTableProps {
  /** Customer managed key for the table. @default - the AWS managed key for DynamoDB (aws/dynamodb) */
  readonly encryptionKey?: kms.IKey;
  /**
   * What happens to the table when it leaves the stack. The records are the operators' revocations: keep them.
   * @default RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** The revocation table: on-demand, point-in-time recovery, TTL on `expiresAt`, encrypted. */
export class RevocationTable extends Construct {
  /** The table (partition key `principal`, a string `<source>:<id>`). */
  readonly table: dynamodb.Table;
  /** The customer managed key, when one was given. */
  readonly encryptionKey?: kms.IKey;

  constructor(scope: Construct, id: string, props: RevocationTableProps = {}) {
    super(scope, id);
    this.encryptionKey = props.encryptionKey;
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: TABLE_ATTRIBUTES.principal, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: TABLE_ATTRIBUTES.expiresAt,
      ...(props.encryptionKey
        ? { encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED, encryptionKey: props.encryptionKey }
        : { encryption: dynamodb.TableEncryption.AWS_MANAGED }),
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    });
  }

  /**
   * Lets `grantee` read records: `dynamodb:GetItem`, and `BatchGetItem` (the record and the fleet's cached token in
   * one round trip), on this table only (and decrypt with its key). Never a write.
   */
  grantCheck(grantee: iam.IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'CheckRevocations',
        actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem'],
        resources: [this.table.tableArn],
      }),
    );
    this.encryptionKey?.grantDecrypt(grantee);
  }
}

/** What {@link addRevocation} wires. */
export interface AddRevocationProps {
  readonly config: ResolvedPolicy;
  /** The vending function (its role gets the grants, its environment the names). */
  readonly vendingFunction: lambda.Function;
  /** The user pool (cognito mode), for `auth.liveGroups`. */
  readonly userPool?: cognito.IUserPool;
  /** @default - the AWS managed key */
  readonly encryptionKey?: kms.IKey;
}

/**
 * Creates the revocation table when `revocation.enabled` (cognito and authorizer modes) and grants the vending
 * function `GetItem` on it (`TVM_REVOCATION_TABLE`); with `auth.liveGroups`, grants `ListUsers` and
 * `AdminListGroupsForUser` on the pool (`TVM_USER_POOL_ID`). Returns the table construct, or undefined when there is none.
 */
export function addRevocation(scope: Construct, props: AddRevocationProps): RevocationTable | undefined {
  const { config, vendingFunction: fn } = props;
  let revocation: RevocationTable | undefined;
  if (config.revocation.enabled && config.auth.mode !== 'open') {
    revocation = new RevocationTable(scope, 'Revocation', { encryptionKey: props.encryptionKey });
    revocation.grantCheck(fn);
    fn.addEnvironment('TVM_REVOCATION_TABLE', revocation.table.tableName);
  }
  if (config.auth.mode === 'cognito' && config.auth.liveGroups && props.userPool) {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadLiveGroups',
        // ListUsers finds the token's user by sub; AdminListGroupsForUser reads that user's groups.
        actions: ['cognito-idp:ListUsers', 'cognito-idp:AdminListGroupsForUser'],
        resources: [props.userPool.userPoolArn],
      }),
    );
    fn.addEnvironment('TVM_USER_POOL_ID', props.userPool.userPoolId);
  }
  return revocation;
}
