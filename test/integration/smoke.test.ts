/**
 * The smoke test's HTTP checks against the dev server (which answers preflights, 401 and 404 as the stack's API
 * Gateway does), in open and cognito mode, and against proxies in front of it that answer wrongly.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mockClient } from 'aws-sdk-client-mock';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import authorizerConfig from '../../config/examples/authorizer.config';
import cognitoConfig from '../../config/tvm.config';
import openConfig from '../../config/examples/open.config';
import { startDevServer, type DevServer } from '../../dev/server';
import { nodeHttpSend } from '../../scripts/smoke/http-checks';
import { describeOp, isGranted, type MomentoOps } from '../../scripts/smoke/momento-checks';
import { run } from '../../scripts/smoke/run';
import { restoreEnv } from '../support/env';

const ORIGIN = 'http://localhost:5173';
const savedEnv = { ...process.env };

afterAll(() => {
  // startDevServer points grpc-js at the fake Momento (CA, proxy, endpoint): give the worker its environment back.
  restoreEnv(savedEnv);
});

async function startDev(config: object): Promise<DevServer> {
  delete process.env.MOMENTO_API_KEY;
  return startDevServer({
    config: { ...(config as typeof openConfig), cors: { allowOrigins: [ORIGIN, 'http://localhost:8080'] } },
    port: 0,
    demoPort: -1,
    localAuth: true,
    log: () => undefined,
  });
}

/** Runs the CLI; returns the exit code, what it printed and the table's rows keyed by check. */
async function smoke(argv: string[], extra: Partial<Parameters<typeof run>[1]> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(argv, { env: {}, out: (t) => out.push(t), err: (t) => err.push(t), ...extra });
  const text = out.join('\n');
  const rows = new Map<string, { status: string; seen: string }>();
  for (const line of text.split('\n')) {
    const m = /^(PASS|FAIL|SKIP|INFO) {2}(.+?) {2,}/.exec(line);
    if (m) rows.set(m[2]!, { status: m[1]!, seen: line });
  }
  return { code, text, err: err.join('\n'), rows };
}

const statuses = (rows: Map<string, { status: string }>) =>
  Object.fromEntries([...rows].map(([check, r]) => [check, r.status]));

/** A proxy in front of `target` whose answers `rewrite` may change; it sees the raw request header names. */
async function startProxy(
  target: string,
  rewrite: (req: http.IncomingMessage, headers: http.IncomingHttpHeaders) => http.IncomingHttpHeaders,
): Promise<{ url: string; close(): Promise<void> }> {
  const upstream = new URL(target);
  const server = http.createServer((req, res) => {
    const headers: Record<string, string> = {};
    // Forward the header names exactly as received (rawHeaders keep the case).
    for (let i = 0; i < req.rawHeaders.length; i += 2) headers[req.rawHeaders[i]!] = req.rawHeaders[i + 1]!;
    headers.Host = upstream.host;
    const up = http.request(
      { host: '127.0.0.1', port: upstream.port, path: req.url, method: req.method, headers, agent: false },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, rewrite(req, { ...upRes.headers }));
        upRes.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    up.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://localhost:${port}${upstream.pathname}`,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe('Function: nodeHttpSend', () => {
  it('sends header names with the case given (Origin and origin)', async () => {
    // Prepare
    const seen: string[][] = [];
    const server = http.createServer((req, res) => {
      seen.push(req.rawHeaders.filter((_, i) => i % 2 === 0));
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/x`;
    // Act
    const send = nodeHttpSend(2_000);
    await send(url, { method: 'GET', headers: [['Origin', ORIGIN]] });
    await send(url, { method: 'GET', headers: [['origin', ORIGIN]] });
    await new Promise((resolve) => server.close(resolve));
    // Assess
    expect(seen[0]).toContain('Origin');
    expect(seen[0]).not.toContain('origin');
    expect(seen[1]).toContain('origin');
    expect(seen[1]).not.toContain('Origin');
  });
});

describe('Smoke test against the dev server: open mode', () => {
  let dev: DevServer;
  beforeAll(async () => {
    dev = await startDev(openConfig);
  });
  afterAll(() => dev?.close());

  it('passes every HTTP check and exits 0', async () => {
    // Act
    const { code, rows, text } = await smoke(['--url', dev.tokenUrl, '--mode', 'open', '--origin', ORIGIN]);
    // Assess
    expect(statuses(rows)).toEqual({
      'GET /token': 'PASS',
      'GET /token: Cache-Control': 'PASS',
      'GET /token: Content-Type': 'PASS',
      'GET /token: fields': 'PASS',
      'GET /token: authToken': 'PASS',
      'GET /token: expiresAt': 'PASS',
      'GET /token: CORS': 'PASS',
      'GET /token?tvm-smoke=1 (unknown parameter)': 'PASS',
      [`OPTIONS /token from ${ORIGIN}`]: 'PASS',
      'OPTIONS /token from https://tvm-smoke-test.invalid': 'PASS',
      'GET /token without credential': 'SKIP',
      'GET /tvm-smoke-nope (Origin header)': 'PASS',
      'GET /tvm-smoke-nope (origin header)': 'PASS',
      'Momento: the token works': 'SKIP',
    });
    expect(text).toMatch(/12 passed, 0 failed, 2 skipped/);
    expect(code).toBe(0);
  });

  it('without --origin skips the CORS checks but still checks the gateway answers', async () => {
    const { code, rows } = await smoke(['--url', dev.tokenUrl, '--mode', 'open']);
    expect(rows.get('OPTIONS /token from the allowed origin')?.status).toBe('SKIP');
    expect(rows.get('GET /tvm-smoke-nope')?.status).toBe('PASS');
    expect(rows.has('GET /token: CORS')).toBe(false);
    expect(code).toBe(0);
  });

  it('with --momento runs the chosen operations (a fake Momento enforcing the tier; live Momento is unverified offline)', async () => {
    // The operations are injected here to pin which ones --momento runs and how a refusal is reported; the same
    // run against the dev server's local Momento data plane is test/integration/local-momento-smoke.test.ts.
    // Live Momento is unverified offline.
    const calls: string[] = [];
    // What the token would really allow: the open example's tier, as Momento would enforce it.
    const enforced = openConfig.tiers[0]!.permissions;
    const momento = async (authToken: string): Promise<MomentoOps> => {
      expect(authToken.length).toBeGreaterThan(0);
      return {
        run: async (op) => {
          calls.push(describeOp(op));
          return isGranted(enforced, op) ? { ok: true } : { ok: false, code: 'PERMISSION_ERROR' };
        },
        close: () => undefined,
      };
    };
    const { code, rows } = await smoke(['--url', dev.tokenUrl, '--mode', 'open', '--momento'], { momento });
    expect(calls).toEqual(['subscribe demo/news-tvm-smoke', 'publish demo/news-tvm-smoke']);
    expect(rows.get('Momento: subscribe demo/news-tvm-smoke (granted)')?.status).toBe('PASS');
    expect(rows.get('Momento: publish demo/news-tvm-smoke (not granted)')?.status).toBe('PASS');
    expect(code).toBe(0);
  });

  it('reads the token URL and the mode from the stack (DescribeStacks, mocked)', async () => {
    // Prepare
    const cfn = mockClient(CloudFormationClient);
    cfn.on(DescribeStacksCommand, { StackName: 'MomentoTvmDev' }).resolves({
      Stacks: [
        {
          StackName: 'MomentoTvmDev',
          CreationTime: new Date(),
          StackStatus: 'UPDATE_ROLLBACK_COMPLETE',
          Description: 'Momento token vending machine (open mode)',
          Outputs: [{ OutputKey: 'TokenUrl', OutputValue: dev.tokenUrl }],
        },
      ],
    });
    try {
      // Act
      const { code, rows, text } = await smoke(['--stack', 'MomentoTvmDev', '--region', 'eu-central-2'], {
        cloudFormation: (region) => new CloudFormationClient({ region }),
      });
      // Assess: every HTTP check passes, but a stack left after a failed update is a failure.
      expect(text).toContain(`Smoke test of ${dev.tokenUrl} (open mode)`);
      expect(rows.get('stack MomentoTvmDev')?.status).toBe('FAIL');
      expect(rows.get('stack MomentoTvmDev')?.seen).toContain('UPDATE_ROLLBACK_COMPLETE');
      expect(rows.get('GET /token')?.status).toBe('PASS');
      expect(text).toMatch(/ 1 failed,/);
      expect(code).toBe(1);
    } finally {
      cfn.restore();
    }
  });
});

describe('Smoke test against the dev server: cognito mode', () => {
  let dev: DevServer;
  let idToken: string;
  beforeAll(async () => {
    dev = await startDev(cognitoConfig);
    const login = new URL(dev.tokenUrl.replace(/\/token$/, '/dev/login'));
    login.search = new URLSearchParams({ user: 'alice', groups: 'members' }).toString();
    idToken = ((await (await fetch(login)).json()) as { idToken: string }).idToken;
  });
  afterAll(() => dev?.close());

  it('passes every check, both Cognito header forms accepted, and never prints the credential or the token', async () => {
    // Act
    const { code, rows, text, err } = await smoke(
      ['--url', dev.tokenUrl, '--mode', 'cognito', '--origin', ORIGIN, '--auth', 'env:TVM_ID_TOKEN'],
      { env: { TVM_ID_TOKEN: idToken } },
    );
    // Assess
    expect(err).toBe('');
    const notPassed = [...rows].filter(([, r]) => r.status !== 'PASS').map(([c, r]) => [c, r.status]);
    expect(notPassed).toEqual([
      ['Authorization: Bearer <ID token> (not documented)', 'INFO'],
      ['Momento: the token works', 'SKIP'],
    ]);
    for (const check of [
      'GET /token: fields',
      'GET /token without credential (Origin header)',
      'GET /token without credential (origin header)',
      'GET /tvm-smoke-nope (Origin header)',
      'GET /tvm-smoke-nope (origin header)',
      'Authorization: <ID token> (documented)',
    ])
      expect(rows.get(check)?.status).toBe('PASS');
    // Reported, not judged: whether the dev server's Cognito emulation takes "Bearer" is the dev server's choice.
    expect(rows.get('Authorization: Bearer <ID token> (not documented)')?.seen).toMatch(
      /reported only +(accepted \(200\)|refused \(401\))$/,
    );
    expect(rows.get('GET /token without credential (origin header)')?.seen).toContain(
      `401 application/problem+json unauthorized, ACAO ${ORIGIN}`,
    );
    expect(text).not.toContain(idToken);
    expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/);
    expect(code).toBe(0);
  });

  it('takes the credential with a Bearer prefix too, from a file', async () => {
    const { code } = await smoke(
      ['--url', dev.tokenUrl, '--mode', 'cognito', '--origin', ORIGIN, '--auth', '@/run/id-token'],
      { readFile: () => `Bearer ${idToken}\n` },
    );
    expect(code).toBe(0);
  });

  it('fails GET /token with a refused credential and names only the code', async () => {
    const forged = `${idToken.slice(0, -4)}AAAA`;
    const { code, rows, text } = await smoke([
      '--url',
      dev.tokenUrl,
      '--mode',
      'cognito',
      '--origin',
      ORIGIN,
      '--auth',
      forged,
    ]);
    expect(rows.get('GET /token')?.seen).toMatch(/ 200 +401 unauthorized$/);
    expect(rows.get('GET /token')?.status).toBe('FAIL');
    expect(rows.get('Authorization: <ID token> (documented)')?.seen).toMatch(/refused \(401\)$/);
    expect(rows.get('Authorization: Bearer <ID token> (not documented)')?.status).toBe('INFO');
    expect(text).not.toContain(forged);
    expect(code).toBe(1);
  });

  it('is a usage error (exit 2) without --auth', async () => {
    const { code, err } = await smoke(['--url', dev.tokenUrl, '--mode', 'cognito']);
    expect(err).toMatch(/cognito mode needs --auth/);
    expect(code).toBe(2);
  });

  describe('against a server that answers wrongly', () => {
    const proxies: { close(): Promise<void> }[] = [];
    afterAll(() => Promise.all(proxies.map((p) => p.close())));

    it('fails the Cache-Control and foreign-preflight rows when the answers say no-cache and CORS *', async () => {
      // Prepare: the dev server's answers, but CORS `*` and no `no-store`.
      const proxy = await startProxy(dev.tokenUrl, (_req, headers) => {
        const { 'cache-control': _cc, pragma: _p, ...rest } = headers;
        return { ...rest, 'cache-control': 'no-cache', 'access-control-allow-origin': '*' };
      });
      proxies.push(proxy);
      // Act
      const { code, rows } = await smoke(
        ['--url', proxy.url, '--mode', 'cognito', '--origin', ORIGIN, '--auth', 'env:T'],
        { env: { T: idToken } },
      );
      // Assess
      expect(rows.get('GET /token: Cache-Control')).toEqual({
        status: 'FAIL',
        seen: expect.stringMatching(/no-store +no-cache$/),
      });
      expect(rows.get('OPTIONS /token from https://tvm-smoke-test.invalid')?.status).toBe('FAIL');
      expect(rows.get('OPTIONS /token from https://tvm-smoke-test.invalid')?.seen).toMatch(/ACAO \*$/);
      expect(rows.get('GET /token: CORS')?.status).toBe('FAIL');
      expect(rows.get('GET /token: fields')?.status).toBe('PASS');
      expect(code).toBe(1);
    });

    it('fails the lower-case origin rows when the gateway honours only "Origin" (header case really sent)', async () => {
      // Prepare: CORS headers only when the request spelled the header `Origin` (a case-sensitive mapping).
      const proxy = await startProxy(dev.tokenUrl, (req, headers) => {
        if (req.rawHeaders.some((h, i) => i % 2 === 0 && h === 'Origin')) return headers;
        const { 'access-control-allow-origin': _a, 'access-control-expose-headers': _e, ...rest } = headers;
        return rest;
      });
      proxies.push(proxy);
      // Act
      const { code, rows } = await smoke(
        ['--url', proxy.url, '--mode', 'cognito', '--origin', ORIGIN, '--auth', 'env:T'],
        { env: { T: idToken } },
      );
      // Assess
      const failing = [...rows].filter(([, r]) => r.status === 'FAIL').map(([c]) => c);
      expect(failing).toEqual(['GET /token without credential (origin header)', 'GET /tvm-smoke-nope (origin header)']);
      expect(rows.get('GET /tvm-smoke-nope (origin header)')?.seen).toMatch(/ACAO \(none\)$/);
      expect(code).toBe(1);
    });

    it('prints no credential a server echoes and no terminal escape from its answers', async () => {
      // Prepare: a server that answers every request with a problem whose code echoes an API key, a bearer token
      // and terminal escapes (clear screen, set the window title, red).
      const echoedKey = `svc-a.${'Q'.repeat(21)}x${'7'.repeat(21)}`;
      const code = `\u001b[2J\u001b]0;pwned\u0007\u001b[31mleaked ${echoedKey} Bearer opaque-session-123 \u202eevil`;
      const server = http.createServer((_req, res) => {
        res.writeHead(404, { 'Content-Type': 'application/problem+json', 'Cache-Control': 'no-store' });
        res.end(JSON.stringify({ status: 404, code }));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      proxies.push({
        close: () => {
          server.closeAllConnections();
          return new Promise((resolve) => server.close(() => resolve()));
        },
      });
      // Act
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
      const { text, err, rows } = await smoke(['--url', url, '--mode', 'open', '--origin', ORIGIN]);
      // Assess: the rows still say what was seen, minus the credentials and the control characters.
      const printed = `${text}\n${err}`;
      expect(rows.get('GET /token')?.seen).toMatch(/404 leaked \[redacted\] Bearer \[redacted\] evil/);
      expect(printed).not.toContain(echoedKey);
      expect(printed).not.toContain('opaque-session-123');
      // eslint-disable-next-line no-control-regex
      expect(printed).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
      expect(printed).not.toContain('pwned');
    });

    it('fails the 404 rows when the answer is not problem+json', async () => {
      const proxy = await startProxy(dev.tokenUrl, (_req, headers) =>
        headers['content-type'] === 'application/problem+json' ? { ...headers, 'content-type': 'text/html' } : headers,
      );
      proxies.push(proxy);
      const { code, rows } = await smoke(
        ['--url', proxy.url, '--mode', 'cognito', '--origin', ORIGIN, '--auth', 'env:T'],
        { env: { T: idToken } },
      );
      expect(rows.get('GET /tvm-smoke-nope (Origin header)')?.seen).toMatch(/404 Content-Type text\/html/);
      expect(rows.get('GET /tvm-smoke-nope (Origin header)')?.status).toBe('FAIL');
      expect(code).toBe(1);
    });
  });
});

describe('Smoke test against the dev server: authorizer mode', () => {
  let dev: DevServer;
  beforeAll(async () => {
    dev = await startDev(authorizerConfig);
  });
  afterAll(() => dev?.close());

  it('sends --auth as the whole Authorization value and checks the 401 of the authorizer', async () => {
    const group = authorizerConfig.tiers.find((t) => (t.groups ?? []).length > 0)!.groups![0]!;
    const jwt = dev.login('svc', [group]);
    const { code, rows, text } = await smoke(
      ['--url', dev.tokenUrl, '--mode', 'authorizer', '--origin', ORIGIN, '--auth', 'env:T'],
      { env: { T: `Bearer ${jwt}` } },
    );
    expect(rows.get('GET /token: fields')?.status).toBe('PASS');
    expect(rows.get('GET /token without credential (origin header)')?.status).toBe('PASS');
    expect([...rows.keys()].some((c) => c.startsWith('Authorization:'))).toBe(false);
    expect(text).not.toContain(jwt);
    expect(code).toBe(0);
  });
});
