/**
 * Test fixtures for the authorizer: local signing keys, a tiny JWT signer (node:crypto only), a validated
 * authorizer-mode config, and a captured log.
 */
import { createHmac, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import type { APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import type { Jwk, Jwks } from 'aws-jwt-verify/jwk';
import { validateConfig, type TvmConfig } from '../../config/schema';
import type { AuthorizerAuthConfig } from '../../authorizers/verify';
import type { AuthorizerLogEntry } from '../../authorizers/authorizer';

export const ISSUER = 'https://idp.example.com/';
export const AUDIENCE = 'tvm-api';
export const METHOD_ARN = 'arn:aws:execute-api:eu-west-1:123456789012:abc123defg/prod/GET/token';

/** A key pair with its public JWK as the IdP would publish it. */
export interface TestKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly jwk: Jwk;
}

function keyPair(kind: 'rsa' | 'ec', kid: string, alg: string | undefined): TestKey {
  const { privateKey, publicKey } =
    kind === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const exported = publicKey.export({ format: 'jwk' }) as Record<string, string>;
  const jwk = { ...exported, kid, use: 'sig', ...(alg ? { alg } : {}) } as Jwk;
  return { privateKey, publicKey, jwk };
}

/** The IdP's keys: an RSA key (JWK with alg RS256), an EC P-256 key, and an RSA key whose JWK has no alg. */
export const KEYS = {
  rsa: keyPair('rsa', 'rsa-1', 'RS256'),
  ec: keyPair('ec', 'ec-1', 'ES256'),
  rsaNoAlg: keyPair('rsa', 'rsa-noalg', undefined),
};
/** A key the IdP never published. */
export const ATTACKER = keyPair('rsa', 'rsa-1', 'RS256');

/** The IdP's JWKS (public keys only). */
export const JWKS: Jwks = { keys: [KEYS.rsa.jwk, KEYS.ec.jwk, KEYS.rsaNoAlg.jwk] };

const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Signs `header.payload` as the header's `alg` says, with the given key (HS* takes a byte secret). */
export function signJwt(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  key: KeyObject | Buffer,
  signAs?: string,
): string {
  const input = `${b64url(header)}.${b64url(payload)}`;
  const alg = signAs ?? String(header.alg);
  let sig: Buffer;
  if (alg.startsWith('HS'))
    sig = createHmac(`sha${alg.slice(2)}`, key as Buffer)
      .update(input)
      .digest();
  else if (alg.startsWith('RS')) sig = sign(`sha${alg.slice(2)}`, Buffer.from(input), key as KeyObject);
  else if (alg.startsWith('ES'))
    sig = sign(`sha${alg.slice(2)}`, Buffer.from(input), { key: key as KeyObject, dsaEncoding: 'ieee-p1363' });
  else throw new Error(`test signer cannot sign ${alg}`);
  return `${input}.${sig.toString('base64url')}`;
}

const now = () => Math.floor(Date.now() / 1000);

/** Claims of a valid token, overridable per test. */
export function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    iss: ISSUER,
    aud: AUDIENCE,
    sub: 'user-123',
    iat: now() - 10,
    exp: now() + 600,
    groups: ['admins'],
    email: 'ada@example.com',
    ...overrides,
  };
}

/** A valid RS256 token (override claims or header as needed). */
export const rs256 = (overrides: Record<string, unknown> = {}, header: Record<string, unknown> = {}): string =>
  signJwt({ alg: 'RS256', typ: 'JWT', kid: 'rsa-1', ...header }, claims(overrides), KEYS.rsa.privateKey);

/** A valid ES256 token. */
export const es256 = (overrides: Record<string, unknown> = {}): string =>
  signJwt({ alg: 'ES256', typ: 'JWT', kid: 'ec-1' }, claims(overrides), KEYS.ec.privateKey);

/** A validated authorizer-mode config (auth section overridable). */
export function authorizerAuth(
  overrides: Partial<Extract<TvmConfig['auth'], { mode: 'authorizer' }>> = {},
): AuthorizerAuthConfig {
  const config = validateConfig(testConfig(overrides));
  if (config.auth.mode !== 'authorizer') throw new Error('unreachable');
  return config.auth;
}

/** The raw (unvalidated) config used by the handler tests. */
export function testConfig(overrides: Partial<Extract<TvmConfig['auth'], { mode: 'authorizer' }>> = {}): TvmConfig {
  return {
    auth: {
      mode: 'authorizer',
      issuer: ISSUER,
      audience: [AUDIENCE, 'other-client'],
      algorithms: ['RS256', 'ES256'],
      groupsClaim: 'groups',
      forwardClaims: ['email', 'tenant', 'age', 'verified', 'profile', 'long'],
      ...overrides,
    },
    tiers: [{ name: 'admin', groups: ['admins'], permissions: [{ type: 'cache', cache: 'app', role: 'readwrite' }] }],
    cors: { allowOrigins: ['https://app.example.com'] },
    momento: { endpoint: 'cell-4-us-west-2-1.prod.a.momentohq.com', secret: { create: true } },
  };
}

/** An API Gateway TOKEN authorizer event. */
export const tokenEvent = (
  authorizationToken: string | undefined,
  methodArn = METHOD_ARN,
): APIGatewayTokenAuthorizerEvent =>
  ({ type: 'TOKEN', methodArn, authorizationToken }) as APIGatewayTokenAuthorizerEvent;

/** Collects the authorizer's log entries. */
export function captureLog(): { entries: AuthorizerLogEntry[]; log: (e: AuthorizerLogEntry) => void } {
  const entries: AuthorizerLogEntry[] = [];
  return { entries, log: (e) => entries.push(e) };
}
