import { scanLogs } from './log-scan';

/** Fails the test run if any captured log line holds a token, key or Authorization value. */
export default function globalTeardown(): void {
  const { lines, findings } = scanLogs();
  if (findings.length > 0) {
    throw new Error(
      `Secret scan: ${findings.length} log line(s) hold a secret:\n  ${findings.slice(0, 20).join('\n  ')}`,
    );
  }
  process.stdout.write(`Secret scan: ${lines} captured log lines, no token, key or Authorization value.\n`);
}
