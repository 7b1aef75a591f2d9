/**
 * Names per construct: two TokenVendingMachines in one stack share no API name, service name (the `service`
 * dimension of their metrics), WAF metric name, dashboard name or alarm dimension — each one's alarms watch only
 * its own API, functions and metrics.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { policyOf, validateConfig } from '../../config/schema';
import { TokenVendingMachine } from '../../lib/token-vending-machine';
import { MODES, TEST_ENV } from './helpers';

type Resource = { Type: string; Properties: Record<string, unknown> };

describe('Construct: TokenVendingMachine — two instances in one stack', () => {
  const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Shared', { env: TEST_ENV });
  const config = policyOf(validateConfig(MODES.authorizer));
  const a = new TokenVendingMachine(stack, 'Internal', { config, waf: {} });
  const b = new TokenVendingMachine(stack, 'Partners', { config, waf: {}, ensureApiGatewayLogsRole: false });
  const resources = Object.entries(Template.fromStack(stack).toJSON().Resources as Record<string, Resource>);
  /** Resources under one instance (their logical ids start with its id). */
  const of = (prefix: string) => resources.filter(([id]) => id.startsWith(prefix)).map(([, r]) => r);
  const resolve = (v: unknown) => JSON.stringify(stack.resolve(v));

  it('derives each name from the construct path', () => {
    expect(a.serviceName).not.toEqual(b.serviceName);
    expect(a.serviceName).toMatch(/Internal/);
    expect(b.serviceName).toMatch(/Partners/);
  });

  it.each([
    ['AWS::ApiGateway::RestApi', (r: Resource) => r.Properties.Name],
    ['AWS::CloudWatch::Dashboard', (r: Resource) => r.Properties.DashboardName],
    [
      'AWS::Lambda::Function',
      (r: Resource) =>
        (r.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables
          ?.POWERTOOLS_SERVICE_NAME,
    ],
  ] as const)('gives each instance its own %s name', (type, nameOf) => {
    const names = (prefix: string) =>
      of(prefix)
        .filter((r) => r.Type === type)
        .map(nameOf)
        .filter((n) => n !== undefined)
        .map((n) => JSON.stringify(n));
    const [na, nb] = [names('Internal'), names('Partners')];
    expect(na.length).toBeGreaterThan(0);
    expect(nb.length).toBeGreaterThan(0);
    for (const n of na) expect(nb).not.toContain(n);
  });

  it('gives each web ACL its own metric names', () => {
    const metricNames = (prefix: string) =>
      of(prefix)
        .filter((r) => r.Type === 'AWS::WAFv2::WebACL')
        .flatMap((r) => [
          (r.Properties.VisibilityConfig as { MetricName: string }).MetricName,
          ...(r.Properties.Rules as { VisibilityConfig: { MetricName: string } }[]).map(
            (rule) => rule.VisibilityConfig.MetricName,
          ),
        ]);
    const [ma, mb] = [metricNames('Internal'), metricNames('Partners')];
    expect(ma).toHaveLength(3);
    expect(mb).toHaveLength(3);
    for (const m of ma) expect(mb).not.toContain(m);
    for (const m of ma) expect(m.startsWith(`${a.serviceName}-`)).toBe(true);
  });

  it('shares no alarm dimension: every alarm of one instance watches only its own API, functions and metrics', () => {
    const dimensions = (prefix: string) =>
      of(prefix)
        .filter((r) => r.Type === 'AWS::CloudWatch::Alarm')
        // A metric-math alarm (MintBudgetAlarm) carries its dimensions in its metrics.
        .map((r) =>
          JSON.stringify(
            r.Properties.Dimensions ??
              (r.Properties.Metrics as { MetricStat?: { Metric: { Dimensions: unknown } } }[]).flatMap((m) =>
                m.MetricStat ? [m.MetricStat.Metric.Dimensions] : [],
              ),
          ),
        );
    const [da, db] = [dimensions('Internal'), dimensions('Partners')];
    expect(da.length).toBe(Object.keys(a.alarms).length);
    expect(db.length).toBe(Object.keys(b.alarms).length);
    for (const d of da) expect(db).not.toContain(d);
    // And each dimension names its own instance: API name, function, or service.
    const own = [resolve(a.api.restApiName), resolve(a.vendingFunction.functionName), JSON.stringify(a.serviceName)];
    for (const d of da) expect(own.some((o) => d.includes(o.replace(/^"|"$/g, '')))).toBe(true);
  });
});
