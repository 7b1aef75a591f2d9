/**
 * The EMF metrics of the vending function, in one table: lambda/telemetry.ts emits them, lib/monitoring.ts builds
 * its alarms and dashboard from them, so the two sides cannot name a metric, a dimension or the default namespace
 * differently (test/infra/metrics.test.ts). All carry the `service` dimension; `MomentoErrors` also `kind`.
 */

/** CloudWatch namespace of the metrics when none is configured (`POWERTOOLS_METRICS_NAMESPACE`). */
export const DEFAULT_METRICS_NAMESPACE = 'MomentoTokenVendingMachine';

/** The metrics' dimension names. */
export const METRIC_DIMENSIONS = {
  /** Every metric: the TVM's name (`POWERTOOLS_SERVICE_NAME`), as Powertools Metrics names it. */
  service: 'service',
  /** `MomentoErrors` only: the kind of Momento failure (`MomentoFailure` of lambda/errors.ts). */
  kind: 'kind',
} as const;

/** The metric names. */
export const METRICS = {
  tokensIssued: 'TokensIssued',
  tokensReused: 'TokensReused',
  mintLatency: 'MintLatency',
  /** Every call to Momento's token API (issued or failed): the budget's use. */
  mintCalls: 'MintCalls',
  /** Momento answered RESOURCE_EXHAUSTED. */
  throttled: 'Throttled',
  /** The governor found no slot within the wait bound: 429 `mint-budget-exhausted`. */
  mintBudgetExhausted: 'MintBudgetExhausted',
  /** An older, still-valid token was served because no new one could be minted. */
  staleServed: 'StaleTokensServed',
  fleetCacheHits: 'FleetCacheHits',
  fleetCacheMisses: 'FleetCacheMisses',
  fleetCacheErrors: 'FleetCacheErrors',
  governorUnavailable: 'GovernorUnavailable',
  mintWait: 'MintWait',
  denied: 'Denied',
  errors: 'Errors',
  revocationCheckFailed: 'RevocationCheckFailed',
  revoked: 'Revoked',
  momentoErrors: 'MomentoErrors',
} as const;
