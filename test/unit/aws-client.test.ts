import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  AwsCallError,
  AwsConfigError,
  awsJsonCall,
  classifyAwsError,
  COGNITO_IDENTITY_PROVIDER,
  credentialsFromEnv,
  DYNAMODB,
  parseErrorType,
  regionFromEnv,
  regionOfUserPool,
  resolveEndpoint,
  SECRETS_MANAGER,
} from '../../common/aws';

describe('Function: resolveEndpoint', () => {
  it.each<[string, Parameters<typeof resolveEndpoint>[0], string, Record<string, string>, string]>([
    ['the regional default', SECRETS_MANAGER, 'eu-west-1', {}, 'https://secretsmanager.eu-west-1.amazonaws.com/'],
    ['a newer region', SECRETS_MANAGER, 'eu-central-2', {}, 'https://secretsmanager.eu-central-2.amazonaws.com/'],
    ['China', SECRETS_MANAGER, 'cn-north-1', {}, 'https://secretsmanager.cn-north-1.amazonaws.com.cn/'],
    ['GovCloud', DYNAMODB, 'us-gov-west-1', {}, 'https://dynamodb.us-gov-west-1.amazonaws.com/'],
    ['Cognito', COGNITO_IDENTITY_PROVIDER, 'ap-southeast-5', {}, 'https://cognito-idp.ap-southeast-5.amazonaws.com/'],
    [
      'Cognito in GovCloud (FIPS only)',
      COGNITO_IDENTITY_PROVIDER,
      'us-gov-west-1',
      {},
      'https://cognito-idp-fips.us-gov-west-1.amazonaws.com/',
    ],
    [
      'Cognito in GovCloud East (FIPS only)',
      COGNITO_IDENTITY_PROVIDER,
      'us-gov-east-1',
      {},
      'https://cognito-idp-fips.us-gov-east-1.amazonaws.com/',
    ],
    [
      'Secrets Manager in GovCloud',
      SECRETS_MANAGER,
      'us-gov-west-1',
      {},
      'https://secretsmanager.us-gov-west-1.amazonaws.com/',
    ],
    [
      'the service variable first',
      SECRETS_MANAGER,
      'eu-west-1',
      { AWS_ENDPOINT_URL_SECRETS_MANAGER: 'http://127.0.0.1:4566', AWS_ENDPOINT_URL: 'http://127.0.0.1:9' },
      'http://127.0.0.1:4566/',
    ],
    [
      'AWS_ENDPOINT_URL when the service has none',
      DYNAMODB,
      'eu-west-1',
      { AWS_ENDPOINT_URL_SECRETS_MANAGER: 'http://127.0.0.1:4566', AWS_ENDPOINT_URL: 'http://localhost:8000' },
      'http://localhost:8000/',
    ],
    [
      "another service's variable is ignored",
      COGNITO_IDENTITY_PROVIDER,
      'eu-west-1',
      { AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:8000' },
      'https://cognito-idp.eu-west-1.amazonaws.com/',
    ],
    [
      'AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER',
      COGNITO_IDENTITY_PROVIDER,
      'eu-west-1',
      { AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER: 'https://cognito.example.test' },
      'https://cognito.example.test/',
    ],
    [
      'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS',
      SECRETS_MANAGER,
      'eu-west-1',
      { AWS_ENDPOINT_URL_SECRETS_MANAGER: 'http://127.0.0.1:4566', AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' },
      'https://secretsmanager.eu-west-1.amazonaws.com/',
    ],
  ])('resolves %s', (_what, service, region, env, expected) => {
    expect(resolveEndpoint(service, region, env).href).toBe(expected);
  });

  it.each<[string, Record<string, string>, string, RegExp]>([
    ['a non-URL', { AWS_ENDPOINT_URL_SECRETS_MANAGER: 'not a url' }, 'eu-west-1', /not a URL/],
    ['another scheme', { AWS_ENDPOINT_URL: 'ftp://127.0.0.1' }, 'eu-west-1', /http:\/\/ or https:\/\//],
    ['user info', { AWS_ENDPOINT_URL: 'http://u:p@127.0.0.1' }, 'eu-west-1', /must not carry credentials/],
    ['a region that is not a host label', {}, 'eu-west-1.evil.example/', /not a valid AWS region/],
  ])('refuses %s', (_what, env, region, message) => {
    expect(() => resolveEndpoint(SECRETS_MANAGER, region, env)).toThrow(message);
    expect(() => resolveEndpoint(SECRETS_MANAGER, region, env)).toThrow(AwsConfigError);
  });
});

describe('Function: regionOfUserPool', () => {
  it.each([
    ['us-east-1_AbCdEf123', 'us-east-1'],
    ['eu-central-1_x', 'eu-central-1'],
    ['us-gov-west-1_Abc', 'us-gov-west-1'],
    ['p', undefined],
    ['_Abc', undefined],
    ['EVIL.example.com_x', undefined],
  ])('%s → %s', (id, region) => {
    expect(regionOfUserPool(id)).toBe(region);
  });
});

describe('Function: regionFromEnv / credentialsFromEnv', () => {
  it('prefers AWS_REGION over AWS_DEFAULT_REGION and fails without either', () => {
    expect(regionFromEnv({ AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'us-east-1' })).toBe('eu-west-1');
    expect(regionFromEnv({ AWS_DEFAULT_REGION: 'us-east-1' })).toBe('us-east-1');
    expect(() => regionFromEnv({})).toThrow(/AWS_REGION is not set/);
  });

  it('reads the session token when present and names only the variables when credentials are missing', () => {
    expect(
      credentialsFromEnv({ AWS_ACCESS_KEY_ID: 'AKID', AWS_SECRET_ACCESS_KEY: 'sk', AWS_SESSION_TOKEN: 'st' }),
    ).toEqual({ accessKeyId: 'AKID', secretAccessKey: 'sk', sessionToken: 'st' });
    expect(credentialsFromEnv({ AWS_ACCESS_KEY_ID: 'AKID', AWS_SECRET_ACCESS_KEY: 'sk' })).toEqual({
      accessKeyId: 'AKID',
      secretAccessKey: 'sk',
    });
    expect(() => credentialsFromEnv({ AWS_ACCESS_KEY_ID: 'AKID-VISIBLE' })).toThrow(/AWS_SECRET_ACCESS_KEY/);
    expect(() => credentialsFromEnv({ AWS_ACCESS_KEY_ID: 'AKID-VISIBLE' })).not.toThrow(/AKID-VISIBLE/);
  });
});

describe('Function: parseErrorType / classifyAwsError', () => {
  it.each<[string | undefined, unknown, string | undefined]>([
    [undefined, { __type: 'com.amazonaws.secretsmanager#ResourceNotFoundException' }, 'ResourceNotFoundException'],
    [undefined, { __type: 'ThrottlingException:http://internal.amazon.com/coral/' }, 'ThrottlingException'],
    ['AccessDeniedException:http://internal.amazon.com/', { __type: 'Other' }, 'AccessDeniedException'],
    [undefined, { code: 'TooManyRequestsException' }, 'TooManyRequestsException'],
    [undefined, { message: 'no type' }, undefined],
    [undefined, undefined, undefined],
    [undefined, { __type: '<script>' }, undefined],
  ])('header %p, body %p → %p', (header, body, expected) => {
    expect(parseErrorType(header, body)).toBe(expected);
  });

  it.each<[number, string | undefined, string]>([
    [400, 'ThrottlingException', 'throttled'],
    [400, 'ProvisionedThroughputExceededException', 'throttled'],
    [400, 'TooManyRequestsException', 'throttled'],
    [400, 'RequestLimitExceeded', 'throttled'],
    [429, undefined, 'throttled'],
    [400, 'RequestTimeoutException', 'timeout'],
    [500, 'InternalServiceError', 'server'],
    [503, undefined, 'server'],
    [400, 'ResourceNotFoundException', 'service'],
    [400, 'AccessDeniedException', 'service'],
    [400, 'DecryptionFailure', 'service'],
    [403, undefined, 'service'],
  ])('HTTP %d %p → %s', (status, type, failure) => {
    expect(classifyAwsError(status, type)).toBe(failure);
  });
});

describe('Function: awsJsonCall', () => {
  const CREDS = {
    AWS_ACCESS_KEY_ID: 'AKIDUNITTEST',
    AWS_SECRET_ACCESS_KEY: 'unit-secret-key',
    AWS_SESSION_TOKEN: 'unit-st',
  };
  let server: http.Server;
  let handle: (req: http.IncomingMessage, body: string, res: http.ServerResponse) => void;
  let connections = 0;
  let env: Record<string, string>;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => handle(req, body, res));
    });
    server.on('connection', () => (connections += 1));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    env = {
      ...CREDS,
      AWS_REGION: 'eu-west-1',
      AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    };
  });
  afterAll(() => {
    server.closeAllConnections();
    return new Promise((r) => server.close(r));
  });

  const getItem = (extra: Partial<Parameters<typeof awsJsonCall>[0]> = {}) =>
    awsJsonCall({
      service: DYNAMODB,
      operation: 'GetItem',
      body: { TableName: 't', Key: { pk: { S: 'user:alice' } } },
      timeoutMs: 1000,
      env,
      ...extra,
    });
  const failure = (p: Promise<unknown>) =>
    p.then(
      () => {
        throw new Error('expected a rejection');
      },
      (e: unknown) => {
        expect(e).toBeInstanceOf(AwsCallError);
        return e as AwsCallError;
      },
    );

  it('sends a JSON 1.0 request with the target, session token and a SigV4 scope for the service', async () => {
    // Prepare
    let seen: http.IncomingHttpHeaders = {};
    let seenBody = '';
    handle = (req, body, res) => {
      seen = req.headers;
      seenBody = body;
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end('{"Item":{"pk":{"S":"user:alice"}}}');
    };

    // Act
    const answer = await getItem();

    // Assess
    expect(answer).toEqual({ Item: { pk: { S: 'user:alice' } } });
    expect(seen['x-amz-target']).toBe('DynamoDB_20120810.GetItem');
    expect(seen['content-type']).toBe('application/x-amz-json-1.0');
    expect(seen['x-amz-security-token']).toBe('unit-st');
    expect(seen.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDUNITTEST\/\d{8}\/eu-west-1\/dynamodb\/aws4_request, SignedHeaders=[a-z0-9;-]*x-amz-target[a-z0-9;-]*, Signature=[0-9a-f]{64}$/,
    );
    expect(JSON.parse(seenBody)).toEqual({ TableName: 't', Key: { pk: { S: 'user:alice' } } });
  });

  it('calls and signs for the region given by the call instead of the function region', async () => {
    // Prepare
    let authorization = '';
    handle = (req, _body, res) => {
      authorization = String(req.headers.authorization);
      res.end('{}');
    };

    // Act
    await getItem({ region: 'ap-northeast-1' });

    // Assess
    expect(authorization).toMatch(/Credential=AKIDUNITTEST\/\d{8}\/ap-northeast-1\/dynamodb\/aws4_request/);
  });

  it('reuses one keep-alive connection across calls', async () => {
    handle = (_req, _body, res) => res.end('{}');
    await getItem();
    const before = connections;
    await getItem();
    await getItem();
    expect(connections).toBe(before);
  });

  it('sends again on a new socket when a reused keep-alive socket is reset', async () => {
    // Prepare: a warm socket, then the server drops the next request on it (as after a long freeze).
    handle = (_req, _body, res) => res.end('{}');
    await getItem();
    let dropped = 0;
    handle = (req, _body, res) => {
      if (dropped === 0) {
        dropped += 1;
        req.socket.destroy();
      } else res.end('{"ok":true}');
    };

    // Act
    const answer = await getItem();

    // Assess
    expect(answer).toEqual({ ok: true });
    expect(dropped).toBe(1);
  });

  it('classifies AWS error answers and keeps AWS’s message, never the credentials', async () => {
    handle = (_req, _body, res) =>
      res
        .writeHead(400, { 'content-type': 'application/x-amz-json-1.0' })
        .end(
          '{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"Requested resource not found"}',
        );
    const e = await failure(getItem());
    expect(e).toMatchObject({
      kind: 'permanent',
      failure: 'service',
      errorType: 'ResourceNotFoundException',
      status: 400,
    });
    expect(e.message).toBe(
      'DynamoDB_20120810.GetItem failed (ResourceNotFoundException, HTTP 400): Requested resource not found',
    );
    for (const v of Object.values(CREDS)) expect(`${e.message} ${String(e.cause)}`).not.toContain(v);
  });

  it.each<[string, number, Record<string, string>, string, string]>([
    ['throttling', 400, {}, '{"__type":"ThrottlingException","message":"Rate exceeded"}', 'throttled'],
    ['a 5xx', 500, {}, '{"__type":"InternalServerError"}', 'server'],
    ['a 503 without a body', 503, {}, '', 'server'],
    [
      'the x-amzn-ErrorType header',
      400,
      { 'x-amzn-ErrorType': 'TooManyRequestsException:http://x/' },
      '{}',
      'throttled',
    ],
  ])('treats %s as transient', async (_what, status, headers, body, failureKind) => {
    handle = (_req, _body, res) => res.writeHead(status, headers).end(body);
    const e = await failure(getItem());
    expect(e).toMatchObject({ kind: 'transient', failure: failureKind, status });
  });

  it('gives up after timeoutMs (transient timeout)', async () => {
    handle = () => undefined;
    const started = Date.now();
    const e = await failure(getItem({ timeoutMs: 100 }));
    expect(e).toMatchObject({ kind: 'transient', failure: 'timeout' });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('reports a refused connection as transient, without the request headers', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const e = await failure(getItem({ env: { ...env, AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${port}` } }));
    expect(e).toMatchObject({ kind: 'transient', failure: 'connection' });
    expect(e.message).toMatch(/ECONNREFUSED/);
    expect(JSON.stringify(Object.entries(e.cause as object))).not.toContain('unit-st');
  });

  it('refuses a 2xx answer that is not JSON without quoting it (it could hold a secret)', async () => {
    handle = (_req, _body, res) => res.end('S3CRET-VALUE not json');
    const e = await failure(getItem());
    expect(e).toMatchObject({ kind: 'permanent', failure: 'protocol' });
    expect(`${e.message} ${String(e.cause)}`).not.toContain('S3CRET');
  });

  it('refuses an answer above maxResponseBytes', async () => {
    handle = (_req, _body, res) => res.end(JSON.stringify({ big: 'x'.repeat(5000) }));
    const e = await failure(getItem({ maxResponseBytes: 1000 }));
    expect(e).toMatchObject({ kind: 'permanent', failure: 'protocol' });
  });

  it('fails with AwsConfigError before sending when credentials are missing', async () => {
    let called = false;
    handle = (_req, _body, res) => ((called = true), res.end('{}'));
    await expect(getItem({ env: { ...env, AWS_ACCESS_KEY_ID: '' } })).rejects.toThrow(AwsConfigError);
    expect(called).toBe(false);
  });
});
