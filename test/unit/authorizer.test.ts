import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { FetchError } from 'aws-jwt-verify/error';
import type { Fetcher } from 'aws-jwt-verify/https';
import { createAuthorizer, type AuthorizerResult } from '../../authorizers/authorizer';
import { createJwtVerifier, jwksUriOf, type AuthorizerAuthConfig } from '../../authorizers/verify';
import { hashApiKeySecret, parseApiKeysDocument, type ApiKeyStore } from '../../authorizers/api-keys';
import {
  AUTHORIZER_UNAVAILABLE_MESSAGE,
  AuthorizationDenied,
  AuthorizerUnavailable,
  type DenyReason,
} from '../../authorizers/identity';
import {
  ATTACKER,
  AUDIENCE,
  ISSUER,
  JWKS,
  KEYS,
  METHOD_ARN,
  authorizerAuth,
  captureLog,
  claims,
  es256,
  rs256,
  signJwt,
  tokenEvent,
} from './authorizer-fixtures';

/** A JWKS fetcher that never touches the network: it fails like an unreachable IdP. */
const offlineFetcher = (): Fetcher & { fetch: jest.Mock } => ({
  fetch: jest.fn(async (uri: string) => {
    throw new FetchError(uri, 'offline (unit test)');
  }),
});

function setup(auth: AuthorizerAuthConfig = authorizerAuth(), apiKeyStore?: ApiKeyStore) {
  const fetcher = offlineFetcher();
  const verifier = createJwtVerifier(auth, { fetcher });
  verifier.cacheJwks(JWKS);
  const { entries, log } = captureLog();
  const handler = createAuthorizer({ auth, verifier, apiKeyStore, log });
  return { handler, entries, fetcher, verifier };
}

// Everything any console method printed during a test: must never contain a credential.
let consoleOutput: string[];
beforeEach(() => {
  consoleOutput = [];
  for (const m of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    jest.spyOn(console, m).mockImplementation((...args: unknown[]) => {
      consoleOutput.push(args.map(String).join(' '));
    });
  }
});
afterEach(() => jest.restoreAllMocks());

/** Runs the handler and returns its Allow result, failing the test if it threw. */
async function allow(
  handler: ReturnType<typeof setup>['handler'],
  authorization: string | undefined,
): Promise<AuthorizerResult> {
  return handler(tokenEvent(authorization));
}

/**
 * Runs the handler expecting a refusal: the error must be a plain Error with exactly 'Unauthorized', the log
 * must carry `reason`, and nothing logged anywhere may contain the credential.
 */
async function expectDenied(
  s: ReturnType<typeof setup>,
  authorization: string | undefined,
  reason: DenyReason,
  methodArn = METHOD_ARN,
) {
  const outcome = await s.handler(tokenEvent(authorization, methodArn)).then(
    (result) => ({ result }),
    (error: unknown) => ({ error }),
  );
  expect(outcome).not.toHaveProperty('result');
  const { error } = outcome as { error: Error };
  expect(error).toBeInstanceOf(Error);
  expect(error.constructor).toBe(Error);
  expect(error.message).toBe('Unauthorized');
  expect(s.entries.map((e) => e.reason)).toEqual([reason]);
  expectNoCredentialLogged(authorization, s.entries);
}

function expectNoCredentialLogged(authorization: string | undefined, entries: readonly object[]) {
  if (!authorization) return;
  const logged = [...entries.map((e) => JSON.stringify(e)), ...consoleOutput].join('\n');
  const secretParts = [authorization, ...authorization.split(/[ .]/).filter((p) => p.length >= 16)];
  for (const part of secretParts) expect(logged).not.toContain(part);
}

const contextOf = (r: AuthorizerResult) => ({
  sub: r.context.sub,
  groups: JSON.parse(r.context.groups) as unknown,
  claims: JSON.parse(r.context.claims) as unknown,
});

describe('Function: authorizer (bearer JWT)', () => {
  describe('valid tokens', () => {
    it('allows an RS256 token: policy on the method ARN, principalId = sub, context as JSON strings', async () => {
      // Prepare
      const s = setup();
      // Act
      const result = await allow(s.handler, `Bearer ${rs256({ tenant: 'acme' })}`);
      // Assess
      expect(result.principalId).toBe('user-123');
      expect(result.policyDocument).toEqual({
        Version: '2012-10-17',
        Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: METHOD_ARN }],
      });
      expect(contextOf(result)).toEqual({
        sub: 'user-123',
        groups: ['admins'],
        claims: { email: 'ada@example.com', tenant: 'acme', sub: 'user-123' },
      });
      for (const v of Object.values(result.context)) expect(typeof v).toBe('string');
      expect(s.entries).toEqual([]);
      expect(s.fetcher.fetch).not.toHaveBeenCalled();
    });

    it('allows an ES256 token', async () => {
      const s = setup();
      const result = await allow(s.handler, `Bearer ${es256()}`);
      expect(result.principalId).toBe('user-123');
    });

    it('accepts the scheme in any case ("bearer")', async () => {
      const s = setup();
      await expect(allow(s.handler, `bearer ${rs256()}`)).resolves.toHaveProperty('principalId', 'user-123');
    });

    it.each([
      ['an array', ['admins', 'readers'], ['admins', 'readers']],
      ['a space-separated string', 'admins readers', ['admins', 'readers']],
      ['a comma-separated string', 'admins,readers', ['admins', 'readers']],
      ['a mixed, padded string', ' admins, readers  ops ', ['admins', 'readers', 'ops']],
      ['an array with non-strings (dropped)', ['admins', 7, null, { a: 1 }, ['x'], true, ''], ['admins']],
      ['duplicates (de-duplicated)', ['admins', 'admins', 'readers'], ['admins', 'readers']],
      [
        'exactly 100 groups',
        Array.from({ length: 100 }, (_, i) => `g${i}`),
        Array.from({ length: 100 }, (_, i) => `g${i}`),
      ],
      ['a 128-character group', ['a'.repeat(128)], ['a'.repeat(128)]],
    ])('reads groups from %s', async (_what, groups, expected) => {
      const s = setup();
      const result = await allow(s.handler, `Bearer ${rs256({ groups })}`);
      expect(JSON.parse(result.context.groups)).toEqual(expected);
    });

    it('gives no groups when the groups claim is missing', async () => {
      const s = setup();
      const result = await allow(s.handler, `Bearer ${rs256({ groups: undefined })}`);
      expect(result.context.groups).toBe('[]');
    });

    it('reads groups from a configured claim name (e.g. cognito:groups)', async () => {
      const s = setup(authorizerAuth({ groupsClaim: 'cognito:groups' }));
      const result = await allow(s.handler, `Bearer ${rs256({ groups: ['ignored'], 'cognito:groups': ['members'] })}`);
      expect(JSON.parse(result.context.groups)).toEqual(['members']);
    });

    it('passes "__proto__" and "constructor" through as plain group names and pollutes nothing', async () => {
      const s = setup();
      const result = await allow(
        s.handler,
        `Bearer ${rs256({ groups: ['__proto__', 'constructor', 'prototype', 'admins'] })}`,
      );
      expect(JSON.parse(result.context.groups)).toEqual(['__proto__', 'constructor', 'prototype', 'admins']);
      expect(({} as Record<string, unknown>).admins).toBeUndefined();
      expect(Object.getPrototypeOf(result.context)).toBe(Object.prototype);
      expect(Object.keys(result.context).sort()).toEqual(['claims', 'groups', 'issuedAt', 'issuedAtClaim', 'sub']);
    });

    it('forwards only configured claims, as strings; drops objects and over-long values (never truncates)', async () => {
      const s = setup();
      const result = await allow(
        s.handler,
        `Bearer ${rs256({ age: 42, verified: true, profile: { role: 'admin' }, long: 'x'.repeat(257), secretClaim: 'nope', tenant: 't'.repeat(256) })}`,
      );
      expect(JSON.parse(result.context.claims)).toEqual({
        email: 'ada@example.com',
        age: '42',
        verified: 'true',
        tenant: 't'.repeat(256),
        sub: 'user-123',
      });
    });

    describe('issue time (what the revocation check compares)', () => {
      const T = 1_767_225_600;
      it.each([
        [
          'auth_time and iat: auth_time (the sign-in, kept by a refresh)',
          { auth_time: T, iat: T + 3000 },
          T,
          'auth_time',
        ],
        ['a fractional auth_time: whole seconds', { auth_time: T + 0.9, iat: T + 3000 }, T, 'auth_time'],
        ['only iat', { iat: T + 3000 }, T + 3000, 'iat'],
        ['an auth_time that is no number: iat', { auth_time: String(T), iat: T + 3000 }, T + 3000, 'iat'],
        ['a zero auth_time: iat', { auth_time: 0, iat: T + 3000 }, T + 3000, 'iat'],
      ])('forwards it whatever forwardClaims lists, from %s', async (_what, times, seconds, claim) => {
        // Prepare: forwardClaims lists neither
        const s = setup(authorizerAuth({ forwardClaims: [] }));

        // Act
        const result = await allow(s.handler, `Bearer ${rs256(times)}`);

        // Assess
        expect(result.context).toMatchObject({ issuedAt: String(seconds), issuedAtClaim: claim });
        expect(JSON.parse(result.context.claims)).toEqual({ sub: 'user-123' });
      });

      it('forwards none when the token has neither', async () => {
        const s = setup();
        const result = await allow(s.handler, `Bearer ${rs256({ iat: undefined })}`);
        expect(result.context.issuedAt).toBeUndefined();
        expect(Object.keys(result.context)).not.toContain('issuedAtClaim');
      });
    });

    it('uses tokenIdClaim as the subject and forwards it', async () => {
      const s = setup(authorizerAuth({ tokenIdClaim: 'uid' }));
      const result = await allow(s.handler, `Bearer ${rs256({ uid: 'u-9' })}`);
      expect(result.principalId).toBe('u-9');
      expect(contextOf(result)).toMatchObject({ sub: 'u-9', claims: { uid: 'u-9' } });
    });

    it('accepts any configured audience, from an aud array', async () => {
      const s = setup();
      await expect(
        allow(s.handler, `Bearer ${rs256({ aud: ['someone-else', 'other-client'] })}`),
      ).resolves.toBeDefined();
    });

    it('accepts client_id in place of a missing aud (Cognito access tokens)', async () => {
      const s = setup();
      await expect(
        allow(s.handler, `Bearer ${rs256({ aud: undefined, client_id: AUDIENCE, token_use: 'access' })}`),
      ).resolves.toBeDefined();
    });

    it('fetches the JWKS lazily from the default URI for a kid it has not cached, then caches it', async () => {
      // Prepare: no cacheJwks; the fetcher serves the JWKS.
      const auth = authorizerAuth();
      const fetcher = {
        fetch: jest.fn(async () => new TextEncoder().encode(JSON.stringify(JWKS)).buffer as ArrayBuffer),
      };
      const handler = createAuthorizer({ auth, verifier: createJwtVerifier(auth, { fetcher }), log: () => undefined });
      // Act
      await handler(tokenEvent(`Bearer ${rs256()}`));
      await handler(tokenEvent(`Bearer ${es256()}`));
      // Assess
      expect(fetcher.fetch).toHaveBeenCalledTimes(1);
      expect(fetcher.fetch.mock.calls[0]).toEqual(['https://idp.example.com/.well-known/jwks.json']);
    });
  });

  describe('refusals (each must be exactly "Unauthorized")', () => {
    it.each<[string, () => string | undefined, DenyReason]>([
      ['no Authorization header', () => undefined, 'missing-authorization'],
      ['an empty header', () => '', 'missing-authorization'],
      ['Basic credentials', () => 'Basic dXNlcjpwYXNzd29yZA==', 'unsupported-scheme'],
      ['a bare token without scheme', () => rs256(), 'unsupported-scheme'],
      ['"Bearer" with nothing after it', () => 'Bearer', 'unsupported-scheme'],
      ['two credentials', () => `Bearer ${rs256()} ${rs256()}`, 'unsupported-scheme'],
      ['an oversized header (8 KB+)', () => `Bearer ${rs256({ pad: 'x'.repeat(9000) })}`, 'authorization-too-long'],
      ['a non-JWT', () => 'Bearer not-a-jwt', 'malformed-token'],
      [
        'a JWT with a non-JSON payload',
        () => `Bearer e30.${Buffer.from('nope').toString('base64url')}.c2ln`,
        'malformed-token',
      ],
      ['an expired token', () => `Bearer ${rs256({ exp: Math.floor(Date.now() / 1000) - 5 })}`, 'expired'],
      ['a token without exp', () => `Bearer ${rs256({ exp: undefined })}`, 'missing-exp'],
      ['a not-yet-valid token', () => `Bearer ${rs256({ nbf: Math.floor(Date.now() / 1000) + 300 })}`, 'not-yet-valid'],
      ['a wrong issuer', () => `Bearer ${rs256({ iss: 'https://evil.example.com/' })}`, 'wrong-issuer'],
      [
        'an issuer differing by a trailing slash',
        () => `Bearer ${rs256({ iss: 'https://idp.example.com' })}`,
        'wrong-issuer',
      ],
      ['a wrong audience', () => `Bearer ${rs256({ aud: 'someone-else' })}`, 'wrong-audience'],
      ['no aud and no client_id', () => `Bearer ${rs256({ aud: undefined })}`, 'wrong-audience'],
      [
        'a wrong aud with a matching client_id (aud wins)',
        () => `Bearer ${rs256({ aud: 'someone-else', client_id: AUDIENCE })}`,
        'wrong-audience',
      ],
      [
        'alg "none" without a signature',
        () => `Bearer ${b64({ alg: 'none', kid: 'rsa-1' })}.${b64(claims())}.`,
        'malformed-token',
      ],
      [
        'alg "none" with junk in the signature slot',
        () => `Bearer ${b64({ alg: 'none', kid: 'rsa-1' })}.${b64(claims())}.AAAA`,
        'alg-not-allowed',
      ],
      [
        'HS256 keyed with the public key (algorithm confusion)',
        () =>
          `Bearer ${signJwt({ alg: 'HS256', kid: 'rsa-1' }, claims(), KEYS.rsa.publicKey.export({ type: 'spki', format: 'pem' }) as Buffer)}`,
        'alg-not-allowed',
      ],
      [
        'HS256 keyed with the JWK modulus',
        () => `Bearer ${signJwt({ alg: 'HS256', kid: 'rsa-1' }, claims(), Buffer.from(String(KEYS.rsa.jwk.n)))}`,
        'alg-not-allowed',
      ],
      [
        'RS384 when only RS256/ES256 are allowed',
        () => `Bearer ${signJwt({ alg: 'RS384', kid: 'rsa-noalg' }, claims(), KEYS.rsaNoAlg.privateKey)}`,
        'alg-not-allowed',
      ],
      [
        'an RSA signature labelled ES256 against a JWK without alg',
        () => `Bearer ${signJwt({ alg: 'ES256', kid: 'rsa-noalg' }, claims(), KEYS.rsaNoAlg.privateKey, 'RS256')}`,
        'key-alg-mismatch',
      ],
      [
        'a header alg differing from the JWK alg',
        () => `Bearer ${signJwt({ alg: 'ES256', kid: 'rsa-1' }, claims(), KEYS.ec.privateKey)}`,
        'key-alg-mismatch',
      ],
      [
        'a tampered payload (groups widened)',
        () => `Bearer ${swapPayload(rs256({ groups: ['readers'] }), claims({ groups: ['admins'] }))}`,
        'bad-signature',
      ],
      ['a tampered signature', () => `Bearer ${flipLastSignatureChar(rs256())}`, 'bad-signature'],
      [
        'a token signed by another key under the real kid',
        () => `Bearer ${signJwt({ alg: 'RS256', kid: 'rsa-1' }, claims(), ATTACKER.privateKey)}`,
        'bad-signature',
      ],
      [
        'an embedded attacker jwk header (ignored; the issuer JWKS is used)',
        () =>
          `Bearer ${signJwt({ alg: 'RS256', kid: 'rsa-1', jwk: ATTACKER.jwk, jku: 'https://evil.example.com/jwks' }, claims(), ATTACKER.privateKey)}`,
        'bad-signature',
      ],
      [
        'a token without kid',
        () => `Bearer ${signJwt({ alg: 'RS256' }, claims(), KEYS.rsa.privateKey)}`,
        'missing-kid',
      ],
      ['a crit header', () => `Bearer ${rs256({}, { crit: ['exp'] })}`, 'crit-header'],
      ['a missing subject', () => `Bearer ${rs256({ sub: undefined })}`, 'missing-subject'],
      ['an empty subject', () => `Bearer ${rs256({ sub: '' })}`, 'missing-subject'],
      ['a subject over 256 characters', () => `Bearer ${rs256({ sub: 's'.repeat(257) })}`, 'subject-too-long'],
      ['a subject posing as an API key', () => `Bearer ${rs256({ sub: 'apikey:svc-a' })}`, 'subject-reserved'],
      ['a groups claim that is a number', () => `Bearer ${rs256({ groups: 42 })}`, 'groups-claim-invalid'],
      [
        'a groups claim that is an object',
        () => `Bearer ${rs256({ groups: { admins: true } })}`,
        'groups-claim-invalid',
      ],
      ['a groups claim that is null', () => `Bearer ${rs256({ groups: null })}`, 'groups-claim-invalid'],
      ['a groups claim that is a boolean', () => `Bearer ${rs256({ groups: true })}`, 'groups-claim-invalid'],
      [
        '101 groups',
        () => `Bearer ${rs256({ groups: Array.from({ length: 101 }, (_, i) => `g${i}`) })}`,
        'too-many-groups',
      ],
      ['a 129-character group', () => `Bearer ${rs256({ groups: ['admins', 'a'.repeat(129)] })}`, 'group-too-long'],
    ])('refuses %s', async (_what, authorization, reason) => {
      const s = setup();
      await expectDenied(s, authorization(), reason);
    });

    it('refuses an unknown kid when the JWKS cannot be fetched, quickly, and logs an ERROR without the token', async () => {
      // Prepare
      const s = setup();
      const token = signJwt({ alg: 'RS256', kid: 'rotated-key' }, claims(), ATTACKER.privateKey);
      const started = Date.now();
      // Act + Assess
      await expectDenied(s, `Bearer ${token}`, 'jwks-unavailable');
      expect(Date.now() - started).toBeLessThan(1000);
      expect(s.fetcher.fetch).toHaveBeenCalledWith('https://idp.example.com/.well-known/jwks.json');
      expect(s.entries[0]).toMatchObject({ level: 'ERROR', detail: expect.stringContaining('offline') });
    });

    it('refuses an unknown kid that the freshly fetched JWKS does not have either', async () => {
      const auth = authorizerAuth();
      const fetcher = {
        fetch: jest.fn(async () => new TextEncoder().encode(JSON.stringify(JWKS)).buffer as ArrayBuffer),
      };
      const { entries, log } = captureLog();
      const s = {
        handler: createAuthorizer({ auth, verifier: createJwtVerifier(auth, { fetcher }), log }),
        entries,
        fetcher,
      };
      await expectDenied(
        s as ReturnType<typeof setup>,
        `Bearer ${signJwt({ alg: 'RS256', kid: 'nope' }, claims(), ATTACKER.privateKey)}`,
        'unknown-kid',
      );
      expect(entries[0]!.level).toBe('WARN');
    });

    it('never downloads the JWKS for a token whose algorithm is not allowed', async () => {
      const s = setup();
      await expectDenied(
        s,
        `Bearer ${signJwt({ alg: 'HS256', kid: 'brand-new' }, claims(), Buffer.from('k'))}`,
        'alg-not-allowed',
      );
      expect(s.fetcher.fetch).not.toHaveBeenCalled();
    });

    it('refuses (does not hang) when the JWKS endpoint accepts connections but never answers', async () => {
      // Prepare: a TCP server that swallows connections; the production fetcher (1.5 s timeout, 1 retry) must give up.
      const net = await import('node:net');
      const sockets: import('node:net').Socket[] = [];
      const server = net.createServer((sock) => sockets.push(sock));
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const { port } = server.address() as import('node:net').AddressInfo;
      try {
        const auth = authorizerAuth({ jwksUri: `https://127.0.0.1:${port}/jwks.json` });
        const { entries, log } = captureLog();
        const handler = createAuthorizer({ auth, log });
        const started = Date.now();
        // Act
        const outcome = await handler(tokenEvent(`Bearer ${rs256()}`)).catch((e: Error) => e);
        // Assess
        expect(outcome).toEqual(new Error('Unauthorized'));
        expect(entries.map((e) => e.reason)).toEqual(['jwks-unavailable']);
        expect(Date.now() - started).toBeLessThan(4500); // inside the 5 s Lambda timeout
      } finally {
        sockets.forEach((s) => s.destroy());
        await new Promise((r) => server.close(r));
      }
    }, 10_000);

    it('refuses a malformed method ARN', async () => {
      const s = setup();
      await expectDenied(
        s,
        `Bearer ${rs256()}`,
        'bad-method-arn',
        'arn:aws:execute-api:eu-west-1:123456789012:abc/*/GET/token',
      );
    });

    it('refuses every other Authorization value, always with exactly "Unauthorized" (property)', async () => {
      const s = setup();
      const b64part = fc.string({ unit: fc.constantFrom(...'ABCDEFabcdef0123456789-_'.split('')), maxLength: 40 });
      const arbitraryAuthorization = fc.oneof(
        fc.string({ maxLength: 200 }),
        fc.tuple(b64part, b64part, b64part).map(([h, p, sig]) => `Bearer ${h}.${p}.${sig}`),
        fc.tuple(fc.jsonValue(), fc.jsonValue()).map(([h, p]) => `Bearer ${b64(h)}.${b64(p)}.c2ln`),
        fc.string({ maxLength: 80 }).map((k) => `ApiKey ${k}`),
      );
      await fc.assert(
        fc.asyncProperty(arbitraryAuthorization, async (authorization) => {
          const outcome = await s.handler(tokenEvent(authorization)).catch((e: unknown) => e);
          expect(outcome).toEqual(new Error('Unauthorized'));
        }),
        { numRuns: 300 },
      );
    });
  });
});

describe('Function: authorizer (API keys)', () => {
  const SECRET = 'A'.repeat(20) + 'b'.repeat(23); // 43 base64url chars, the generator's shape
  const tableText = JSON.stringify({
    keys: [{ id: 'svc-a', sha256: hashApiKeySecret(SECRET), groups: ['admins', '__proto__'] }],
  });
  const store = (): ApiKeyStore & { table: jest.Mock } => ({
    table: jest.fn(async () => parseApiKeysDocument(tableText)),
  });

  it('allows a valid key: principalId apikey:<id>, the entry groups, no claims', async () => {
    const s = setup(authorizerAuth(), store());
    const result = await allow(s.handler, `ApiKey svc-a.${SECRET}`);
    expect(result.principalId).toBe('apikey:svc-a');
    expect(result.policyDocument.Statement).toEqual([
      { Action: 'execute-api:Invoke', Effect: 'Allow', Resource: METHOD_ARN },
    ]);
    expect(contextOf(result)).toEqual({ sub: 'apikey:svc-a', groups: ['admins', '__proto__'], claims: {} });
  });

  it.each<[string, string, DenyReason]>([
    ['a wrong secret', `ApiKey svc-a.${'B'.repeat(43)}`, 'api-key-mismatch'],
    ['an unknown id', `ApiKey svc-b.${SECRET}`, 'api-key-unknown-id'],
    ['no dot', `ApiKey svc-a${SECRET}`, 'malformed-api-key'],
    ['an empty id', `ApiKey .${SECRET}`, 'malformed-api-key'],
    ['a short secret', 'ApiKey svc-a.abc', 'malformed-api-key'],
    ['a secret with a dot', `ApiKey svc-a.${SECRET.slice(1)}.`, 'malformed-api-key'],
    ['an upper-case id', `ApiKey SVC-A.${SECRET}`, 'malformed-api-key'],
    ['a "__proto__" id', `ApiKey __proto__.${SECRET}`, 'malformed-api-key'],
  ])('refuses %s', async (_what, authorization, reason) => {
    const s = setup(authorizerAuth(), store());
    await expectDenied(s, authorization, reason);
  });

  it('refuses API keys when none are configured', async () => {
    const s = setup();
    await expectDenied(s, `ApiKey svc-a.${SECRET}`, 'api-keys-disabled');
  });

  it('fails closed (ERROR log, no secret in it) when the key table cannot be loaded', async () => {
    const failing: ApiKeyStore = {
      table: async () => Promise.reject(new AuthorizationDenied('api-keys-unavailable', 'extension answered 500')),
    };
    const s = setup(authorizerAuth(), failing);
    await expectDenied(s, `ApiKey svc-a.${SECRET}`, 'api-keys-unavailable');
    expect(s.entries[0]).toEqual({
      level: 'ERROR',
      message: 'authorization denied',
      reason: 'api-keys-unavailable',
      detail: 'extension answered 500',
    });
  });

  describe('the key table cannot be read right now (transient: throttling, 5xx, timeout)', () => {
    const unavailable = (): ApiKeyStore & { table: jest.Mock } => ({
      table: jest.fn(async () =>
        Promise.reject(
          new AuthorizerUnavailable(
            'api-keys-unavailable',
            'secret-unavailable: Secrets Manager could not be read for secret "tvm/api-keys" right now (http-status: ThrottlingException)',
          ),
        ),
      ),
    });

    it.each([
      ['a valid key', `ApiKey svc-a.${SECRET}`],
      ['an unknown id (indistinguishable without the table)', `ApiKey svc-b.${SECRET}`],
    ])(
      'does not answer "Unauthorized" for %s: throws the authorizer-failure error and logs why',
      async (_what, authorization) => {
        // Prepare
        const keys = unavailable();
        const s = setup(authorizerAuth(), keys);
        // Act
        const error = await s.handler(tokenEvent(authorization)).then(
          () => undefined,
          (e: unknown) => e as Error,
        );
        // Assess: a plain Error whose message is not 'Unauthorized' (API Gateway → AUTHORIZER_FAILURE family → 503).
        expect(error).toBeInstanceOf(Error);
        expect(error?.constructor).toBe(Error);
        expect(error?.message).toBe(AUTHORIZER_UNAVAILABLE_MESSAGE);
        expect(error?.message).not.toBe('Unauthorized');
        expect(keys.table).toHaveBeenCalledTimes(1);
        expect(s.entries).toEqual([
          {
            level: 'ERROR',
            message: 'authorizer unavailable',
            reason: 'api-keys-unavailable',
            detail: expect.stringMatching(/^secret-unavailable: .*ThrottlingException/) as unknown,
          },
        ]);
        expectNoCredentialLogged(authorization, s.entries);
      },
    );

    it('still refuses a malformed key with "Unauthorized", without reading the table', async () => {
      const keys = unavailable();
      const s = setup(authorizerAuth(), keys);
      await expectDenied(s, 'ApiKey svc-a.abc', 'malformed-api-key');
      expect(keys.table).not.toHaveBeenCalled();
    });

    it('leaves bearer tokens alone: a valid JWT is allowed, a bad one is "Unauthorized"', async () => {
      const keys = unavailable();
      const s = setup(authorizerAuth(), keys);
      await expect(allow(s.handler, `Bearer ${rs256()}`)).resolves.toMatchObject({ principalId: 'user-123' });
      await expectDenied(s, `Bearer ${rs256({ iss: 'https://evil.example/' })}`, 'wrong-issuer');
      expect(keys.table).not.toHaveBeenCalled();
    });
  });

  it('does not load the key table for bearer tokens', async () => {
    const keys = store();
    const s = setup(authorizerAuth(), keys);
    await allow(s.handler, `Bearer ${rs256()}`);
    expect(keys.table).not.toHaveBeenCalled();
  });

  it('stores only a digest: the table text never contains the secret', () => {
    expect(tableText).not.toContain(SECRET);
    expect(tableText).toContain(createHash('sha256').update(SECRET).digest('hex'));
  });
});

describe('Function: jwksUriOf', () => {
  it.each([
    ['https://idp.example.com/', 'https://idp.example.com/.well-known/jwks.json'],
    ['https://idp.example.com', 'https://idp.example.com/.well-known/jwks.json'],
    [
      'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Abc',
      'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Abc/.well-known/jwks.json',
    ],
  ])('derives the JWKS URI from issuer %s', (issuer, expected) => {
    expect(jwksUriOf(authorizerAuth({ issuer }))).toBe(expected);
  });

  it('prefers an explicit jwksUri', () => {
    expect(jwksUriOf(authorizerAuth({ jwksUri: 'https://keys.example.com/k.json' }))).toBe(
      'https://keys.example.com/k.json',
    );
  });

  it('uses the issuer exactly as configured for the iss check', async () => {
    const s = setup(authorizerAuth({ issuer: ISSUER }));
    await expect(allow(s.handler, `Bearer ${rs256({ iss: ISSUER })}`)).resolves.toBeDefined();
  });
});

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value) ?? 'null').toString('base64url');
}

function swapPayload(token: string, payload: Record<string, unknown>): string {
  const [h, , sig] = token.split('.');
  return `${h}.${b64(payload)}.${sig}`;
}

function flipLastSignatureChar(token: string): string {
  // Change a character in the middle of the signature (the last one may only carry padding bits).
  const [h, p, sig] = token.split('.') as [string, string, string];
  const i = Math.floor(sig.length / 2);
  const c = sig[i] === 'A' ? 'B' : 'A';
  return `${h}.${p}.${sig.slice(0, i)}${c}${sig.slice(i + 1)}`;
}
