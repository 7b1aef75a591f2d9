/**
 * Lambda entry point of the authorizer (API Gateway REST `TOKEN` authorizer on `Authorization`).
 *
 * Everything is built once at module scope (cold start): the validated config, the JWT verifier (the JWKS is
 * fetched on the first token and cached), and, when API keys are on, a lazy reader of their secret.
 * A wrong or missing config fails here, loudly, before any request is answered.
 */
import { validateConfig } from '../config/schema';
import { createApiKeyStore, type ApiKeyStore } from './api-keys';
import { consoleLog, createAuthorizer } from './authorizer';
import { createExtensionSecretReader } from './secret-reader';

// `process.env.TVM_CONFIG` is replaced by the validated config at build time (lib/bundling.ts); locally it is
// read from the environment. It is validated again here with the same schema.
const configJson = process.env.TVM_CONFIG;
if (!configJson) throw new Error('TVM_CONFIG is not set: the authorizer has no configuration');
const config = validateConfig(JSON.parse(configJson));
if (config.auth.mode !== 'authorizer') {
  throw new Error(
    `The authorizer function needs auth.mode "authorizer", but the configuration says "${config.auth.mode}"`,
  );
}
const auth = config.auth;

let apiKeyStore: ApiKeyStore | undefined;
if (auth.apiKeys) {
  const secretId = process.env.TVM_API_KEYS_SECRET_ID;
  if (!secretId) throw new Error('auth.apiKeys is configured but TVM_API_KEYS_SECRET_ID is not set');
  const port = Number(process.env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT ?? 2773);
  apiKeyStore = createApiKeyStore(
    createExtensionSecretReader({ secretId, port, sessionToken: () => process.env.AWS_SESSION_TOKEN }),
  );
}

/** The Lambda handler. */
export const handler = createAuthorizer({ auth, apiKeyStore, log: consoleLog(config.logLevel) });
