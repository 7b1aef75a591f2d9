import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { MisconfiguredError } from '../../lambda/errors';
import { extensionKeySource, staticKeySource } from '../../lambda/momento/key-source';

/** A stand-in for the Parameters and Secrets extension on 127.0.0.1 that records requests. */
interface StubExtension {
  readonly port: number;
  readonly requests: { url: string; token: string | undefined }[];
  /** Replies to the next requests; the last one repeats. */
  reply: (req: http.IncomingMessage, res: http.ServerResponse) => void;
  close(): Promise<void>;
}

async function startStubExtension(): Promise<StubExtension> {
  const stub = {
    requests: [] as StubExtension['requests'],
    reply: (_req: http.IncomingMessage, res: http.ServerResponse) => void res.end(),
  };
  const server = http.createServer((req, res) => {
    stub.requests.push({
      url: req.url ?? '',
      token: req.headers['x-aws-parameters-secrets-token'] as string | undefined,
    });
    stub.reply(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(stub, {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

const secretJson = (secretString: string | undefined) =>
  JSON.stringify({
    ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:tvm-AbCdEf',
    Name: 'tvm',
    SecretString: secretString,
  });
const answer =
  (body: string, status = 200) =>
  (_req: http.IncomingMessage, res: http.ServerResponse) => {
    res.writeHead(status, { 'content-type': status === 200 ? 'application/json' : 'text/plain' }).end(body);
  };

async function rejection(p: Promise<unknown>): Promise<MisconfiguredError> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MisconfiguredError);
  return error as MisconfiguredError;
}

const KEY = 'eyJhbGciOiJIUzI1NiJ9.eyJ0IjoiZyJ9.c2VjcmV0LXNpZ25hdHVyZQ';

describe('Function: extensionKeySource', () => {
  let stub: StubExtension;
  const envBefore = { ...process.env };
  beforeEach(async () => {
    stub = await startStubExtension();
  });
  afterEach(async () => {
    await stub.close();
    process.env = { ...envBefore };
  });
  const source = (extra: Partial<Parameters<typeof extensionKeySource>[0]> = {}) =>
    extensionKeySource({
      secretId: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:tvm/key-AbCdEf',
      port: stub.port,
      host: '127.0.0.1',
      sessionToken: 'session-token',
      ...extra,
    });

  it('reads the raw key (trimmed) with the session token header and an encoded secret id', async () => {
    // Prepare
    stub.reply = answer(secretJson(`  ${KEY}\n`));

    // Act
    const key = await source().getKey();

    // Assess
    expect(key).toBe(KEY);
    expect(stub.requests).toEqual([
      {
        url: '/secretsmanager/get?secretId=arn%3Aaws%3Asecretsmanager%3Aeu-west-1%3A123456789012%3Asecret%3Atvm%2Fkey-AbCdEf',
        token: 'session-token',
      },
    ]);
  });

  it('accepts the JSON form {"apiKey": "..."}', async () => {
    stub.reply = answer(secretJson(JSON.stringify({ apiKey: ` ${KEY} ` })));
    await expect(source().getKey()).resolves.toBe(KEY);
  });

  it('defaults to PARAMETERS_SECRETS_EXTENSION_HTTP_PORT on localhost and AWS_SESSION_TOKEN', async () => {
    // Prepare
    process.env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT = String(stub.port);
    process.env.AWS_SESSION_TOKEN = 'from-env';
    stub.reply = answer(secretJson(KEY));

    // Act
    const key = await extensionKeySource({ secretId: 'tvm' }).getKey();

    // Assess
    expect(key).toBe(KEY);
    expect(stub.requests[0]?.token).toBe('from-env');
  });

  it('caches the key per container', async () => {
    stub.reply = answer(secretJson(KEY));
    const keys = source();
    await keys.getKey();
    await keys.getKey();
    expect(stub.requests).toHaveLength(1);
  });

  it('reads again after invalidate() and returns the new value', async () => {
    // Prepare
    const keys = source();
    stub.reply = answer(secretJson('old-key'));
    await keys.getKey();
    stub.reply = answer(secretJson('new-key'));

    // Act
    keys.invalidate();
    const key = await keys.getKey();

    // Assess
    expect(key).toBe('new-key');
    expect(stub.requests).toHaveLength(2);
  });

  it('shares one request between concurrent first reads (single-flight)', async () => {
    // Prepare
    stub.reply = (_req, res) => void setTimeout(() => answer(secretJson(KEY))(_req, res), 50);
    const keys = source();

    // Act
    const results = await Promise.all(Array.from({ length: 5 }, () => keys.getKey()));

    // Assess
    expect(results).toEqual(Array(5).fill(KEY));
    expect(stub.requests).toHaveLength(1);
  });

  it('does not let a read started before invalidate() repopulate the cache', async () => {
    // Prepare
    const keys = source();
    stub.reply = (_req, res) => void setTimeout(() => answer(secretJson('old-key'))(_req, res), 50);
    const stale = keys.getKey();

    // Act
    keys.invalidate();
    stub.reply = answer(secretJson('new-key'));
    await stale;
    const key = await keys.getKey();

    // Assess
    expect(key).toBe('new-key');
    expect(stub.requests).toHaveLength(2);
  });

  it('does not cache failures', async () => {
    const keys = source();
    stub.reply = answer('internal error', 500);
    await rejection(keys.getKey());
    stub.reply = answer(secretJson(KEY));
    await expect(keys.getKey()).resolves.toBe(KEY);
  });

  it.each<[string, string | undefined, string]>([
    ['an empty string', '', 'secret-empty'],
    ['only whitespace', ' \n ', 'secret-empty'],
    ['no SecretString (binary secret)', undefined, 'secret-empty'],
    ['JSON with an empty apiKey', JSON.stringify({ apiKey: '' }), 'secret-empty'],
    ['JSON without apiKey', JSON.stringify({ key: 'S3CRET-value' }), 'secret-invalid'],
    ['broken JSON', '{"apiKey": "S3CRET-value"', 'secret-invalid'],
  ])('refuses %s', async (_name, secretString, code) => {
    // Prepare
    stub.reply = answer(secretJson(secretString));

    // Act
    const e = await rejection(source().getKey());

    // Assess
    expect(e.code).toBe(code);
    expect(e.status).toBe(500);
    expect(e.message).toContain('tvm/key-AbCdEf');
    expect(`${e.message} ${String(e.cause)}`).not.toContain('S3CRET-value');
  });

  it.each<[string, number, string, string, RegExp]>([
    ['404', 404, 'not found', 'secret-missing', /does not exist/],
    [
      'ResourceNotFound',
      400,
      "ResourceNotFoundException: Secrets Manager can't find the specified secret.",
      'secret-missing',
      /does not exist/,
    ],
    [
      'no current version',
      400,
      "ResourceNotFoundException: Secrets Manager can't find the specified secret value for staging label: AWSCURRENT",
      'secret-empty',
      /has no value yet/,
    ],
    [
      'AccessDenied',
      400,
      'AccessDeniedException: User is not authorized to perform secretsmanager:GetSecretValue',
      'secret-unreadable',
      /GetSecretValue/,
    ],
    ['a 500', 500, 'boom', 'secret-unreadable', /HTTP 500/],
  ])('maps an extension error (%s)', async (_name, status, body, code, message) => {
    stub.reply = answer(body, status);
    const e = await rejection(source().getKey());
    expect(e.code).toBe(code);
    expect(e.message).toMatch(message);
  });

  it('reports an unreachable extension', async () => {
    // Prepare: a port nothing listens on.
    const port = stub.port;
    await stub.close();

    // Act
    const e = await rejection(source({ port }).getKey());

    // Assess
    expect(e.code).toBe('secret-unreadable');
    expect(e.message).toMatch(/unreachable.*extension layer/);
    stub = await startStubExtension(); // for afterEach
  });

  it('gives up on a stuck extension after timeoutMs', async () => {
    // Prepare: never answer.
    stub.reply = () => undefined;
    const started = Date.now();

    // Act
    const e = await rejection(source({ timeoutMs: 150 }).getKey());

    // Assess
    expect(e.code).toBe('secret-unreadable');
    expect(e.message).toMatch(/did not answer within 150 ms/);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('refuses a missing secret id', () => {
    expect(() => extensionKeySource({ secretId: '' })).toThrow(MisconfiguredError);
  });
});

describe('Function: staticKeySource', () => {
  it('returns the trimmed key and ignores invalidate()', async () => {
    const keys = staticKeySource(` ${KEY}\n`);
    keys.invalidate();
    await expect(keys.getKey()).resolves.toBe(KEY);
  });

  it('refuses an empty key', () => {
    expect(() => staticKeySource('  ')).toThrow(expect.objectContaining({ code: 'secret-empty' }));
  });
});
