/**
 * What must never appear in a log line: tokens, keys, Authorization values, private keys. Used by the suite-wide
 * log scan (test/support/log-scan-teardown.ts) and its own tests.
 */
export const SECRET_PATTERNS: ReadonlyArray<{ name: string; re: RegExp }> = [
  // JWTs: Cognito/OIDC ID tokens, Momento v2 API keys (header.payload.signature, base64url JSON header).
  { name: 'jwt', re: /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/ },
  // A Momento disposable token / v1 key: base64 of {"endpoint":... or {"api_key":...
  { name: 'momento-token', re: /eyJlbmRwb2ludCI6|eyJhcGlfa2V5Ijo/ },
  // The api_key part the fake Momento service hands out.
  { name: 'fake-api-key', re: /fake-disposable-[A-Za-z0-9_-]{8,}/ },
  { name: 'authorization-header', re: /\b(Bearer|ApiKey)\s+[A-Za-z0-9._~+/=-]{16,}/ },
  { name: 'private-key', re: /-----BEGIN [A-Z ]*PRIVATE KEY-----/ },
];

/** Returns the names of the patterns a line matches. */
export function findSecrets(line: string): string[] {
  return SECRET_PATTERNS.filter((p) => p.re.test(line)).map((p) => p.name);
}
