/**
 * Authentication of `GET /token`, per `auth.mode` of the policy: a Cognito user pool (created, imported by id, or
 * the consumer's own pool given as a prop) with API Gateway's Cognito authorizer, or a Lambda TOKEN authorizer
 * that verifies bearer JWTs of any OIDC issuer (and optionally API keys).
 */
import {
  Aws,
  CfnRule,
  Duration,
  Fn,
  Token,
  RemovalPolicy,
  Stack,
  Validations,
  aws_apigateway as apigw,
  aws_cognito as cognito,
} from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { ResolvedPolicy } from '../config/schema';
import { RETAIN_EXCEPT_ON_CREATE } from './functions';

/** The cognito section of a policy. */
export type CognitoAuth = Extract<ResolvedPolicy['auth'], { mode: 'cognito' }>;

/**
 * API Gateway's pre-check of the `Authorization` header in authorizer mode: the schemes authorizers/verify.ts
 * (`parseAuthorization`) accepts, case-insensitively (`Bearer`, `bearer`, `APIKEY`, …), spaces, and a
 * credential. Anything else is answered 401 without invoking the authorizer.
 */
export const AUTHORIZATION_VALIDATION_REGEX = '^([Bb][Ee][Aa][Rr][Ee][Rr]|[Aa][Pp][Ii][Kk][Ee][Yy]) +\\S+$';

/** A user pool given by id in the policy (`auth.existingUserPool`), imported as `UserPool`. */
export function importUserPool(scope: Construct, userPoolId: string): cognito.IUserPool {
  // A pool id starts with its region (us-east-1_AbC…), which need not be the stack's.
  const poolArn = Stack.of(scope).formatArn({
    service: 'cognito-idp',
    region: userPoolId.split('_')[0],
    resource: 'userpool',
    resourceName: userPoolId,
  });
  return cognito.UserPool.fromUserPoolArn(scope, 'UserPool', poolArn);
}

/** Partitions without Cognito user pools (the China regions, cn-north-1 and cn-northwest-1). */
export const PARTITIONS_WITHOUT_USER_POOLS = ['aws-cn'] as const;

/**
 * Refuses Cognito mode where Cognito user pools do not exist. A literal region is checked at synth; a
 * region-agnostic stack gets a template rule, so CloudFormation refuses the stack before creating anything.
 *
 * @throws Error for a stack in a China region
 */
export function assertCognitoAvailable(scope: Construct): void {
  const stack = Stack.of(scope);
  if (!Token.isUnresolved(stack.region)) {
    if (stack.region.startsWith('cn-'))
      throw new Error(
        `auth.mode "cognito" is not available in ${stack.region}: the China regions have no Cognito user pools. Use auth.mode "authorizer" with an OIDC issuer there.`,
      );
    return;
  }
  if (stack.node.tryFindChild('CognitoAvailable')) return;
  new CfnRule(stack, 'CognitoAvailable', {
    assertions: [
      {
        assert: Fn.conditionNot(Fn.conditionEquals(Aws.PARTITION, PARTITIONS_WITHOUT_USER_POOLS[0])),
        assertDescription:
          'auth.mode "cognito" is not available in the China regions (no Cognito user pools): use auth.mode "authorizer".',
      },
    ],
  });
}

/** API Gateway's Cognito authorizer (`UserPoolAuthorizer`) for a pool. */
export function userPoolAuthorizer(scope: Construct, pool: cognito.IUserPool): apigw.CognitoUserPoolsAuthorizer {
  assertCognitoAvailable(scope);
  return new apigw.CognitoUserPoolsAuthorizer(scope, 'UserPoolAuthorizer', {
    cognitoUserPools: [pool],
    identitySource: apigw.IdentitySource.header('Authorization'),
  });
}

/** The Lambda TOKEN authorizer (`TokenAuthorizer`) in front of `GET /token`, in authorizer mode. */
export function tokenAuthorizer(
  scope: Construct,
  handler: apigw.TokenAuthorizerProps['handler'],
  resultCacheTtlSeconds: number,
): apigw.TokenAuthorizer {
  return new apigw.TokenAuthorizer(scope, 'TokenAuthorizer', {
    handler,
    identitySource: apigw.IdentitySource.header('Authorization'),
    // Junk that can never verify is refused with 401 by API Gateway, without invoking (and paying for) the
    // authorizer; the authorizer still checks everything itself.
    // The scheme is case-insensitive, as in authorizers/verify.ts (parseAuthorization); one space, then a
    // credential without spaces.
    validationRegex: AUTHORIZATION_VALIDATION_REGEX,
    resultsCacheTtl: Duration.seconds(resultCacheTtlSeconds),
  });
}

/**
 * A user pool for the TVM's users and its public SPA client (`UserPool`, `UserPoolWebClient`, and one group per
 * group a tier names), in `scope`.
 */
export function createUserPool(
  scope: Construct,
  auth: CognitoAuth,
  tiers: ResolvedPolicy['tiers'],
  options: { featurePlan?: cognito.FeaturePlan; removalPolicy?: RemovalPolicy },
): { pool: cognito.UserPool; client: cognito.UserPoolClient } {
  assertCognitoAvailable(scope);
  const plan = options.featurePlan ?? cognito.FeaturePlan.ESSENTIALS;
  const removalPolicy = options.removalPolicy ?? RETAIN_EXCEPT_ON_CREATE;
  const mfa = { off: cognito.Mfa.OFF, optional: cognito.Mfa.OPTIONAL, required: cognito.Mfa.REQUIRED }[auth.mfa];
  const pool = new cognito.UserPool(scope, 'UserPool', {
    selfSignUpEnabled: auth.selfSignUp,
    signInAliases: { email: true },
    signInCaseSensitive: false,
    autoVerify: { email: true },
    keepOriginal: { email: true },
    standardAttributes: { email: { required: true, mutable: true } },
    passwordPolicy: {
      minLength: 12,
      requireLowercase: true,
      requireUppercase: true,
      requireDigits: true,
      requireSymbols: true,
      tempPasswordValidity: Duration.days(3),
    },
    mfa,
    // TOTP only: SMS would need an SNS role, spending limits and origination numbers.
    mfaSecondFactor: mfa === cognito.Mfa.OFF ? undefined : { sms: false, otp: true },
    accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
    featurePlan: plan,
    standardThreatProtectionMode:
      plan === cognito.FeaturePlan.PLUS ? cognito.StandardThreatProtectionMode.FULL_FUNCTION : undefined,
    // Off: Cognito refuses to delete a protected pool, so a failed first create could not roll back
    // (ROLLBACK_FAILED). RetainExceptOnCreate already keeps a pool that deployed once: on destroy or replacement
    // CloudFormation never calls DeleteUserPool.
    deletionProtection: false,
    removalPolicy,
  });
  if (auth.mfa !== 'required') {
    Validations.of(pool).acknowledge({
      id: 'AwsSolutions-COG2',
      reason: `MFA is "${auth.mfa}" by config (auth.mfa); users can enrol TOTP. Set auth.mfa: "required" to enforce it.`,
    });
  }
  if (plan !== cognito.FeaturePlan.PLUS) {
    Validations.of(pool).acknowledge({
      id: 'AwsSolutions-COG8',
      reason:
        'Threat protection needs the PLUS feature plan, billed per monthly active user; opt in with the userPoolFeaturePlan prop.',
    });
  }
  const client = pool.addClient('WebClient', {
    // A browser app cannot keep a secret.
    generateSecret: false,
    authFlows: { userSrp: true },
    preventUserExistenceErrors: true,
    enableTokenRevocation: true,
    idTokenValidity: Duration.hours(1),
    accessTokenValidity: Duration.hours(1),
    refreshTokenValidity: Duration.days(30),
    // No hosted UI / OAuth redirect flows (CDK would otherwise default to example.com callbacks).
    disableOAuth: true,
    // Users may edit their profile, but nothing a tier could template: no custom attributes (so
    // {claims.custom:x} stays admin-controlled), no phone/preferred_username. Email (sign-in and identity)
    // only with self sign-up: SignUp must write every attribute the pool requires, and a changed email is
    // verified before it counts (keepOriginal).
    writeAttributes: new cognito.ClientAttributes().withStandardAttributes({
      fullname: true,
      givenName: true,
      familyName: true,
      nickname: true,
      locale: true,
      timezone: true,
      email: auth.selfSignUp,
    }),
  });
  // Kept with the pool: a kept pool without its client and groups would have no sign-in and no tier memberships.
  client.applyRemovalPolicy(removalPolicy);
  const groups = new Map<string, string[]>();
  for (const tier of tiers) for (const g of tier.groups) groups.set(g, [...(groups.get(g) ?? []), tier.name]);
  for (const [groupName, tiers] of groups) {
    // Keyed by name so reordering tiers never replaces (and empties) a group.
    const group = new cognito.CfnUserPoolGroup(scope, `Group-${encodeURIComponent(groupName)}`, {
      userPoolId: pool.userPoolId,
      groupName,
      description: `Grants token vending machine tier${tiers.length > 1 ? 's' : ''} ${tiers.join(', ')}`.slice(0, 2048),
    });
    group.applyRemovalPolicy(removalPolicy);
  }
  return { pool, client };
}
