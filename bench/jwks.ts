/**
 * A local HTTPS JWKS for the authorizer's cold path: an issuer on `https://127.0.0.1:<port>/` (the fake Momento's
 * test certificate, which names 127.0.0.1) serving `/.well-known/jwks.json`, and a TOKEN authorizer event with a
 * bearer JWT it signed. The child trusts the test CA through `NODE_EXTRA_CA_CERTS`; nothing else changes in the
 * authorizer's fetch path (aws-jwt-verify's HTTPS fetcher).
 */
import { readFileSync } from 'node:fs';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { CERT_DIR, TEST_CA_PATH } from '../dev/fake-momento/env';
import { createLocalIssuer } from '../dev/local-issuer';

export interface LocalJwks {
  readonly issuer: string;
  /** Environment for the child (trust the test CA). */
  readonly env: Record<string, string>;
  /** A TOKEN authorizer event whose bearer token the JWKS verifies. */
  event(audience: string, groupsClaim: string, groups: string[]): unknown;
  /** JWKS downloads served so far. */
  fetches(): number;
  close(): Promise<void>;
}

export async function startLocalJwks(): Promise<LocalJwks> {
  let fetches = 0;
  let jwksJson = '';
  const server = https.createServer(
    {
      key: readFileSync(path.join(CERT_DIR, 'server.key')),
      cert: readFileSync(path.join(CERT_DIR, 'server.crt')),
    },
    (req, res) => {
      if (req.method === 'GET' && req.url === '/.well-known/jwks.json') {
        fetches += 1;
        res.writeHead(200, { 'content-type': 'application/json' }).end(jwksJson);
      } else res.writeHead(404).end();
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const local = createLocalIssuer(issuer);
  jwksJson = JSON.stringify(local.jwks);
  return {
    issuer,
    env: { NODE_EXTRA_CA_CERTS: TEST_CA_PATH },
    event: (audience, groupsClaim, groups) => ({
      type: 'TOKEN',
      methodArn: 'arn:aws:execute-api:us-west-2:123456789012:abc123defg/prod/GET/token',
      // Valid for the whole benchmark run.
      authorizationToken: `Bearer ${local.sign({ sub: 'bench-user', aud: audience, [groupsClaim]: groups }, { expiresInSeconds: 3600 })}`,
    }),
    fetches: () => fetches,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
