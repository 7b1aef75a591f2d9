import { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import { jsonTelemetry, type IssuanceEvent, type Telemetry } from '../../lambda/telemetry';
import { captureLines, normalized, type Line } from '../support/powertools-oracle';

/** Runs `record` (or `note`) through `jsonTelemetry` and returns its lines, parsed. */
function ours(act: (t: Telemetry) => void, env: Record<string, string | undefined> = {}): Line[] {
  const lines: Line[] = [];
  act(
    jsonTelemetry({
      serviceName: 'tvm-test',
      namespace: 'TvmTest',
      env,
      write: (stream, line) => {
        expect(line.endsWith('\n')).toBe(true);
        expect(line.slice(0, -1)).not.toContain('\n');
        lines.push({ stream, record: JSON.parse(line) as Record<string, unknown> });
      },
    }),
  );
  return lines;
}

/**
 * The oracle: what the function used before (Powertools Logger + Metrics, as lambda/telemetry.ts wrote them up to
 * the cold-path change), run for real, its stdout and stderr captured.
 */
function powertools(act: (t: Telemetry) => void): Line[] {
  return captureLines(() => {
    const logger = new Logger({ serviceName: 'tvm-test' });
    const metrics = new Metrics({ serviceName: 'tvm-test', namespace: 'TvmTest' });
    act({
      note: (message, details) => logger.info(message, { ...details }),
      record(e) {
        const { decision, status } = e;
        if (decision === 'error' && status >= 500 && e.momentoFailure === undefined)
          logger.error('token request failed', { ...e });
        else if (decision === 'error') logger.warn('token request failed', { ...e });
        else logger.info(decision === 'granted' ? 'token issued' : 'token denied', { ...e });
        if (decision === 'granted') {
          metrics.addMetric(e.tokenSource === 'minted' ? 'TokensIssued' : 'TokensReused', MetricUnit.Count, 1);
          if (e.mintLatencyMs !== undefined && e.tokenSource === 'minted')
            metrics.addMetric('MintLatency', MetricUnit.Milliseconds, e.mintLatencyMs);
          if (e.tokenSource === 'stale') metrics.addMetric('StaleTokensServed', MetricUnit.Count, 1);
        } else if (e.momentoFailure === 'throttled') metrics.addMetric('Throttled', MetricUnit.Count, 1);
        else if (decision === 'denied' || status < 500) metrics.addMetric('Denied', MetricUnit.Count, 1);
        else metrics.addMetric('Errors', MetricUnit.Count, 1);
        if (e.mintLatencyMs !== undefined) metrics.addMetric('MintCalls', MetricUnit.Count, 1);
        if (e.code === 'mint-budget-exhausted') metrics.addMetric('MintBudgetExhausted', MetricUnit.Count, 1);
        if (e.fleetCache === 'hit') metrics.addMetric('FleetCacheHits', MetricUnit.Count, 1);
        else if (e.fleetCache === 'miss') metrics.addMetric('FleetCacheMisses', MetricUnit.Count, 1);
        else if (e.fleetCache === 'error') metrics.addMetric('FleetCacheErrors', MetricUnit.Count, 1);
        if (e.governor === 'unavailable') metrics.addMetric('GovernorUnavailable', MetricUnit.Count, 1);
        if (e.mintWaitMs !== undefined) metrics.addMetric('MintWait', MetricUnit.Milliseconds, e.mintWaitMs);
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
    });
  });
}

const metricNames = (lines: Line[]): string[] =>
  lines
    .flatMap(
      ({ record }) =>
        (record._aws as { CloudWatchMetrics: { Metrics: { Name: string }[] }[] } | undefined)?.CloudWatchMetrics ?? [],
    )
    .flatMap((m) => m.Metrics.map((x) => x.Name))
    .sort();

const EVENTS: [string, IssuanceEvent][] = [
  [
    'a mint',
    {
      requestId: 'r0',
      decision: 'granted',
      status: 200,
      principalId: 'p1',
      source: 'cognito',
      groups: ['admins'],
      tiers: ['admin'],
      scopeHash: '0123456789abcdef',
      permissionCount: 2,
      ttlSeconds: 600,
      tokenId: 'p1',
      tokenSource: 'minted',
      latencyMs: 12.5,
      mintLatencyMs: 10.25,
    },
  ],
  ['a cached token', { requestId: 'r1', decision: 'granted', status: 200, tokenSource: 'cached', latencyMs: 0.2 }],
  ['a denial', { requestId: 'r2', decision: 'denied', status: 403, code: 'no-tier', latencyMs: 1 }],
  ['a revoked caller', { requestId: 'r3', decision: 'denied', status: 403, code: 'revoked', latencyMs: 1 }],
  [
    'Momento throttling',
    {
      requestId: 'r4',
      decision: 'error',
      status: 429,
      code: 'momento-throttled',
      momentoFailure: 'throttled',
      latencyMs: 3,
    },
  ],
  [
    'a Momento timeout',
    {
      requestId: 'r5',
      decision: 'error',
      status: 503,
      code: 'momento-timeout',
      momentoFailure: 'timeout',
      latencyMs: 3,
    },
  ],
  [
    'a failed revocation check',
    { requestId: 'r6', decision: 'error', status: 503, code: 'revocation-check-failed', latencyMs: 3, reason: 'x' },
  ],
  [
    'a failed-open check',
    {
      requestId: 'r7',
      decision: 'granted',
      status: 200,
      tokenSource: 'minted',
      revocationCheck: 'failed-open',
      latencyMs: 2,
    },
  ],
  [
    'an internal error',
    { requestId: 'r8', decision: 'error', status: 500, code: 'internal', reason: 'TypeError', latencyMs: 1 },
  ],
  [
    'a fleet cache hit of a shared scope',
    {
      requestId: 'r9',
      decision: 'granted',
      status: 200,
      tokenSource: 'fleet',
      fleetCache: 'hit',
      sharedScope: true,
      latencyMs: 4,
    },
  ],
  [
    'a governed mint after a fleet miss',
    {
      requestId: 'r10',
      decision: 'granted',
      status: 200,
      tokenSource: 'minted',
      fleetCache: 'miss',
      mintWaitMs: 180,
      mintLatencyMs: 20,
      latencyMs: 210,
    },
  ],
  [
    'a refusal for the mint budget',
    {
      requestId: 'r11',
      decision: 'denied',
      status: 429,
      code: 'mint-budget-exhausted',
      fleetCache: 'miss',
      latencyMs: 5,
    },
  ],
  [
    'a stale token served while the governor is unavailable',
    {
      requestId: 'r12',
      decision: 'granted',
      status: 200,
      tokenSource: 'stale',
      fleetCache: 'error',
      governor: 'unavailable',
      latencyMs: 9,
    },
  ],
];

describe('Function: jsonTelemetry', () => {
  it.each(EVENTS)('writes %s exactly as Powertools Logger + Metrics did (lines, streams, order)', (_name, event) => {
    const expected = normalized(powertools((t) => t.record(event)));
    expect(expected.length).toBeGreaterThanOrEqual(2); // the audit line and at least one EMF document
    expect(normalized(ours((t) => t.record(event)))).toEqual(expected);
  });

  it('writes a note as Powertools Logger did', () => {
    const note = (t: Telemetry) =>
      t.note?.('momento connection', { type: 'retry', reason: 'UNAVAILABLE', grpcCode: 14 });
    const expected = normalized(powertools(note));
    expect(expected).toHaveLength(1);
    expect(normalized(ours(note))).toEqual(expected);
  });

  it('counts a 429 from Momento’s token rate limit as Throttled (what TokenThrottleAlarm watches)', () => {
    expect(metricNames(ours((t) => t.record(EVENTS[4]![1])))).toEqual(['MomentoErrors', 'Throttled']);
  });

  it('counts a caller over its callerLimit as Denied, not as Momento throttling', () => {
    const event: IssuanceEvent = {
      requestId: 'r2',
      decision: 'denied',
      status: 429,
      code: 'caller-rate-limited',
      latencyMs: 1,
    };
    expect(metricNames(ours((t) => t.record(event)))).toEqual(['Denied']);
  });

  it('honours the log level (POWERTOOLS_LOG_LEVEL, then AWS_LAMBDA_LOG_LEVEL) and POWERTOOLS_METRICS_DISABLED', () => {
    const [grant, , , , , timeout] = EVENTS.map(([, e]) => e);
    const levels = (env: Record<string, string>) =>
      ours((t) => {
        t.record(grant!);
        t.record(timeout!);
      }, env)
        .map((l) => l.record.level ?? 'EMF')
        .join(' ');
    expect(levels({})).toBe('INFO EMF WARN EMF EMF');
    expect(levels({ POWERTOOLS_LOG_LEVEL: 'WARN' })).toBe('EMF WARN EMF EMF');
    expect(levels({ POWERTOOLS_LOG_LEVEL: 'debug', AWS_LAMBDA_LOG_LEVEL: 'ERROR' })).toBe('EMF EMF EMF');
    expect(levels({ POWERTOOLS_METRICS_DISABLED: 'true' })).toBe('INFO WARN');
  });

  it('adds the X-Ray trace id as Powertools did', () => {
    const saved = process.env._X_AMZN_TRACE_ID;
    process.env._X_AMZN_TRACE_ID = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';
    try {
      const event = EVENTS[1]![1];
      const line = ours((t) => t.record(event))[0]!;
      expect(line.record.xray_trace_id).toBe('1-5759e988-bd862e3fe1be46a994272793');
      expect(normalized([line])).toEqual(normalized(powertools((t) => t.record(event)).slice(0, 1)));
    } finally {
      if (saved === undefined) delete process.env._X_AMZN_TRACE_ID;
      else process.env._X_AMZN_TRACE_ID = saved;
    }
  });
});
