/**
 * Revocation for `npm run dev` and the tests: a local DynamoDB API (dynalite, in memory, 127.0.0.1) with the
 * table the stack creates, and the SAME check the vending function runs (RevocationCheck over the DynamoDB store
 * and the signed common/aws client). `npm run revoke` in another terminal writes to it with the env it prints.
 * Development only: nothing is persisted; the local credentials are placeholders dynalite does not verify.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { awsJsonCall, DYNAMODB } from '../common/aws';
import type { ResolvedConfig } from '../config/schema';
import { REVOCATION_ATTRIBUTES as A, type RevocationCheck } from '../lambda/revocation';
import { revocationFromEnv } from '../lambda/revocation-env';

/** A running local revocation table. */
export interface LocalRevocationTable {
  /** The table name (what TVM_REVOCATION_TABLE holds in the stack). */
  readonly tableName: string;
  /** e.g. http://127.0.0.1:41234 */
  readonly endpoint: string;
  /** Environment for anything that should talk to this table (the revoke CLI, the AWS SDKs, common/aws). */
  readonly env: Readonly<Record<string, string>>;
  close(): Promise<void>;
}

/** The table's key schema, as lib/revocation.ts creates it (partition key `principal`, a string). */
export const TABLE_KEY_SCHEMA = {
  AttributeDefinitions: [{ AttributeName: A.principal, AttributeType: 'S' }],
  KeySchema: [{ AttributeName: A.principal, KeyType: 'HASH' }],
  BillingMode: 'PAY_PER_REQUEST',
} as const;

/** Starts dynalite on 127.0.0.1 (a free port unless given) and creates the revocation table in it. */
export async function startLocalRevocationTable(
  options: { port?: number; tableName?: string } = {},
): Promise<LocalRevocationTable> {
  // A devDependency: loaded only here, never by the functions.
  const { default: dynalite } = await import('dynalite');
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) =>
    server.once('error', reject).listen(options.port ?? 0, '127.0.0.1', resolve),
  );
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const tableName = options.tableName ?? 'tvm-revocations';
  const env = {
    AWS_ENDPOINT_URL_DYNAMODB: endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    TVM_REVOCATION_TABLE: tableName,
  };
  await awsJsonCall({
    service: DYNAMODB,
    operation: 'CreateTable',
    body: { TableName: tableName, ...TABLE_KEY_SCHEMA },
    timeoutMs: 5000,
    env,
  });
  return {
    tableName,
    endpoint,
    env,
    close: () =>
      new Promise<void>((resolve) => {
        (server as Server & { closeAllConnections?: () => void }).closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

/**
 * For the dev server: when `revocation.enabled` (cognito and authorizer modes), a local table and the check the
 * vending function runs against it; undefined otherwise. Prints how to revoke from another terminal.
 */
export async function startDevRevocation(
  config: ResolvedConfig,
  log: (line: string) => void,
): Promise<{ revocation: RevocationCheck; table: LocalRevocationTable } | undefined> {
  if (!config.revocation.enabled || config.auth.mode === 'open') return undefined;
  const table = await startLocalRevocationTable();
  // The function's own wiring (lambda/revocation-env.ts), pointed at the local table.
  const revocation = revocationFromEnv(config, table.env)!;
  const vars = Object.entries(table.env)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  log(`  revocation: local table ${table.tableName} at ${table.endpoint} (dynalite, in memory)`);
  log(`              ${vars} npm run revoke -- <source>:<id>`);
  return { revocation, table };
}
