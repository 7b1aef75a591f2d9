/**
 * Quota protection on the real wire: Momento's auth rate limit (~5 ops/s per account) must not be spent on
 * bursts of identical requests. The real vending handler with the token cache ON (the default in
 * config/tvm.config.ts), the real gRPC minter, the fake Momento counting what it receives. Also the fake's
 * account budget itself (`authOpsPerSecond`), with the official SDK as the oracle of what Momento's answer means.
 */
import { randomUUID } from 'node:crypto';
import {
  AuthClient,
  AuthClientConfigurations,
  CredentialProvider,
  ExpiresIn,
  GenerateDisposableToken,
  MomentoErrorCode,
  TopicRole,
} from '@gomomento/sdk';
import tvmConfig from '../../config/tvm.config';
import {
  BUDGET_EXCEEDED,
  FAKE_ENDPOINT,
  fakeV2ApiKey,
  parseAuthOpsPerSecond,
  perSecond,
  type LocalMomento,
} from '../../dev/fake-momento';
import { MomentoError } from '../../lambda/errors';
import { createGrpcMinter, staticKeySource } from '../../lambda/momento';
import type { MintRequest } from '../../lambda/types';
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
  local.fake.setAuthOpsPerSecond(undefined);
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

/** Resolves just after the next epoch second starts: a burst then lands in one fresh window of the fake. */
const startOfSecond = (): Promise<void> => new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 5));

const READ_CHAT: MintRequest = {
  grants: [{ type: 'topic', cache: 'app', role: 'subscribeonly', topicPrefix: 'chat-' }],
  ttlSeconds: 300,
};

describe('the fake Momento account budget (authOpsPerSecond)', () => {
  /** The SDK's AuthClient against the fake; the SDK has no close(), so reach in to leave no channel behind. */
  async function sdkMint(): Promise<GenerateDisposableToken.Response> {
    const client = new AuthClient({
      configuration: AuthClientConfigurations.Default.latest(),
      credentialProvider: CredentialProvider.fromApiKeyV2({ apiKey: KEY, endpoint: FAKE_ENDPOINT }),
    });
    try {
      return await client.generateDisposableToken(
        { permissions: [{ role: TopicRole.SubscribeOnly, cache: 'app', topic: 'chat' }] },
        ExpiresIn.seconds(300),
      );
    } finally {
      const internal = (
        client as unknown as { authClient: { tokenClient: { close(): void }; authClient: { close(): void } } }
      ).authClient;
      internal.tokenClient.close();
      internal.authClient.close();
    }
  }

  it('serves at most the budget per epoch second, shared by every connection, and records each arrival', async () => {
    // Prepare: 3 minters = 3 separate connections (3 containers) against one account budget of 5/s.
    local.fake.setBehavior('ok');
    local.fake.setAuthOpsPerSecond(5);
    const minters = [0, 1, 2].map(() =>
      createGrpcMinter({ keySource: staticKeySource(KEY), endpoint: FAKE_ENDPOINT, deadlineMs: 3000 }),
    );
    try {
      await Promise.all(minters.map((m) => m.warmUp())); // connections open, no mint
      expect(local.fake.received).toHaveLength(0);
      await startOfSecond();

      // Act: 12 mints at once, 4 per connection.
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) => minters[i % 3]!.mint(READ_CHAT).catch((e: unknown) => e)),
      );

      // Assess: 5 accepted within the second, 7 refused as RESOURCE_EXHAUSTED → our minter's `throttled`.
      const calls = local.fake.received;
      expect(calls).toHaveLength(12);
      expect(new Set(calls.map((c) => Math.floor(c.atMs / 1000))).size).toBe(1);
      expect(calls.filter((c) => !c.refusedByBudget)).toHaveLength(5);
      expect(perSecond(calls, 'accepted').peak).toBe(5);
      expect(perSecond(calls, 'refused').peak).toBe(7);
      expect(perSecond(calls).peak).toBe(12);
      const refused = results.filter((r) => r instanceof MomentoError);
      expect(refused).toHaveLength(7);
      for (const e of refused)
        expect(e).toMatchObject({ failure: 'throttled', status: 429, code: 'momento-throttled' });
      expect(calls.filter((c) => c.refusedByBudget).every((c) => c.reply === undefined)).toBe(true);

      // The next second has a fresh budget.
      await startOfSecond();
      await expect(minters[0]!.mint(READ_CHAT)).resolves.toMatchObject({ endpoint: FAKE_ENDPOINT });
      expect(local.fake.received.at(-1)?.refusedByBudget).toBe(false);
    } finally {
      for (const m of minters) m.close();
    }
  });

  it('past the budget the vending handler answers 429 momento-throttled with Retry-After', async () => {
    local.fake.setBehavior('ok');
    local.fake.setAuthOpsPerSecond(2);
    const vend = await vending();
    await startOfSecond();
    const answers = await Promise.all(
      Array.from({ length: 6 }, () =>
        call(vend.handler, tokenEvent({ authorizer: cognitoAuthorizer(randomUUID(), ['members']) })),
      ),
    );
    // Statuses only: a failure message must not print the tokens of the 200s.
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 429, 429, 429, 429]);
    for (const a of answers.filter((x) => x.status !== 200)) {
      expect(a.status).toBe(429);
      expect(a.body.code).toBe('momento-throttled');
      expect(a.headers['Retry-After']).toMatch(/^[1-9]\d*$/);
    }
  });

  it('the SDK (the oracle) reads the budget answer as LIMIT_EXCEEDED_ERROR, a request-rate limit', async () => {
    // Prepare: a budget of 1/s, spent by our own minter in this second.
    local.fake.setBehavior('ok');
    local.fake.setAuthOpsPerSecond(1);
    await startOfSecond();
    const ours = createGrpcMinter({ keySource: staticKeySource(KEY), endpoint: FAKE_ENDPOINT, deadlineMs: 3000 });
    try {
      await ours.mint(READ_CHAT);
    } finally {
      ours.close();
    }

    // Act
    const res = await sdkMint();

    // Assess
    expect(local.fake.received.at(-1)?.refusedByBudget).toBe(true);
    expect(res).toBeInstanceOf(GenerateDisposableToken.Error);
    const err = res as GenerateDisposableToken.Error;
    expect(err.errorCode()).toBe(MomentoErrorCode.LIMIT_EXCEEDED_ERROR);
    expect(err.message()).toMatch(/^Request rate limit exceeded for this account/);
  });

  it('the SDK reads the same status and details as a request-rate limit without the `err` trailer too', async () => {
    local.fake.setBehavior({ code: BUDGET_EXCEEDED.code, details: BUDGET_EXCEEDED.details });
    const res = await sdkMint();
    expect(res).toBeInstanceOf(GenerateDisposableToken.Error);
    const err = res as GenerateDisposableToken.Error;
    expect(err.errorCode()).toBe(MomentoErrorCode.LIMIT_EXCEEDED_ERROR);
    expect(err.message()).toMatch(/^Request rate limit exceeded for this account/);
  });

  it.each(['0', '-1', '2.5', 'five', '', '10001'])('refuses the budget %j with a clear message', (text) => {
    expect(() => parseAuthOpsPerSecond(text)).toThrow(/mints per second must be a whole number from 1 to 10000/);
  });

  it('accepts a whole-number budget', () => {
    expect(parseAuthOpsPerSecond('5')).toBe(5);
    expect(() => local.fake.setAuthOpsPerSecond(0)).toThrow(/authOpsPerSecond/);
  });
});
