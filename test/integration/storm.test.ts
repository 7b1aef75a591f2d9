/**
 * A small sign-in storm on the real wire (the in-process little sibling of `npm run bench -- --scenario storm`):
 * three vending "containers" (createVendHandler with the real gRPC minter, one connection each) against one fake
 * Momento that enforces the account budget (5 mints per epoch second), more new users per second than the
 * budget. Whatever the product does about the budget, Momento never serves more than it, every refusal is a 429
 * with Retry-After, and nothing is a 5xx; with reuse switched off ("off", one mint per request) the budget bites.
 */
import { awsJsonCall } from '../../common/aws';
import tvmConfig from '../../config/tvm.config';
import { createLocalFleetTable } from '../../dev/fleet-table';
import { startLocalRevocationTable, type LocalRevocationTable } from '../../dev/revocation';
import { coalescingGetItems } from '../../lambda/dynamo-batch';
import { fleetFromEnv } from '../../lambda/fleet-env';
import { fakeV2ApiKey, perSecond, type LocalMomento } from '../../dev/fake-momento';
import { createGrpcMinter, staticKeySource, type GrpcMinter } from '../../lambda/momento';
import { createVendHandler, type VendDeps } from '../../lambda/vend';
import {
  CLIENT_MODEL,
  planStorm,
  seededRandom,
  stormConfigs,
  tokenBucket,
  type StormMode,
} from '../../bench/storm-model';
import { cognitoAuthorizer, tokenEvent } from '../support/events';
import { COGNITO_CLIENT_ID, call, configFor, recorder, startMomento, type Answer } from './harness';

const KEY = fakeV2ApiKey();
const BUDGET = 5;
const CONTAINERS = 3;
/** 40 users in 2 s (20 new users/s, 4× the budget), 0–2 extra requests each within 1 s. */
const SHAPE = {
  users: 40,
  arrivalMs: 2000,
  extraWindowMs: 1000,
  maxExtra: 2,
  mix: [
    { tier: 'reader', share: 0.7 },
    { tier: 'member', share: 0.25 },
    { tier: 'admin', share: 0.05 },
  ],
} as const;
const CONFIGS = stormConfigs(configFor(tvmConfig));

/**
 * What one container of `mode` is built with, besides its minter, telemetry and client ids: the mode's config,
 * and whatever fleet-wide dependencies the product has (here is where they join the `product` mode).
 */
function depsFor(mode: StormMode): Pick<VendDeps, 'config'> & Partial<VendDeps> {
  const config = CONFIGS[mode];
  if (mode === 'off') return { config };
  // As lambda/handler.ts wires them: the token table in the (local) DynamoDB, one coalescing call per container.
  const call = coalescingGetItems({ call: (c) => awsJsonCall({ ...c, env: fleetEnv }) });
  return { config, ...fleetFromEnv(config, staticKeySource(KEY), { env: fleetEnv, call }) };
}

let local: LocalMomento;
let dynamo: LocalRevocationTable;
let fleetEnv: Record<string, string>;
beforeAll(async () => {
  [local, dynamo] = await Promise.all([startMomento(), startLocalRevocationTable()]);
  fleetEnv = await createLocalFleetTable(dynamo.env);
});
afterAll(async () => {
  await Promise.all([local.close(), dynamo.close()]);
});

/** Runs the storm in `mode`; returns every answer and what the fake received. */
async function storm(mode: StormMode): Promise<{ answers: Answer[]; minters: GrpcMinter[] }> {
  local.fake.setBehavior('ok');
  local.fake.setAuthOpsPerSecond(BUDGET);
  const minters: GrpcMinter[] = [];
  const handlers = Array.from({ length: CONTAINERS }, () => {
    const deps = depsFor(mode);
    const minter = createGrpcMinter({
      keySource: staticKeySource(KEY),
      endpoint: deps.config.momento.endpoint,
      deadlineMs: deps.config.momento.deadlineMs,
    });
    minters.push(minter);
    return createVendHandler({ ...deps, minter, telemetry: recorder(), cognitoClientIds: [COGNITO_CLIENT_ID] });
  });
  await Promise.all(minters.map((m) => m.warmUp())); // warm containers: connection open, nothing minted
  local.fake.received.length = 0;
  const random = seededRandom(7);
  const groupOf = new Map(CONFIGS[mode].tiers.map((t) => [t.name, t.groups[0] ?? '']));
  const started = Date.now();
  const answers = await Promise.all(
    planStorm(SHAPE, random).map(async (p) => {
      await new Promise((r) => setTimeout(r, Math.max(0, started + p.atMs - Date.now())));
      const handler = handlers[Math.floor(random() * handlers.length)]!;
      const sub = `00000000-0000-4000-8000-${String(p.user).padStart(12, '0')}`;
      return call(handler, tokenEvent({ authorizer: cognitoAuthorizer(sub, [groupOf.get(p.tier)!]) }));
    }),
  );
  return { answers, minters };
}

describe.each<StormMode>(['product', 'off'])('a sign-in storm over the mint budget (%s)', (mode) => {
  let answers: Answer[];
  beforeAll(async () => {
    const run = await storm(mode);
    answers = run.answers;
    for (const m of run.minters) m.close();
  }, 20_000);

  it('Momento never serves more than the budget in any second', () => {
    expect(local.fake.received.length).toBeGreaterThan(0);
    expect(perSecond(local.fake.received, 'accepted').peak).toBeLessThanOrEqual(BUDGET);
  });

  it('every non-200 is a 429 with Retry-After, and none is a 5xx', () => {
    // Statuses and codes only: a failure message must not print the tokens of the 200s.
    const refused = answers.filter((a) => a.status !== 200);
    expect(refused.map((a) => a.status).filter((s) => s !== 429)).toEqual([]);
    for (const a of refused) expect(a.headers['Retry-After']).toMatch(/^[1-9]\d*$/);
    expect(answers.some((a) => a.status >= 500)).toBe(false);
    expect(answers.some((a) => a.status === 200)).toBe(true);
  });

  if (mode === 'product')
    it('fleet reuse and the shared reader tier: readers share one token, and far fewer mints than requests', () => {
      const readers = answers.filter((a) => a.status === 200 && a.body.tokenId === undefined);
      expect(readers.length).toBeGreaterThan(0);
      // One shared token for the whole fleet (at most one per container while the first mint is in flight).
      expect(new Set(readers.map((a) => a.body.authToken)).size).toBeLessThanOrEqual(CONTAINERS);
      // Governed: nothing was refused by Momento itself, and the mints are a fraction of the requests.
      expect(local.fake.received.filter((c) => c.refusedByBudget)).toEqual([]);
      expect(local.fake.received.length).toBeLessThan(answers.length / 2);
    });

  if (mode === 'off')
    it('one mint per request: the budget bites (the fake refuses, the TVM answers momento-throttled)', () => {
      expect(local.fake.received).toHaveLength(answers.length);
      expect(local.fake.received.filter((c) => c.refusedByBudget).length).toBeGreaterThan(0);
      expect(answers.filter((a) => a.status === 429).map((a) => a.body.code)).toContain('momento-throttled');
    });
});

describe('the storm model (bench/storm-model.ts) the bench relies on', () => {
  it('off mode: token cache off and no tier shared; product mode is the config as given', () => {
    const base = {
      tokenCache: { enabled: true, maxEntries: 10 },
      tiers: [{ name: 'reader', shared: true }, { name: 'member' }],
    };
    const { product, off } = stormConfigs(base);
    expect(product).toBe(base);
    expect(off.tokenCache).toEqual({ enabled: false, maxEntries: 10 });
    expect(off.tiers).toEqual([{ name: 'reader' }, { name: 'member' }]);
  });

  it('the stage throttle is a token bucket: the burst at once, then rateLimit per second', () => {
    const bucket = tokenBucket(10, 20);
    const at0 = Array.from({ length: 25 }, () => bucket.take(0)).filter(Boolean).length;
    expect(at0).toBe(20);
    expect(bucket.take(50)).toBe(false); // 0.5 token refilled
    expect(bucket.take(100)).toBe(true); // 1 token after 100 ms at 10/s
    const second = Array.from({ length: 20 }, () => bucket.take(1100)).filter(Boolean).length;
    expect(second).toBe(10);
  });

  it('the plan: every user once, 0..maxExtra extras inside the window, the tier mix roughly as asked', () => {
    const plan = planStorm({ ...SHAPE, users: 2000 }, seededRandom(1));
    const firsts = plan.filter((p) => p.extra === 0);
    expect(firsts).toHaveLength(2000);
    expect(Math.max(...plan.map((p) => p.extra))).toBe(SHAPE.maxExtra);
    expect(Math.max(...plan.map((p) => p.atMs))).toBeLessThanOrEqual(SHAPE.arrivalMs + SHAPE.extraWindowMs);
    const readers = firsts.filter((p) => p.tier === 'reader').length / 2000;
    expect(readers).toBeGreaterThan(0.65);
    expect(readers).toBeLessThan(0.75);
  });

  it('clients retry as @momento-tvm/client: 3 attempts, Retry-After is a floor of the delay', () => {
    expect(CLIENT_MODEL.maxAttempts).toBe(3);
    expect(CLIENT_MODEL.delayMs(1, '2', () => 0.99)).toBe(2000);
    expect(CLIENT_MODEL.delayMs(2, undefined, () => 0.5)).toBe(500);
    expect([429, 503, 0].map(CLIENT_MODEL.transient)).toEqual([true, true, true]);
    expect([400, 401, 403].map(CLIENT_MODEL.transient)).toEqual([false, false, false]);
  });
});
