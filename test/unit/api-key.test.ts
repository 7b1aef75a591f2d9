import { CredentialProvider, ExpiresAt, GenerateDisposableToken } from '@gomomento/sdk';
import { fakeV1ApiKey, fakeV2ApiKey } from '../../dev/fake-momento/env';
import { encodeDisposableToken, parseApiKey } from '../../lambda/momento/api-key';
import { MisconfiguredError } from '../../lambda/errors';

const ENDPOINT = 'cell-4-us-west-2-1.prod.a.momentohq.com';
const b64url = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

/** Runs fn, which must throw; returns the error (a negative test that cannot pass silently). */
function thrown(fn: () => unknown): MisconfiguredError {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(MisconfiguredError);
  return error as MisconfiguredError;
}

describe('Function: parseApiKey', () => {
  describe('v2 API keys', () => {
    it('sends the key itself and uses the configured endpoint, like the SDK', () => {
      // Prepare
      const key = fakeV2ApiKey();
      const sdk = CredentialProvider.fromApiKeyV2({ apiKey: key, endpoint: ENDPOINT });

      // Act
      const parsed = parseApiKey(key, ENDPOINT);

      // Assess
      expect(parsed).toEqual({ authToken: key, endpoint: ENDPOINT, version: 'v2' });
      expect(`token.${parsed.endpoint}`).toBe(sdk.getTokenEndpoint());
      expect(parsed.authToken).toBe(sdk.getAuthToken());
    });

    it('ignores whitespace around the key (a trailing newline from the console or a file)', () => {
      const key = fakeV2ApiKey();
      expect(parseApiKey(`  ${key}\n`, ENDPOINT).authToken).toBe(key);
    });

    it('needs momento.endpoint', () => {
      const e = thrown(() => parseApiKey(fakeV2ApiKey(), undefined));
      expect(e.code).toBe('momento-endpoint-invalid');
      expect(e.status).toBe(500);
      expect(e.message).toMatch(/momento\.endpoint/);
    });

    it.each(['https://cell-1.example.com', 'cell-1.example.com:443', 'cell-1.example.com/x', ' '])(
      'refuses the endpoint %p',
      (endpoint) => {
        expect(thrown(() => parseApiKey(fakeV2ApiKey(), endpoint)).code).toBe('momento-endpoint-invalid');
      },
    );
  });

  describe('legacy v1 keys', () => {
    it('sends the inner api_key and takes the endpoint from the key, like the SDK', () => {
      // Prepare
      const inner = fakeV2ApiKey();
      const key = fakeV1ApiKey('cell-9.example.com', inner);
      const sdk = CredentialProvider.fromString({ apiKey: key });

      // Act
      const parsed = parseApiKey(key, ENDPOINT);

      // Assess: the configured endpoint does not override the key's.
      expect(parsed).toEqual({ authToken: inner, endpoint: 'cell-9.example.com', version: 'v1' });
      expect(`token.${parsed.endpoint}`).toBe(sdk.getTokenEndpoint());
      expect(parsed.authToken).toBe(sdk.getAuthToken());
    });

    it('refuses a v1 key whose endpoint is not a host name', () => {
      expect(thrown(() => parseApiKey(fakeV1ApiKey('https://x.example.com/'), ENDPOINT)).code).toBe(
        'momento-endpoint-invalid',
      );
    });
  });

  describe('malformed keys', () => {
    const secretish = 'S3CRET-do-not-print';
    it.each<[string, string, RegExp]>([
      ['empty', '   ', /empty/],
      ['random text', `${secretish}`, /expected a v2 API key/],
      ['two JWT parts', `${b64url({ alg: 'HS256' })}.${b64url({ t: 'g', s: secretish })}`, /expected a v2 API key/],
      [
        'a JWT with a non-JSON payload',
        `${b64url({ alg: 'HS256' })}.${Buffer.from(secretish).toString('base64url')}.sig`,
        /not a JSON object/,
      ],
      [
        'a legacy JWT (no "t": "g")',
        `${b64url({ alg: 'HS256' })}.${b64url({ c: 'cache.x', cp: 'control.x', s: secretish })}.sig`,
        /legacy JWT/,
      ],
      ['base64 that is not JSON', Buffer.from(`{${secretish}`).toString('base64'), /not a v1 key/],
      [
        'base64 JSON without api_key',
        Buffer.from(JSON.stringify({ endpoint: 'x.example.com', key: secretish })).toString('base64'),
        /non-empty "endpoint" and "api_key"/,
      ],
    ])('refuses %s without revealing it', (_name, key, message) => {
      // Act
      const e = thrown(() => parseApiKey(key, ENDPOINT));

      // Assess
      expect(e.code).toBe('momento-key-invalid');
      expect(e.status).toBe(500);
      expect(e.message).toMatch(message);
      expect(e.message).not.toContain(secretish);
      expect(e.cause).toBeUndefined();
      if (key.trim()) expect(`${e.message} ${e.stack}`).not.toContain(key.trim());
    });
  });
});

describe('Function: encodeDisposableToken', () => {
  it('produces exactly what the SDK returns as authToken, which fromDisposableToken reads back', () => {
    // Prepare
    const apiKey = 'disposable-api-key';
    const endpoint = 'cell-4-us-west-2-1.prod.a.momentohq.com';

    // Act
    const ours = encodeDisposableToken(endpoint, apiKey);

    // Assess
    expect(ours).toBe(new GenerateDisposableToken.Success(apiKey, endpoint, ExpiresAt.fromEpoch(1)).authToken);
    expect(JSON.parse(Buffer.from(ours, 'base64').toString())).toEqual({ endpoint, api_key: apiKey });
    const provider = CredentialProvider.fromDisposableToken({ authToken: ours });
    expect(provider.getAuthToken()).toBe(apiKey);
    expect(provider.getCacheEndpoint()).toBe(`cache.${endpoint}`);
  });
});
