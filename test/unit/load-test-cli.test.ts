import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

describe('Script: load-test --help', () => {
  it('prints usage and exits 0 at once, without running the load test', () => {
    // Act: through tsx, as `npm run load-test -- --help` runs it.
    const started = Date.now();
    const result = spawnSync(
      process.execPath,
      [require.resolve('tsx/cli'), path.join(__dirname, '..', '..', 'scripts', 'load-test.ts'), '--help'],
      { encoding: 'utf8', timeout: 30_000 },
    );

    // Assess: the run itself takes ≈ 35 s and prints "scenario:"; usage does neither.
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^Usage: npm run load-test -- /);
    expect(result.stdout).not.toMatch(/scenario: healthy/);
    expect(Date.now() - started).toBeLessThan(25_000);
  }, 35_000);
});
