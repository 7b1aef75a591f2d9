/**
 * Audit log and metrics. One structured issuance event per request — who (principal id, tiers), what (scope
 * hash, ttl, tokenId), the decision, latency and cache use — and never a token, key, Authorization header or
 * credential object: the event type below has no field that could hold one.
 *
 * Written as JSON lines in the format of Powertools for AWS Lambda (Logger: `level`, `message`, `timestamp`,
 * `service`, `sampling_rate`, `xray_trace_id`, then the event's fields; Metrics: CloudWatch EMF with the
 * `service` dimension), by the log writer of common/log.ts and ≈ 40 lines here instead of the two Powertools packages: loading and constructing them
 * was ≈ 5 ms of the vending function's ≈ 66 ms cold path (docs/decisions.md, "Cold path"). test/unit/telemetry.test.ts
 * holds every line equal to what Powertools Logger + Metrics write for the same event.
 */
import type { MomentoFailure } from './errors';
import { createLogWriter } from '../common/log';
import { DEFAULT_METRICS_NAMESPACE, METRIC_DIMENSIONS as D, METRICS } from '../common/metrics';
import type { TokenSource } from './token-cache';

/** One line of audit per request. */
export interface IssuanceEvent {
  readonly requestId: string | undefined;
  readonly decision: 'granted' | 'denied' | 'error';
  readonly status: number;
  /** Problem code for denials and errors. */
  readonly code?: string;
  readonly principalId?: string;
  readonly source?: 'anonymous' | 'cognito' | 'authorizer';
  readonly groups?: readonly string[];
  readonly tiers?: readonly string[];
  /** sha256 of the granted statements (first 16 hex digits): compare scopes without logging them. */
  readonly scopeHash?: string;
  readonly permissionCount?: number;
  readonly ttlSeconds?: number;
  readonly tokenId?: string;
  /** minted, cached or shared (a concurrent identical mint). */
  readonly tokenSource?: TokenSource;
  readonly momentoFailure?: MomentoFailure;
  readonly latencyMs: number;
  readonly mintLatencyMs?: number;
  /** Operator-facing reason for a 500 (e.g. which secret is empty). */
  readonly reason?: string;
  /** The revocation table could not be read and `revocation.failOpen` let the request through. */
  readonly revocationCheck?: 'failed-open';
  /** The token is one per scope for all holders of a shared tier. */
  readonly sharedScope?: boolean;
  /** The fleet's token cache: hit, miss, or error (unreadable). */
  readonly fleetCache?: 'hit' | 'miss' | 'error';
  /** Milliseconds spent waiting for a mint slot from the governor. */
  readonly mintWaitMs?: number;
  /** The governor's store failed and the mint went ahead unchecked. */
  readonly governor?: 'unavailable';
  /** This request minted the successor of a shared scope's token. */
  readonly preMinted?: boolean;
}

export { METRICS } from '../common/metrics';

/** Where the handler reports; tests pass a recorder, Lambda {@link jsonTelemetry}. */
export interface Telemetry {
  record(event: IssuanceEvent): void;
  /** Operational notes (retries, reconnects, key reloads): never a key or token. */
  note?(message: string, details: Readonly<Record<string, unknown>>): void;
}

type Env = Readonly<Record<string, string | undefined>>;
type Unit = 'Count' | 'Milliseconds';

/** Options of {@link jsonTelemetry}. */
export interface JsonTelemetryOptions {
  /** The `service` field and metric dimension. @default POWERTOOLS_SERVICE_NAME, else 'momento-tvm' */
  readonly serviceName?: string;
  /** EMF namespace. @default POWERTOOLS_METRICS_NAMESPACE, else DEFAULT_METRICS_NAMESPACE ('MomentoTokenVendingMachine') */
  readonly namespace?: string;
  /** Write EMF metrics. @default true, unless POWERTOOLS_METRICS_DISABLED is true */
  readonly metrics?: boolean;
  /** Where the variables are read (once). @default process.env */
  readonly env?: Env;
  /** Where a line goes (WARN and ERROR to stderr, the rest to stdout, as Powertools). @default process.stdout/stderr */
  readonly write?: (stream: 'stdout' | 'stderr', line: string) => void;
}

/**
 * The audit log and EMF metrics as Powertools Logger + Metrics write them (build once at module scope).
 * Log lines and level: the functions' one log writer (common/log.ts: `POWERTOOLS_LOG_LEVEL`, else `LOG_LEVEL`, else
 * INFO; never below `AWS_LAMBDA_LOG_LEVEL`).
 *
 * @example
 * const telemetry = jsonTelemetry(); // POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE from the stack
 */
export function jsonTelemetry(options: JsonTelemetryOptions = {}): Telemetry {
  const env = options.env ?? process.env;
  const service = options.serviceName ?? env.POWERTOOLS_SERVICE_NAME ?? 'momento-tvm';
  const namespace = options.namespace ?? env.POWERTOOLS_METRICS_NAMESPACE ?? DEFAULT_METRICS_NAMESPACE;
  const metricsOn =
    options.metrics !== false && !/^(1|true|on|yes|y)$/i.test((env.POWERTOOLS_METRICS_DISABLED ?? '').trim());
  const write =
    options.write ?? ((stream, line) => void (stream === 'stderr' ? process.stderr : process.stdout).write(line));
  const log = createLogWriter({ serviceName: service, env, write });
  /** One EMF document: the metrics, with the `service` dimension plus `dimensions`. */
  const emf = (metrics: readonly [string, Unit, number][], dimensions: Readonly<Record<string, string>> = {}): void => {
    const doc = {
      _aws: {
        Timestamp: Date.now(),
        CloudWatchMetrics: [
          {
            Namespace: namespace,
            Dimensions: [[D.service, ...Object.keys(dimensions)]],
            Metrics: metrics.map(([Name, Unit]) => ({ Name, Unit })),
          },
        ],
      },
      [D.service]: service,
      ...dimensions,
      ...Object.fromEntries(metrics.map(([name, , value]) => [name, value])),
    };
    write('stdout', `${JSON.stringify(doc)}\n`);
  };

  return {
    note(message, details) {
      log('INFO', message, details);
    },
    record(e) {
      const { decision, status } = e;
      if (decision === 'error' && status >= 500 && e.momentoFailure === undefined)
        log('ERROR', 'token request failed', e);
      else if (decision === 'error') log('WARN', 'token request failed', e);
      else log('INFO', decision === 'granted' ? 'token issued' : 'token denied', e);
      if (!metricsOn) return;
      const M = METRICS;
      const stored: [string, Unit, number][] = [];
      if (decision === 'granted') {
        stored.push([e.tokenSource === 'minted' ? M.tokensIssued : M.tokensReused, 'Count', 1]);
        if (e.mintLatencyMs !== undefined && e.tokenSource === 'minted')
          stored.push([M.mintLatency, 'Milliseconds', e.mintLatencyMs]);
        if (e.tokenSource === 'stale') stored.push([M.staleServed, 'Count', 1]);
      } else if (e.momentoFailure === 'throttled') {
        // Momento's auth rate limit only (TokenThrottleAlarm); a caller over its own callerLimit is a denial.
        stored.push([M.throttled, 'Count', 1]);
      } else if (decision === 'denied' || status < 500) stored.push([M.denied, 'Count', 1]);
      else stored.push([M.errors, 'Count', 1]);
      if (e.mintLatencyMs !== undefined) stored.push([M.mintCalls, 'Count', 1]);
      if (e.code === 'mint-budget-exhausted') stored.push([M.mintBudgetExhausted, 'Count', 1]);
      if (e.fleetCache === 'hit') stored.push([M.fleetCacheHits, 'Count', 1]);
      else if (e.fleetCache === 'miss') stored.push([M.fleetCacheMisses, 'Count', 1]);
      else if (e.fleetCache === 'error') stored.push([M.fleetCacheErrors, 'Count', 1]);
      if (e.governor === 'unavailable') stored.push([M.governorUnavailable, 'Count', 1]);
      if (e.mintWaitMs !== undefined) stored.push([M.mintWait, 'Milliseconds', e.mintWaitMs]);
      // RevocationCheckAlarm: the table could not be read (503 when failing closed, or let through by failOpen).
      if (e.code === 'revocation-check-failed' || e.revocationCheck === 'failed-open')
        stored.push([M.revocationCheckFailed, 'Count', 1]);
      if (e.code === 'revoked') stored.push([M.revoked, 'Count', 1]);
      // As a Powertools single metric: its own document (with the `kind` dimension), written first.
      if (e.momentoFailure !== undefined) emf([[M.momentoErrors, 'Count', 1]], { [D.kind]: e.momentoFailure });
      emf(stored);
    },
  };
}
