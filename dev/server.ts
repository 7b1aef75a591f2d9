/**
 * `npm run dev`: the vending code on http://localhost:8787/token and the demo page on http://localhost:8080/.
 *
 * The vending code sits behind an emulated API Gateway (dev/api-gateway.ts: proxy events, preflights, each auth
 * mode's authorizer, the gateway responses); this file wires it to the minter, revocation, local sign-in and the
 * demo page, and holds the command line. Without MOMENTO_API_KEY it mints from the embedded fake Momento service —
 * tokens for local development only.
 *
 * Both servers answer only requests whose `Host` is this machine (localhost, 127.0.0.1, [::1]) at their own port
 * (dev/host-guard.ts). `GET /dev/login` (local sign-in) is off when a real MOMENTO_API_KEY is set, unless
 * `--allow-dev-login` turns it on.
 *
 * Usage: npm run dev -- [--config <file>] [--port 8787] [--demo-port 8080 | --no-demo] [--local-auth]
 *                       [--allow-dev-login] [--mints-per-second <n>]
 */
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { validateConfig, type ResolvedConfig } from '../config/schema';
import { DEFAULT_CONFIG_FILE, loadConfigFile } from '../lib/load-config';
import { corsHeaders, problemResponse } from '../lambda/http';
import type { IssuanceEvent, Telemetry } from '../lambda/telemetry';
import type { Minter } from '../lambda/types';
import { createVendHandler, headerOf } from '../lambda/vend';
import { createApiGateway, createAuthEmulator, send } from './api-gateway';
import { startDemoServer } from './demo-server';
import { refuseForeignHost } from './host-guard';
import type { LocalIssuer } from './local-issuer';
import { startDevRevocation } from './revocation';
import type { LocalDataPlane } from './local-momento';
import { parseApiKey } from '../lambda/momento/api-key';
import { requireSupportedNode } from '../scripts/node-support';

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
  /**
   * Serve `GET /dev/login` even with a real Momento key: anyone who can reach the port could then sign in as
   * anyone, in any group, and mint real tokens with that key. @default false (with the fake it is always on)
   */
  readonly allowDevLogin?: boolean;
  /**
   * The embedded fake Momento's account budget: auth operations per second, past which it answers
   * RESOURCE_EXHAUSTED as Momento does (dev/fake-momento). Ignored with a real key. @default no budget
   */
  readonly mintsPerSecond?: number;
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
  /** The local Momento data plane the fake's tokens work against (undefined with a real Momento key). */
  readonly dataPlane: LocalDataPlane | undefined;
  /** Local sign-in for cognito/authorizer modes (undefined when verifying against a real pool). */
  readonly issuer: LocalIssuer | undefined;
  /** Whether `GET /dev/login` is served (local issuer, and the fake Momento or `allowDevLogin`). */
  readonly devLogin: boolean;
  /** Signs a local ID token for `user` in `groups` (local auth only). */
  login(user: string, groups: string[]): string;
  /** The `Authorization` value this mode expects for an ID token: the raw token (cognito), `Bearer <JWT>` (authorizer). */
  authorizationFor(idToken: string): string;
  close(): Promise<void>;
}

function loadConfig(options: DevServerOptions): ResolvedConfig {
  if (options.config !== undefined) return validateConfig(options.config);
  return options.configPath !== undefined
    ? loadConfigFile(options.configPath)
    : loadConfigFile(DEFAULT_CONFIG_FILE, ROOT);
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
      dataPlane: undefined,
      stop: async () => undefined,
    };
  }
  const fake = await import('./fake-momento');
  // grpc-js reads the CA path once, when it loads (the fake loads it): set it before anything else.
  Object.assign(process.env, fake.fakeMomentoEnv());
  // --- local Momento data plane (dev/local-momento): the fake mints tokens that work against it, and their
  // `endpoint` (http://127.0.0.1:<port>) tells the page where it is (client: momentoCredentialsFor). ---
  const dataPlane = await (
    await import('./local-momento')
  ).startLocalDataPlane({ allowOrigins: config.cors.allowOrigins });
  (options.log ?? console.log)(
    `  local Momento: ${dataPlane.endpoint} (data plane for the Web SDK and Node SDK; the fake's tokens work here)`,
  );
  // --- end local Momento ---
  const local = await fake.startLocalMomento({
    authOpsPerSecond: options.mintsPerSecond,
    issueToken: dataPlane.issueToken,
  });
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
    dataPlane,
    stop: async () => {
      minter.close();
      await local.close();
      await dataPlane.close();
    },
  };
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
  const config = loadConfig(options);
  const { minter, fake, dataPlane, stop } = await createMinter(config, options);
  const { emulate, issuer, audience } = await createAuthEmulator(config, options.localAuth ?? false, log);
  const local = await startDevRevocation(config, log);
  const handler = createVendHandler({ config, minter, telemetry: devTelemetry(log), revocation: local?.revocation });
  const allowOrigins = new Set(config.cors.allowOrigins);
  const gateway = createApiGateway({ handler, emulate, allowOrigins, log });
  // Local sign-in mints any identity on request: with a real key that means real tokens for anyone who can reach
  // the port, so it needs the explicit flag then.
  const devLogin = issuer !== undefined && (fake || options.allowDevLogin === true);
  const authorizationFor = (idToken: string) => (config.auth.mode === 'authorizer' ? `Bearer ${idToken}` : idToken);

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
    if (refuseForeignHost(req, res, (server.address() as AddressInfo).port)) {
      log(
        `${new Date().toISOString()} 403 host-not-allowed (Host: ${JSON.stringify((req.headers.host ?? '').slice(0, 100))})`,
      );
      return;
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    const origin = headerOf(req.headers as Record<string, string>, 'origin');
    const cors = corsHeaders(origin, allowOrigins);
    options.onRequest?.(req.method ?? 'GET', url.pathname, origin);
    void (async () => {
      if (url.pathname === '/dev/login' && devLogin && req.method === 'GET') {
        // Local sign-in for development: ?user=alice&groups=admins,members → a signed ID token, and the
        // Authorization value this mode expects for it.
        const user = url.searchParams.get('user') || 'dev-user';
        const groups = (url.searchParams.get('groups') ?? '').split(',').filter(Boolean);
        const idToken = login(user, groups);
        send(res, {
          statusCode: 200,
          headers: { ...cors, 'Content-Type': 'application/json', 'Cache-Control': 'no-store' },
          body: JSON.stringify({ idToken, authorization: authorizationFor(idToken) }),
        });
        // Printable and short in the log line: the names come from the query string.
        const shown = (v: string) => JSON.stringify(v.slice(0, 64)).slice(1, -1);
        log(`${new Date().toISOString()} 200 /dev/login ${shown(user)} groups=${shown(groups.join('+')) || '—'}`);
        return;
      }
      await gateway(req, res, { url, origin, cors });
    })().catch((err: unknown) => {
      log(`dev server error: ${err instanceof Error ? err.name : typeof err}`);
      send(res, problemResponse('internal', 'dev server error', cors));
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
          log,
        });
  const demoPort = demo?.port;

  return {
    tokenUrl: `http://localhost:${port}/token`,
    demoUrl: demoPort === undefined ? undefined : `http://localhost:${demoPort}/`,
    config,
    fake,
    dataPlane,
    issuer,
    devLogin,
    login,
    authorizationFor,
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

/** A command line `npm run dev` cannot run: printed with the usage; exit code 2. */
export class DevUsageError extends Error {
  override readonly name = 'DevUsageError';
}

/** A port given on the command line: a whole number 0–65535 (0: a free one). @throws DevUsageError */
function portArg(flag: string, text: string): number {
  const n = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (!(n >= 0 && n <= 65535)) throw new DevUsageError(`${flag} needs a port number from 0 to 65535, not "${text}"`);
  return n;
}

/** What `npm run dev -- …` asks for. */
export type DevCommand =
  | { readonly help: true }
  | {
      readonly help: false;
      readonly options: Pick<DevServerOptions, 'configPath' | 'port' | 'demoPort' | 'localAuth' | 'allowDevLogin'>;
      /** `--mints-per-second`, unparsed (dev/fake-momento parses it). */
      readonly mintsPerSecond: string | undefined;
    };

/**
 * Parses the dev server's command line (pure).
 *
 * @throws DevUsageError for an unknown option, a missing value or a port that is no port
 * @example
 * parseDevArgs(['--port', '9000', '--no-demo']) // { help: false, options: { port: 9000, demoPort: -1, … }, … }
 */
export function parseDevArgs(argv: readonly string[]): DevCommand {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      options: {
        config: { type: 'string' },
        port: { type: 'string', default: '8787' },
        'demo-port': { type: 'string', default: '8080' },
        'local-auth': { type: 'boolean', default: false },
        'no-demo': { type: 'boolean', default: false },
        'allow-dev-login': { type: 'boolean', default: false },
        'mints-per-second': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    throw new DevUsageError((err as Error).message);
  }
  if (values.help) return { help: true };
  return {
    help: false,
    options: {
      configPath: values.config,
      port: portArg('--port', values.port),
      demoPort: values['no-demo'] ? -1 : portArg('--demo-port', values['demo-port']),
      localAuth: values['local-auth'],
      allowDevLogin: values['allow-dev-login'],
    },
    mintsPerSecond: values['mints-per-second'],
  };
}

/**
 * Why `MOMENTO_API_KEY` cannot be used, or undefined when it is a Momento API key in shape (v2 with an endpoint,
 * or legacy v1) — checked with the vending function's own parser, so a junk value is never announced as real.
 * Never quotes the key.
 */
export function momentoKeyProblem(key: string, endpoint: string | undefined): string | undefined {
  try {
    parseApiKey(key, endpoint);
    return undefined;
  } catch (err) {
    // The parser speaks of "the secret" (where the function reads the key); here the key is an env var.
    return (err instanceof Error ? err.message : String(err)).replace(
      /^The Momento API key in the secret is not usable: /,
      '',
    );
  }
}

/**
 * The startup lines that are not a listing: what this config and these options turn on or off, which a newcomer
 * would otherwise discover as a 404 or a "network error".
 */
export function startupNotes(dev: Pick<DevServer, 'config' | 'issuer' | 'demoUrl' | 'devLogin'>): string[] {
  const c = dev.config;
  const notes: string[] = [];
  if (c.auth.mode === 'cognito' && c.auth.existingUserPool !== undefined && dev.issuer === undefined)
    notes.push(
      `  ⚠  auth.existingUserPool is set: ID tokens are verified against the real pool ${c.auth.existingUserPool.userPoolId}, and\n` +
        '  ⚠  GET /dev/login (local sign-in) is OFF (404). Send ID tokens of that pool, or restart with --local-auth.',
    );
  if (dev.demoUrl !== undefined) {
    const origin = new URL(dev.demoUrl).origin;
    if (c.auth.mode !== 'open' && !c.cors.allowOrigins.includes(origin))
      notes.push(
        `  ⚠  The demo page's origin ${origin} is not in this config's cors.allowOrigins: the browser will refuse\n` +
          '  ⚠  the answers (the page shows a network error). Add it to cors.allowOrigins for local runs, or use curl.',
      );
    const groups = [...new Set(c.tiers.flatMap((t) => t.groups))];
    if (dev.devLogin && groups.length > 0)
      notes.push(`  demo sign-in: groups this config's tiers name: ${groups.join(', ')}`);
  }
  return notes;
}

async function main(): Promise<void> {
  const command = parseDevArgs(process.argv.slice(2));
  if (command.help) {
    console.log(USAGE);
    return;
  }
  requireSupportedNode('npm run dev');
  const key = process.env.MOMENTO_API_KEY;
  if (key) {
    const problem = momentoKeyProblem(key, process.env.MOMENTO_ENDPOINT ?? loadDevConfig(command).momento.endpoint);
    if (problem !== undefined) {
      console.error(
        `error: MOMENTO_API_KEY is set but cannot be used: ${problem}\n` +
          'Unset it to mint with the embedded fake Momento (local development only), or set a v2 API key\n' +
          '(and MOMENTO_ENDPOINT, the region endpoint next to it in the Momento console).',
      );
      process.exitCode = 2;
      return;
    }
  }
  const dev = await startDevServer({
    ...command.options,
    mintsPerSecond:
      command.mintsPerSecond === undefined
        ? undefined
        : (await import('./fake-momento')).parseAuthOpsPerSecond(command.mintsPerSecond),
  });
  const c = dev.config;
  const lines = [
    '',
    `  Momento TVM dev server — auth mode: ${c.auth.mode}`,
    `  token URL:  ${dev.tokenUrl}`,
    dev.demoUrl ? `  demo page:  ${demoLink(dev)}` : '',
    dev.demoUrl && dev.dataPlane ? `  chat page:  ${chatLink(dev)}  (open it in two windows)` : '',
    `  CORS:       ${c.cors.allowOrigins.join(', ')}`,
    '  tiers:',
    ...c.tiers.map(
      (t) => `    ${t.name} (groups: ${t.groups.join(', ') || '—'}): ${t.permissions.map(describe).join('; ')}`,
    ),
    dev.devLogin
      ? `  sign in:    curl '${dev.tokenUrl.replace('/token', '/dev/login')}?user=alice&groups=${firstGroup(c) ?? ''}'  (local issuer, dev only)`
      : '',
    ...startupNotes(dev),
    '',
  ].filter((l) => l !== '');
  console.log(lines.join('\n'));
  if (dev.issuer && !dev.fake)
    console.log(
      dev.devLogin
        ? '\n  ⚠  --allow-dev-login WITH A REAL MOMENTO_API_KEY: GET /dev/login signs in ANYONE who can reach this port,\n' +
            '  ⚠  as ANY user in ANY group, and /token then mints REAL Momento tokens with your key. Local use only.\n'
        : '\n  ⚠  A real MOMENTO_API_KEY is set: GET /dev/login (local sign-in) is OFF. Send ID tokens of your own,\n' +
            '  ⚠  or restart with --allow-dev-login to turn local sign-in on (it then mints real tokens for anyone).\n',
    );
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

/** The config `main` will run with (for checking the key's endpoint before anything starts). */
function loadDevConfig(command: Extract<DevCommand, { help: false }>): ResolvedConfig {
  return loadConfig({ configPath: command.options.configPath });
}

/** The group the demo page's sign-in form holds unless told otherwise (demo/index.html). */
const DEMO_DEFAULT_GROUP = 'members';

/** The first group a tier names (for the printed sign-in example). */
const firstGroup = (c: ResolvedConfig): string | undefined => c.tiers.find((t) => t.groups.length > 0)?.groups[0];

/** The chat page URL for this TVM (beside the demo page; it needs the local data plane or real Momento). */
export function chatLink(dev: Pick<DevServer, 'demoUrl' | 'tokenUrl'>): string {
  const url = new URL('chat.html', dev.demoUrl!);
  url.searchParams.set('tvm', dev.tokenUrl);
  return url.toString();
}

/** The demo page URL for this TVM (the page offers local sign-in itself when /dev/login is on). */
export function demoLink(dev: Pick<DevServer, 'demoUrl' | 'tokenUrl' | 'config' | 'devLogin'>): string {
  const url = new URL(dev.demoUrl!);
  url.searchParams.set('tvm', dev.tokenUrl);
  // The page's sign-in form starts with `members` (a group of the default config); a config without that group
  // gets its own first group instead, so the prefilled sign-in always lands in a tier.
  const group = firstGroup(dev.config);
  const hasPageDefault = dev.config.tiers.some((t) => t.groups.includes(DEMO_DEFAULT_GROUP));
  if (dev.devLogin && group !== undefined && !hasPageDefault) url.searchParams.set('groups', group);
  return url.toString();
}

const USAGE = `Usage: npm run dev -- [options]

  --config <file>      config file (default config/tvm.config.ts)
  --port <n>           token server port (default 8787)
  --demo-port <n>      demo page port (default 8080)
  --no-demo            no demo page
  --local-auth         local issuer even when the config names an existing Cognito pool
  --allow-dev-login    serve GET /dev/login even with a real MOMENTO_API_KEY (mints real tokens for anyone)
  --mints-per-second <n>  the embedded fake Momento's account budget (Momento's default is 5); past it: 429s
  -h, --help           this text`;

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
    if (err instanceof DevUsageError) {
      console.error(`error: ${err.message}\n\n${USAGE}`);
      process.exit(2);
    }
    console.error(err instanceof Error ? err.message : err);
    if ((err as NodeJS.ErrnoException)?.code === 'EADDRINUSE')
      console.error('A port is taken (another dev server?): stop it, or pick others with --port / --demo-port.');
    process.exit(1);
  });
}
