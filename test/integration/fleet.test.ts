/**
 * The fleet-wide token cache and the mint governor against a real DynamoDB API (dynalite on 127.0.0.1, the tables
 * lib/fleet-table.ts and lib/revocation.ts create), through the real vending handler wired as lambda/handler.ts
 * wires it: one coalescing DynamoDB call for revocation + fleet, fleetFromEnv, the gRPC minter against the fake
 * Momento. Several "containers" are several handler instances sharing the tables and the fake.
 */
import { awsJsonCall, DYNAMODB, type AwsJsonCall } from '../../common/aws';
import type { TvmConfig } from '../../config/schema';
import tvmConfig from '../../config/tvm.config';
import { fakeV2ApiKey, type LocalMomento } from '../../dev/fake-momento';
import { createLocalFleetTable } from '../../dev/fleet-table';
import { startLocalRevocationTable, type LocalRevocationTable } from '../../dev/revocation';
import { coalescingGetItems } from '../../lambda/dynamo-batch';
import { fleetFromEnv } from '../../lambda/fleet-env';
import { dynamoMintGovernor, slotIntervalMs } from '../../lambda/mint-governor';
import { createGrpcMinter, staticKeySource, type GrpcMinter } from '../../lambda/momento';
import { revocationFromEnv } from '../../lambda/revocation-env';
import { createVendHandler } from '../../lambda/vend';
import { cognitoAuthorizer, tokenEvent } from '../support/events';
import { call, COGNITO_CLIENT_ID, configFor, recorder, startMomento } from './harness';

const KEY = fakeV2ApiKey();
let momento: LocalMomento;
let table: LocalRevocationTable;
let env: Record<string, string>;
const minters: GrpcMinter[] = [];
let tableSeq = 0;

beforeAll(async () => {
  [momento, table] = await Promise.all([startMomento(), startLocalRevocationTable()]);
  momento.fake.setAcceptedKeys([KEY]);
});
afterAll(async () => {
  for (const m of minters) m.close();
  await Promise.all([momento.close(), table.close()]);
});
beforeEach(async () => {
  // A fresh token table per test: no token or governor state leaks between tests.
  env = await createLocalFleetTable(table.env, `tvm-fleet-${++tableSeq}`);
  momento.fake.setBehavior('ok');
});

/** One container built as lambda/handler.ts builds it; `ops` records every DynamoDB operation it sends. */
function vending(overrides: Partial<TvmConfig> = {}, containerEnv: Record<string, string> = env) {
  const config = configFor(tvmConfig, overrides);
  const telemetry = recorder();
  const ops: string[] = [];
  const raw = (c: AwsJsonCall) => {
    ops.push(c.operation);
    return awsJsonCall({ ...c, env: containerEnv });
  };
  const dynamo = coalescingGetItems({ call: raw });
  const keySource = staticKeySource(KEY);
  const { fleet, governor } = fleetFromEnv(config, keySource, { env: containerEnv, call: dynamo });
  const minter = createGrpcMinter({
    keySource,
    endpoint: config.momento.endpoint,
    deadlineMs: config.momento.deadlineMs,
  });
  minters.push(minter);
  const handler = createVendHandler({
    config,
    minter,
    telemetry,
    cognitoClientIds: [COGNITO_CLIENT_ID],
    revocation: revocationFromEnv(config, containerEnv, dynamo),
    fleet,
    governor,
  });
  return { handler, telemetry, ops };
}

const NOW = () => Math.floor(Date.now() / 1000);
const user = (sub: string, groups: string[], query: Record<string, string[]> = {}) =>
  tokenEvent({ authorizer: cognitoAuthorizer(sub, groups, { auth_time: String(NOW() - 60) }), query });
const mints = () => momento.fake.received.length;

async function scanFleet(): Promise<Record<string, { S?: string; N?: string }>[]> {
  const answer = (await awsJsonCall({
    service: DYNAMODB,
    operation: 'Scan',
    body: { TableName: env.TVM_FLEET_TABLE },
    timeoutMs: 2000,
    env,
  })) as { Items?: Record<string, { S?: string; N?: string }>[] };
  return answer.Items ?? [];
}

describe('Fleet token cache (dynalite)', () => {
  it('serves a token minted in one container from another, with no second mint, in one DynamoDB round trip', async () => {
    // Prepare
    const a = vending();
    const b = vending();
    const before = mints();

    // Act
    const first = await call(a.handler, user('alice-1', ['members']));
    b.ops.length = 0;
    const second = await call(b.handler, user('alice-1', ['members']));

    // Assess
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.body.authToken).toBe(first.body.authToken);
    expect(second.body.expiresAt).toBe(first.body.expiresAt);
    expect(mints() - before).toBe(1);
    expect(b.telemetry.events.at(-1)).toMatchObject({ tokenSource: 'fleet', fleetCache: 'hit' });
    // The revocation record and the cached token came back in one BatchGetItem.
    expect(b.ops).toEqual(['BatchGetItem']);
  });

  it('keeps only sealed tokens in the table: neither the token nor its key is readable there', async () => {
    // Prepare
    const a = vending();

    // Act
    const answer = await call(a.handler, user('bob-1', ['admins']));
    const items = await scanFleet();

    // Assess
    expect(answer.status).toBe(200);
    const token = answer.body.authToken as string;
    const apiKey = (JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { api_key: string }).api_key;
    const tokenItems = items.filter((i) => i.pk?.S?.startsWith('tok#'));
    expect(tokenItems).toHaveLength(1);
    const dump = JSON.stringify(items);
    expect(dump).not.toContain(token);
    expect(dump).not.toContain(apiKey);
    expect(dump).not.toContain('bob-1'); // the key is a hash: the item names neither the user nor the scope
    expect(Number(tokenItems[0]!.ttl!.N)).toBe(Math.ceil(answer.body.expiresAt as number));
  });

  it('a shared tier: readers in different containers get one token, without a tokenId, for one mint', async () => {
    // Prepare
    const a = vending();
    const b = vending();
    const before = mints();

    // Act
    const r1 = await call(a.handler, user('reader-1', ['readers']));
    const r2 = await call(b.handler, user('reader-2', ['readers']));
    const r3 = await call(a.handler, user('reader-3', ['readers']));

    // Assess
    expect([r1.status, r2.status, r3.status]).toEqual([200, 200, 200]);
    expect(r2.body.authToken).toBe(r1.body.authToken);
    expect(r3.body.authToken).toBe(r1.body.authToken);
    expect(r1.body.tokenId).toBeUndefined();
    expect(mints() - before).toBe(1);
    expect(momento.fake.received.at(-1)!.tokenId).toBe('');
  });

  it('never shares across what decides a token: user, groups, narrowing, ttl', async () => {
    // Prepare
    const a = vending();
    const b = vending();
    const before = mints();

    // Act
    const tokens = [
      await call(a.handler, user('carol-1', ['members'])),
      await call(b.handler, user('carol-2', ['members'])), // another user
      await call(b.handler, user('carol-1', ['admins'])), // her groups changed
      await call(b.handler, user('carol-1', ['members'], { ttl: ['600'] })), // another ttl
      await call(b.handler, user('carol-1', ['members'], { topic: ['chat-x'] })), // narrowed
    ];

    // Assess
    expect(tokens.map((t) => t.status)).toEqual([200, 200, 200, 200, 200]);
    expect(new Set(tokens.map((t) => t.body.authToken)).size).toBe(5);
    expect(mints() - before).toBe(5);
  });

  it('never serves a per-user token minted before the user’s revocation, even after a new sign-in', async () => {
    // Prepare: dave gets a token, is revoked, signs in again.
    const a = vending({ revocation: { cacheSeconds: 0 } });
    const b = vending({ revocation: { cacheSeconds: 0 } });
    const first = await call(a.handler, user('dave-1', ['members']));
    const revokedAt = NOW() + 1;
    await awsJsonCall({
      service: DYNAMODB,
      operation: 'PutItem',
      body: {
        TableName: table.tableName,
        Item: { principal: { S: 'cognito:dave-1' }, notBefore: { N: String(revokedAt) } },
      },
      timeoutMs: 2000,
      env,
    });
    const before = mints();

    // Act
    const refused = await call(b.handler, user('dave-1', ['members']));
    const again = await call(
      b.handler,
      tokenEvent({ authorizer: cognitoAuthorizer('dave-1', ['members'], { auth_time: String(revokedAt + 5) }) }),
    );

    // Assess
    expect(first.status).toBe(200);
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('revoked');
    expect(again.status).toBe(200);
    expect(again.body.authToken).not.toBe(first.body.authToken);
    expect(mints() - before).toBe(1);
  });

  it('with the token table unreachable, still vends: the container cache and an ungoverned mint stand in', async () => {
    // Prepare: a table that does not exist.
    const broken = { ...env, TVM_FLEET_TABLE: 'no-such-table' };
    const a = vending({}, broken);
    const before = mints();

    // Act
    const first = await call(a.handler, user('erin-1', ['members']));
    const second = await call(a.handler, user('erin-1', ['members']));

    // Assess
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(mints() - before).toBe(1);
    expect(a.telemetry.events[0]).toMatchObject({
      tokenSource: 'minted',
      fleetCache: 'error',
      governor: 'unavailable',
    });
    expect(a.telemetry.events[1]).toMatchObject({ tokenSource: 'cached' });
  });

  it('Momento RESOURCE_EXHAUSTED: 429 momento-throttled with a computed Retry-After, and the whole fleet slows down', async () => {
    // Prepare
    const a = vending();
    const b = vending();
    momento.fake.setBehavior([{ code: 8, details: 'auth rate limit' }]);

    // Act
    const refused = await call(a.handler, user('frank-1', ['members']));
    const started = Date.now();
    const next = await call(b.handler, user('frank-2', ['members']));

    // Assess
    expect(refused.status).toBe(429);
    expect(refused.body.code).toBe('momento-throttled');
    expect(Number(refused.headers['Retry-After'])).toBeGreaterThanOrEqual(1);
    // The other container waited for the pause the first one set in the shared queue (about a second).
    expect(next.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(700);
  });
});

describe('Mint governor (dynalite)', () => {
  it('keeps four containers within the budget in every one-second window', async () => {
    // Prepare: four governors (containers) on one item, budget 5/s, 15 mints wanted at once.
    const governors = Array.from({ length: 4 }, () =>
      dynamoMintGovernor({
        tableName: env.TVM_FLEET_TABLE!,
        mintsPerSecond: 5,
        call: (c) => awsJsonCall({ ...c, env }),
      }),
    );

    // Act
    const admitted = await Promise.all(
      Array.from({ length: 15 }, async (_, i) => {
        const a = await governors[i % 4]!.admit(10_000);
        return { ...a, at: Date.now() };
      }),
    );

    // Assess
    expect(admitted.every((a) => a.admitted && a.governed)).toBe(true);
    const times = admitted.map((a) => a.at).sort((x, y) => x - y);
    for (const t of times) expect(times.filter((u) => u >= t && u < t + 1000).length).toBeLessThanOrEqual(5);
    // 15 slots spaced by the interval: the last is 14 intervals after the first (less the tolerated lateness).
    expect(times.at(-1)! - times[0]!).toBeGreaterThanOrEqual(13.5 * slotIntervalMs(5));
  });

  it('refuses past the wait bound with a Retry-After computed from the backlog, not a constant', async () => {
    // Prepare: a queue about 3 s long.
    const governor = dynamoMintGovernor({
      tableName: env.TVM_FLEET_TABLE!,
      mintsPerSecond: 5,
      call: (c) => awsJsonCall({ ...c, env }),
      sleep: async () => undefined, // slots are taken, nobody waits
      random: () => 0,
    });
    for (let i = 0; i < 14; i++) expect((await governor.admit(60_000)).admitted).toBe(true);

    // Act
    const refused = await governor.admit(500);

    // Assess
    expect(refused.admitted).toBe(false);
    if (refused.admitted) return;
    expect(refused.backlogMs).toBeGreaterThan(2500);
    expect(refused.retryAfterSeconds).toBe(Math.ceil(refused.backlogMs / 1000));
  });
});
