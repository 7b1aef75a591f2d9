/**
 * Shared wiring for the handler-level integration tests (modes, faults, quota): the REAL vending handler built
 * exactly as lambda/handler.ts builds it (validated config → createGrpcMinter → createVendHandler), the fake
 * Momento token service behind its CONNECT proxy (real gRPC over TLS), a stub of the Lambda Parameters and
 * Secrets extension, and helpers to write the protobuf the fake decodes. Loopback only; everything has a close().
 *
 * Not a test file (jest matches *.test.ts only). setup-env.ts has pointed grpc-js at the test CA before any of
 * this loads; nothing here requires grpc-js at import time.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { permission_messages as pm } from '@gomomento/generated-types/dist/permissionmessages';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { validateConfig, type ResolvedConfig, type TvmConfig } from '../../config/schema';
import { FAKE_ENDPOINT, startLocalMomento, type LocalMomento } from '../../dev/fake-momento';
import { createGrpcMinter, type GrpcMinter, type KeySource, type MinterEvent } from '../../lambda/momento';
import type { IssuanceEvent, Telemetry } from '../../lambda/telemetry';
import { createVendHandler, type VendHandler } from '../../lambda/vend';

/** The app client id `cognitoAuthorizer()` (test/support/events.ts) puts in `aud`. */
export const COGNITO_CLIENT_ID = '4example1client2id3';

/** Starts the fake Momento + proxy and points `grpc_proxy` at it (read per channel, so after setup-env is fine). */
export async function startMomento(): Promise<LocalMomento> {
  const local = await startLocalMomento();
  Object.assign(process.env, local.env);
  return local;
}

/**
 * An operator config file, validated as at synth, with what a local deployment must change: Momento is the
 * fake (`momento.test`), and any other override (deadline, token cache).
 */
export function configFor(
  file: TvmConfig,
  overrides: Omit<Partial<TvmConfig>, 'momento'> & { momento?: Partial<TvmConfig['momento']> } = {},
): ResolvedConfig {
  return validateConfig({
    ...file,
    ...overrides,
    momento: { ...file.momento, endpoint: FAKE_ENDPOINT, ...(overrides.momento ?? {}) },
  });
}

/** A telemetry sink that keeps every issuance event and minter note (nothing is logged). */
export function recorder(): Telemetry & { events: IssuanceEvent[]; notes: MinterEvent[] } {
  const events: IssuanceEvent[] = [];
  const notes: MinterEvent[] = [];
  return {
    events,
    notes,
    record: (e) => void events.push(e),
    note: (_message, details) => void notes.push(details as unknown as MinterEvent),
  };
}

/** What a Lambda container holds after init. */
export interface Container {
  readonly handler: VendHandler;
  readonly minter: GrpcMinter;
  readonly telemetry: ReturnType<typeof recorder>;
}

/**
 * Builds one "container" the way lambda/handler.ts does at module scope, with the key source injected:
 * createGrpcMinter({ keySource, endpoint: config.momento.endpoint, deadlineMs: config.momento.deadlineMs,
 * onEvent → telemetry.note }), then createVendHandler. Like handler.ts, nothing is warmed up at init (grpc-js, the
 * key and the connection come with the first mint) unless `warmUp` asks for it.
 */
export async function container(
  config: ResolvedConfig,
  keySource: KeySource,
  options: { nowSeconds?: () => number; cognitoClientIds?: string[]; warmUp?: boolean } = {},
): Promise<Container> {
  const telemetry = recorder();
  const minter = createGrpcMinter({
    keySource,
    endpoint: config.momento.endpoint,
    deadlineMs: config.momento.deadlineMs,
    onEvent: (event) => telemetry.note?.('momento connection', { ...event }),
  });
  if (options.warmUp ?? false) await minter.warmUp();
  const cognitoClientIds =
    options.cognitoClientIds ?? (config.auth.mode === 'cognito' ? [COGNITO_CLIENT_ID] : undefined);
  const handler = createVendHandler({ config, minter, telemetry, cognitoClientIds, nowSeconds: options.nowSeconds });
  return { handler, minter, telemetry };
}

/** A parsed answer: status, headers, JSON body. Never print `body.authToken`. */
export interface Answer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Record<string, unknown>;
  readonly ms: number;
}

/** Calls the handler, timing it. */
export async function call(handler: VendHandler, event: Parameters<VendHandler>[0]): Promise<Answer> {
  const started = performance.now();
  const res: APIGatewayProxyResult = await handler(event);
  const ms = performance.now() - started;
  return {
    status: res.statusCode,
    headers: Object.fromEntries(Object.entries(res.headers ?? {}).map(([k, v]) => [k, String(v)])),
    body: JSON.parse(res.body) as Record<string, unknown>,
    ms,
  };
}

/** Decodes the `authToken` a client gets (base64 JSON {endpoint, api_key}) without ever printing it. */
export function decodeAuthToken(authToken: unknown): { endpoint: string; api_key: string } {
  if (typeof authToken !== 'string') throw new Error('authToken is not a string');
  return JSON.parse(Buffer.from(authToken, 'base64').toString('utf8')) as { endpoint: string; api_key: string };
}

// ---- What Momento receives, written out in the wire's own terms (decoded by the fake: one branch per oneof). ----

const b = (s: string): Buffer => Buffer.from(s, 'utf8');
const cacheSel = (cache: string) => (cache === '*' ? { all_caches: {} } : { cache_selector: { cache_name: cache } });

/** Wire roles by meaning, from the official generated enums. */
export const ROLE = {
  cacheReadWrite: pm.CacheRole.CacheReadWrite,
  cacheReadOnly: pm.CacheRole.CacheReadOnly,
  cacheWriteOnly: pm.CacheRole.CacheWriteOnly,
  topicPublishSubscribe: pm.TopicRole.TopicReadWrite,
  topicSubscribeOnly: pm.TopicRole.TopicReadOnly,
  topicPublishOnly: pm.TopicRole.TopicWriteOnly,
} as const;

/** `cache_permissions` on the wire. */
export function cacheStmt(role: number, cache: string, item: { key?: string; keyPrefix?: string } = {}) {
  const sel =
    item.key !== undefined
      ? { item_selector: { key: b(item.key) } }
      : item.keyPrefix !== undefined
        ? { item_selector: { key_prefix: b(item.keyPrefix) } }
        : { all_items: {} };
  return { cache_permissions: { role, ...cacheSel(cache), ...sel } };
}

/** `topic_permissions` on the wire. */
export function topicStmt(role: number, cache: string, t: { topic?: string; topicPrefix?: string } = {}) {
  const sel =
    t.topic !== undefined
      ? { topic_selector: { topic_name: t.topic } }
      : t.topicPrefix !== undefined
        ? { topic_selector: { topic_name_prefix: t.topicPrefix } }
        : { all_topics: {} };
  return { topic_permissions: { role, ...cacheSel(cache), ...sel } };
}

/** The `Permissions` message: explicit statements, in order. */
export const explicit = (...statements: unknown[]) => ({ explicit: { permissions: statements } });

// ---- The Lambda Parameters and Secrets extension, stubbed. ----

/** What the stub answers: the secret's value, or a fault. */
export type ExtensionBehavior =
  | { readonly secret: string }
  /** 404 + Secrets Manager's ResourceNotFoundException, as relayed by the extension for an unknown secret id. */
  | 'not-found'
  /** 400 ResourceNotFoundException for AWSCURRENT: the secret exists but never got a value (created empty). */
  | 'no-value'
  /** 200 with `SecretString: ""`. */
  | 'empty'
  /** The socket is destroyed without an answer. */
  | 'drop';

/** A running extension stub. */
export interface ExtensionStub {
  readonly port: number;
  /** GET /secretsmanager/get requests answered so far (any outcome). */
  readonly reads: number;
  /** Requests that lacked the right X-Aws-Parameters-Secrets-Token (answered 401, as the extension does). */
  readonly unauthorized: number;
  /** secretIds asked for, in order. */
  readonly secretIds: string[];
  set(behavior: ExtensionBehavior): void;
  /** Stops listening (the extension is gone: connections are refused). */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** The session token the stub expects in `X-Aws-Parameters-Secrets-Token` (Lambda's AWS_SESSION_TOKEN). */
export const SESSION_TOKEN = 'integration-session-token';

/**
 * Emulates the AWS Parameters and Secrets Lambda Extension on 127.0.0.1: `GET /secretsmanager/get?secretId=…`
 * with `X-Aws-Parameters-Secrets-Token` → Secrets Manager's GetSecretValue JSON (`SecretString`, …).
 */
export async function startExtensionStub(initial: ExtensionBehavior): Promise<ExtensionStub> {
  let behavior = initial;
  let reads = 0;
  let unauthorized = 0;
  const secretIds: string[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET' || url.pathname !== '/secretsmanager/get') {
      res.writeHead(404).end('not found');
      return;
    }
    if (req.headers['x-aws-parameters-secrets-token'] !== SESSION_TOKEN) {
      unauthorized += 1;
      res.writeHead(401).end('Unauthorized: missing or invalid X-Aws-Parameters-Secrets-Token');
      return;
    }
    reads += 1;
    const secretId = url.searchParams.get('secretId') ?? '';
    secretIds.push(secretId);
    const b2 = behavior;
    if (b2 === 'drop') {
      req.socket.destroy();
      return;
    }
    if (b2 === 'not-found') {
      res
        .writeHead(404, { 'content-type': 'text/plain' })
        .end("ResourceNotFoundException: Secrets Manager can't find the specified secret.");
      return;
    }
    if (b2 === 'no-value') {
      res
        .writeHead(400, { 'content-type': 'text/plain' })
        .end(
          "ResourceNotFoundException: Secrets Manager can't find the specified secret value for staging label: AWSCURRENT",
        );
      return;
    }
    const secretString = b2 === 'empty' ? '' : b2.secret;
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        ARN: `arn:aws:secretsmanager:us-west-2:123456789012:secret:${secretId}-AbCdEf`,
        Name: secretId,
        SecretString: secretString,
        VersionId: '00000000-0000-4000-8000-000000000000',
        VersionStages: ['AWSCURRENT'],
        CreatedDate: '2026-01-01T00:00:00.000Z',
      }),
    );
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      if (!server.listening) return resolve();
      server.closeAllConnections();
      server.close(() => resolve());
    });
  await listen(0);
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    get reads() {
      return reads;
    },
    get unauthorized() {
      return unauthorized;
    },
    secretIds,
    set: (next) => {
      behavior = next;
    },
    stop,
    restart: () => listen(port),
    close: stop,
  };
}
