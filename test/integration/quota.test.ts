/**
 * Quota protection on the real wire: Momento's auth rate limit (~5 ops/s per account) must not be spent on
 * bursts of identical requests. The real vending handler with the token cache ON (the default in
 * config/tvm.config.ts), the real gRPC minter, the fake Momento counting what it receives.
 */
import { randomUUID } from 'node:crypto';
import tvmConfig from '../../config/tvm.config';
import { fakeV2ApiKey, type LocalMomento } from '../../dev/fake-momento';
import { staticKeySource } from '../../lambda/momento';
import { cognitoAuthorizer, tokenEvent } from '../support/events';
import { call, configFor, container, decodeAuthToken, startMomento, type Container } from './harness';

const KEY = fakeV2ApiKey();
const CONFIG = configFor(tvmConfig);
/** Momento takes a little while to answer, so the burst genuinely overlaps the first mint. */
const MOMENTO_LATENCY = { delayMs: 50 } as const;

let local: LocalMomento;
const containers: Container[] = [];

beforeAll(async () => {
  local = await startMomento();
});
afterAll(async () => {
  for (const c of containers) c.minter.close();
  await local.close();
});
beforeEach(() => {
  local.fake.received.length = 0;
  local.fake.setBehavior(MOMENTO_LATENCY);
});

async function vending(nowSeconds?: () => number): Promise<Container> {
  const c = await container(CONFIG, staticKeySource(KEY), { nowSeconds });
  containers.push(c);
  return c;
}

describe('token cache on the real wire', () => {
  it('config/tvm.config.ts has the cache on (what this file relies on)', () => {
    expect(CONFIG.tokenCache).toEqual({ enabled: true, maxEntries: 10_000, minRemainingFraction: 0.5, fleet: true });
  });

  it('100 concurrent identical requests (same verified identity, same scope) → exactly 1 mint', async () => {
    // Prepare
    const vend = await vending();
    const sub = randomUUID();

    // Act: 100 distinct API Gateway events for the same user.
    const answers = await Promise.all(
      Array.from({ length: 100 }, () =>
        call(vend.handler, tokenEvent({ authorizer: cognitoAuthorizer(sub, ['members']) })),
      ),
    );

    // Assess
    const mints = local.fake.received.length;
    console.log(`mints for 100 concurrent identical requests: ${mints}`);
    expect(mints).toBe(1);
    expect(answers.map((a) => a.status)).toEqual(Array(100).fill(200));
    // Everyone got the one token that was minted (compared, never printed).
    const apiKeys = new Set(answers.map((a) => decodeAuthToken(a.body.authToken).api_key));
    expect(apiKeys.size).toBe(1);
    expect([...apiKeys][0] === local.fake.received[0]?.reply?.apiKey).toBe(true);
    const sources = vend.telemetry.events.map((e) => e.tokenSource);
    expect(sources.filter((s) => s === 'minted')).toHaveLength(1);
    expect(sources.filter((s) => s === 'shared')).toHaveLength(99);

    // And the next identical request is served from the cache: still 1 mint.
    const later = await call(vend.handler, tokenEvent({ authorizer: cognitoAuthorizer(sub, ['members']) }));
    expect(later.status).toBe(200);
    expect(local.fake.received).toHaveLength(1);
    expect(vend.telemetry.events.at(-1)?.tokenSource).toBe('cached');
  });

  it('100 concurrent requests from 100 different identities → 100 mints, each user gets their own token', async () => {
    // Prepare
    const vend = await vending();
    const subs = Array.from({ length: 100 }, () => randomUUID());

    // Act
    const answers = await Promise.all(
      subs.map((sub) => call(vend.handler, tokenEvent({ authorizer: cognitoAuthorizer(sub, ['members']) }))),
    );

    // Assess: one mint per identity, and no answer carries another user's token.
    expect(local.fake.received).toHaveLength(100);
    expect(new Set(local.fake.received.map((r) => r.tokenId))).toEqual(new Set(subs));
    const replyByTokenId = new Map(local.fake.received.map((r) => [r.tokenId, r.reply?.apiKey]));
    answers.forEach((a, i) => {
      expect(a.status).toBe(200);
      expect(a.body.tokenId).toBe(subs[i]);
      expect(decodeAuthToken(a.body.authToken).api_key === replyByTokenId.get(subs[i]!)).toBe(true);
    });
  });

  it('same identity, two different scopes (narrowed by query) → one mint per scope', async () => {
    const vend = await vending();
    const sub = randomUUID();
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        call(
          vend.handler,
          tokenEvent({
            authorizer: cognitoAuthorizer(sub, ['members']),
            query: i % 2 ? { access: ['read'] } : undefined,
          }),
        ),
      ),
    );
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(local.fake.received).toHaveLength(2);
  });

  it('mints again once the cached token’s remaining lifetime drops below the minimum (injected clock)', async () => {
    // Prepare: a controllable clock, starting now.
    let clock = Date.now() / 1000;
    const vend = await vending(() => clock);
    const sub = randomUUID();
    const ask = () => call(vend.handler, tokenEvent({ authorizer: cognitoAuthorizer(sub, ['members']) }));
    const first = await ask();
    expect(local.fake.received).toHaveLength(1);
    const expiresAt = first.body.expiresAt as number;
    const ttl = local.fake.received[0]!.validForSeconds!; // 3600
    const minRemaining = CONFIG.tokenCache.minRemainingFraction * ttl; // 1800

    // Act + Assess: exactly at the minimum remaining lifetime the cached token is still served...
    clock = expiresAt - minRemaining;
    const atMinimum = await ask();
    expect(atMinimum.status).toBe(200);
    expect(local.fake.received).toHaveLength(1);
    expect(atMinimum.body.expiresIn).toBe(minRemaining);
    expect(atMinimum.body.authToken === first.body.authToken).toBe(true);

    // ...one second later it is not: a new mint.
    clock = expiresAt - minRemaining + 1;
    const renewed = await ask();
    expect(renewed.status).toBe(200);
    expect(local.fake.received).toHaveLength(2);
    expect(renewed.body.authToken === first.body.authToken).toBe(false);
    expect(vend.telemetry.events.map((e) => e.tokenSource)).toEqual(['minted', 'cached', 'minted']);
  });

  it('a failed mint is not cached: the burst fails together, the next request mints again', async () => {
    const vend = await vending();
    const sub = randomUUID();
    local.fake.setBehavior([{ delayMs: 50, then: { code: 8 } }, MOMENTO_LATENCY]);
    const burst = await Promise.all(
      Array.from({ length: 20 }, () =>
        call(vend.handler, tokenEvent({ authorizer: cognitoAuthorizer(sub, ['members']) })),
      ),
    );
    expect(new Set(burst.map((a) => a.status))).toEqual(new Set([429]));
    expect(local.fake.received).toHaveLength(1); // the burst shared one (throttled) attempt: no thundering herd
    const next = await call(vend.handler, tokenEvent({ authorizer: cognitoAuthorizer(sub, ['members']) }));
    expect(next.status).toBe(200);
    expect(local.fake.received).toHaveLength(2);
  });
});
