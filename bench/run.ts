/**
 * `npm run bench [-- --quick] [--scenario latency|storm|all] [--check] [--help]`: issue 6's benchmark. Builds the Lambda bundles exactly as the stack does, then
 * prints one table: bundle sizes, cold module-init times (fresh `node` processes, interleaved with a reference
 * handler on the full Momento SDK), cold init + first request, warm latency through the real vending handler
 * against the local fake Momento service over gRPC+TLS, and memory. Loopback only; every child has a time
 * limit. The `storm` scenario (bench/storm.ts) is issue 16's sign-in storm against Momento's mint budget.
 * See bench/README.md.
 */
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as esbuild from 'esbuild';
import authorizerExample from '../config/examples/authorizer.config';
import { policyOf, validateConfig, validatePolicy } from '../config/schema';
import defaultConfig from '../config/tvm.config';
import { FUNCTION_CONFIG_FILE, sealFileOf } from '../common/function-config';
import { sealPolicy } from '../config/seal';
import { BUNDLE_OPTIONS, ENTRIES, ROOT, sourceDefines } from '../lib/bundling';
import { revocationRows } from './revocation';
import { BENCH_CLIENT_ID } from './events';
import { startLocalJwks, type LocalJwks } from './jwks';
import { runLatency, type LatencyReport } from './latency';
import { startLocalServices, type LocalServices } from './services';
import { runStorm, stormLines } from './storm';
import { bytes, ms, percentile, spread, verdict, type Row, type Spread } from './stats';

const USAGE = `Usage: npm run bench -- [options]

  --scenario <name>   latency: bundle sizes, cold start, warm latency, revocation (targets: docs/performance.md)
                      storm:   sign-in storm against Momento's mint budget, product vs off (docs/capacity.md)
                      all:     both (default)
  --quick             smaller samples; the storm: 250 users over 15 s instead of 1,000 over 60 s
  --check             exit 1 when any target of the scenarios run is FAIL (default: report only, exit 0)
  --containers <n>    storm: vending containers (child processes), 1–32 (default 8)
  --users <n>         storm: distinct users, 1–100000 (default 1000; 250 with --quick)
  --seed <n>          storm: seed of its randomness (default 16)
  -h, --help          this text (nothing runs)`;

/** The command line, or a usage error (exit 2) that says what was wrong. */
function parseCommandLine() {
  const fail = (message: string): never => {
    console.error(`${message}\n\n${USAGE}`);
    process.exit(2);
  };
  let values;
  try {
    values = parseArgs({
      options: {
        quick: { type: 'boolean', default: false },
        check: { type: 'boolean', default: false },
        scenario: { type: 'string', default: 'all' },
        containers: { type: 'string' },
        users: { type: 'string' },
        seed: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values;
  } catch (e) {
    return fail(e instanceof Error ? e.message : String(e));
  }
  const whole = (name: string, text: string | undefined, min: number, max: number): number | undefined => {
    if (text === undefined) return undefined;
    const n = /^\d+$/.test(text) ? Number(text) : Number.NaN;
    return n >= min && n <= max
      ? n
      : fail(`--${name} must be a whole number from ${min} to ${max} (got ${JSON.stringify(text)})`);
  };
  const scenario = values.scenario;
  if (scenario !== 'latency' && scenario !== 'storm' && scenario !== 'all')
    fail(`--scenario must be latency, storm or all (got ${JSON.stringify(scenario)})`);
  return {
    help: values.help,
    quick: values.quick,
    check: values.check,
    scenarios: scenario === 'all' ? ['latency', 'storm'] : [scenario],
    containers: whole('containers', values.containers, 1, 32),
    users: whole('users', values.users, 1, 100_000),
    seed: whole('seed', values.seed, 0, 2 ** 32 - 1),
  };
}

const ARGS = parseCommandLine();
const QUICK = ARGS.quick;
/** Issue 11's targets. */
const TARGET = { vendingBytes: 200_000, coldPathRatio: 0.35, authorizerColdPathMs: 50 } as const;
const OUT = path.join(ROOT, '.bench');
/** Fresh processes per bundle and measurement (the reference runs twice per cold-init round). */
const ROUNDS = QUICK ? 7 : 21;
const CHILD = path.join(OUT, 'cold-init-child.js');

const BUNDLES = {
  vending: ENTRIES.vending,
  authorizer: ENTRIES.authorizer,
  reference: path.join(__dirname, 'fixtures', 'reference-handler.ts'),
} as const;
type BundleName = keyof typeof BUNDLES;
const NAMES = Object.keys(BUNDLES) as BundleName[];

interface Built {
  readonly file?: string;
  readonly bytes?: number;
  readonly metafile?: esbuild.Metafile;
  /** Why there is no bundle ("missing", or the build error). */
  readonly problem?: string;
}

/** Environment a Lambda function has at init: dummy values, and AWS endpoints that go nowhere. */
const LAMBDA_ENV: Readonly<Record<string, string>> = {
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  LANG: 'C.UTF-8',
  TZ: 'UTC',
  AWS_REGION: 'us-west-2',
  AWS_DEFAULT_REGION: 'us-west-2',
  AWS_LAMBDA_FUNCTION_NAME: 'tvm-bench',
  AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
  AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
  AWS_ACCESS_KEY_ID: 'AKIDBENCHDUMMY',
  AWS_SECRET_ACCESS_KEY: 'bench-dummy',
  AWS_SESSION_TOKEN: 'bench-dummy',
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_ENDPOINT_URL_SECRETS_MANAGER: 'http://127.0.0.1:9',
  TVM_SECRET_ID: 'tvm/bench/momento-api-key',
  TVM_USER_POOL_CLIENT_IDS: BENCH_CLIENT_ID,
  // Revocation is on by default in cognito mode: the function needs its table's name at init.
  TVM_REVOCATION_TABLE: 'tvm-bench-revocations',
  AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:9',
  MOMENTO_ENDPOINT: 'momento.test',
  POWERTOOLS_SERVICE_NAME: 'tvm',
  POWERTOOLS_METRICS_NAMESPACE: 'MomentoTokenVendingMachine',
  POWERTOOLS_LOG_LEVEL: 'INFO',
  // The machine's own CA bundle must not leak in; the services' env points this at the test CA.
  GRPC_DEFAULT_SSL_ROOTS_FILE_PATH: '/nonexistent',
};

/**
 * Bundles `entry` to `.bench/<name>/index.js` with the policy next to it (`tvm-config.json`), laid out as the
 * construct stages a function's code asset (lib/function-code.ts): the cold start reads it as in Lambda.
 */
async function build(name: string, entry: string, configJson: string): Promise<Built> {
  if (!existsSync(entry)) return { problem: 'missing' };
  const dir = path.join(OUT, name);
  const outfile = path.join(dir, 'index.js');
  try {
    const result = await esbuild.build({
      ...BUNDLE_OPTIONS,
      mainFields: [...BUNDLE_OPTIONS.mainFields],
      external: [...BUNDLE_OPTIONS.external],
      define: sourceDefines(),
      entryPoints: [entry],
      outfile,
      metafile: true,
      logLevel: 'silent',
    });
    // Staged as the construct stages it (lib/function-code.ts): the validated policy and its seal.
    const { text, seal } = sealPolicy(JSON.parse(configJson));
    writeFileSync(path.join(dir, FUNCTION_CONFIG_FILE), text);
    writeFileSync(path.join(dir, sealFileOf(FUNCTION_CONFIG_FILE)), seal);
    writeFileSync(path.join(OUT, `${name}.meta.json`), JSON.stringify(result.metafile));
    const out = Object.entries(result.metafile.outputs).find(([f]) => f.endsWith(`${name}/index.js`))?.[1];
    return { file: outfile, bytes: out?.bytes, metafile: result.metafile };
  } catch (e) {
    const first = (e as { errors?: esbuild.Message[] }).errors?.[0];
    return { problem: `build failed: ${first ? first.text : String(e)}` };
  }
}

interface ChildResult {
  readonly ms: number;
  readonly cpuMs: number;
  readonly rss: number;
  readonly firstMs?: number;
  /** CPU time of the first request (user + system), in the child. */
  readonly firstCpuMs?: number;
  readonly status?: number;
  readonly body?: string;
  readonly error?: string;
}

/**
 * One fresh `node` process that `require()`s the bundle (and, with `first`, invokes it once). Asynchronous:
 * the local services the first request talks to live in this process's event loop.
 */
function runChild(file: string, env: Record<string, string>, first: boolean): Promise<ChildResult | { error: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CHILD, file, ...(first ? ['first'] : [])], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = stdout.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
      if (line) resolve(JSON.parse(line.slice('BENCH_RESULT '.length)) as ChildResult);
      else resolve({ error: `child failed (${signal ?? code}): ${stderr.trim().split('\n').pop() ?? ''}` });
    });
  });
}

/** Interleaved rounds over `order`, one process at a time; the samples of each bundle or the first error it hit. */
async function rounds(order: BundleName[], measure: (name: BundleName) => Promise<ChildResult | { error: string }>) {
  const results: Record<BundleName, ChildResult[]> = { vending: [], authorizer: [], reference: [] };
  const errors: Partial<Record<BundleName, string>> = {};
  // Round 0 is a discarded warm-up (page cache, first-run effects of the node binary).
  for (let round = 0; round <= ROUNDS; round++) {
    for (const name of order) {
      if (errors[name]) continue;
      const r = await measure(name);
      if (r.error !== undefined) errors[name] = r.error;
      else if ('status' in r && r.status !== 200) errors[name] = `first request answered ${r.status}: ${r.body ?? ''}`;
      else if (round > 0) results[name].push(r as ChildResult);
    }
  }
  return { results, errors };
}

/** Packages (or first-party directories) ranked by the bytes they contribute to a bundle. */
function topModules(meta: esbuild.Metafile, limit: number): [string, number][] {
  const byPackage = new Map<string, number>();
  for (const output of Object.values(meta.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
      const key = m?.[1] ?? path.dirname(input);
      byPackage.set(key, (byPackage.get(key) ?? 0) + bytesInOutput);
    }
  }
  return [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, limit);
}

const spreadText = (s: Spread): string => `median ${ms(s.median)}  (p10 ${ms(s.p10)}, p90 ${ms(s.p90)}, n=${s.n})`;
/** 1, 5 and 15 minute load averages: other work on the machine inflates absolute timings (ratios hold better). */
const loadavg = (): string =>
  os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');
const spreadOf = (xs: number[]): Spread | undefined => (xs.length ? spread(xs) : undefined);

function printTable(title: string, rows: Row[]): void {
  rows = rows.map(([f, v, t, x]) => [f, v.length > 160 ? `${v.slice(0, 157)}...` : v, t, x]);
  const head: Row = ['figure', 'value', 'target', ''];
  const widths = [0, 1, 2, 3].map((i) => Math.max(...[head, ...rows].map((r) => r[i]?.length ?? 0)));
  const line = (r: readonly string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  console.log(`\n${title}\n${line(head)}\n${line(widths.map((w) => '-'.repeat(w)))}`);
  for (const r of rows) console.log(line(r));
}

/** Issue 6's table; returns whether a target failed. */
async function latencyScenario(): Promise<boolean> {
  const started = Date.now();
  const loadBefore = loadavg();
  mkdirSync(OUT, { recursive: true });
  const config = policyOf(validateConfig(defaultConfig));
  // The stack deploys the authorizer only in authorizer mode, and its init refuses any other config.
  const authorizerConfig = config.auth.mode === 'authorizer' ? config : policyOf(validateConfig(authorizerExample));
  const notes: string[] = [];
  if (authorizerConfig !== config)
    notes.push(
      `authorizer bundled with config/examples/authorizer.config.ts (config/tvm.config.ts is ${config.auth.mode} mode: no authorizer)`,
    );

  // 1. Bundles, exactly as the stack builds them.
  const built = {} as Record<BundleName, Built>;
  for (const name of NAMES)
    built[name] = await build(name, BUNDLES[name], JSON.stringify(name === 'authorizer' ? authorizerConfig : config));
  await esbuild.build({
    entryPoints: [path.join(__dirname, 'cold-init-child.ts')],
    outfile: CHILD,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    logLevel: 'error',
  });

  // 2. Cold module init, interleaved so machine drift hits every bundle alike. Nothing listens: pure init.
  const file = (name: BundleName) => built[name].file ?? '';
  const cold = await rounds(
    (['vending', 'reference', 'authorizer', 'reference'] as BundleName[]).filter((n) => built[n].file),
    (name) => runChild(file(name), LAMBDA_ENV, false),
  );

  // 2b. The whole cold path — init + first request (secret read, TLS connect, mint) — against the local services,
  // and the authorizer's (init + first verification, JWKS download from a local HTTPS issuer included).
  const servicesOrProblem = await startLocalServices();
  const services: LocalServices | undefined = 'problem' in servicesOrProblem ? undefined : servicesOrProblem;
  let jwks: LocalJwks | undefined;
  let latency: LatencyReport | { problem: string } = {
    problem: 'problem' in servicesOrProblem ? servicesOrProblem.problem : 'missing',
  };
  let first: Awaited<ReturnType<typeof rounds>> | undefined;
  try {
    if (services) {
      const env = { ...LAMBDA_ENV, ...services.env };
      // Same code; only the policy's endpoint differs, so the TLS name check passes at the fake (token.momento.test).
      const local = built.vending.file
        ? await build(
            'vending-local',
            ENTRIES.vending,
            JSON.stringify({ ...config, momento: { ...config.momento, endpoint: services.env.MOMENTO_ENDPOINT } }),
          )
        : undefined;
      // The authorizer, with its issuer moved to the local JWKS (the only difference from the deployed bundle).
      jwks = await startLocalJwks();
      const authAuth = authorizerConfig.auth as Extract<typeof authorizerConfig.auth, { mode: 'authorizer' }>;
      const authLocal = built.authorizer.file
        ? await build(
            'authorizer-local',
            ENTRIES.authorizer,
            JSON.stringify(validatePolicy({ ...authorizerConfig, auth: { ...authAuth, issuer: jwks.issuer } })),
          )
        : undefined;
      // A bundle that failed to build must say why, not show up as a "missing" row.
      for (const [label, b] of [
        ['vending-local', local],
        ['authorizer-local', authLocal],
      ] as const)
        if (b?.problem) notes.push(`${label}: ${b.problem}`);
      const firstGroup = authorizerConfig.tiers.find((t) => t.groups?.length)?.groups?.[0] ?? 'member';
      const authEnv = {
        ...LAMBDA_ENV,
        ...jwks.env,
        BENCH_EVENT: JSON.stringify(
          jwks.event(authAuth.audience[0] ?? '', authAuth.groupsClaim ?? 'cognito:groups', [firstGroup]),
        ),
      };
      const firstFile = (name: BundleName) =>
        name === 'vending' ? (local?.file ?? '') : name === 'authorizer' ? (authLocal?.file ?? '') : file(name);
      first = await rounds(
        (['vending', 'reference', 'authorizer'] as BundleName[]).filter((n) => firstFile(n)),
        (name) => runChild(firstFile(name), name === 'authorizer' ? authEnv : env, true),
      );
      notes.push(
        `JWKS downloads served: ${jwks.fetches()} for ${first.results.authorizer.length + 1} authorizer cold paths (one each, warm-up round included)`,
      );
      // 3–4. Warm latency and memory, in a child that has the services' environment.
      latency = await runLatency({ quick: QUICK, outDir: OUT, env: LAMBDA_ENV, services });
    }
  } finally {
    await services?.close();
    await jwks?.close();
  }

  // The table.
  const rows: Row[] = [];
  const refBytes = built.reference.bytes;
  for (const name of NAMES) {
    const b = built[name];
    const target = name === 'vending' ? `≤ ${bytes(TARGET.vendingBytes)}` : '';
    if (b.bytes === undefined) {
      rows.push([`bundle bytes: ${name}`, b.problem ?? 'missing', target, '']);
      continue;
    }
    const ratio = refBytes && name !== 'reference' ? b.bytes / refBytes : undefined;
    const value = `${b.bytes.toLocaleString('en-US')} B = ${bytes(b.bytes)}${ratio === undefined ? '' : ` = ${ratio.toFixed(3)}× ref`}`;
    rows.push([
      `bundle bytes: ${name}`,
      value,
      target,
      name === 'vending' ? verdict(b.bytes <= TARGET.vendingBytes) : '',
    ]);
  }
  const init = Object.fromEntries(NAMES.map((n) => [n, spreadOf(cold.results[n].map((r) => r.ms))])) as Record<
    BundleName,
    Spread | undefined
  >;
  for (const name of NAMES) {
    const s = init[name];
    const target = name === 'authorizer' ? '≤ 20 ms (median)' : '';
    rows.push([
      `cold init (require): ${name}`,
      s
        ? `${spreadText(s)}; cpu median ${ms(
            percentile(
              cold.results[name].map((r) => r.cpuMs),
              0.5,
            ),
          )}`
        : (built[name].problem ?? cold.errors[name] ?? 'missing'),
      target,
      name === 'authorizer' ? verdict(s ? s.median <= 20 : undefined) : '',
    ]);
  }
  const ratio = init.vending && init.reference ? init.vending.median / init.reference.median : undefined;
  rows.push([
    'cold init ratio vending / reference',
    ratio === undefined ? 'missing' : `${ratio.toFixed(3)}× (medians)`,
    '≤ 0.5×',
    verdict(ratio === undefined ? undefined : ratio <= 0.5),
  ]);
  for (const name of NAMES) {
    const s = spreadOf(cold.results[name].map((r) => r.rss));
    if (s) rows.push([`RSS after cold init: ${name}`, bytes(s.median), '', '']);
  }
  const coldPath = {} as Record<BundleName, Spread | undefined>;
  for (const name of ['vending', 'reference', 'authorizer'] as BundleName[]) {
    const label = `cold path (init + first ${name === 'authorizer' ? 'verification, JWKS fetch' : 'request'}): ${name}`;
    if (!first) {
      rows.push([label, 'problem' in latency ? latency.problem : 'missing', '', '']);
      continue;
    }
    const s = (coldPath[name] = spreadOf(first.results[name].map((r) => r.ms + (r.firstMs ?? 0))));
    const f = spreadOf(first.results[name].map((r) => r.firstMs ?? 0));
    const fCpu = spreadOf(first.results[name].map((r) => r.firstCpuMs ?? 0));
    const cpu = spreadOf(first.results[name].map((r) => r.cpuMs));
    const isAuth = name === 'authorizer';
    rows.push([
      label,
      s && f && cpu
        ? `${spreadText(s)}; init cpu median ${ms(cpu.median)}; first ${isAuth ? 'verification' : 'request'} alone median ${ms(f.median)} (cpu ${ms(fCpu?.median ?? NaN)})`
        : (first.errors[name] ?? built[name].problem ?? 'missing'),
      isAuth ? `≤ ${TARGET.authorizerColdPathMs} ms (median)` : '',
      isAuth ? verdict(s ? s.median <= TARGET.authorizerColdPathMs : undefined) : '',
    ]);
  }
  const pathRatio =
    coldPath.vending && coldPath.reference ? coldPath.vending.median / coldPath.reference.median : undefined;
  rows.push([
    'cold path ratio vending / reference',
    pathRatio === undefined ? 'missing' : `${pathRatio.toFixed(3)}× (medians)`,
    `≤ ${TARGET.coldPathRatio}×`,
    verdict(pathRatio === undefined ? undefined : pathRatio <= TARGET.coldPathRatio),
  ]);
  if ('problem' in latency) rows.push(['warm latency / memory', latency.problem, '', '']);
  else rows.push(...latency.rows);
  // Revocation and live groups: the warm cost of the check, cached and uncached (bench/revocation.ts).
  rows.push(...(await revocationRows({ quick: QUICK })));

  printTable(
    `TVM benchmark — node ${process.version}, ${os.cpus().length}× ${os.cpus()[0]?.model.trim() ?? 'cpu'}, ${QUICK ? 'quick' : 'full'} run, load average ${loadBefore} at start, ${loadavg()} at end`,
    rows,
  );
  for (const n of notes) console.log(`note: ${n}`);

  const vend = built.vending.metafile;
  if (vend) {
    console.log('\nvending bundle, top contributors by bytes (esbuild metafile, .bench/vending.meta.json):');
    for (const [name, n] of topModules(vend, 10)) console.log(`  ${bytes(n).padStart(9)}  ${name}`);
  }
  console.log(`\n(${((Date.now() - started) / 1000).toFixed(1)} s; bundles and metafiles in .bench/)`);
  return rows.some((r) => r[3] === 'FAIL');
}

/** Issue 16's storm; returns whether a target failed (or it could not run). */
async function stormScenario(): Promise<boolean> {
  const started = Date.now();
  const loadBefore = loadavg();
  mkdirSync(OUT, { recursive: true });
  const report = await runStorm({
    quick: QUICK,
    containers: ARGS.containers,
    users: ARGS.users,
    seed: ARGS.seed,
    outDir: OUT,
    lambdaEnv: LAMBDA_ENV,
    build,
  });
  for (const l of stormLines(report)) console.log(l);
  console.log(
    `\n(${((Date.now() - started) / 1000).toFixed(1)} s; load average ${loadBefore} at start, ${loadavg()} at end; ${os.cpus().length} cpus)`,
  );
  return report.problem !== undefined || report.targets.some((t) => !t.pass);
}

async function main(): Promise<void> {
  if (ARGS.help) {
    console.log(USAGE);
    return;
  }
  let failed = false;
  for (const scenario of ARGS.scenarios)
    failed = (scenario === 'latency' ? await latencyScenario() : await stormScenario()) || failed;
  if (failed && ARGS.check) {
    console.error('\n--check: a target failed (FAIL above)');
    process.exitCode = 1;
  }
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
