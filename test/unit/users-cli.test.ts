import { mockClient } from 'aws-sdk-client-mock';
import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  AdminDeleteUserCommand,
  AdminDisableUserCommand,
  AdminEnableUserCommand,
  AdminListGroupsForUserCommand,
  AdminRemoveUserFromGroupCommand,
  CognitoIdentityProviderClient,
  GetGroupCommand,
  ListUsersCommand,
  ListUsersInGroupCommand,
  NotAuthorizedException,
  ResourceNotFoundException,
  UserNotFoundException,
  UsernameExistsException,
} from '@aws-sdk/client-cognito-identity-provider';
import { parseCommand, regionOfPool, run, type UsersIo } from '../../scripts/users';

const POOL = 'eu-west-1_AbCdEf123';
const cognito = mockClient(CognitoIdentityProviderClient);
const meta = { $metadata: {} };

beforeEach(() => cognito.reset());

function io() {
  const out: string[] = [];
  const err: string[] = [];
  const value: UsersIo = { out: (l) => out.push(l), err: (l) => err.push(l) };
  return { value, out, err };
}

/** Runs the CLI against the mocked client with `TVM_USER_POOL_ID` set. */
async function cli(argv: string[], env: Record<string, string | undefined> = { TVM_USER_POOL_ID: POOL }) {
  const t = io();
  const regions: string[] = [];
  const code = await run(
    argv,
    (region) => (regions.push(region), new CognitoIdentityProviderClient({ region })),
    t.value,
    env,
  );
  return { code, ...t, regions };
}

/** Every command the CLI sent, in order, as [command name, input]. */
const sent = () => cognito.calls().map((c) => [c.args[0].constructor.name, c.args[0].input]);

describe('Script: users', () => {
  describe('add', () => {
    it('checks the groups, creates the user with a verified email and EMAIL delivery, then adds the groups', async () => {
      // Prepare
      cognito.on(GetGroupCommand).resolves({ Group: { GroupName: 'x' } });
      cognito.on(AdminCreateUserCommand).resolves({ User: { Username: 'ada', UserStatus: 'FORCE_CHANGE_PASSWORD' } });
      cognito.on(AdminAddUserToGroupCommand).resolves({});
      // Act
      const r = await cli(['add', 'ada', '--email', 'ada@example.com', '--group', 'admins', '--group', 'members']);
      // Assess
      expect(r.code).toBe(0);
      expect(r.regions).toEqual(['eu-west-1']);
      expect(sent()).toEqual([
        ['GetGroupCommand', { UserPoolId: POOL, GroupName: 'admins' }],
        ['GetGroupCommand', { UserPoolId: POOL, GroupName: 'members' }],
        [
          'AdminCreateUserCommand',
          {
            UserPoolId: POOL,
            Username: 'ada',
            UserAttributes: [
              { Name: 'email', Value: 'ada@example.com' },
              { Name: 'email_verified', Value: 'true' },
            ],
            DesiredDeliveryMediums: ['EMAIL'],
          },
        ],
        ['AdminAddUserToGroupCommand', { UserPoolId: POOL, Username: 'ada', GroupName: 'admins' }],
        ['AdminAddUserToGroupCommand', { UserPoolId: POOL, Username: 'ada', GroupName: 'members' }],
      ]);
      expect(r.out.join('\n')).toMatch(/emailed a temporary password to ada@example.com/);
    });

    it('never sends or prints a password', async () => {
      cognito.on(AdminCreateUserCommand).resolves({ User: { Username: 'ada@example.com' } });
      const r = await cli(['add', 'ada@example.com']);
      expect(r.code).toBe(0);
      const input = cognito.commandCalls(AdminCreateUserCommand)[0]!.args[0].input;
      expect(input).not.toHaveProperty('TemporaryPassword');
      expect(input).not.toHaveProperty('MessageAction');
      expect(r.out.join('\n')).not.toMatch(/password:/i);
    });

    it('uses the username as the email when it is one (the stack pool signs in by email)', async () => {
      cognito.on(AdminCreateUserCommand).resolves({});
      const r = await cli(['add', 'ada@example.com']);
      expect(r.code).toBe(0);
      expect(cognito.commandCalls(AdminCreateUserCommand)[0]!.args[0].input.UserAttributes).toEqual([
        { Name: 'email', Value: 'ada@example.com' },
        { Name: 'email_verified', Value: 'true' },
      ]);
      expect(r.out.join('\n')).toMatch(/No groups/);
    });

    it('stops before creating anyone when a group does not exist', async () => {
      cognito.on(GetGroupCommand, { GroupName: 'admins' }).resolves({ Group: {} });
      cognito
        .on(GetGroupCommand, { GroupName: 'admnis' })
        .rejects(new ResourceNotFoundException({ message: 'Group not found.', ...meta }));
      const r = await cli(['add', 'ada', '--email', 'ada@example.com', '--group', 'admins', '--group', 'admnis']);
      expect(r.code).toBe(1);
      expect(r.err).toEqual([
        `error: group "admnis" does not exist in ${POOL} (the groups are the ones your config's tiers name)`,
      ]);
      expect(cognito.commandCalls(AdminCreateUserCommand)).toHaveLength(0);
    });

    it('says so when the user already exists', async () => {
      cognito
        .on(AdminCreateUserCommand)
        .rejects(new UsernameExistsException({ message: 'User account already exists', ...meta }));
      const r = await cli(['add', 'ada', '--email', 'ada@example.com']);
      expect(r.code).toBe(1);
      expect(r.err).toEqual([`error: user "ada" already exists in ${POOL}`]);
    });

    it.each([
      ['no email for a non-email username', ['add', 'ada'], /add needs --email/],
      ['a malformed email', ['add', 'ada', '--email', 'not-an-email'], /"not-an-email" is not an email address/],
      ['a password flag', ['add', 'ada', '--email', 'a@b.co', '--password', 'hunter2'], /Unknown option '--password'/],
      ['no username', ['add', '--email', 'a@b.co'], /add needs <username>/],
    ])('is a usage error (exit 2) with %s', async (_what, argv, message) => {
      const r = await cli(argv);
      expect(r.code).toBe(2);
      expect(r.err[0]).toMatch(message);
      expect(r.err.join('\n')).toContain('Usage: npm run users');
      expect(cognito.calls()).toHaveLength(0);
    });
  });

  describe('list', () => {
    const user = (name: string, enabled = true) => ({
      Username: name,
      UserStatus: 'CONFIRMED' as const,
      Enabled: enabled,
      Attributes: [{ Name: 'email', Value: `${name}@example.com` }],
    });

    it('pages through ListUsers', async () => {
      cognito
        .on(ListUsersCommand)
        .resolvesOnce({ Users: [user('a')], PaginationToken: 'p2' })
        .resolvesOnce({ Users: [user('b', false)] });
      const r = await cli(['list']);
      expect(r.code).toBe(0);
      expect(sent()).toEqual([
        ['ListUsersCommand', { UserPoolId: POOL, Limit: 60, PaginationToken: undefined }],
        ['ListUsersCommand', { UserPoolId: POOL, Limit: 60, PaginationToken: 'p2' }],
      ]);
      expect(r.out).toEqual(['a\ta@example.com\tCONFIRMED\tenabled', 'b\tb@example.com\tCONFIRMED\tdisabled']);
    });

    it('lists one group with ListUsersInGroup, as JSON', async () => {
      cognito.on(ListUsersInGroupCommand).resolves({ Users: [user('a')] });
      const r = await cli(['list', '--group', 'admins', '--json']);
      expect(sent()).toEqual([
        ['ListUsersInGroupCommand', { UserPoolId: POOL, GroupName: 'admins', Limit: 60, NextToken: undefined }],
      ]);
      expect(JSON.parse(r.out[0]!)).toEqual([
        { username: 'a', email: 'a@example.com', status: 'CONFIRMED', enabled: true },
      ]);
    });

    it('names an unknown group', async () => {
      cognito
        .on(ListUsersInGroupCommand)
        .rejects(new ResourceNotFoundException({ message: 'Group not found.', ...meta }));
      const r = await cli(['list', '--group', 'nope']);
      expect(r.code).toBe(1);
      expect(r.err[0]).toMatch(/group "nope" does not exist/);
    });

    it('says when the pool itself does not exist', async () => {
      cognito
        .on(ListUsersCommand)
        .rejects(new ResourceNotFoundException({ message: `User pool ${POOL} does not exist.`, ...meta }));
      const r = await cli(['list']);
      expect(r.code).toBe(1);
      expect(r.err[0]).toMatch(new RegExp(`user pool ${POOL} not found in eu-west-1`));
    });
  });

  describe('groups', () => {
    it("pages through the user's groups", async () => {
      cognito
        .on(AdminListGroupsForUserCommand)
        .resolvesOnce({ Groups: [{ GroupName: 'admins' }], NextToken: 'n' })
        .resolvesOnce({ Groups: [{ GroupName: 'members' }] });
      const r = await cli(['groups', 'ada']);
      expect(r.out).toEqual(['admins', 'members']);
      expect(cognito.commandCalls(AdminListGroupsForUserCommand).map((c) => c.args[0].input)).toEqual([
        { UserPoolId: POOL, Username: 'ada', Limit: 60, NextToken: undefined },
        { UserPoolId: POOL, Username: 'ada', Limit: 60, NextToken: 'n' },
      ]);
    });

    it('names an unknown user', async () => {
      cognito
        .on(AdminListGroupsForUserCommand)
        .rejects(new UserNotFoundException({ message: 'User does not exist.', ...meta }));
      const r = await cli(['groups', 'ghost']);
      expect(r.code).toBe(1);
      expect(r.err).toEqual([`error: no user "ghost" in ${POOL}`]);
    });
  });

  describe('membership and state', () => {
    it.each([
      [
        ['add-to-group', 'ada', 'admins'],
        'AdminAddUserToGroupCommand',
        { UserPoolId: POOL, Username: 'ada', GroupName: 'admins' },
      ],
      [
        ['remove-from-group', 'ada', 'admins'],
        'AdminRemoveUserFromGroupCommand',
        { UserPoolId: POOL, Username: 'ada', GroupName: 'admins' },
      ],
      [['disable', 'ada'], 'AdminDisableUserCommand', { UserPoolId: POOL, Username: 'ada' }],
      [['enable', 'ada'], 'AdminEnableUserCommand', { UserPoolId: POOL, Username: 'ada' }],
      [['remove', 'ada', '--yes'], 'AdminDeleteUserCommand', { UserPoolId: POOL, Username: 'ada' }],
    ])('%j sends exactly %s', async (argv, command, input) => {
      cognito.on(AdminAddUserToGroupCommand).resolves({});
      cognito.on(AdminRemoveUserFromGroupCommand).resolves({});
      cognito.on(AdminDisableUserCommand).resolves({});
      cognito.on(AdminEnableUserCommand).resolves({});
      cognito.on(AdminDeleteUserCommand).resolves({});
      const r = await cli(argv);
      expect(r.code).toBe(0);
      expect(sent()).toEqual([[command, input]]);
      expect(r.err).toEqual([]);
    });

    it('warns that disabling does not revoke issued tokens', async () => {
      cognito.on(AdminDisableUserCommand).resolves({});
      const r = await cli(['disable', 'ada']);
      expect(r.out.join('\n')).toMatch(/stay valid until they expire/);
    });

    it('refuses remove without --yes (exit 2, nothing sent)', async () => {
      const r = await cli(['remove', 'ada']);
      expect(r.code).toBe(2);
      expect(r.err[0]).toMatch(/add --yes to confirm/);
      expect(cognito.calls()).toHaveLength(0);
    });

    it('names the group when adding to one that does not exist', async () => {
      cognito
        .on(AdminAddUserToGroupCommand)
        .rejects(new ResourceNotFoundException({ message: 'Group not found.', ...meta }));
      const r = await cli(['add-to-group', 'ada', 'admnis']);
      expect(r.code).toBe(1);
      expect(r.err[0]).toMatch(/group "admnis" does not exist/);
    });

    it('explains missing permissions', async () => {
      cognito.on(AdminEnableUserCommand).rejects(new NotAuthorizedException({ message: 'not authorized', ...meta }));
      const r = await cli(['enable', 'ada']);
      expect(r.code).toBe(1);
      expect(r.err[0]).toMatch(/not allowed \(NotAuthorizedException\).*Check your AWS credentials/);
    });
  });

  describe('user pool selection', () => {
    it('exits 2 without a pool id, sending nothing', async () => {
      const r = await cli(['list'], {});
      expect(r.code).toBe(2);
      expect(r.err[0]).toBe(
        'error: no user pool: pass --user-pool-id or set TVM_USER_POOL_ID (the stack output UserPoolId)',
      );
      expect(cognito.calls()).toHaveLength(0);
    });

    it('prefers --user-pool-id over TVM_USER_POOL_ID and uses its region', async () => {
      cognito.on(ListUsersCommand).resolves({ Users: [] });
      const r = await cli(['list', '--user-pool-id', 'us-east-2_Zz9'], { TVM_USER_POOL_ID: POOL });
      expect(r.regions).toEqual(['us-east-2']);
      expect(cognito.commandCalls(ListUsersCommand)[0]!.args[0].input.UserPoolId).toBe('us-east-2_Zz9');
      expect(r.out).toEqual(['(no users)']);
    });

    it('exits 2 for a malformed pool id', async () => {
      const r = await cli(['list', '--user-pool-id', 'my-pool']);
      expect(r.code).toBe(2);
      expect(r.err[0]).toMatch(/"my-pool" is not a user pool id/);
    });

    it.each([
      ['eu-west-1_AbC', 'eu-west-1'],
      ['us-gov-west-1_x1', 'us-gov-west-1'],
      ['ap-southeast-2_Q', 'ap-southeast-2'],
      ['nope', undefined],
    ])('regionOfPool(%s) = %s', (pool, region) => {
      expect(regionOfPool(pool)).toBe(region);
    });
  });

  describe('parseCommand', () => {
    it.each([
      [['frobnicate'], /unknown command "frobnicate"/],
      [[], /no command given/],
      [['groups'], /groups needs <username>/],
      [['add-to-group', 'ada'], /add-to-group needs <username> <group>/],
      [['disable', 'ada', '--yes'], /--yes does not apply to disable/],
      [['list', '--group', 'a', '--group', 'b'], /at most one --group/],
      [['list', 'extra'], /list needs no arguments/],
    ])('rejects %j', (argv, message) => {
      expect(() => parseCommand(argv, { TVM_USER_POOL_ID: POOL })).toThrow(message);
    });

    it('de-duplicates repeated groups', () => {
      expect(
        parseCommand(['add', 'a@b.co', '--group', 'g', '--group', 'g'], { TVM_USER_POOL_ID: POOL }).command,
      ).toEqual({
        name: 'add',
        username: 'a@b.co',
        email: 'a@b.co',
        groups: ['g'],
      });
    });

    it('prints usage for --help without needing a pool', async () => {
      const r = await cli(['--help'], {});
      expect(r.code).toBe(0);
      expect(r.out[0]).toMatch(/^Usage: npm run users/);
    });
  });
});
