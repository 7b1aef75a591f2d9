/**
 * Child of `npm run bench`: warm latency and memory of the real vending handler. Bundled by the parent with the
 * stack's esbuild options and run with plain `node --expose-gc`, with the fake Momento's environment (CONNECT
 * proxy, test CA) already set, so grpc-js reads the test CA when it loads. Results go to the file named by
 * BENCH_RESULT_FILE; stdout carries the handler's own logs (the parent discards them, as Lambda ships them off).
 *
 * Handlers, all built as lambda/handler.ts builds them (Powertools telemetry), but with a static key:
 * - real: the gRPC minter against the fake over TLS, token cache off, so every request mints;
 * - instant: an in-memory minter that answers at once: its latency is the handler's own overhead;
 * - cached: the gRPC minter with the token cache on (the default).
 */
import { writeFileSync } from 'node:fs';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { validateConfig, type ResolvedConfig } from '../config/schema';
import defaultConfig from '../config/tvm.config';
import { createGrpcMinter, staticKeySource } from '../lambda/momento';
import { jsonTelemetry, type Telemetry } from '../lambda/telemetry';
import type { Minter } from '../lambda/types';
import { createVendHandler, type VendHandler } from '../lambda/vend';
import { BENCH_CLIENT_ID, subOf, tokenEvent } from './events';

/** What the child reports; all latencies in ms. */
export interface LatencyResult {
  readonly requests: Record<
    string,
    { readonly samples: number[]; readonly errors: number; readonly statuses: Record<string, number> }
  >;
  /** Handler-reported `latencyMs − mintLatencyMs` of the real run at concurrency 1. */
  readonly selfReportedOverhead: number[];
  readonly firstRequestMs: number;
  readonly mintsWithCache: number;
  readonly memory: {
    readonly afterInit: NodeJS.MemoryUsage;
    /** After the first request and the warm-up: grpc-js is loaded, the connection open. */
    readonly afterWarmUp: NodeJS.MemoryUsage;
    readonly warmUpRequests: number;
    readonly afterRequests: NodeJS.MemoryUsage;
    readonly requests: number;
  };
}

const resultFile = process.env.BENCH_RESULT_FILE;
const apiKey = process.env.BENCH_MOMENTO_API_KEY;
if (!resultFile || !apiKey) throw new Error('BENCH_RESULT_FILE and BENCH_MOMENTO_API_KEY must be set');
const QUICK = process.env.BENCH_QUICK === '1';
const N_SERIAL = QUICK ? 500 : 2000;
const N_CONCURRENT = 10_000;
const CONCURRENCY = 200;
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

function configWith(tokenCache: boolean): ResolvedConfig {
  const c = validateConfig(defaultConfig);
  return {
    ...c,
    momento: { ...c.momento, endpoint: process.env.MOMENTO_ENDPOINT ?? c.momento.endpoint },
    tokenCache: { ...c.tokenCache, enabled: tokenCache },
  };
}

let served = 0;
/** Sends `n` requests with `concurrency` in flight; returns per-request latency and non-200 counts. */
async function load(handler: VendHandler, n: number, concurrency: number, identities = n) {
  const samples = new Array<number>(n);
  const statuses: Record<string, number> = {};
  let next = 0;
  let errors = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      const event = tokenEvent(served + i, subOf(i % identities));
      const t0 = performance.now();
      const res: APIGatewayProxyResult = await handler(event);
      samples[i] = performance.now() - t0;
      // Non-200s are counted by status and problem code (e.g. "503 momento-timeout").
      const key =
        res.statusCode === 200
          ? '200'
          : `${res.statusCode} ${String((JSON.parse(res.body) as { code?: unknown }).code ?? '?')}`;
      statuses[key] = (statuses[key] ?? 0) + 1;
      if (res.statusCode !== 200) errors++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  served += n;
  return { samples, errors, statuses };
}

async function main(): Promise<void> {
  const telemetry = jsonTelemetry();
  const keySource = staticKeySource(apiKey as string);
  const minter = createGrpcMinter({ keySource, endpoint: process.env.MOMENTO_ENDPOINT, deadlineMs: 3000 });
  // As lambda/handler.ts: no warmUp() at init; grpc-js, the key and the connection come with the first mint.
  const cognitoClientIds = [BENCH_CLIENT_ID];
  const selfReportedOverhead: number[] = [];
  let measureSelf = false;
  let mintsWithCache = 0;
  const observed = (onRecord: (e: Parameters<Telemetry['record']>[0]) => void): Telemetry => ({
    ...telemetry,
    record: (e) => {
      onRecord(e);
      telemetry.record(e);
    },
  });
  const real = createVendHandler({
    config: configWith(false),
    minter,
    cognitoClientIds,
    telemetry: observed((e) => {
      if (measureSelf && e.latencyMs !== undefined) selfReportedOverhead.push(e.latencyMs - (e.mintLatencyMs ?? 0));
    }),
  });
  const token = { authToken: 'ZmFrZQ==', endpoint: 'momento.test', expiresAt: Math.floor(Date.now() / 1000) + 3600 };
  const instantMinter: Minter = { mint: () => Promise.resolve(token) };
  const instant = createVendHandler({ config: configWith(false), minter: instantMinter, telemetry, cognitoClientIds });
  const cached = createVendHandler({
    config: configWith(true),
    minter,
    cognitoClientIds,
    telemetry: observed((e) => {
      if (e.tokenSource === 'minted') mintsWithCache++;
    }),
  });
  gc();
  const afterInit = process.memoryUsage();

  const requests: LatencyResult['requests'] = {};
  // First request right after init: it loads grpc-js, reads the key, connects and mints, as on a cold Lambda.
  const t0 = performance.now();
  const first = await real(tokenEvent(0, subOf(0)));
  const firstRequestMs = performance.now() - t0;
  if (first.statusCode !== 200) throw new Error(`first request answered ${first.statusCode}: ${first.body}`);

  await load(real, 300, 1); // warm-up (JIT, connection)
  gc();
  const afterWarmUp = process.memoryUsage();
  const warmUpRequests = served + 1;
  measureSelf = true;
  requests.realSerial = await load(real, N_SERIAL, 1);
  measureSelf = false;
  requests.realConcurrent = await load(real, N_CONCURRENT, CONCURRENCY);
  gc();
  const afterRequests = process.memoryUsage();
  const realServed = served;

  await load(instant, 2000, 1); // warm-up
  requests.instantSerial = await load(instant, QUICK ? 2000 : 10_000, 1);
  requests.instantConcurrent = await load(instant, N_CONCURRENT, CONCURRENCY);

  // Token cache on: 100 identities, so the first request of each mints and the rest reuse.
  requests.cachedConcurrent = await load(cached, QUICK ? 2000 : 5000, CONCURRENCY, 100);

  minter.close();
  const result: LatencyResult = {
    requests,
    selfReportedOverhead,
    firstRequestMs,
    mintsWithCache,
    memory: { afterInit, afterWarmUp, warmUpRequests, afterRequests, requests: realServed + 1 },
  };
  writeFileSync(resultFile as string, JSON.stringify(result));
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
