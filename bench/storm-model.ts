/**
 * The pure parts of the sign-in storm (`npm run bench -- --scenario storm`, bench/storm.ts) that the storm
 * integration test (test/integration/storm.test.ts) shares: the two modes' configs, the arrival plan, API
 * Gateway's stage throttle, the client's retry rule, and the summary with its targets (issue 16, item 8).
 * Nothing here does I/O.
 */
import { DEFAULT_BACKOFF, backoffDelayMs } from '../client/src/backoff';
import { parseRetryAfter } from '../client/src/errors';
import { DEFAULT_MAX_ATTEMPTS } from '../client/src/tvm-client';
import { PROBLEMS } from '../common/problems';

/**
 * `product`: the config as the operator ships it (config/tvm.config.ts) and the fleet table; `off`: the anchor's
 * behaviour, one mint per request (token cache off, no shared tiers, no fleet table).
 */
export type StormMode = 'product' | 'off';
export const STORM_MODES: readonly StormMode[] = ['product', 'off'];

/** The parts of a (validated) config the modes change. */
interface ModeConfig {
  readonly tokenCache: { readonly enabled: boolean };
  readonly tiers: readonly object[];
}

/**
 * The config of each mode, built from `base` so that whatever the default config gains (shared tiers, a mint
 * budget) flows into `product`, and `off` strips exactly what reuse needs: the token cache and every tier's
 * `shared`. `off` runs without the fleet table too (the caller's part: it sets no `TVM_FLEET_TABLE`).
 *
 * @example
 * const { product, off } = stormConfigs(policyOf(validateConfig(defaultConfig)));
 */
export function stormConfigs<C extends ModeConfig>(base: C): Record<StormMode, C> {
  const off = {
    ...base,
    tokenCache: { ...base.tokenCache, enabled: false },
    tiers: base.tiers.map((tier) => {
      const { shared: _shared, ...rest } = tier as { shared?: unknown };
      return rest;
    }),
  };
  return { product: base, off };
}

/** A tier's share of the users. */
export interface TierShare {
  /** The tier's name in the config. */
  readonly tier: string;
  /** Fraction of users, 0..1; the shares add up to 1. */
  readonly share: number;
}

/** Issue 16's mix: 70% readers, 25% members, 5% admins of the default config. */
export const DEFAULT_MIX: readonly TierShare[] = [
  { tier: 'reader', share: 0.7 },
  { tier: 'member', share: 0.25 },
  { tier: 'admin', share: 0.05 },
];

/** The storm's size. */
export interface StormShape {
  /** Distinct users. */
  readonly users: number;
  /** New users arrive uniformly over this many ms. */
  readonly arrivalMs: number;
  /** Each user's extra requests (reloads, tabs) come within this many ms after their first. */
  readonly extraWindowMs: number;
  /** Extra requests per user: uniform in 0..maxExtra. */
  readonly maxExtra: number;
  readonly mix: readonly TierShare[];
}

/** Issue 16's storm: 1,000 users over 60 s, 0–3 extra requests each within 30 s. */
export const FULL_STORM: StormShape = {
  users: 1000,
  arrivalMs: 60_000,
  extraWindowMs: 30_000,
  maxExtra: 3,
  mix: DEFAULT_MIX,
};
/** `--quick`: the same rate of new users (16.7/s) for 15 s, extras within 7.5 s. */
export const QUICK_STORM: StormShape = { ...FULL_STORM, users: 250, arrivalMs: 15_000, extraWindowMs: 7_500 };

/** One `getToken()` of one user, planned. */
export interface PlannedCall {
  readonly user: number;
  readonly tier: string;
  /** ms after the storm starts. */
  readonly atMs: number;
  /** 0 for the user's first request, 1.. for extra requests. */
  readonly extra: number;
}

/** The same seed gives the same storm. */
export { seededRandom } from '../scripts/seeded-random';

/** Every call of the storm, in time order. */
export function planStorm(shape: StormShape, random: () => number): PlannedCall[] {
  const calls: PlannedCall[] = [];
  for (let user = 0; user < shape.users; user++) {
    const atMs = ((user + random()) / shape.users) * shape.arrivalMs;
    let r = random();
    const tier = shape.mix.find((m) => (r -= m.share) < 0)?.tier ?? shape.mix.at(-1)?.tier ?? '';
    calls.push({ user, tier, atMs, extra: 0 });
    const extras = Math.floor(random() * (shape.maxExtra + 1));
    for (let extra = 1; extra <= extras; extra++)
      calls.push({ user, tier, atMs: atMs + random() * shape.extraWindowMs, extra });
  }
  return calls.sort((a, b) => a.atMs - b.atMs);
}

/**
 * API Gateway's stage throttle: a token bucket of `burstLimit` tokens refilled at `rateLimit` per second
 * (AWS documents stage throttling as a token bucket). `take` answers whether a request at `nowMs` gets through.
 */
export function tokenBucket(rateLimit: number, burstLimit: number): { take(nowMs: number): boolean } {
  let tokens = burstLimit;
  let lastMs: number | undefined;
  return {
    take(nowMs) {
      if (lastMs !== undefined) tokens = Math.min(burstLimit, tokens + ((nowMs - lastMs) / 1000) * rateLimit);
      lastMs = nowMs;
      if (tokens < 1) return false;
      tokens -= 1;
      return true;
    },
  };
}

/** The 429 API Gateway answers from the stage throttle (lib/gateway-responses.ts: `throttled`). */
export const GATEWAY_THROTTLED = {
  status: PROBLEMS.throttled.status,
  code: 'throttled',
  retryAfter: String(PROBLEMS.throttled.retryAfterSeconds),
} as const;

/** One answer as the storm's client sees it. Never holds the token itself. */
export interface StormAnswer {
  /** HTTP status; 0 when the request timed out at the function's deadline. */
  readonly status: number;
  /** The problem code of a non-200 (`throttled` for the stage throttle). */
  readonly code?: string;
  /** The `Retry-After` header as sent. */
  readonly retryAfter?: string;
  /** A 200's `expiresAt` (epoch seconds). */
  readonly expiresAt?: number;
  /** The function's audit: did this request call Momento (a mint, accepted or refused)? */
  readonly calledMomento?: boolean;
  /** Whether the function answered (false: the stage throttle, or a timeout). */
  readonly reachedFunction: boolean;
}

/** One request sent: which user, when, and how it ended. */
export interface StormRequest {
  readonly user: number;
  readonly tier: string;
  /** Epoch ms when it was sent, and its latency. */
  readonly sentMs: number;
  readonly ms: number;
  readonly answer: StormAnswer;
  /** The user held an unexpired token (from an earlier 200) when this was sent. */
  readonly heldToken: boolean;
}

/** The retry rule of `@momento-tvm/client`'s `getToken()`, which the storm's clients follow. */
export const CLIENT_MODEL = {
  name: `@momento-tvm/client getToken(): up to ${DEFAULT_MAX_ATTEMPTS} requests; after a 408/429/5xx/timeout, wait backoffDelayMs (full jitter, base ${DEFAULT_BACKOFF.baseMs} ms doubling, cap ${DEFAULT_BACKOFF.maxMs} ms, Retry-After as a floor)`,
  maxAttempts: DEFAULT_MAX_ATTEMPTS,
  /** client/src/errors.ts: 408, 429, 5xx and network failures / timeouts are transient (retried). */
  transient: (status: number): boolean => status === 0 || status === 408 || status === 429 || status >= 500,
  /** Delay before retry number `failures` (client/src/backoff.ts, client/src/scheduler.ts). */
  delayMs: (failures: number, retryAfter: string | undefined, random: () => number): number =>
    backoffDelayMs(
      failures,
      DEFAULT_BACKOFF,
      random,
      retryAfter === undefined ? undefined : parseRetryAfter(retryAfter, Date.now()),
    ),
} as const;

/** What a storm produced, for one mode. */
export interface StormFigures {
  readonly requests: number;
  readonly ok: number;
  readonly tooMany: number;
  /** Every other answer (timeouts included), by `status code`. */
  readonly other: Readonly<Record<string, number>>;
  readonly serverErrors: number;
  /** 429s by problem code. */
  readonly tooManyByCode: Readonly<Record<string, number>>;
  /** Non-200s without a Retry-After header. */
  readonly withoutRetryAfter: number;
  /** Smallest and largest Retry-After seen (seconds). */
  readonly retryAfter: readonly [number, number] | undefined;
  readonly timeouts: number;
  readonly latencyOk: { readonly p50: number; readonly p99: number };
  readonly users: number;
  /** Users holding an unexpired token when the storm ended. */
  readonly usersWithToken: number;
  /** Requests sent while the user held an unexpired token, and those of them that called Momento. */
  readonly heldRequests: number;
  readonly heldRequestsThatMinted: number;
  /** Shared tiers (config `shared: true`): requests, and those answered 200 within 2 s. */
  readonly sharedRequests: number;
  readonly sharedOkWithin2s: number;
  readonly mintsAttempted: number;
  readonly mintsAccepted: number;
  readonly mintsRefused: number;
  /** Busiest epoch second at the fake: attempts, and accepted. */
  readonly peakAttemptsPerSecond: number;
  readonly peakAcceptedPerSecond: number;
  /** Accepted mints per 1,000 tokens served (200s). */
  readonly mintsPerThousand: number;
}

/** Nearest-rank percentile; NaN for no samples. */
function pct(xs: readonly number[], q: number): number {
  if (!xs.length) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length, Math.max(1, Math.ceil(q * s.length))) - 1] as number;
}

/** Turns the requests of one mode and what the fake received into the figures. */
export function summarize(input: {
  readonly requests: readonly StormRequest[];
  readonly users: number;
  /** The fake's calls: arrival time and whether the budget refused it. */
  readonly momento: readonly { readonly atMs: number; readonly refusedByBudget: boolean }[];
  /** Tiers declared shared in this mode's config. */
  readonly sharedTiers: ReadonlySet<string>;
  /** Epoch seconds when the storm ended. */
  readonly endSeconds: number;
}): StormFigures {
  const { requests } = input;
  const other: Record<string, number> = {};
  const tooManyByCode: Record<string, number> = {};
  const retryAfters: number[] = [];
  const okMs: number[] = [];
  let ok = 0;
  let tooMany = 0;
  let withoutRetryAfter = 0;
  const expiryByUser = new Map<number, number>();
  for (const r of requests) {
    const a = r.answer;
    if (a.status === 200) {
      ok++;
      okMs.push(r.ms);
      if (a.expiresAt !== undefined) expiryByUser.set(r.user, Math.max(expiryByUser.get(r.user) ?? 0, a.expiresAt));
      continue;
    }
    if (a.status === 429) {
      tooMany++;
      tooManyByCode[a.code ?? '?'] = (tooManyByCode[a.code ?? '?'] ?? 0) + 1;
    } else {
      const key = a.status === 0 ? 'timeout' : `${a.status} ${a.code ?? '?'}`;
      other[key] = (other[key] ?? 0) + 1;
    }
    const ra = a.retryAfter === undefined ? undefined : parseRetryAfter(a.retryAfter, Date.now());
    if (ra === undefined) withoutRetryAfter++;
    else retryAfters.push(ra);
  }
  const shared = requests.filter((r) => input.sharedTiers.has(r.tier));
  const held = requests.filter((r) => r.heldToken);
  const bySecond = (accepted: boolean) => {
    const m = new Map<number, number>();
    for (const c of input.momento)
      if (!accepted || !c.refusedByBudget)
        m.set(Math.floor(c.atMs / 1000), (m.get(Math.floor(c.atMs / 1000)) ?? 0) + 1);
    return Math.max(0, ...m.values());
  };
  const mintsAccepted = input.momento.filter((c) => !c.refusedByBudget).length;
  return {
    requests: requests.length,
    ok,
    tooMany,
    other,
    serverErrors: requests.filter((r) => r.answer.status >= 500).length,
    tooManyByCode,
    withoutRetryAfter,
    retryAfter: retryAfters.length ? [Math.min(...retryAfters), Math.max(...retryAfters)] : undefined,
    timeouts: requests.filter((r) => r.answer.status === 0).length,
    latencyOk: { p50: pct(okMs, 0.5), p99: pct(okMs, 0.99) },
    users: input.users,
    usersWithToken: [...expiryByUser.values()].filter((e) => e > input.endSeconds).length,
    heldRequests: held.length,
    heldRequestsThatMinted: held.filter((r) => r.answer.calledMomento).length,
    sharedRequests: shared.length,
    sharedOkWithin2s: shared.filter((r) => r.answer.status === 200 && r.ms <= 2000).length,
    mintsAttempted: input.momento.length,
    mintsAccepted,
    mintsRefused: input.momento.length - mintsAccepted,
    peakAttemptsPerSecond: bySecond(false),
    peakAcceptedPerSecond: bySecond(true),
    mintsPerThousand: ok ? (mintsAccepted / ok) * 1000 : Number.NaN,
  };
}

/** One target of issue 16, item 8, judged on the product run (the `off` run is the comparison). */
export interface StormTarget {
  readonly name: string;
  readonly pass: boolean;
  /** The figure the verdict rests on. */
  readonly value: string;
}

/** Issue 16, item 8's targets. `budget` is Momento's mints per second. */
export function stormTargets(product: StormFigures, off: StormFigures | undefined, budget: number): StormTarget[] {
  const pctOf = (n: number, d: number) => (d ? `${((n / d) * 100).toFixed(1)}%` : '—');
  const nonOk = product.requests - product.ok;
  return [
    {
      name: `Momento never receives more than ${budget} mints in any second`,
      pass: product.peakAttemptsPerSecond <= budget,
      value: `peak ${product.peakAttemptsPerSecond}/s`,
    },
    { name: '0 × 5xx', pass: product.serverErrors === 0, value: `${product.serverErrors} × 5xx` },
    {
      name: 'every non-200 is a 429 with Retry-After',
      pass: product.tooMany === nonOk && product.withoutRetryAfter === 0,
      value: `${product.tooMany} × 429 of ${nonOk} non-200; ${product.withoutRetryAfter} without Retry-After`,
    },
    {
      name: 'no request waits past its deadline',
      pass: product.timeouts === 0,
      value: `${product.timeouts} timed out`,
    },
    {
      name: 'shared tiers: ≥ 99% of their requests 200 within 2 s',
      // Nothing to judge while no tier is shared: a FAIL, not a vacuous PASS.
      pass: product.sharedRequests > 0 && product.sharedOkWithin2s >= 0.99 * product.sharedRequests,
      value:
        product.sharedRequests > 0
          ? `${pctOf(product.sharedOkWithin2s, product.sharedRequests)} of ${product.sharedRequests}`
          : 'no shared tier in the config',
    },
    {
      name: '≥ 99% of users hold a token at the end',
      pass: product.usersWithToken >= 0.99 * product.users,
      value: `${pctOf(product.usersWithToken, product.users)} (${product.usersWithToken} of ${product.users})`,
    },
    {
      name: 'requests of a user holding a valid token cost no mint',
      pass: product.heldRequestsThatMinted === 0,
      value: `${product.heldRequestsThatMinted} of ${product.heldRequests} called Momento`,
    },
    {
      name: 'mints per 1,000 served tokens ≤ 1/5 of the off run',
      pass: off !== undefined && product.mintsPerThousand <= off.mintsPerThousand / 5,
      value: `${product.mintsPerThousand.toFixed(0)} vs ${off ? off.mintsPerThousand.toFixed(0) : '—'} off`,
    },
  ];
}
