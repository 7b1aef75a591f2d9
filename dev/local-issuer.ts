/**
 * A local OIDC-style issuer for offline development and tests: one RSA key, its JWKS, and RS256 signing.
 * The dev server uses it to stand in for a Cognito user pool or an external IdP when none is reachable.
 * Development only: the private key lives in memory and dies with the process.
 */
import { createSign, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import type { Jwks } from 'aws-jwt-verify/jwk';

export interface LocalIssuer {
  readonly issuer: string;
  readonly jwks: Jwks;
  /** Signs `claims` (iss, iat, exp, jti filled in unless given) as an RS256 JWT. */
  sign(claims: Record<string, unknown>, options?: { expiresInSeconds?: number }): string;
}

const b64url = (v: string | Buffer) => Buffer.from(v).toString('base64url');

/** Creates an issuer with a fresh key pair. */
export function createLocalIssuer(issuer: string): LocalIssuer {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomUUID();
  const jwk = publicKey.export({ format: 'jwk' }) as { n: string; e: string };
  return {
    issuer,
    jwks: { keys: [{ kty: 'RSA', kid, alg: 'RS256', use: 'sig', n: jwk.n, e: jwk.e }] },
    sign: (claims, options) =>
      signRs256(privateKey, kid, { iss: issuer, ...claims }, options?.expiresInSeconds ?? 3600),
  };
}

function signRs256(key: KeyObject, kid: string, claims: Record<string, unknown>, expiresIn: number): string {
  const now = Math.floor(Date.now() / 1000);
  const header = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid }));
  const payload = b64url(JSON.stringify({ iat: now, exp: now + expiresIn, jti: randomUUID(), ...claims }));
  const signature = createSign('RSA-SHA256').update(`${header}.${payload}`).sign(key);
  return `${header}.${payload}.${b64url(signature)}`;
}
