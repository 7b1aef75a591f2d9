/**
 * A fake Momento token service: `/token.Token/GenerateDisposableToken` from the official generated service
 * definition, served by grpc-js over TLS (test CA, certificate for token.momento.test / *.momento.test) on
 * 127.0.0.1. It records exactly what each call asked for and answers as told: ok, any gRPC error, hang,
 * delay, or a connection reset.
 *
 * Clients reach it through a small TCP relay in front of the gRPC server: the relay counts connections and can
 * reset the one a call came in on. grpc-js is required inside {@link startFakeMomento}, not at import, so a
 * process can import this module before it sets `GRPC_DEFAULT_SSL_ROOTS_FILE_PATH` (see env.ts).
 *
 * TEST / LOCAL DEVELOPMENT ONLY.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import type * as GrpcJs from '@grpc/grpc-js';
import type { token as TokenTypes } from '@gomomento/generated-types/dist/token';
import type { permission_messages as PermissionTypes } from '@gomomento/generated-types/dist/permissionmessages';
import { CERT_DIR, FAKE_ENDPOINT } from './env';

/** What the fake does with a call. */
export type FakeBehavior =
  /** Answer with a fresh opaque api_key, the endpoint, and valid_until = now + valid_for_seconds. */
  | 'ok'
  /** Never answer (the client's deadline decides). */
  | 'hang'
  /** Reset the TCP connection the call came in on. */
  | 'reset'
  /** Fail with this gRPC status (and trailing metadata, e.g. Momento's `err` cause). */
  | { readonly code: number; readonly details?: string; readonly metadata?: Readonly<Record<string, string>> }
  /** Wait, then behave as `then` (default 'ok'). */
  | { readonly delayMs: number; readonly then?: FakeBehavior };

/** Momento's decoded `Permissions` as a plain object ({@link decodePermissions}). */
export type PlainPermissions = Record<string, unknown>;

/** One call as the fake received it. */
export interface ReceivedCall {
  /** The decoded permissions, e.g. `{ explicit: { permissions: [{ cache_permissions: { role: 1, … } }] } }`. */
  readonly permissions: PlainPermissions | undefined;
  /** `expires.valid_for_seconds`, undefined when `expires` was not set. */
  readonly validForSeconds: number | undefined;
  /** `token_id` ('' when not set, as proto3 reads it). */
  readonly tokenId: string;
  /** `auth_token`: the key the caller sent. */
  readonly authToken: string;
  /** Request metadata (`agent`, `runtime-version`, `user-agent`, …). */
  readonly metadata: Record<string, string>;
  /** What the fake did. */
  readonly behavior: FakeBehavior;
  /** Arrival time, epoch milliseconds. */
  readonly atMs: number;
  /** Refused by the account budget ({@link FakeMomentoOptions.authOpsPerSecond}) with RESOURCE_EXHAUSTED. */
  readonly refusedByBudget: boolean;
  /** The reply, when it answered ok. */
  reply?: { readonly apiKey: string; readonly endpoint: string; readonly validUntil: number };
}

/** Options of {@link startFakeMomento}. */
export interface FakeMomentoOptions {
  /** Behavior when no sequence is queued. @default 'ok' */
  readonly behavior?: FakeBehavior;
  /** `endpoint` in ok replies. @default 'momento.test' */
  readonly endpoint?: string;
  /** Only these `auth_token`s are accepted, others get UNAUTHENTICATED. @default any non-empty token */
  readonly acceptedKeys?: readonly string[];
  /**
   * Reject what Momento rejects with INVALID_ARGUMENT: no explicit permissions, more than 20 statements,
   * valid_for_seconds outside 1..90000 (25 h), token_id over 64 characters.
   * @default true
   */
  readonly validate?: boolean;
  /**
   * The account's auth-operations budget, shared by every caller and connection of this fake: at most this
   * many calls per one-second window (the epoch second of arrival) are served, the rest are answered
   * RESOURCE_EXHAUSTED as Momento answers past its limit ({@link BUDGET_EXCEEDED}). Refused calls count as
   * arrivals too (they are recorded), but not against the budget.
   * @default no budget
   */
  readonly authOpsPerSecond?: number;
  /**
   * Mints the `api_key` (and `endpoint`) of ok replies, e.g. the local data plane's issuer
   * (dev/local-momento `issueToken`), so the tokens work against it.
   * @default an opaque random `fake-disposable-…` key and {@link FakeMomentoOptions.endpoint}
   */
  readonly issueToken?: (request: {
    readonly permissions: PermissionTypes.Permissions | undefined;
    readonly validUntil: number;
    readonly tokenId: string;
  }) => { readonly apiKey: string; readonly endpoint: string };
}

/** A running fake. */
export interface FakeMomento {
  /** Port on 127.0.0.1 (TLS; the certificate names token.momento.test). */
  readonly port: number;
  /** Calls received, in order. */
  readonly received: ReceivedCall[];
  /** TCP connections accepted so far. */
  readonly connections: number;
  /** A behavior for all calls, or a sequence consumed one per call before falling back to the default. */
  setBehavior(behavior: FakeBehavior | readonly FakeBehavior[]): void;
  /** Changes which keys are accepted (undefined: any). */
  setAcceptedKeys(keys: readonly string[] | undefined): void;
  /** Changes the account budget (undefined: none); see {@link FakeMomentoOptions.authOpsPerSecond}. */
  setAuthOpsPerSecond(limit: number | undefined): void;
  /** Stops everything, including hanging calls and their connections. */
  close(): Promise<void>;
}

const GRPC = {
  INVALID_ARGUMENT: 3,
  RESOURCE_EXHAUSTED: 8,
  UNAUTHENTICATED: 16,
} as const;

/**
 * What the fake answers past the account budget: RESOURCE_EXHAUSTED with Momento's `err` trailer
 * `operations_rate_limit_exceeded`, which `@gomomento/sdk` maps to `LIMIT_EXCEEDED_ERROR` ("Request rate limit
 * exceeded for this account"); the details name "operations" too, which the SDK's fallback (no trailer) reads
 * the same way. test/integration/quota.test.ts checks both against the SDK.
 */
export const BUDGET_EXCEEDED = {
  code: GRPC.RESOURCE_EXHAUSTED,
  details: 'Auth operations rate limit exceeded for this account',
  metadata: { err: 'operations_rate_limit_exceeded' },
} as const satisfies FakeBehavior;

/**
 * Parses an auth-ops-per-second budget as given on a command line: a whole number from 1 to 10,000.
 *
 * @example
 * parseAuthOpsPerSecond('5') // 5
 */
export function parseAuthOpsPerSecond(text: string): number {
  const n = /^\d+$/.test(text.trim()) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > 10_000)
    throw new Error(`mints per second must be a whole number from 1 to 10000 (got ${JSON.stringify(text)})`);
  return n;
}

const validBudget = (limit: number | undefined): number | undefined => {
  if (limit !== undefined && !(Number.isSafeInteger(limit) && limit >= 1))
    throw new Error(`authOpsPerSecond must be a whole number ≥ 1 (got ${limit})`);
  return limit;
};

/** Calls per epoch second (arrivals, or only those `which` keeps), and the busiest second's count. */
export function perSecond(
  calls: readonly Pick<ReceivedCall, 'atMs' | 'refusedByBudget'>[],
  which: 'all' | 'accepted' | 'refused' = 'all',
): { readonly bySecond: ReadonlyMap<number, number>; readonly peak: number } {
  const bySecond = new Map<number, number>();
  for (const c of calls) {
    if (which === 'accepted' && c.refusedByBudget) continue;
    if (which === 'refused' && !c.refusedByBudget) continue;
    const second = Math.floor(c.atMs / 1000);
    bySecond.set(second, (bySecond.get(second) ?? 0) + 1);
  }
  return { bySecond, peak: Math.max(0, ...bySecond.values()) };
}

/**
 * Decodes Momento's `Permissions` into a plain object that holds exactly the fields set on the wire: one
 * branch per oneof, bytes as Buffer. (`toObject()` is no good for assertions: it fills every oneof branch with
 * defaults, so an unset `key` and an empty one look alike.)
 *
 * @example
 * decodePermissions(p) // { explicit: { permissions: [{ cache_permissions: { role: 2, cache_selector: { cache_name: 'app' }, item_selector: { key_prefix: Buffer<'u/'> } } }] } }
 */
export function decodePermissions(p: PermissionTypes.Permissions): PlainPermissions {
  if (p.kind === 'super_user') return { super_user: p.super_user };
  if (p.kind !== 'explicit') return {};
  return { explicit: { permissions: p.explicit.permissions.map(decodePermissionsType) } };
}

function decodePermissionsType(t: PermissionTypes.PermissionsType): PlainPermissions {
  if (t.kind === 'cache_permissions') {
    const c = t.cache_permissions;
    const out: PlainPermissions = { role: c.role };
    if (c.cache === 'all_caches') out.all_caches = {};
    if (c.cache === 'cache_selector') out.cache_selector = { cache_name: c.cache_selector.cache_name };
    if (c.cache_item === 'all_items') out.all_items = {};
    if (c.cache_item === 'item_selector') {
      const i = c.item_selector;
      out.item_selector =
        i.kind === 'key'
          ? { key: Buffer.from(i.key) }
          : i.kind === 'key_prefix'
            ? { key_prefix: Buffer.from(i.key_prefix) }
            : {};
    }
    return { cache_permissions: out };
  }
  if (t.kind === 'topic_permissions') {
    const c = t.topic_permissions;
    const out: PlainPermissions = { role: c.role };
    if (c.cache === 'all_caches') out.all_caches = {};
    if (c.cache === 'cache_selector') out.cache_selector = { cache_name: c.cache_selector.cache_name };
    if (c.topic === 'all_topics') out.all_topics = {};
    if (c.topic === 'topic_selector') {
      const s = c.topic_selector;
      out.topic_selector =
        s.kind === 'topic_name'
          ? { topic_name: s.topic_name }
          : s.kind === 'topic_name_prefix'
            ? { topic_name_prefix: s.topic_name_prefix }
            : {};
    }
    return { topic_permissions: out };
  }
  if (t.kind === 'function_permissions') return { function_permissions: t.function_permissions.toObject() };
  return {};
}

function validationError(req: TokenTypes._GenerateDisposableTokenRequest): string | undefined {
  if (!req.has_permissions || !req.permissions.has_explicit) return 'permissions must be explicit';
  const n = req.permissions.explicit.permissions.length;
  if (n === 0) return 'at least one permission is required';
  if (n > 20) return `at most 20 permissions are allowed, got ${n}`;
  const ttl = req.has_expires ? req.expires.valid_for_seconds : 0;
  if (ttl < 1 || ttl > 90_000) return `valid_for_seconds must be within 1..90000, got ${ttl}`;
  if (req.token_id.length > 64) return 'token_id must be at most 64 characters';
  return undefined;
}

/**
 * Starts the fake on 127.0.0.1 (random port).
 *
 * @example
 * const fake = await startFakeMomento();
 * fake.setBehavior([{ code: 14 }, 'ok']); // UNAVAILABLE once, then ok
 */
export async function startFakeMomento(options: FakeMomentoOptions = {}): Promise<FakeMomento> {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const grpc = require('@grpc/grpc-js') as typeof GrpcJs;
  const { token } = require('@gomomento/generated-types/dist/token') as { token: typeof TokenTypes };
  /* eslint-enable @typescript-eslint/no-require-imports */

  const endpoint = options.endpoint ?? FAKE_ENDPOINT;
  const validate = options.validate ?? true;
  let defaultBehavior: FakeBehavior = options.behavior ?? 'ok';
  let queue: FakeBehavior[] = [];
  let acceptedKeys = options.acceptedKeys;
  let budget = validBudget(options.authOpsPerSecond);
  // The current one-second window and the calls it has served.
  let windowSecond = -1;
  let windowUsed = 0;
  const received: ReceivedCall[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let connections = 0;
  // Relay pairs, keyed by the relay→gRPC socket's local port (what the gRPC server sees as the peer port).
  const pairs = new Map<number, { front: net.Socket; back: net.Socket }>();
  const frontSockets = new Set<net.Socket>();

  const server = new grpc.Server();
  type Call = GrpcJs.ServerUnaryCall<
    TokenTypes._GenerateDisposableTokenRequest,
    TokenTypes._GenerateDisposableTokenResponse
  >;
  type Callback = GrpcJs.sendUnaryData<TokenTypes._GenerateDisposableTokenResponse>;

  const resetConnectionOf = (call: Call): void => {
    const peerPort = Number(call.getPeer().split(':').pop());
    const pair = pairs.get(peerPort);
    const victims = pair ? [pair] : [...pairs.values()];
    for (const p of victims) {
      p.front.resetAndDestroy();
      p.back.destroy();
    }
  };

  const act = (behavior: FakeBehavior, call: Call, callback: Callback, record: ReceivedCall): void => {
    if (behavior === 'hang') return; // never answer; forceShutdown() on close cancels it
    if (behavior === 'reset') return resetConnectionOf(call);
    if (behavior === 'ok') {
      const req = call.request;
      const validUntil = Math.floor(Date.now() / 1000) + (req.has_expires ? req.expires.valid_for_seconds : 0);
      const issued = options.issueToken?.({
        permissions: req.has_permissions ? req.permissions : undefined,
        validUntil,
        tokenId: req.token_id,
      });
      const reply = issued
        ? { apiKey: issued.apiKey, endpoint: issued.endpoint, validUntil }
        : { apiKey: `fake-disposable-${randomBytes(24).toString('base64url')}`, endpoint, validUntil };
      record.reply = reply;
      return callback(
        null,
        new token._GenerateDisposableTokenResponse({
          api_key: reply.apiKey,
          endpoint: reply.endpoint,
          valid_until: reply.validUntil,
        }),
      );
    }
    if ('code' in behavior) {
      const metadata = new grpc.Metadata();
      for (const [k, v] of Object.entries(behavior.metadata ?? {})) metadata.set(k, v);
      return callback({
        code: behavior.code,
        details: behavior.details ?? `fake Momento: status ${behavior.code}`,
        metadata,
      });
    }
    const timer = setTimeout(() => {
      timers.delete(timer);
      act(behavior.then ?? 'ok', call, callback, record);
    }, behavior.delayMs);
    timers.add(timer);
  };

  const impl = {
    GenerateDisposableToken(call: Call, callback: Callback): void {
      const req = call.request;
      const atMs = Date.now();
      const second = Math.floor(atMs / 1000);
      if (second !== windowSecond) {
        windowSecond = second;
        windowUsed = 0;
      }
      // The budget is checked first, as a rate limiter in front of the service answers before the service looks
      // at the request: a refused call consumes no queued behavior and no budget.
      const refusedByBudget = budget !== undefined && windowUsed >= budget;
      if (!refusedByBudget) windowUsed += 1;
      let behavior: FakeBehavior = refusedByBudget ? BUDGET_EXCEEDED : (queue.shift() ?? defaultBehavior);
      const invalid = validate ? validationError(req) : undefined;
      if (refusedByBudget) behavior = BUDGET_EXCEEDED;
      else if (!req.auth_token || (acceptedKeys !== undefined && !acceptedKeys.includes(req.auth_token)))
        behavior = { code: GRPC.UNAUTHENTICATED, details: 'Invalid signature' };
      else if (invalid !== undefined) behavior = { code: GRPC.INVALID_ARGUMENT, details: invalid };
      const metadata: Record<string, string> = {};
      for (const [k, v] of Object.entries(call.metadata.getMap()))
        metadata[k] = Buffer.isBuffer(v) ? v.toString('base64') : String(v);
      const record: ReceivedCall = {
        permissions: req.has_permissions ? decodePermissions(req.permissions) : undefined,
        validForSeconds: req.has_expires ? req.expires.valid_for_seconds : undefined,
        tokenId: req.token_id,
        authToken: req.auth_token,
        metadata,
        behavior,
        atMs,
        refusedByBudget,
      };
      received.push(record);
      act(behavior, call, callback, record);
    },
  };
  server.addService(token.UnimplementedTokenService.definition as unknown as GrpcJs.ServiceDefinition, impl);

  const credentials = grpc.ServerCredentials.createSsl(
    null,
    [
      {
        private_key: readFileSync(path.join(CERT_DIR, 'server.key')),
        cert_chain: readFileSync(path.join(CERT_DIR, 'server.crt')),
      },
    ],
    false,
  );
  const innerPort = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', credentials, (err, port) => (err ? reject(err) : resolve(port))),
  );

  // The relay: every client connection is piped to the gRPC server, so we can count and reset connections.
  const relay = net.createServer((front) => {
    connections += 1;
    frontSockets.add(front);
    front.setNoDelay(true);
    const back = net.connect(innerPort, '127.0.0.1');
    back.setNoDelay(true);
    let key: number | undefined;
    const teardown = (): void => {
      if (key !== undefined) pairs.delete(key);
      frontSockets.delete(front);
      front.destroy();
      back.destroy();
    };
    front.on('error', teardown).on('close', teardown);
    back.on('error', teardown).on('close', teardown);
    back.once('connect', () => {
      key = back.localPort;
      if (key !== undefined) pairs.set(key, { front, back });
      front.pipe(back);
      back.pipe(front);
    });
  });
  await new Promise<void>((resolve, reject) => {
    relay.once('error', reject);
    relay.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (relay.address() as net.AddressInfo).port;

  return {
    port,
    received,
    get connections() {
      return connections;
    },
    setBehavior(behavior) {
      if (Array.isArray(behavior)) queue = [...(behavior as readonly FakeBehavior[])];
      else {
        defaultBehavior = behavior as FakeBehavior;
        queue = [];
      }
    },
    setAcceptedKeys(keys) {
      acceptedKeys = keys;
    },
    setAuthOpsPerSecond(limit) {
      budget = validBudget(limit);
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const s of frontSockets) s.destroy();
      for (const p of pairs.values()) p.back.destroy();
      server.forceShutdown();
      await new Promise<void>((resolve) => relay.close(() => resolve()));
    },
  };
}
