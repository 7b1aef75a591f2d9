/**
 * Builds the fleet's token cache and the mint governor from the function's environment, once per container
 * (lambda/handler.ts; the integration tests and the storm bench call the same function with a local environment).
 * Both live in the token table `TVM_FLEET_TABLE`; without it the function keeps its per-container cache and mints
 * ungoverned (what a construct without the table, or the bench's "off" run, does).
 */
import { awsJsonCall, type AwsJsonCall } from '../common/aws';
import type { ResolvedPolicy } from '../config/schema';
import { dynamoFleetTokenStore, type FleetTokenStore } from './fleet-tokens';
import { dynamoMintGovernor, type MintGovernor } from './mint-governor';
import type { KeySource } from './types';

type Env = Readonly<Record<string, string | undefined>>;

/** What {@link fleetFromEnv} builds. */
export interface FleetDeps {
  readonly fleet?: FleetTokenStore;
  readonly governor?: MintGovernor;
}

/**
 * The fleet cache (when `tokenCache.enabled` and `tokenCache.fleet`) and the governor, reading `TVM_FLEET_TABLE`;
 * nothing when the variable is unset.
 *
 * @param call sends DynamoDB calls; the handler passes the coalescing one shared with the revocation lookup
 */
export function fleetFromEnv(
  config: ResolvedPolicy,
  keySource: KeySource,
  options: {
    env?: Env;
    call?: (c: AwsJsonCall) => Promise<unknown>;
    onGovernorUnavailable?: (error: unknown) => void;
  } = {},
): FleetDeps {
  const env = options.env ?? process.env;
  const tableName = env.TVM_FLEET_TABLE;
  if (!tableName) return {};
  const call = options.call ?? ((c: AwsJsonCall) => awsJsonCall({ ...c, env }));
  const caching = config.tokenCache.enabled && config.tokenCache.fleet;
  return {
    ...(caching ? { fleet: dynamoFleetTokenStore({ tableName, keySource, call }) } : {}),
    governor: dynamoMintGovernor({
      tableName,
      mintsPerSecond: config.momento.mintsPerSecond,
      call,
      onUnavailable: options.onGovernorUnavailable,
    }),
  };
}
