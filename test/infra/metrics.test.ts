/**
 * Metric names and dimensions have one home (common/metrics.ts): the vending function emits them
 * (lambda/telemetry.ts) and the alarms and dashboard watch them (lib/monitoring.ts). This test ties the two sides
 * through the synthesized template: the telemetry, run with the function's own environment from the template,
 * emits every custom metric an alarm or dashboard widget watches, in the namespace and with exactly the dimension
 * names the template names — so renaming a metric or a dimension on one side alone fails here.
 */
import { jsonTelemetry, type IssuanceEvent } from '../../lambda/telemetry';
import { MODES, resourcesOf, synth } from './helpers';

/** A metric as CloudWatch identifies it: namespace, name, and the sorted dimension names. */
const idOf = (namespace: string, name: string, dimensions: readonly string[]) =>
  `${namespace} ${name} [${[...dimensions].sort().join(',')}]`;

/** Events that between them make the telemetry emit every metric it has. */
const EVENTS: IssuanceEvent[] = [
  {
    requestId: 'r1',
    decision: 'granted',
    status: 200,
    tokenSource: 'minted',
    latencyMs: 30,
    mintLatencyMs: 20,
    mintWaitMs: 5,
    fleetCache: 'miss',
    governor: 'unavailable',
  },
  { requestId: 'r2', decision: 'granted', status: 200, tokenSource: 'cached', latencyMs: 1, fleetCache: 'hit' },
  { requestId: 'r3', decision: 'granted', status: 200, tokenSource: 'stale', latencyMs: 1, fleetCache: 'error' },
  {
    requestId: 'r4',
    decision: 'error',
    status: 429,
    code: 'momento-throttled',
    momentoFailure: 'throttled',
    latencyMs: 1,
    mintLatencyMs: 1,
  },
  { requestId: 'r5', decision: 'error', status: 502, code: 'momento-auth', momentoFailure: 'auth', latencyMs: 1 },
  { requestId: 'r6', decision: 'denied', status: 429, code: 'mint-budget-exhausted', latencyMs: 1 },
  { requestId: 'r7', decision: 'error', status: 503, code: 'revocation-check-failed', latencyMs: 1 },
  { requestId: 'r8', decision: 'denied', status: 403, code: 'revoked', latencyMs: 1 },
];

/** What the telemetry emits for {@link EVENTS} with `env`: metric ids, and each `kind` value seen. */
function emitted(env: Record<string, string>): { ids: Set<string>; kinds: Set<string> } {
  const ids = new Set<string>();
  const kinds = new Set<string>();
  const telemetry = jsonTelemetry({
    env,
    write: (_stream, line) => {
      const doc = JSON.parse(line) as {
        _aws?: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] };
        kind?: string;
      };
      for (const d of doc._aws?.CloudWatchMetrics ?? [])
        for (const m of d.Metrics) for (const dims of d.Dimensions) ids.add(idOf(d.Namespace, m.Name, dims));
      if (doc._aws && doc.kind !== undefined) kinds.add(doc.kind);
    },
  });
  for (const e of EVENTS) telemetry.record(e);
  return { ids, kinds };
}

type Dimension = { Name: string; Value: unknown };
type MetricRef = { Namespace?: string; MetricName?: string; Dimensions?: Dimension[] };

describe('Rule: metric names and dimensions (common/metrics.ts)', () => {
  // With revocation, so every alarm on a custom metric exists.
  const s = synth({ ...MODES.cognito, revocation: { enabled: true } });
  const [[, fn] = []] = resourcesOf(s.template, 'AWS::Lambda::Function').filter(([, f]) =>
    String(f.Properties?.Description).includes('mints'),
  );
  const env = (fn?.Properties?.Environment as { Variables: Record<string, string> }).Variables;
  const namespace = env.POWERTOOLS_METRICS_NAMESPACE!;
  const { ids, kinds } = emitted(env);

  it('every alarm on a function metric watches one the function emits', () => {
    const watched: MetricRef[] = [];
    for (const [, a] of resourcesOf(s.template, 'AWS::CloudWatch::Alarm')) {
      const p = a.Properties as MetricRef & { Metrics?: { MetricStat?: { Metric: MetricRef } }[] };
      if (p.MetricName !== undefined) watched.push(p);
      for (const m of p.Metrics ?? []) if (m.MetricStat) watched.push(m.MetricStat.Metric);
    }
    const custom = watched.filter((m) => !m.Namespace?.startsWith('AWS/'));
    // MomentoErrors (auth), Throttled, RevocationCheckFailed, MintCalls (the budget).
    expect(custom.length).toBeGreaterThanOrEqual(4);
    for (const m of custom) {
      expect(m.Namespace).toBe(namespace);
      const names = (m.Dimensions ?? []).map((d) => d.Name);
      expect(ids).toContain(idOf(m.Namespace!, m.MetricName!, names));
      for (const d of m.Dimensions ?? []) {
        if (d.Name === 'kind') expect(kinds).toContain(d.Value);
        else expect(d.Value).toBe(env.POWERTOOLS_SERVICE_NAME);
      }
    }
  });

  it('every dashboard graph of a function metric shows one the function emits', () => {
    const [[, dashboard] = []] = resourcesOf(s.template, 'AWS::CloudWatch::Dashboard');
    const body = dashboard?.Properties?.DashboardBody as { 'Fn::Join': [string, unknown[]] };
    // Tokens (region, API id) become placeholders: only this function's namespace matters here.
    const text = body['Fn::Join'][1].map((p) => (typeof p === 'string' ? p : 'TOKEN')).join('');
    const widgets = (JSON.parse(text) as { widgets: { properties: { metrics?: unknown[][] } }[] }).widgets;
    let graphs = 0;
    for (const w of widgets)
      for (const line of w.properties.metrics ?? []) {
        if (line[0] === namespace) {
          const [, name, ...rest] = line.filter((x) => typeof x === 'string') as string[];
          const dims = rest.filter((_, i) => i % 2 === 0);
          expect(ids).toContain(idOf(namespace, name!, dims));
          graphs += 1;
        }
        const search = (line[0] as { expression?: string } | undefined)?.expression;
        if (search?.startsWith('SEARCH(')) {
          // SEARCH('{namespace,dim,...} MetricName="…" …'): the schema names the dimensions.
          const [, schema, metric] = /\{([^}]*)\} MetricName="([^"]+)"/.exec(search) ?? [];
          const [ns, ...dims] = (schema ?? '').split(',');
          expect(ids).toContain(idOf(ns!, metric!, dims));
          graphs += 1;
        }
      }
    expect(graphs).toBeGreaterThanOrEqual(5);
  });
});
