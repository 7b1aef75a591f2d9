/**
 * A per-caller token bucket on new mints, in this function instance's memory: it keeps one caller from spending
 * Momento's account-wide auth rate (~5 mints/s) for everyone. Instances do not share state, so the real bound
 * is (instances × the limit); stage throttling, reserved concurrency and WAF bound the rest.
 */

export interface CallerLimitOptions {
  /** Sustained mints per minute per caller. */
  readonly mintsPerMinute: number;
  /** Bucket size. @default mintsPerMinute */
  readonly burst?: number;
  /** Callers tracked at most (least recently seen dropped first). @default 10000 */
  readonly maxCallers?: number;
  /** Clock in ms. @default Date.now */
  readonly nowMs?: () => number;
}

export class CallerLimit {
  private readonly buckets = new Map<string, { tokens: number; updated: number }>();
  private readonly perMs: number;
  private readonly burst: number;
  private readonly maxCallers: number;
  private readonly now: () => number;

  constructor(options: CallerLimitOptions) {
    this.perMs = options.mintsPerMinute / 60_000;
    this.burst = options.burst ?? options.mintsPerMinute;
    this.maxCallers = options.maxCallers ?? 10_000;
    this.now = options.nowMs ?? Date.now;
  }

  /** Takes one mint for `caller`; returns 0 when allowed, else the seconds until one is available. */
  take(caller: string): number {
    const now = this.now();
    const b = this.buckets.get(caller) ?? { tokens: this.burst, updated: now };
    b.tokens = Math.min(this.burst, b.tokens + (now - b.updated) * this.perMs);
    b.updated = now;
    // Map order is recency order: move to the back, evict from the front.
    this.buckets.delete(caller);
    this.buckets.set(caller, b);
    if (this.buckets.size > this.maxCallers) this.buckets.delete(this.buckets.keys().next().value as string);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / this.perMs / 1000));
  }
}
