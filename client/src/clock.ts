/** Time sources, and a token stamped with the moment its request was sent. */
import type { TokenResponse } from './contract.js';

/** The two clocks the client reads. */
export interface Clock {
  /** Monotonic milliseconds (`performance.now()`): immune to clock changes, may pause while the machine sleeps. */
  monotonicMs(): number;
  /** Wall-clock milliseconds (`Date.now()`): counts through sleep, may jump when the clock is set. */
  wallMs(): number;
}

/** `performance.now()` (falling back to `Date.now()` where there is none) and `Date.now()`. */
export const SYSTEM_CLOCK: Clock = {
  monotonicMs: () => (typeof performance !== 'undefined' ? performance.now() : Date.now()),
  wallMs: () => Date.now(),
};

/** A token and when its request was sent, on both clocks. */
export interface StampedToken {
  readonly token: TokenResponse;
  /** {@link Clock.monotonicMs} when the request was sent. */
  readonly sentAtMonotonicMs: number;
  /** {@link Clock.wallMs} when the request was sent. */
  readonly sentAtWallMs: number;
}
