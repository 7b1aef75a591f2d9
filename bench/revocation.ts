/**
 * Benchmark rows for revocation and live groups (issue 13): the warm overhead of the check in the real vending
 * handler (cache warm, and uncached: one GetItem per request to dynalite on 127.0.0.1 over the keep-alive
 * client), the same for liveGroups against a local stub of Cognito's JSON API, and the cold-path cost of the
 * code they add (bundled and minified as the stack bundles, `require` in a fresh node).
 *
 * Handlers are built as lambda/handler.ts builds them (revocationFromEnv / liveGroupsFromEnv → createVendHandler)
 * with an instant in-memory minter, the token cache on and telemetry off, so the figures are the handler's own
 * overhead. Loopback round trips are not AWS round trips: the uncached rows bound the client's own cost; add the
 * in-region network time of DynamoDB / Cognito (docs/decisions.md).
 *
 * Usage from bench/run.ts: `rows.push(...(await revocationRows({ quick: QUICK })))`; alone: `npx tsx bench/revocation.ts`.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import * as path from 'node:path';
import * as esbuild from 'esbuild';
import { validateConfig, type TvmConfig } from '../config/schema';
import defaultConfig from '../config/tvm.config';
import { startLocalRevocationTable } from '../dev/revocation';
import { liveGroupsFromEnv, revocationFromEnv } from '../lambda/revocation-env';
import type { Minter } from '../lambda/types';
import { createVendHandler, type VendHandler } from '../lambda/vend';
import { startCognitoStub } from '../test/support/cognito-stub';
import { BENCH_CLIENT_ID, subOf, tokenEvent } from './events';
import { ms, percentile, verdict, type Row } from './stats';

const OUT = path.join(__dirname, '..', '.bench');

/** The revocation rows of `npm run bench`. */
export async function revocationRows(options: { quick?: boolean } = {}): Promise<Row[]> {
  const n = options.quick ? 600 : 3000;
  const [table, cognito] = await Promise.all([startLocalRevocationTable(), startCognitoStub()]);
  try {
    const sub = subOf(7);
    cognito.groups.set(sub, ['members']); // a user named by its sub (the stub's default sub is the user name)
    const env = {
      ...table.env,
      AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER: cognito.endpoint,
      TVM_USER_POOL_ID: 'us-west-2_BenchPool1',
    };
    const token = { authToken: 'x'.repeat(400), endpoint: 'cell-bench.example.com', expiresAt: 4_102_444_800 };
    const minter: Minter = { mint: () => Promise.resolve(token) };
    const build = (overrides: Partial<TvmConfig>, wire: { revocation: boolean; liveGroups: boolean }): VendHandler => {
      const config = validateConfig({ ...defaultConfig, ...overrides });
      return createVendHandler({
        config,
        minter,
        cognitoClientIds: [BENCH_CLIENT_ID],
        revocation: wire.revocation ? revocationFromEnv(config, env) : undefined,
        liveGroups: wire.liveGroups ? liveGroupsFromEnv(config, env) : undefined,
      });
    };
    const live = (cacheSeconds: number): Partial<TvmConfig> => ({
      auth: { mode: 'cognito', liveGroups: { cacheSeconds } },
    });
    const handlers: Record<string, VendHandler> = {
      off: build({}, { revocation: false, liveGroups: false }),
      warm: build({ revocation: { cacheSeconds: 5 } }, { revocation: true, liveGroups: false }),
      uncached: build({ revocation: { cacheSeconds: 0 } }, { revocation: true, liveGroups: false }),
      liveWarm: build(live(5), { revocation: false, liveGroups: true }),
      liveUncached: build(live(0), { revocation: false, liveGroups: true }),
    };
    const samples: Record<string, number[]> = Object.fromEntries(Object.keys(handlers).map((k) => [k, []]));
    // CPU time per request (user + system of this process): far less sensitive to a busy machine than p99.
    const cpuUs: Record<string, number> = Object.fromEntries(Object.keys(handlers).map((k) => [k, 0]));
    let requestNo = 0;
    let failures = 0;
    const one = async (h: VendHandler, into?: number[]) => {
      const event = tokenEvent(++requestNo, sub);
      const t0 = performance.now();
      const res = await h(event);
      const t = performance.now() - t0;
      if (res.statusCode !== 200) failures += 1;
      into?.push(t);
    };
    for (const h of Object.values(handlers)) for (let i = 0; i < 200; i++) await one(h); // warm-up
    // Interleaved rounds, so drift on a shared machine hits every variant alike; the variants that do I/O on every
    // request (and make garbage in dynalite and the stub, which run in this process) in a phase of their own. Each
    // block starts with 20 unrecorded requests: a container serves one configuration, never a mix.
    for (const phase of [
      ['off', 'warm', 'liveWarm'],
      ['uncached', 'liveUncached'],
    ])
      for (let round = 0; round < 5; round++)
        for (const name of phase) {
          for (let i = 0; i < 20; i++) await one(handlers[name]!);
          const c0 = process.cpuUsage();
          for (let i = 0; i < n / 5; i++) await one(handlers[name]!, samples[name]);
          const c = process.cpuUsage(c0);
          cpuUs[name]! += c.user + c.system;
        }

    const p = (name: string, q: number) => percentile(samples[name]!, q);
    const text = (name: string) =>
      `p50 ${ms(p(name, 0.5))}, p99 ${ms(p(name, 0.99))} (+${ms(Math.max(0, p(name, 0.5) - p('off', 0.5)))} p50 vs off); cpu ${cpu(name)}/request (n=${samples[name]!.length})`;
    const cpu = (name: string) => ms(cpuUs[name]! / 1000 / samples[name]!.length);
    const rows: Row[] = [
      [
        'revocation: handler, check off (baseline)',
        `p50 ${ms(p('off', 0.5))}, p99 ${ms(p('off', 0.99))}; cpu ${cpu('off')}/request; load average ${loadavg()[0]!.toFixed(2)}`,
        '',
        '',
      ],
      ['revocation: handler, check on, cache warm', text('warm'), 'p99 ≤ 1 ms', verdict(p('warm', 0.99) <= 1)],
      ['revocation: handler, check uncached (GetItem → dynalite)', text('uncached'), '', ''],
      ['liveGroups: handler, cache warm', text('liveWarm'), 'p99 ≤ 1 ms', verdict(p('liveWarm', 0.99) <= 1)],
      [
        'liveGroups: handler, uncached (ListUsers by sub + AdminListGroupsForUser → stub)',
        text('liveUncached'),
        '',
        '',
      ],
      [
        'liveGroups: Cognito calls per request, uncached / warm',
        `${cognito.received.length} calls for ${2 * (n + 300)} requests (2 per uncached request: ListUsers + AdminListGroupsForUser; 2 per user per cacheSeconds warm)`,
        '',
        '',
      ],
    ];
    if (failures > 0) rows.push(['revocation: non-200 answers during the run', String(failures), '0', verdict(false)]);
    rows.push(coldPathRow());
    return rows;
  } finally {
    await Promise.all([table.close(), cognito.close()]);
  }
}

/** Bundle size and cold `require` of what revocation adds to the function (lambda/revocation-env.ts and below). */
function coldPathRow(): Row {
  mkdirSync(OUT, { recursive: true });
  const outfile = path.join(OUT, 'revocation-env.js');
  esbuild.buildSync({
    entryPoints: [path.join(__dirname, '..', 'lambda', 'revocation-env.ts')],
    outfile,
    bundle: true,
    minify: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    logLevel: 'error',
  });
  const script = `const t=process.hrtime.bigint();require(${JSON.stringify(outfile)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
  const times: number[] = [];
  for (let i = 0; i < 7; i++) times.push(Number(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })));
  return [
    'cold path: revocation + liveGroups code (common/aws, aws4) bundled',
    `${(statSync(outfile).size / 1000).toFixed(1)} kB, require median ${ms(percentile(times, 0.5))} (n=7)`,
    '',
    '',
  ];
}

if (require.main === module) {
  revocationRows({ quick: process.argv.includes('--quick') }).then(
    (rows) => {
      for (const r of rows) console.log(r.filter(Boolean).join('  |  '));
    },
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
