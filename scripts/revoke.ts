/**
 * Operator CLI for the revocation table (`npm run revoke -- …`).
 *
 *   npm run revoke -- <principal> [--reason <text>]   refuse credentials of <principal> issued up to now
 *   npm run revoke -- --list [--json]                  the current revocations
 *   npm run revoke -- --lift <principal>               remove a revocation
 *
 * A principal is `<source>:<id>` exactly as the audit log writes it (`source` and `principalId` of a "token
 * issued" line): `cognito:<sub>` or `authorizer:<sub or API key id>`. The table comes from `--table` or
 * `TVM_REVOCATION_TABLE` (the stack output RevocationTableName); the region from `--region` or `AWS_REGION`;
 * lifetimes and the cache bound from the config file (`--config`, default config/tvm.config.ts).
 * Exit codes: 0 ok, 1 failure, 2 usage error.
 */
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import {
  DeleteItemCommand,
  DynamoDBClient,
  PutItemCommand,
  ScanCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { DEFAULT_CONFIG_FILE, loadConfigFile } from '../lib/load-config';
import { REVOCATION_ATTRIBUTES as A, revocationExpiry } from '../lambda/revocation';
import { requireSupportedNode } from './node-support';

/** The usage text. */
const USAGE = `Usage: npm run revoke -- <principal> [--reason <text>]
       npm run revoke -- --list [--json]
       npm run revoke -- --lift <principal>

  <principal> is <source>:<id> as the audit log writes it, e.g. cognito:3f1c…-…  or  authorizer:user-42
  (Cognito users by name: npm run users -- revoke <username>)

Options: --table <name> (or TVM_REVOCATION_TABLE, the stack output RevocationTableName)
         --region <region> (or AWS_REGION)   --config <file> (default config/tvm.config.ts)`;

/** Where the CLI writes (injected for tests). */
export interface RevokeIo {
  out(line: string): void;
  err(line: string): void;
}

/** Process-backed I/O. */
const processIo: RevokeIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** A command line that cannot be run: exit code 2, with usage. */
class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** What the CLI needs from the config file to say when things take effect and when a record may expire. */
export interface RevocationSettings {
  /** `revocation.cacheSeconds`: how long a function container may still use an older lookup. */
  readonly cacheSeconds: number;
  /** `token.maxTtlSeconds`: the longest a Momento token handed out before the revocation keeps working. */
  readonly maxTokenTtlSeconds: number;
  /** `revocation.maxCredentialLifetimeSeconds`: unset, a record lasts until lifted. */
  readonly maxCredentialLifetimeSeconds?: number;
  /** `revocation.clockMarginSeconds`: added to this machine's clock for `notBefore` (a slow clock). @default 0 */
  readonly clockMarginSeconds?: number;
  /** `auth.mode`. */
  readonly mode: 'open' | 'cognito' | 'authorizer';
  /** `auth.tokenIdClaim` (cognito/authorizer): what the principal id is. */
  readonly tokenIdClaim?: string;
}

/** Reads {@link RevocationSettings} from an operator config file (TS or JSON), validated as at synth. */
export async function loadSettings(configPath?: string): Promise<RevocationSettings> {
  // The one config loader (lib/load-config.ts): the default file is the repository's, a given one is the caller's.
  const c =
    configPath === undefined
      ? loadConfigFile(DEFAULT_CONFIG_FILE, path.join(__dirname, '..'))
      : loadConfigFile(configPath);
  return {
    cacheSeconds: c.revocation.cacheSeconds,
    maxTokenTtlSeconds: c.token.maxTtlSeconds,
    maxCredentialLifetimeSeconds: c.revocation.maxCredentialLifetimeSeconds,
    clockMarginSeconds: c.revocation.clockMarginSeconds,
    mode: c.auth.mode,
    tokenIdClaim: c.auth.mode === 'open' ? undefined : c.auth.tokenIdClaim,
  };
}

const PRINCIPAL = /^(cognito|authorizer):[^\s]{1,256}$/;

/** A parsed command line. */
export type RevokeCommand =
  | { readonly name: 'revoke'; readonly principal: string; readonly reason?: string }
  | { readonly name: 'lift'; readonly principal: string }
  | { readonly name: 'list'; readonly json: boolean }
  | { readonly name: 'help' };

/**
 * Parses the command line (pure).
 *
 * @throws UsageError
 */
export function parseCommand(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): { command: RevokeCommand; table: string; region?: string; configPath?: string } {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        list: { type: 'boolean' },
        lift: { type: 'string' },
        json: { type: 'boolean' },
        reason: { type: 'string' },
        table: { type: 'string' },
        region: { type: 'string' },
        config: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  const base = { region: values.region ?? env.AWS_REGION, configPath: values.config };
  if (values.help) return { command: { name: 'help' }, table: '', ...base };
  const modes = [values.list ? 'list' : '', values.lift !== undefined ? 'lift' : '', positionals.length ? 'revoke' : '']
    .filter(Boolean)
    .join(', ');
  let command: RevokeCommand;
  if (values.list) {
    if (modes !== 'list') throw new UsageError('--list takes no principal and no --lift');
    command = { name: 'list', json: values.json ?? false };
  } else {
    if (values.json) throw new UsageError('--json applies only to --list');
    const principal = values.lift ?? positionals[0];
    if (principal === undefined) throw new UsageError('name a principal to revoke, or use --list / --lift');
    if (modes === 'lift, revoke' || positionals.length > 1) throw new UsageError('one principal at a time');
    if (!PRINCIPAL.test(principal))
      throw new UsageError(
        `"${principal}" is not a principal: write <source>:<id> as the audit log does (cognito:<sub> or authorizer:<id>)`,
      );
    if (values.lift !== undefined) {
      if (values.reason !== undefined) throw new UsageError('--reason applies only to a revocation');
      command = { name: 'lift', principal };
    } else command = { name: 'revoke', principal, ...(values.reason ? { reason: values.reason } : {}) };
  }
  const table = values.table ?? env.TVM_REVOCATION_TABLE;
  if (!table)
    throw new UsageError('no table: pass --table or set TVM_REVOCATION_TABLE (the stack output RevocationTableName)');
  return { command, table, ...base };
}

const iso = (epochSeconds: number) => new Date(epochSeconds * 1000).toISOString().replace('.000Z', 'Z');

/**
 * What one mode does with a refreshed credential and a new sign-in, for {@link effectLines}. Cognito: the ID
 * token's `auth_time`. Authorizer: what the authorizer forwards (authorizers/verify.ts `issueTimeOf`), the JWT's
 * `auth_time` where the IdP sends one, else its `iat` — which of the two is the IdP's choice, so both are told.
 */
function refreshLine(principal: string, notBefore: number): string {
  const after = `after ${iso(notBefore)}`;
  if (principal.startsWith('cognito:'))
    return `- A token refresh does not help (a refreshed ID token keeps its auth_time): only a new sign-in ${after} is accepted. To block sign-in too: npm run users -- disable <username>.`;
  if (principal.startsWith('authorizer:apikey:'))
    return '- An API key has no issue time: EVERY request with it is refused until you lift the revocation. To replace the key: npm run apikeys -- create, and drop the old entry from the API-keys secret.';
  return `- The authorizer checks the token's auth_time where your IdP sends one, else its iat (a token with neither is refused until you lift the revocation). With auth_time, a refresh does not help: only a new sign-in ${after} is accepted. With only iat, a token refreshed ${after} counts as new and IS accepted: revoke the session at your IdP too.`;
}

/**
 * What a revocation written at `at` (this machine's clock) with `notBefore` means, in lines an operator under
 * pressure can act on. `expiresAt` undefined: the record lasts until lifted.
 */
export function effectLines(
  principal: string,
  at: number,
  notBefore: number,
  expiresAt: number | undefined,
  s: RevocationSettings,
): string[] {
  const noIssueTime = principal.startsWith('authorizer:apikey:');
  const margin = notBefore - at;
  return [
    `Revoked ${principal} at ${iso(at)} (this machine's clock): credentials issued up to ${iso(notBefore)} are refused${
      margin > 0 ? ` (revocation.clockMarginSeconds = ${margin} s, for a clock that runs slow)` : ''
    }.`,
    `- Within ${s.cacheSeconds} s (revocation.cacheSeconds), by ${iso(at + s.cacheSeconds)}: every request from ${
      noIssueTime ? 'this principal' : 'such a credential'
    } gets 403 "revoked", including requests a cached token would have answered.`,
    `- Momento tokens already handed out cannot be revoked: they keep working until they expire, at most ${s.maxTokenTtlSeconds} s (token.maxTtlSeconds), i.e. by ${iso(at + s.cacheSeconds + s.maxTokenTtlSeconds)}.`,
    refreshLine(principal, notBefore),
    expiresAt === undefined
      ? `- The record lasts until you lift it: npm run revoke -- --lift ${principal}`
      : `- The record expires at ${iso(expiresAt)} (DynamoDB TTL: revocation time + ${s.maxCredentialLifetimeSeconds} s credential lifetime + ${s.maxTokenTtlSeconds} s token lifetime). Undo with: npm run revoke -- --lift ${principal}`,
  ];
}

/**
 * Writes (or moves forward) a revocation: `notBefore = at` (the caller adds any clock margin). Conditional: never
 * moves an existing `notBefore` backwards (two operators, skewed clocks). Returns whether it wrote, and the
 * record's expiry (undefined: no TTL, the record lasts until lifted).
 */
export async function putRevocation(
  ddb: DynamoDBClient,
  table: string,
  principal: string,
  at: number,
  settings: RevocationSettings,
  reason?: string,
): Promise<{ written: boolean; expiresAt: number | undefined }> {
  const expiresAt = revocationExpiry(at, {
    maxCredentialLifetimeSeconds: settings.maxCredentialLifetimeSeconds,
    maxTokenTtlSeconds: settings.maxTokenTtlSeconds,
  });
  const item: Record<string, AttributeValue> = {
    [A.principal]: { S: principal },
    [A.notBefore]: { N: String(at) },
  };
  if (expiresAt !== undefined) item[A.expiresAt] = { N: String(expiresAt) };
  if (reason) item.reason = { S: reason.slice(0, 500) };
  try {
    await ddb.send(
      new PutItemCommand({
        TableName: table,
        Item: item,
        ConditionExpression: 'attribute_not_exists(#p) OR #nb <= :nb',
        ExpressionAttributeNames: { '#p': A.principal, '#nb': A.notBefore },
        ExpressionAttributeValues: { ':nb': { N: String(at) } },
      }),
    );
    return { written: true, expiresAt };
  } catch (err) {
    if ((err as { name?: string }).name === 'ConditionalCheckFailedException') return { written: false, expiresAt };
    throw err;
  }
}

function explain(err: unknown, table: string): string {
  const name = (err as { name?: string }).name ?? 'Error';
  const message = err instanceof Error ? err.message : String(err);
  switch (name) {
    case 'ResourceNotFoundException':
      return `table ${table} not found in this region: check --table / TVM_REVOCATION_TABLE and --region / AWS_REGION`;
    case 'AccessDeniedException':
    case 'UnrecognizedClientException':
    case 'ExpiredTokenException':
    case 'CredentialsProviderError':
      return `not allowed (${name}): ${message}. Check your AWS credentials and that they may write ${table}`;
    default:
      return `${name}: ${message}`;
  }
}

/**
 * Runs one command and returns the exit code.
 *
 * @example
 * process.exitCode = await run(process.argv.slice(2), (region) => new DynamoDBClient({ region }));
 */
export async function run(
  argv: readonly string[],
  client: DynamoDBClient | ((region: string | undefined) => DynamoDBClient),
  io: RevokeIo = processIo,
  env: Readonly<Record<string, string | undefined>> = process.env,
  options: { settings?: RevocationSettings; nowSeconds?: () => number } = {},
): Promise<number> {
  let parsed;
  try {
    parsed = parseCommand(argv, env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.err(`error: ${err.message}`);
    io.err('');
    io.err(USAGE);
    return 2;
  }
  const { command, table, region } = parsed;
  if (command.name === 'help') {
    io.out(USAGE);
    return 0;
  }
  const ddb = typeof client === 'function' ? client(region) : client;
  const now = Math.floor((options.nowSeconds ?? (() => Date.now() / 1000))());
  try {
    switch (command.name) {
      case 'revoke': {
        const settings = options.settings ?? (await loadSettings(parsed.configPath));
        if (settings.mode === 'open') io.err('warning: the config is in open mode, which has no identity to revoke');
        // The clock trusted is this machine's, moved forward by the margin: a slow clock must not leave a gap
        // between "now" as the operator sees it and sign-ins the issuer has already stamped.
        const notBefore = now + (settings.clockMarginSeconds ?? 0);
        const { written, expiresAt } = await putRevocation(
          ddb,
          table,
          command.principal,
          notBefore,
          settings,
          command.reason,
        );
        if (!written) {
          io.out(`${command.principal} already has a later revocation; nothing changed (see --list).`);
          return 0;
        }
        for (const line of effectLines(command.principal, now, notBefore, expiresAt, settings)) io.out(line);
        return 0;
      }
      case 'lift': {
        const settings = options.settings ?? (await loadSettings(parsed.configPath));
        try {
          await ddb.send(
            new DeleteItemCommand({
              TableName: table,
              Key: { [A.principal]: { S: command.principal } },
              ConditionExpression: 'attribute_exists(#p)',
              ExpressionAttributeNames: { '#p': A.principal },
            }),
          );
        } catch (err) {
          if ((err as { name?: string }).name !== 'ConditionalCheckFailedException') throw err;
          io.err(`error: ${command.principal} is not revoked (nothing to lift; see --list)`);
          return 1;
        }
        io.out(`Lifted the revocation of ${command.principal}.`);
        io.out(
          `- Within ${settings.cacheSeconds} s (revocation.cacheSeconds), by ${iso(now + settings.cacheSeconds)}, its credentials are accepted again.`,
        );
        if (command.principal.startsWith('cognito:'))
          io.out('- A user signed out by "users revoke" needs to sign in again; a disabled user needs "users enable".');
        return 0;
      }
      case 'list': {
        const rows: { principal: string; notBefore: string; expiresAt?: string; expired: boolean; reason?: string }[] =
          [];
        let start: Record<string, AttributeValue> | undefined;
        do {
          const page = await ddb.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
          for (const item of page.Items ?? []) {
            const nb = Number(item[A.notBefore]?.N);
            const exp = Number(item[A.expiresAt]?.N);
            rows.push({
              principal: item[A.principal]?.S ?? '?',
              notBefore: Number.isFinite(nb) ? iso(nb) : 'always (no notBefore)',
              ...(Number.isFinite(exp) ? { expiresAt: iso(exp) } : {}),
              expired: Number.isFinite(exp) && exp <= now,
              ...(item.reason?.S ? { reason: item.reason.S } : {}),
            });
          }
          start = page.LastEvaluatedKey;
        } while (start);
        rows.sort((a, b) => a.principal.localeCompare(b.principal));
        if (command.json) io.out(JSON.stringify(rows));
        else if (rows.length === 0) io.out('(no revocations)');
        else {
          io.out(['principal', 'refused if issued up to', 'record expires', 'reason'].join('\t'));
          for (const r of rows)
            io.out(
              [
                r.principal,
                r.notBefore,
                `${r.expiresAt ?? 'never (until lifted)'}${r.expired ? ' (expired)' : ''}`,
                r.reason ?? '',
              ].join('\t'),
            );
        }
        return 0;
      }
    }
  } catch (err) {
    io.err(`error: ${explain(err, table)}`);
    return 1;
  }
}

if (require.main === module) {
  requireSupportedNode('npm run revoke');
  void run(process.argv.slice(2), (region) => new DynamoDBClient(region ? { region } : {}), processIo).then((code) => {
    process.exitCode = code;
  });
}
