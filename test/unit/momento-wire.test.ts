import { AllCaches, AllTopics, CacheRole, TopicRole } from '@gomomento/sdk';
import { AllCacheItems } from '@gomomento/sdk-core';
import { permissionsFromDisposableTokenScope } from '@gomomento/sdk/dist/src/internal/internal-auth-client';
import { permission_messages as pm } from '@gomomento/generated-types/dist/permissionmessages';
import { token } from '@gomomento/generated-types/dist/token';
import { create, toBinary, type DescMessage } from '@bufbuild/protobuf';
import { decodePermissions } from '../../dev/fake-momento/server';
import * as genPm from '../support/momento-gen/permissionmessages_pb';
import * as genToken from '../support/momento-gen/token_pb';
import { decodeTokenReply, encodeTokenRequest, FIELDS, toPermissions } from '../../lambda/momento/wire';
import type { Grant } from '../../lambda/types';

const b = (s: string) => Buffer.from(s, 'utf8');
/** Our bytes, read back with the official generated types (the oracle). */
const ourBytes = (grants: readonly Grant[]) => Buffer.from(toPermissions(grants));
const asOfficial = (grants: readonly Grant[]) => pm.Permissions.deserializeBinary(ourBytes(grants));
const decoded = (grants: readonly Grant[]) => decodePermissions(asOfficial(grants));
const statements = (grants: readonly Grant[]) =>
  (decoded(grants) as { explicit: { permissions: unknown[] } }).explicit.permissions;

describe('Function: toPermissions', () => {
  it.each<[string, Grant, unknown]>([
    [
      'all caches, all items',
      { type: 'cache', cache: '*', role: 'readwrite' },
      { cache_permissions: { role: pm.CacheRole.CacheReadWrite, all_caches: {}, all_items: {} } },
    ],
    [
      'one cache, all items',
      { type: 'cache', cache: 'app', role: 'readonly' },
      { cache_permissions: { role: pm.CacheRole.CacheReadOnly, cache_selector: { cache_name: 'app' }, all_items: {} } },
    ],
    [
      'one key',
      { type: 'cache', cache: 'app', role: 'writeonly', key: 'profile' },
      {
        cache_permissions: {
          role: pm.CacheRole.CacheWriteOnly,
          cache_selector: { cache_name: 'app' },
          item_selector: { key: b('profile') },
        },
      },
    ],
    [
      'key prefix',
      { type: 'cache', cache: 'app', role: 'readwrite', keyPrefix: 'user/42/' },
      {
        cache_permissions: {
          role: pm.CacheRole.CacheReadWrite,
          cache_selector: { cache_name: 'app' },
          item_selector: { key_prefix: b('user/42/') },
        },
      },
    ],
    [
      'all topics of all caches',
      { type: 'topic', cache: '*', role: 'publishonly' },
      { topic_permissions: { role: pm.TopicRole.TopicWriteOnly, all_caches: {}, all_topics: {} } },
    ],
    [
      'one topic',
      { type: 'topic', cache: 'app', role: 'publishsubscribe', topic: 'inbox-42' },
      {
        topic_permissions: {
          role: pm.TopicRole.TopicReadWrite,
          cache_selector: { cache_name: 'app' },
          topic_selector: { topic_name: 'inbox-42' },
        },
      },
    ],
    [
      'topic prefix (the SDK cannot express it)',
      { type: 'topic', cache: 'app', role: 'subscribeonly', topicPrefix: 'chat-' },
      {
        topic_permissions: {
          role: pm.TopicRole.TopicReadOnly,
          cache_selector: { cache_name: 'app' },
          topic_selector: { topic_name_prefix: 'chat-' },
        },
      },
    ],
  ])('encodes %s', (_name, grant, expected) => {
    // Act
    const result = decoded([grant]);

    // Assess
    expect(result).toEqual({ explicit: { permissions: [expected] } });
  });

  it.each<[Grant['role'], number]>([
    ['readwrite', 1],
    ['readonly', 2],
    ['writeonly', 3],
  ])('maps cache role %s to wire value %i', (role, wire) => {
    const [s] = statements([{ type: 'cache', cache: 'c', role } as Grant]);
    expect(s).toMatchObject({ cache_permissions: { role: wire } });
  });

  it.each<[Grant['role'], number]>([
    ['publishsubscribe', 1],
    ['subscribeonly', 2],
    ['publishonly', 3],
  ])('maps topic role %s to wire value %i', (role, wire) => {
    const [s] = statements([{ type: 'topic', cache: 'c', role } as Grant]);
    expect(s).toMatchObject({ topic_permissions: { role: wire } });
  });

  it('keeps key restrictions when topics are in the same token (the SDK fails open here)', () => {
    // Prepare
    const grants: Grant[] = [
      { type: 'topic', cache: 'app', role: 'subscribeonly', topic: 'news' },
      { type: 'cache', cache: 'app', role: 'readwrite', keyPrefix: 'user/42/' },
      { type: 'cache', cache: 'app', role: 'readonly', key: 'motd' },
    ];

    // Act
    const result = statements(grants);

    // Assess: order kept, one statement per grant, both item selectors present.
    expect(result).toEqual([
      { topic_permissions: { role: 2, cache_selector: { cache_name: 'app' }, topic_selector: { topic_name: 'news' } } },
      {
        cache_permissions: {
          role: 1,
          cache_selector: { cache_name: 'app' },
          item_selector: { key_prefix: b('user/42/') },
        },
      },
      { cache_permissions: { role: 2, cache_selector: { cache_name: 'app' }, item_selector: { key: b('motd') } } },
    ]);
    // …whereas the SDK, given the equivalent scope, drops every item restriction.
    const sdk = decodePermissions(
      permissionsFromDisposableTokenScope({
        permissions: [
          { role: TopicRole.SubscribeOnly, cache: 'app', topic: 'news' },
          { role: CacheRole.ReadWrite, cache: 'app', item: { keyPrefix: 'user/42/' } },
          { role: CacheRole.ReadOnly, cache: 'app', item: { key: 'motd' } },
        ],
      } as never),
    ) as { explicit: { permissions: { cache_permissions?: Record<string, unknown> }[] } };
    expect(sdk.explicit.permissions[1]?.cache_permissions).not.toHaveProperty('item_selector');
  });

  it('encodes keys as UTF-8 bytes', () => {
    const [s] = statements([{ type: 'cache', cache: 'c', role: 'readonly', key: 'clé/ключ/鍵' }]);
    expect(s).toEqual({
      cache_permissions: {
        role: 2,
        cache_selector: { cache_name: 'c' },
        item_selector: { key: Buffer.from('clé/ключ/鍵') },
      },
    });
  });

  it('survives a serialize / deserialize round trip unchanged', () => {
    const grants: Grant[] = [
      { type: 'cache', cache: '*', role: 'readonly', keyPrefix: 'p/' },
      { type: 'topic', cache: 'app', role: 'publishonly', topicPrefix: 't-' },
    ];
    const official = asOfficial(grants);
    // Re-serialized by google-protobuf, the bytes are ours exactly.
    expect(Buffer.from(official.serializeBinary()).equals(ourBytes(grants))).toBe(true);
  });

  describe('matches the SDK byte for byte where the SDK is correct', () => {
    // The SDK's own conversion (internal-auth-client.js) as the oracle: cache-only scopes with an explicit
    // item selector, and topic-only scopes without prefixes.
    it.each<[string, Grant[], unknown]>([
      [
        'all caches',
        [{ type: 'cache', cache: '*', role: 'readwrite' }],
        [{ role: CacheRole.ReadWrite, cache: AllCaches, item: AllCacheItems }],
      ],
      [
        'caches with key and key prefix',
        [
          { type: 'cache', cache: 'app', role: 'readonly', key: 'motd' },
          { type: 'cache', cache: 'app', role: 'writeonly', keyPrefix: 'user/7/' },
          { type: 'cache', cache: 'other', role: 'readwrite' },
        ],
        [
          { role: CacheRole.ReadOnly, cache: 'app', item: { key: 'motd' } },
          { role: CacheRole.WriteOnly, cache: 'app', item: { keyPrefix: 'user/7/' } },
          { role: CacheRole.ReadWrite, cache: 'other', item: AllCacheItems },
        ],
      ],
      [
        'topics',
        [
          { type: 'topic', cache: 'app', role: 'publishsubscribe', topic: 'chat' },
          { type: 'topic', cache: '*', role: 'subscribeonly' },
          { type: 'topic', cache: 'app', role: 'publishonly' },
        ],
        [
          { role: TopicRole.PublishSubscribe, cache: 'app', topic: 'chat' },
          { role: TopicRole.SubscribeOnly, cache: AllCaches, topic: AllTopics },
          { role: TopicRole.PublishOnly, cache: 'app', topic: AllTopics },
        ],
      ],
    ])('%s', (_name, grants, sdkPermissions) => {
      // Act
      const ours = ourBytes(grants);
      const sdk = permissionsFromDisposableTokenScope({ permissions: sdkPermissions } as never);

      // Assess
      expect(decodePermissions(asOfficial(grants))).toEqual(decodePermissions(sdk));
      expect(ours.equals(Buffer.from(sdk.serializeBinary()))).toBe(true);
    });
  });

  it.each<[string, Grant[], RegExp]>([
    ['no grants', [], /without permissions/],
    [
      'key and keyPrefix together',
      [{ type: 'cache', cache: 'c', role: 'readonly', key: 'k', keyPrefix: 'p' }],
      /key or keyPrefix, not both/,
    ],
    [
      'topic and topicPrefix together',
      [{ type: 'topic', cache: 'c', role: 'subscribeonly', topic: 't', topicPrefix: 'p' }],
      /topic or topicPrefix, not both/,
    ],
    ['an empty cache name', [{ type: 'cache', cache: '', role: 'readonly' }], /cache must not be empty/],
    ['an empty key', [{ type: 'cache', cache: 'c', role: 'readonly', key: '' }], /key must not be empty/],
    [
      'an empty key prefix',
      [{ type: 'cache', cache: 'c', role: 'readonly', keyPrefix: '' }],
      /keyPrefix must not be empty/,
    ],
    [
      'an empty topic prefix',
      [{ type: 'topic', cache: 'c', role: 'subscribeonly', topicPrefix: '' }],
      /topicPrefix must not be empty/,
    ],
    ['an unknown role', [{ type: 'cache', cache: 'c', role: 'admin' } as unknown as Grant], /unknown cache role/],
    ['an unknown type', [{ type: 'function', cache: 'c', role: 'x' } as unknown as Grant], /Unknown grant type/],
  ])('refuses %s', (_name, grants, message) => {
    expect(() => toPermissions(grants)).toThrow(message);
  });
});

describe('Function: encodeTokenRequest', () => {
  /** The same request built with the official generated types (what the SDK and grpc-js would send). */
  function official(grants: readonly Grant[], ttl: number, tokenId?: string): Buffer {
    const permissions = pm.Permissions.deserializeBinary(ourBytes(grants));
    // Built field by field from the official classes, not from our bytes' decoding alone.
    const rebuilt = new pm.Permissions({
      explicit: new pm.ExplicitPermissions({ permissions: permissions.explicit.permissions }),
    });
    return Buffer.from(
      new token._GenerateDisposableTokenRequest({
        expires: new token._GenerateDisposableTokenRequest.Expires({ valid_for_seconds: ttl }),
        auth_token: 'header.payload.sig',
        permissions: rebuilt,
        ...(tokenId ? { token_id: tokenId } : {}),
      }).serializeBinary(),
    );
  }

  it.each<[string, Grant[], number, string | undefined]>([
    [
      'a key prefix, with token id',
      [{ type: 'cache', cache: 'app', role: 'readwrite', keyPrefix: 'user/42/' }],
      900,
      'u-42',
    ],
    ['a single key, no token id', [{ type: 'cache', cache: 'app', role: 'readonly', key: 'clé' }], 60, undefined],
    [
      'topic prefix + topic + key prefix + all caches',
      [
        { type: 'topic', cache: 'app', role: 'subscribeonly', topicPrefix: 'chat-' },
        { type: 'topic', cache: '*', role: 'publishonly', topic: 'news' },
        { type: 'cache', cache: '*', role: 'writeonly', keyPrefix: 'p/' },
        { type: 'topic', cache: 'app', role: 'publishsubscribe' },
      ],
      90_000,
      'x'.repeat(64),
    ],
  ])('is byte for byte what @gomomento/generated-types serializes: %s', (_name, grants, ttl, tokenId) => {
    // Act
    const ours = Buffer.from(
      encodeTokenRequest({
        authToken: 'header.payload.sig',
        permissions: toPermissions(grants),
        validForSeconds: ttl,
        tokenId,
      }),
    );

    // Assess
    expect(ours.equals(official(grants, ttl, tokenId))).toBe(true);
    const back = token._GenerateDisposableTokenRequest.deserializeBinary(ours);
    expect({ ttl: back.expires.valid_for_seconds, tokenId: back.token_id, auth: back.auth_token }).toEqual({
      ttl,
      tokenId: tokenId ?? '',
      auth: 'header.payload.sig',
    });
    expect(decodePermissions(back.permissions)).toEqual(decoded(grants));
  });

  it('leaves token_id off the wire when empty', () => {
    const permissions = toPermissions([{ type: 'cache', cache: 'c', role: 'readonly' }]);
    const a = encodeTokenRequest({ authToken: 'k', permissions, validForSeconds: 5 });
    const c = encodeTokenRequest({ authToken: 'k', permissions, validForSeconds: 5, tokenId: '' });
    expect(Buffer.from(a).equals(Buffer.from(c))).toBe(true);
    expect(token._GenerateDisposableTokenRequest.deserializeBinary(a).token_id).toBe('');
  });
});

describe('Function: decodeTokenReply', () => {
  it('reads what @gomomento/generated-types serializes, including a 64-bit valid_until', () => {
    const bytes = new token._GenerateDisposableTokenResponse({
      api_key: 'disposable',
      endpoint: 'cell-1.example',
      valid_until: 1_900_000_000,
    }).serializeBinary();
    expect(decodeTokenReply(bytes)).toEqual({
      apiKey: 'disposable',
      endpoint: 'cell-1.example',
      validUntil: 1_900_000_000,
    });
  });

  it('refuses bytes that are not a reply', () => {
    expect(() => decodeTokenReply(Uint8Array.from([0x0a, 0x05, 0x61]))).toThrow();
  });
});

describe("FIELDS: the hand-written layout is the one generated from Momento's .proto files", () => {
  it.each<[keyof typeof FIELDS, DescMessage]>([
    ['GenerateDisposableTokenRequest', genToken._GenerateDisposableTokenRequestSchema],
    ['GenerateDisposableTokenRequest_Expires', genToken._GenerateDisposableTokenRequest_ExpiresSchema],
    ['GenerateDisposableTokenResponse', genToken._GenerateDisposableTokenResponseSchema],
    ['Permissions', genPm.PermissionsSchema],
    ['ExplicitPermissions', genPm.ExplicitPermissionsSchema],
    ['PermissionsType', genPm.PermissionsTypeSchema],
    ['CacheSelector', genPm.PermissionsType_CacheSelectorSchema],
    ['CacheItemSelector', genPm.PermissionsType_CacheItemSelectorSchema],
    ['CachePermissions', genPm.PermissionsType_CachePermissionsSchema],
    ['TopicSelector', genPm.PermissionsType_TopicSelectorSchema],
    ['TopicPermissions', genPm.PermissionsType_TopicPermissionsSchema],
  ])('%s', (name, schema) => {
    const generated = Object.fromEntries(schema.fields.map((f) => [f.name, f.number]));
    for (const [field, number] of Object.entries(FIELDS[name]))
      expect([field, generated[field]]).toEqual([field, number]);
  });

  it('encodes a request exactly as the generated @bufbuild/protobuf schema does', () => {
    // Prepare: the same request through the full generated runtime.
    const generated = toBinary(
      genToken._GenerateDisposableTokenRequestSchema,
      create(genToken._GenerateDisposableTokenRequestSchema, {
        expires: { validForSeconds: 300 },
        authToken: 'k.e.y',
        tokenId: 't',
        permissions: {
          kind: {
            case: 'explicit',
            value: {
              permissions: [
                {
                  kind: {
                    case: 'topicPermissions',
                    value: {
                      role: genPm.TopicRole.TopicReadOnly,
                      cache: { case: 'cacheSelector', value: { kind: { case: 'cacheName', value: 'app' } } },
                      topic: { case: 'topicSelector', value: { kind: { case: 'topicNamePrefix', value: 'chat-' } } },
                    },
                  },
                },
                {
                  kind: {
                    case: 'cachePermissions',
                    value: {
                      role: genPm.CacheRole.CacheReadWrite,
                      cache: { case: 'allCaches', value: {} },
                      cacheItem: { case: 'itemSelector', value: { kind: { case: 'key', value: b('k/1') } } },
                    },
                  },
                },
              ],
            },
          },
        },
      }),
    );

    // Act
    const ours = encodeTokenRequest({
      authToken: 'k.e.y',
      tokenId: 't',
      validForSeconds: 300,
      permissions: toPermissions([
        { type: 'topic', cache: 'app', role: 'subscribeonly', topicPrefix: 'chat-' },
        { type: 'cache', cache: '*', role: 'readwrite', key: 'k/1' },
      ]),
    });

    // Assess
    expect(Buffer.from(ours).equals(Buffer.from(generated))).toBe(true);
  });
});
