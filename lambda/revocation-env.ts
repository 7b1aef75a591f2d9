/**
 * Builds the revocation check and live groups from the function's environment, once per container
 * (lambda/handler.ts; the integration tests call the same functions with a local environment).
 * Both read AWS through common/aws: a signed request on a keep-alive socket, no SDK client loaded at init.
 */
import { awsJsonCall, type AwsJsonCall } from '../common/aws';
import type { ResolvedPolicy } from '../config/schema';
import { cognitoGroupSource, LiveGroups } from './live-groups';
import { RevocationCheck } from './revocation';
import { dynamoRevocationStore } from './revocation-dynamodb';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * The revocation check when `revocation.enabled` (cognito and authorizer modes), reading `TVM_REVOCATION_TABLE`;
 * undefined in open mode or when disabled.
 *
 * @throws Error when revocation is enabled and the table is not named (fail at init, loudly)
 */
export function revocationFromEnv(
  config: ResolvedPolicy,
  env: Env = process.env,
  call: (c: AwsJsonCall) => Promise<unknown> = (c) => awsJsonCall({ ...c, env }),
): RevocationCheck | undefined {
  const rc = config.revocation;
  if (!rc.enabled || config.auth.mode === 'open') return undefined;
  const tableName = env.TVM_REVOCATION_TABLE;
  if (!tableName)
    throw new Error('TVM_REVOCATION_TABLE is not set: revocation is enabled but the function has no table to check');
  return new RevocationCheck({
    store: dynamoRevocationStore({ tableName, call }),
    cacheSeconds: rc.cacheSeconds,
    failOpen: rc.failOpen,
  });
}

/**
 * Live groups when `auth.liveGroups` is set (cognito mode), reading `TVM_USER_POOL_ID`; undefined otherwise.
 *
 * @throws Error when liveGroups is on and the pool is not named
 */
export function liveGroupsFromEnv(config: ResolvedPolicy, env: Env = process.env): LiveGroups | undefined {
  const lg = config.auth.mode === 'cognito' ? config.auth.liveGroups : undefined;
  if (!lg) return undefined;
  const userPoolId = env.TVM_USER_POOL_ID;
  if (!userPoolId)
    throw new Error('TVM_USER_POOL_ID is not set: auth.liveGroups needs the user pool to read groups from');
  return new LiveGroups({
    source: cognitoGroupSource({ userPoolId, call: (c) => awsJsonCall({ ...c, env }) }),
    cacheSeconds: lg.cacheSeconds,
  });
}
