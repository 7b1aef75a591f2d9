/**
 * The dev server over real HTTP on 127.0.0.1 (issue 10): the Host lock against DNS rebinding, local sign-in
 * only when it is safe or asked for, the one Cognito header form, and 401/404 answers identical to the stack's
 * gateway responses; in authorizer mode, the 503 the stack answers when the API-key table cannot be read (issue 9). A placeholder MOMENTO_API_KEY selects the real-key path (the script itself wants one shaped like a v2 key); nothing here mints (no request
 * reaches Momento: every request is refused before the minter, or by the policy).
 */
import * as http from 'node:http';
import { aws_apigateway as apigw } from 'aws-cdk-lib';
import { generateApiKey } from '../../authorizers/api-keys';
import authorizerConfig from '../../config/examples/authorizer.config';
import { validateConfig } from '../../config/schema';
import cognitoConfig from '../../config/tvm.config';
import { fakeV2ApiKey } from '../../dev/fake-momento';
import { isLocalHost } from '../../dev/host-guard';
import { startDevServer, type DevServer } from '../../dev/server';
import { PROBLEM_GATEWAY_RESPONSES, problemResponseBody } from '../../lib/gateway-responses';
import { startSecretsManagerStub, type SecretsManagerStub } from '../support/secrets-manager-stub';

/** Not a Momento key: the real-key path parses it only when minting, which these tests never reach. */
const PLACEHOLDER_KEY = 'placeholder-not-a-momento-key';
const ALLOWED_ORIGIN = 'http://localhost:8080';

interface Answer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** GET `path` on 127.0.0.1:`port` with exactly these headers (Host included: fetch would not let us set it). */
function get(port: number, path: string, headers: Record<string, string>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: 'GET', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject).end();
  });
}

const portOf = (dev: DevServer) => Number(new URL(dev.tokenUrl).port);

describe('Function: isLocalHost', () => {
  it.each([
    ['localhost:8787', true],
    ['LOCALHOST:8787', true],
    ['127.0.0.1:8787', true],
    ['[::1]:8787', true],
    ['localhost:8788', false],
    ['localhost', false],
    ['rebind.attacker.example', false],
    ['rebind.attacker.example:8787', false],
    ['localhost.attacker.example:8787', false],
    ['127.0.0.1.nip.io:8787', false],
    ['[::ffff:127.0.0.1]:8787', false],
    ['', false],
  ])('%s → %s (port 8787)', (host, expected) => {
    expect(isLocalHost(host, 8787)).toBe(expected);
  });

  it('takes a missing port as 80, and a missing Host as foreign', () => {
    expect(isLocalHost('localhost', 80)).toBe(true);
    expect(isLocalHost(undefined, 8787)).toBe(false);
  });
});

describe('Function: startDevServer (over HTTP)', () => {
  const config = validateConfig(cognitoConfig);
  let withLogin: DevServer;
  let withoutLogin: DevServer;
  const lines: string[] = [];

  beforeAll(async () => {
    [withLogin, withoutLogin] = await Promise.all([
      startDevServer({
        config,
        port: 0,
        demoPort: -1,
        momentoApiKey: PLACEHOLDER_KEY,
        allowDevLogin: true,
        log: (l) => lines.push(l),
      }),
      startDevServer({ config, port: 0, demoPort: -1, momentoApiKey: PLACEHOLDER_KEY, log: (l) => lines.push(l) }),
    ]);
  });

  afterAll(async () => {
    await Promise.all([withLogin?.close(), withoutLogin?.close()]);
    // Request lines name the user and the outcome, never a token.
    expect(lines.some((l) => l.includes('/dev/login alice'))).toBe(true);
    expect(lines.join('\n')).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/);
  });

  describe('Host lock (DNS rebinding)', () => {
    it('refuses the DNS-rebinding request with 403 and no token', async () => {
      // Act: curl -H 'Host: rebind.attacker.example' 'http://127.0.0.1:8787/dev/login?user=m&groups=admins'
      const res = await get(portOf(withLogin), '/dev/login?user=m&groups=admins', {
        host: 'rebind.attacker.example',
      });

      // Assess
      expect(res.status).toBe(403);
      expect(res.headers['content-type']).toBe('application/problem+json');
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
      expect(JSON.parse(res.body)).toMatchObject({ status: 403, code: 'host-not-allowed', title: 'Forbidden' });
      expect(res.body).not.toMatch(/idToken|eyJ/);
    });

    it.each(['rebind.attacker.example:PORT', 'localhost:1', 'evil.localhost:PORT'])(
      'refuses Host %s on /token too, before any authentication',
      async (host) => {
        const port = portOf(withLogin);
        const res = await get(port, '/token', { host: host.replace('PORT', String(port)), authorization: 'x' });
        expect(res.status).toBe(403);
        expect(JSON.parse(res.body)).toMatchObject({ code: 'host-not-allowed' });
      },
    );

    it.each(['localhost', '127.0.0.1', '[::1]'])('answers Host %s:<its port>', async (name) => {
      const port = portOf(withLogin);
      const res = await get(port, '/dev/login?user=alice&groups=members', { host: `${name}:${port}` });
      expect(res.status).toBe(200);
    });
  });

  describe('local sign-in (/dev/login)', () => {
    it('is on with --allow-dev-login and a real key, and returns the Authorization value of this mode', async () => {
      // Act
      const port = portOf(withLogin);
      const res = await get(port, '/dev/login?user=alice&groups=members', {
        host: `localhost:${port}`,
        origin: ALLOWED_ORIGIN,
      });
      const body = JSON.parse(res.body) as { idToken: string; authorization: string };

      // Assess: Cognito mode sends the raw ID token; an allowed origin may read the answer.
      expect(withLogin.devLogin).toBe(true);
      expect(res.status).toBe(200);
      expect(body.authorization).toBe(body.idToken);
      expect(body.idToken.split('.')).toHaveLength(3);
      expect(res.headers['access-control-allow-origin']).toBe(ALLOWED_ORIGIN);
      expect(res.headers['cache-control']).toBe('no-store');
    });

    it('is off with a real key and no flag: the route does not exist (404 like any other)', async () => {
      // Act
      const port = portOf(withoutLogin);
      const res = await get(port, '/dev/login?user=m&groups=admins', { host: `127.0.0.1:${port}` });

      // Assess
      expect(withoutLogin.devLogin).toBe(false);
      expect(res.status).toBe(404);
      expect(JSON.parse(res.body)).toMatchObject({ code: 'not-found' });
    });
  });

  describe('the Cognito header: Authorization: <ID token>, nothing else', () => {
    it('accepts the raw ID token (the request then reaches the function: here its policy answers)', async () => {
      // Prepare
      const port = portOf(withLogin);
      const idToken = withLogin.login('alice', ['members']);

      // Act: a topic members do not have, so the function answers without minting.
      const res = await get(port, '/token?topic=admin-only', { host: `localhost:${port}`, authorization: idToken });

      // Assess
      expect(res.status).toBe(403);
      expect(JSON.parse(res.body)).toMatchObject({ code: 'scope-not-granted' });
    });

    it.each(['Bearer ', 'bearer ', 'BEARER '])('refuses "%s<ID token>" with 401, as documented', async (prefix) => {
      const port = portOf(withLogin);
      const idToken = withLogin.login('alice', ['members']);
      const res = await get(port, '/token?topic=admin-only', {
        host: `localhost:${port}`,
        authorization: `${prefix}${idToken}`,
      });
      expect(res.status).toBe(401);
    });
  });

  describe('401 and 404 look exactly like the stack’s gateway responses', () => {
    /** The deployed gateway response body with its request id filled in. */
    const gatewayBody = (code: string, requestId: string) =>
      JSON.parse(
        problemResponseBody(PROBLEM_GATEWAY_RESPONSES.find((r) => r.code === code)!).replace(
          '$context.requestId',
          requestId,
        ),
      ) as Record<string, unknown>;

    it.each<[string, string, Record<string, string>, number]>([
      ['unauthorized', '/token', {}, 401],
      ['unauthorized', '/token', { authorization: 'not-a-jwt' }, 401],
      ['not-found', '/nowhere', {}, 404],
      ['not-found', '/token/extra', {}, 404],
    ])('%s for %s %j: same body (title, detail, requestId) and headers', async (code, path, extra, status) => {
      // Act
      const port = portOf(withLogin);
      const res = await get(port, path, { host: `localhost:${port}`, origin: ALLOWED_ORIGIN, ...extra });
      const body = JSON.parse(res.body) as { requestId: string };

      // Assess
      expect(res.status).toBe(status);
      expect(typeof body.requestId).toBe('string');
      expect(body).toEqual(gatewayBody(code, body.requestId));
      // lib/gateway-responses.ts problemResponseHeaders, for an allowed origin:
      expect(res.headers).toMatchObject({
        'access-control-allow-origin': ALLOWED_ORIGIN,
        'access-control-expose-headers': 'Retry-After',
        vary: 'Origin',
        'content-type': 'application/problem+json',
        'cache-control': 'no-store',
      });
    });

    it('gives a foreign origin no Access-Control-Allow-Origin', async () => {
      const port = portOf(withLogin);
      const res = await get(port, '/token', { host: `localhost:${port}`, origin: 'https://evil.example' });
      expect(res.status).toBe(401);
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
    });
  });
});

describe('Function: startDevServer in authorizer mode, API keys, Secrets Manager throttling', () => {
  const SECRET_ID = 'tvm/api-keys';
  const { key, entry } = generateApiKey('svc-a', ['member']);
  const config = validateConfig({
    ...authorizerConfig,
    auth: { ...authorizerConfig.auth, apiKeys: { secret: { name: SECRET_ID } } },
    cors: { allowOrigins: [ALLOWED_ORIGIN] },
  });
  const lines: string[] = [];
  let stub: SecretsManagerStub;
  let dev: DevServer;
  let savedEnv: Record<string, string | undefined>;

  beforeAll(async () => {
    stub = await startSecretsManagerStub({ secrets: { [SECRET_ID]: 'throttled' } });
    // The dev server reads the table as the authorizer does: region, credentials and endpoint from the environment.
    const names = [...Object.keys(stub.env), 'AWS_ENDPOINT_URL', 'TVM_API_KEYS_SECRET_ID'];
    savedEnv = Object.fromEntries(names.map((k) => [k, process.env[k]]));
    delete process.env.AWS_ENDPOINT_URL;
    delete process.env.TVM_API_KEYS_SECRET_ID;
    Object.assign(process.env, stub.env);
    dev = await startDevServer({
      config,
      port: 0,
      demoPort: -1,
      momentoApiKey: PLACEHOLDER_KEY,
      log: (l) => lines.push(l),
    });
  });

  afterAll(async () => {
    await dev?.close();
    await stub?.close();
    for (const [k, v] of Object.entries(savedEnv)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    // The reason is logged, never the key's secret part.
    expect(lines.join('\n')).not.toContain(key.split('.')[1]!);
  });

  it('answers 503 authorizer-unavailable exactly as the stack’s AuthorizerFailure gateway response would', async () => {
    // Act
    const port = portOf(dev);
    const res = await get(port, '/token?topic=chat-lobby', {
      host: `localhost:${port}`,
      origin: ALLOWED_ORIGIN,
      authorization: `ApiKey ${key}`,
    });
    const body = JSON.parse(res.body) as { requestId: string };

    // Assess: status, body (title, detail, requestId) and headers of lib/gateway-responses.ts, Retry-After included.
    expect(res.status).toBe(503);
    const response = PROBLEM_GATEWAY_RESPONSES.find((r) => r.type === apigw.ResponseType.AUTHORIZER_FAILURE)!;
    expect(body).toEqual(JSON.parse(problemResponseBody(response).replace('$context.requestId', body.requestId)));
    expect(res.headers).toMatchObject({
      'access-control-allow-origin': ALLOWED_ORIGIN,
      'access-control-expose-headers': 'Retry-After',
      vary: 'Origin',
      'content-type': 'application/problem+json',
      'cache-control': 'no-store',
      'retry-after': '1',
    });
    // A signed GetSecretValue reached the stub (and was throttled); the log says why, in one line.
    expect(stub.reads.map((r) => r.secretId)).toContain(SECRET_ID);
    expect(stub.refused).toEqual([]);
    expect(lines.join('\n')).toMatch(
      /authorizer unavailable api-keys-unavailable \(secret-unavailable: .*ThrottlingException/,
    );
    expect(lines.join('\n')).toMatch(/503 authorizer-unavailable \(gateway\)/);
  });

  it('still answers 401 for a malformed key while the table cannot be read', async () => {
    const port = portOf(dev);
    const res = await get(port, '/token', { host: `localhost:${port}`, authorization: 'ApiKey svc-a.short' });
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'unauthorized' });
  });

  it('accepts the same key once Secrets Manager answers again (the failure is not cached)', async () => {
    // Prepare
    stub.set(SECRET_ID, { value: JSON.stringify({ keys: [entry] }) });
    // Act: a topic the member tier does not grant, so the function answers without minting.
    const port = portOf(dev);
    const res = await get(port, '/token?topic=admin-only', {
      host: `localhost:${port}`,
      authorization: `ApiKey ${key}`,
    });
    // Assess: past the authorizer (the key verified), refused by the policy.
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'scope-not-granted' });
  });
});

describe('Script: npm run dev with a real MOMENTO_API_KEY', () => {
  /** Starts `tsx dev/server.ts` on free ports, returns what it printed once started (then stops it). */
  async function startupText(args: string[], key = fakeV2ApiKey()): Promise<string> {
    const { spawn } = await import('node:child_process');
    const path = await import('node:path');
    const child = spawn(
      process.execPath,
      [
        require.resolve('tsx/cli'),
        path.join(__dirname, '..', '..', 'dev', 'server.ts'),
        '--port',
        '0',
        '--no-demo',
        ...args,
      ],
      { env: { ...process.env, MOMENTO_API_KEY: key }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let text = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (text += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (text += c));
    try {
      const deadline = Date.now() + 25_000;
      while (!/⚠/.test(text) && child.exitCode === null && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      return text;
    } finally {
      child.kill('SIGTERM');
    }
  }

  it('says loudly that /dev/login is off, and prints no sign-in command', async () => {
    const text = await startupText([]);
    expect(text).toMatch(/A real MOMENTO_API_KEY is set: GET \/dev\/login \(local sign-in\) is OFF/);
    expect(text).not.toMatch(/sign in: +curl/);
  }, 30_000);

  it('refuses a MOMENTO_API_KEY that is no Momento key (exit 2), instead of announcing it as real', async () => {
    const text = await startupText([], PLACEHOLDER_KEY);
    expect(text).toMatch(/^error: MOMENTO_API_KEY is set but cannot be used: expected a v2 API key/);
    expect(text).toMatch(/Unset it to mint with the embedded fake Momento/);
    expect(text).not.toMatch(/A real MOMENTO_API_KEY is set/);
    expect(text).not.toContain(PLACEHOLDER_KEY);
  }, 30_000);

  it('says louder still that --allow-dev-login turns it on and what that means', async () => {
    const text = await startupText(['--allow-dev-login']);
    expect(text).toMatch(/--allow-dev-login WITH A REAL MOMENTO_API_KEY: GET \/dev\/login signs in ANYONE/);
    expect(text).toMatch(/sign in: +curl 'http:\/\/localhost:\d+\/dev\/login\?user=alice&groups=admins'/);
  }, 30_000);
});
