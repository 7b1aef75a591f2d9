/**
 * jest globalSetup / globalTeardown: clear .test-logs/ before the suite; after it, scan every captured line for
 * secrets and fail the run (non-zero exit) on any.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { findSecrets } from './secret-patterns';

const dir = path.join(__dirname, '..', '..', '.test-logs');

export function clearLogs(): void {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
}

/** Every captured line that matches a secret pattern, as `file:line: pattern`. */
export function scanLogs(): { lines: number; findings: string[] } {
  const findings: string[] = [];
  let lines = 0;
  if (!fs.existsSync(dir)) return { lines, findings };
  for (const name of fs.readdirSync(dir)) {
    const text = fs.readFileSync(path.join(dir, name), 'utf8').split('\n');
    text.forEach((line, i) => {
      lines += 1;
      const hits = findSecrets(line);
      if (hits.length > 0) findings.push(`${name}:${i + 1}: ${hits.join(', ')}`);
    });
  }
  return { lines, findings };
}
