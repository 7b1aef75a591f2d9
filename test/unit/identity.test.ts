import type { APIGatewayProxyEvent } from 'aws-lambda';
import { validateConfig, type AuthConfig } from '../../config/schema';
import authorizerConfig from '../../config/examples/authorizer.config';
import openConfig from '../../config/examples/open.config';
import cognitoConfig from '../../config/tvm.config';
import { MAX_GROUP_LENGTH, MAX_GROUPS, parseGroupList } from '../../common/groups';
import { ANONYMOUS, identify, type IdentityOptions } from '../../lambda/identity';
import { cognitoAuthorizer, lambdaAuthorizer, tokenEvent } from '../support/events';
import type { Principal } from '../../lambda/types';

/** {@link identify} without the reason: the principal, or `undefined` when there is none. */
const principalFrom = (
  event: Pick<APIGatewayProxyEvent, 'requestContext'>,
  auth: AuthConfig,
  options: IdentityOptions = {},
): Principal | undefined => {
  const result = identify(event, auth, options);
  return 'principal' in result ? result.principal : undefined;
};

const COGNITO: AuthConfig = validateConfig(cognitoConfig).auth;
const AUTHORIZER: AuthConfig = validateConfig(authorizerConfig).auth;
const OPEN: AuthConfig = validateConfig(openConfig).auth;

/** Headers a caller might send to pose as someone else (the anchor read group and cache from headers). */
const SPOOFED_HEADERS = {
  usergroup: 'admins',
  cachename: 'other',
  groups: '["admins"]',
  'x-amzn-oidc-identity': 'admin',
  'x-amzn-oidc-data': 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiIsImdyb3VwcyI6WyJhZG1pbnMiXX0.',
  'x-amzn-remapped-authorization': 'Bearer forged',
  'x-tvm-sub': 'admin',
};

/** The same event with a query string trying the same. */
const spoofedEvent = (authorizer: Record<string, unknown> | null) =>
  tokenEvent({ headers: SPOOFED_HEADERS, authorizer, query: { groups: ['admins'], sub: ['admin'] } });

describe('Function: parseGroupList (common/groups.ts, used by both functions)', () => {
  it.each<[string, unknown, string[]]>([
    ['an array', ['admins', 'members'], ['admins', 'members']],
    ['"a,b"', 'admins,members', ['admins', 'members']],
    ['"a, b"', 'admins, members', ['admins', 'members']],
    ['a space-separated string', 'admins members', ['admins', 'members']],
    ['a single group', 'admins', ['admins']],
    ['a single group in an array', ['admins'], ['admins']],
    ['an empty string', '', []],
    ['whitespace only', '   ', []],
    ['an empty array', [], []],
    ['undefined', undefined, []],
    ['stray separators', ',admins,,members,', ['admins', 'members']],
    ['duplicates', ['admins', 'admins', 'members', 'admins'], ['admins', 'members']],
    ['duplicates in a string', 'admins,admins', ['admins']],
    ['non-strings in an array', ['admins', 1, null, { name: 'x' }, ['members'], true, ''], ['admins']],
    ['Object.prototype names (kept as plain names)', '__proto__,constructor', ['__proto__', 'constructor']],
  ])('parses %s', (_label, value, expected) => {
    // Act & Assess
    expect(parseGroupList(value)).toEqual({ ok: true, groups: expected });
  });

  it.each<[string, unknown]>([
    ['a number', 42],
    ['null', null],
    ['an object', { admins: true }],
  ])('refuses %s as groups-claim-invalid', (_label, value) => {
    expect(parseGroupList(value)).toEqual({ ok: false, problem: 'groups-claim-invalid' });
  });

  it('refuses more than 100 distinct groups, from an array or a string alike (never a truncated subset)', () => {
    // Prepare
    const many = Array.from({ length: 101 }, (_, i) => `g${i}`);

    // Act & Assess
    expect(MAX_GROUPS).toBe(100);
    expect(parseGroupList(many)).toEqual({ ok: false, problem: 'too-many-groups' });
    expect(parseGroupList(many.join(','))).toEqual({ ok: false, problem: 'too-many-groups' });
    expect(parseGroupList(many.slice(0, 100))).toEqual({ ok: true, groups: many.slice(0, 100) });
  });

  it('counts distinct groups toward the limit, not duplicates', () => {
    // Prepare
    const value = [...Array.from({ length: 150 }, () => 'dup'), 'admins'];

    // Act & Assess
    expect(parseGroupList(value)).toEqual({ ok: true, groups: ['dup', 'admins'] });
  });

  it('refuses a group longer than 128 characters', () => {
    // Prepare
    const long = 'g'.repeat(129);

    // Act & Assess
    expect(MAX_GROUP_LENGTH).toBe(128);
    expect(parseGroupList(['admins', long])).toEqual({ ok: false, problem: 'group-too-long' });
    expect(parseGroupList(`admins,${long}`)).toEqual({ ok: false, problem: 'group-too-long' });
    expect(parseGroupList(['admins', 'g'.repeat(128)])).toEqual({ ok: true, groups: ['admins', 'g'.repeat(128)] });
  });
});

describe('Function: identify (group limits behave the same in both modes)', () => {
  const many = Array.from({ length: 101 }, (_, i) => `g${i}`);
  const long = ['admins', 'g'.repeat(129)];

  it.each<[string, string[], string]>([
    ['more than 100 groups', many, 'too-many-groups'],
    ['a group longer than 128 characters', long, 'group-too-long'],
  ])('refuses %s in cognito mode and in authorizer mode, with the reason', (_label, groups, reason) => {
    // Act
    const cognito = identify(tokenEvent({ authorizer: cognitoAuthorizer('u1', groups) }), COGNITO);
    const authorizer = identify(tokenEvent({ authorizer: lambdaAuthorizer('u1', groups) }), AUTHORIZER);

    // Assess
    expect(cognito).toEqual({ refused: reason });
    expect(authorizer).toEqual({ refused: reason });
  });

  it('says why there is no principal', () => {
    expect(identify(tokenEvent({ authorizer: null }), COGNITO)).toEqual({ refused: 'no-identity' });
    expect(
      identify(tokenEvent({ authorizer: cognitoAuthorizer('u1', ['admins']) }), COGNITO, {
        cognitoClientIds: new Set(['another-client']),
      }),
    ).toEqual({ refused: 'wrong-client' });
  });
});

describe('Function: principalFrom', () => {
  describe('cognito mode', () => {
    it('takes id, groups and claims from the Cognito authorizer claims', () => {
      // Prepare
      const event = tokenEvent({
        authorizer: cognitoAuthorizer('6f1c2d3e-aaaa-bbbb-cccc-0123456789ab', ['admins', 'members'], {
          'custom:team': 'red',
        }),
      });

      // Act
      const principal = principalFrom(event, COGNITO);

      // Assess
      expect(principal).toEqual({
        id: '6f1c2d3e-aaaa-bbbb-cccc-0123456789ab',
        groups: ['admins', 'members'],
        claims: expect.objectContaining({
          sub: '6f1c2d3e-aaaa-bbbb-cccc-0123456789ab',
          'custom:team': 'red',
          'cognito:groups': 'admins,members',
        }),
        source: 'cognito',
      });
    });

    it.each<[string, string, string[]]>([
      ['"a,b"', 'admins,members', ['admins', 'members']],
      ['"[a b]"', '[admins members]', ['admins', 'members']],
      ['a JSON array string', '["admins","members"]', ['admins', 'members']],
      ['one group', 'readers', ['readers']],
      ['no group', '', []],
    ])('parses cognito:groups given as %s', (_label, raw, expected) => {
      // Prepare
      const event = tokenEvent({ authorizer: { claims: { sub: 'u1', 'cognito:groups': raw } } });

      // Act & Assess
      expect(principalFrom(event, COGNITO)?.groups).toEqual(expected);
    });

    it('keeps every group of a user in many groups (a groups claim longer than other claims may be)', () => {
      // Prepare
      const groups = Array.from({ length: 30 }, (_, i) => `department-${i}`);
      const event = tokenEvent({ authorizer: cognitoAuthorizer('u1', [...groups, 'admins']) });

      // Act
      const principal = principalFrom(event, COGNITO);

      // Assess
      expect(principal?.groups).toEqual([...groups, 'admins']);
    });

    it('still drops an oversized claim from the claims used by templates', () => {
      // Prepare
      const event = tokenEvent({
        authorizer: cognitoAuthorizer('u1', ['admins'], { 'custom:bio': 'x'.repeat(257), 'custom:team': 'red' }),
      });

      // Act
      const principal = principalFrom(event, COGNITO);

      // Assess
      expect(principal?.claims['custom:bio']).toBeUndefined();
      expect(principal?.claims['custom:team']).toBe('red');
    });

    it('uses auth.tokenIdClaim as the id', () => {
      // Prepare
      const auth = validateConfig({
        ...cognitoConfig,
        auth: { mode: 'cognito', tokenIdClaim: 'cognito:username' },
      }).auth;
      const event = tokenEvent({ authorizer: cognitoAuthorizer('6f1c2d3e', ['admins']) });

      // Act & Assess
      expect(principalFrom(event, auth)?.id).toBe('user-6f1c2d3e');
    });

    it.each<[string, Record<string, unknown> | null]>([
      ['no authorizer block (a wiring mistake)', null],
      ['an authorizer block without claims', {}],
      ['claims without sub', { claims: { 'cognito:groups': 'admins', email: 'a@example.com' } }],
      ['an empty sub', { claims: { sub: '', 'cognito:groups': 'admins' } }],
      ['a sub that is not a string', { claims: { sub: { id: 'admin' }, 'cognito:groups': 'admins' } }],
      ['claims that are a string', { claims: 'sub=admin' }],
      ['only a principalId (authorizer-mode shape)', { principalId: 'admin', groups: '["admins"]' }],
    ])('returns undefined for %s', (_label, authorizer) => {
      // Prepare
      const event = tokenEvent({ authorizer });

      // Act & Assess
      expect(principalFrom(event, COGNITO)).toBeUndefined();
    });

    it('never takes identity from headers or the query string', () => {
      // Act
      const withAuthorizer = principalFrom(spoofedEvent(cognitoAuthorizer('reader-1', ['readers'])), COGNITO);
      const withoutAuthorizer = principalFrom(spoofedEvent(null), COGNITO);

      // Assess
      expect(withAuthorizer).toMatchObject({ id: 'reader-1', groups: ['readers'], source: 'cognito' });
      expect(withoutAuthorizer).toBeUndefined();
    });

    it('stores a __proto__ claim as an own property of a null-prototype object, without polluting Object.prototype', () => {
      // Prepare: JSON.parse makes "__proto__" an own key, as a JSON-decoded authorizer context would.
      const claims = JSON.parse(
        '{"sub":"u1","cognito:groups":"members","__proto__":"evil","constructor":"c","polluted":"own"}',
      ) as Record<string, unknown>;
      const event = tokenEvent({ authorizer: { claims } });

      // Act
      const principal = principalFrom(event, COGNITO);

      // Assess
      expect(Object.getPrototypeOf(principal!.claims)).toBeNull();
      expect(Object.hasOwn(principal!.claims, '__proto__')).toBe(true);
      expect(principal!.claims['__proto__']).toBe('evil');
      expect(principal!.claims['constructor']).toBe('c');
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });
  });

  describe('authorizer mode', () => {
    it('takes id from principalId, groups and claims from the JSON context strings', () => {
      // Prepare
      const event = tokenEvent({
        authorizer: lambdaAuthorizer('auth0|5f7c', ['admin', 'member'], { team: 'red', email: 'a@example.com' }),
      });

      // Act
      const principal = principalFrom(event, AUTHORIZER);

      // Assess
      expect(principal).toEqual({
        id: 'auth0|5f7c',
        groups: ['admin', 'member'],
        claims: { team: 'red', email: 'a@example.com' },
        source: 'authorizer',
      });
      expect(Object.getPrototypeOf(principal!.claims)).toBeNull();
    });

    it.each<[string, unknown, number | undefined]>([
      ["the authorizer's decimal string", '1767225600', 1_767_225_600],
      ['a number', 1_767_225_600, 1_767_225_600],
      ['absent (an API key)', undefined, undefined],
      ['a date string', 'Thu Jan 01 00:00:00 UTC 2026', undefined],
      ['a fraction', '1767225600.5', undefined],
      ['zero', '0', undefined],
      ['negative', '-5', undefined],
      ['thirteen digits (milliseconds)', '1767225600000', undefined],
    ])('takes the credential issue time from context.issuedAt: %s', (_what, issuedAt, expected) => {
      const authorizer = { ...lambdaAuthorizer('auth0|5f7c', ['admin']), issuedAt, issuedAtClaim: 'auth_time' };
      const principal = principalFrom(tokenEvent({ authorizer }), AUTHORIZER);
      expect(principal?.issuedAt).toBe(expected);
      if (expected === undefined) expect(principal).not.toHaveProperty('issuedAt');
    });

    it.each<[string, unknown, string[]]>([
      ['malformed JSON', '["admin"', []],
      ['a bare name (not JSON)', 'admin', []],
      // Only the form the shipped authorizer produces (a JSON array of strings) carries groups.
      ['a JSON string holding "admin"', JSON.stringify('admin'), []],
      ['a JSON string holding "a,b"', JSON.stringify('admin,member'), []],
      ['a JSON array with a non-string', '["admin",1]', []],
      ['a JSON object', '{"admin":true}', []],
      ['a JSON number', '42', []],
      ['a JSON null', 'null', []],
      ['not a string', ['admin'], []],
      ['missing', undefined, []],
    ])('gives no groups (never a throw) for groups that are %s', (_label, groups, expected) => {
      // Prepare
      const event = tokenEvent({ authorizer: { principalId: 'auth0|5f7c', groups, claims: '{}' } });

      // Act & Assess
      expect(principalFrom(event, AUTHORIZER)?.groups).toEqual(expected);
    });

    it.each<[string, unknown, Record<string, string>]>([
      ['malformed JSON', '{"team":', {}],
      ['a JSON array', '["team"]', {}],
      ['a JSON string', '"team"', {}],
      ['JSON null', 'null', {}],
      ['not a string', { team: 'red' }, {}],
      [
        'numbers and booleans (as strings), objects and arrays dropped',
        '{"n":7,"b":false,"o":{"x":1},"a":["x"],"z":null}',
        { n: '7', b: 'false' },
      ],
      ['a value over 256 characters (dropped)', JSON.stringify({ team: 'red', bio: 'x'.repeat(257) }), { team: 'red' }],
    ])('parses claims that are %s without throwing', (_label, claims, expected) => {
      // Prepare
      const event = tokenEvent({ authorizer: { principalId: 'auth0|5f7c', groups: '[]', claims } });

      // Act
      const principal = principalFrom(event, AUTHORIZER);

      // Assess
      expect({ ...principal!.claims }).toEqual(expected);
    });

    it.each<[string, Record<string, unknown> | null]>([
      ['no authorizer block', null],
      ['no principalId', { groups: '["admin"]', claims: '{}' }],
      ['an empty principalId', { principalId: '', groups: '["admin"]' }],
      ['a principalId that is not a string', { principalId: 42, groups: '["admin"]' }],
      ['Cognito claims only (cognito-mode shape)', cognitoAuthorizer('u1', ['admin'])],
    ])('returns undefined for %s', (_label, authorizer) => {
      // Act & Assess
      expect(principalFrom(tokenEvent({ authorizer }), AUTHORIZER)).toBeUndefined();
    });

    it('does not let a __proto__ key in the claims JSON pollute Object.prototype', () => {
      // Prepare
      const claims = '{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},"team":"red"}';
      const event = tokenEvent({ authorizer: { principalId: 'auth0|5f7c', groups: '["__proto__"]', claims } });

      // Act
      const principal = principalFrom(event, AUTHORIZER);

      // Assess
      expect({ ...principal!.claims }).toEqual({ team: 'red' });
      expect(principal!.groups).toEqual(['__proto__']);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(Object.prototype).not.toHaveProperty('polluted');
    });

    it('never takes identity from headers or the query string', () => {
      // Act
      const withAuthorizer = principalFrom(spoofedEvent(lambdaAuthorizer('auth0|r', ['reader'])), AUTHORIZER);
      const withoutAuthorizer = principalFrom(spoofedEvent(null), AUTHORIZER);

      // Assess
      expect(withAuthorizer).toMatchObject({ id: 'auth0|r', groups: ['reader'] });
      expect(withoutAuthorizer).toBeUndefined();
    });
  });

  describe('open mode', () => {
    it.each<[string, Record<string, unknown> | null]>([
      ['no authorizer', null],
      ['a Cognito authorizer block', cognitoAuthorizer('admin-1', ['admins'])],
      ['a Lambda authorizer block', lambdaAuthorizer('admin-1', ['admin'], { team: 'red' })],
    ])('is anonymous with %s and spoofed headers', (_label, authorizer) => {
      // Act
      const principal = principalFrom(spoofedEvent(authorizer), OPEN);

      // Assess
      expect(principal).toBe(ANONYMOUS);
      expect(principal).toEqual({ id: undefined, groups: [], claims: {}, source: 'anonymous' });
    });

    it('hands out a frozen anonymous principal', () => {
      // Act & Assess
      expect(Object.isFrozen(ANONYMOUS)).toBe(true);
      expect(Object.isFrozen(ANONYMOUS.claims)).toBe(true);
    });
  });

  it('reads nothing but requestContext', () => {
    // Prepare: an event that has only requestContext; headers and query would throw if touched.
    const trap = new Proxy({} as APIGatewayProxyEvent, {
      get: (_t, prop) => {
        if (prop === 'requestContext')
          return tokenEvent({ authorizer: cognitoAuthorizer('u1', ['admins']) }).requestContext;
        throw new Error(`principalFrom read event.${String(prop)}`);
      },
    });

    // Act & Assess
    expect(principalFrom(trap, COGNITO)).toMatchObject({ id: 'u1', groups: ['admins'] });
  });
});
