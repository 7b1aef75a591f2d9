/**
 * Lambda entry point of the authorizer (API Gateway REST `TOKEN` authorizer on `Authorization`).
 *
 * Everything is built once at module scope (cold start): the validated config, the JWT verifier (the JWKS is
 * fetched on the first token and cached), and, when API keys are on, a lazy reader of their secret (Secrets
 * Manager's GetSecretValue, read on the first `ApiKey` request).
 * A wrong or missing config fails here, loudly, before any request is answered.
 */
import { validateAuthConfig } from '../config/auth-schema';
import { readFunctionConfig } from '../common/function-config';
import { readSecretString } from '../common/secret-reader';
import { createApiKeyStore, type ApiKeyStore } from './api-keys';
import { createAuthorizer, jsonLog } from './authorizer';

// The policy the construct staged next to this bundle (common/function-config.ts). The whole policy was validated
// at synth (and is by the vending function at its cold start); here its `auth` section is validated again with
// the same schema — the part this function uses — which keeps the rest of the schema out of this bundle's cold
// start.
const validated = validateAuthConfig((readFunctionConfig(__dirname) as { auth?: unknown } | null)?.auth);
if (validated.mode !== 'authorizer') {
  throw new Error(
    `The authorizer function needs auth.mode "authorizer", but the configuration says "${validated.mode}"`,
  );
}
const auth = validated;

let apiKeyStore: ApiKeyStore | undefined;
if (auth.apiKeys) {
  const secretId = process.env.TVM_API_KEYS_SECRET_ID;
  if (!secretId) throw new Error('auth.apiKeys is configured but TVM_API_KEYS_SECRET_ID is not set');
  // Secrets Manager's GetSecretValue, through the reader the vending function uses too (common/secret-reader.ts).
  apiKeyStore = createApiKeyStore(() => readSecretString(secretId));
}

/** The Lambda handler. */
// Logs as the vending function does (common/log.ts): POWERTOOLS_SERVICE_NAME and POWERTOOLS_LOG_LEVEL from the stack.
export const handler = createAuthorizer({ auth, apiKeyStore, log: jsonLog() });
