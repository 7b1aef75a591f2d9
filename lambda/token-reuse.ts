/**
 * Where a token comes from, cheapest first: this container's cache, the fleet's cache (DynamoDB, shared by every
 * container), and only then a mint — through the fleet-wide governor, so Momento never sees more than the
 * account's budget. When no mint can be had (budget spent, or Momento refuses), a still-valid older token for the
 * same key is served with its real `expiresAt` instead of an error.
 *
 * Shared scopes are pre-minted: inside the last stretch before a shared token's refresh margin, one container
 * (holding a lease on the fleet item) mints its successor while every other request keeps getting the current
 * one, so a rotation never stalls callers. docs/capacity.md explains the arithmetic.
 */
import { MomentoError, TvmError } from './errors';
import type { FleetTokenStore, StoredToken } from './fleet-tokens';
import type { MintGovernor } from './mint-governor';
import { retryAfterFor } from './mint-governor';
import type { Loaded, TokenCache, TokenSource } from './token-cache';
import type { MintedToken } from './types';

/** Fraction of the ttl before the refresh margin during which a shared scope's successor is minted. */
export const PRE_MINT_FRACTION = 0.1;
/** A token with less left than this is not worth serving in place of a new one. */
export const STALE_MIN_REMAINING_SECONDS = 30;
/** How long a pre-mint lease holds the fleet item: after it, another container may try. */
const LEASE_SECONDS = 10;
/** A pre-mint waits for a slot at most this long: the caller already has a valid token to fall back on. */
const PRE_MINT_WAIT_MS = 500;

/** One request for a token. */
export interface ReuseRequest {
  /** Everything that decides the token (principal or the shared scope, grants, ttl, tokenId), built by the handler. */
  readonly key: string;
  readonly ttlSeconds: number;
  /** A shared scope: pre-minted, and served to any user regardless of when it was minted. */
  readonly shared: boolean;
  /** The principal's revocation `notBefore`: a token minted before it is never served to them. */
  readonly notBefore?: number;
  /** The fleet lookup, when the handler started it beside the revocation lookup (one round trip). */
  readonly prefetched?: Promise<StoredToken | undefined>;
}

/** What the request got, and what it cost (for the audit log and metrics). */
export interface ReuseOutcome {
  readonly token: MintedToken;
  readonly source: TokenSource;
  /** The fleet's cache: `hit`, `miss`, or `error` (unreadable: this container's cache and a mint stood in). */
  readonly fleet?: 'hit' | 'miss' | 'error';
  /** Milliseconds spent waiting for a mint slot. */
  readonly governorWaitMs?: number;
  /** The governor's store failed and the mint went ahead unchecked. */
  readonly ungoverned?: boolean;
  /** This request minted the successor of a shared scope's token. */
  readonly preMinted?: boolean;
}

/** Options of {@link TokenReuse}. */
export interface TokenReuseOptions {
  /** This container's cache. @default none */
  readonly cache?: TokenCache;
  /** The fleet's cache. @default none */
  readonly fleet?: FleetTokenStore;
  /** The fleet-wide mint governor. @default none (every mint goes straight to Momento) */
  readonly governor?: MintGovernor;
  /** Serve a cached token only while at least this fraction of its ttl remains. */
  readonly minRemainingFraction: number;
  /** Longest wait for a mint slot, within the request's deadline. */
  readonly maxWaitMs: number;
  /** Clock in epoch seconds. @default Date.now()/1000 */
  readonly nowSeconds?: () => number;
  /** A number in [0, 1) for spreading `Retry-After`. @default Math.random */
  readonly random?: () => number;
  /** Told when the fleet's cache fails (the request goes on without it). */
  readonly onFleetError?: (error: unknown) => void;
}

type Attempt = Loaded & Omit<ReuseOutcome, 'token' | 'source'>;

export class TokenReuse {
  private readonly now: () => number;
  private readonly random: () => number;

  constructor(private readonly options: TokenReuseOptions) {
    this.now = options.nowSeconds ?? (() => Date.now() / 1000);
    this.random = options.random ?? Math.random;
  }

  /** Whether this container's cache would answer `key` without any I/O (then the handler starts no fleet read). */
  hasFresh(key: string, shared: boolean): boolean {
    const hit = this.options.cache?.peek(key);
    return hit !== undefined && this.fresh(hit) && !(shared && this.inPreMintWindow(hit));
  }

  /** Starts the fleet lookup of `key` now; the caller passes the promise back in {@link ReuseRequest.prefetched}. */
  prefetch(key: string, shared: boolean): Promise<StoredToken | undefined> | undefined {
    if (this.options.fleet === undefined || this.hasFresh(key, shared)) return undefined;
    const p = this.options.fleet.get(key);
    p.catch(() => undefined); // Settled in obtain(), or dropped when the caller is refused first.
    return p;
  }

  /**
   * A token for `req`: reused when one is fresh and usable, else minted with `mint` (once per key per container).
   *
   * @throws TvmError `mint-budget-exhausted` (429, computed Retry-After) when no mint slot is free within the bound
   * and no valid token exists; MomentoError from the mint (a `throttled` one with a computed Retry-After)
   */
  async obtain(req: ReuseRequest, mint: () => Promise<MintedToken>): Promise<ReuseOutcome> {
    const cache = this.options.cache;
    const local = cache?.peek(req.key);
    if (local && this.usable(req, local) && this.fresh(local) && !(req.shared && this.inPreMintWindow(local))) {
      cache!.touch(req.key, local);
      return { token: local.token, source: 'cached' };
    }
    const load = () => this.load(req, mint, local);
    const result = cache ? await cache.flight(req.key, req.ttlSeconds, load) : await load();
    const { token, source, mintedAt: _mintedAt, ...details } = result as Attempt;
    return { token, source, ...details };
  }

  private async load(
    req: ReuseRequest,
    mint: () => Promise<MintedToken>,
    local: StoredToken | undefined,
  ): Promise<Attempt> {
    let fleetState: ReuseOutcome['fleet'];
    let item: StoredToken | undefined;
    if (this.options.fleet) {
      try {
        item = await (req.prefetched ?? this.options.fleet.get(req.key));
        fleetState = item !== undefined && this.usable(req, item) && this.fresh(item) ? 'hit' : 'miss';
      } catch (error) {
        fleetState = 'error';
        this.options.onFleetError?.(error);
      }
    }
    const fleetHit = fleetState === 'hit' ? item : undefined;
    if (fleetHit) {
      // A shared scope near its refresh margin: one container mints the successor, the others serve this one.
      const wonLease =
        req.shared && this.inPreMintWindow(fleetHit) && (await this.tryLease(req.key, () => (fleetState = 'error')));
      if (!wonLease) return { ...fleetHit, source: 'fleet', fleet: 'hit' };
      return { ...(await this.preMint(req, mint, fleetHit, 'fleet')), fleet: 'hit' };
    }
    // No fleet: this container pre-mints its own shared token (single-flight keeps it to one mint).
    if (!this.options.fleet && local && req.shared && this.fresh(local))
      return this.preMint(req, mint, local, 'cached');
    const attempt = await this.mintGoverned(req, mint, this.options.maxWaitMs, this.bestStale(req, local, item));
    return { ...attempt, ...(fleetState === undefined ? {} : { fleet: fleetState }) };
  }

  /** Mints the successor of a still-fresh shared token; any failure serves the current one instead. */
  private async preMint(
    req: ReuseRequest,
    mint: () => Promise<MintedToken>,
    current: StoredToken,
    source: TokenSource,
  ): Promise<Attempt> {
    const next = await this.mintGoverned(req, mint, PRE_MINT_WAIT_MS, current, source).catch(() => undefined);
    return next ? { ...next, preMinted: next.source === 'minted' } : { ...current, source };
  }

  /** Mints through the governor; `fallback` is served (as `fallbackSource`) when no slot is free or Momento refuses. */
  private async mintGoverned(
    req: ReuseRequest,
    mint: () => Promise<MintedToken>,
    maxWaitMs: number,
    fallback: StoredToken | undefined,
    fallbackSource: TokenSource = 'stale',
  ): Promise<Attempt> {
    const governor = this.options.governor;
    const admission = governor ? await governor.admit(maxWaitMs) : undefined;
    if (admission && !admission.admitted) {
      if (fallback) return { ...fallback, source: fallbackSource };
      throw new TvmError(
        'mint-budget-exhausted',
        `Momento's token budget is spent for about ${Math.ceil(admission.backlogMs / 1000)} s; retry after the Retry-After`,
        { retryAfterSeconds: admission.retryAfterSeconds },
      );
    }
    const waited = admission?.admitted ? { governorWaitMs: admission.waitedMs } : {};
    const ungoverned = admission?.admitted && !admission.governed ? { ungoverned: true } : {};
    const mintedAt = this.now();
    let token: MintedToken;
    try {
      token = await mint();
    } catch (error) {
      if (!(error instanceof MomentoError) || error.failure !== 'throttled') throw error;
      // The account's budget is shared with something else: the whole fleet slows down, not only this container.
      await governor?.slowDown();
      if (fallback) return { ...fallback, source: fallbackSource, ...waited, ...ungoverned };
      const backlogMs = Math.max(1000, (governor?.backlogSeconds() ?? 1) * 1000);
      throw new MomentoError('throttled', error.grpcCode, {
        cause: error,
        retryAfterSeconds: retryAfterFor(backlogMs, this.random),
      });
    }
    const entry: StoredToken = { token, mintedAt, ttlSeconds: req.ttlSeconds };
    if (this.options.fleet)
      await this.options.fleet.put(req.key, entry).catch((error: unknown) => this.options.onFleetError?.(error));
    return { ...entry, source: 'minted', ...waited, ...ungoverned };
  }

  private async tryLease(key: string, onError: () => void): Promise<boolean> {
    try {
      return await this.options.fleet!.lease(key, Math.ceil(this.now()) + LEASE_SECONDS);
    } catch (error) {
      onError();
      this.options.onFleetError?.(error);
      return false;
    }
  }

  /** The longest-lived of the candidates that may be served to this caller and are still worth serving. */
  private bestStale(req: ReuseRequest, ...candidates: (StoredToken | undefined)[]): StoredToken | undefined {
    let best: StoredToken | undefined;
    for (const c of candidates)
      if (
        c !== undefined &&
        this.usable(req, c) &&
        c.token.expiresAt - this.now() >= STALE_MIN_REMAINING_SECONDS &&
        (best === undefined || c.token.expiresAt > best.token.expiresAt)
      )
        best = c;
    return best;
  }

  /**
   * A per-user token minted before the principal's revocation is never served to them; shared tokens always are.
   * `notBefore` has whole-second precision, so a token minted within that second counts as before it.
   */
  private usable(req: ReuseRequest, entry: Pick<StoredToken, 'mintedAt'>): boolean {
    return req.shared || req.notBefore === undefined || Math.floor(entry.mintedAt) > req.notBefore;
  }

  private fresh(entry: Pick<StoredToken, 'token' | 'ttlSeconds'>): boolean {
    return entry.token.expiresAt - this.now() >= this.options.minRemainingFraction * entry.ttlSeconds;
  }

  private inPreMintWindow(entry: Pick<StoredToken, 'token' | 'ttlSeconds'>): boolean {
    return (
      entry.token.expiresAt - this.now() < (this.options.minRemainingFraction + PRE_MINT_FRACTION) * entry.ttlSeconds
    );
  }
}
