/**
 * The `auth` part of the configuration schema; config/schema.ts composes it. Neither function bundles it: both
 * open the policy the construct validated and sealed (config/sealed.ts).
 */
import * as z from 'zod/mini';

/**
 * A customer managed KMS key that encrypts an imported secret (the function then gets `kms:Decrypt` on it, only
 * through Secrets Manager). Leave it out for the default `aws/secretsmanager` key.
 */
const kmsKeyArn = z.optional(
  z
    .string()
    .check(
      z.regex(
        /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/,
        'must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key id>), not an alias',
      ),
    ),
);

/**
 * A secret's complete ARN: Secrets Manager ends it with `-` and six random characters after the name. A partial
 * ARN (without them) would make the IAM grant guess; use `{ name }` for that.
 */
export const COMPLETE_SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+-[A-Za-z0-9]{6}$/;

/**
 * Where a secret lives: created by the stack (`{ create: true }`), or an existing one named explicitly —
 * `{ name }` (the stack's account and region) or `{ arn }` (the complete ARN, as the console shows it). Nothing
 * is guessed from the string.
 */
export const secretRef = z.union(
  [
    z.strictObject({ /** The stack creates an empty secret; you put the key into it. */ create: z.literal(true) }),
    z.strictObject({
      /** An existing secret in the stack's account and region, by name. */
      name: z
        .string()
        .check(
          z.minLength(1, 'must not be empty'),
          z.maxLength(512, 'must be at most 512 characters'),
          z.regex(/^[A-Za-z0-9/_+=.@-]+$/, 'may contain only letters, digits and / _ + = . @ -'),
        ),
      kmsKeyArn,
    }),
    z.strictObject({
      /** An existing secret, by its complete ARN (ending in `-` and six characters). */
      arn: z.string().check(
        z.regex(/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/, 'is not a Secrets Manager ARN'),
        // Checked only for Secrets Manager ARNs: for anything else the check above already says what is wrong.
        z.regex(
          new RegExp(`${COMPLETE_SECRET_ARN.source}|^(?!arn:aws[a-z-]*:secretsmanager:)`),
          'must be the complete ARN, ending in "-" and the six characters Secrets Manager adds (copy it from the console); or give { name }',
        ),
      ),
      kmsKeyArn,
    }),
  ],
  {
    error:
      'must be { create: true }, { name: "…" } or { arn: "arn:aws:secretsmanager:…-AbCdEf" } (the last two with an optional kmsKeyArn)',
  },
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
        .check(z.regex(/^[a-z]{2}(-[a-z]+)+-\d_[A-Za-z0-9]+$/, 'must look like us-east-1_AbCdEf123')),
      /** App client ids whose ID tokens the API accepts. */
      clientIds: z.array(z.string().check(z.minLength(1))).check(z.minLength(1)),
    }),
  ),
  /** Let anyone sign up (only for a pool the stack creates). @default false */
  selfSignUp: z._default(z.boolean(), false),
  /** Multi-factor authentication for a pool the stack creates. @default 'optional' */
  mfa: z._default(z.enum(['off', 'optional', 'required']), 'optional'),
  /** Claim used as `tokenId` and `{sub}`. @default 'sub' */
  tokenIdClaim: z._default(z.string().check(z.minLength(1, 'must name a claim')), 'sub'),
  /** Tier for signed-in users in no mapped group; unset → 403. */
  fallbackTier: z.optional(z.string()),
  /**
   * Read the user's current groups from Cognito (`AdminListGroupsForUser`) instead of trusting the ID token's
   * `cognito:groups`, so removing a user from a group changes their next Momento token within `cacheSeconds`
   * (not at ID token expiry). The user is found by `sub` (`ListUsers`), then `AdminListGroupsForUser`: two Cognito
   * calls per user per `cacheSeconds` per container, from quotas the account shares (docs/operations.md →
   * Revocation). @default off
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
  issuer: z.string().check(z.regex(/^https:\/\/\S+$/, 'must be an https URL')),
  /** Accepted audiences (`aud`, or `client_id` for access tokens without `aud`). */
  audience: z.array(z.string().check(z.minLength(1))).check(z.minLength(1, 'must list at least one value')),
  /** JWKS URI. @default `${issuer}/.well-known/jwks.json` */
  jwksUri: z.optional(z.string().check(z.regex(/^https:\/\/\S+$/, 'must be an https URL'))),
  /** Accepted signature algorithms. @default ['RS256'] */
  algorithms: z._default(z.array(z.enum(['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'EdDSA'])), ['RS256']),
  /** Claim holding the caller's groups (array or space/comma separated string). @default 'groups' */
  groupsClaim: z._default(z.string().check(z.minLength(1)), 'groups'),
  /** Claim used as `tokenId` and `{sub}`. @default 'sub' */
  tokenIdClaim: z._default(z.string().check(z.minLength(1, 'must name a claim')), 'sub'),
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
  error: 'must be "open", "cognito" or "authorizer"',
});

/** The validated `auth` section. */
export type AuthConfig = z.output<typeof authSchema>;
