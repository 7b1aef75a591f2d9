import { validateConfig } from '../../config/schema';
import cognitoConfig from '../../config/tvm.config';
import { jsonTelemetry } from '../../lambda/telemetry';
import { createVendHandler } from '../../lambda/vend';
import { findSecrets } from '../support/secret-patterns';
import { cognitoAuthorizer, tokenEvent } from '../support/events';

describe('Function: findSecrets (the suite-wide log scan)', () => {
  it.each([
    ['an ID token', 'user token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ', 'jwt'],
    ['a disposable token', '{"authToken":"eyJlbmRwb2ludCI6Im1vbWVudG8udGVzdCJ9"}', 'momento-token'],
    ['an Authorization value', 'authorization: Bearer abcdefghijklmnopqrstuvwxyz012345', 'authorization-header'],
    ['an API key credential', 'ApiKey svc-a.0123456789abcdef0123456789abcdef', 'authorization-header'],
    ['a private key', '-----BEGIN PRIVATE KEY-----', 'private-key'],
    ['a fake Momento api key', 'api_key=fake-disposable-AbCdEf123456', 'fake-api-key'],
  ])('flags %s', (_what, line, pattern) => {
    expect(findSecrets(line)).toContain(pattern);
  });

  it('passes an audit line with ids, hashes and codes', () => {
    expect(
      findSecrets(
        '{"message":"token issued","principalId":"2bd806c9-7f0e","scopeHash":"0a1b2c3d4e5f6789","tokenId":"alice"}',
      ),
    ).toEqual([]);
  });
});

describe('Function: jsonTelemetry', () => {
  it('writes one JSON audit line per request and no token, in the Powertools Logger format', async () => {
    // Prepare
    const lines: string[] = [];
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    const handler = createVendHandler({
      config: validateConfig(cognitoConfig),
      minter: {
        mint: async (r) => ({
          authToken: 'eyJlbmRwb2ludCI6InNlY3JldCJ9',
          endpoint: 'e',
          expiresAt: Date.now() / 1000 + r.ttlSeconds,
        }),
      },
      telemetry: jsonTelemetry({ serviceName: 'tvm-test', namespace: 'TvmTest' }),
    });
    // Act
    const res = await handler(
      tokenEvent({
        headers: { Authorization: 'Bearer eyJhbGciOi.eyJzdWIiOi.sig' },
        authorizer: cognitoAuthorizer('log-user', ['admins']),
      }),
    );
    write.mockRestore();
    // Assess
    expect(res.statusCode).toBe(200);
    const records = lines
      .flatMap((l) => l.split('\n'))
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const audit = records.filter((r) => r.message === 'token issued');
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      level: 'INFO',
      service: 'tvm-test',
      principalId: 'log-user',
      tiers: ['admin'],
      decision: 'granted',
    });
    const emf = records.find((r) => r._aws !== undefined);
    expect(emf).toMatchObject({ TokensIssued: 1, service: 'tvm-test' });
    expect(lines.join('')).not.toContain('eyJlbmRwb2ludCI6InNlY3JldCJ9');
    expect(lines.flatMap((l) => findSecrets(l))).toEqual([]);
  });
});
