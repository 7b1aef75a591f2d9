/**
 * The node:http2 gRPC transport (lambda/momento/grpc-transport.ts) against a raw node:http2 TLS server that
 * misbehaves on purpose — trailers-only errors, percent-encoded grpc-message, non-gRPC HTTP answers, RST_STREAM,
 * GOAWAY, silence — reached like production through the CONNECT proxy of dev/fake-momento with the test CA.
 * The last block drives the minter itself into GOAWAY and RST_STREAM and checks its one retry.
 */
import { readFileSync } from 'node:fs';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { token } from '@gomomento/generated-types/dist/token';
import {
  CERT_DIR,
  FAKE_ENDPOINT,
  fakeV2ApiKey,
  startConnectProxy,
  TEST_CA_PATH,
  type ConnectProxy,
} from '../../dev/fake-momento';
import { MomentoError } from '../../lambda/errors';
import { AGENT, createGrpcMinter, GENERATE_DISPOSABLE_TOKEN, staticKeySource, USER_AGENT } from '../../lambda/momento';
import type { MinterEvent } from '../../lambda/momento';
import {
  decodeGrpcMessage,
  GrpcStatusError,
  openGrpcConnection,
  proxyFor,
  type GrpcConnection,
} from '../../lambda/momento/grpc-transport';

const { NGHTTP2_CANCEL, NGHTTP2_REFUSED_STREAM, NGHTTP2_INTERNAL_ERROR, NGHTTP2_NO_ERROR, NGHTTP2_ENHANCE_YOUR_CALM } =
  http2.constants;
const HOST = `token.${FAKE_ENDPOINT}`;

type Behavior = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, body: Buffer) => void;

/** What the server received: headers and the raw request body of each stream. */
interface Received {
  readonly headers: http2.IncomingHttpHeaders;
  readonly body: Buffer;
}

let server: http2.Http2SecureServer;
let proxy: ConnectProxy;
let behavior: Behavior;
const received: Received[] = [];
const sessions = new Set<http2.ServerHttp2Session>();
const rstCodes: number[] = [];
const conns: GrpcConnection[] = [];

const frame = (msg: Uint8Array, compressed = 0): Buffer => {
  const b = Buffer.alloc(5 + msg.length);
  b[0] = compressed;
  b.writeUInt32BE(msg.length, 1);
  b.set(msg, 5);
  return b;
};

/** A normal gRPC answer: headers, one message, trailers with status 0. */
const ok =
  (reply: Uint8Array = Uint8Array.from([1, 2, 3])): Behavior =>
  (stream) => {
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    stream.end(frame(reply));
  };

const env = (): NodeJS.ProcessEnv => ({
  grpc_proxy: proxy.url,
  no_grpc_proxy: 'no-proxy.invalid',
  GRPC_DEFAULT_SSL_ROOTS_FILE_PATH: TEST_CA_PATH,
});

function open(): GrpcConnection {
  const c = openGrpcConnection({ host: HOST, userAgent: 'test-agent/1', env: env() });
  conns.push(c);
  return c;
}

const call = (c: GrpcConnection, deadlineMs = 2000, metadata?: Record<string, string>) =>
  c.unary({ path: '/test.Svc/Do', message: Uint8Array.from([9, 8, 7]), metadata, deadlineMs });

async function statusOf(p: Promise<unknown>): Promise<GrpcStatusError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(GrpcStatusError);
  return e as GrpcStatusError;
}

beforeAll(async () => {
  server = http2.createSecureServer({
    key: readFileSync(path.join(CERT_DIR, 'server.key')),
    cert: readFileSync(path.join(CERT_DIR, 'server.crt')),
  });
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (d: Buffer) => chunks.push(d));
    stream.on('close', () => rstCodes.push(stream.rstCode));
    stream.on('error', () => undefined);
    stream.on('end', () => {
      const body = Buffer.concat(chunks);
      received.push({ headers, body });
      behavior(stream, headers, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy = await startConnectProxy({ targetPort: (server.address() as AddressInfo).port });
});
afterAll(async () => {
  await proxy.close();
  for (const s of sessions) s.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(() => {
  behavior = ok();
  received.length = 0;
  rstCodes.length = 0;
});
afterEach(() => {
  for (const c of conns.splice(0)) c.destroy();
});

describe('grpc-transport: the request on the wire', () => {
  it('sends POST with gRPC headers, metadata and one length-prefixed message', async () => {
    // Act
    const reply = await call(open(), 1500, { agent: 'a/1', 'runtime-version': 'nodejs:x' });

    // Assess
    expect(Buffer.from(reply)).toEqual(Buffer.from([1, 2, 3]));
    const [r] = received as [Received];
    expect(r.headers).toMatchObject({
      ':method': 'POST',
      ':path': '/test.Svc/Do',
      ':scheme': 'https',
      ':authority': `${HOST}:443`, // node:http2 names the port
      'content-type': 'application/grpc',
      te: 'trailers',
      'user-agent': 'test-agent/1',
      agent: 'a/1',
      'runtime-version': 'nodejs:x',
    });
    expect(r.headers['grpc-timeout']).toMatch(/^\d{1,8}m$/);
    expect(Number.parseInt(String(r.headers['grpc-timeout']), 10)).toBeLessThanOrEqual(1500);
    expect(r.headers).not.toHaveProperty('grpc-encoding'); // never compressed
    expect(r.body).toEqual(frame(Uint8Array.from([9, 8, 7])));
    expect(proxy.targets.at(-1)).toBe(`${HOST}:443`);
  });

  it('connects directly when no proxy is configured (the production path)', async () => {
    // The certificate names 127.0.0.1, so the host name check still applies.
    const port = (server.address() as AddressInfo).port;
    const c = openGrpcConnection({ host: '127.0.0.1', port, env: { GRPC_DEFAULT_SSL_ROOTS_FILE_PATH: TEST_CA_PATH } });
    conns.push(c);
    const before = proxy.connections;
    await expect(call(c)).resolves.toEqual(Uint8Array.from([1, 2, 3]));
    expect(received.at(-1)?.headers[':authority']).toBe(`127.0.0.1:${port}`);
    expect(proxy.connections).toBe(before);
  });

  it('reuses one connection for consecutive calls', async () => {
    const c = open();
    const before = proxy.connections;
    await call(c);
    await call(c);
    await Promise.all([call(c), call(c), call(c)]);
    expect(proxy.connections - before).toBe(1);
    expect(c.usable).toBe(true);
  });
});

describe('grpc-transport: statuses', () => {
  it('reads a trailers-only error and percent-decodes grpc-message', async () => {
    behavior = (stream) =>
      stream.respond(
        {
          ':status': 200,
          'content-type': 'application/grpc',
          'grpc-status': '7',
          'grpc-message': 'caf%C3%A9 100%25 denied',
        },
        { endStream: true },
      );
    const e = await statusOf(call(open()));
    expect({ code: e.code, details: e.details }).toEqual({ code: 7, details: 'café 100% denied' });
  });

  it('reads a status from trailers after headers', async () => {
    behavior = (stream) => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '8', 'grpc-message': 'slow down' }));
      stream.end();
    };
    const e = await statusOf(call(open()));
    expect({ code: e.code, details: e.details }).toEqual({ code: 8, details: 'slow down' });
  });

  it.each<[number, number]>([
    [503, 14],
    [502, 14],
    [429, 14],
    [404, 12],
    [401, 16],
    [403, 7],
    [400, 13],
    [500, 2],
  ])('maps an HTTP %i without grpc-status to gRPC %i', async (httpStatus, code) => {
    behavior = (stream) => stream.respond({ ':status': httpStatus, 'content-type': 'text/html' }, { endStream: true });
    expect((await statusOf(call(open()))).code).toBe(code);
  });

  it('refuses a compressed reply it never asked for (INTERNAL)', async () => {
    behavior = (stream) => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(frame(Uint8Array.from([1]), 1));
    };
    expect((await statusOf(call(open()))).code).toBe(13);
  });

  it('treats OK without a message as INTERNAL', async () => {
    behavior = (stream) =>
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '0' }, { endStream: true });
    expect((await statusOf(call(open()))).code).toBe(13);
  });
});

describe('grpc-transport: resets, GOAWAY, deadlines', () => {
  it.each<[string, number, number]>([
    ['REFUSED_STREAM', NGHTTP2_REFUSED_STREAM, 14],
    ['CANCEL', NGHTTP2_CANCEL, 1],
    ['ENHANCE_YOUR_CALM', NGHTTP2_ENHANCE_YOUR_CALM, 8],
    ['INTERNAL_ERROR', NGHTTP2_INTERNAL_ERROR, 13],
  ])('maps RST_STREAM %s (%i) to gRPC %i and keeps the connection', async (_name, rst, code) => {
    // Prepare
    const c = open();
    behavior = (stream) => stream.close(rst);

    // Act
    const e = await statusOf(call(c));

    // Assess: a stream reset is not a connection failure.
    expect(e.code).toBe(code);
    behavior = ok();
    await expect(call(c)).resolves.toBeDefined();
    expect(c.usable).toBe(true);
  });

  it('fails the calls of a connection that got GOAWAY with an error code with UNAVAILABLE, and takes no new calls', async () => {
    // Prepare: the server gives up on the connection (GOAWAY INTERNAL_ERROR); the call in flight dies with it.
    const c = open();
    await call(c);
    behavior = (stream) => stream.session?.goaway(NGHTTP2_INTERNAL_ERROR, 0);

    // Act
    const e = await statusOf(call(c));

    // Assess
    expect(e.code).toBe(14);
    expect(c.usable).toBe(false);
  });

  it('lets the call a graceful GOAWAY covers finish, then takes no new calls', async () => {
    const c = open();
    behavior = (stream, headers, body) => {
      stream.session?.goaway(NGHTTP2_NO_ERROR, stream.id ?? 0);
      ok()(stream, headers, body);
    };
    await expect(call(c)).resolves.toBeDefined();
    await new Promise((r) => setTimeout(r, 20));
    expect(c.usable).toBe(false);
    expect((await statusOf(call(c))).code).toBe(14);
  });

  it('stops taking calls as soon as a GOAWAY arrives, while the call it covers is still running', async () => {
    // Prepare: a graceful GOAWAY that covers the call in flight, whose answer comes later. The session stays open
    // until that call ends, so only the GOAWAY handler can tell the connection not to start another stream.
    const c = open();
    await call(c);
    let answer: () => void = () => undefined;
    behavior = (stream, headers, body) => {
      stream.session?.goaway(NGHTTP2_NO_ERROR, stream.id ?? 0);
      answer = () => ok()(stream, headers, body);
    };
    const before = received.length;
    const first = call(c);

    // Act: wait until the GOAWAY has reached the client (the answer is held back meanwhile).
    for (let i = 0; i < 100 && c.usable; i++) await new Promise((r) => setTimeout(r, 10));

    // Assess: unusable while the covered call still runs; a new call is refused without reaching the server.
    expect(c.usable).toBe(false);
    expect((await statusOf(call(c))).code).toBe(14);
    answer();
    await expect(first).resolves.toBeDefined();
    expect(received.length - before).toBe(1);
  });

  it('fails with UNAVAILABLE when the connection drops mid-call', async () => {
    const c = open();
    behavior = () => proxy.destroyAll();
    expect((await statusOf(call(c))).code).toBe(14);
    expect(c.usable).toBe(false);
  });

  it('answers DEADLINE_EXCEEDED on time and cancels the stream (RST_STREAM CANCEL)', async () => {
    // Prepare
    behavior = () => undefined; // never answers
    const started = Date.now();

    // Act
    const e = await statusOf(call(open(), 300));

    // Assess
    expect(e.code).toBe(4);
    expect(Date.now() - started).toBeGreaterThanOrEqual(295);
    expect(Date.now() - started).toBeLessThan(300 + 300);
    await new Promise((r) => setTimeout(r, 50));
    expect(rstCodes).toContain(NGHTTP2_CANCEL);
  });

  it('counts connecting against the deadline (a proxy that never answers)', async () => {
    // Prepare: accepts TCP, never answers CONNECT.
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((s) => sockets.add(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const c = openGrpcConnection({
      host: HOST,
      env: { ...env(), grpc_proxy: `http://127.0.0.1:${(silent.address() as AddressInfo).port}` },
    });
    conns.push(c);
    const started = Date.now();

    // Act
    const e = await statusOf(call(c, 300));

    // Assess
    expect(e.code).toBe(4);
    expect(Date.now() - started).toBeLessThan(300 + 300);
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });

  it('fails with UNAVAILABLE when the TLS certificate is not trusted', async () => {
    const c = openGrpcConnection({ host: HOST, env: { ...env(), GRPC_DEFAULT_SSL_ROOTS_FILE_PATH: '' } });
    conns.push(c);
    const e = await statusOf(call(c));
    expect(e.code).toBe(14);
    expect(e.details).toMatch(/connect to token\.momento\.test failed/);
  });

  it('fails with UNAVAILABLE, not a crash, when the CA file cannot be read', async () => {
    const c = openGrpcConnection({
      host: HOST,
      env: { ...env(), GRPC_DEFAULT_SSL_ROOTS_FILE_PATH: '/nonexistent/ca.pem' },
    });
    conns.push(c);
    expect((await statusOf(call(c))).code).toBe(14);
  });
});

describe('grpc-transport: helpers', () => {
  it.each<[string, string]>([
    ['plain', 'plain'],
    ['a%20b', 'a b'],
    ['caf%C3%A9', 'café'],
    ['100%', '100%'],
    ['bad %ZZ but %41 ok', 'bad %ZZ but A ok'],
  ])('decodes grpc-message %j', (raw, text) => {
    expect(decodeGrpcMessage(raw)).toBe(text);
  });

  it('picks the proxy as grpc-js does', () => {
    const h = 'token.cell-1.example.com';
    expect(proxyFor(h, {})).toBeUndefined();
    expect(proxyFor(h, { grpc_proxy: 'http://a:1', https_proxy: 'http://b:2' })?.host).toBe('a:1');
    expect(proxyFor(h, { https_proxy: 'http://b:2', http_proxy: 'http://c:3' })?.host).toBe('b:2');
    expect(proxyFor(h, { http_proxy: 'http://c:3' })?.host).toBe('c:3');
    expect(proxyFor(h, { grpc_proxy: 'http://a:1', no_grpc_proxy: 'example.com' })).toBeUndefined();
    expect(proxyFor(h, { grpc_proxy: 'http://a:1', no_proxy: '.example.com' })).toBeUndefined();
    expect(proxyFor(h, { grpc_proxy: 'http://a:1', no_proxy: '*' })).toBeUndefined();
    expect(proxyFor(h, { grpc_proxy: 'http://a:1', no_proxy: 'other.com,ample.com' })?.host).toBe('a:1');
    expect(proxyFor(h, { grpc_proxy: 'https://a:1' })).toBeUndefined(); // grpc-js: http:// proxies only
  });
});

describe('the minter over GOAWAY and RST_STREAM', () => {
  const reply = () =>
    token._GenerateDisposableTokenResponse
      .fromObject({ api_key: 'disposable', endpoint: FAKE_ENDPOINT, valid_until: Math.floor(Date.now() / 1000) + 60 })
      .serializeBinary();
  const saved: Record<string, string | undefined> = {};

  beforeEach(() => {
    for (const k of ['grpc_proxy', 'no_grpc_proxy']) saved[k] = process.env[k];
    Object.assign(process.env, { grpc_proxy: proxy.url, no_grpc_proxy: 'no-proxy.invalid' });
  });
  afterEach(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it.each<[string, Behavior]>([
    ['GOAWAY with an error code', (stream) => stream.session?.goaway(NGHTTP2_INTERNAL_ERROR, 0)],
    ['RST_STREAM REFUSED_STREAM', (stream) => stream.close(NGHTTP2_REFUSED_STREAM)],
  ])('retries once on a fresh connection after %s', async (_name, fault) => {
    // Prepare
    const events: MinterEvent[] = [];
    const m = createGrpcMinter({
      keySource: staticKeySource(fakeV2ApiKey()),
      endpoint: FAKE_ENDPOINT,
      deadlineMs: 2000,
      onEvent: (e) => events.push(e),
    });
    let n = 0;
    behavior = (stream, headers, body) =>
      n++ === 0 ? fault(stream, headers, body) : ok(reply())(stream, headers, body);
    const before = proxy.connections;

    // Act
    const t = await m.mint({ grants: [{ type: 'cache', cache: 'app', role: 'readonly' }], ttlSeconds: 60 });
    m.close();

    // Assess
    expect(t.endpoint).toBe(FAKE_ENDPOINT);
    expect(received.map((r) => r.headers[':path'])).toEqual([GENERATE_DISPOSABLE_TOKEN, GENERATE_DISPOSABLE_TOKEN]);
    expect(proxy.connections - before).toBe(2);
    expect(events.map((e) => e.type)).toEqual(['reconnect', 'retry']);
    // Each connection's first call carries the agent header, as the SDK sends it.
    expect(received.map((r) => r.headers.agent)).toEqual([AGENT, AGENT]);
    expect(received[0]?.headers['user-agent']).toBe(USER_AGENT);
  });

  it('does not retry a stream reset that is not UNAVAILABLE', async () => {
    const m = createGrpcMinter({ keySource: staticKeySource(fakeV2ApiKey()), endpoint: FAKE_ENDPOINT });
    behavior = (stream) => stream.close(NGHTTP2_INTERNAL_ERROR);
    const e = await m
      .mint({ grants: [{ type: 'cache', cache: 'app', role: 'readonly' }], ttlSeconds: 60 })
      .catch((err: unknown) => err);
    m.close();
    expect(e).toBeInstanceOf(MomentoError);
    expect(e).toMatchObject({ failure: 'internal', grpcCode: 13 });
    expect(received).toHaveLength(1);
  });
});
