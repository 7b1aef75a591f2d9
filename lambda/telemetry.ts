/**
 * Audit log and metrics. One structured issuance event per request — who (principal id, tiers), what (scope
 * hash, ttl, tokenId), the decision, latency and cache use — and never a token, key, Authorization header or
 * credential object: the event type below has no field that could hold one.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import type { MomentoFailure } from './errors';
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
}

/** Where the handler reports; tests pass a recorder, Lambda the Powertools implementation. */
export interface Telemetry {
  record(event: IssuanceEvent): void;
  /** Operational notes (retries, reconnects, key reloads): never a key or token. */
  note?(message: string, details: Readonly<Record<string, unknown>>): void;
}

/** Powertools Logger + Metrics (EMF) implementation. Build once at module scope. */
export function powertoolsTelemetry(
  options: { serviceName?: string; namespace?: string; metrics?: boolean } = {},
): Telemetry {
  const serviceName = options.serviceName ?? process.env.POWERTOOLS_SERVICE_NAME ?? 'momento-tvm';
  const logger = new Logger({ serviceName });
  const metrics =
    options.metrics === false
      ? undefined
      : new Metrics({
          serviceName,
          namespace: options.namespace ?? process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'MomentoTokenVendingMachine',
        });
  return {
    note(message, details) {
      logger.info(message, { ...details });
    },
    record(e) {
      const { decision, status } = e;
      if (decision === 'error' && status >= 500 && e.momentoFailure === undefined)
        logger.error('token request failed', { ...e });
      else if (decision === 'error') logger.warn('token request failed', { ...e });
      else logger.info(decision === 'granted' ? 'token issued' : 'token denied', { ...e });
      if (!metrics) return;
      if (decision === 'granted') {
        metrics.addMetric(e.tokenSource === 'minted' ? 'TokensIssued' : 'TokensReused', MetricUnit.Count, 1);
        if (e.mintLatencyMs !== undefined && e.tokenSource === 'minted')
          metrics.addMetric('MintLatency', MetricUnit.Milliseconds, e.mintLatencyMs);
      } else if (e.momentoFailure === 'throttled') {
        // Momento's auth rate limit only (TokenThrottleAlarm); a caller over its own callerLimit is a denial.
        metrics.addMetric('Throttled', MetricUnit.Count, 1);
      } else if (decision === 'denied' || status < 500) metrics.addMetric('Denied', MetricUnit.Count, 1);
      else metrics.addMetric('Errors', MetricUnit.Count, 1);
      // RevocationCheckAlarm: the table could not be read (503 when failing closed, or let through by failOpen).
      if (e.code === 'revocation-check-failed' || e.revocationCheck === 'failed-open')
        metrics.addMetric('RevocationCheckFailed', MetricUnit.Count, 1);
      if (e.code === 'revoked') metrics.addMetric('Revoked', MetricUnit.Count, 1);
      if (e.momentoFailure !== undefined) {
        const single = metrics.singleMetric();
        single.addDimension('kind', e.momentoFailure);
        single.addMetric('MomentoErrors', MetricUnit.Count, 1);
      }
      metrics.publishStoredMetrics();
    },
  };
}
