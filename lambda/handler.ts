/**
 * Lambda entry point of the vending function. Builds every dependency once per container (module scope) and
 * hands them to `createVendHandler`; a missing or invalid configuration fails here, loudly, at init.
 */
import { readSealedFunctionConfig } from '../common/function-config';
import { openSealedConfig } from '../config/sealed';
import { awsJsonCall } from '../common/aws';
import { coalescingGetItems } from './dynamo-batch';
import { fleetFromEnv } from './fleet-env';
import { createGrpcMinter, secretsManagerKeySource } from './momento';
import { liveGroupsFromEnv, revocationFromEnv } from './revocation-env';
import { jsonTelemetry } from './telemetry';
import { createVendHandler } from './vend';

// The policy the construct validated, sealed and staged next to this bundle (common/function-config.ts). The seal
// is checked here without zod (config/sealed.ts), so a config this schema did not validate, or one changed since,
// fails the init closed.
const staged = readSealedFunctionConfig(__dirname);
const config = openSealedConfig(staged.text, staged.seal);
const secretId = process.env.TVM_SECRET_ID;
if (!secretId) throw new Error('TVM_SECRET_ID is not set: the vending function does not know where the Momento key is');

// Cognito mode: API Gateway accepts ID tokens of any app client in the pool; the stack names ours.
const cognitoClientIds = process.env.TVM_USER_POOL_CLIENT_IDS?.split(',').filter(Boolean);
if (config.auth.mode === 'cognito' && !cognitoClientIds?.length)
  throw new Error('TVM_USER_POOL_CLIENT_IDS is not set: cognito mode needs the app client ids it accepts');

// One DynamoDB round trip per request: the revocation record and the fleet's cached token are read together.
const dynamo = coalescingGetItems({ call: awsJsonCall });
// Revocation and live groups: fail here, at init, when enabled without their table / pool.
const revocation = revocationFromEnv(config, process.env, dynamo);
const liveGroups = liveGroupsFromEnv(config);

const telemetry = jsonTelemetry();
// One key source: the minter's key, and the key the fleet cache's seal is derived from.
const keySource = secretsManagerKeySource({ secretId });
const { fleet, governor } = fleetFromEnv(config, keySource, {
  call: dynamo,
  onGovernorUnavailable: (error) =>
    telemetry.note?.('mint governor unavailable', { error: error instanceof Error ? error.name : typeof error }),
});
const minter = createGrpcMinter({
  keySource,
  endpoint: config.momento.endpoint,
  deadlineMs: config.momento.deadlineMs,
  onEvent: (event) => telemetry.note?.('momento connection', { ...event }),
});

// Nothing is warmed up here: the first request reads the key and opens the TLS connection (`npm run bench`
// prints module init and the whole cold path, init + first request).

/** The Lambda handler for `GET /token`. */
export const handler = createVendHandler({
  config,
  minter,
  telemetry,
  cognitoClientIds,
  revocation,
  liveGroups,
  fleet,
  governor,
});
