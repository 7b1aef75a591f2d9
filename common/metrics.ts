/**
 * The EMF metrics of the vending function, in one table: lambda/telemetry.ts emits them, lib/monitoring.ts builds
 * its alarms and dashboard from them, so the two sides cannot name a metric differently. All carry the `service`
 * dimension; `MomentoErrors` also `kind`.
 */
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
