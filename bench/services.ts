/**
 * Local stand-ins for what a cold Lambda talks to, all on 127.0.0.1 in the benchmark's own process:
 * the fake Momento token service behind its CONNECT proxy (dev/fake-momento), and the Secrets Manager stub
 * (test/support/secrets-manager-stub.ts: `GetSecretValue`, each request's SigV4 signature verified) that both the
 * vending bundle and the reference handler reach through AWS_ENDPOINT_URL_SECRETS_MANAGER.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { ROOT } from '../lib/bundling';
import { startLocalRevocationTable } from '../dev/revocation';
import { startSecretsManagerStub } from '../test/support/secrets-manager-stub';

export interface LocalServices {
  /** Environment for a child process: proxy, test CA, endpoints, secret stub. Apply before grpc-js loads. */
  readonly env: Record<string, string>;
  /** Calls the fake Momento has received so far. */
  fakeCalls(): number;
  close(): Promise<void>;
}

/** Starts the services, or returns why not (the fake is missing while others are still writing it). */
export async function startLocalServices(): Promise<LocalServices | { problem: string }> {
  if (!existsSync(path.join(ROOT, 'dev', 'fake-momento', 'index.ts'))) return { problem: 'missing (dev/fake-momento)' };
  // Loaded here, not at the top: the benchmark must run (bundle and cold-init rows) without the fake.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const fakeMomento = require('../dev/fake-momento') as typeof import('../dev/fake-momento');
  const apiKey = fakeMomento.fakeV2ApiKey();
  const secretId = 'tvm/bench/momento-api-key';
  const stub = await startSecretsManagerStub({ region: 'us-west-2', secrets: { [secretId]: { value: apiKey } } });
  const local = await fakeMomento.startLocalMomento();
  // The revocation table the vending function checks before its first mint (a real DynamoDB API, no record).
  const revocation = await startLocalRevocationTable({ tableName: 'tvm-bench-revocations' });
  return {
    env: {
      ...local.env,
      TVM_SECRET_ID: secretId,
      BENCH_MOMENTO_API_KEY: apiKey,
      // Endpoint, region and the dummy credentials the stub verifies signatures with (they replace the
      // benchmark's Lambda-like dummies).
      ...stub.env,
      AWS_ENDPOINT_URL_DYNAMODB: revocation.endpoint,
      TVM_REVOCATION_TABLE: revocation.tableName,
    },
    fakeCalls: () => local.fake.received.length,
    async close() {
      await stub.close();
      await revocation.close();
      await local.close();
    },
  };
}
