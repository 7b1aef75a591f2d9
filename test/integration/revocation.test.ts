/**
 * Revocation against a real DynamoDB API (dynalite on 127.0.0.1, the table shape lib/revocation.ts creates),
 * through the real vending handler wired as lambda/handler.ts wires it (revocationFromEnv / liveGroupsFromEnv →
 * createVendHandler, the gRPC minter against the fake Momento). The operator CLIs write with the AWS SDK.
 *
 * The scenario: alice gets an admin token → is revoked → her next request (a cached token or not)
 * is 403 `revoked` within the cache bound → lifting restores access; with liveGroups, removing alice from
 * `admins` downgrades her next token. Then the failures: missing table, connection refused, a hang, failOpen.
 *
 * Cognito: liveGroups calls it through common/aws (not an SDK client), so it is tested against a local HTTP stub of
 * Cognito's JSON API (test/support/cognito-stub.ts); the `users revoke` CLI uses the SDK: aws-sdk-client-mock.
 */
import * as net from 'node:net';
import {
  AdminGetUserCommand,
  AdminUserGlobalSignOutCommand,
  CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import { DescribeTableCommand, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import type { TvmConfig } from '../../config/schema';
import tvmConfig from '../../config/tvm.config';
import { fakeV2ApiKey, type LocalMomento } from '../../dev/fake-momento';
import { startLocalRevocationTable, type LocalRevocationTable } from '../../dev/revocation';
import { createGrpcMinter, staticKeySource, type GrpcMinter } from '../../lambda/momento';
import { liveGroupsFromEnv, revocationFromEnv } from '../../lambda/revocation-env';
import { createVendHandler, type VendHandler } from '../../lambda/vend';
import { run as revokeCli, type RevocationSettings } from '../../scripts/revoke';
import { run as usersCli } from '../../scripts/users';
import { startCognitoStub, type CognitoStub } from '../support/cognito-stub';
import { cognitoAuthorizer, tokenEvent } from '../support/events';
import { call, COGNITO_CLIENT_ID, configFor, recorder, startMomento, type Answer } from './harness';

const KEY = fakeV2ApiKey();
const ALICE = '0a11ce00-0000-4000-a000-000000000001';
const POOL = 'us-east-1_AbCdEf123';
const CACHE_SECONDS = 1;
/** Polling interval and one request on a busy 2-core machine: the bound is cacheSeconds, the slack is the test's. */
const SLACK_MS = 500;

let momento: LocalMomento;
let table: LocalRevocationTable;
let cognito: CognitoStub;
const minters: GrpcMinter[] = [];

beforeAll(async () => {
  [momento, table, cognito] = await Promise.all([startMomento(), startLocalRevocationTable(), startCognitoStub()]);
  momento.fake.setAcceptedKeys([KEY]);
});
afterAll(async () => {
  for (const m of minters) m.close();
  await Promise.all([momento.close(), table.close(), cognito.close()]);
});

/** One container built as lambda/handler.ts builds it, with `env` as its environment. */
function vending(overrides: Partial<TvmConfig> = {}, env: Record<string, string> = table.env) {
  const config = configFor(tvmConfig, {
    revocation: { cacheSeconds: CACHE_SECONDS, ...(overrides.revocation ?? {}) },
    ...(overrides.auth ? { auth: overrides.auth } : {}),
  });
  const telemetry = recorder();
  const minter = createGrpcMinter({
    keySource: staticKeySource(KEY),
    endpoint: config.momento.endpoint,
    deadlineMs: config.momento.deadlineMs,
  });
  minters.push(minter);
  const handler = createVendHandler({
    config,
    minter,
    telemetry,
    cognitoClientIds: [COGNITO_CLIENT_ID],
    revocation: revocationFromEnv(config, env),
    liveGroups: liveGroupsFromEnv(config, env),
  });
  return { config, handler, telemetry };
}

/** alice's request with an ID token from a sign-in at `authTime` (epoch s) claiming `groups`. */
const alice = (authTime: number, groups = ['admins']) =>
  tokenEvent({
    authorizer: cognitoAuthorizer(ALICE, groups, { auth_time: String(authTime), 'cognito:username': 'alice' }),
  });

const settingsOf = (config: ReturnType<typeof vending>['config']): RevocationSettings => ({
  cacheSeconds: config.revocation.cacheSeconds,
  maxTokenTtlSeconds: config.token.maxTtlSeconds,
  maxCredentialLifetimeSeconds: config.revocation.maxCredentialLifetimeSeconds,
  mode: 'cognito',
  tokenIdClaim: 'sub',
});

const ddb = () =>
  new DynamoDBClient({
    endpoint: table.endpoint,
    region: table.env.AWS_REGION,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });

async function revoke(argv: string[], settings: RevocationSettings, nowSeconds?: () => number) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await revokeCli(argv, ddb(), { out: (l) => out.push(l), err: (l) => err.push(l) }, table.env, {
    settings,
    nowSeconds,
  });
  return { code, out, err };
}

/** Calls until `done(answer)` or the deadline; returns the answer and how long it took (ms). */
async function until(handler: VendHandler, event: () => ReturnType<typeof alice>, done: (a: Answer) => boolean) {
  const started = Date.now();
  for (;;) {
    const answer = await call(handler, event());
    if (done(answer) || Date.now() - started > 5000) return { answer, ms: Date.now() - started };
    await new Promise((r) => setTimeout(r, 50));
  }
}

const nowS = () => Math.floor(Date.now() / 1000);

describe('Scenario: revoke alice, then lift', () => {
  it('an admin token, then 403 revoked within the cache bound (cached token or not), then access again', async () => {
    const vend = vending();
    const signedIn = nowS() - 60;

    // alice gets an admin token; the second request is served from the token cache.
    const first = await call(vend.handler, alice(signedIn));
    expect(first.status).toBe(200);
    expect(first.body.permissions).toEqual(
      expect.arrayContaining([{ type: 'cache', cache: 'app', role: 'readwrite' }]),
    );
    await call(vend.handler, alice(signedIn));
    expect(vend.telemetry.events.map((e) => e.tokenSource)).toEqual(['minted', 'cached']);
    const mints = momento.fake.received.length;

    // The operator revokes her principal, named as the audit log names it.
    expect(vend.telemetry.events[0]).toMatchObject({ source: 'cognito', principalId: ALICE });
    const revokedAt = nowS();
    const revoked = await revoke([`cognito:${ALICE}`], settingsOf(vend.config), () => revokedAt);
    expect(revoked.code).toBe(0);
    expect(revoked.out.join('\n')).toMatch(/Within 1 s \(revocation.cacheSeconds\).*403 "revoked"/);

    // Within the bound (1 s here) her next request — which the cache would have answered — is refused.
    const { answer, ms } = await until(
      vend.handler,
      () => alice(signedIn),
      (a) => a.status === 403,
    );
    expect(answer.status).toBe(403);
    expect(ms).toBeLessThanOrEqual(CACHE_SECONDS * 1000 + SLACK_MS);
    expect(answer.headers['Content-Type']).toBe('application/problem+json');
    expect(answer.body).toMatchObject({ status: 403, code: 'revoked' });
    expect(answer.body.authToken).toBeUndefined();
    expect(vend.telemetry.events.at(-1)).toMatchObject({ decision: 'denied', code: 'revoked', principalId: ALICE });
    expect(momento.fake.received.length).toBe(mints); // no mint, and the cached token was not served

    // Every further request too, cached or not.
    expect((await call(vend.handler, alice(signedIn))).status).toBe(403);
    // A sign-in stamped in the same second as the revocation may have come before it: refused too.
    expect((await call(vend.handler, alice(revokedAt))).status).toBe(403);

    // A new sign-in after the revocation is accepted, with a freshly minted token (never the pre-revocation one).
    const fresh = await call(vend.handler, alice(nowS() + 1));
    expect(fresh.status).toBe(200);
    expect(vend.telemetry.events.at(-1)?.tokenSource).toBe('minted');

    // Lifting restores the old credential within the bound.
    const lifted = await revoke(['--lift', `cognito:${ALICE}`], settingsOf(vend.config));
    expect(lifted.code).toBe(0);
    const back = await until(
      vend.handler,
      () => alice(signedIn),
      (a) => a.status === 200,
    );
    expect(back.answer.status).toBe(200);
    expect(back.ms).toBeLessThanOrEqual(CACHE_SECONDS * 1000 + SLACK_MS);
  });

  it('liveGroups: removing alice from admins downgrades her next token within the cache bound', async () => {
    const vend = vending(
      { auth: { mode: 'cognito', liveGroups: { cacheSeconds: CACHE_SECONDS } } },
      {
        ...table.env,
        AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER: cognito.endpoint,
        TVM_USER_POOL_ID: POOL,
      },
    );
    cognito.groups.set('alice', ['admins']);
    cognito.subs.set('alice', ALICE);
    const signedIn = nowS() - 60;
    const admin = await call(vend.handler, alice(signedIn, ['admins']));
    expect(admin.status).toBe(200);
    expect(vend.telemetry.events.at(-1)?.tiers).toEqual(['admin']);

    // The operator removes her from admins (her ID token still claims admins).
    cognito.groups.set('alice', ['members']);
    const { answer, ms } = await until(
      vend.handler,
      () => alice(signedIn, ['admins']),
      (a) =>
        a.status === 200 && (a.body.permissions as unknown[]).length !== (admin.body.permissions as unknown[]).length,
    );
    expect(ms).toBeLessThanOrEqual(CACHE_SECONDS * 1000 + SLACK_MS);
    expect(vend.telemetry.events.at(-1)).toMatchObject({ tiers: ['member'], groups: ['members'] });
    expect(answer.body.permissions).not.toEqual(
      expect.arrayContaining([{ type: 'cache', cache: 'app', role: 'readwrite' }]),
    );

    // What Cognito received, per cache miss: a signed ListUsers for alice's sub, then AdminListGroupsForUser for the
    // user name it found, in the configured pool.
    expect(cognito.received.length).toBeGreaterThanOrEqual(4);
    expect(cognito.received.length % 2).toBe(0);
    cognito.received.forEach((r, i) =>
      expect(r).toMatchObject(
        i % 2 === 0
          ? {
              target: 'AWSCognitoIdentityProviderService.ListUsers',
              body: { UserPoolId: POOL, Filter: `sub = "${ALICE}"`, Limit: 1, AttributesToGet: ['sub'] },
              signed: true,
            }
          : {
              target: 'AWSCognitoIdentityProviderService.AdminListGroupsForUser',
              body: { UserPoolId: POOL, Username: 'alice', Limit: 60 },
              signed: true,
            },
      ),
    );

    // A deleted user: 403 revoked. A Cognito outage: 503 groups-check-failed (fails closed).
    cognito.groups.delete('alice');
    const gone = await until(
      vend.handler,
      () => alice(signedIn),
      (a) => a.status === 403,
    );
    expect(gone.answer.body).toMatchObject({ code: 'revoked' });
    cognito.groups.set('alice', ['admins']);
    cognito.failing = true;
    try {
      const down = await until(
        vend.handler,
        () => alice(signedIn),
        (a) => a.status === 503,
      );
      expect(down.answer.body).toMatchObject({ code: 'groups-check-failed' });
      expect(down.answer.headers['Retry-After']).toBe('2');
    } finally {
      cognito.failing = false;
    }
  });
  it('liveGroups follows the user the token was issued to (its sub), not a reused or changed user name', async () => {
    const vend = vending(
      { auth: { mode: 'cognito', liveGroups: { cacheSeconds: 0 } } },
      { ...table.env, AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER: cognito.endpoint, TVM_USER_POOL_ID: POOL },
    );
    const signedIn = nowS() - 60;
    cognito.groups.clear();
    try {
      // The name is reused: alice was deleted, a newcomer signed up as "alice" and was put in admins. Alice's old
      // token (her sub, cognito:username alice) must not get the newcomer's groups: her user is gone, 403 revoked.
      cognito.groups.set('alice', ['admins']);
      cognito.subs.set('alice', '0a11ce00-0000-4000-a000-0000000000ff');
      const reused = await call(vend.handler, alice(signedIn, ['members']));
      expect(reused).toMatchObject({ status: 403, body: { code: 'revoked' } });

      // Renamed instead: her sub now belongs to "alice2" (in members); her token, still naming alice, follows her.
      cognito.groups.set('alice2', ['members']);
      cognito.subs.set('alice2', ALICE);
      const renamed = await call(vend.handler, alice(signedIn, ['admins']));
      expect(renamed.status).toBe(200);
      expect(vend.telemetry.events.at(-1)).toMatchObject({ tiers: ['member'], groups: ['members'] });
      expect(cognito.received.at(-1)).toMatchObject({ body: { Username: 'alice2' } });
    } finally {
      cognito.groups.clear();
      cognito.subs.clear();
    }
  });
});

describe('DynamoDB: the table and the revoke CLI', () => {
  const settings: RevocationSettings = {
    cacheSeconds: 5,
    maxTokenTtlSeconds: 3600,
    maxCredentialLifetimeSeconds: 86400,
    mode: 'cognito',
    tokenIdClaim: 'sub',
  };

  it('has the key schema the stack creates: principal (S) as partition key', async () => {
    const d = await ddb().send(new DescribeTableCommand({ TableName: table.tableName }));
    expect(d.Table?.KeySchema).toEqual([{ AttributeName: 'principal', KeyType: 'HASH' }]);
    expect(d.Table?.AttributeDefinitions).toEqual([{ AttributeName: 'principal', AttributeType: 'S' }]);
  });

  it('writes notBefore and the TTL attribute; never moves notBefore backwards (conditional write)', async () => {
    const p = 'authorizer:cli-test';
    const at = 1_767_225_600;
    const get = async () =>
      (await ddb().send(new GetItemCommand({ TableName: table.tableName, Key: { principal: { S: p } } }))).Item;

    expect((await revoke([p, '--reason', 'laptop stolen'], settings, () => at)).code).toBe(0);
    expect(await get()).toEqual({
      principal: { S: p },
      notBefore: { N: String(at) },
      expiresAt: { N: String(at + 86400 + 3600) },
      reason: { S: 'laptop stolen' },
    });
    // The defaults: no credential lifetime → no TTL (kept until lifted); the clock margin moves notBefore on.
    const q = 'cognito:kept-until-lifted';
    const kept = await revoke(
      [q],
      { ...settings, maxCredentialLifetimeSeconds: undefined, clockMarginSeconds: 60 },
      () => at,
    );
    expect(kept.out.join('\n')).toMatch(/lasts until you lift it/);
    expect(
      (await ddb().send(new GetItemCommand({ TableName: table.tableName, Key: { principal: { S: q } } }))).Item,
    ).toEqual({ principal: { S: q }, notBefore: { N: String(at + 60) } });
    const earlier = await revoke([p], settings, () => at - 100);
    expect(earlier).toMatchObject({ code: 0, out: [expect.stringMatching(/already has a later revocation/)] });
    expect((await get())?.notBefore).toEqual({ N: String(at) });
    expect((await revoke([p], settings, () => at + 100)).code).toBe(0);
    expect((await get())?.notBefore).toEqual({ N: String(at + 100) });

    const listed = await revoke(['--list', '--json'], settings, () => at);
    expect(JSON.parse(listed.out[0]!)).toEqual(
      expect.arrayContaining([
        {
          principal: p,
          notBefore: '2026-01-01T00:01:40Z',
          expiresAt: '2026-01-02T01:01:40Z',
          expired: false, // the later revocation carried no --reason: the record is replaced whole
        },
      ]),
    );
    expect((await revoke(['--lift', p], settings)).code).toBe(0);
    expect(await get()).toBeUndefined();
    const again = await revoke(['--lift', p], settings);
    expect(again).toMatchObject({ code: 1, err: [expect.stringMatching(/is not revoked/)] });
  });

  it.each([
    [['alice@example.com'], /not a principal/],
    [['--list', 'cognito:x'], /--list takes no principal/],
    [['anonymous:x'], /not a principal/],
    [[], /name a principal/],
  ])('usage error for %j (exit 2)', async (argv, message) => {
    const r = await revoke(argv, settings);
    expect(r.code).toBe(2);
    expect(r.err[0]).toMatch(message);
  });

  it('an authorizer principal: the CLI says what auth_time and what only iat means for a refresh', async () => {
    const lines = await revoke(['authorizer:svc-1'], { ...settings, mode: 'authorizer' }, () => 1_767_225_600);
    expect(lines.out.join('\n')).toMatch(/auth_time where your IdP sends one, else its iat/);
    await revoke(['--lift', 'authorizer:svc-1'], settings);
  });

  it('users revoke <user>: the record for cognito:<sub>, then a global sign-out', async () => {
    const cognitoSdk = mockClient(CognitoIdentityProviderClient);
    try {
      cognitoSdk.on(AdminGetUserCommand).resolves({
        Username: 'bob',
        UserAttributes: [
          { Name: 'sub', Value: 'b0b' },
          { Name: 'email', Value: 'bob@example.com' },
        ],
      });
      cognitoSdk.on(AdminUserGlobalSignOutCommand).resolves({});
      const out: string[] = [];
      const code = await usersCli(
        ['revoke', 'bob', '--table', table.tableName],
        new CognitoIdentityProviderClient({ region: 'us-east-1' }),
        { out: (l) => out.push(l), err: (l) => out.push(l) },
        { TVM_USER_POOL_ID: POOL },
        { dynamo: ddb(), settings, nowSeconds: () => 1_767_225_600 },
      );
      expect(code).toBe(0);
      expect(cognitoSdk.commandCalls(AdminUserGlobalSignOutCommand)[0]?.args[0].input).toEqual({
        UserPoolId: POOL,
        Username: 'bob',
      });
      const item = await ddb().send(
        new GetItemCommand({ TableName: table.tableName, Key: { principal: { S: 'cognito:b0b' } } }),
      );
      expect(item.Item?.notBefore).toEqual({ N: '1767225600' });
      expect(out.join('\n')).toMatch(/Revoked cognito:b0b.*\n.*Within 5 s/);
      expect(out.join('\n')).toMatch(/signed out everywhere/);
    } finally {
      cognitoSdk.restore();
    }
  });
});

describe('DynamoDB failures through the handler', () => {
  const signedIn = () => nowS() - 60;
  const expect503 = (a: Answer) => {
    expect(a.status).toBe(503);
    expect(a.body).toMatchObject({ code: 'revocation-check-failed' });
    expect(a.headers['Retry-After']).toBe('2');
  };

  it('a missing table: 503 revocation-check-failed, the AWS error in the operator log', async () => {
    const vend = vending({}, { ...table.env, TVM_REVOCATION_TABLE: 'no-such-table' });
    expect503(await call(vend.handler, alice(signedIn())));
    expect(vend.telemetry.events.at(-1)).toMatchObject({
      decision: 'error',
      code: 'revocation-check-failed',
      reason: expect.stringMatching(/ResourceNotFoundException/),
    });
  });

  it('connection refused: 503', async () => {
    const closed = net.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const vend = vending({}, { ...table.env, AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${port}` });
    expect503(await call(vend.handler, alice(signedIn())));
  });

  it('a hang: 503 after the 1 s deadline, not the function timeout', async () => {
    const sockets = new Set<net.Socket>();
    const hang = net.createServer((s) => void sockets.add(s));
    await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
    try {
      const port = (hang.address() as net.AddressInfo).port;
      const vend = vending({}, { ...table.env, AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${port}` });
      const a = await call(vend.handler, alice(signedIn()));
      expect503(a);
      expect(a.ms).toBeGreaterThanOrEqual(950);
      expect(a.ms).toBeLessThan(2500);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => hang.close(r));
    }
  });

  it('failOpen: true lets the request through and records it (metric RevocationCheckFailed)', async () => {
    const vend = vending({ revocation: { failOpen: true } }, { ...table.env, TVM_REVOCATION_TABLE: 'no-such-table' });
    const a = await call(vend.handler, alice(signedIn()));
    expect(a.status).toBe(200);
    expect(vend.telemetry.events.at(-1)).toMatchObject({ decision: 'granted', revocationCheck: 'failed-open' });
  });
});
