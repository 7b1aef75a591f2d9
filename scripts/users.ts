/**
 * Ops helper for the TVM's Cognito user pool (`npm run users -- <command>`).
 *
 * Users get tiers through groups, so this manages users and their group memberships. It never handles a
 * password: `add` has Cognito email a temporary password, which the user changes at first sign-in.
 * The pool comes from `--user-pool-id` or `TVM_USER_POOL_ID` (the stack's `UserPoolId` output); the region is
 * the pool's own (it is part of the pool id). Exit codes: 0 ok, 1 failure, 2 usage error.
 */
import { parseArgs } from 'node:util';
import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  AdminDeleteUserCommand,
  AdminDisableUserCommand,
  AdminEnableUserCommand,
  AdminListGroupsForUserCommand,
  AdminGetUserCommand,
  AdminRemoveUserFromGroupCommand,
  AdminUserGlobalSignOutCommand,
  CognitoIdentityProviderClient,
  GetGroupCommand,
  ListUsersCommand,
  ListUsersInGroupCommand,
  type UserType,
} from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { effectLines, loadSettings, putRevocation, type RevocationSettings } from './revoke';
import { requireSupportedNode } from './node-support';

/** The usage text. */
const USAGE = `Usage: npm run users -- <command> [--user-pool-id <id>]

  add <username> [--email <email>] [--group <group>]...   create a user; Cognito emails a temporary password
                                                          (with the stack's pool the username is the email)
  list [--group <group>] [--json]                         list users (of one group)
  groups <username>                                       the user's groups
  add-to-group <username> <group>                         grant a group (and so its tiers)
  remove-from-group <username> <group>                    revoke a group
  disable <username>                                      block sign-in (user and groups are kept)
  enable <username>                                       allow sign-in again
  remove <username> --yes                                 delete the user permanently
  revoke <username> [--table <name>] [--config <file>]    now: sign out everywhere (no new ID tokens without the
                                                          password); within seconds: the TVM refuses their
                                                          current ID tokens (npm run revoke; table from
                                                          TVM_REVOCATION_TABLE, the stack output RevocationTableName)

The user pool: --user-pool-id, or TVM_USER_POOL_ID (the stack output UserPoolId).`;

/** Where the CLI writes (injected for tests). */
export interface UsersIo {
  out(line: string): void;
  err(line: string): void;
}

/** Process-backed I/O. */
const processIo: UsersIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** A parsed command line. */
export type UsersCommand =
  | { readonly name: 'add'; readonly username: string; readonly email: string; readonly groups: readonly string[] }
  | { readonly name: 'list'; readonly group?: string; readonly json: boolean }
  | { readonly name: 'groups' | 'disable' | 'enable' | 'remove'; readonly username: string }
  | { readonly name: 'add-to-group' | 'remove-from-group'; readonly username: string; readonly group: string }
  | { readonly name: 'revoke'; readonly username: string; readonly table: string; readonly configPath?: string }
  | { readonly name: 'help' };

/** A command line that cannot be run: exit code 2, with usage. */
class UsageError extends Error {
  override readonly name = 'UsageError';
}

const POOL_ID = /^([a-z]{2}(?:-[a-z]+)+-\d)_[A-Za-z0-9]+$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/** The region a user pool lives in (`eu-west-1_AbC` → `eu-west-1`). */
export const regionOfPool = (userPoolId: string): string | undefined => POOL_ID.exec(userPoolId)?.[1];

/**
 * Parses the command line (pure). `env` supplies `TVM_USER_POOL_ID` when `--user-pool-id` is absent.
 *
 * @throws UsageError
 */
export function parseCommand(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): { command: UsersCommand; userPoolId: string } {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        'user-pool-id': { type: 'string' },
        email: { type: 'string' },
        group: { type: 'string', multiple: true },
        json: { type: 'boolean' },
        yes: { type: 'boolean' },
        table: { type: 'string' },
        config: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  const [name, ...args] = positionals;
  if (values.help || name === 'help') return { command: { name: 'help' }, userPoolId: '' };
  const want = (count: number, shape: string): string[] => {
    if (args.length !== count) throw new UsageError(`${name} needs ${shape}`);
    return args;
  };
  const onlyFor = (flag: 'email' | 'group' | 'json' | 'yes' | 'table' | 'config', commands: readonly string[]) => {
    if (values[flag] !== undefined && !commands.includes(name ?? ''))
      throw new UsageError(`--${flag} does not apply to ${name}`);
  };
  onlyFor('email', ['add']);
  onlyFor('group', ['add', 'list']);
  onlyFor('json', ['list']);
  onlyFor('yes', ['remove']);
  onlyFor('table', ['revoke']);
  onlyFor('config', ['revoke']);

  let command: UsersCommand;
  switch (name) {
    case 'add': {
      const [username] = want(1, '<username>') as [string];
      const email = values.email ?? (username.includes('@') ? username : undefined);
      if (email === undefined) throw new UsageError('add needs --email (Cognito sends the temporary password there)');
      if (!EMAIL.test(email)) throw new UsageError(`"${email}" is not an email address`);
      command = { name, username, email, groups: [...new Set(values.group ?? [])] };
      break;
    }
    case 'list': {
      want(0, 'no arguments');
      const groups = values.group ?? [];
      if (groups.length > 1) throw new UsageError('list takes at most one --group');
      command = { name, group: groups[0], json: values.json ?? false };
      break;
    }
    case 'groups':
    case 'disable':
    case 'enable':
      command = { name, username: want(1, '<username>')[0]! };
      break;
    case 'remove':
      command = { name, username: want(1, '<username>')[0]! };
      if (!values.yes)
        throw new UsageError('remove deletes the user permanently; add --yes to confirm (or use disable)');
      break;
    case 'revoke': {
      const table = values.table ?? env.TVM_REVOCATION_TABLE;
      if (!table)
        throw new UsageError(
          'revoke needs the revocation table: pass --table or set TVM_REVOCATION_TABLE (the stack output RevocationTableName)',
        );
      command = { name, username: want(1, '<username>')[0]!, table, configPath: values.config };
      break;
    }
    case 'add-to-group':
    case 'remove-from-group': {
      const [username, group] = want(2, '<username> <group>') as [string, string];
      command = { name, username, group };
      break;
    }
    default:
      throw new UsageError(name ? `unknown command "${name}"` : 'no command given');
  }
  const userPoolId = values['user-pool-id'] ?? env.TVM_USER_POOL_ID;
  if (!userPoolId)
    throw new UsageError('no user pool: pass --user-pool-id or set TVM_USER_POOL_ID (the stack output UserPoolId)');
  if (!regionOfPool(userPoolId))
    throw new UsageError(`"${userPoolId}" is not a user pool id (like eu-west-1_AbCdEf123)`);
  return { command, userPoolId };
}

/** A Cognito failure turned into one line an operator can act on. */
function explain(err: unknown, ctx: { userPoolId: string; username?: string; group?: string }): string {
  const name = (err as { name?: string }).name ?? 'Error';
  const message = err instanceof Error ? err.message : String(err);
  switch (name) {
    case 'UsernameExistsException':
      return `user "${ctx.username}" already exists in ${ctx.userPoolId}`;
    case 'UserNotFoundException':
      return `no user "${ctx.username}" in ${ctx.userPoolId}`;
    case 'ResourceNotFoundException':
      if (ctx.group !== undefined && !/pool/i.test(message))
        return `group "${ctx.group}" does not exist in ${ctx.userPoolId} (the groups are the ones your config's tiers name)`;
      return `user pool ${ctx.userPoolId} not found in ${regionOfPool(ctx.userPoolId)}: ${message}`;
    case 'InvalidParameterException':
      return `Cognito rejected the request: ${message}`;
    case 'NotAuthorizedException':
    case 'AccessDeniedException':
    case 'UnrecognizedClientException':
    case 'ExpiredTokenException':
    case 'CredentialsProviderError':
      return `not allowed (${name}): ${message}. Check your AWS credentials and that they may manage ${ctx.userPoolId}`;
    case 'TooManyRequestsException':
      return 'Cognito is throttling requests; try again in a moment';
    default:
      return `${name}: ${message}`;
  }
}

/** Pages through a Cognito list call. */
async function collect<T>(
  page: (token: string | undefined) => Promise<{ items: readonly T[] | undefined; next: string | undefined }>,
): Promise<T[]> {
  const all: T[] = [];
  let token: string | undefined;
  do {
    const { items, next } = await page(token);
    all.push(...(items ?? []));
    token = next;
  } while (token);
  return all;
}

const describeUser = (u: UserType) => ({
  username: u.Username ?? '',
  email: u.Attributes?.find((a) => a.Name === 'email')?.Value ?? '',
  status: u.UserStatus ?? '',
  enabled: u.Enabled ?? false,
});

/**
 * Runs one command and returns the exit code. `client` is a Cognito client, or a function that makes one for
 * the pool's region (what the command line uses).
 *
 * @example
 * process.exitCode = await run(process.argv.slice(2), (region) => new CognitoIdentityProviderClient({ region }), processIo);
 */
export async function run(
  argv: readonly string[],
  client: CognitoIdentityProviderClient | ((region: string) => CognitoIdentityProviderClient),
  io: UsersIo = processIo,
  env: Readonly<Record<string, string | undefined>> = process.env,
  revokeDeps: {
    /** The revocation table's client (`revoke`). @default a DynamoDBClient in the pool's region */
    dynamo?: DynamoDBClient;
    /** @default read from the config file */
    settings?: RevocationSettings;
    nowSeconds?: () => number;
  } = {},
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
  const { command, userPoolId } = parsed;
  if (command.name === 'help') {
    io.out(USAGE);
    return 0;
  }
  const cognito = typeof client === 'function' ? client(regionOfPool(userPoolId)!) : client;
  const UserPoolId = userPoolId;
  const ctx: { userPoolId: string; username?: string; group?: string } = { userPoolId };
  if ('username' in command) ctx.username = command.username;
  if ('group' in command) ctx.group = command.group;
  try {
    switch (command.name) {
      case 'add': {
        const { username: Username, email, groups } = command;
        // Check the groups first, so a typo does not leave a half-set-up user behind.
        for (const GroupName of groups) {
          ctx.group = GroupName;
          await cognito.send(new GetGroupCommand({ UserPoolId, GroupName }));
        }
        ctx.group = undefined;
        const created = await cognito.send(
          new AdminCreateUserCommand({
            UserPoolId,
            Username,
            UserAttributes: [
              { Name: 'email', Value: email },
              // The operator vouches for the address; Cognito sends the temporary password to it.
              { Name: 'email_verified', Value: 'true' },
            ],
            DesiredDeliveryMediums: ['EMAIL'],
          }),
        );
        for (const GroupName of groups) {
          ctx.group = GroupName;
          await cognito.send(new AdminAddUserToGroupCommand({ UserPoolId, Username, GroupName }));
        }
        io.out(
          `Created user "${Username}" (${created.User?.UserStatus ?? 'FORCE_CHANGE_PASSWORD'}); Cognito emailed a temporary password to ${email}.`,
        );
        io.out(
          groups.length > 0
            ? `Groups: ${groups.join(', ')}`
            : 'No groups: the user gets only the fallback tier, if one is configured (else 403).',
        );
        return 0;
      }
      case 'list': {
        const { group } = command;
        const users = await collect<UserType>(async (NextToken) => {
          if (group !== undefined) {
            const r = await cognito.send(
              new ListUsersInGroupCommand({ UserPoolId, GroupName: group, Limit: 60, NextToken }),
            );
            return { items: r.Users, next: r.NextToken };
          }
          const r = await cognito.send(new ListUsersCommand({ UserPoolId, Limit: 60, PaginationToken: NextToken }));
          return { items: r.Users, next: r.PaginationToken };
        });
        const rows = users.map(describeUser);
        if (command.json) io.out(JSON.stringify(rows));
        else if (rows.length === 0) io.out(group !== undefined ? `(no users in group "${group}")` : '(no users)');
        else
          for (const r of rows) io.out([r.username, r.email, r.status, r.enabled ? 'enabled' : 'disabled'].join('\t'));
        return 0;
      }
      case 'groups': {
        const groups = await collect(async (NextToken) => {
          const r = await cognito.send(
            new AdminListGroupsForUserCommand({ UserPoolId, Username: command.username, Limit: 60, NextToken }),
          );
          return { items: r.Groups, next: r.NextToken };
        });
        if (groups.length === 0) io.out('(no groups)');
        for (const g of groups) io.out(g.GroupName ?? '');
        return 0;
      }
      case 'add-to-group':
        await cognito.send(
          new AdminAddUserToGroupCommand({ UserPoolId, Username: command.username, GroupName: command.group }),
        );
        io.out(`Added "${command.username}" to "${command.group}" (takes effect with the user's next ID token).`);
        return 0;
      case 'remove-from-group':
        await cognito.send(
          new AdminRemoveUserFromGroupCommand({ UserPoolId, Username: command.username, GroupName: command.group }),
        );
        io.out(`Removed "${command.username}" from "${command.group}".`);
        io.out(
          'Already-issued ID tokens keep the old groups until they expire (1 h by default), and so do Momento tokens until their ttl.',
        );
        return 0;
      case 'disable':
        await cognito.send(new AdminDisableUserCommand({ UserPoolId, Username: command.username }));
        io.out(`Disabled "${command.username}": no new sign-ins or token refreshes.`);
        io.out(
          'Already-issued ID tokens stay valid until they expire (1 h by default), and so do Momento tokens until their ttl.',
        );
        return 0;
      case 'enable':
        await cognito.send(new AdminEnableUserCommand({ UserPoolId, Username: command.username }));
        io.out(`Enabled "${command.username}".`);
        return 0;
      case 'remove':
        await cognito.send(new AdminDeleteUserCommand({ UserPoolId, Username: command.username }));
        io.out(`Deleted "${command.username}".`);
        return 0;
      case 'revoke':
        return await revokeUser(command, cognito, UserPoolId, io, revokeDeps);
    }
  } catch (err) {
    io.err(`error: ${explain(err, ctx)}`);
    return 1;
  }
}

/**
 * `revoke <username>`: a revocation record for the user's principal (`cognito:<tokenIdClaim value>`, what the
 * TVM checks), then AdminUserGlobalSignOut (refresh tokens revoked: no new ID tokens without signing in again).
 * The record comes first: it is what stops the TVM; a failed sign-out is reported, not hidden.
 */
async function revokeUser(
  command: Extract<UsersCommand, { name: 'revoke' }>,
  cognito: CognitoIdentityProviderClient,
  UserPoolId: string,
  io: UsersIo,
  deps: { dynamo?: DynamoDBClient; settings?: RevocationSettings; nowSeconds?: () => number },
): Promise<number> {
  const settings = deps.settings ?? (await loadSettings(command.configPath));
  if (settings.mode !== 'cognito') {
    io.err(`error: the config is in ${settings.mode} mode; users revoke is for Cognito (use npm run revoke)`);
    return 1;
  }
  const user = await cognito.send(new AdminGetUserCommand({ UserPoolId, Username: command.username }));
  const claim = settings.tokenIdClaim ?? 'sub';
  const id = claim === 'cognito:username' ? user.Username : user.UserAttributes?.find((a) => a.Name === claim)?.Value;
  if (!id) {
    io.err(
      `error: user "${command.username}" has no "${claim}" attribute (auth.tokenIdClaim), so no principal to revoke`,
    );
    return 1;
  }
  const principal = `cognito:${id}`;
  const now = Math.floor((deps.nowSeconds ?? (() => Date.now() / 1000))());
  // As `npm run revoke`: this machine's clock, moved on by revocation.clockMarginSeconds for a slow clock.
  const notBefore = now + (settings.clockMarginSeconds ?? 0);
  const ddb = deps.dynamo ?? new DynamoDBClient({ region: regionOfPool(UserPoolId) });
  let result;
  try {
    result = await putRevocation(
      ddb,
      command.table,
      principal,
      notBefore,
      settings,
      `users revoke ${command.username}`,
    );
  } catch (err) {
    // Not explain(): its ResourceNotFoundException is about the pool, this one about the table.
    const name = (err as { name?: string }).name ?? 'Error';
    io.err(
      `error: could not write the revocation table ${command.table} (${name}: ${err instanceof Error ? err.message : String(err)}); nothing was changed`,
    );
    return 1;
  }
  const { written, expiresAt } = result;
  if (written) for (const line of effectLines(principal, now, notBefore, expiresAt, settings)) io.out(line);
  else io.out(`${principal} already has a later revocation; kept it.`);
  await cognito.send(new AdminUserGlobalSignOutCommand({ UserPoolId, Username: command.username }));
  io.out(
    `- Now: "${command.username}" is signed out everywhere (refresh tokens revoked): no new ID tokens without signing in again with the password. To block that too: npm run users -- disable ${command.username}`,
  );
  return 0;
}

if (require.main === module) {
  requireSupportedNode('npm run users');
  void run(process.argv.slice(2), (region) => new CognitoIdentityProviderClient({ region }), processIo).then((code) => {
    process.exitCode = code;
  });
}
