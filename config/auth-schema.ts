/**
 * The `auth` part of the configuration schema. Its own module so the authorizer function can validate its
 * section at cold start without building (or bundling) the rest of the schema; config/schema.ts composes it.
 */
import * as z from 'zod/mini';
import { parseConfig } from './parse';

/** Where a secret lives: created by the stack, or an existing one by name or ARN. */
export const secretRef = z.union(
  [
    z.strictObject({ /** The stack creates an empty secret; you put the key into it. */ create: z.literal(true) }),
    z.strictObject({ /** An existing secret, by name. */ name: z.string().check(z.minLength(1)) }),
    z.strictObject({
      /** An existing secret, by ARN. */
      arn: z
        .string()
        .check(
          z.regex(
            /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/,
            'secret arn is not a Secrets Manager ARN',
          ),
        ),
    }),
  ],
  { error: 'secret must be { create: true }, { name: "…" } or { arn: "arn:aws:secretsmanager:…" }' },
);

const openAuth = z.strictObject({
  mode: z.literal('open'),
  /** Open mode hands tokens to anyone who can reach the URL: it must be written out. */
  allowUnauthenticated: z.literal(true, { error: 'open mode needs allowUnauthenticated: true, written out' }),
  /** The tier every caller gets. */
  anonymousTier: z.string(),
});

const cognitoAuth = z.strictObject({
  mode: z.literal('cognito'),
  /** Use an existing user pool instead of creating one. @default a new pool */
  existingUserPool: z.optional(
    z.strictObject({
      userPoolId: z
        .string()
        .check(z.regex(/^[a-z]{2}(-[a-z]+)+-\d_[A-Za-z0-9]+$/, 'userPoolId looks like us-east-1_AbCdEf123')),
      /** App client ids whose ID tokens the API accepts. */
      clientIds: z.array(z.string().check(z.minLength(1))).check(z.minLength(1)),
    }),
  ),
  /** Let anyone sign up (only for a pool the stack creates). @default false */
  selfSignUp: z._default(z.boolean(), false),
  /** Multi-factor authentication for a pool the stack creates. @default 'optional' */
  mfa: z._default(z.enum(['off', 'optional', 'required']), 'optional'),
  /** Claim used as `tokenId` and `{sub}`. @default 'sub' */
  tokenIdClaim: z._default(z.string().check(z.minLength(1, 'tokenIdClaim must name a claim')), 'sub'),
  /** Tier for signed-in users in no mapped group; unset → 403. */
  fallbackTier: z.optional(z.string()),
  /**
   * Read the user's current groups from Cognito (`AdminListGroupsForUser`) instead of trusting the ID token's
   * `cognito:groups`, so removing a user from a group changes their next Momento token within `cacheSeconds`
   * (not at ID token expiry). Costs one Cognito call per user per `cacheSeconds` per container; Cognito's
   * quota for that call is shared by the account (see README → Revocation). @default off
   */
  liveGroups: z.optional(
    z.strictObject({
      /** Seconds a container reuses one user's groups. @default 5 */
      cacheSeconds: z._default(z.number().check(z.int(), z.gte(0), z.lte(300)), 5),
    }),
  ),
});

const authorizerAuth = z.strictObject({
  mode: z.literal('authorizer'),
  /** The OIDC issuer of the JWTs, e.g. https://example.eu.auth0.com/ */
  issuer: z.string().check(z.regex(/^https:\/\/\S+$/, 'issuer must be an https URL')),
  /** Accepted audiences (`aud`, or `client_id` for access tokens without `aud`). */
  audience: z.array(z.string().check(z.minLength(1))).check(z.minLength(1, 'audience must list at least one value')),
  /** JWKS URI. @default `${issuer}/.well-known/jwks.json` */
  jwksUri: z.optional(z.string().check(z.regex(/^https:\/\/\S+$/, 'jwksUri must be an https URL'))),
  /** Accepted signature algorithms. @default ['RS256'] */
  algorithms: z._default(z.array(z.enum(['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'EdDSA'])), ['RS256']),
  /** Claim holding the caller's groups (array or space/comma separated string). @default 'groups' */
  groupsClaim: z._default(z.string().check(z.minLength(1)), 'groups'),
  /** Claim used as `tokenId` and `{sub}`. @default 'sub' */
  tokenIdClaim: z._default(z.string().check(z.minLength(1, 'tokenIdClaim must name a claim')), 'sub'),
  /** Claims forwarded to the vending function for `{claims.x}` templates. @default [] */
  forwardClaims: z._default(z.array(z.string()), []),
  /**
   * Seconds API Gateway caches an authorizer decision (keyed by the credential); 0 disables. A cached Allow
   * outlives the JWT's `exp` and an API key's revocation by up to this long, so keep it short. @default 60
   */
  resultCacheTtlSeconds: z._default(z.number().check(z.int(), z.gte(0), z.lte(3600)), 60),
  /** Tier for verified callers in no mapped group; unset → 403. */
  fallbackTier: z.optional(z.string()),
  /** Static API keys for server-to-server callers, stored hashed in a secret. @default off */
  apiKeys: z.optional(z.strictObject({ secret: secretRef })),
});

/** How callers prove who they are: open, cognito or authorizer. */
export const authSchema = z.discriminatedUnion('mode', [openAuth, cognitoAuth, authorizerAuth], {
  error: 'auth.mode must be "open", "cognito" or "authorizer"',
});

/** The validated `auth` section. */
export type AuthConfig = z.output<typeof authSchema>;

/** Validates only the `auth` section (the authorizer's cold start); the whole file was validated at synth. */
export function validateAuthConfig(input: unknown): AuthConfig {
  return parseConfig(authSchema, input, 'auth');
}
