/**
 * The pure parts of the local Momento (dev/local-momento): its token format and issuer, Momento's wire permissions
 * → grants, the permission check, and the one switch front ends and the smoke test use to point at it
 * (`momentoCredentialsFor`, `nodeSdkCredentials`).
 */
import { createHmac } from 'node:crypto';
import { permission_messages as P } from '@gomomento/generated-types/dist/permissionmessages';
import { isLocalMomentoEndpoint, momentoCredentialsFor } from '../../client/src/momento';
import { createTokenIssuer, grantAllows, grantsFromPermissions, type LocalGrant } from '../../dev/local-momento';
import { nodeSdkCredentials } from '../../scripts/smoke/momento-checks';

const b = (s: string) => Buffer.from(s, 'utf8');

describe('Function: createTokenIssuer', () => {
  const secret = Buffer.alloc(32, 7);
  const issuer = createTokenIssuer({ secret });
  const claims = { grants: [{ type: 'superuser' as const }], expiresAt: 2_000_000_000, tokenId: 'alice' };

  it('verifies what it issued until the expiry second, and not from it on', () => {
    const key = issuer.issue(claims);
    expect(key).toMatch(/^lm1\.[\w-]+\.[\w-]+$/);
    const ok = issuer.verify(key, 2_000_000_000 * 1000 - 1);
    expect(ok).toMatchObject({ ok: true, claims: { ...claims, jti: expect.any(String) } });
    expect(issuer.verify(key, 2_000_000_000 * 1000)).toEqual({ ok: false, reason: 'expired' });
  });

  it('gives every token its own id', () => {
    const ids = new Set(
      [1, 2, 3].map((n) => {
        const v = issuer.verify(issuer.issue(claims), n);
        return v.ok ? v.claims.jti : undefined;
      }),
    );
    expect(ids.size).toBe(3);
  });

  it.each([
    ['nothing', undefined, 'missing'],
    ['a v2 Momento key (a JWT)', 'eyJhbGciOiJIUzI1NiJ9.eyJ0IjoiZyJ9.c2ln', 'malformed'],
    ['two parts', 'lm1.abc', 'malformed'],
    ['another issuer', createTokenIssuer().issue(claims), 'bad-signature'],
  ])('refuses %s', (_what, key, reason) => {
    expect(issuer.verify(key, 0)).toEqual({ ok: false, reason });
  });

  it('refuses claims changed after signing', () => {
    const [head, payload, signature] = issuer.issue({ ...claims, grants: [] }).split('.');
    const widened = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), grants: claims.grants }),
    ).toString('base64url');
    expect(issuer.verify(`${head}.${widened}.${signature}`, 0)).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it('refuses a correctly signed payload that is not JSON', () => {
    const payload = b('not json').toString('base64url');
    const signature = createHmac('sha256', secret).update(`lm1.${payload}`).digest('base64url');
    expect(issuer.verify(`lm1.${payload}.${signature}`, 0)).toEqual({ ok: false, reason: 'malformed' });
  });
});

describe('Function: grantsFromPermissions', () => {
  const cache = (fields: Record<string, unknown>) =>
    new P.PermissionsType({ cache_permissions: new P.PermissionsType.CachePermissions(fields as never) });
  const topic = (fields: Record<string, unknown>) =>
    new P.PermissionsType({ topic_permissions: new P.PermissionsType.TopicPermissions(fields as never) });
  const app = new P.PermissionsType.CacheSelector({ cache_name: 'app' });
  const all = new P.PermissionsType.All();

  it('reads every selector of the wire form', () => {
    const permissions = new P.Permissions({
      explicit: new P.ExplicitPermissions({
        permissions: [
          cache({ role: P.CacheRole.CacheReadOnly, all_caches: all, all_items: all }),
          cache({
            role: P.CacheRole.CacheReadWrite,
            cache_selector: app,
            item_selector: new P.PermissionsType.CacheItemSelector({ key_prefix: b('user/1/') }),
          }),
          cache({
            role: P.CacheRole.CacheWriteOnly,
            cache_selector: app,
            item_selector: new P.PermissionsType.CacheItemSelector({ key: b('k') }),
          }),
          topic({ role: P.TopicRole.TopicReadWrite, cache_selector: app, all_topics: all }),
          topic({
            role: P.TopicRole.TopicReadOnly,
            cache_selector: app,
            topic_selector: new P.PermissionsType.TopicSelector({ topic_name_prefix: 'chat-' }),
          }),
          topic({
            role: P.TopicRole.TopicWriteOnly,
            all_caches: all,
            topic_selector: new P.PermissionsType.TopicSelector({ topic_name: 'inbox' }),
          }),
        ],
      }),
    });
    expect(grantsFromPermissions(permissions)).toEqual([
      { type: 'cache', role: 'readonly', cache: '*' },
      { type: 'cache', role: 'readwrite', cache: 'app', keyPrefixB64: b('user/1/').toString('base64') },
      { type: 'cache', role: 'writeonly', cache: 'app', keyB64: b('k').toString('base64') },
      { type: 'topic', role: 'publishsubscribe', cache: 'app' },
      { type: 'topic', role: 'subscribeonly', cache: 'app', topicPrefix: 'chat-' },
      { type: 'topic', role: 'publishonly', cache: '*', topic: 'inbox' },
    ]);
  });

  it('grants nothing for "permit none", a missing cache selector, or no permissions', () => {
    const permissions = new P.Permissions({
      explicit: new P.ExplicitPermissions({
        permissions: [
          cache({ role: P.CacheRole.CachePermitNone, cache_selector: app, all_items: all }),
          cache({ role: P.CacheRole.CacheReadWrite, all_items: all }),
        ],
      }),
    });
    expect(grantsFromPermissions(permissions)).toEqual([]);
    expect(grantsFromPermissions(undefined)).toEqual([]);
  });

  it('reads super_user as every permission', () => {
    expect(grantsFromPermissions(new P.Permissions({ super_user: P.SuperUserPermissions.SuperUser }))).toEqual([
      { type: 'superuser' },
    ]);
  });
});

describe('Function: grantAllows', () => {
  const prefix: LocalGrant = {
    type: 'cache',
    role: 'readwrite',
    cache: 'app',
    keyPrefixB64: Buffer.from([0xff, 0x00]).toString('base64'),
  };
  it.each<[string, LocalGrant, Parameters<typeof grantAllows>[1], boolean]>([
    [
      'a byte prefix covers the prefix itself',
      prefix,
      { kind: 'cache-write', cache: 'app', key: Buffer.from([0xff, 0]) },
      true,
    ],
    [
      'a byte prefix covers longer keys',
      prefix,
      { kind: 'cache-read', cache: 'app', key: Buffer.from([0xff, 0, 1]) },
      true,
    ],
    [
      'a byte prefix refuses a shorter key',
      prefix,
      { kind: 'cache-read', cache: 'app', key: Buffer.from([0xff]) },
      false,
    ],
    ['super-user covers a topic', { type: 'superuser' }, { kind: 'topic-publish', cache: 'x', topic: 't' }, true],
    [
      'a topic name is not a prefix',
      { type: 'topic', role: 'publishsubscribe', cache: 'app', topic: 'chat' },
      { kind: 'topic-subscribe', cache: 'app', topic: 'chat-1' },
      false,
    ],
  ])('%s', (_what, grant, op, expected) => {
    expect(grantAllows(grant, op)).toBe(expected);
  });
});

describe('Function: momentoCredentialsFor (client) and nodeSdkCredentials (smoke)', () => {
  it.each([
    ['http://127.0.0.1:8081', true],
    ['http://localhost:8081', true],
    ['http://[::1]:8081', true],
    ['cell-4-us-west-2-1.prod.a.momentohq.com', false],
    ['https://127.0.0.1:8081', false],
    ['http://127.0.0.1', false],
    ['http://127.0.0.1:8081/path', false],
    ['http://evil.example:8081', false],
    ['http://127.0.0.1.evil.example:8081', false],
  ])('%s is a local Momento endpoint: %s', (endpoint, local) => {
    expect(isLocalMomentoEndpoint(endpoint)).toBe(local);
  });

  it('adds endpoint overrides only for a local endpoint', () => {
    expect(momentoCredentialsFor({ authToken: 't', endpoint: 'cell-1.prod.a.momentohq.com' })).toEqual({
      authToken: 't',
    });
    expect(momentoCredentialsFor({ authToken: 't', endpoint: 'http://127.0.0.1:9' })).toEqual({
      authToken: 't',
      endpointOverrides: {
        cacheEndpoint: 'http://127.0.0.1:9',
        controlEndpoint: 'http://127.0.0.1:9',
        tokenEndpoint: 'http://127.0.0.1:9',
        secureConnection: false,
      },
    });
  });

  it('the smoke test keeps a deployed token as is and points the Node SDK at host:port for a local one', () => {
    const token = (endpoint: string) =>
      Buffer.from(JSON.stringify({ endpoint, api_key: 'k' }), 'utf8').toString('base64');
    const deployed = token('cell-1.prod.a.momentohq.com');
    expect(nodeSdkCredentials(deployed)).toEqual({ authToken: deployed });
    const local = token('http://127.0.0.1:9');
    expect(nodeSdkCredentials(local)).toEqual({
      authToken: local,
      endpointOverrides: {
        cacheEndpoint: '127.0.0.1:9',
        controlEndpoint: '127.0.0.1:9',
        tokenEndpoint: '127.0.0.1:9',
        secureConnection: false,
      },
    });
  });
});
