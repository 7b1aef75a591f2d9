/**
 * jest setupFiles: tees everything the code under test logs (console.*, process.stdout/stderr writes — Powertools
 * Logger writes to stdout directly) into .test-logs/, for the secret scan that runs after the whole suite.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { format } from 'node:util';

const dir = path.join(__dirname, '..', '..', '.test-logs');
fs.mkdirSync(dir, { recursive: true });
const file = path.join(dir, `worker-${process.pid}.log`);
const append = (text: string) => fs.appendFileSync(file, text.endsWith('\n') ? text : `${text}\n`);

for (const stream of [process.stdout, process.stderr]) {
  const original = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    append(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    return original(chunk, ...rest);
  }) as typeof stream.write;
}
for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
  const original = console[level].bind(console);
  console[level] = (...args: unknown[]) => {
    append(format(...args));
    original(...args);
  };
}
