/**
 * Local stand-ins for what a cold Lambda talks to, all on 127.0.0.1 in the benchmark's own process:
 * the fake Momento token service behind its CONNECT proxy (dev/fake-momento), and the Secrets Manager stub
 * (test/support/secrets-manager-stub.ts: `GetSecretValue`, each request's SigV4 signature verified) that both the
 * vending bundle and the reference handler reach through AWS_ENDPOINT_URL_SECRETS_MANAGER.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { ROOT } from '../lib/bundling';
import { awsJsonCall, DYNAMODB } from '../common/aws';
import type { FakeMomento } from '../dev/fake-momento';
import { startLocalRevocationTable } from '../dev/revocation';
import { startSecretsManagerStub } from '../test/support/secrets-manager-stub';

/** Options of {@link startLocalServices}. */
export interface LocalServicesOptions {
  /** The fake Momento's account budget (dev/fake-momento: `authOpsPerSecond`). @default no budget */
  readonly authOpsPerSecond?: number;
  /**
   * Also create a fleet table (partition key `pk`, string; TTL attribute `ttl`) in the same dynalite and put its
   * name in `TVM_FLEET_TABLE`. @default no fleet table
   */
  readonly fleetTable?: string;
}

export interface LocalServices {
  /** Environment for a child process: proxy, test CA, endpoints, secret stub. Apply before grpc-js loads. */
  readonly env: Record<string, string>;
  /** Calls the fake Momento has received so far. */
  fakeCalls(): number;
  /** The fake's record of every call (arrival time, refused by the budget or not). */
  readonly momento: FakeMomento;
  /** Notes on what could not be set up exactly (e.g. dynalite without TTL support). */
  readonly notes: readonly string[];
  close(): Promise<void>;
}

/** Starts the services, or returns why not (the fake is missing while others are still writing it). */
export async function startLocalServices(
  options: LocalServicesOptions = {},
): Promise<LocalServices | { problem: string }> {
  if (!existsSync(path.join(ROOT, 'dev', 'fake-momento', 'index.ts'))) return { problem: 'missing (dev/fake-momento)' };
  // Loaded here, not at the top: the benchmark must run (bundle and cold-init rows) without the fake.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const fakeMomento = require('../dev/fake-momento') as typeof import('../dev/fake-momento');
  const apiKey = fakeMomento.fakeV2ApiKey();
  const secretId = 'tvm/bench/momento-api-key';
  const stub = await startSecretsManagerStub({ region: 'us-west-2', secrets: { [secretId]: { value: apiKey } } });
  const local = await fakeMomento.startLocalMomento({ authOpsPerSecond: options.authOpsPerSecond });
  // The revocation table the vending function checks before its first mint (a real DynamoDB API, no record).
  const revocation = await startLocalRevocationTable({ tableName: 'tvm-bench-revocations' });
  const notes: string[] = [];
  if (options.fleetTable) notes.push(...(await createFleetTable(options.fleetTable, revocation.env)));
  return {
    momento: local.fake,
    notes,
    env: {
      ...local.env,
      TVM_SECRET_ID: secretId,
      BENCH_MOMENTO_API_KEY: apiKey,
      // Endpoint, region and the dummy credentials the stub verifies signatures with (they replace the
      // benchmark's Lambda-like dummies).
      ...stub.env,
      AWS_ENDPOINT_URL_DYNAMODB: revocation.endpoint,
      TVM_REVOCATION_TABLE: revocation.tableName,
      ...(options.fleetTable ? { TVM_FLEET_TABLE: options.fleetTable } : {}),
    },
    fakeCalls: () => local.fake.received.length,
    async close() {
      await stub.close();
      await revocation.close();
      await local.close();
    },
  };
}

/** The fleet table's shape: partition key `pk` (string), TTL on `ttl`. Returns notes on what dynalite lacks. */
async function createFleetTable(tableName: string, env: Readonly<Record<string, string>>): Promise<string[]> {
  const call = (operation: string, body: unknown) =>
    awsJsonCall({ service: DYNAMODB, operation, body, timeoutMs: 5000, env });
  await call('CreateTable', {
    TableName: tableName,
    AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    BillingMode: 'PAY_PER_REQUEST',
  });
  try {
    await call('UpdateTimeToLive', {
      TableName: tableName,
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
    });
    return [];
  } catch (e) {
    // TTL only deletes expired items, late and in the background; within a storm nothing expires anyway.
    return [`fleet table: TTL not enabled (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`];
  }
}
