/**
 * The token table for local runs (the dev server, the integration tests, the storm bench): created in a local
 * DynamoDB API (dynalite) with the key schema lib/fleet-table.ts gives the stack's table. Development only. It
 * lives in the dynalite that dev/revocation.ts starts (the `env` it returns), so it has the same lock: a local
 * `Host`, no `Origin`.
 */
import { awsJsonCall, DYNAMODB } from '../common/aws';
import { TOKEN_TABLE_ATTRIBUTES as A } from '../lambda/fleet-tokens';

/** The table's key schema, as lib/fleet-table.ts creates it (partition key `pk`, a string). */
export const FLEET_TABLE_KEY_SCHEMA = {
  AttributeDefinitions: [{ AttributeName: A.pk, AttributeType: 'S' }],
  KeySchema: [{ AttributeName: A.pk, KeyType: 'HASH' }],
  BillingMode: 'PAY_PER_REQUEST',
} as const;

/**
 * Creates the token table `tableName` in the DynamoDB that `env` points at (`AWS_ENDPOINT_URL_DYNAMODB`) and
 * returns `env` plus `TVM_FLEET_TABLE`, what the vending function reads.
 */
export async function createLocalFleetTable(
  env: Readonly<Record<string, string>>,
  tableName = 'tvm-fleet-tokens',
): Promise<Record<string, string>> {
  await awsJsonCall({
    service: DYNAMODB,
    operation: 'CreateTable',
    body: { TableName: tableName, ...FLEET_TABLE_KEY_SCHEMA },
    timeoutMs: 5000,
    env,
  });
  return { ...env, TVM_FLEET_TABLE: tableName };
}
