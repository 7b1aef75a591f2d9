/**
 * Shared wiring for the handler-level integration tests (modes, faults, quota): the REAL vending handler built
 * exactly as lambda/handler.ts builds it (validated config → createGrpcMinter → createVendHandler), the fake
 * Momento token service behind its CONNECT proxy (real gRPC over TLS), a stub of Secrets Manager's
 * `GetSecretValue`, and helpers to write the protobuf the fake decodes. Loopback only; everything has a close().
 *
 * Not a test file (jest matches *.test.ts only). setup-env.ts has pointed grpc-js at the test CA before any of
 * this loads; nothing here requires grpc-js at import time.
 */
import { permission_messages as pm } from '@gomomento/generated-types/dist/permissionmessages';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { validateConfig, type ResolvedConfig, type TvmConfig } from '../../config/schema';
import { FAKE_ENDPOINT, startLocalMomento, type LocalMomento } from '../../dev/fake-momento';
import { createGrpcMinter, type GrpcMinter, type KeySource, type MinterEvent } from '../../lambda/momento';
import type { IssuanceEvent, Telemetry } from '../../lambda/telemetry';
import { createVendHandler, type VendHandler } from '../../lambda/vend';
import {
  startSecretsManagerStub,
  type SecretsManagerBehavior,
  type SecretsManagerStub,
} from '../support/secrets-manager-stub';

export type { SecretsManagerBehavior, SecretsManagerStub } from '../support/secrets-manager-stub';

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

// ---- Secrets Manager, stubbed (test/support/secrets-manager-stub.ts: verifies each request's SigV4 signature). ----

/**
 * Starts the Secrets Manager stub answering `secretId` with `initial`, and gives this process what Lambda gives
 * the function: region, the role's credentials (the stub's) and `AWS_ENDPOINT_URL_SECRETS_MANAGER` → the stub.
 */
export async function startSecretsManager(
  secretId: string,
  initial: SecretsManagerBehavior,
): Promise<SecretsManagerStub> {
  const stub = await startSecretsManagerStub({ secrets: { [secretId]: initial } });
  Object.assign(process.env, stub.env);
  return stub;
}
