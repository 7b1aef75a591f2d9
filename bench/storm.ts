/**
 * The sign-in storm scenario of `npm run bench` (issue 16, item 8): K "containers" — child processes that each
 * load the real vending bundle (bench/storm-child.ts) — share one fake Momento with the account's mint budget
 * (dev/fake-momento `authOpsPerSecond`), one dynalite (revocation table, and the fleet table in product mode)
 * and one Secrets Manager stub. U users arrive uniformly, each with a few extra requests; every request passes
 * the stage throttle (a token bucket with the config's rateLimit / burstLimit, answering 429 `throttled` as API
 * Gateway does), then goes to the least-busy container. Clients retry as `@momento-tvm/client` does. The same
 * storm runs in `product` and `off` mode (bench/storm-model.ts), one after the other, each with fresh services.
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import * as esbuild from 'esbuild';
import { policyOf, validateConfig, type ResolvedPolicy } from '../config/schema';
import defaultConfig from '../config/tvm.config';
import { vendingTimeoutSeconds } from '../lib/token-vending-machine';
import { ENTRIES } from '../lib/bundling';
import { subOf, tokenEvent } from './events';
import { startLocalServices, type LocalServices } from './services';
import type { StormChildMessage, StormChildRequest } from './storm-child';
import {
  CLIENT_MODEL,
  FULL_STORM,
  GATEWAY_THROTTLED,
  QUICK_STORM,
  STORM_MODES,
  planStorm,
  seededRandom,
  stormConfigs,
  stormTargets,
  summarize,
  tokenBucket,
  type StormAnswer,
  type StormFigures,
  type StormMode,
  type StormRequest,
  type StormShape,
  type StormTarget,
} from './storm-model';
import { ms } from './stats';

/** Options of {@link runStorm}. */
export interface StormOptions {
  /** The smaller storm (bench/storm-model.ts `QUICK_STORM`). @default false */
  readonly quick?: boolean;
  /** Containers (child processes). @default 8 */
  readonly containers?: number;
  /** Users; overrides the storm's size. @default 1000 (250 with quick) */
  readonly users?: number;
  /** Seed of the storm's randomness (arrivals, tiers, extras, jitter). @default 16 */
  readonly seed?: number;
  /** Where bundles go (.bench). */
  readonly outDir: string;
  /** The Lambda-like environment of a container (bench/run.ts). */
  readonly lambdaEnv: Readonly<Record<string, string>>;
  /** Builds the vending bundle with a policy (bench/run.ts `build`): returns the file, or why not. */
  readonly build: (name: string, entry: string, configJson: string) => Promise<{ file?: string; problem?: string }>;
}

/** The storm's result: per-mode figures, the targets, and notes. */
export interface StormReport {
  readonly shape: StormShape;
  readonly containers: number;
  readonly budget: number;
  readonly throttle: { readonly rateLimit: number; readonly burstLimit: number };
  readonly deadlineMs: number;
  readonly figures: Partial<Record<StormMode, StormFigures>>;
  readonly targets: StormTarget[];
  readonly notes: string[];
  readonly problem?: string;
}

/** Momento's documented default, when the config does not name a budget (`momento.mintsPerSecond`). */
const MOMENTO_DEFAULT_BUDGET = 5;
const FLEET_TABLE = 'tvm-bench-fleet';

interface Container {
  readonly child: ChildProcess;
  inFlight: number;
}

async function startContainers(file: string, env: Record<string, string>, k: number): Promise<Container[]> {
  const childFile = path.join(path.dirname(file), '..', 'storm-child.js');
  const containers = await Promise.all(
    Array.from({ length: k }, () => {
      const child = fork(childFile, [file], { env, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
      let stderr = '';
      child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
      return new Promise<Container>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('a container did not start within 30 s')), 30_000);
        child.once('message', (m: StormChildMessage) => {
          clearTimeout(timer);
          if (m.type === 'ready') resolve({ child, inFlight: 0 });
          else reject(new Error(`a container failed at init: ${m.type === 'failed' ? m.error : m.type}`));
        });
        child.once('exit', (code) => reject(new Error(`a container exited (${code}): ${stderr.trim().slice(-300)}`)));
      });
    }),
  );
  return containers;
}

/** Sends events to containers and matches the answers; a request not answered by `deadlineMs` is a timeout. */
function dispatcher(containers: Container[], deadlineMs: number, random: () => number) {
  let nextId = 0;
  const pending = new Map<number, (a: StormAnswer) => void>();
  for (const c of containers)
    c.child.on('message', (m: StormChildMessage) => {
      if (m.type !== 'answer') return;
      const settle = pending.get(m.id);
      pending.delete(m.id);
      settle?.({
        status: m.status,
        code: m.code,
        retryAfter: m.retryAfter,
        expiresAt: m.expiresAt,
        calledMomento: m.calledMomento,
        reachedFunction: true,
      });
    });
  return (event: StormChildRequest['event']): Promise<StormAnswer> => {
    // Least busy first (fewest requests in flight), ties broken at random.
    const least = Math.min(...containers.map((c) => c.inFlight));
    const idle = containers.filter((c) => c.inFlight === least);
    const c = idle[Math.floor(random() * idle.length)] as Container;
    const id = nextId++;
    c.inFlight++;
    return new Promise<StormAnswer>((resolve) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        resolve({ status: 0, code: 'timeout', reachedFunction: true });
      }, deadlineMs);
      pending.set(id, (a) => {
        clearTimeout(timer);
        resolve(a);
      });
      c.child.send({ id, event } satisfies StormChildRequest);
    }).finally(() => c.inFlight--);
  };
}

const sleep = (msDelay: number) => new Promise<void>((r) => setTimeout(r, msDelay));

/** Runs one mode's storm against fresh services; returns its figures (or throws why it could not run). */
async function runMode(
  mode: StormMode,
  file: string,
  policy: ResolvedPolicy,
  opts: Required<Pick<StormOptions, 'containers' | 'seed'>> & {
    shape: StormShape;
    lambdaEnv: StormOptions['lambdaEnv'];
  },
  budget: number,
  throttle: StormReport['throttle'],
  deadlineMs: number,
  notes: string[],
): Promise<StormFigures> {
  const servicesOrProblem = await startLocalServices({
    authOpsPerSecond: budget,
    fleetTable: mode === 'product' ? FLEET_TABLE : undefined,
  });
  if ('problem' in servicesOrProblem) throw new Error(servicesOrProblem.problem);
  const services: LocalServices = servicesOrProblem;
  let containers: Container[] = [];
  try {
    notes.push(...services.notes.map((n) => `${mode}: ${n}`));
    containers = await startContainers(file, { ...opts.lambdaEnv, ...services.env }, opts.containers);
    const random = seededRandom(opts.seed);
    const send = dispatcher(containers, deadlineMs, random);
    const tierGroup = new Map(policy.tiers.map((t) => [t.name, t.groups[0]]));
    const groupOf = (tier: string): string => {
      const g = tierGroup.get(tier);
      if (!g) throw new Error(`the storm's tier mix names "${tier}", which has no group in the config`);
      return g;
    };
    let requestNo = 0;
    // Warm: each container serves one request (a user outside the storm), 250 ms apart to stay under the budget.
    for (const [i, c] of containers.entries()) {
      c.inFlight = 0;
      const a = await send(tokenEvent(requestNo++, `warm-${i}-${subOf(i)}`, [groupOf('member')]));
      if (a.status !== 200) throw new Error(`warm-up request answered ${a.status} ${a.code ?? ''}`);
      await sleep(250);
    }
    services.momento.received.length = 0;
    await sleep(1000 - (Date.now() % 1000) + 5);

    const plan = planStorm(opts.shape, random);
    const bucket = tokenBucket(throttle.rateLimit, throttle.burstLimit);
    const expiry = new Map<number, number>();
    const requests: StormRequest[] = [];
    const started = Date.now();
    const attempt = async (user: number, tier: string): Promise<StormAnswer> => {
      const sentMs = Date.now();
      const heldToken = (expiry.get(user) ?? 0) > sentMs / 1000;
      const answer: StormAnswer = bucket.take(sentMs)
        ? await send(tokenEvent(requestNo++, subOf(user), [groupOf(tier)]))
        : {
            status: GATEWAY_THROTTLED.status,
            code: GATEWAY_THROTTLED.code,
            retryAfter: GATEWAY_THROTTLED.retryAfter,
            reachedFunction: false,
          };
      requests.push({ user, tier, sentMs, ms: Date.now() - sentMs, answer, heldToken });
      if (answer.status === 200 && answer.expiresAt !== undefined)
        expiry.set(user, Math.max(expiry.get(user) ?? 0, answer.expiresAt));
      return answer;
    };
    const getToken = async (user: number, tier: string): Promise<void> => {
      for (let n = 1; n <= CLIENT_MODEL.maxAttempts; n++) {
        const a = await attempt(user, tier);
        if (a.status === 200 || !CLIENT_MODEL.transient(a.status) || n === CLIENT_MODEL.maxAttempts) return;
        await sleep(CLIENT_MODEL.delayMs(n, a.retryAfter, random));
      }
    };
    await Promise.all(
      plan.map(async (p) => {
        await sleep(Math.max(0, started + p.atMs - Date.now()));
        await getToken(p.user, p.tier);
      }),
    );
    const sharedTiers = new Set(
      policy.tiers.filter((t) => (t as { shared?: boolean }).shared === true).map((t) => t.name),
    );
    return summarize({
      requests,
      users: opts.shape.users,
      momento: services.momento.received,
      sharedTiers,
      endSeconds: Date.now() / 1000,
    });
  } finally {
    for (const c of containers) c.child.kill('SIGKILL');
    await services.close();
  }
}

/** Builds the bundles of both modes and runs the storm in each; never throws (a problem is reported). */
export async function runStorm(options: StormOptions): Promise<StormReport> {
  const base = options.quick ? QUICK_STORM : FULL_STORM;
  const shape = options.users === undefined ? base : { ...base, users: options.users };
  const containers = options.containers ?? 8;
  const seed = options.seed ?? 16;
  const resolved = validateConfig(defaultConfig);
  const config = policyOf(resolved);
  // The stage throttle the stack deploys (a deployment setting: in the validated config, not the policy).
  const throttle = resolved.throttling;
  // The fake answers as token.momento.test: only the policy's endpoint differs from the deployed bundle.
  const local = { ...config, momento: { ...config.momento, endpoint: 'momento.test' } };
  const budget = (config.momento as { mintsPerSecond?: number }).mintsPerSecond ?? MOMENTO_DEFAULT_BUDGET;
  const deadlineMs = vendingTimeoutSeconds(config.momento.deadlineMs) * 1000;
  const report = {
    shape,
    containers,
    budget,
    throttle,
    deadlineMs,
    figures: {} as Partial<Record<StormMode, StormFigures>>,
    targets: [] as StormTarget[],
    notes: [] as string[],
  };
  try {
    await esbuild.build({
      entryPoints: [path.join(__dirname, 'storm-child.ts')],
      outfile: path.join(options.outDir, 'storm-child.js'),
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      logLevel: 'error',
    });
    const configs = stormConfigs(local);
    for (const mode of STORM_MODES) {
      const built = await options.build(`vending-storm-${mode}`, ENTRIES.vending, JSON.stringify(configs[mode]));
      if (!built.file) throw new Error(`vending bundle (${mode}): ${built.problem ?? 'missing'}`);
      report.figures[mode] = await runMode(
        mode,
        built.file,
        configs[mode],
        { containers, seed, shape, lambdaEnv: options.lambdaEnv },
        budget,
        throttle,
        deadlineMs,
        report.notes,
      );
    }
    if (report.figures.product) report.targets = stormTargets(report.figures.product, report.figures.off, budget);
    return report;
  } catch (e) {
    return { ...report, problem: e instanceof Error ? e.message : String(e) };
  }
}

/** The storm's table (figure | product | off) and its targets, as text lines. */
export function stormLines(r: StormReport): string[] {
  const p = r.figures.product;
  const o = r.figures.off;
  const cell = (f: StormFigures | undefined, get: (f: StormFigures) => string) => (f ? get(f) : '—');
  const count = (f: StormFigures) => (n: number) => `${n} (${((n / (f.requests || 1)) * 100).toFixed(0)}%)`;
  const rows: [string, (f: StormFigures) => string][] = [
    ['requests', (f) => String(f.requests)],
    ['200', (f) => count(f)(f.ok)],
    [
      '429',
      (f) =>
        `${count(f)(f.tooMany)}: ${Object.entries(f.tooManyByCode)
          .map(([c, n]) => `${n} ${c}`)
          .join(', ')}`,
    ],
    [
      'other',
      (f) =>
        Object.entries(f.other)
          .map(([c, n]) => `${n} × ${c}`)
          .join(', ') || '0',
    ],
    ['Retry-After range (s)', (f) => (f.retryAfter ? `${f.retryAfter[0]}–${f.retryAfter[1]}` : '—')],
    ['non-200 without Retry-After', (f) => String(f.withoutRetryAfter)],
    ['mints attempted / accepted / refused', (f) => `${f.mintsAttempted} / ${f.mintsAccepted} / ${f.mintsRefused}`],
    ['peak mints per second at the fake', (f) => `${f.peakAttemptsPerSecond} (accepted ${f.peakAcceptedPerSecond})`],
    ['latency of the 200s', (f) => `p50 ${ms(f.latencyOk.p50)}, p99 ${ms(f.latencyOk.p99)}`],
    ['users holding a token at the end', (f) => `${f.usersWithToken} of ${f.users}`],
    ['requests while holding a token → called Momento', (f) => `${f.heldRequestsThatMinted} of ${f.heldRequests}`],
    [
      'shared-tier requests → 200 within 2 s',
      (f) => (f.sharedRequests ? `${f.sharedOkWithin2s} of ${f.sharedRequests}` : 'no shared tier'),
    ],
    ['mints per 1,000 served tokens', (f) => (Number.isNaN(f.mintsPerThousand) ? '—' : f.mintsPerThousand.toFixed(0))],
  ];
  const table: string[][] = [
    ['figure', 'product', 'off'],
    ...rows.map(([name, get]) => [name, cell(p, get), cell(o, get)]),
  ];
  const widths = [0, 1, 2].map((i) => Math.max(...table.map((t) => t[i]?.length ?? 0)));
  const line = (t: readonly string[]) =>
    t
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  const s = r.shape;
  const out = [
    '',
    `Sign-in storm — ${s.users} users over ${s.arrivalMs / 1000} s (${((s.users / s.arrivalMs) * 1000).toFixed(1)} new/s), 0–${s.maxExtra} extra requests each within ${s.extraWindowMs / 1000} s, mix ${s.mix.map((m) => `${m.share * 100}% ${m.tier}`).join(' / ')}`,
    `  ${r.containers} containers (child processes, real vending bundle, warm), least-busy routing; fake Momento budget ${r.budget} mints/s per epoch second; stage throttle ${r.throttle.rateLimit}/s burst ${r.throttle.burstLimit} (token bucket, from the config); deadline ${r.deadlineMs / 1000} s`,
    `  clients: ${CLIENT_MODEL.name}`,
    `  product = config/tvm.config.ts + fleet table (TVM_FLEET_TABLE); off = token cache off, no shared tiers, no fleet table (one mint per request)`,
  ];
  if (r.problem) return [...out, `  could not run: ${r.problem}`];
  out.push(
    line(table[0]!),
    line(widths.map((w) => '-'.repeat(w))),
    ...table.slice(1).map(line),
    '',
    'targets (judged on the product run):',
  );
  const tw = Math.max(...r.targets.map((t) => t.name.length));
  for (const t of r.targets) out.push(`  ${t.pass ? 'PASS' : 'FAIL'}  ${t.name.padEnd(tw)}  ${t.value}`);
  for (const n of r.notes) out.push(`note: ${n}`);
  return out;
}
