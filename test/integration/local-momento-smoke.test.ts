/**
 * `npm run smoke -- --momento` against `npm run dev` without a Momento key: the smoke test runs as its own process
 * (as a user runs it), with the Node SDK (`@gomomento/sdk`, native gRPC), against the dev server's local Momento
 * (dev/local-momento, its native gRPC face). A granted operation must succeed and one outside the token's scope
 * must be refused with PERMISSION_ERROR, enforced by the data plane from the token the vending code minted.
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import baseConfig from '../../config/tvm.config';
import { startDevServer, type DevServer } from '../../dev/server';
import { restoreEnv } from '../support/env';

const ROOT = path.resolve(__dirname, '..', '..');
const TSX = path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
const ORIGIN = 'http://localhost:8080';

let dev: DevServer;
const savedEnv = { ...process.env };

beforeAll(async () => {
  delete process.env.MOMENTO_API_KEY;
  dev = await startDevServer({
    config: { ...baseConfig, cors: { allowOrigins: [ORIGIN] } },
    port: 0,
    demoPort: -1,
    localAuth: true,
    log: () => undefined,
  });
});
afterAll(async () => {
  await dev?.close();
  restoreEnv(savedEnv);
});

/** Runs `npm run smoke -- …` as a separate process with the environment the worker had before the dev server. */
function smoke(args: string[], extraEnv: Record<string, string>): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [TSX, 'scripts/smoke.ts', ...args],
      { cwd: ROOT, env: { ...savedEnv, ...extraEnv }, timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: number }).code ?? 1) : 0;
        resolve({ code: typeof code === 'number' ? code : 1, out: `${stdout}${stderr}` });
      },
    );
  });
}

const rowOf = (out: string, check: string): string | undefined =>
  out.split('\n').find((line) => new RegExp(`^(PASS|FAIL|SKIP|INFO) {2}${check}`).test(line));

it('passes: a granted operation succeeds and an ungranted one is refused by the local Momento', async () => {
  const idToken = dev.login('smoke-member', ['members']);
  const { code, out } = await smoke(
    ['--url', dev.tokenUrl, '--mode', 'cognito', '--auth', 'env:SMOKE_ID_TOKEN', '--origin', ORIGIN, '--momento'],
    { SMOKE_ID_TOKEN: idToken },
  );
  expect(rowOf(out, 'Momento: endpoint')).toMatch(/^INFO .*local Momento at http:\/\/127\.0\.0\.1:\d+/);
  expect(rowOf(out, String.raw`Momento: get app/tvm-smoke \(granted\)`)).toMatch(/^PASS .*succeeded/);
  expect(rowOf(out, String.raw`Momento: set app/tvm-smoke \(not granted\)`)).toMatch(
    /^PASS .*refused \(PERMISSION_ERROR\)/,
  );
  expect(out).not.toContain(idToken);
  expect(code).toBe(0);
}, 90_000);
