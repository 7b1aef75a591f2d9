/**
 * Does a local token allow an operation? Momento's semantics as its permission protos and docs describe them: a
 * token allows an operation when at least one statement does; a cache statement covers one cache or all (`*`), all
 * items, one key or a key prefix (keys are bytes); a topic statement covers one cache or all, all topics, one topic
 * or a topic prefix. Cache statements never cover topics and topic statements never cover cache items.
 *
 * TEST / LOCAL DEVELOPMENT ONLY.
 */
import type { LocalGrant } from './tokens';

/** What an RPC needs. */
export type LocalOperation =
  | { readonly kind: 'cache-read' | 'cache-write'; readonly cache: string; readonly key: Uint8Array }
  | { readonly kind: 'topic-publish' | 'topic-subscribe'; readonly cache: string; readonly topic: string };

const READS = new Set(['readwrite', 'readonly', 'publishsubscribe', 'subscribeonly']);
const WRITES = new Set(['readwrite', 'writeonly', 'publishsubscribe', 'publishonly']);

const startsWith = (key: Uint8Array, prefix: Buffer): boolean =>
  key.length >= prefix.length && Buffer.from(key.buffer, key.byteOffset, prefix.length).equals(prefix);

/** True when `grant` alone allows `op`. */
export function grantAllows(grant: LocalGrant, op: LocalOperation): boolean {
  if (grant.type === 'superuser') return true;
  if (grant.cache !== '*' && grant.cache !== op.cache) return false;
  if (grant.type === 'cache') {
    if (op.kind !== 'cache-read' && op.kind !== 'cache-write') return false;
    if (!(op.kind === 'cache-read' ? READS : WRITES).has(grant.role)) return false;
    if (grant.keyB64 !== undefined) return Buffer.from(grant.keyB64, 'base64').equals(op.key);
    if (grant.keyPrefixB64 !== undefined) return startsWith(op.key, Buffer.from(grant.keyPrefixB64, 'base64'));
    return true;
  }
  if (op.kind !== 'topic-publish' && op.kind !== 'topic-subscribe') return false;
  if (!(op.kind === 'topic-subscribe' ? READS : WRITES).has(grant.role)) return false;
  if (grant.topic !== undefined) return grant.topic === op.topic;
  if (grant.topicPrefix !== undefined) return op.topic.startsWith(grant.topicPrefix);
  return true;
}

/** True when some statement of `grants` allows `op`. */
export function allows(grants: readonly LocalGrant[], op: LocalOperation): boolean {
  return grants.some((g) => grantAllows(g, op));
}
