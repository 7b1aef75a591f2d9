/**
 * Least privilege, no secrets in the template, no fixed physical names, Lambda settings, and cdk-nag
 * AwsSolutions with zero unacknowledged findings — for every mode.
 */
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { aws_cognito as cognito, aws_sns as sns } from 'aws-cdk-lib';
import { validateConfig, type TvmConfig } from '../../config/schema';
import { vendingTimeoutSeconds } from '../../lib/token-vending-machine';
import { MODES, TEST_ENV, baseConfig, nagFindings, onlyResource, resourcesOf, synth, tvmFunctions } from './helpers';

type Statement = { Action: string | string[]; Resource: unknown; Effect: string };
const statementsOf = (s: ReturnType<typeof synth>, roleIdPart: string): Statement[] =>
  resourcesOf(s.template, 'AWS::IAM::Policy')
    .filter(([id]) => id.includes(roleIdPart))
    .flatMap(([, p]) => (p.Properties?.PolicyDocument as { Statement: Statement[] }).Statement);
const actions = (st: Statement) => (Array.isArray(st.Action) ? st.Action : [st.Action]);

const ALL_MODES = Object.entries(MODES) as [keyof typeof MODES, TvmConfig][];

describe('Construct: TokenVendingMachine — cdk-nag AwsSolutions', () => {
  it.each(ALL_MODES)('%s: zero unacknowledged errors or warnings', (_mode, config) => {
    expect(nagFindings(synth(config))).toEqual([]);
  });

  it.each([
    [
      'an imported secret (by name)',
      baseConfig({ momento: { endpoint: 'cell-1.example.momentohq.com', secret: { name: 'prod/momento' } } }),
      {},
    ],
    ['no account CloudWatch role', MODES.cognito, { tvm: { ensureApiGatewayLogsRole: false } }],
    [
      'the PLUS plan with required MFA',
      { ...MODES.cognito, auth: { mode: 'cognito', mfa: 'required' } } as TvmConfig,
      { tvm: { userPoolFeaturePlan: cognito.FeaturePlan.PLUS } },
    ],
    ['tracing in authorizer mode', { ...MODES.authorizerApiKeys, tracing: true }, {}],
  ])('zero findings with %s', (_what, config, props) => {
    expect(nagFindings(synth(config, props))).toEqual([]);
  });

  it('does find something when a rule is not acknowledged (the check is live)', () => {
    const s = synth({ ...MODES.cognito }); // a copy: not the memoized stack other tests read
    new sns.Topic(s.stack, 'ProbeTopicWithoutSslPolicy');
    expect(nagFindings(s)).toEqual([expect.stringContaining('AwsSolutions-SNS3')]);
  });
});

describe('Construct: TokenVendingMachine — Momento key secret', () => {
  it.each(ALL_MODES)('%s: the vending role may only GetSecretValue on exactly the secret', (_mode, config) => {
    const s = synth(config);
    const [secretId] = onlyResource(s.template, 'AWS::SecretsManager::Secret', 'MomentoApiKey');
    const sm = statementsOf(s, 'VendingFunctionRole').filter((st) =>
      actions(st).some((a) => a.startsWith('secretsmanager:')),
    );
    expect(sm).toEqual([
      expect.objectContaining({
        Effect: 'Allow',
        Action: 'secretsmanager:GetSecretValue',
        Resource: { Ref: secretId },
      }),
    ]);
  });

  it.each(ALL_MODES)('%s: no policy grants secretsmanager, kms or anything on "*" except X-Ray', (_mode, config) => {
    const s = synth(config);
    const all = resourcesOf(s.template, 'AWS::IAM::Policy').flatMap(
      ([, p]) => (p.Properties?.PolicyDocument as { Statement: Statement[] }).Statement,
    );
    for (const st of all.filter((x) => JSON.stringify(x.Resource).includes('"*"') || x.Resource === '*')) {
      expect(actions(st).every((a) => a.startsWith('xray:'))).toBe(true);
    }
    expect(all.flatMap(actions).filter((a) => a.startsWith('kms:'))).toEqual([]);
  });

  it.each(ALL_MODES)('%s: roles use no AWS managed policies (explicit log permissions instead)', (_mode, config) => {
    const s = synth(config);
    const managed = resourcesOf(s.template, 'AWS::IAM::Role').filter(([, r]) => r.Properties?.ManagedPolicyArns);
    // None at all: the account-wide API Gateway logging role is created by the custom resource, not the stack.
    expect(managed.map(([id]) => id)).toEqual([]);
    const logs = statementsOf(s, 'VendingFunctionRole').find((st) => actions(st).includes('logs:PutLogEvents'));
    expect(logs?.Resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/VendingFunctionLogs/), 'Arn'] });
  });

  it('creates the secret with no value: no SecretString and no generated one', () => {
    const s = synth(MODES.cognito);
    s.template.hasResourceProperties('AWS::SecretsManager::Secret', {
      SecretString: Match.absent(),
      GenerateSecretString: Match.absent(),
      Name: Match.absent(),
    });
    s.template.hasOutput('PutSecretCommand', {
      Value: {
        'Fn::Join': [
          '',
          [
            'aws secretsmanager put-secret-value --region ',
            { Ref: 'AWS::Region' },
            ' --secret-id ',
            { Ref: Match.stringLikeRegexp('MomentoApiKey') },
            ' --secret-string "$MOMENTO_API_KEY"',
          ],
        ],
      },
    });
    s.template.hasOutput('SecretArn', { Value: { Ref: Match.stringLikeRegexp('MomentoApiKey') } });
  });

  it('imports a secret by name: no secret resource, the function gets the name, the policy the name plus the 6-character suffix', () => {
    const s = synth(
      baseConfig({ momento: { endpoint: 'cell-1.example.momentohq.com', secret: { name: 'prod/momento' } } }),
    );
    s.template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ TVM_SECRET_ID: 'prod/momento' }) },
    });
    const sm = statementsOf(s, 'VendingFunctionRole').filter((st) =>
      actions(st).some((a) => a.startsWith('secretsmanager:')),
    );
    expect(sm).toEqual([
      expect.objectContaining({
        Action: 'secretsmanager:GetSecretValue',
        Resource: `arn:aws:secretsmanager:${TEST_ENV.region}:${TEST_ENV.account}:secret:prod/momento-??????`,
      }),
    ]);
  });

  it('imports a secret by its complete ARN: the function gets the ARN, the policy exactly that ARN', () => {
    const arn = 'arn:aws:secretsmanager:us-west-2:123456789012:secret:momento-key-AbC123';
    const s = synth(baseConfig({ momento: { endpoint: 'cell-1.example.momentohq.com', secret: { arn } } }));
    s.template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ TVM_SECRET_ID: arn }) },
    });
    const sm = statementsOf(s, 'VendingFunctionRole').filter((st) =>
      actions(st).some((a) => a.startsWith('secretsmanager:')),
    );
    expect(sm).toEqual([expect.objectContaining({ Action: 'secretsmanager:GetSecretValue', Resource: arn })]);
  });

  it('takes a name that happens to end in "-" and six characters as a name (no guessing)', () => {
    // Before: "prod/tvm-abcdef" looked like a complete ARN's suffix and the grant missed the real ARN.
    const s = synth(
      baseConfig({ momento: { endpoint: 'cell-1.example.momentohq.com', secret: { name: 'prod/tvm-abcdef' } } }),
    );
    const sm = statementsOf(s, 'VendingFunctionRole').filter((st) =>
      actions(st).some((a) => a.startsWith('secretsmanager:')),
    );
    expect(sm).toEqual([
      expect.objectContaining({
        Resource: `arn:aws:secretsmanager:${TEST_ENV.region}:${TEST_ENV.account}:secret:prod/tvm-abcdef-??????`,
      }),
    ]);
  });

  it.each([
    ['a partial ARN (no six-character suffix)', 'arn:aws:secretsmanager:us-west-2:123456789012:secret:momento'],
    ['an ARN with a partial suffix', 'arn:aws:secretsmanager:us-west-2:123456789012:secret:momento-AbC1'],
  ])('refuses %s: give the complete ARN or { name }', (_what, arn) => {
    expect(() =>
      validateConfig(baseConfig({ momento: { endpoint: 'cell-1.example.momentohq.com', secret: { arn } } })),
    ).toThrow(/momento\.secret\.arn: must be the complete ARN/);
  });

  it.each([
    [
      'a name',
      { name: 'prod/momento' },
      `arn:aws:secretsmanager:${TEST_ENV.region}:${TEST_ENV.account}:secret:prod/momento-??????`,
    ],
    [
      'a complete ARN',
      { arn: 'arn:aws:secretsmanager:us-west-2:123456789012:secret:prod/momento-AbC123' },
      'arn:aws:secretsmanager:us-west-2:123456789012:secret:prod/momento-AbC123',
    ],
  ])(
    'imports a secret by %s under a customer managed key: kms:Decrypt on that key, only through Secrets Manager',
    (_what, ref, secretResource) => {
      const kmsKeyArn = 'arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
      const s = synth(
        baseConfig({ momento: { endpoint: 'cell-1.example.momentohq.com', secret: { ...ref, kmsKeyArn } } }),
      );
      const all = statementsOf(s, 'VendingFunctionRole');
      expect(all.filter((st) => actions(st).some((a) => /^(kms|secretsmanager):/.test(a)))).toEqual([
        expect.objectContaining({ Action: 'secretsmanager:GetSecretValue', Resource: secretResource }),
        {
          Sid: 'ReadMomentoApiKeyKey',
          Effect: 'Allow',
          Action: 'kms:Decrypt',
          Resource: kmsKeyArn,
          Condition: {
            StringEquals: {
              'kms:ViaService': { 'Fn::Join': ['', ['secretsmanager.us-west-2.', { Ref: 'AWS::URLSuffix' }]] },
            },
          },
        },
      ]);
      expect(nagFindings(s)).toEqual([]);
    },
  );

  it('refuses a KMS alias for kmsKeyArn (the grant needs the key ARN)', () => {
    expect(() =>
      validateConfig(
        baseConfig({
          momento: {
            endpoint: 'cell-1.example.momentohq.com',
            secret: { name: 'prod/momento', kmsKeyArn: 'arn:aws:kms:us-west-2:123456789012:alias/momento' },
          },
        }),
      ),
    ).toThrow(/momento\.secret\.kmsKeyArn: must be a KMS key ARN/);
  });

  it('refuses an imported secret in another region than the stack (the functions read in their own region)', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:momento-key-AbC123';
    expect(() =>
      synth(baseConfig({ momento: { endpoint: 'cell-1.example.momentohq.com', secret: { arn } } }), {
        env: { account: TEST_ENV.account, region: 'us-west-2' },
      }),
    ).toThrow(/is in eu-west-1, the stack in us-west-2/);
  });

  it('warns in a region-agnostic stack that an imported secret pins the region', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:momento-key-AbC123';
    const s = synth(baseConfig({ momento: { endpoint: 'cell-1.example.momentohq.com', secret: { arn } } }), {
      env: undefined,
    });
    Annotations.fromStack(s.stack).hasWarning(
      '/TestTvm/TokenVendingMachine',
      Match.stringLikeRegexp('deploy this region-agnostic stack only to eu-west-1'),
    );
  });

  it('creates the secret when momento.secret is left out', () => {
    const s = synth(baseConfig({ momento: { endpoint: 'cell-1.example.momentohq.com' } }));
    onlyResource(s.template, 'AWS::SecretsManager::Secret', 'MomentoApiKey');
  });
});

describe('Construct: TokenVendingMachine — nothing secret, nothing fixed', () => {
  it.each(ALL_MODES)('%s: the template holds no key, token or password', (_mode, config) => {
    const template = synth(config).template.toJSON() as { Resources: unknown; Outputs: unknown };
    const json = JSON.stringify(template);
    // JWT-looking strings (three base64url parts, the first a JSON header).
    expect(json).not.toMatch(/eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/);
    expect(json).not.toMatch(/"(SecretString|GenerateSecretString|TemporaryPassword|Password)"/);
    // The key never appears in a resource; in the outputs only as the shell variable the operator sets.
    expect(JSON.stringify(template.Resources)).not.toContain('MOMENTO_API_KEY');
    const outputs = JSON.stringify(template.Outputs);
    expect(outputs).toContain('--secret-string \\"$MOMENTO_API_KEY\\"');
    expect(outputs).not.toMatch(/MOMENTO_API_KEY\s*[=:]/);
  });

  it.each(ALL_MODES)('%s: no fixed physical names (two stacks can share an account)', (_mode, config) => {
    const resources = Object.values(synth(config).template.toJSON().Resources) as {
      Type: string;
      Properties?: Record<string, unknown>;
    }[];
    const NAME_PROPS: Record<string, string> = {
      'AWS::Lambda::Function': 'FunctionName',
      'AWS::IAM::Role': 'RoleName',
      'AWS::Logs::LogGroup': 'LogGroupName',
      'AWS::SecretsManager::Secret': 'Name',
      'AWS::SNS::Topic': 'TopicName',
      'AWS::KMS::Key': 'KeyId',
      'AWS::CloudWatch::Alarm': 'AlarmName',
      'AWS::Cognito::UserPool': 'UserPoolName',
      'AWS::Cognito::UserPoolClient': 'ClientName',
      'AWS::WAFv2::WebACL': 'Name',
    };
    // API Gateway fixes the execution log group's name; it holds the API's id, so it is unique per stack.
    const isExecutionLogs = (r: (typeof resources)[number]): boolean =>
      r.Type === 'AWS::Logs::LogGroup' &&
      JSON.stringify(r.Properties?.LogGroupName ?? '').startsWith(
        '{"Fn::Join":["",["API-Gateway-Execution-Logs_",{"Ref":',
      );
    expect(resources.filter(isExecutionLogs)).toHaveLength(1);
    for (const r of resources.filter((x) => !isExecutionLogs(x))) {
      const prop = NAME_PROPS[r.Type];
      if (prop) expect([r.Type, r.Properties?.[prop]]).toEqual([r.Type, undefined]);
    }
    // API and authorizer names are required by CloudFormation; the dashboard's is global per account: each is
    // derived from the TVM's name (the stack name in the standalone app) and, for the dashboard, the region.
    for (const r of resources.filter(
      (x) => x.Type === 'AWS::ApiGateway::RestApi' || x.Type === 'AWS::ApiGateway::Authorizer',
    )) {
      expect(String(r.Properties?.Name)).toMatch(/^TestTvm/);
    }
    for (const r of resources.filter((x) => x.Type === 'AWS::CloudWatch::Dashboard'))
      expect(r.Properties?.DashboardName).toBe(`TestTvm-${TEST_ENV.region}`);
  });
});

describe('Construct: TokenVendingMachine — functions', () => {
  it.each(ALL_MODES)(
    '%s: every function is nodejs24.x on arm64 with an explicit, month-long log group',
    (_mode, config) => {
      const s = synth(config);
      expect(tvmFunctions(s.template)).toHaveLength(config.auth.mode === 'authorizer' ? 2 : 1);
      const fns = resourcesOf(s.template, 'AWS::Lambda::Function');
      for (const [, fn] of fns) {
        expect(fn.Properties).toEqual(expect.objectContaining({ Runtime: 'nodejs24.x', Architectures: ['arm64'] }));
        expect(fn.Properties?.LoggingConfig).toEqual({ LogGroup: { Ref: expect.stringMatching(/Logs/) } });
      }
      for (const [, lg] of resourcesOf(s.template, 'AWS::Logs::LogGroup'))
        expect(lg.Properties?.RetentionInDays).toBe(30);
    },
  );

  it.each([
    [100, 14],
    [3000, 19],
    [10000, 28],
  ])('sizes the vending timeout for a %i ms mint deadline: %i s', (deadlineMs, seconds) => {
    expect(vendingTimeoutSeconds(deadlineMs)).toBe(seconds);
    const s = synth(
      baseConfig({ momento: { endpoint: 'cell-1.example.momentohq.com', secret: { create: true }, deadlineMs } }),
    );
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('mints'),
      Timeout: seconds,
    });
  });

  it('runs the vending function with 512 MB, 19 s, Powertools settings and the secret id, without a layer', () => {
    const s = synth(MODES.cognito);
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('mints'),
      Handler: 'index.handler',
      MemorySize: 512,
      Timeout: 19,
      ReservedConcurrentExecutions: Match.absent(),
      TracingConfig: Match.absent(),
      Layers: Match.absent(),
      Environment: {
        Variables: Match.objectLike({
          POWERTOOLS_SERVICE_NAME: 'TestTvm',
          POWERTOOLS_METRICS_NAMESPACE: 'MomentoTokenVendingMachine',
          POWERTOOLS_LOG_LEVEL: 'INFO',
          TVM_SECRET_ID: { Ref: Match.stringLikeRegexp('MomentoApiKey') },
          PARAMETERS_SECRETS_EXTENSION_CACHE_ENABLED: Match.absent(),
          TVM_CONFIG: Match.absent(), // baked into the bundle, not the environment
        }),
      },
    });
  });

  it('applies X-Ray tracing and the log level from config to both functions', () => {
    const s = synth({ ...MODES.authorizer, tracing: true, logLevel: 'WARN' });
    const fns = tvmFunctions(s.template);
    expect(fns).toHaveLength(2);
    for (const [, fn] of fns) {
      expect(fn.Properties).toEqual(expect.objectContaining({ TracingConfig: { Mode: 'Active' } }));
      expect(
        (fn.Properties?.Environment as { Variables: Record<string, unknown> }).Variables.POWERTOOLS_LOG_LEVEL,
      ).toBe('WARN');
    }
  });

  it('lets API Gateway invoke the vending function only for GET /token on the deployed stage', () => {
    const s = synth(MODES.open);
    const perms = resourcesOf(s.template, 'AWS::Lambda::Permission');
    expect(perms).toHaveLength(1);
    expect(JSON.stringify(perms[0]?.[1].Properties?.SourceArn)).toMatch(/DeploymentStage.*\/GET\/token/);
  });
});

describe('Warnings at synth', () => {
  it('warns about plain-http (local development) origins in cors.allowOrigins', () => {
    const s = synth({ ...MODES.cognito, cors: { allowOrigins: ['https://app.example.com', 'http://localhost:5173'] } });
    Annotations.fromStack(s.stack).hasWarning(
      '*',
      Match.stringLikeRegexp('local development origins \\(http://localhost:5173\\)'),
    );
  });

  it('does not warn when every origin is https', () => {
    const s = synth({ ...MODES.cognito, cors: { allowOrigins: ['https://app.example.com'] } });
    Annotations.fromStack(s.stack).hasNoWarning('*', Match.stringLikeRegexp('local development origins'));
  });
});

describe('Construct: TokenVendingMachine — Cognito app client', () => {
  it('lets users write only profile attributes: no custom attributes, no email, phone or preferred_username', () => {
    const s = synth(MODES.cognito);
    const [, client] = onlyResource(s.template, 'AWS::Cognito::UserPoolClient');
    const writable = (client.Properties?.WriteAttributes ?? []) as string[];
    expect(writable.length).toBeGreaterThan(0);
    expect(
      writable.filter((a) => a.startsWith('custom:') || ['email', 'phone_number', 'preferred_username'].includes(a)),
    ).toEqual([]);
  });
});
