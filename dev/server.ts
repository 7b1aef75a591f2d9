/**
 * `npm run dev`: the vending code on http://localhost:8787/token and the demo page on http://localhost:8080/.
 *
 * Builds API Gateway REST proxy events from real HTTP requests, answers CORS preflights as the stack's API
 * Gateway does, and emulates each auth mode: open; cognito (ID tokens verified against the configured pool's
 * JWKS, or a local issuer offline); authorizer (the real authorizer code, against a local issuer offline).
 * Without MOMENTO_API_KEY it mints from the embedded fake Momento service — tokens for local development only.
 *
 * Usage: npm run dev -- [--config <file>] [--port 8787] [--demo-port 8080 | --no-demo] [--local-auth]
 */
import { randomUUID, createHash } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { validateConfig, type ResolvedConfig } from '../config/schema';
import { preflightResponse, problemResponse, corsHeaders } from '../lambda/http';
import type { IssuanceEvent, Telemetry } from '../lambda/telemetry';
import type { Minter } from '../lambda/types';
import { createVendHandler, headerOf } from '../lambda/vend';
import { startDemoServer } from './demo-server';
import { createLocalIssuer, type LocalIssuer } from './local-issuer';
import { startDevRevocation } from './revocation';

const ROOT = path.resolve(__dirname, '..');

/** Options of {@link startDevServer}. */
export interface DevServerOptions {
  /** Path of the config file (TS or JSON). @default config/tvm.config.ts */
  readonly configPath?: string;
  /** An already-loaded config (tests); wins over configPath. */
  readonly config?: unknown;
  /** TVM port; 0 picks a free one. @default 8787 */
  readonly port?: number;
  /** Demo page port; 0 picks a free one; -1 disables. @default 8080 */
  readonly demoPort?: number;
  /** Use a local issuer even when the config names a real user pool. @default false (true when offline-only) */
  readonly localAuth?: boolean;
  /** Momento key; unset → the embedded fake. @default process.env.MOMENTO_API_KEY */
  readonly momentoApiKey?: string;
  /** Endpoint for a v2 key. @default process.env.MOMENTO_ENDPOINT ?? config.momento.endpoint */
  readonly momentoEndpoint?: string;
  /** Where request lines go. @default console.log */
  readonly log?: (line: string) => void;
  /** Called for every request the TVM port receives, preflights included (tests count requests with it). */
  readonly onRequest?: (method: string, path: string, origin: string | undefined) => void;
}

export interface DevServer {
  /** e.g. http://localhost:8787/token */
  readonly tokenUrl: string;
  /** e.g. http://localhost:8080/ (undefined when disabled) */
  readonly demoUrl: string | undefined;
  readonly config: ResolvedConfig;
  /** Whether tokens come from the embedded fake Momento. */
  readonly fake: boolean;
  /** Local sign-in for cognito/authorizer modes (undefined when verifying against a real pool). */
  readonly issuer: LocalIssuer | undefined;
  /** Signs a local ID token for `user` in `groups` (local auth only). */
  login(user: string, groups: string[]): string;
  close(): Promise<void>;
}

async function loadConfig(options: DevServerOptions): Promise<ResolvedConfig> {
  if (options.config !== undefined) return validateConfig(options.config);
  const file = path.resolve(options.configPath ?? path.join(ROOT, 'config', 'tvm.config.ts'));
  const mod = (await import(file)) as { default?: unknown };
  // tsx/CommonJS interop may wrap the default export once more.
  const value = (mod.default as { default?: unknown } | undefined)?.default ?? mod.default ?? mod;
  return validateConfig(value);
}

/** Starts the fake Momento (when no key is given) and the real gRPC minter. */
async function createMinter(config: ResolvedConfig, options: DevServerOptions) {
  const key = options.momentoApiKey ?? process.env.MOMENTO_API_KEY;
  if (key) {
    const { createGrpcMinter, staticKeySource } = await import('../lambda/momento');
    const endpoint = options.momentoEndpoint ?? process.env.MOMENTO_ENDPOINT ?? config.momento.endpoint;
    return {
      minter: createGrpcMinter({
        keySource: staticKeySource(key),
        endpoint,
        deadlineMs: config.momento.deadlineMs,
      }) as Minter,
      fake: false,
      stop: async () => undefined,
    };
  }
  const fake = await import('./fake-momento');
  // grpc-js reads the CA path once, when it loads (the fake loads it): set it before anything else.
  Object.assign(process.env, fake.fakeMomentoEnv());
  const local = await fake.startLocalMomento();
  Object.assign(process.env, local.env);
  const { createGrpcMinter, staticKeySource } = await import('../lambda/momento');
  const minter = createGrpcMinter({
    keySource: staticKeySource(fake.fakeV2ApiKey()),
    endpoint: fake.FAKE_ENDPOINT,
    deadlineMs: config.momento.deadlineMs,
  });
  return {
    minter: minter as Minter,
    fake: true,
    stop: async () => {
      minter.close();
      await local.close();
    },
  };
}

/** Verifies an `Authorization` value the way the deployed API Gateway would, producing requestContext.authorizer. */
type AuthEmulator = (
  authorization: string | undefined,
  methodArn: string,
) => Promise<Record<string, unknown> | 'unauthorized' | null>;

async function createAuthEmulator(
  config: ResolvedConfig,
  localAuth: boolean,
): Promise<{ emulate: AuthEmulator; issuer?: LocalIssuer; audience?: string }> {
  const auth = config.auth;
  if (auth.mode === 'open') return { emulate: async () => null };
  const { JwtVerifier, CognitoJwtVerifier } = await import('aws-jwt-verify');
  if (auth.mode === 'cognito') {
    const useReal = auth.existingUserPool !== undefined && !localAuth;
    const issuer = useReal ? undefined : createLocalIssuer('https://local-issuer.tvm.localhost/cognito');
    const audience = 'tvm-dev-client';
    let verify: (token: string) => Promise<unknown>;
    if (issuer) {
      const local = JwtVerifier.create({
        issuer: issuer.issuer,
        audience,
        jwksUri: `${issuer.issuer}/.well-known/jwks.json`,
      });
      local.cacheJwks(issuer.jwks);
      verify = (token) => local.verify(token);
    } else {
      const pool = CognitoJwtVerifier.create({
        userPoolId: auth.existingUserPool!.userPoolId,
        tokenUse: 'id',
        clientId: auth.existingUserPool!.clientIds,
      });
      verify = (token) => pool.verify(token);
    }
    return {
      issuer,
      audience,
      emulate: async (authorization) => {
        // The Cognito authorizer takes the raw ID token (a "Bearer " prefix is tolerated by API Gateway too).
        const token = authorization?.replace(/^Bearer\s+/i, '');
        if (!token) return 'unauthorized';
        try {
          const payload = (await verify(token)) as Record<string, unknown>;
          // API Gateway hands claims to the function as strings; groups as "a,b".
          const claims = Object.fromEntries(
            Object.entries(payload).map(([k, v]) => [
              k,
              Array.isArray(v) ? v.join(',') : typeof v === 'string' ? v : JSON.stringify(v),
            ]),
          );
          return { claims };
        } catch {
          return 'unauthorized';
        }
      },
    };
  }
  // Authorizer mode: the real authorizer code; offline its issuer is replaced by a local one.
  const issuer = createLocalIssuer('https://local-issuer.tvm.localhost/oidc');
  const localConfig = {
    ...auth,
    issuer: issuer.issuer,
    jwksUri: `${issuer.issuer}/.well-known/jwks.json`,
    algorithms: ['RS256' as const],
  };
  const [{ createAuthorizer }, { createJwtVerifier }] = await Promise.all([
    import('../authorizers/authorizer'),
    import('../authorizers/verify'),
  ]);
  const verifier = createJwtVerifier(localConfig);
  verifier.cacheJwks(issuer.jwks);
  const authorize = createAuthorizer({ auth: localConfig, verifier, log: () => undefined });
  return {
    issuer,
    audience: auth.audience[0],
    emulate: async (authorization, methodArn) => {
      try {
        const result = await authorize({ type: 'TOKEN', authorizationToken: authorization ?? '', methodArn });
        return { principalId: result.principalId, ...result.context };
      } catch {
        return 'unauthorized';
      }
    },
  };
}

/**
 * The API Gateway REST proxy event for a request (exported for tests). Null-prototype maps: a parameter named
 * `__proto__` or `constructor` is an unknown parameter (400), not a property of `Object.prototype` (a 500).
 */
export function toEvent(
  req: Pick<http.IncomingMessage, 'headers' | 'method' | 'socket'>,
  url: URL,
  authorizer: Record<string, unknown> | null,
): APIGatewayProxyEvent {
  const headers: Record<string, string> = Object.create(null);
  for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
  const multi: Record<string, string[]> = Object.create(null);
  for (const [k, v] of url.searchParams) (multi[k] ??= []).push(v);
  const hasQuery = Object.keys(multi).length > 0;
  return {
    resource: '/token',
    path: url.pathname,
    httpMethod: req.method ?? 'GET',
    headers,
    multiValueHeaders: {},
    queryStringParameters: hasQuery
      ? Object.fromEntries(Object.entries(multi).map(([k, v]) => [k, v[v.length - 1]!]))
      : null,
    multiValueQueryStringParameters: hasQuery ? multi : null,
    pathParameters: null,
    stageVariables: null,
    body: null,
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer,
      protocol: 'HTTP/1.1',
      httpMethod: req.method ?? 'GET',
      identity: {
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? null,
      } as APIGatewayProxyEvent['requestContext']['identity'],
      path: url.pathname,
      stage: 'local',
      requestId: randomUUID(),
      requestTimeEpoch: Date.now(),
      resourceId: 'local',
      resourcePath: '/token',
    },
  };
}

function send(res: http.ServerResponse, result: APIGatewayProxyResult): void {
  res.writeHead(result.statusCode, result.headers as http.OutgoingHttpHeaders);
  res.end(result.body);
}

/** One readable line per request: who, what was granted, how — never the token. */
function devTelemetry(log: (line: string) => void): Telemetry {
  return {
    record(e: IssuanceEvent) {
      const who = e.principalId ?? 'anonymous';
      const what =
        e.decision === 'granted'
          ? `tiers=${e.tiers?.join('+')} statements=${e.permissionCount} ttl=${e.ttlSeconds}s ${e.tokenSource}`
          : `${e.code}${e.reason ? ` (${e.reason})` : ''}`;
      log(`${new Date().toISOString()} ${e.status} ${who} ${what} ${e.latencyMs}ms`);
    },
  };
}

/** Starts the dev server. */
export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const log = options.log ?? ((line: string) => console.log(line));
  const config = await loadConfig(options);
  const { minter, fake, stop } = await createMinter(config, options);
  const { emulate, issuer, audience } = await createAuthEmulator(config, options.localAuth ?? false);
  const local = await startDevRevocation(config, log);
  const handler = createVendHandler({ config, minter, telemetry: devTelemetry(log), revocation: local?.revocation });
  const allowOrigins = new Set(config.cors.allowOrigins);

  const login = (user: string, groups: string[]): string => {
    if (!issuer) throw new Error('local sign-in is off: the config names a real user pool (use --local-auth)');
    const sub = config.auth.mode === 'cognito' ? uuidFrom(user) : user;
    const groupsClaim = config.auth.mode === 'authorizer' ? config.auth.groupsClaim : 'cognito:groups';
    return issuer.sign({
      sub,
      aud: audience,
      token_use: 'id',
      'cognito:username': user,
      email: `${user}@example.test`,
      [groupsClaim]: groups,
    });
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const origin = headerOf(req.headers as Record<string, string>, 'origin');
    const cors = corsHeaders(origin, allowOrigins);
    options.onRequest?.(req.method ?? 'GET', url.pathname, origin);
    void (async () => {
      if (url.pathname === '/dev/login' && issuer) {
        // Local sign-in for development: ?user=alice&groups=admins,members → a signed ID token.
        const user = url.searchParams.get('user') ?? 'dev-user';
        const groups = (url.searchParams.get('groups') ?? '').split(',').filter(Boolean);
        send(res, {
          statusCode: 200,
          headers: { ...cors, 'Content-Type': 'application/json', 'Cache-Control': 'no-store' },
          body: JSON.stringify({ idToken: login(user, groups) }),
        });
        return;
      }
      if (url.pathname !== '/token') {
        send(res, problemResponse(404, 'not-found', 'the TVM serves GET /token', cors));
        return;
      }
      if (req.method === 'OPTIONS') {
        send(res, preflightResponse(origin, allowOrigins));
        return;
      }
      const authorizer = await emulate(
        headerOf(req.headers as Record<string, string>, 'authorization'),
        'arn:aws:execute-api:local:000000000000:local/local/GET/token',
      );
      if (authorizer === 'unauthorized') {
        // What the stack's UNAUTHORIZED gateway response answers, CORS headers included.
        send(res, problemResponse(401, 'unauthorized', 'missing or invalid credentials', cors));
        log(`${new Date().toISOString()} 401 unauthorized (gateway)`);
        return;
      }
      send(res, await handler(toEvent(req, url, authorizer)));
    })().catch((err: unknown) => {
      log(`dev server error: ${err instanceof Error ? err.name : typeof err}`);
      send(res, problemResponse(500, 'internal', 'dev server error', cors));
    });
  });
  await new Promise<void>((resolve, reject) =>
    server.once('error', reject).listen(options.port ?? 8787, '127.0.0.1', resolve),
  );
  const port = (server.address() as AddressInfo).port;
  const demo =
    options.demoPort === -1
      ? undefined
      : await startDemoServer({
          port: options.demoPort ?? 8080,
          clientFile: await (await import('../client/build')).buildClient(),
        });
  const demoPort = demo?.port;

  return {
    tokenUrl: `http://localhost:${port}/token`,
    demoUrl: demoPort === undefined ? undefined : `http://localhost:${demoPort}/`,
    config,
    fake,
    issuer,
    login,
    async close() {
      server.closeAllConnections();
      await Promise.all([new Promise((r) => server.close(r)), demo?.close()]);
      await stop();
      await local?.table.close();
    },
  };
}

/** A stable UUID-shaped subject for a local user name (Cognito subs are UUIDs). */
function uuidFrom(user: string): string {
  const h = createHash('sha256').update(user).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      config: { type: 'string' },
      port: { type: 'string', default: '8787' },
      'demo-port': { type: 'string', default: '8080' },
      'local-auth': { type: 'boolean', default: false },
      'no-demo': { type: 'boolean', default: false },
    },
  });
  const dev = await startDevServer({
    configPath: values.config,
    port: Number(values.port),
    demoPort: values['no-demo'] ? -1 : Number(values['demo-port']),
    localAuth: values['local-auth'],
  });
  const c = dev.config;
  const lines = [
    '',
    `  Momento TVM dev server — auth mode: ${c.auth.mode}`,
    `  token URL:  ${dev.tokenUrl}`,
    dev.demoUrl ? `  demo page:  ${demoLink(dev)}` : '',
    `  CORS:       ${c.cors.allowOrigins.join(', ')}`,
    '  tiers:',
    ...c.tiers.map(
      (t) => `    ${t.name} (groups: ${t.groups.join(', ') || '—'}): ${t.permissions.map(describe).join('; ')}`,
    ),
    dev.issuer
      ? `  sign in:    curl '${dev.tokenUrl.replace('/token', '/dev/login')}?user=alice&groups=${c.tiers[0]?.groups[0] ?? ''}'  (local issuer, dev only)`
      : '',
    '',
  ].filter((l) => l !== '');
  console.log(lines.join('\n'));
  if (dev.fake)
    console.log(
      '\n  ⚠  NO MOMENTO_API_KEY: minting with the EMBEDDED FAKE Momento service.\n' +
        '  ⚠  These tokens are for LOCAL DEVELOPMENT ONLY; they do not work against Momento.\n' +
        '  ⚠  Set MOMENTO_API_KEY (and MOMENTO_ENDPOINT for a v2 key) to mint real tokens.\n',
    );
  const shutdown = () => void dev.close().then(() => process.exit(0));
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

/** The demo page URL; with local sign-in it carries a dev ID token for the first tier's first group. */
function demoLink(dev: DevServer): string {
  const url = new URL(dev.demoUrl!);
  url.searchParams.set('tvm', dev.tokenUrl);
  const group = dev.config.tiers.find((t) => t.groups.length > 0)?.groups[0];
  if (dev.issuer && group) url.searchParams.set('auth', dev.login('dev-user', [group]));
  return url.toString();
}

function describe(p: ResolvedConfig['tiers'][number]['permissions'][number]): string {
  const target =
    p.type === 'cache'
      ? p.key
        ? `key ${p.key}`
        : p.keyPrefix
          ? `keys ${p.keyPrefix}*`
          : 'all keys'
      : p.topic
        ? `topic ${p.topic}`
        : p.topicPrefix
          ? `topics ${p.topicPrefix}*`
          : 'all topics';
  return `${p.role} ${p.cache === '*' ? 'every cache' : p.cache}/${target}`;
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    if ((err as NodeJS.ErrnoException)?.code === 'EADDRINUSE')
      console.error('A port is taken (another dev server?): stop it, or pick others with --port / --demo-port.');
    process.exit(1);
  });
}
