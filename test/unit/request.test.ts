import type { APIGatewayProxyEvent } from 'aws-lambda';
import { BadRequestError } from '../../lambda/errors';
import { LIMITS, QUERY_PARAMETERS, checkHeaders, parseScopeRequest } from '../../lambda/request';
import type { ScopeRequest } from '../../lambda/policy';
import { tokenEvent } from '../support/events';

/** A REST API event for a query given as repeated parameters (both the single and the multi-value maps set). */
const query = (q: Record<string, string[]>) => tokenEvent({ query: q });

/** What a 400 for this code and message looks like. */
const badRequest = (code: string, message: RegExp) =>
  expect.objectContaining({ name: 'BadRequestError', status: 400, code, message: expect.stringMatching(message) });

describe('Function: parseScopeRequest', () => {
  it.each<[string, Record<string, string[]> | undefined, ScopeRequest]>([
    ['no query string', undefined, {}],
    ['cache', { cache: ['app'] }, { caches: ['app'] }],
    ['topic', { topic: ['chat-lobby'] }, { topics: ['chat-lobby'] }],
    ['key', { key: ['user/b1/avatar'] }, { keys: ['user/b1/avatar'] }],
    ['keyPrefix', { keyPrefix: ['user/b1/'] }, { keyPrefixes: ['user/b1/'] }],
    ['access=read', { access: ['read'] }, { readOnly: true }],
    ['access=full (the default, so nothing)', { access: ['full'] }, {}],
    ['ttl', { ttl: ['600'] }, { ttlSeconds: 600 }],
    ['ttl at the lower bound', { ttl: ['60'] }, { ttlSeconds: 60 }],
    ['ttl at Momento’s maximum (25 h)', { ttl: ['90000'] }, { ttlSeconds: 90_000 }],
    ['ttl with leading zeros', { ttl: ['0600'] }, { ttlSeconds: 600 }],
    ['repeated parameters', { cache: ['a', 'b'] }, { caches: ['a', 'b'] }],
    ['comma-separated values', { topic: ['chat-1,chat-2'] }, { topics: ['chat-1', 'chat-2'] }],
    ['comma-separated values with spaces', { topic: ['chat-1, chat-2'] }, { topics: ['chat-1', 'chat-2'] }],
    ['repeated and comma-separated together', { key: ['a,b', 'c'] }, { keys: ['a', 'b', 'c'] }],
    ['duplicate values (collapsed)', { cache: ['app', 'app,app'] }, { caches: ['app'] }],
    ['repeated access=read', { access: ['read', 'read'] }, { readOnly: true }],
    [
      'every parameter at once',
      { cache: ['app'], topic: ['t'], key: ['k'], keyPrefix: ['p/'], access: ['read'], ttl: ['120'] },
      { caches: ['app'], topics: ['t'], keys: ['k'], keyPrefixes: ['p/'], readOnly: true, ttlSeconds: 120 },
    ],
    ['every allowed character', { key: ['Az09_.:-/@+=|'] }, { keys: ['Az09_.:-/@+=|'] }],
    [
      'exactly 10 values',
      { topic: [Array.from({ length: 10 }, (_, i) => `t${i}`).join(',')] },
      { topics: Array.from({ length: 10 }, (_, i) => `t${i}`) },
    ],
    ['a 255-character value', { key: ['k'.repeat(255)] }, { keys: ['k'.repeat(255)] }],
  ])('parses %s', (_label, q, expected) => {
    // Prepare
    const event = q === undefined ? tokenEvent() : query(q);

    // Act & Assess
    expect(parseScopeRequest(event)).toEqual(expected);
  });

  it('reads the single-value map when API Gateway gives no multi-value map', () => {
    // Prepare
    const event = { queryStringParameters: { cache: 'a,b', ttl: '300' }, multiValueQueryStringParameters: null };

    // Act & Assess
    expect(parseScopeRequest(event)).toEqual({ caches: ['a', 'b'], ttlSeconds: 300 });
  });

  it('prefers the multi-value map, which holds every repetition', () => {
    // Prepare: the single-value map holds only the last value of a repeated parameter.
    const event = { queryStringParameters: { cache: 'b' }, multiValueQueryStringParameters: { cache: ['a', 'b'] } };

    // Act & Assess
    expect(parseScopeRequest(event)).toEqual({ caches: ['a', 'b'] });
  });

  it.each<[string, Record<string, string[]>, string, RegExp]>([
    [
      'an unknown parameter',
      { cachename: ['app'] },
      'unknown-parameter',
      /^unknown query parameter "cachename"; known: cache, topic, key, keyPrefix, access, ttl$/,
    ],
    ['a spoofed group parameter', { groups: ['admins'] }, 'unknown-parameter', /"groups"/],
    ['a parameter in the wrong case', { Cache: ['app'] }, 'unknown-parameter', /"Cache"/],
    [
      'a prototype name as parameter (an own key, as JSON-decoded events have)',
      JSON.parse('{"__proto__":["x"],"cache":["app"]}') as Record<string, string[]>,
      'unknown-parameter',
      /^unknown query parameter "__proto__"/,
    ],
    [
      'constructor as parameter',
      { constructor: ['x'] } as unknown as Record<string, string[]>,
      'unknown-parameter',
      /^unknown query parameter "constructor"/,
    ],
    ['a tokenId parameter (set by the server only)', { tokenId: ['someone-else'] }, 'unknown-parameter', /"tokenId"/],
    ['an empty value', { cache: [''] }, 'bad-parameter', /^cache must not be empty$/],
    ['an empty value among others', { topic: ['a,,b'] }, 'bad-parameter', /^topic must not be empty$/],
    ['a trailing comma', { key: ['a,'] }, 'bad-parameter', /^key must not be empty$/],
    ['whitespace only', { keyPrefix: ['  '] }, 'bad-parameter', /^keyPrefix must not be empty$/],
    [
      'more than 10 values',
      { topic: [Array.from({ length: 11 }, (_, i) => `t${i}`).join(',')] },
      'bad-parameter',
      /^topic takes at most 10 values$/,
    ],
    [
      'more than 10 repeated values',
      { cache: Array.from({ length: 11 }, (_, i) => `c${i}`) },
      'bad-parameter',
      /^cache takes at most 10 values$/,
    ],
    [
      'a space inside a value',
      { cache: ['my cache'] },
      'bad-parameter',
      /^cache values must be 1–255 characters of letters, digits and _ \. : - \/ @ \+ = \|$/,
    ],
    ['a wildcard', { cache: ['*'] }, 'bad-parameter', /^cache values must be/],
    ['a placeholder', { keyPrefix: ['user/{sub}/'] }, 'bad-parameter', /^keyPrefix values must be/],
    ['non-ASCII', { topic: ['chät'] }, 'bad-parameter', /^topic values must be/],
    ['markup', { topic: ['<script>'] }, 'bad-parameter', /^topic values must be/],
    ['a NUL byte', { key: ['a\u0000b'] }, 'bad-parameter', /^key values must be/],
    ['a 256-character value', { key: ['k'.repeat(256)] }, 'bad-parameter', /^key values must be 1–255 characters/],
    [
      'a query longer than 2048 characters',
      { key: Array.from({ length: 9 }, (_, i) => `${i}${'k'.repeat(249)}`) },
      'query-too-long',
      /^the query string exceeds 2048 characters$/,
    ],
    [
      'more parameters than exist',
      Object.fromEntries(['cache', 'topic', 'key', 'keyPrefix', 'access', 'ttl', 'x'].map((k) => [k, ['a']])),
      'too-many-parameters',
      /^too many query parameters$/,
    ],
    [
      'ttl that is not a number',
      { ttl: ['soon'] },
      'bad-parameter',
      /^ttl must be a whole number of seconds from 60 to 90000$/,
    ],
    ['ttl 59', { ttl: ['59'] }, 'bad-parameter', /^ttl must be a whole number/],
    ['ttl 90001', { ttl: ['90001'] }, 'bad-parameter', /^ttl must be a whole number/],
    ['ttl 0', { ttl: ['0'] }, 'bad-parameter', /^ttl must be a whole number/],
    ['ttl 1e3', { ttl: ['1e3'] }, 'bad-parameter', /^ttl must be a whole number/],
    ['ttl 0x10', { ttl: ['0x10'] }, 'bad-parameter', /^ttl must be a whole number/],
    ['ttl 600.5', { ttl: ['600.5'] }, 'bad-parameter', /^ttl must be a whole number/],
    ['ttl -600', { ttl: ['-600'] }, 'bad-parameter', /^ttl must be a whole number/],
    ['ttl +600', { ttl: ['+600'] }, 'bad-parameter', /^ttl must be a whole number/],
    ['ttl Infinity', { ttl: ['Infinity'] }, 'bad-parameter', /^ttl must be a whole number/],
    ['ttl 9999999 (too many digits)', { ttl: ['9999999'] }, 'bad-parameter', /^ttl must be a whole number/],
    // ?ttl=600&ttl=700 names the repeat, not a range problem
    ['two ttls', { ttl: ['600', '700'] }, 'bad-parameter', /^ttl takes one value; it was given more$/],
    ['two ttls in one value', { ttl: ['600,700'] }, 'bad-parameter', /^ttl takes one value; it was given more$/],
    ['an empty ttl', { ttl: [''] }, 'bad-parameter', /^ttl must not be empty$/],
    ['access=write', { access: ['write'] }, 'bad-parameter', /^access must be "read" or "full"$/],
    ['access=READ', { access: ['READ'] }, 'bad-parameter', /^access must be "read" or "full"$/],
    ['access=read,full', { access: ['read,full'] }, 'bad-parameter', /^access takes one value; it was given more$/],
    [
      'access given twice, differently',
      { access: ['read', 'full'] },
      'bad-parameter',
      /^access takes one value; it was given more$/,
    ],
  ])('answers 400 for %s', (_label, q, code, message) => {
    // Prepare
    const event = query(q);

    // Act & Assess
    expect(() => parseScopeRequest(event)).toThrow(BadRequestError);
    expect(() => parseScopeRequest(event)).toThrow(badRequest(code, message));
  });

  it('answers 400 for a parameter with no values in the multi-value map', () => {
    // Prepare
    const event = { queryStringParameters: null, multiValueQueryStringParameters: { cache: [] as string[] } };

    // Act & Assess
    expect(() => parseScopeRequest(event)).toThrow(badRequest('bad-parameter', /^cache must not be empty$/));
  });

  it('cuts a very long unknown parameter name in the message', () => {
    // Prepare
    const name = 'x'.repeat(500);

    // Act & Assess
    expect(() => parseScopeRequest(query({ [name]: ['1'] }))).toThrow(
      badRequest('unknown-parameter', new RegExp(`^unknown query parameter "x{64}";`)),
    );
  });

  it('accepts a query just within 2048 characters', () => {
    // Prepare: 8 values of 252 + "key" + 2 = 257 each → 2056 would be over, so 7 × 257 + one short value.
    const keys = [...Array.from({ length: 7 }, (_, i) => `${i}${'k'.repeat(251)}`), 'k'.repeat(2048 - 7 * 257 - 5)];

    // Act
    const request = parseScopeRequest(query({ key: keys }));

    // Assess
    expect(request.keys).toHaveLength(8);
  });

  it('knows exactly these parameters and limits', () => {
    // Act & Assess
    expect(QUERY_PARAMETERS).toEqual(['cache', 'topic', 'key', 'keyPrefix', 'access', 'ttl']);
    expect(LIMITS).toEqual({ valuesPerParameter: 10, valueLength: 255, queryLength: 2048, headerBytes: 8192 });
  });
});

describe('Function: checkHeaders', () => {
  const headersOf = (bytes: number): APIGatewayProxyEvent['headers'] => ({
    Host: 'h',
    'X-Pad': 'p'.repeat(bytes - 'Host'.length - 1 - 'X-Pad'.length),
  });

  it.each<[string, APIGatewayProxyEvent['headers'] | null | undefined]>([
    ['no headers', null],
    ['undefined headers', undefined],
    [
      'ordinary headers',
      tokenEvent({ headers: { Origin: 'https://app.example.com', Authorization: `Bearer ${'e'.repeat(1500)}` } })
        .headers,
    ],
    ['exactly 8192 bytes', headersOf(8192)],
    ['a header without a value', { Host: 'h', 'X-Empty': undefined }],
  ])('accepts %s', (_label, headers) => {
    // Act & Assess
    expect(() => checkHeaders(headers)).not.toThrow();
  });

  it.each<[string, APIGatewayProxyEvent['headers']]>([
    ['8193 bytes', headersOf(8193)],
    ['one huge header', { Cookie: 'c'.repeat(10_000) }],
    ['many small headers', Object.fromEntries(Array.from({ length: 600 }, (_, i) => [`x-h${i}`, 'v'.repeat(10)]))],
  ])('answers 400 headers-too-large for %s', (_label, headers) => {
    // Act & Assess
    expect(() => checkHeaders(headers)).toThrow(badRequest('headers-too-large', /^request headers exceed 8192 bytes$/));
  });
});
