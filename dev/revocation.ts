/**
 * Revocation for `npm run dev` and the tests: a local DynamoDB API (dynalite, in memory, 127.0.0.1) with the
 * table the stack creates, and the SAME check the vending function runs (RevocationCheck over the DynamoDB store
 * and the signed common/aws client). `npm run revoke` in another terminal writes to it with the env it prints.
 * Development only: nothing is persisted; the local credentials are placeholders dynalite does not verify, so
 * the table is locked to local tools ({@link guardLocalApi}).
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { awsJsonCall, DYNAMODB } from '../common/aws';
import { problemBody } from '../common/problems';
import type { ResolvedConfig } from '../config/schema';
import { REVOCATION_ATTRIBUTES as A, type RevocationCheck } from '../lambda/revocation';
import { revocationFromEnv } from '../lambda/revocation-env';
import { refuseForeignHost } from './host-guard';

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

/**
 * Puts the dev server's lock in front of dynalite's own handler: `Host` must be this machine at this port (DNS
 * rebinding, dev/host-guard.ts) and there must be no `Origin` (dynalite answers `Access-Control-Allow-Origin: *`,
 * so any page could otherwise lift a local revocation with a cross-site DeleteItem). The SDKs, the revoke CLI and
 * common/aws send no `Origin`; browsers send one on every cross-origin POST and preflight.
 */
export function guardLocalApi(server: Server): void {
  const handlers = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const port = (server.address() as AddressInfo).port;
    if (refuseForeignHost(req, res, port)) return;
    if (req.headers.origin !== undefined) {
      const detail = 'the local revocation table answers only local tools (no Origin header), never a web page';
      res
        .writeHead(403, { 'Content-Type': 'application/problem+json', 'Cache-Control': 'no-store' })
        .end(JSON.stringify(problemBody('origin-not-allowed', detail, undefined)));
      return;
    }
    for (const handler of handlers) handler.call(server, req, res);
  });
}

/** Starts dynalite on 127.0.0.1 (a free port unless given) and creates the revocation table in it. */
export async function startLocalRevocationTable(
  options: { port?: number; tableName?: string } = {},
): Promise<LocalRevocationTable> {
  // A devDependency: loaded only here, never by the functions.
  const { default: dynalite } = await import('dynalite');
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  guardLocalApi(server);
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
