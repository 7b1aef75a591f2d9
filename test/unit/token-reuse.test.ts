import { MomentoError, TvmError } from '../../lambda/errors';
import type { FleetTokenStore, StoredToken } from '../../lambda/fleet-tokens';
import type { Admission, MintGovernor } from '../../lambda/mint-governor';
import { TokenCache } from '../../lambda/token-cache';
import { PRE_MINT_FRACTION, TokenReuse, type TokenReuseOptions } from '../../lambda/token-reuse';
import type { MintedToken } from '../../lambda/types';

/** A Map-backed fleet store with a lease, and a governor that answers as told. */
function setup(options: Partial<TokenReuseOptions> & { admission?: Admission; withCache?: boolean } = {}) {
  let now = 1_000_000;
  const items = new Map<string, StoredToken>();
  const leases = new Map<string, number>();
  const fleet: FleetTokenStore = {
    get: async (k) => items.get(k),
    put: async (k, e) => void items.set(k, e),
    lease: async (k, until) => {
      if ((leases.get(k) ?? 0) > now) return false;
      leases.set(k, until);
      return true;
    },
  };
  let admission: Admission = options.admission ?? { admitted: true, waitedMs: 0, governed: true };
  const slowDowns: number[] = [];
  const governor: MintGovernor = {
    admit: async () => admission,
    slowDown: async () => void slowDowns.push(now),
    backlogSeconds: () => 3,
  };
  let n = 0;
  const mint = jest.fn(async (): Promise<MintedToken> => ({
    authToken: `t${++n}`,
    endpoint: 'momento.test',
    expiresAt: now + 900,
  }));
  const reuse = new TokenReuse({
    cache:
      options.withCache === false
        ? undefined
        : new TokenCache({ maxEntries: 100, minRemainingFraction: 0.5, nowSeconds: () => now }),
    fleet,
    governor,
    minRemainingFraction: 0.5,
    maxWaitMs: 2500,
    nowSeconds: () => now,
    random: () => 0,
    ...options,
  });
  return {
    reuse,
    mint,
    items,
    slowDowns,
    advance: (s: number) => void (now += s),
    now: () => now,
    setAdmission: (a: Admission) => void (admission = a),
  };
}

const REQ = { key: 'k', ttlSeconds: 900, shared: false } as const;

describe('Class: TokenReuse', () => {
  it('mints once, then serves this container’s cache, and a new container reads the fleet', async () => {
    // Prepare
    const a = setup();

    // Act
    const first = await a.reuse.obtain(REQ, a.mint);
    const second = await a.reuse.obtain(REQ, a.mint);
    const other = new TokenReuse({
      fleet: { ...fleetOf(a.items) },
      minRemainingFraction: 0.5,
      maxWaitMs: 0,
      nowSeconds: a.now,
    });
    const third = await other.obtain(REQ, a.mint);

    // Assess
    expect(first).toMatchObject({ source: 'minted', fleet: 'miss' });
    expect(second.source).toBe('cached');
    expect(third).toMatchObject({ source: 'fleet', fleet: 'hit', token: first.token });
    expect(a.mint).toHaveBeenCalledTimes(1);
  });

  it('answers 429 mint-budget-exhausted with the governor’s Retry-After when no token exists', async () => {
    // Prepare
    const a = setup({ admission: { admitted: false, retryAfterSeconds: 7, backlogMs: 6200 } });

    // Act
    const attempt = a.reuse.obtain(REQ, a.mint);

    // Assess
    await expect(attempt).rejects.toMatchObject({ code: 'mint-budget-exhausted', status: 429, retryAfterSeconds: 7 });
    await expect(attempt).rejects.toBeInstanceOf(TvmError);
    expect(a.mint).not.toHaveBeenCalled();
  });

  it('serves a still-valid token past its freshness, with its real expiresAt, when the budget is spent', async () => {
    // Prepare: a token minted, then 600 s pass (300 s left of 900: past the 0.5 freshness).
    const a = setup();
    const first = await a.reuse.obtain(REQ, a.mint);
    a.advance(600);
    a.setAdmission({ admitted: false, retryAfterSeconds: 4, backlogMs: 3000 });

    // Act
    const served = await a.reuse.obtain(REQ, a.mint);

    // Assess
    expect(served.source).toBe('stale');
    expect(served.token).toEqual(first.token);
    expect(a.mint).toHaveBeenCalledTimes(1);
  });

  it('does not serve a stale token with under 30 s left: the caller gets the 429 instead', async () => {
    // Prepare
    const a = setup();
    await a.reuse.obtain(REQ, a.mint);
    a.advance(880);
    a.setAdmission({ admitted: false, retryAfterSeconds: 2, backlogMs: 1500 });

    // Act / Assess
    await expect(a.reuse.obtain(REQ, a.mint)).rejects.toMatchObject({ code: 'mint-budget-exhausted' });
  });

  it('never serves a per-user token minted before the principal’s revocation notBefore; a shared one it does', async () => {
    // Prepare
    const a = setup();
    const minted = await a.reuse.obtain(REQ, a.mint);
    const shared = await a.reuse.obtain({ ...REQ, key: 's', shared: true }, a.mint);
    a.advance(5);

    // Act
    const afterRevocation = await a.reuse.obtain({ ...REQ, notBefore: a.now() - 1 }, a.mint);
    const sharedAfter = await a.reuse.obtain({ ...REQ, key: 's', shared: true, notBefore: a.now() - 1 }, a.mint);

    // Assess
    expect(afterRevocation.source).toBe('minted');
    expect(afterRevocation.token).not.toEqual(minted.token);
    expect(sharedAfter).toMatchObject({ source: 'cached', token: shared.token });
  });

  it('on Momento’s RESOURCE_EXHAUSTED slows the fleet down and answers a Retry-After from the backlog', async () => {
    // Prepare
    const a = setup();
    a.mint.mockRejectedValueOnce(new MomentoError('throttled', 8));

    // Act
    const attempt = a.reuse.obtain(REQ, a.mint);

    // Assess
    await expect(attempt).rejects.toMatchObject({ code: 'momento-throttled', retryAfterSeconds: 3 });
    expect(a.slowDowns).toHaveLength(1);
  });

  it('pre-mints a shared scope near its refresh margin: one lease holder mints, the others keep the current token', async () => {
    // Prepare: two containers on one fleet; the shared token enters the pre-mint window.
    const a = setup();
    const b = new TokenReuse({
      cache: new TokenCache({ maxEntries: 10, minRemainingFraction: 0.5, nowSeconds: a.now }),
      fleet: fleetOf(a.items, true),
      minRemainingFraction: 0.5,
      maxWaitMs: 0,
      nowSeconds: a.now,
    });
    const SHARED = { key: 'readers', ttlSeconds: 900, shared: true } as const;
    const first = await a.reuse.obtain(SHARED, a.mint);
    a.advance(900 * (1 - 0.5 - PRE_MINT_FRACTION) + 10); // inside the window, still fresh

    // Act
    const holder = await a.reuse.obtain(SHARED, a.mint);
    const other = await b.obtain(SHARED, a.mint);

    // Assess: the lease holder got the successor; the other container found the successor in the fleet.
    expect(holder).toMatchObject({ source: 'minted', preMinted: true });
    expect(holder.token).not.toEqual(first.token);
    expect(other).toMatchObject({ source: 'fleet', token: holder.token });
    expect(a.mint).toHaveBeenCalledTimes(2);
  });

  it('shares one load among concurrent identical requests in a container', async () => {
    // Prepare
    const a = setup();

    // Act
    const all = await Promise.all(Array.from({ length: 20 }, () => a.reuse.obtain(REQ, a.mint)));

    // Assess
    expect(a.mint).toHaveBeenCalledTimes(1);
    expect(all.filter((r) => r.source === 'shared')).toHaveLength(19);
  });
});

/** A fleet view of `items` (a second container's); `leaseTaken` makes its lease attempts lose. */
function fleetOf(items: Map<string, StoredToken>, leaseTaken = false): FleetTokenStore {
  return {
    get: async (k) => items.get(k),
    put: async (k, e) => void items.set(k, e),
    lease: async () => !leaseTaken,
  };
}
