/**
 * The fleet-wide mint governor: no container calls Momento's token API faster than `momento.mintsPerSecond`,
 * however many containers there are (Momento allows 5 auth operations per second per account).
 *
 * A virtual queue in one DynamoDB item (GCRA): `next` is the epoch millisecond of the next free mint slot, and
 * slots are `1000 / (mintsPerSecond × HEADROOM)` ms apart. Taking a slot is one conditional `UpdateItem`: when the
 * queue is idle the slot is now; when it is busy the slot is `next`, taken only if it is within the caller's wait
 * bound. A caller past the bound is told how long the backlog is, which becomes its `Retry-After`. Evenly spaced
 * slots keep every one-second window within the budget; the headroom absorbs the jitter between taking a slot
 * and the call reaching Momento. docs/decisions.md, "Mint governor", has the design and the alternatives.
 */
import { awsJsonCall, DYNAMODB, type AwsJsonCall } from '../common/aws';
import { GOVERNOR_CALL_TIMEOUT_MS } from '../config/limits';
import { isConditionFailed } from './fleet-tokens';

/** The answer to "may I mint?". */
export type Admission =
  /** Mint after waiting `waitedMs` (already waited). `governed` is false when the store failed and nothing was checked. */
  | { readonly admitted: true; readonly waitedMs: number; readonly governed: boolean }
  /** The backlog is longer than the wait bound: retry after `retryAfterSeconds`. */
  | { readonly admitted: false; readonly retryAfterSeconds: number; readonly backlogMs: number };

/** The port the vending handler asks before every mint. */
export interface MintGovernor {
  /** Waits for a mint slot up to `maxWaitMs`; never throws (a failing store admits, ungoverned). */
  admit(maxWaitMs: number): Promise<Admission>;
  /** Momento refused a mint for the account's limit anyway (other apps share it): slow the whole fleet down. */
  slowDown(): Promise<void>;
  /** Seconds until the known backlog clears (0 when none is known), for a `Retry-After`. */
  backlogSeconds(): number;
}

/** Fraction of the budget the governor schedules: slots 1/0.9 of the nominal spacing apart. */
export const HEADROOM = 0.9;
/** How long the fleet pauses after Momento answers RESOURCE_EXHAUSTED. */
export const SLOW_DOWN_MS = 1000;
/** How many times one admission gives up a slot it reached too late before it mints anyway. */
const MAX_RETAKES = 2;
/** The governor's item in the token table. */
export const GOVERNOR_ITEM = 'gov#mint';

/** Options of {@link dynamoMintGovernor}. */
export interface DynamoMintGovernorOptions {
  /** The token table (`TVM_FLEET_TABLE`). */
  readonly tableName: string;
  /** The account's budget (`momento.mintsPerSecond`). */
  readonly mintsPerSecond: number;
  /** Give up on one call after this long; the mint then goes ahead ungoverned. @default GOVERNOR_CALL_TIMEOUT_MS */
  readonly timeoutMs?: number;
  /** Sends the call. @default awsJsonCall */
  readonly call?: (call: AwsJsonCall) => Promise<unknown>;
  /** Clock in epoch milliseconds. @default Date.now */
  readonly nowMs?: () => number;
  /** Waits. @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Told when the store fails (a metric). */
  readonly onUnavailable?: (error: unknown) => void;
  /** A number in [0, 1) to spread the `Retry-After` of refused callers. @default Math.random */
  readonly random?: () => number;
}

/** The mint slot spacing for a budget, in ms. */
export const slotIntervalMs = (mintsPerSecond: number): number => Math.ceil(1000 / (mintsPerSecond * HEADROOM));

/**
 * `Retry-After` for a backlog: the time it takes to clear, plus up to half of it again (at least a second) picked
 * at random, so the callers refused together do not all come back in the same second.
 */
export function retryAfterFor(backlogMs: number, random: () => number): number {
  const base = Math.max(1, Math.ceil(backlogMs / 1000));
  return base + Math.floor(Math.min(Math.max(random(), 0), 0.999) * Math.max(1, Math.ceil(base / 2)));
}

/**
 * The DynamoDB governor.
 *
 * @example
 * const governor = dynamoMintGovernor({ tableName: process.env.TVM_FLEET_TABLE!, mintsPerSecond: 5 });
 */
export function dynamoMintGovernor(options: DynamoMintGovernorOptions): MintGovernor {
  const call = options.call ?? awsJsonCall;
  const now = options.nowMs ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const random = options.random ?? Math.random;
  const timeoutMs = options.timeoutMs ?? GOVERNOR_CALL_TIMEOUT_MS;
  const interval = slotIntervalMs(options.mintsPerSecond);
  // With sends at most this late, N+1 sends span at least N × interval − tolerance > 1000 ms (interval ≥ 1111/N).
  const lateTolerance = Math.floor(interval / 2);
  // The latest `next` this container saw: a caller that cannot be served within its bound is refused without a
  // round trip while the backlog it would join is known to be longer.
  let knownNext = 0;

  const update = (body: object) =>
    call({
      service: DYNAMODB,
      operation: 'UpdateItem',
      body: { TableName: options.tableName, Key: { pk: { S: GOVERNOR_ITEM } }, ...body },
      timeoutMs,
    }) as Promise<{ Attributes?: { next?: { N?: string } } }>;
  // The item is read and written by this module only; `ttl` lets DynamoDB drop it after a day of quiet.
  const ttlValue = (ms: number) => ({ N: String(Math.ceil(ms / 1000) + 86_400) });

  /** The slot time, or the backlog's end when it is past `limit`. */
  async function take(t: number, limit: number): Promise<{ slot: number } | { next: number }> {
    // At most four calls (GOVERNOR_CALLS): busy, idle, read, and busy once more after a lost race.
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        // Busy queue: take `next` if it is within the bound.
        const answer = await update({
          UpdateExpression: 'SET #n = #n + :iv, #ttl = :ttl',
          ConditionExpression: '#n >= :now AND #n <= :limit',
          ExpressionAttributeNames: { '#n': 'next', '#ttl': 'ttl' },
          ExpressionAttributeValues: {
            ':iv': { N: String(interval) },
            ':now': { N: String(t) },
            ':limit': { N: String(limit) },
            ':ttl': ttlValue(limit),
          },
          ReturnValues: 'UPDATED_NEW',
        });
        const next = Number(answer.Attributes?.next?.N);
        if (Number.isFinite(next)) {
          knownNext = Math.max(knownNext, next);
          return { slot: next - interval };
        }
        return { slot: t };
      } catch (error) {
        if (!isConditionFailed(error)) throw error;
      }
      if (attempt > 0) break;
      try {
        // Idle queue (or none yet): the slot is now.
        await update({
          UpdateExpression: 'SET #n = :next, #ttl = :ttl',
          ConditionExpression: 'attribute_not_exists(#n) OR #n < :now',
          ExpressionAttributeNames: { '#n': 'next', '#ttl': 'ttl' },
          ExpressionAttributeValues: {
            ':next': { N: String(t + interval) },
            ':now': { N: String(t) },
            ':ttl': ttlValue(t),
          },
        });
        knownNext = Math.max(knownNext, t + interval);
        return { slot: t };
      } catch (error) {
        if (!isConditionFailed(error)) throw error;
      }
      // Neither: the queue is past the bound, or another container moved it between the two calls. Read it.
      const read = (await call({
        service: DYNAMODB,
        operation: 'GetItem',
        body: {
          TableName: options.tableName,
          Key: { pk: { S: GOVERNOR_ITEM } },
          ConsistentRead: true,
          ProjectionExpression: '#n',
          ExpressionAttributeNames: { '#n': 'next' },
        },
        timeoutMs,
      })) as { Item?: { next?: { N?: string } } };
      const next = Number(read.Item?.next?.N);
      if (Number.isFinite(next) && next > limit) {
        knownNext = Math.max(knownNext, next);
        return { next };
      }
    }
    // Races lost twice: the queue is moving fast; say how long it is as far as we know.
    return { next: Math.max(knownNext, limit + interval) };
  }

  return {
    async admit(maxWaitMs) {
      const t = now();
      const limit = t + maxWaitMs;
      if (knownNext > limit + interval) {
        const backlogMs = knownNext - t;
        return { admitted: false, backlogMs, retryAfterSeconds: retryAfterFor(backlogMs, random) };
      }
      let taken: { slot: number } | { next: number };
      try {
        taken = await take(t, limit);
      } catch (error) {
        options.onUnavailable?.(error);
        return { admitted: true, waitedMs: 0, governed: false };
      }
      for (let retake = 0; ; retake++) {
        if ('next' in taken) {
          const backlogMs = taken.next - t;
          return { admitted: false, backlogMs, retryAfterSeconds: retryAfterFor(backlogMs, random) };
        }
        const wait = taken.slot - now();
        if (wait > 0) await sleep(wait);
        // A mint sent well after its slot (a slow round trip, a late timer) could land next to the following
        // slot's: then this slot is given up and a new one taken, so sends stay within LATE_TOLERANCE of their
        // slots and no one-second window holds more than the budget.
        if (now() - taken.slot <= lateTolerance || retake >= MAX_RETAKES || now() >= limit)
          return { admitted: true, waitedMs: Math.max(0, Math.round(now() - t)), governed: true };
        try {
          taken = await take(now(), limit);
        } catch (error) {
          options.onUnavailable?.(error);
          return { admitted: true, waitedMs: Math.max(0, Math.round(now() - t)), governed: false };
        }
      }
    },

    async slowDown() {
      const pushed = now() + SLOW_DOWN_MS;
      knownNext = Math.max(knownNext, pushed);
      try {
        await update({
          UpdateExpression: 'SET #n = :pushed, #ttl = :ttl',
          ConditionExpression: 'attribute_not_exists(#n) OR #n < :pushed',
          ExpressionAttributeNames: { '#n': 'next', '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':pushed': { N: String(pushed) }, ':ttl': ttlValue(pushed) },
        });
      } catch (error) {
        if (!isConditionFailed(error)) options.onUnavailable?.(error);
      }
    },

    backlogSeconds() {
      const ms = knownNext - now();
      return ms > 0 ? Math.ceil(ms / 1000) : 0;
    },
  };
}
