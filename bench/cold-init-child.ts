/**
 * Child of `npm run bench`, bundled to .bench/ and run with plain `node`, one fresh process per sample.
 *
 * `node cold-init-child.js <bundle.js>`: times the `require()` of the bundle, i.e. its module initialisation,
 * and never calls the handler. `... <bundle.js> first`: then also times the first invocation (what a cold
 * Lambda adds to init: reading the secret, connecting, minting), against the local services. The event is
 * `BENCH_EVENT` (JSON) when set (the authorizer's TOKEN event), else a vending `GET /token`. An authorizer's
 * answer counts as status 200 when its policy allows, 403 otherwise.
 * Prints one `BENCH_RESULT {json}` line; the explicit exit cuts short anything left running in the background.
 */
import type { APIGatewayProxyResult } from 'aws-lambda';
import { subOf, tokenEvent } from './events';

const [file, mode] = process.argv.slice(2);
if (!file) throw new Error('usage: node cold-init-child.js <bundle.js> [first]');

const describe = (e: unknown): string => (e instanceof Error ? `${e.name}: ${e.message.split('\n')[0]}` : String(e));
const report = (result: Record<string, unknown>): void => {
  const { rss, heapUsed } = process.memoryUsage();
  process.stdout.write(`BENCH_RESULT ${JSON.stringify({ ...result, rss, heapUsed })}\n`, () => process.exit(0));
};

// A module-scope promise that rejects (no AWS here) must not change the outcome of the measurement.
process.on('unhandledRejection', () => undefined);

const cpu0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
type Answer = Partial<APIGatewayProxyResult> & { policyDocument?: { Statement?: { Effect?: string }[] } };
let mod: { handler?: (event: unknown, context: unknown) => Promise<Answer> } | undefined;
let error: string | undefined;
try {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  mod = require(file);
} catch (e) {
  error = describe(e);
}
const initMs = Number(process.hrtime.bigint() - t0) / 1e6;
// CPU time (user + system, all threads) of the same span: less sensitive to other load on the machine.
const cpu = process.cpuUsage(cpu0);
const cpuMs = (cpu.user + cpu.system) / 1000;

if (mode !== 'first' || error !== undefined) {
  report({ ms: initMs, cpuMs, error });
} else {
  const t1 = process.hrtime.bigint();
  const cpu1 = process.cpuUsage();
  const handler = mod?.handler;
  if (!handler) report({ ms: initMs, error: 'the bundle exports no handler' });
  else
    handler(process.env.BENCH_EVENT ? JSON.parse(process.env.BENCH_EVENT) : tokenEvent(1, subOf(1)), {
      awsRequestId: 'bench-1',
    }).then(
      (res) => {
        const firstMs = Number(process.hrtime.bigint() - t1) / 1e6;
        const firstCpu = process.cpuUsage(cpu1);
        const firstCpuMs = (firstCpu.user + firstCpu.system) / 1000;
        const status =
          res.statusCode ?? (res.policyDocument?.Statement?.every((s) => s.Effect === 'Allow') ? 200 : 403);
        report({
          ms: initMs,
          cpuMs,
          firstMs,
          firstCpuMs,
          status,
          body: status === 200 ? undefined : (res.body ?? 'denied'),
        });
      },
      (e: unknown) => report({ ms: initMs, error: describe(e) }),
    );
}
