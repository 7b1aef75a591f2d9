/**
 * Lambda entry point of the authorizer (API Gateway REST `TOKEN` authorizer on `Authorization`).
 *
 * Everything is built once at module scope (cold start): the validated config, the JWT verifier (the JWKS is
 * fetched on the first token and cached), and, when API keys are on, a lazy reader of their secret (Secrets
 * Manager's GetSecretValue, read on the first `ApiKey` request).
 * A wrong or missing config fails here, loudly, before any request is answered.
 */
import { validateAuthConfig } from '../config/auth-schema';
import { readSecretString } from '../common/secret-reader';
import { createApiKeyStore, type ApiKeyStore } from './api-keys';
import { consoleLog, createAuthorizer } from './authorizer';

// `process.env.TVM_CONFIG` is replaced by the validated config at build time (lib/bundling.ts); locally it is
// read from the environment. The whole file was validated at synth (and is by the vending function at its cold
// start); here its `auth` section is validated again with the same schema — the part this function uses — which
// keeps the rest of the schema out of this bundle's cold start.
const configJson = process.env.TVM_CONFIG;
if (!configJson) throw new Error('TVM_CONFIG is not set: the authorizer has no configuration');
const validated = validateAuthConfig((JSON.parse(configJson) as { auth?: unknown }).auth);
if (validated.mode !== 'authorizer') {
  throw new Error(
    `The authorizer function needs auth.mode "authorizer", but the configuration says "${validated.mode}"`,
  );
}
const auth = validated;
// The stack sets POWERTOOLS_LOG_LEVEL from config.logLevel for both functions.
const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR'] as const;
const logLevel = LOG_LEVELS.find((l) => l === process.env.POWERTOOLS_LOG_LEVEL) ?? 'INFO';

let apiKeyStore: ApiKeyStore | undefined;
if (auth.apiKeys) {
  const secretId = process.env.TVM_API_KEYS_SECRET_ID;
  if (!secretId) throw new Error('auth.apiKeys is configured but TVM_API_KEYS_SECRET_ID is not set');
  // Secrets Manager's GetSecretValue, through the reader the vending function uses too (common/secret-reader.ts).
  apiKeyStore = createApiKeyStore(() => readSecretString(secretId));
}

/** The Lambda handler. */
export const handler = createAuthorizer({ auth, apiKeyStore, log: consoleLog(logLevel) });
