/**
 * Local stand-ins for what a cold Lambda talks to, all on 127.0.0.1 in the benchmark's own process:
 * the fake Momento token service behind its CONNECT proxy (dev/fake-momento), and one HTTP stub that answers
 * both the Secrets Manager API (`GetSecretValue`, for the reference handler via AWS_ENDPOINT_URL_SECRETS_MANAGER)
 * and the Parameters and Secrets extension (`GET /secretsmanager/get`, for the vending handler).
 */
import { existsSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { ROOT } from '../lib/bundling';

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
  const secretJson = JSON.stringify({
    ARN: `arn:aws:secretsmanager:us-west-2:123456789012:secret:${secretId}-AbCdEf`,
    Name: secretId,
    SecretString: apiKey,
    VersionId: '00000000-0000-4000-8000-000000000000',
    VersionStages: ['AWSCURRENT'],
    CreatedDate: 1767225600,
  });
  const stub = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const isExtension = req.method === 'GET' && req.url?.startsWith('/secretsmanager/get?');
      const isApi = req.method === 'POST' && req.headers['x-amz-target'] === 'secretsmanager.GetSecretValue';
      // The revocation check (bench/revocation.ts measures it on its own): no record for anyone.
      if (req.method === 'POST' && req.headers['x-amz-target'] === 'DynamoDB_20120810.GetItem') {
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end('{}');
        return;
      }
      if (!isExtension && !isApi) {
        res
          .writeHead(400, { 'content-type': 'application/x-amz-json-1.1' })
          .end('{"__type":"InvalidRequestException"}');
        return;
      }
      res.writeHead(200, { 'content-type': isApi ? 'application/x-amz-json-1.1' : 'application/json' }).end(secretJson);
    });
  });
  await new Promise<void>((resolve) => stub.listen(0, '127.0.0.1', resolve));
  const stubPort = (stub.address() as AddressInfo).port;
  const local = await fakeMomento.startLocalMomento();
  return {
    env: {
      ...local.env,
      TVM_SECRET_ID: secretId,
      BENCH_MOMENTO_API_KEY: apiKey,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: `http://127.0.0.1:${stubPort}`,
      PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: String(stubPort),
      AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${stubPort}`,
      TVM_REVOCATION_TABLE: 'tvm-bench-revocations',
    },
    fakeCalls: () => local.fake.received.length,
    async close() {
      stub.closeAllConnections();
      await new Promise<void>((resolve) => stub.close(() => resolve()));
      await local.close();
    },
  };
}
