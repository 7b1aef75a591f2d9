/** Authentication wiring per `auth.mode`: open, cognito (new and existing pool), Lambda authorizer. */
import { aws_cognito as cognito } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import fc from 'fast-check';
import { parseAuthorization } from '../../authorizers/verify';
import { AUTHORIZATION_VALIDATION_REGEX } from '../../lib/token-vending-machine';
import { MODES, onlyResource, resourcesOf, synth, tvmFunctions } from './helpers';

const getMethod = (httpMethod: string) => ({
  HttpMethod: httpMethod,
  ResourceId: { Ref: Match.stringLikeRegexp('Apitoken') },
});

describe('Construct: TokenVendingMachine — open mode', () => {
  const s = synth(MODES.open);

  it('serves GET /token without an authorizer, through the vending function (Lambda proxy)', () => {
    s.template.resourceCountIs('AWS::ApiGateway::Authorizer', 0);
    s.template.hasResourceProperties('AWS::ApiGateway::Method', {
      ...getMethod('GET'),
      AuthorizationType: 'NONE',
      AuthorizerId: Match.absent(),
      Integration: {
        Type: 'AWS_PROXY',
        Uri: Match.objectLike({
          'Fn::Join': Match.arrayWith([
            Match.arrayWith([{ 'Fn::GetAtt': [Match.stringLikeRegexp('VendingFunction'), 'Arn'] }]),
          ]),
        }),
      },
    });
    expect(tvmFunctions(s.template).map(([id]) => id)).toEqual([expect.stringMatching(/VendingFunction/)]);
  });

  it('warns at synth that anyone can mint tokens, and that there is no WAF', () => {
    const annotations = Annotations.fromStack(s.stack);
    annotations.hasWarning(
      '/TestTvm/TokenVendingMachine',
      Match.stringLikeRegexp('Open mode: anyone .* "public" token'),
    );
    annotations.hasWarning('/TestTvm/TokenVendingMachine', Match.stringLikeRegexp('Open mode without WAF'));
  });

  it('does not warn about a missing WAF when one is configured', () => {
    const annotations = Annotations.fromStack(synth(MODES.waf).stack);
    annotations.hasWarning('/TestTvm/TokenVendingMachine', Match.stringLikeRegexp('Open mode: anyone'));
    annotations.hasNoWarning('/TestTvm/TokenVendingMachine', Match.stringLikeRegexp('without WAF'));
  });
});

describe('Construct: TokenVendingMachine — cognito mode, new user pool', () => {
  const s = synth(MODES.cognito);

  it('creates a hardened pool: email sign-in, no self sign-up, strong passwords, TOTP MFA per config, email-only recovery, retained except on a failed create', () => {
    s.template.hasResource('AWS::Cognito::UserPool', {
      DeletionPolicy: 'RetainExceptOnCreate',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({
        AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
        UsernameAttributes: ['email'],
        Policies: {
          PasswordPolicy: {
            MinimumLength: 12,
            RequireLowercase: true,
            RequireUppercase: true,
            RequireNumbers: true,
            RequireSymbols: true,
            TemporaryPasswordValidityDays: 3,
          },
        },
        MfaConfiguration: 'OPTIONAL',
        EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
        AccountRecoverySetting: { RecoveryMechanisms: [{ Name: 'verified_email', Priority: 1 }] },
        // Off, or a failed first create could not roll back (Cognito refuses to delete a protected pool).
        DeletionProtection: 'INACTIVE',
        UserPoolTier: 'ESSENTIALS',
        UserPoolName: Match.absent(),
      }),
    });
  });

  it('creates a public SPA client: no secret, SRP + refresh, no user-existence leaks, 1 h ID token, 30 d refresh, no OAuth', () => {
    s.template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      GenerateSecret: false,
      ExplicitAuthFlows: ['ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
      PreventUserExistenceErrors: 'ENABLED',
      IdTokenValidity: 60,
      RefreshTokenValidity: 30 * 24 * 60,
      TokenValidityUnits: Match.objectLike({ IdToken: 'minutes', RefreshToken: 'minutes' }),
      AllowedOAuthFlowsUserPoolClient: false,
      CallbackURLs: Match.absent(),
    });
  });

  it('creates exactly one group per distinct group named in the tiers', () => {
    const groups = resourcesOf(s.template, 'AWS::Cognito::UserPoolGroup').map(([, r]) => r.Properties?.GroupName);
    expect(groups.sort()).toEqual(['admins', 'members', 'staff']);
    s.template.hasResourceProperties('AWS::Cognito::UserPoolGroup', {
      GroupName: 'members',
      Description: 'Grants token vending machine tiers member, reader',
      UserPoolId: { Ref: Match.stringLikeRegexp('UserPool') },
    });
  });

  it('guards GET /token with a Cognito authorizer on the Authorization header', () => {
    const [authorizerId] = onlyResource(s.template, 'AWS::ApiGateway::Authorizer');
    s.template.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      Type: 'COGNITO_USER_POOLS',
      IdentitySource: 'method.request.header.Authorization',
      ProviderARNs: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('UserPool'), 'Arn'] }],
    });
    s.template.hasResourceProperties('AWS::ApiGateway::Method', {
      ...getMethod('GET'),
      AuthorizationType: 'COGNITO_USER_POOLS',
      AuthorizerId: { Ref: authorizerId },
    });
  });

  it('tells the vending function which app client ids the API is for', () => {
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ TVM_USER_POOL_CLIENT_IDS: { Ref: Match.stringLikeRegexp('WebClient') } }),
      },
    });
  });

  it('outputs the pool id, client id and region for the front end', () => {
    s.template.hasOutput('UserPoolId', { Value: { Ref: Match.stringLikeRegexp('UserPool') } });
    s.template.hasOutput('UserPoolClientId', { Value: { Ref: Match.stringLikeRegexp('WebClient') } });
    s.template.hasOutput('Region', { Value: { Ref: 'AWS::Region' } });
  });

  it('requires MFA and turns on threat protection when asked', () => {
    const strict = synth(
      { ...MODES.cognito, auth: { mode: 'cognito', mfa: 'required' } },
      { tvm: { userPoolFeaturePlan: cognito.FeaturePlan.PLUS } },
    );
    strict.template.hasResourceProperties('AWS::Cognito::UserPool', {
      MfaConfiguration: 'ON',
      UserPoolTier: 'PLUS',
      UserPoolAddOns: { AdvancedSecurityMode: 'ENFORCED' },
    });
  });
});

describe('Construct: TokenVendingMachine — cognito mode, existing user pool', () => {
  const s = synth(MODES.cognitoExisting);

  it('creates no pool, client or group and points the authorizer at the existing pool', () => {
    s.template.resourceCountIs('AWS::Cognito::UserPool', 0);
    s.template.resourceCountIs('AWS::Cognito::UserPoolClient', 0);
    s.template.resourceCountIs('AWS::Cognito::UserPoolGroup', 0);
    s.template.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      Type: 'COGNITO_USER_POOLS',
      ProviderARNs: ['arn:aws:cognito-idp:us-west-2:123456789012:userpool/us-west-2_AbCdEf123'],
    });
    s.template.hasResourceProperties('AWS::ApiGateway::Method', {
      ...getMethod('GET'),
      AuthorizationType: 'COGNITO_USER_POOLS',
    });
  });

  it('takes the pool region from the pool id, not from the stack', () => {
    const other = synth({
      ...MODES.cognitoExisting,
      auth: { mode: 'cognito', existingUserPool: { userPoolId: 'eu-central-1_XyZ987', clientIds: ['c'] } },
    });
    other.template.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      ProviderARNs: ['arn:aws:cognito-idp:eu-central-1:123456789012:userpool/eu-central-1_XyZ987'],
    });
  });

  it('passes the configured client ids and outputs them', () => {
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ TVM_USER_POOL_CLIENT_IDS: 'client-a,client-b' }) },
    });
    s.template.hasOutput('UserPoolId', { Value: 'us-west-2_AbCdEf123' });
    s.template.hasOutput('UserPoolClientIds', { Value: 'client-a,client-b' });
  });
});

describe('Construct: TokenVendingMachine — authorizer mode', () => {
  const s = synth(MODES.authorizer);

  it('guards GET /token with a TOKEN authorizer on Authorization, cached per config', () => {
    const [authorizerId] = onlyResource(s.template, 'AWS::ApiGateway::Authorizer');
    s.template.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      Type: 'TOKEN',
      IdentitySource: 'method.request.header.Authorization',
      IdentityValidationExpression: AUTHORIZATION_VALIDATION_REGEX,
      AuthorizerResultTtlInSeconds: 120,
      AuthorizerUri: Match.objectLike({
        'Fn::Join': Match.arrayWith([
          Match.arrayWith([{ 'Fn::GetAtt': [Match.stringLikeRegexp('AuthorizerFunction'), 'Arn'] }]),
        ]),
      }),
    });
    s.template.hasResourceProperties('AWS::ApiGateway::Method', {
      ...getMethod('GET'),
      AuthorizationType: 'CUSTOM',
      AuthorizerId: { Ref: authorizerId },
    });
    s.template.resourceCountIs('AWS::Cognito::UserPool', 0);
  });

  it('runs the authorizer function on nodejs24.x arm64 with 256 MB and 5 s', () => {
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('authorizer'),
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      MemorySize: 256,
      Timeout: 5,
      Environment: {
        Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'TestTvm', TVM_API_KEYS_SECRET_ID: Match.absent() }),
      },
    });
  });

  it('gives the authorizer function no secret access when API keys are off', () => {
    const authorizerPolicy = resourcesOf(s.template, 'AWS::IAM::Policy').find(([id]) =>
      id.includes('AuthorizerFunctionRole'),
    );
    expect(authorizerPolicy).toBeDefined();
    expect(JSON.stringify(authorizerPolicy)).not.toContain('secretsmanager');
    s.template.resourceCountIs('AWS::SecretsManager::Secret', 1);
  });

  it('lets API Gateway invoke the authorizer only through this authorizer', () => {
    s.template.hasResourceProperties('AWS::Lambda::Permission', {
      FunctionName: { 'Fn::GetAtt': [Match.stringLikeRegexp('AuthorizerFunction'), 'Arn'] },
      Principal: 'apigateway.amazonaws.com',
      SourceArn: Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith(['/authorizers/'])]) }),
    });
  });
});

describe('Construct: TokenVendingMachine — authorizer mode with API keys', () => {
  const s = synth(MODES.authorizerApiKeys);
  const secrets = resourcesOf(s.template, 'AWS::SecretsManager::Secret').map(([id]) => id);
  const apiKeysSecret = secrets.find((id) => id.includes('ApiKeys'));
  const momentoSecret = secrets.find((id) => id.includes('MomentoApiKey'));

  it('creates an empty API-keys secret and passes its ARN to the authorizer only', () => {
    expect(apiKeysSecret).toBeDefined();
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('authorizer'),
      Environment: { Variables: Match.objectLike({ TVM_API_KEYS_SECRET_ID: { Ref: apiKeysSecret } }) },
    });
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('mints'),
      Environment: {
        Variables: Match.objectLike({ TVM_SECRET_ID: { Ref: momentoSecret }, TVM_API_KEYS_SECRET_ID: Match.absent() }),
      },
    });
    s.template.hasOutput('ApiKeysSecretArn', { Value: { Ref: apiKeysSecret } });
  });

  it('lets the authorizer read exactly the API-keys secret and nothing else from Secrets Manager', () => {
    const [, policy] =
      resourcesOf(s.template, 'AWS::IAM::Policy').find(([id]) => id.includes('AuthorizerFunctionRole')) ?? [];
    const statements = (policy?.Properties?.PolicyDocument as { Statement: { Action: unknown; Resource: unknown }[] })
      .Statement;
    const sm = statements.filter((st) => JSON.stringify(st.Action).includes('secretsmanager'));
    expect(sm).toEqual([
      expect.objectContaining({ Action: 'secretsmanager:GetSecretValue', Resource: { Ref: apiKeysSecret } }),
    ]);
  });
});

describe('Construct: TokenVendingMachine — TOKEN authorizer pre-check', () => {
  // API Gateway refuses a header that fails the regex with 401 before invoking the authorizer, so the regex must
  // accept everything the authorizer's parser accepts (case-insensitive schemes, RFC 9110) and may refuse the rest.
  const regex = new RegExp(AUTHORIZATION_VALIDATION_REGEX);
  const parses = (value: string): boolean => {
    try {
      parseAuthorization(value);
      return true;
    } catch {
      return false;
    }
  };

  it.each([
    'Bearer eyJ.a.b',
    'bearer eyJ.a.b',
    'BEARER eyJ.a.b',
    'bEaReR x',
    'ApiKey id.secret',
    'apikey id.secret',
    'APIKEY id.secret',
    'Bearer  two-spaces',
    'Basic dXNlcjpwYXNz',
    'Bearer',
    'Bearer ',
    'Bearer a b',
    'Bearer\tx',
    'Token x',
    'eyJ.a.b',
  ])('agrees with parseAuthorization on %j', (value) => {
    expect(regex.test(value)).toBe(parses(value));
  });

  it('agrees with parseAuthorization on generated headers', () => {
    const chars = fc.constantFrom(...'BearERapiKEYkyx. \t-');
    fc.assert(
      fc.property(fc.string({ unit: chars, maxLength: 20 }), (value) => {
        const trimmed = value.trim(); // API Gateway, like any HTTP server, strips surrounding whitespace
        expect(regex.test(trimmed)).toBe(parses(trimmed));
      }),
      { numRuns: 500 },
    );
    // Generated strings rarely spell a scheme; the prefixes make sure both schemes in every case are exercised.
    fc.assert(
      fc.property(
        fc.constantFrom('Bearer', 'bearer', 'BEARER', 'ApiKey', 'apikey', 'APIKEY', 'Bearr', 'Api-Key'),
        fc.string({ unit: chars, maxLength: 12 }),
        (scheme, rest) => {
          const value = `${scheme}${rest}`.trim();
          expect(regex.test(value)).toBe(parses(value));
        },
      ),
      { numRuns: 500 },
    );
  });
});
