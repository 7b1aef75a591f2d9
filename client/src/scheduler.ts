/**
 * The scheduler: *when* to ask for a token. It knows how fresh a token is (refresh at a fraction of
 * `expiresIn`), how long to back off after a failure (full jitter, `Retry-After` as a floor), owns the one
 * timer, and listens for the browser events after which a sleeping page must look again. It never sends a
 * request itself: it calls back into the client's state machine, which decides.
 */
import { backoffDelayMs, type BackoffOptions } from './backoff.js';
import type { Clock, StampedToken } from './clock.js';

/**
 * Longest single timer. A long `setTimeout` runs on a clock that may stop while the machine sleeps, so a
 * 48-minute timer can fire hours late; waking up at least once a minute to re-check against the wall clock
 * bounds how stale a token can get after a wake-up when no browser event fires.
 */
export const MAX_TIMER_SLICE_MS = 60_000;
/** A token this close to expiry (or closer) is not handed out: it could expire before Momento sees it. */
const EXPIRY_MARGIN_MS = 5_000;

/** Timing settings, validated by the client. */
export interface SchedulePolicy {
  /** Refresh after this fraction of `expiresIn`, in (0, 1]. */
  readonly refreshFraction: number;
  /** Floor of the refresh delay, never past the token's usable life. */
  readonly minRefreshMs: number;
  /** Width of the random window before the refresh point, as a fraction of that point, in [0, 1). */
  readonly refreshJitterFraction: number;
  readonly backoff: Required<BackoffOptions>;
  /** Randomness in [0, 1) for the jitter. */
  readonly random: () => number;
}

/** What the scheduler calls back. */
export interface SchedulerCallbacks {
  /** Look again: the refresh timer (or a slice of it) ran out, the page became visible or was restored. */
  readonly onCheck: () => void;
  /** The backoff delay ran out. */
  readonly onRetry: () => void;
  /** The browser reports the network is back. */
  readonly onOnline: () => void;
}

/** Which timer is armed. */
export type TimerKind = 'refresh' | 'retry';

/** Refresh timing, backoff and browser wake-ups, with one timer. */
export class RefreshScheduler {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private kind: TimerKind | undefined;
  private retryDueMonotonicMs = 0;
  /** The server's `Retry-After`: no retry before this instant, even when the network comes back. */
  private retryNotBeforeMonotonicMs = 0;
  private unwatch: (() => void) | undefined;
  /** Each token's draw for the refresh jitter, made once so that its refresh point does not move. */
  private readonly jitterDraws = new WeakMap<StampedToken, number>();

  constructor(
    private readonly policy: SchedulePolicy,
    private readonly callbacks: SchedulerCallbacks,
    private readonly clock: Clock,
  ) {}

  /**
   * Time since the token's request was sent. The monotonic clock is immune to clock changes but on some
   * platforms stops while the machine sleeps, which would make a token look younger than it is after a
   * wake-up; the wall clock keeps counting through sleep but can jump. Taking the larger of the two errs
   * towards refreshing early: a backwards clock jump is ignored, a forwards one costs at most one request.
   */
  ageMs(held: StampedToken): number {
    return Math.max(this.clock.monotonicMs() - held.sentAtMonotonicMs, this.clock.wallMs() - held.sentAtWallMs);
  }

  /** True while the token is younger than its refresh point. */
  isFresh(held: StampedToken): boolean {
    return this.ageMs(held) < this.refreshAfterMs(held);
  }

  /** True while the token may still be handed out (its lifetime minus a safety margin). */
  isUsable(held: StampedToken): boolean {
    return this.ageMs(held) < usableMs(held);
  }

  /** Milliseconds until the token is due for refresh (0 when it is). */
  refreshInMs(held: StampedToken): number {
    return Math.max(0, this.refreshAfterMs(held) - this.ageMs(held));
  }

  /** Milliseconds the token remains valid by the server's `expiresIn` (0 once expired). */
  expiresInMs(held: StampedToken): number {
    return Math.max(0, held.token.expiresIn * 1000 - this.ageMs(held));
  }

  /** Which timer is armed, if any. */
  get pending(): TimerKind | undefined {
    return this.kind;
  }

  /** Milliseconds until the armed retry, undefined when none is armed. */
  retryInMs(): number | undefined {
    return this.kind === 'retry' ? Math.max(0, this.retryDueMonotonicMs - this.clock.monotonicMs()) : undefined;
  }

  /** False while the server's last `Retry-After` has not passed. */
  mayRetryNow(): boolean {
    return this.clock.monotonicMs() >= this.retryNotBeforeMonotonicMs;
  }

  /** Arms the refresh timer for the token (in slices of at most a minute); `onCheck` fires when it runs out. */
  armRefresh(held: StampedToken): void {
    this.arm('refresh', Math.min(this.refreshInMs(held), MAX_TIMER_SLICE_MS), this.callbacks.onCheck);
  }

  /**
   * Arms the retry timer after the `failures`-th failure in a row; `onRetry` fires when it runs out.
   * @returns the delay in milliseconds
   */
  armRetry(failures: number, retryAfterSeconds: number | undefined): number {
    const delayMs = backoffDelayMs(failures, this.policy.backoff, this.policy.random, retryAfterSeconds);
    const now = this.clock.monotonicMs();
    this.retryNotBeforeMonotonicMs = retryAfterSeconds === undefined ? 0 : now + retryAfterSeconds * 1000;
    this.arm('retry', delayMs, this.callbacks.onRetry);
    this.retryDueMonotonicMs = now + delayMs;
    return delayMs;
  }

  /** Disarms the timer. */
  cancel(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.kind = undefined;
  }

  /** Forgets the server's last `Retry-After` (after a success or a reset). */
  clearRetryAfter(): void {
    this.retryNotBeforeMonotonicMs = 0;
  }

  /**
   * In a browser, re-checks when the page becomes visible again or is restored from the back/forward cache,
   * and when the network comes back. Idempotent; a no-op outside a browser.
   */
  watch(): void {
    if (this.unwatch) return;
    const doc = typeof document !== 'undefined' ? document : undefined;
    const win = typeof window !== 'undefined' ? window : undefined;
    const onVisibilityChange = (): void => {
      if (doc?.visibilityState === 'visible') this.callbacks.onCheck();
    };
    const onPageShow = (): void => this.callbacks.onCheck();
    const onOnline = (): void => this.callbacks.onOnline();
    doc?.addEventListener('visibilitychange', onVisibilityChange);
    win?.addEventListener('pageshow', onPageShow);
    win?.addEventListener('online', onOnline);
    this.unwatch = () => {
      doc?.removeEventListener('visibilitychange', onVisibilityChange);
      win?.removeEventListener('pageshow', onPageShow);
      win?.removeEventListener('online', onOnline);
    };
  }

  /** Removes the browser listeners. */
  stopWatching(): void {
    this.unwatch?.();
    this.unwatch = undefined;
  }

  /**
   * Delay from sending the request to refreshing: the fraction of `expiresIn` minus this token's jitter,
   * floored, within the usable life.
   */
  private refreshAfterMs(held: StampedToken): number {
    let r = this.jitterDraws.get(held);
    if (r === undefined) {
      r = this.policy.random();
      this.jitterDraws.set(held, r);
    }
    return jitteredRefreshAfterMs(held.token.expiresIn * 1000, this.policy, r, usableMs(held));
  }

  private arm(kind: TimerKind, delayMs: number, fire: () => void): void {
    this.cancel();
    this.kind = kind;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.kind = undefined;
        fire();
      },
      Math.max(0, delayMs),
    );
  }
}

/**
 * When to refresh a token of `lifetimeMs`: a uniform pick in `[1 − refreshJitterFraction, 1] × refreshFraction ×
 * lifetime`, then floored at `minRefreshMs` and capped at `usableMs`. The window is relative to the refresh
 * point, so a small `refreshFraction` keeps most of its delay.
 *
 * Users who signed in together (a class, a meeting, a page reload after a deploy) would otherwise all refresh
 * at the same instant, every time, and Momento mints only a few tokens per second per account; spreading the
 * refresh points keeps that burst from repeating. The jitter only ever moves a refresh earlier.
 *
 * @param r a number in [0, 1) (`random()`); 0 refreshes at the refresh point itself
 */
export function jitteredRefreshAfterMs(
  lifetimeMs: number,
  policy: Pick<SchedulePolicy, 'refreshFraction' | 'minRefreshMs' | 'refreshJitterFraction'>,
  r: number,
  usableLifeMs: number,
): number {
  const refreshPointMs = policy.refreshFraction * lifetimeMs;
  const pointMs = refreshPointMs * (1 - policy.refreshJitterFraction * Math.min(Math.max(r, 0), 1));
  return Math.min(Math.max(policy.minRefreshMs, pointMs), usableLifeMs);
}

/** How long a token may be handed out: its lifetime minus a safety margin (at most 10 % of it). */
function usableMs(held: StampedToken): number {
  const lifetimeMs = held.token.expiresIn * 1000;
  return lifetimeMs - Math.min(EXPIRY_MARGIN_MS, lifetimeMs * 0.1);
}
