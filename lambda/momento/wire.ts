/**
 * Grants → Momento's wire messages (`token._GenerateDisposableTokenRequest` and the `permission_messages`
 * it embeds), and the reply back. We build the protobuf ourselves instead of going through the SDK's
 * `DisposableTokenScope` because the SDK (1.118.1) silently drops every key / key-prefix restriction when a scope
 * also holds a topic permission (fail-open), and it cannot express `topic_name_prefix`. The wire has neither
 * problem.
 *
 * Encoding uses `@bufbuild/protobuf`'s wire primitives (`BinaryWriter` / `BinaryReader`: varints, UTF-8,
 * length-delimited fields); the message layout — field numbers and types, listed in {@link FIELDS} — is Momento's
 * `token.proto` / `permissionmessages.proto` (copied to proto/momento/). We do not use the full generated
 * `@bufbuild/protobuf` runtime in the function: at module init it decodes the embedded file descriptors
 * (≈ 16 ms of CPU, docs/measurements.md, M2) for nothing we need. The generated code (test/support/momento-gen,
 * from scripts/gen-protos.sh) is the reference the tests hold this file to, field by field, and the bytes are asserted
 * equal to what `@gomomento/generated-types` (the SDK's google-protobuf types) serializes
 * (test/unit/momento-wire.test.ts).
 *
 * Serialization follows protobuf's canonical order, as google-protobuf does: fields in field-number order,
 * proto3 scalars left out when they hold their default value, a set oneof member always written (an empty
 * message as a zero-length field).
 *
 * Pure: no I/O.
 */
import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import type { CacheRole, TopicRole } from '../../config/schema';
import type { Grant } from '../types';

/**
 * Field numbers of the messages we write or read (from Momento's .proto files; the tests check each one against
 * the generated descriptors in test/support/momento-gen).
 */
export const FIELDS = {
  GenerateDisposableTokenRequest: { expires: 1, auth_token: 2, permissions: 3, token_id: 4 },
  GenerateDisposableTokenRequest_Expires: { valid_for_seconds: 1 },
  GenerateDisposableTokenResponse: { api_key: 1, endpoint: 2, valid_until: 3 },
  Permissions: { explicit: 2 },
  ExplicitPermissions: { permissions: 1 },
  PermissionsType: { cache_permissions: 1, topic_permissions: 2 },
  CacheSelector: { cache_name: 1 },
  CacheItemSelector: { key: 1, key_prefix: 2 },
  CachePermissions: { role: 1, all_caches: 2, cache_selector: 3, all_items: 4, item_selector: 5 },
  TopicSelector: { topic_name: 1, topic_name_prefix: 2 },
  TopicPermissions: { role: 1, all_caches: 2, cache_selector: 3, all_topics: 4, topic_selector: 5 },
} as const;

/** `permission_messages.CacheRole` values. */
const CACHE_ROLE: Record<CacheRole, number> = { readwrite: 1, readonly: 2, writeonly: 3 };
// Momento names topic roles after the cache ones: publish = write, subscribe = read.
/** `permission_messages.TopicRole` values. */
const TOPIC_ROLE: Record<TopicRole, number> = { publishsubscribe: 1, subscribeonly: 2, publishonly: 3 };

const F = FIELDS;
const LEN = WireType.LengthDelimited;
const VARINT = WireType.Varint;
const EMPTY = new Uint8Array(0);
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

/** Writes the `cache` oneof (all_caches / cache_selector), same field numbers in cache and topic permissions. */
function writeCache(w: BinaryWriter, grant: Grant): void {
  if (grant.cache === '*') w.tag(F.CachePermissions.all_caches, LEN).bytes(EMPTY);
  else if (grant.cache === '') throw invalid(grant, 'cache must not be empty');
  else
    w.tag(F.CachePermissions.cache_selector, LEN)
      .fork()
      .tag(F.CacheSelector.cache_name, LEN)
      .string(grant.cache)
      .join();
}

/** Writes one `PermissionsType` statement's body. */
function writeStatement(w: BinaryWriter, grant: Grant): void {
  if (grant.type === 'cache') {
    const role = CACHE_ROLE[grant.role];
    if (role === undefined) throw invalid(grant, `unknown cache role "${String(grant.role)}"`);
    const hasKey = nonEmpty(grant, 'key', grant.key);
    const hasPrefix = nonEmpty(grant, 'keyPrefix', grant.keyPrefix);
    if (hasKey && hasPrefix) throw invalid(grant, 'set key or keyPrefix, not both');
    w.tag(F.PermissionsType.cache_permissions, LEN).fork();
    w.tag(F.CachePermissions.role, VARINT).int32(role);
    writeCache(w, grant);
    if (hasKey || hasPrefix) {
      const field = hasKey ? F.CacheItemSelector.key : F.CacheItemSelector.key_prefix;
      w.tag(F.CachePermissions.item_selector, LEN).fork();
      w.tag(field, LEN).bytes(utf8.encode((hasKey ? grant.key : grant.keyPrefix) as string));
      w.join();
    } else w.tag(F.CachePermissions.all_items, LEN).bytes(EMPTY);
    w.join();
    return;
  }
  if (grant.type === 'topic') {
    const role = TOPIC_ROLE[grant.role];
    if (role === undefined) throw invalid(grant, `unknown topic role "${String(grant.role)}"`);
    const hasTopic = nonEmpty(grant, 'topic', grant.topic);
    const hasPrefix = nonEmpty(grant, 'topicPrefix', grant.topicPrefix);
    if (hasTopic && hasPrefix) throw invalid(grant, 'set topic or topicPrefix, not both');
    w.tag(F.PermissionsType.topic_permissions, LEN).fork();
    w.tag(F.TopicPermissions.role, VARINT).int32(role);
    writeCache(w, grant);
    if (hasTopic || hasPrefix) {
      const field = hasTopic ? F.TopicSelector.topic_name : F.TopicSelector.topic_name_prefix;
      w.tag(F.TopicPermissions.topic_selector, LEN).fork();
      w.tag(field, LEN).string((hasTopic ? grant.topic : grant.topicPrefix) as string);
      w.join();
    } else w.tag(F.TopicPermissions.all_topics, LEN).bytes(EMPTY);
    w.join();
    return;
  }
  throw new Error(`Unknown grant type "${String((grant as { type?: unknown }).type)}"`);
}

/**
 * Converts grants into the explicit permissions of a disposable token (a serialized
 * `permission_messages.Permissions`), one statement per grant, in order. Every key / key-prefix / topic-prefix
 * restriction is kept, whatever else the grant list holds.
 *
 * @throws Error when `grants` is empty or a grant is malformed (empty name, both key and keyPrefix, …): the
 *   policy engine must never produce one, and minting anyway could widen access.
 * @example
 * toPermissions([{ type: 'cache', cache: 'app', role: 'readonly', keyPrefix: 'user/42/' }]);
 */
export function toPermissions(grants: readonly Grant[]): Uint8Array {
  // An empty explicit list would mint a token that can do nothing, or worse, be read as "no restriction".
  if (grants.length === 0) throw new Error('Refusing to mint a token without permissions');
  const w = new BinaryWriter();
  w.tag(F.Permissions.explicit, LEN).fork();
  for (const grant of grants) {
    w.tag(F.ExplicitPermissions.permissions, LEN).fork();
    writeStatement(w, grant);
    w.join();
  }
  return w.join().finish();
}

/** What goes into one `GenerateDisposableToken` request. */
export interface TokenRequest {
  readonly authToken: string;
  /** A serialized `Permissions` ({@link toPermissions}). */
  readonly permissions: Uint8Array;
  readonly validForSeconds: number;
  /** Left off the wire (proto3 default) when undefined or empty. */
  readonly tokenId?: string;
}

/** Serializes `token._GenerateDisposableTokenRequest`. */
export function encodeTokenRequest(r: TokenRequest): Uint8Array {
  const w = new BinaryWriter();
  const R = F.GenerateDisposableTokenRequest;
  w.tag(R.expires, LEN).fork();
  if (r.validForSeconds !== 0)
    w.tag(F.GenerateDisposableTokenRequest_Expires.valid_for_seconds, VARINT).uint32(r.validForSeconds);
  w.join();
  if (r.authToken !== '') w.tag(R.auth_token, LEN).string(r.authToken);
  w.tag(R.permissions, LEN).bytes(r.permissions);
  if (r.tokenId) w.tag(R.token_id, LEN).string(r.tokenId);
  return w.finish();
}

/** `token._GenerateDisposableTokenResponse`, decoded. */
export interface TokenReply {
  readonly apiKey: string;
  readonly endpoint: string;
  /** Epoch seconds. */
  readonly validUntil: number;
}

/** Parses `token._GenerateDisposableTokenResponse`; unknown fields are skipped; throws on malformed bytes. */
export function decodeTokenReply(bytes: Uint8Array): TokenReply {
  const r = new BinaryReader(bytes);
  const R = F.GenerateDisposableTokenResponse;
  let apiKey = '';
  let endpoint = '';
  let validUntil = 0;
  while (r.pos < r.len) {
    const [no, type] = r.tag();
    if (no === R.api_key && type === LEN) apiKey = r.string();
    else if (no === R.endpoint && type === LEN) endpoint = r.string();
    else if (no === R.valid_until && type === VARINT) validUntil = Number(r.uint64());
    else r.skip(type, no);
  }
  return { apiKey, endpoint, validUntil };
}
