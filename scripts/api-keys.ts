/**
 * Ops helper for the authorizer's static API keys (`npm run apikeys -- <command>`).
 *
 *   create <id> --group <g> [--group <g2>] [--config <file>] [--json]
 *                                                     new key: prints it once, plus the entry to store; every
 *                                                     group must be named by a tier of the config
 *   hash                                              reads a key on stdin, prints its stored entry digest
 *   check <file|->                                    validates an API-keys secret document
 *
 * The secret stores only digests: `{"keys":[{"id":"svc-a","sha256":"…","groups":["admins"]}]}`. Put it with
 * e.g. `aws secretsmanager put-secret-value --secret-id <ApiKeysSecretArn output> --secret-string file://keys.json`.
 * Exit codes: 0 ok, 1 failure, 2 usage error.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  ApiKeysDocumentError,
  generateApiKey,
  hashApiKeySecret,
  parseApiKeysDocument,
  splitApiKey,
} from '../authorizers/api-keys';
import type { ResolvedConfig } from '../config/schema';
import { DEFAULT_CONFIG_FILE, loadConfigFile } from '../lib/load-config';
import { requireSupportedNode } from './node-support';

/** Where the CLI writes, and how it reads stdin (injected for tests). */
export interface ApiKeysIo {
  out(line: string): void;
  err(line: string): void;
  readStdin(): Promise<string>;
  readFile(path: string): string;
  /** Loads and validates a config file (the tiers name the groups a key may be in). */
  loadConfig(path: string): ResolvedConfig;
}

/** The usage text. */
const USAGE = `Usage: npm run apikeys -- <command>

  create <id> --group <group> [--group <group2>] [--config <file>] [--json]
      Create a key for a server-to-server caller. The key is printed once; only its SHA-256 is stored.
      <id>: 1-64 lower-case letters, digits or inner hyphens. Every group must be named by a tier of the
      config (default ${DEFAULT_CONFIG_FILE}): a key in no tier's group would get nothing.
  hash
      Read a key ("<id>.<secret>") on stdin and print the entry digest it needs in the secret.
  check <file | ->
      Validate an API-keys secret document ({"keys":[{"id","sha256","groups"}]}).`;

class UsageError extends Error {}

const readAll = async (stream: NodeJS.ReadableStream): Promise<string> => {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8');
};

/** Process-backed I/O. */
export const processIo: ApiKeysIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  readStdin: () => readAll(process.stdin),
  readFile: (path) => readFileSync(path, 'utf8'),
  loadConfig: (path) => loadConfigFile(path),
};

/**
 * Runs one command and returns the exit code.
 *
 * @example
 * process.exitCode = await run(['create', 'svc-a', '--group', 'admins'], processIo);
 */
export async function run(argv: readonly string[], io: ApiKeysIo): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        group: { type: 'string', multiple: true },
        config: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    const [command, ...rest] = positionals;
    if (values.help || command === 'help') {
      io.out(USAGE);
      return 0;
    }
    switch (command) {
      case 'create': {
        const [id, ...extra] = rest;
        if (!id || extra.length > 0) throw new UsageError('create needs exactly one <id>');
        const groups = values.group ?? [];
        if (groups.length === 0)
          throw new UsageError('create needs at least one --group (a key with no group gets no tier)');
        const config = io.loadConfig(values.config ?? DEFAULT_CONFIG_FILE);
        const named = new Set(config.tiers.flatMap((t) => t.groups));
        const unknown = groups.filter((g) => !named.has(g));
        if (unknown.length > 0)
          throw new UsageError(
            `no tier of ${values.config ?? DEFAULT_CONFIG_FILE} names the group${unknown.length > 1 ? 's' : ''} ` +
              `${unknown.map((g) => `"${g}"`).join(', ')} (a key in it would get no tier); ` +
              `tiers name: ${[...named].join(', ') || 'no group'}`,
          );
        let created;
        try {
          created = generateApiKey(id, groups);
        } catch (err) {
          throw new UsageError((err as Error).message);
        }
        const entry = JSON.stringify(created.entry);
        if (values.json) {
          io.out(JSON.stringify({ key: created.key, entry: created.entry }));
          return 0;
        }
        io.out(`API key for "${id}" (shown only now: hand it to the caller's secret store, do not keep a copy):`);
        io.out('');
        io.out(`  ${created.key}`);
        io.out('');
        io.out('The caller sends it as:  Authorization: ApiKey <the key above>');
        io.out('');
        io.out('Add this entry to the "keys" array of the API-keys secret (it holds only the digest):');
        io.out('');
        io.out(`  ${entry}`);
        return 0;
      }
      case 'hash': {
        if (rest.length > 0)
          throw new UsageError('hash reads the key on stdin (not as an argument, so it stays out of shell history)');
        let parts;
        try {
          parts = splitApiKey((await io.readStdin()).trim());
        } catch {
          throw new UsageError('stdin must hold one key: "<id>.<secret>" as printed by create');
        }
        io.out(JSON.stringify({ id: parts.id, sha256: hashApiKeySecret(parts.secret) }));
        return 0;
      }
      case 'check': {
        const [file, ...extra] = rest;
        if (!file || extra.length > 0) throw new UsageError('check needs one <file> (or - for stdin)');
        const text = file === '-' ? await io.readStdin() : io.readFile(file);
        const table = parseApiKeysDocument(text);
        io.out(`OK: ${table.size} key${table.size === 1 ? '' : 's'} (${[...table.keys()].join(', ') || 'none'})`);
        return 0;
      }
      default:
        throw new UsageError(command ? `unknown command "${command}"` : 'no command given');
    }
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`error: ${(err as Error).message}`);
      io.err('');
      io.err(USAGE);
      return 2;
    }
    if (err instanceof ApiKeysDocumentError) {
      io.err(`error: ${err.problems.length} problem(s) in the API-keys document:`);
      for (const p of err.problems) io.err(`  - ${p}`);
      return 1;
    }
    io.err(`error: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

if (require.main === module) {
  requireSupportedNode('npm run apikeys');
  void run(process.argv.slice(2), processIo).then((code) => {
    process.exitCode = code;
  });
}
