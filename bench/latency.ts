/**
 * Parent side of the warm-latency part: bundles bench/latency-child.ts with the stack's esbuild options, starts
 * the fake Momento service and its CONNECT proxy on 127.0.0.1 (in this process), runs the child with their
 * environment (set before grpc-js loads there), and turns its samples into table rows.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import * as esbuild from 'esbuild';
import { BUNDLE_OPTIONS, ROOT, sourceDefines } from '../lib/bundling';
import type { LatencyResult } from './latency-child';
import type { LocalServices } from './services';
import { bytes, ms, percentile, verdict, type Row } from './stats';

export interface LatencyReport {
  readonly rows: Row[];
}

/** The child is killed after this long, whatever it is doing. */
const CHILD_TIMEOUT_MS = 150_000;
const NEEDED = ['lambda/vend.ts', 'lambda/momento/index.ts', 'lambda/telemetry.ts'];

export async function runLatency(opts: {
  quick: boolean;
  outDir: string;
  env: NodeJS.ProcessEnv;
  services: LocalServices;
}): Promise<LatencyReport | { problem: string }> {
  const missing = NEEDED.filter((f) => !existsSync(path.join(ROOT, f)));
  if (missing.length) return { problem: `missing (${missing.join(', ')})` };

  const childFile = path.join(opts.outDir, 'latency-child.js');
  try {
    await esbuild.build({
      ...BUNDLE_OPTIONS,
      mainFields: [...BUNDLE_OPTIONS.mainFields],
      external: [...BUNDLE_OPTIONS.external],
      define: sourceDefines(),
      entryPoints: [path.join(__dirname, 'latency-child.ts')],
      outfile: childFile,
      logLevel: 'silent',
    });
  } catch (e) {
    const first = (e as { errors?: esbuild.Message[] }).errors?.[0];
    return { problem: `latency child build failed: ${first ? first.text : String(e)}` };
  }

  const resultFile = path.join(opts.outDir, 'latency.json');
  rmSync(resultFile, { force: true });
  let stderr = '';
  const code = await new Promise<number | string>((resolve) => {
    const child = spawn(process.execPath, ['--expose-gc', childFile], {
      env: {
        ...opts.env,
        ...opts.services.env,
        BENCH_RESULT_FILE: resultFile,
        BENCH_QUICK: opts.quick ? '1' : '0',
        POWERTOOLS_LOG_LEVEL: 'INFO',
      },
      // Its stdout is the handler's audit log and EMF metrics: wanted as work done, not as output.
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (c, signal) => {
      clearTimeout(timer);
      resolve(c ?? signal ?? 'unknown');
    });
  });
  if (code !== 0 || !existsSync(resultFile)) {
    return { problem: `latency child failed (${code}): ${stderr.trim().split('\n').slice(0, 3).join(' | ')}` };
  }
  const r = JSON.parse(readFileSync(resultFile, 'utf8')) as LatencyResult;
  return { rows: rowsOf(r, opts.services.fakeCalls()) };
}

function rowsOf(r: LatencyResult, fakeCalls: number): Row[] {
  const rows: Row[] = [];
  const pct = (s: ArrayLike<number>) => `p50 ${ms(percentile(s, 0.5))}, p99 ${ms(percentile(s, 0.99))}`;
  const run = (key: string) => {
    const x = r.requests[key];
    if (!x) return { text: 'missing', samples: [] as number[] };
    const bad = x.errors ? `, ${x.errors} non-200: ${JSON.stringify(x.statuses)}` : '';
    return { text: `${pct(x.samples)}  (n=${x.samples.length}${bad})`, samples: x.samples };
  };
  rows.push(['first request right after init (in the latency child)', ms(r.firstRequestMs), '', '']);
  rows.push(['warm latency, real minter, c=1 (cache off)', run('realSerial').text, '', '']);
  rows.push(['warm latency, real minter, c=200 (cache off)', run('realConcurrent').text, '', '']);
  const overhead = run('instantSerial');
  const p99 = percentile(overhead.samples, 0.99);
  rows.push([
    'handler overhead (instant minter), c=1',
    overhead.text,
    '≤ 1 ms (p99)',
    verdict(Number.isNaN(p99) ? undefined : p99 <= 1),
  ]);
  rows.push(['handler overhead (instant minter), c=200', run('instantConcurrent').text, '', '']);
  rows.push(['handler self-reported (latencyMs − mintLatencyMs), c=1', pct(r.selfReportedOverhead), '', '']);
  const cached = r.requests.cachedConcurrent;
  rows.push([
    'warm latency, cache on, c=200, 100 identities',
    `${run('cachedConcurrent').text}; ${r.mintsWithCache} mints for ${cached?.samples.length ?? 0} requests`,
    '',
    '',
  ]);
  rows.push(['fake Momento calls received (all runs)', String(fakeCalls), '', '']);
  const mem = (m: NodeJS.MemoryUsage) => `RSS ${bytes(m.rss)}, heapUsed ${bytes(m.heapUsed)}`;
  rows.push(['memory after init (after gc)', mem(r.memory.afterInit), '', '']);
  rows.push([`memory after ${r.memory.warmUpRequests} real requests (after gc)`, mem(r.memory.afterWarmUp), '', '']);
  rows.push([
    `memory after ${r.memory.requests.toLocaleString('en-US')} real requests (after gc)`,
    mem(r.memory.afterRequests),
    '',
    '',
  ]);
  return rows;
}
