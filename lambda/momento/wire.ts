/**
 * Grants → Momento's wire message (`permission_messages.Permissions`), straight from the official generated
 * types. We build the protobuf ourselves instead of going through the SDK's `DisposableTokenScope` because the
 * SDK (1.118.1) silently drops every key / key-prefix restriction when a scope also holds a topic permission
 * (fail-open), and it cannot express `topic_name_prefix` (docs/decisions.md, "Mint over the wire, not with the
 * SDK"). The wire has neither problem.
 *
 * Pure: no I/O. It imports only the permission messages (≈11 ms with google-protobuf), not the package index,
 * which would load every Momento service (cache, control, pubsub…: ≈20 ms more on a cold start).
 */
import { permission_messages as pm } from '@gomomento/generated-types/dist/permissionmessages';
import type { CacheRole, TopicRole } from '../../config/schema';
import type { Grant } from '../types';

const CACHE_ROLE: Record<CacheRole, pm.CacheRole> = {
  readwrite: pm.CacheRole.CacheReadWrite,
  readonly: pm.CacheRole.CacheReadOnly,
  writeonly: pm.CacheRole.CacheWriteOnly,
};

// Momento names topic roles after the cache ones: publish = write, subscribe = read.
const TOPIC_ROLE: Record<TopicRole, pm.TopicRole> = {
  publishsubscribe: pm.TopicRole.TopicReadWrite,
  subscribeonly: pm.TopicRole.TopicReadOnly,
  publishonly: pm.TopicRole.TopicWriteOnly,
};

const utf8 = new TextEncoder();

/** A grant the policy engine should never produce; failing here fails closed (500) instead of minting. */
function invalid(grant: Grant, why: string): Error {
  return new Error(`Invalid ${grant.type} grant for cache "${grant.cache}": ${why}`);
}

function nonEmpty(grant: Grant, field: string, value: string | undefined): value is string {
  if (value === undefined) return false;
  if (value === '') throw invalid(grant, `${field} must not be empty`);
  return true;
}

function cacheSelector(
  grant: Grant,
): { all_caches: pm.PermissionsType.All } | { cache_selector: pm.PermissionsType.CacheSelector } {
  if (grant.cache === '*') return { all_caches: new pm.PermissionsType.All() };
  if (grant.cache === '') throw invalid(grant, 'cache must not be empty');
  return { cache_selector: new pm.PermissionsType.CacheSelector({ cache_name: grant.cache }) };
}

function toPermissionsType(grant: Grant): pm.PermissionsType {
  if (grant.type === 'cache') {
    const role = CACHE_ROLE[grant.role];
    if (role === undefined) throw invalid(grant, `unknown cache role "${String(grant.role)}"`);
    const hasKey = nonEmpty(grant, 'key', grant.key);
    const hasPrefix = nonEmpty(grant, 'keyPrefix', grant.keyPrefix);
    if (hasKey && hasPrefix) throw invalid(grant, 'set key or keyPrefix, not both');
    const item = hasKey
      ? { item_selector: new pm.PermissionsType.CacheItemSelector({ key: utf8.encode(grant.key) }) }
      : hasPrefix
        ? { item_selector: new pm.PermissionsType.CacheItemSelector({ key_prefix: utf8.encode(grant.keyPrefix) }) }
        : { all_items: new pm.PermissionsType.All() };
    return new pm.PermissionsType({
      cache_permissions: new pm.PermissionsType.CachePermissions({ role, ...cacheSelector(grant), ...item }),
    });
  }
  if (grant.type === 'topic') {
    const role = TOPIC_ROLE[grant.role];
    if (role === undefined) throw invalid(grant, `unknown topic role "${String(grant.role)}"`);
    const hasTopic = nonEmpty(grant, 'topic', grant.topic);
    const hasPrefix = nonEmpty(grant, 'topicPrefix', grant.topicPrefix);
    if (hasTopic && hasPrefix) throw invalid(grant, 'set topic or topicPrefix, not both');
    const topic = hasTopic
      ? { topic_selector: new pm.PermissionsType.TopicSelector({ topic_name: grant.topic }) }
      : hasPrefix
        ? { topic_selector: new pm.PermissionsType.TopicSelector({ topic_name_prefix: grant.topicPrefix }) }
        : { all_topics: new pm.PermissionsType.All() };
    return new pm.PermissionsType({
      topic_permissions: new pm.PermissionsType.TopicPermissions({ role, ...cacheSelector(grant), ...topic }),
    });
  }
  throw new Error(`Unknown grant type "${String((grant as { type?: unknown }).type)}"`);
}

/**
 * Converts grants into the explicit permissions of a disposable token, one statement per grant, in order.
 * Every key / key-prefix / topic-prefix restriction is kept, whatever else the grant list holds.
 *
 * @throws Error when `grants` is empty or a grant is malformed (empty name, both key and keyPrefix, …): the
 *   policy engine must never produce one, and minting anyway could widen access.
 * @example
 * toPermissions([{ type: 'cache', cache: 'app', role: 'readonly', keyPrefix: 'user/42/' }]);
 */
export function toPermissions(grants: readonly Grant[]): pm.Permissions {
  // An empty explicit list would mint a token that can do nothing, or worse, be read as "no restriction".
  if (grants.length === 0) throw new Error('Refusing to mint a token without permissions');
  return new pm.Permissions({
    explicit: new pm.ExplicitPermissions({ permissions: grants.map(toPermissionsType) }),
  });
}
