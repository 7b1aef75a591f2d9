/**
 * The revoke CLI's command line and messages (pure), and `users revoke` parsing. The DynamoDB side runs against
 * dynalite in test/integration/revocation.test.ts.
 */
import { effectLines, parseCommand, type RevocationSettings } from '../../scripts/revoke';
import { parseCommand as parseUsers } from '../../scripts/users';

const ENV = { TVM_REVOCATION_TABLE: 'tbl', AWS_REGION: 'eu-west-1' };
const SETTINGS: RevocationSettings = {
  cacheSeconds: 5,
  maxTokenTtlSeconds: 900,
  maxCredentialLifetimeSeconds: 86400,
  mode: 'cognito',
  tokenIdClaim: 'sub',
};

describe('Script: revoke (command line)', () => {
  it.each([
    [['cognito:abc'], { name: 'revoke', principal: 'cognito:abc' }],
    [
      ['authorizer:apikey:svc-a', '--reason', 'leaked'],
      { name: 'revoke', principal: 'authorizer:apikey:svc-a', reason: 'leaked' },
    ],
    [['--lift', 'cognito:abc'], { name: 'lift', principal: 'cognito:abc' }],
    [['--list'], { name: 'list', json: false }],
    [['--list', '--json'], { name: 'list', json: true }],
  ])('%j', (argv, command) => {
    expect(parseCommand(argv, ENV)).toEqual({ command, table: 'tbl', region: 'eu-west-1', configPath: undefined });
  });

  it.each([
    [['cognito:abc'], {}, /no table/],
    [['cognito:a', 'cognito:b'], ENV, /one principal at a time/],
    [['--lift', 'cognito:a', 'cognito:b'], ENV, /one principal at a time/],
    [['--lift', 'cognito:a', '--reason', 'x'], ENV, /--reason applies only/],
    [['cognito:a', '--json'], ENV, /--json applies only/],
    [['cognito:has space'], ENV, /not a principal/],
    [['--bogus'], ENV, /Unknown option/],
  ])('refuses %j', (argv, env, message) => {
    expect(() => parseCommand(argv, env)).toThrow(message);
  });

  it('says when each part takes effect, with the configured bounds', () => {
    const lines = effectLines('cognito:abc', 1_767_225_600, 1_767_225_660, 1_767_315_600, SETTINGS);
    expect(lines).toEqual([
      expect.stringMatching(
        /^Revoked cognito:abc at 2026-01-01T00:00:00Z \(this machine's clock\): credentials issued up to 2026-01-01T00:01:00Z are refused \(revocation.clockMarginSeconds = 60 s/,
      ),
      expect.stringMatching(
        /^- Within 5 s \(revocation.cacheSeconds\), by 2026-01-01T00:00:05Z: every request from such a credential gets 403 "revoked"/,
      ),
      expect.stringMatching(/at most 900 s \(token.maxTtlSeconds\), i.e. by 2026-01-01T00:15:05Z/),
      expect.stringMatching(/refresh does not help.*only a new sign-in after 2026-01-01T00:01:00Z.*users -- disable/),
      expect.stringMatching(/expires at 2026-01-02T01:00:00Z .*--lift cognito:abc/),
    ]);
  });

  it('says a record without a TTL lasts until lifted', () => {
    const lines = effectLines('cognito:abc', 1_767_225_600, 1_767_225_600, undefined, SETTINGS);
    expect(lines[0]).not.toMatch(/clockMarginSeconds/);
    expect(lines[4]).toBe('- The record lasts until you lift it: npm run revoke -- --lift cognito:abc');
  });

  it.each([
    ['an API key', 'authorizer:apikey:svc-a', [/^- An API key has no issue time: EVERY request with it is refused/]],
    [
      'a JWT subject',
      'authorizer:u-1',
      [
        /auth_time where your IdP sends one, else its iat \(a token with neither is refused until you lift/,
        /With auth_time, a refresh does not help: only a new sign-in after 2026-01-01T00:00:00Z is accepted/,
        /With only iat, a token refreshed after 2026-01-01T00:00:00Z counts as new and IS accepted: revoke the session at your IdP too/,
      ],
    ],
  ])('tells the truth about refreshes in authorizer mode: %s', (_what, principal, patterns) => {
    const s: RevocationSettings = { ...SETTINGS, mode: 'authorizer' };
    const lines = effectLines(principal, 1_767_225_600, 1_767_225_600, undefined, s);
    for (const pattern of patterns) expect(lines[3]).toMatch(pattern);
    // Never the Cognito promise ("a refreshed ID token keeps its auth_time") for an IdP that may not send one.
    expect(lines.join('\n')).not.toMatch(/refreshed ID token keeps its auth_time/);
    expect(lines[1]).toMatch(principal.includes('apikey') ? /every request from this principal/ : /such a credential/);
  });
});

describe('Script: users revoke (command line)', () => {
  it('needs the table, from --table or TVM_REVOCATION_TABLE', () => {
    const env = { TVM_USER_POOL_ID: 'eu-west-1_AbCdEf123' };
    expect(() => parseUsers(['revoke', 'alice'], env)).toThrow(/revocation table/);
    expect(parseUsers(['revoke', 'alice', '--table', 't'], env).command).toEqual({
      name: 'revoke',
      username: 'alice',
      table: 't',
      configPath: undefined,
    });
    expect(parseUsers(['revoke', 'alice'], { ...env, TVM_REVOCATION_TABLE: 't2' }).command).toMatchObject({
      table: 't2',
    });
    expect(() => parseUsers(['disable', 'alice', '--table', 't'], env)).toThrow(/--table does not apply to disable/);
  });
});
