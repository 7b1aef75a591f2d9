/**
 * The local data plane's state and RPCs, independent of the transport: every face (grpc-web over HTTP/1.1,
 * native gRPC) hands it the method path, the request metadata and the request bytes, and gets back reply bytes
 * or a gRPC status. Messages are decoded and encoded with Momento's own generated code
 * (`@gomomento/generated-types`), so the wire format is Momento's.
 *
 * grpc-js is loaded by the generated code: create the core only after `GRPC_DEFAULT_SSL_ROOTS_FILE_PATH` is final
 * (see dev/fake-momento/env.ts).
 *
 * TEST / LOCAL DEVELOPMENT ONLY.
 */
import type { cache_client as CacheTypes } from '@gomomento/generated-types/dist/cacheclient';
import type { cache_client as PubsubNs } from '@gomomento/generated-types/dist/cachepubsub';
import type { common as CommonTypes } from '@gomomento/generated-types/dist/common';
import { allows, type LocalOperation } from './permissions';
import type { LocalTokenClaims, LocalTokenIssuer, TokenRefusal } from './tokens';

type PubsubTypes = typeof PubsubNs.pubsub;

/** gRPC status codes the data plane answers with. */
export const GRPC_STATUS = {
  OK: 0,
  CANCELLED: 1,
  INVALID_ARGUMENT: 3,
  NOT_FOUND: 5,
  PERMISSION_DENIED: 7,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

/** A gRPC status with its message and trailing metadata. */
export interface GrpcStatus {
  readonly code: number;
  readonly details: string;
  readonly metadata?: Readonly<Record<string, string>>;
}

/** A unary reply: the encoded message, or a status. */
export type UnaryResult =
  { readonly ok: true; readonly bytes: Uint8Array } | { readonly ok: false; readonly status: GrpcStatus };

/** Where a subscribe stream's messages go (one per transport stream). */
export interface StreamSink {
  /** Sends one encoded `_SubscriptionItem`. */
  write(bytes: Uint8Array): void;
  /** Ends the stream with a status (trailers). */
  end(status: GrpcStatus): void;
  /** Breaks the transport without a status, as a lost connection does. */
  reset(): void;
}

/** An open subscribe stream. */
export interface OpenStream {
  /** The client went away: forget the stream. */
  close(): void;
}

/** Request metadata the data plane reads (header names lower case). */
export interface CallMetadata {
  /** The token's `api_key` (what the SDK sends as `authorization`). */
  readonly authorization?: string;
  /** The cache of a cache RPC (the SDK sends it as the `cache` header). */
  readonly cache?: string;
}

/** Options of {@link createCore}. */
export interface CoreOptions {
  readonly issuer: LocalTokenIssuer;
  /** Milliseconds between heartbeats on a subscribe stream. @default 5000 */
  readonly heartbeatMs?: number;
  /** Items kept per topic for resuming subscribers. @default 1000 */
  readonly historyPerTopic?: number;
  /** Cache names that exist; others answer NOT_FOUND as Momento does for a missing cache. @default every name exists */
  readonly caches?: readonly string[];
  /** Clock (epoch ms). @default Date.now */
  readonly now?: () => number;
}

/** What the core exposes to its faces and to tests. */
export interface Core {
  /** Unary RPCs: cache Get / Set / Delete / SetIf / SetIfNotExists / KeysExist, pubsub Publish. */
  unary(path: string, metadata: CallMetadata, request: Uint8Array): UnaryResult;
  /** `/cache_client.pubsub.Pubsub/Subscribe`; refusals end `sink` at once. */
  subscribe(metadata: CallMetadata, request: Uint8Array, sink: StreamSink): OpenStream | undefined;
  /** Whether `path` is the server-streaming Subscribe. */
  isStreaming(path: string): boolean;
  /** Breaks every open subscribe stream (`reset`, like a dropped connection) or ends it with OK (`end`). */
  dropSubscriptions(how?: 'reset' | 'end'): number;
  /** Open subscribe streams. */
  readonly subscriptions: number;
  /** Stops timers and ends every stream with UNAVAILABLE. */
  close(): void;
}

/** The methods served, by gRPC path. */
export const METHODS = {
  get: '/cache_client.Scs/Get',
  set: '/cache_client.Scs/Set',
  delete: '/cache_client.Scs/Delete',
  setIf: '/cache_client.Scs/SetIf',
  setIfNotExists: '/cache_client.Scs/SetIfNotExists',
  keysExist: '/cache_client.Scs/KeysExist',
  publish: '/cache_client.pubsub.Pubsub/Publish',
  subscribe: '/cache_client.pubsub.Pubsub/Subscribe',
} as const;

const REFUSAL_DETAIL: Readonly<Record<TokenRefusal, string>> = {
  missing: 'Missing authorization: send the disposable token',
  malformed: 'Invalid token: not a token of this local Momento',
  'bad-signature': 'Invalid signature: not a token of this local Momento',
  expired: 'Token has expired',
};

interface Item {
  readonly value: Uint8Array;
  readonly expiresAtMs: number;
}

interface Subscriber {
  readonly sink: StreamSink;
  readonly timers: NodeJS.Timeout[];
}

interface Topic {
  /** Momento's sequence page: fixed for the life of the topic here. */
  readonly page: number;
  /** Sequence number of the last published item (0: none yet). */
  last: number;
  /** The most recent items, oldest first. */
  readonly history: Uint8Array[];
  /** Sequence number of history[0]. */
  first: number;
  readonly subscribers: Set<Subscriber>;
}

const status = (code: number, details: string, metadata?: Record<string, string>): GrpcStatus =>
  metadata === undefined ? { code, details } : { code, details, metadata };
const fail = (s: GrpcStatus): UnaryResult => ({ ok: false, status: s });

/** Creates the data plane's state (loads the generated message classes, and with them grpc-js). */
export function createCore(options: CoreOptions): Core {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { cache_client: cc } = require('@gomomento/generated-types/dist/cacheclient') as {
    cache_client: typeof CacheTypes;
  };
  const ps = (require('@gomomento/generated-types/dist/cachepubsub') as { cache_client: typeof PubsubNs }).cache_client
    .pubsub as PubsubTypes;
  const { common } = require('@gomomento/generated-types/dist/common') as { common: typeof CommonTypes };
  /* eslint-enable @typescript-eslint/no-require-imports */

  const now = options.now ?? Date.now;
  const heartbeatMs = options.heartbeatMs ?? 5000;
  const historyPerTopic = options.historyPerTopic ?? 1000;
  const existing = options.caches === undefined ? undefined : new Set(options.caches);
  const caches = new Map<string, Map<string, Item>>();
  const topics = new Map<string, Topic>();
  let nextPage = 1;

  const authenticate = (
    metadata: CallMetadata,
  ): { ok: true; claims: LocalTokenClaims } | { ok: false; status: GrpcStatus } => {
    const verdict = options.issuer.verify(metadata.authorization, now());
    return verdict.ok
      ? verdict
      : { ok: false, status: status(GRPC_STATUS.UNAUTHENTICATED, REFUSAL_DETAIL[verdict.reason]) };
  };

  const describe = (op: LocalOperation): string => {
    const cache = JSON.stringify(op.cache);
    if ('key' in op)
      return `${op.kind === 'cache-read' ? 'read' : 'write'} key ${JSON.stringify(Buffer.from(op.key).toString('utf8'))} in cache ${cache}`;
    return `${op.kind === 'topic-publish' ? 'publish to' : 'subscribe to'} topic ${JSON.stringify(op.topic)} in cache ${cache}`;
  };

  /** Authentication, then permission, then the cache's existence (Momento answers in that order). */
  const check = (metadata: CallMetadata, ops: readonly LocalOperation[]): GrpcStatus | LocalTokenClaims => {
    const auth = authenticate(metadata);
    if (!auth.ok) return auth.status;
    for (const op of ops) {
      if (!allows(auth.claims.grants, op))
        return status(GRPC_STATUS.PERMISSION_DENIED, `the token does not allow ${describe(op)}`);
    }
    const cache = ops[0]?.cache;
    if (cache !== undefined && existing !== undefined && !existing.has(cache))
      return status(GRPC_STATUS.NOT_FOUND, `Cache not found: ${JSON.stringify(cache)}`, { err: 'not_found' });
    return auth.claims;
  };
  const isStatus = (v: GrpcStatus | LocalTokenClaims): v is GrpcStatus => 'code' in v;

  const store = (cache: string): Map<string, Item> => {
    let m = caches.get(cache);
    if (m === undefined) caches.set(cache, (m = new Map()));
    return m;
  };
  const read = (cache: string, key: Uint8Array): Item | undefined => {
    const m = store(cache);
    const id = Buffer.from(key).toString('base64');
    const item = m.get(id);
    if (item !== undefined && item.expiresAtMs <= now()) {
      m.delete(id);
      return undefined;
    }
    return item;
  };
  const write = (cache: string, key: Uint8Array, value: Uint8Array, ttlMs: number): void => {
    store(cache).set(Buffer.from(key).toString('base64'), {
      value: Uint8Array.from(value),
      expiresAtMs: now() + ttlMs,
    });
  };
  const cacheOf = (metadata: CallMetadata): string | undefined => metadata.cache || undefined;
  const noCache = fail(status(GRPC_STATUS.INVALID_ARGUMENT, 'The "cache" header (the cache name) is required'));
  const ok = (message: { serialize(): Uint8Array }): UnaryResult => ({ ok: true, bytes: message.serialize() });
  const validTtl = (ttl: number): GrpcStatus | undefined =>
    Number.isFinite(ttl) && ttl > 0
      ? undefined
      : status(GRPC_STATUS.INVALID_ARGUMENT, 'ttl_milliseconds must be positive');

  const topicOf = (cache: string, name: string): Topic => {
    const id = `${cache}\u0000${name}`;
    let t = topics.get(id);
    if (t === undefined) {
      t = { page: nextPage++, last: 0, first: 1, history: [], subscribers: new Set() };
      topics.set(id, t);
    }
    return t;
  };
  const heartbeat = (): Uint8Array => new ps._SubscriptionItem({ heartbeat: new ps._Heartbeat() }).serialize();

  const decode = <T>(fn: () => T): T | GrpcStatus => {
    try {
      return fn();
    } catch {
      return status(GRPC_STATUS.INTERNAL, 'Could not decode the request message');
    }
  };

  const unary = (path: string, metadata: CallMetadata, request: Uint8Array): UnaryResult => {
    switch (path) {
      case METHODS.get: {
        const req = decode(() => cc._GetRequest.deserialize(request));
        if ('code' in req) return fail(req);
        const cache = cacheOf(metadata);
        if (cache === undefined) return noCache;
        const verdict = check(metadata, [{ kind: 'cache-read', cache, key: req.cache_key }]);
        if (isStatus(verdict)) return fail(verdict);
        const item = read(cache, req.cache_key);
        return ok(
          item === undefined
            ? new cc._GetResponse({ result: cc.ECacheResult.Miss })
            : new cc._GetResponse({ result: cc.ECacheResult.Hit, cache_body: item.value }),
        );
      }
      case METHODS.set: {
        const req = decode(() => cc._SetRequest.deserialize(request));
        if ('code' in req) return fail(req);
        const cache = cacheOf(metadata);
        if (cache === undefined) return noCache;
        const verdict = check(metadata, [{ kind: 'cache-write', cache, key: req.cache_key }]);
        if (isStatus(verdict)) return fail(verdict);
        const bad = validTtl(req.ttl_milliseconds);
        if (bad) return fail(bad);
        write(cache, req.cache_key, req.cache_body, req.ttl_milliseconds);
        return ok(new cc._SetResponse({ result: cc.ECacheResult.Ok }));
      }
      case METHODS.delete: {
        const req = decode(() => cc._DeleteRequest.deserialize(request));
        if ('code' in req) return fail(req);
        const cache = cacheOf(metadata);
        if (cache === undefined) return noCache;
        const verdict = check(metadata, [{ kind: 'cache-write', cache, key: req.cache_key }]);
        if (isStatus(verdict)) return fail(verdict);
        store(cache).delete(Buffer.from(req.cache_key).toString('base64'));
        return ok(new cc._DeleteResponse());
      }
      case METHODS.setIfNotExists: {
        const req = decode(() => cc._SetIfNotExistsRequest.deserialize(request));
        if ('code' in req) return fail(req);
        const cache = cacheOf(metadata);
        if (cache === undefined) return noCache;
        const verdict = check(metadata, [{ kind: 'cache-write', cache, key: req.cache_key }]);
        if (isStatus(verdict)) return fail(verdict);
        const bad = validTtl(req.ttl_milliseconds);
        if (bad) return fail(bad);
        if (read(cache, req.cache_key) !== undefined)
          return ok(new cc._SetIfNotExistsResponse({ not_stored: new cc._SetIfNotExistsResponse._NotStored() }));
        write(cache, req.cache_key, req.cache_body, req.ttl_milliseconds);
        return ok(new cc._SetIfNotExistsResponse({ stored: new cc._SetIfNotExistsResponse._Stored() }));
      }
      case METHODS.setIf: {
        const req = decode(() => cc._SetIfRequest.deserialize(request));
        if ('code' in req) return fail(req);
        const cache = cacheOf(metadata);
        if (cache === undefined) return noCache;
        const verdict = check(metadata, [{ kind: 'cache-write', cache, key: req.cache_key }]);
        if (isStatus(verdict)) return fail(verdict);
        const bad = validTtl(req.ttl_milliseconds);
        if (bad) return fail(bad);
        const current = read(cache, req.cache_key)?.value;
        const same = (v: Uint8Array) => current !== undefined && Buffer.from(current).equals(v);
        let store: boolean;
        switch (req.condition) {
          case 'present':
            store = current !== undefined;
            break;
          case 'absent':
            store = current === undefined;
            break;
          case 'equal':
            store = same(req.equal.value_to_check);
            break;
          case 'not_equal':
            store = !same(req.not_equal.value_to_check);
            break;
          case 'present_and_not_equal':
            store = current !== undefined && !same(req.present_and_not_equal.value_to_check);
            break;
          case 'absent_or_equal':
            store = current === undefined || same(req.absent_or_equal.value_to_check);
            break;
          default:
            return fail(status(GRPC_STATUS.INVALID_ARGUMENT, 'SetIf needs a condition'));
        }
        if (!store) return ok(new cc._SetIfResponse({ not_stored: new cc._SetIfResponse._NotStored() }));
        write(cache, req.cache_key, req.cache_body, req.ttl_milliseconds);
        return ok(new cc._SetIfResponse({ stored: new cc._SetIfResponse._Stored() }));
      }
      case METHODS.keysExist: {
        const req = decode(() => cc._KeysExistRequest.deserialize(request));
        if ('code' in req) return fail(req);
        const cache = cacheOf(metadata);
        if (cache === undefined) return noCache;
        const verdict = check(
          metadata,
          req.cache_keys.map((key) => ({ kind: 'cache-read', cache, key })),
        );
        if (isStatus(verdict)) return fail(verdict);
        return ok(new cc._KeysExistResponse({ exists: req.cache_keys.map((k) => read(cache, k) !== undefined) }));
      }
      case METHODS.publish: {
        const req = decode(() => ps._PublishRequest.deserialize(request));
        if ('code' in req) return fail(req);
        const verdict = check(metadata, [{ kind: 'topic-publish', cache: req.cache_name, topic: req.topic }]);
        if (isStatus(verdict)) return fail(verdict);
        if (!req.has_value || req.value.kind === 'none')
          return fail(status(GRPC_STATUS.INVALID_ARGUMENT, 'A topic value (text or binary) is required'));
        publish(topicOf(req.cache_name, req.topic), req.value, verdict.tokenId);
        return ok(new common._Empty());
      }
      default:
        return fail(status(GRPC_STATUS.UNIMPLEMENTED, `${path} is not served by the local Momento`));
    }
  };

  const publish = (topic: Topic, value: PubsubNs.pubsub._TopicValue, publisherId: string): void => {
    topic.last += 1;
    const bytes = new ps._SubscriptionItem({
      item: new ps._TopicItem({
        topic_sequence_number: topic.last,
        sequence_page: topic.page,
        publisher_id: publisherId,
        value:
          value.kind === 'text'
            ? new ps._TopicValue({ text: value.text })
            : new ps._TopicValue({ binary: value.binary }),
      }),
    }).serialize();
    topic.history.push(bytes);
    if (topic.history.length > historyPerTopic) {
      topic.history.shift();
      topic.first += 1;
    }
    for (const s of topic.subscribers) s.sink.write(bytes);
  };

  const subscribe = (metadata: CallMetadata, request: Uint8Array, sink: StreamSink): OpenStream | undefined => {
    const req = decode(() => ps._SubscriptionRequest.deserialize(request));
    if ('code' in req) {
      sink.end(req);
      return undefined;
    }
    const verdict = check(metadata, [{ kind: 'topic-subscribe', cache: req.cache_name, topic: req.topic }]);
    if (isStatus(verdict)) {
      sink.end(verdict);
      return undefined;
    }
    const topic = topicOf(req.cache_name, req.topic);
    // The first message is a heartbeat: the Web SDK resolves subscribe() on the first message of the stream.
    sink.write(heartbeat());
    const resume = req.resume_at_topic_sequence_number;
    if (resume > 0) {
      const samePage = req.sequence_page === 0 || req.sequence_page === topic.page;
      if (!samePage || resume < topic.first || resume > topic.last + 1) {
        // The items asked for are gone, or belong to another page, or do not exist yet: say where the stream
        // continues, then send what is retained from there (nothing when the subscriber is ahead of the topic).
        const from = samePage && resume > topic.last + 1 ? topic.last + 1 : topic.first;
        sink.write(
          new ps._SubscriptionItem({
            discontinuity: new ps._Discontinuity({
              last_topic_sequence: resume - 1,
              new_topic_sequence: from - 1,
              new_sequence_page: topic.page,
            }),
          }).serialize(),
        );
        for (let seq = from; seq <= topic.last; seq++) sink.write(topic.history[seq - topic.first]!);
      } else {
        for (let seq = resume; seq <= topic.last; seq++) sink.write(topic.history[seq - topic.first]!);
      }
    }
    const sub: Subscriber = { sink, timers: [] };
    const forget = (): void => {
      for (const t of sub.timers) clearTimeout(t);
      topic.subscribers.delete(sub);
    };
    sub.timers.push(setInterval(() => sink.write(heartbeat()), heartbeatMs));
    // A token stops working at its expiry, open streams included.
    const expiresInMs = verdict.expiresAt * 1000 - now();
    sub.timers.push(
      setTimeout(
        () => {
          forget();
          sink.end(status(GRPC_STATUS.UNAUTHENTICATED, REFUSAL_DETAIL.expired));
        },
        Math.min(expiresInMs, 2 ** 31 - 1),
      ),
    );
    for (const t of sub.timers) t.unref();
    topic.subscribers.add(sub);
    return { close: forget };
  };

  const allSubscribers = (): Subscriber[] => [...topics.values()].flatMap((t) => [...t.subscribers]);

  return {
    unary,
    subscribe,
    isStreaming: (path) => path === METHODS.subscribe,
    dropSubscriptions(how = 'reset') {
      const subs = allSubscribers();
      for (const t of topics.values()) {
        for (const s of t.subscribers) for (const timer of s.timers) clearTimeout(timer);
        t.subscribers.clear();
      }
      for (const s of subs) {
        if (how === 'reset') s.sink.reset();
        else s.sink.end(status(GRPC_STATUS.OK, ''));
      }
      return subs.length;
    },
    get subscriptions() {
      return allSubscribers().length;
    },
    close() {
      for (const t of topics.values()) {
        for (const s of t.subscribers) {
          for (const timer of s.timers) clearTimeout(timer);
          s.sink.end(status(GRPC_STATUS.UNAVAILABLE, 'The local Momento is shutting down'));
        }
        t.subscribers.clear();
      }
    },
  };
}
