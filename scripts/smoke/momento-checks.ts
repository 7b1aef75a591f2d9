/**
 * The smoke test's Momento checks (`--momento`): one operation the token grants must succeed, one it does not grant
 * must be refused; run with `@gomomento/sdk`, against a dev server's local Momento when the token names one.
 */
import { isLocalMomentoEndpoint } from '../../client/src/momento';
import { decodeDisposableToken } from '../../lambda/momento/api-key';
import type { Permission, TokenBody } from './http-checks';
import { row, skip, type CheckResult } from './report';

/** One data-plane operation tried with the token. */
export type MomentoOp =
  | { readonly kind: 'cache-get' | 'cache-set'; readonly cache: string; readonly key: string }
  | { readonly kind: 'topic-subscribe' | 'topic-publish'; readonly cache: string; readonly topic: string };

/** What an operation gave: success, or Momento's error code (`MomentoErrorCode`, e.g. `PERMISSION_ERROR`). */
export type MomentoOutcome = { readonly ok: true } | { readonly ok: false; readonly code: string };

/** Runs operations with one token (the SDK in production, a fake in tests). */
export interface MomentoOps {
  run(op: MomentoOp): Promise<MomentoOutcome>;
  close(): void;
}

const READS = { cache: ['readwrite', 'readonly'], topic: ['publishsubscribe', 'subscribeonly'] };
const WRITES = { cache: ['readwrite', 'writeonly'], topic: ['publishsubscribe', 'publishonly'] };
const SMOKE_NAME = 'tvm-smoke';
const OUTSIDE_NAME = 'tvm-smoke-outside-scope';
const UNGRANTED_CACHE = 'tvm-smoke-ungranted-cache';

const opType = (op: MomentoOp) => (op.kind.startsWith('cache') ? 'cache' : 'topic');
const opReads = (op: MomentoOp) => op.kind === 'cache-get' || op.kind === 'topic-subscribe';
const opItem = (op: MomentoOp) => ('key' in op ? op.key : op.topic);

/** Whether the permissions grant `op` (Momento's rules: cache and item name, role's read/write side). */
export function isGranted(permissions: readonly Permission[], op: MomentoOp): boolean {
  const type = opType(op);
  const item = opItem(op);
  return permissions.some((p) => {
    if (p.type !== type || (p.cache !== '*' && p.cache !== op.cache)) return false;
    if (!(opReads(op) ? READS : WRITES)[type].includes(p.role)) return false;
    const exact = p.type === 'cache' ? p.key : p.topic;
    const prefix = p.type === 'cache' ? p.keyPrefix : p.topicPrefix;
    if (exact !== undefined) return item === exact;
    if (prefix !== undefined) return item.startsWith(prefix);
    return true;
  });
}

/** A human description of an operation, e.g. `get app/user/1/tvm-smoke`. */
export const describeOp = (op: MomentoOp): string =>
  `${{ 'cache-get': 'get', 'cache-set': 'set', 'topic-subscribe': 'subscribe', 'topic-publish': 'publish' }[op.kind]} ${op.cache}/${opItem(op)}`;

/**
 * Picks one operation the token grants and one it does not. Reads (get, subscribe) are preferred for the granted
 * one, so the smoke test changes nothing where it can; a write uses a key/topic named `…tvm-smoke` (a set expires
 * after 60 s). The refused one is the nearest denial — the other side of a granted item (a write where only
 * reading is granted), a name outside a granted prefix, the other data type in a granted cache — and only as a
 * last resort a cache no grant names (Momento might then answer "not found" rather than "permission denied").
 * `cache` names an existing cache for grants on every cache (`*`).
 */
export function chooseMomentoOps(
  permissions: readonly Permission[],
  cache?: string,
): { inScope?: MomentoOp; outOfScope?: MomentoOp } {
  const within: MomentoOp[] = [];
  const outside: MomentoOp[] = [];
  const named = [...new Set(permissions.map((p) => (p.cache === '*' ? cache : p.cache)))].filter(
    (c): c is string => c !== undefined,
  );
  for (const p of permissions) {
    const c = p.cache === '*' ? cache : p.cache;
    if (c === undefined) continue;
    if (p.type === 'cache') {
      const key = p.key ?? `${p.keyPrefix ?? ''}${SMOKE_NAME}`;
      const reads = READS.cache.includes(p.role);
      within.push({ kind: reads ? 'cache-get' : 'cache-set', cache: c, key });
      outside.push({ kind: reads ? 'cache-set' : 'cache-get', cache: c, key });
      outside.push({ kind: 'cache-get', cache: c, key: OUTSIDE_NAME });
    } else {
      const topic = p.topic ?? `${p.topicPrefix ?? ''}${SMOKE_NAME}`;
      const reads = READS.topic.includes(p.role);
      within.push({ kind: reads ? 'topic-subscribe' : 'topic-publish', cache: c, topic });
      outside.push({ kind: reads ? 'topic-publish' : 'topic-subscribe', cache: c, topic });
      outside.push({ kind: 'topic-subscribe', cache: c, topic: OUTSIDE_NAME });
    }
  }
  for (const c of named) {
    outside.push({ kind: 'cache-get', cache: c, key: SMOKE_NAME });
    outside.push({ kind: 'topic-subscribe', cache: c, topic: SMOKE_NAME });
  }
  outside.push({ kind: 'cache-get', cache: UNGRANTED_CACHE, key: SMOKE_NAME });
  outside.push({ kind: 'topic-subscribe', cache: UNGRANTED_CACHE, topic: SMOKE_NAME });
  const inScope = [...within.filter(opReads), ...within.filter((o) => !opReads(o))].find((o) =>
    isGranted(permissions, o),
  );
  const outOfScope = outside.find((o) => !isGranted(permissions, o));
  return { inScope, outOfScope };
}

/** Runs the chosen operations with `ops` and turns the outcomes into rows; closes `ops`. */
export async function runMomentoChecks(
  token: Pick<TokenBody, 'permissions'>,
  ops: MomentoOps,
  cache?: string,
): Promise<CheckResult[]> {
  const { inScope, outOfScope } = chooseMomentoOps(token.permissions, cache);
  const results: CheckResult[] = [];
  const outcome = async (op: MomentoOp): Promise<MomentoOutcome> => {
    try {
      return await ops.run(op);
    } catch (err) {
      return { ok: false, code: (err as Error).name || 'exception' };
    }
  };
  try {
    if (inScope === undefined) {
      results.push(
        row(
          'Momento: a granted operation',
          'succeeds',
          'every grant is on all caches (*): name an existing cache with --cache',
          false,
        ),
      );
    } else {
      const o = await outcome(inScope);
      results.push(
        row(`Momento: ${describeOp(inScope)} (granted)`, 'succeeds', o.ok ? 'succeeded' : `error ${o.code}`, o.ok),
      );
    }
    if (outOfScope === undefined) {
      results.push(skip('Momento: an operation not granted', 'refused', 'the token grants every operation'));
    } else {
      const o = await outcome(outOfScope);
      const refused = !o.ok && o.code === 'PERMISSION_ERROR';
      results.push(
        row(
          `Momento: ${describeOp(outOfScope)} (not granted)`,
          'refused (PERMISSION_ERROR)',
          o.ok ? 'succeeded — the token allows more than its permissions say' : `refused (${o.code})`,
          refused,
        ),
      );
    }
  } finally {
    ops.close();
  }
  return results;
}

/**
 * What `CredentialProvider.fromDisposableToken` of `@gomomento/sdk` needs for `authToken`: the token alone when it
 * names a Momento endpoint (a host name: every deployed stack's token), so the SDK derives `cache.<endpoint>` over
 * TLS; for a token of `npm run dev`'s local Momento (endpoint `http://127.0.0.1:<port>`, dev/local-momento), every
 * endpoint overridden to that `host:port` over plain gRPC.
 */
export function nodeSdkCredentials(authToken: string): {
  authToken: string;
  endpointOverrides?: {
    cacheEndpoint: string;
    controlEndpoint: string;
    tokenEndpoint: string;
    secureConnection: false;
  };
} {
  const endpoint = decodeDisposableToken(authToken)?.endpoint;
  if (!isLocalMomentoEndpoint(endpoint)) return { authToken };
  const hostPort = endpoint!.slice('http://'.length);
  return {
    authToken,
    endpointOverrides: {
      cacheEndpoint: hostPort,
      controlEndpoint: hostPort,
      tokenEndpoint: hostPort,
      secureConnection: false,
    },
  };
}

/**
 * {@link MomentoOps} with `@gomomento/sdk` and `CredentialProvider.fromDisposableToken` ({@link nodeSdkCredentials}). A subscription counts as
 * established when its first message (Momento's heartbeat) arrives, then it is closed; a set writes a short text
 * that expires after 60 s.
 */
export async function sdkMomentoOps(authToken: string, timeoutMs = 15_000): Promise<MomentoOps> {
  const sdk = await import('@gomomento/sdk');
  const credentialProvider = sdk.CredentialProvider.fromDisposableToken(nodeSdkCredentials(authToken));
  const logs = new sdk.NoopMomentoLoggerFactory();
  const caches = new sdk.CacheClient({
    configuration: sdk.Configurations.Laptop.v1(logs),
    credentialProvider,
    defaultTtlSeconds: 60,
  });
  const topics = new sdk.TopicClient({
    configuration: sdk.TopicConfigurations.Default.latest(logs),
    credentialProvider,
  });
  const failed = (r: { errorCode(): string }): MomentoOutcome => ({ ok: false, code: r.errorCode() });
  const within = <T>(p: Promise<T>): Promise<T> =>
    Promise.race([
      p,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(Object.assign(new Error(), { name: 'TIMEOUT' })), timeoutMs).unref(),
      ),
    ]);
  return {
    async run(op) {
      switch (op.kind) {
        case 'cache-get': {
          const r = await within(caches.get(op.cache, op.key));
          return r.type === sdk.CacheGetResponse.Error ? failed(r) : { ok: true };
        }
        case 'cache-set': {
          const r = await within(caches.set(op.cache, op.key, 'written by the TVM smoke test', { ttl: 60 }));
          return r.type === sdk.CacheSetResponse.Error ? failed(r) : { ok: true };
        }
        case 'topic-publish': {
          const r = await within(topics.publish(op.cache, op.topic, 'TVM smoke test'));
          return r.type === sdk.TopicPublishResponse.Error ? failed(r) : { ok: true };
        }
        case 'topic-subscribe': {
          const r = await within(
            topics.subscribe(op.cache, op.topic, { onItem: () => undefined, onError: () => undefined }),
          );
          if (r.type === sdk.TopicSubscribeResponse.Error) return failed(r);
          if (r.type === sdk.TopicSubscribeResponse.Subscription) r.unsubscribe();
          return { ok: true };
        }
      }
    },
    close() {
      // TopicClient has no close(); subscriptions are closed above and the CLI exits when done.
      caches.close();
    },
  };
}
