/**
 * `npm run load-test [-- --requests 10000 --concurrency 200 --scenario both --seed 42]` (issue 5).
 *
 * Drives the REAL vending handler (createVendHandler + createGrpcMinter, wired as lambda/handler.ts wires it)
 * against the local fake Momento token service over real gRPC/TLS through its CONNECT proxy, with the token cache
 * DISABLED so every request mints. Loopback only; stops by itself (hard watchdog). Two scenarios:
 *
 * - healthy: Momento answers ok → every request must be a 200.
 * - half-failing: each gRPC call fails with UNAVAILABLE with probability √½, independently (a seeded coin per
 *   call, pre-drawn into the fake's behaviour queue). The minter retries UNAVAILABLE once, so a request fails
 *   only when both its calls fail: ≈ 50 % of requests. Every request is checked against what the fake did to its
 *   own calls (matched by token_id): 503 exactly for those whose two calls both failed, 200 for the rest,
 *   nothing else, nothing unanswered, nothing slower than 2 × deadline + margin.
 *
 * Prints requests, duration, req/s, status counts, latency p50/p99/max and what the fake received; exits 1 when
 * an invariant fails. Never prints a token or key. Also imported by test/integration/load.test.ts (smaller run).
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { seededRandom } from './seeded-random';
import { validateConfig, type ResolvedConfig } from '../config/schema';
import tvmConfig from '../config/tvm.config';
import {
  FAKE_ENDPOINT,
  fakeMomentoEnv,
  fakeV2ApiKey,
  startLocalMomento,
  type FakeBehavior,
  type LocalMomento,
} from '../dev/fake-momento';
import { createGrpcMinter, staticKeySource, type GrpcMinter } from '../lambda/momento';
import { createVendHandler, type VendHandler } from '../lambda/vend';
import { cognitoAuthorizer, tokenEvent } from '../test/support/events';
import { requireSupportedNode } from './node-support';

/** gRPC UNAVAILABLE. */
const UNAVAILABLE = 14;
/** Per-call failure probability so that P(both of a request's two calls fail) = ½. */
export const CALL_FAILURE_P = Math.SQRT1_2;

/** The vending function as one warm Lambda container sees it, against the local fake. */
interface LoadRig {
  readonly handler: VendHandler;
  readonly local: LocalMomento;
  readonly config: ResolvedConfig;
  close(): Promise<void>;
}

/**
 * Starts the fake + proxy and builds the handler like lambda/handler.ts (config/tvm.config.ts, Cognito mode,
 * with momento.endpoint → the fake and the token cache off). The caller must have applied `fakeMomentoEnv()`
 * before grpc-js loaded (jest: test/integration/setup-env.ts; the CLI: main()).
 */
async function startLoadRig(options: { deadlineMs?: number } = {}): Promise<LoadRig> {
  const local = await startLocalMomento();
  Object.assign(process.env, local.env);
  const config = validateConfig({
    ...tvmConfig,
    momento: {
      ...tvmConfig.momento,
      endpoint: FAKE_ENDPOINT,
      deadlineMs: options.deadlineMs ?? tvmConfig.momento.deadlineMs,
    },
    tokenCache: { enabled: false },
  });
  const minter: GrpcMinter = createGrpcMinter({
    keySource: staticKeySource(fakeV2ApiKey()),
    endpoint: config.momento.endpoint,
    deadlineMs: config.momento.deadlineMs,
  });
  await minter.warmUp();
  const handler = createVendHandler({ config, minter, cognitoClientIds: ['4example1client2id3'] });
  return {
    handler,
    local,
    config,
    async close() {
      minter.close();
      await local.close();
    },
  };
}

/** The subject (and so token_id) of request `i`: one identity per request, so the fake's calls map back to it. */
const subjectOf = (i: number): string => `load-${i}`;

/** A Cognito member's `GET /token`, as API Gateway delivers it. */
const memberEvent = (i: number): APIGatewayProxyEvent =>
  tokenEvent({ authorizer: cognitoAuthorizer(subjectOf(i), ['members']) });

/** One request's outcome. */
interface Outcome {
  readonly i: number;
  readonly status: number;
  readonly code?: string;
  readonly ms: number;
}

/** Runs `requests` requests, `concurrency` at a time; returns every outcome (index = request number). */
async function runLoad(
  handler: VendHandler,
  options: { requests: number; concurrency: number; event?: (i: number) => APIGatewayProxyEvent },
): Promise<{ outcomes: Outcome[]; durationMs: number }> {
  const { requests, concurrency } = options;
  const event = options.event ?? memberEvent;
  const outcomes: Outcome[] = new Array(requests);
  let next = 0;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    while (next < requests) {
      const i = next++;
      const t0 = performance.now();
      try {
        const res = await handler(event(i));
        let code: string | undefined;
        if (res.statusCode !== 200) code = (JSON.parse(res.body) as { code?: string }).code;
        outcomes[i] = { i, status: res.statusCode, code, ms: performance.now() - t0 };
      } catch {
        // The handler must never throw: a Lambda error is API Gateway's 502 with no CORS.
        outcomes[i] = { i, status: -1, code: 'handler-threw', ms: performance.now() - t0 };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, requests) }, worker));
  return { outcomes, durationMs: performance.now() - started };
}

/** The fake's behaviour queue for the half-failing scenario: one independent coin per call (≤ 2 per request). */
function halfFailingBehaviors(requests: number, seed: number): FakeBehavior[] {
  const random = seededRandom(seed);
  return Array.from({ length: 2 * requests }, () => (random() < CALL_FAILURE_P ? { code: UNAVAILABLE } : 'ok'));
}

const percentile = (sorted: readonly number[], p: number): number =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

/** Figures of one run. */
export interface Summary {
  readonly requests: number;
  readonly answered: number;
  readonly durationMs: number;
  readonly rps: number;
  readonly statuses: Record<string, number>;
  readonly codes: Record<string, number>;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

function summarize(outcomes: readonly (Outcome | undefined)[], durationMs: number): Summary {
  const done = outcomes.filter((o): o is Outcome => o !== undefined);
  const statuses: Record<string, number> = {};
  const codes: Record<string, number> = {};
  for (const o of done) {
    statuses[o.status] = (statuses[o.status] ?? 0) + 1;
    if (o.code) codes[o.code] = (codes[o.code] ?? 0) + 1;
  }
  const ms = done.map((o) => o.ms).sort((a, b) => a - b);
  return {
    requests: outcomes.length,
    answered: done.length,
    durationMs,
    rps: done.length / (durationMs / 1000),
    statuses,
    codes,
    p50: percentile(ms, 50),
    p99: percentile(ms, 99),
    max: ms.at(-1) ?? NaN,
  };
}

/** What the fake did to each request's calls, by token_id: e.g. `[14, 'ok']`. */
function callsByRequest(local: LocalMomento): Map<string, Array<number | 'ok' | 'other'>> {
  const out = new Map<string, Array<number | 'ok' | 'other'>>();
  for (const r of local.fake.received) {
    const b = r.behavior;
    const what = b === 'ok' ? 'ok' : typeof b === 'object' && 'code' in b ? b.code : 'other';
    const list = out.get(r.tokenId) ?? [];
    list.push(what);
    out.set(r.tokenId, list);
  }
  return out;
}

/**
 * Checks one run against what the fake did, request by request. Returns the violations (empty when fine):
 * unanswered, slower than `maxMs`, a status other than 200/503, or a status that does not match the request's
 * own calls (200 ⇔ its last call was ok after at most one UNAVAILABLE; 503 ⇔ two UNAVAILABLEs).
 */
function violations(outcomes: readonly (Outcome | undefined)[], local: LocalMomento, maxMs: number): string[] {
  const problems: string[] = [];
  const calls = callsByRequest(local);
  outcomes.forEach((o, i) => {
    if (o === undefined) return void problems.push(`request ${i}: never answered`);
    if (o.ms > maxMs) problems.push(`request ${i}: answered after ${o.ms.toFixed(0)} ms (> ${maxMs})`);
    const c = calls.get(subjectOf(i)) ?? [];
    const expected =
      c.length === 1 && c[0] === 'ok'
        ? 200
        : c.length === 2 && c[0] === UNAVAILABLE && c[1] === 'ok'
          ? 200
          : c.length === 2 && c[0] === UNAVAILABLE && c[1] === UNAVAILABLE
            ? 503
            : undefined;
    if (expected === undefined) problems.push(`request ${i}: unexpected calls at the fake ${JSON.stringify(c)}`);
    else if (o.status !== expected)
      problems.push(
        `request ${i}: status ${o.status} (${o.code ?? '-'}), expected ${expected} from calls ${JSON.stringify(c)}`,
      );
  });
  return problems;
}

/** One scenario on a fresh rig: healthy or half-failing. */
export async function scenario(
  kind: 'healthy' | 'half-failing',
  options: { requests: number; concurrency: number; seed?: number; deadlineMs?: number; marginMs?: number },
): Promise<{
  summary: Summary;
  violations: string[];
  fakeCalls: number;
  fakeOk: number;
  fakeUnavailable: number;
  expectedFailures: number;
  connections: number;
  maxMs: number;
}> {
  const rig = await startLoadRig({ deadlineMs: options.deadlineMs });
  try {
    if (kind === 'half-failing') rig.local.fake.setBehavior(halfFailingBehaviors(options.requests, options.seed ?? 42));
    const connectionsBefore = rig.local.proxy.connections;
    const { outcomes, durationMs } = await runLoad(rig.handler, options);
    const maxMs = 2 * rig.config.momento.deadlineMs + (options.marginMs ?? 1000);
    const received = rig.local.fake.received;
    const fakeOk = received.filter((r) => r.behavior === 'ok').length;
    const fakeUnavailable = received.filter(
      (r) => typeof r.behavior === 'object' && 'code' in r.behavior && r.behavior.code === UNAVAILABLE,
    ).length;
    const expectedFailures = [...callsByRequest(rig.local).values()].filter(
      (c) => c.length === 2 && c.every((x) => x === UNAVAILABLE),
    ).length;
    return {
      summary: summarize(outcomes, durationMs),
      violations: violations(outcomes, rig.local, maxMs),
      fakeCalls: received.length,
      fakeOk,
      fakeUnavailable,
      expectedFailures,
      connections: rig.local.proxy.connections - connectionsBefore,
      maxMs,
    };
  } finally {
    await rig.close();
  }
}

/** `npm run load-test -- --help`. */
const USAGE = `Usage: npm run load-test -- [--requests 10000] [--concurrency 200] [--scenario both|healthy|half-failing] [--seed 42]

Drives the real vending handler and the real gRPC minter against the local fake Momento (loopback only, token
cache off; about 35 s for both scenarios at the defaults). Exits 1 when an invariant fails.

  --requests <n>       requests per scenario (default 10000)
  --concurrency <n>    requests in flight (default 200)
  --scenario <s>       healthy, half-failing (each gRPC call UNAVAILABLE with p = √½) or both (default)
  --seed <n>           seed of the half-failing coin (default 42)
  -h, --help           this text`;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

async function main(): Promise<number> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  // grpc-js reads the CA path once, when first required: before anything mints. Overrides the machine's own.
  Object.assign(process.env, fakeMomentoEnv());
  const requests = Number(arg('requests', '10000'));
  const concurrency = Number(arg('concurrency', '200'));
  const seed = Number(arg('seed', '42'));
  const which = arg('scenario', 'both');
  if (!Number.isInteger(requests) || requests < 1 || !Number.isInteger(concurrency) || concurrency < 1)
    throw new Error('--requests and --concurrency must be positive integers');
  const kinds = (which === 'both' ? ['healthy', 'half-failing'] : [which]) as Array<'healthy' | 'half-failing'>;
  let failed = false;
  console.log(
    `load test: real handler + real gRPC minter → fake Momento (TLS via CONNECT proxy), token cache off, Node ${process.version}`,
  );
  for (const kind of kinds) {
    const r = await scenario(kind, { requests, concurrency, seed });
    const s = r.summary;
    const fmt = (n: number) => `${n.toFixed(1)} ms`;
    const non503 = Object.entries(s.statuses).filter(([k]) => k !== '200' && k !== '503');
    const fiveXx = Object.entries(s.statuses)
      .filter(([k]) => k.startsWith('5'))
      .reduce((n, [, v]) => n + v, 0);
    console.log(
      [
        ``,
        `scenario: ${kind}${kind === 'half-failing' ? ` (each call UNAVAILABLE with p = √½ ≈ ${CALL_FAILURE_P.toFixed(4)}, seed ${seed}; one retry)` : ''}`,
        `  requests:      ${s.requests} (answered ${s.answered}) at concurrency ${concurrency}`,
        `  duration:      ${(s.durationMs / 1000).toFixed(2)} s`,
        `  throughput:    ${s.rps.toFixed(0)} req/s`,
        `  statuses:      ${JSON.stringify(s.statuses)}${Object.keys(s.codes).length ? `  codes: ${JSON.stringify(s.codes)}` : ''}`,
        `  5xx:           ${fiveXx} (${((100 * fiveXx) / s.requests).toFixed(1)} %)`,
        `  latency:       p50 ${fmt(s.p50)}, p99 ${fmt(s.p99)}, max ${fmt(s.max)} (limit ${r.maxMs} ms = 2 × deadline + 1 s)`,
        `  fake Momento:  ${r.fakeCalls} calls received (${r.fakeOk} minted ok, ${r.fakeUnavailable} UNAVAILABLE) over ${r.connections} new connection(s)`,
        ...(kind === 'half-failing'
          ? [`  expected 503s: ${r.expectedFailures} (requests whose two calls both failed)`]
          : []),
        `  invariants:    ${r.violations.length === 0 ? 'ok' : `${r.violations.length} violation(s)`}`,
        ...r.violations.slice(0, 10).map((v) => `    - ${v}`),
      ].join('\n'),
    );
    if (r.violations.length > 0 || s.answered !== s.requests || (kind === 'healthy' && fiveXx > 0) || non503.length > 0)
      failed = true;
  }
  return failed ? 1 : 0;
}

if (require.main === module) {
  requireSupportedNode('npm run load-test');
  // Stops by itself whatever happens: a hung run is a failed run.
  const watchdog = setTimeout(() => {
    console.error('load test: watchdog fired after 300 s; aborting');
    process.exit(2);
  }, 300_000);
  watchdog.unref();
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error('load test failed:', err instanceof Error ? err.message : String(err));
      process.exitCode = 1;
    },
  );
}
