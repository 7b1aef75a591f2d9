/** npm for the package tests (test/e2e/client-package.ts, test/infra/construct-package.test.ts). */
import { execFileSync } from 'node:child_process';

/** Runs npm in `cwd` with no network, no audit, no fund or update notice: these tests must pass offline. */
export function offlineNpm(args: readonly string[], cwd: string): string {
  return execFileSync('npm', [...args], {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      npm_config_offline: 'true',
      npm_config_audit: 'false',
      npm_config_fund: 'false',
      npm_config_update_notifier: 'false',
      npm_config_loglevel: 'error',
    },
    timeout: 90_000,
  });
}
