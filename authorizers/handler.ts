/**
 * Lambda entry point of the authorizer (API Gateway REST `TOKEN` authorizer on `Authorization`).
 *
 * Everything is built once at module scope (cold start): the policy, the JWT verifier (the JWKS is fetched on the
 * first token and cached), and, when API keys are on, a lazy reader of their secret (Secrets Manager's
 * GetSecretValue, read on the first `ApiKey` request).
 * A missing, unsealed, changed or foreign config fails here, loudly, before any request is answered.
 */
import { readSealedFunctionConfig } from '../common/function-config';
import { openSealedConfig } from '../config/sealed';
import { readSecretString } from '../common/secret-reader';
import { createApiKeyStore, type ApiKeyStore } from './api-keys';
import { createAuthorizer, jsonLog } from './authorizer';

// The policy the construct validated, sealed and staged next to this bundle (common/function-config.ts), opened as
// the vending function opens it (config/sealed.ts): the seal says this schema validated exactly this text, so the
// authorizer carries no schema code on its cold start (docs/decisions.md, D33).
const staged = readSealedFunctionConfig(__dirname);
const validated = openSealedConfig(staged.text, staged.seal).auth;
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
