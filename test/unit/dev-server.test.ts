import type { IncomingMessage } from 'node:http';
import { validateConfig } from '../../config/schema';
import openConfig from '../../config/examples/open.config';
import authorizerConfig from '../../config/examples/authorizer.config';
import cognitoConfig from '../../config/tvm.config';
import {
  chatLink,
  demoLink,
  DevUsageError,
  momentoKeyProblem,
  parseDevArgs,
  startupNotes,
  type DevServer,
} from '../../dev/server';
import { toEvent } from '../../dev/api-gateway';
import { MIN_NODE_MAJOR, nodeSupport, requireSupportedNode } from '../../scripts/node-support';
import packageJson from '../../package.json';
import { createVendHandler } from '../../lambda/vend';

const request = (headers: Record<string, string> = {}) =>
  ({ headers, method: 'GET', socket: { remoteAddress: '127.0.0.1' } }) as unknown as IncomingMessage;

describe('Function: toEvent (dev API Gateway)', () => {
  it('builds the REST proxy event API Gateway would: repeated parameters, last value wins in the single map', () => {
    const event = toEvent(
      request({ origin: 'http://localhost:8080' }),
      new URL('http://localhost/token?topic=a&topic=b'),
      null,
    );
    expect(event.multiValueQueryStringParameters).toEqual({ topic: ['a', 'b'] });
    expect(event.queryStringParameters).toEqual({ topic: 'b' });
    expect(event.headers).toEqual({ origin: 'http://localhost:8080' });
    expect(event.requestContext.identity.sourceIp).toBe('127.0.0.1');
  });

  it.each(['__proto__', 'constructor', 'hasOwnProperty'])(
    'keeps a parameter named %s as a plain name, which the handler refuses with 400',
    async (name) => {
      // Prepare
      const handler = createVendHandler({
        config: validateConfig(openConfig),
        minter: { mint: () => Promise.reject(new Error('must not mint')) },
      });
      // Act
      const event = toEvent(request(), new URL(`http://localhost/token?${name}=1`), null);
      const res = await handler(event);
      // Assess
      expect(event.multiValueQueryStringParameters?.[name]).toEqual(['1']);
      expect(res.statusCode).toBe(400);
      expect(JSON.parse(res.body)).toMatchObject({ code: 'unknown-parameter' });
    },
  );
});

describe('Function: parseDevArgs (npm run dev -- …)', () => {
  it('reads the options, ports as numbers', () => {
    expect(parseDevArgs(['--config', 'c.ts', '--port', '9000', '--no-demo', '--local-auth'])).toEqual({
      help: false,
      options: { configPath: 'c.ts', port: 9000, demoPort: -1, localAuth: true, allowDevLogin: false },
      mintsPerSecond: undefined,
    });
    expect(parseDevArgs([])).toMatchObject({ options: { port: 8787, demoPort: 8080 } });
    expect(parseDevArgs(['-h'])).toEqual({ help: true });
  });

  it.each([
    [['--port', 'abc'], /--port needs a port number from 0 to 65535, not "abc"/],
    [['--port', '70000'], /--port needs a port number/],
    [['--port', '-1'], /--port/],
    [['--port', '8787.5'], /--port needs a port number/],
    [['--demo-port', 'x'], /--demo-port needs a port number/],
    [['--bogus'], /Unknown option '--bogus'/],
    [['--config'], /--config/],
  ])('refuses %j with a usage error, not a raw Node error', (argv, message) => {
    expect(() => parseDevArgs(argv)).toThrow(DevUsageError);
    expect(() => parseDevArgs(argv)).toThrow(message);
  });
});

describe('Function: momentoKeyProblem (is MOMENTO_API_KEY a key?)', () => {
  const v2 = (claims: Record<string, unknown>) =>
    ['e30', Buffer.from(JSON.stringify(claims)).toString('base64url'), 'c2ln'].join('.');

  const ENDPOINT = 'cell-1.example.com';
  it.each([
    ['junk', 'not a v2', ENDPOINT, /expected a v2 API key/],
    ['a placeholder', 'placeholder-not-a-momento-key', ENDPOINT, /expected a v2 API key/],
    ['base64 that is no v1 key', 'junk', ENDPOINT, /base64 but not a v1 key/],
    ['a legacy JWT key', v2({ sub: 'x' }), ENDPOINT, /legacy JWT key/],
    ['a v2 key without an endpoint', v2({ t: 'g' }), undefined, /momento.endpoint/],
  ])('says %s is unusable (and never quotes it)', (_what, key, endpoint, message) => {
    const problem = momentoKeyProblem(key, endpoint);
    expect(problem).toMatch(message);
    expect(problem).not.toContain(key);
    expect(problem).not.toMatch(/in the secret/);
  });

  it('accepts a v2 key with an endpoint', () => {
    expect(momentoKeyProblem(v2({ t: 'g' }), 'cell-1.example.com')).toBeUndefined();
  });
});

describe('Function: startupNotes (what this config turns off)', () => {
  const cognito = validateConfig(cognitoConfig);
  const authorizer = validateConfig(authorizerConfig);
  const base = { issuer: {} as DevServer['issuer'], demoUrl: 'http://localhost:8080/', devLogin: true };

  it('says that auth.existingUserPool turns /dev/login off, and how to turn it back on', () => {
    const pool = validateConfig({
      ...cognitoConfig,
      auth: { mode: 'cognito', existingUserPool: { userPoolId: 'eu-west-1_AbC123', clientIds: ['c1'] } },
    });
    const notes = startupNotes({ ...base, config: pool, issuer: undefined, devLogin: false }).join('\n');
    expect(notes).toMatch(/existingUserPool is set.*eu-west-1_AbC123/);
    expect(notes).toMatch(/GET \/dev\/login \(local sign-in\) is OFF \(404\).*--local-auth/s);
    expect(startupNotes({ ...base, config: cognito }).join('\n')).not.toMatch(/existingUserPool/);
  });

  it('says when the demo page origin is not in cors.allowOrigins, and which groups the sign-in form can use', () => {
    const notes = startupNotes({ ...base, config: authorizer }).join('\n');
    expect(notes).toMatch(/origin http:\/\/localhost:8080 is not in this config's cors.allowOrigins/);
    const groups = [...new Set(authorizer.tiers.flatMap((t) => t.groups))];
    expect(notes).toContain(`groups this config's tiers name: ${groups.join(', ')}`);
    // The default config lists the demo origin: no CORS warning.
    expect(startupNotes({ ...base, config: cognito }).join('\n')).not.toMatch(/cors.allowOrigins/);
    expect(startupNotes({ ...base, config: authorizer, demoUrl: undefined })).toEqual([]);
  });
});

describe('Functions: demoLink and chatLink (the printed page URLs)', () => {
  const base = { demoUrl: 'http://localhost:8080/', tokenUrl: 'http://localhost:8787/token', devLogin: true };

  it('keeps the page default group (members) for the default config, as the README quick start says', () => {
    const url = new URL(demoLink({ ...base, config: validateConfig(cognitoConfig) }));
    expect(url.searchParams.get('tvm')).toBe('http://localhost:8787/token');
    expect(url.searchParams.has('groups')).toBe(false);
  });

  it("prefills a config's own first group when it has no members group", () => {
    const authorizer = validateConfig(authorizerConfig);
    expect(authorizer.tiers.some((t) => t.groups.includes('members'))).toBe(false);
    const url = new URL(demoLink({ ...base, config: authorizer }));
    expect(url.searchParams.get('groups')).toBe(authorizer.tiers.find((t) => t.groups.length > 0)?.groups[0]);
    expect(new URL(demoLink({ ...base, config: authorizer, devLogin: false })).searchParams.has('groups')).toBe(false);
  });

  it('points the chat page at the same token URL', () => {
    const url = new URL(chatLink(base));
    expect(url.pathname).toBe('/chat.html');
    expect(url.searchParams.get('tvm')).toBe(base.tokenUrl);
  });
});

describe('Function: nodeSupport (the tools check Node.js)', () => {
  it.each([
    ['v18.19.0', false, undefined],
    ['v16.0.0', false, undefined],
    ['v20.20.2', true, true],
    ['v21.7.0', true, true],
    ['v22.11.0', true, false],
    ['v24.1.0', true, false],
  ])('%s → ok %p (AWS SDK warning silenced: %p)', (version, ok, silence) => {
    const s = nodeSupport(version, 'npm run dev');
    expect(s.ok).toBe(ok);
    if (s.ok) expect(s.silenceSdkWarning).toBe(silence);
    else expect(s.message).toMatch(new RegExp(`npm run dev needs Node.js ≥ ${MIN_NODE_MAJOR} .*${version}`));
  });

  it('matches package.json engines', () => {
    expect(packageJson.engines.node).toBe(`>=${MIN_NODE_MAJOR}`);
  });

  it('turns the SDK warning off with its own switch, never overriding a value that is set', () => {
    const env: NodeJS.ProcessEnv = {};
    requireSupportedNode('x', env);
    const major = Number(process.version.slice(1).split('.')[0]);
    expect(env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED).toBe(major < 22 ? 'true' : undefined);
    const set: NodeJS.ProcessEnv = { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'false' };
    requireSupportedNode('x', set);
    expect(set.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED).toBe('false');
  });
});
