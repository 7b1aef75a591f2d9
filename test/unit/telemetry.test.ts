import { powertoolsTelemetry, type IssuanceEvent } from '../../lambda/telemetry';

/** Runs `record` for one event through the real Powertools Logger + Metrics and returns the EMF metric names. */
function metricsOf(event: IssuanceEvent): string[] {
  const lines: string[] = [];
  const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  // WARN / ERROR audit lines go to stderr: keep them out of the test output.
  const writeErr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    powertoolsTelemetry({ serviceName: 'tvm-test', namespace: 'TvmTest' }).record(event);
  } finally {
    write.mockRestore();
    writeErr.mockRestore();
  }
  return lines
    .flatMap((l) => l.split('\n'))
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { _aws?: { CloudWatchMetrics: { Metrics: { Name: string }[] }[] } })
    .flatMap((r) => r._aws?.CloudWatchMetrics.flatMap((m) => m.Metrics.map((x) => x.Name)) ?? [])
    .sort();
}

describe('Function: powertoolsTelemetry (metrics)', () => {
  it('counts a 429 from Momento’s token rate limit as Throttled (what TokenThrottleAlarm watches)', () => {
    expect(
      metricsOf({
        requestId: 'r1',
        decision: 'error',
        status: 429,
        code: 'momento-throttled',
        momentoFailure: 'throttled',
        latencyMs: 3,
      }),
    ).toEqual(['MomentoErrors', 'Throttled']);
  });

  it('counts a caller over its callerLimit as Denied, not as Momento throttling', () => {
    expect(
      metricsOf({ requestId: 'r2', decision: 'denied', status: 429, code: 'caller-rate-limited', latencyMs: 1 }),
    ).toEqual(['Denied']);
  });
});
