/**
 * Does a local token allow an operation? Momento's semantics as its permission protos and docs describe them: a
 * token allows an operation when at least one statement does; a cache statement covers one cache or all (`*`), all
 * items, one key or a key prefix (keys are bytes); a topic statement covers one cache or all, all topics, one topic
 * or a topic prefix. Cache statements never cover topics and topic statements never cover cache items. Conditional
 * writes need a read-write statement (the role comments of permissionmessages.proto).
 *
 * TEST / LOCAL DEVELOPMENT ONLY.
 */
import type { LocalGrant } from './tokens';

/** What an RPC needs. */
export type LocalOperation =
  | {
      /** `cache-conditional-write`: SetIf / SetIfNotExists, which read and write. */
      readonly kind: 'cache-read' | 'cache-write' | 'cache-conditional-write';
      readonly cache: string;
      readonly key: Uint8Array;
    }
  | { readonly kind: 'topic-publish' | 'topic-subscribe'; readonly cache: string; readonly topic: string };

const READS = new Set(['readwrite', 'readonly', 'publishsubscribe', 'subscribeonly']);
const WRITES = new Set(['readwrite', 'writeonly', 'publishsubscribe', 'publishonly']);
const READ_WRITE = new Set(['readwrite']);

const startsWith = (key: Uint8Array, prefix: Buffer): boolean =>
  key.length >= prefix.length && Buffer.from(key.buffer, key.byteOffset, prefix.length).equals(prefix);

/** True when `grant` alone allows `op`. */
export function grantAllows(grant: LocalGrant, op: LocalOperation): boolean {
  if (grant.type === 'superuser') return true;
  if (grant.cache !== '*' && grant.cache !== op.cache) return false;
  if (grant.type === 'cache') {
    if (!('key' in op)) return false;
    // permissionmessages.proto: CacheWriteOnly "doesn't allow conditional write APIs (SetIfNotExists, …)".
    const needs = op.kind === 'cache-read' ? READS : op.kind === 'cache-write' ? WRITES : READ_WRITE;
    if (!needs.has(grant.role)) return false;
    if (grant.keyB64 !== undefined) return Buffer.from(grant.keyB64, 'base64').equals(op.key);
    if (grant.keyPrefixB64 !== undefined) return startsWith(op.key, Buffer.from(grant.keyPrefixB64, 'base64'));
    return true;
  }
  if ('key' in op) return false;
  if (!(op.kind === 'topic-subscribe' ? READS : WRITES).has(grant.role)) return false;
  if (grant.topic !== undefined) return grant.topic === op.topic;
  if (grant.topicPrefix !== undefined) return op.topic.startsWith(grant.topicPrefix);
  return true;
}

/** True when some statement of `grants` allows `op`. */
export function allows(grants: readonly LocalGrant[], op: LocalOperation): boolean {
  return grants.some((g) => grantAllows(g, op));
}
