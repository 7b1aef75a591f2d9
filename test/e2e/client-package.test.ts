/**
 * The browser client as people get it: `npm pack` (with its prepack build), `npm install <tarball>` into a new
 * project outside the repository (offline), then Node imports it and TypeScript type-checks a consumer against
 * its `.d.ts`. The token comes from the real vending handler behind a loopback HTTP server.
 */
import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { validateConfig } from '../../config/schema';
import cognitoConfig from '../../config/tvm.config';
import { createVendHandler } from '../../lambda/vend';
import { cognitoAuthorizer, tokenEvent } from '../support/events';
import {
  CLIENT_PACKAGE,
  exportedModule,
  installPacked,
  packClient,
  removePacked,
  type PackedClient,
} from './client-package';

const REPO = path.resolve(__dirname, '..', '..');
const TSC = path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
const NOW = 1_767_225_600;

describe('Package: @momento-tvm/client from its tarball', () => {
  let packed: PackedClient | undefined;
  let consumer: string;
  let server: http.Server;
  let tokenUrl: string;
  const authorizations: (string | undefined)[] = [];

  beforeAll(async () => {
    packed = packClient();
    consumer = installPacked(packed);
    const handler = createVendHandler({
      config: validateConfig(cognitoConfig),
      minter: {
        mint: async (req) => ({ authToken: 'tok-1', endpoint: 'cell-1.test', expiresAt: NOW + req.ttlSeconds }),
      },
      telemetry: { record: () => undefined },
      nowSeconds: () => NOW,
    });
    server = http.createServer((req, res) => {
      authorizations.push(req.headers.authorization);
      // What API Gateway does in cognito mode: verify the ID token, pass its claims to the function.
      void handler(tokenEvent({ authorizer: cognitoAuthorizer('sub-member-1', ['members']) })).then((r) => {
        res.writeHead(r.statusCode, r.headers as http.OutgoingHttpHeaders).end(r.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    tokenUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
  }, 120_000);

  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    removePacked(packed);
  });

  it('contains only what a user needs: the bundle, its map, the .d.ts, README, CHANGELOG, package.json', () => {
    const files = packed!.files;
    expect(files).toEqual(
      expect.arrayContaining(['package.json', 'README.md', 'CHANGELOG.md', 'dist/index.js', 'dist/index.d.ts']),
    );
    const unexpected = files.filter(
      (f) =>
        !/^dist\/[a-z-]+\.d\.ts$/.test(f) &&
        !['package.json', 'README.md', 'CHANGELOG.md', 'dist/index.js', 'dist/index.js.map'].includes(f),
    );
    expect(unexpected).toEqual([]); // no src/, build.ts, tsconfig.json, tests or fixtures
    const manifest = JSON.parse(fs.readFileSync(path.join(REPO, 'client', 'package.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(manifest).toMatchObject({
      name: CLIENT_PACKAGE,
      version: '0.1.0',
      type: 'module',
      sideEffects: false,
      license: 'Apache-2.0',
    });
    expect(manifest).not.toHaveProperty('dependencies');
  });

  it('installs offline with no dependencies, and its ES module is self-contained', () => {
    const installed = fs.readdirSync(path.join(consumer, 'node_modules')).filter((d) => !d.startsWith('.'));
    expect(installed).toEqual(['@momento-tvm']);
    const bundle = fs.readFileSync(exportedModule(consumer), 'utf8');
    expect(bundle).not.toMatch(/\bimport\s*(?:[\w{}*\s,]+from\s*)?["']|\brequire\(/); // no import of anything else
    expect(bundle).toMatch(/export\s*{[^}]*createTokenClient/);
  });

  it('Node imports it by name and gets a token from the real vending handler', async () => {
    fs.writeFileSync(
      path.join(consumer, 'fetch-token.mjs'),
      `import { createTokenClient, momentoCredentials, isTokenPermission } from '${CLIENT_PACKAGE}';
const tokens = createTokenClient({ url: process.argv[2], getAuthHeader: () => 'id-token-of-a-member' });
const events = [];
tokens.subscribe((event) => events.push(event.type));
const token = await tokens.getToken();
const credentials = await momentoCredentials(tokens);
console.log(JSON.stringify({
  expiresIn: token.expiresIn,
  tokenId: token.tokenId,
  permissions: token.permissions,
  allValid: token.permissions.every(isTokenPermission),
  credentialKeys: Object.keys(credentials),
  sameToken: credentials.authToken === token.authToken,
  events,
  state: tokens.getStatus().state,
}));
`,
    );
    // Asynchronous: the server answering it runs in this process.
    const { stdout: out } = await promisify(execFile)(process.execPath, ['fetch-token.mjs', tokenUrl], {
      cwd: consumer,
      encoding: 'utf8',
      timeout: 20_000,
    });

    expect(JSON.parse(out)).toEqual({
      expiresIn: 3600,
      tokenId: 'sub-member-1',
      permissions: [
        { type: 'cache', cache: 'app', role: 'readonly' },
        { type: 'cache', cache: 'app', role: 'readwrite', keyPrefix: 'user/sub-member-1/' },
        { type: 'topic', cache: 'app', role: 'publishsubscribe', topicPrefix: 'chat-' },
        { type: 'topic', cache: 'app', role: 'subscribeonly', topic: 'inbox-sub-member-1' },
      ],
      allValid: true,
      credentialKeys: ['authToken'],
      sameToken: true,
      events: ['token'],
      state: 'idle',
    });
    // The Cognito form: the raw ID token, no "Bearer".
    expect(authorizations.at(-1)).toBe('id-token-of-a-member');
  });

  it('TypeScript (moduleResolution nodenext, DOM only, no Node types) type-checks a consumer against its .d.ts', () => {
    fs.writeFileSync(
      path.join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          lib: ['ES2022', 'DOM'],
          types: [],
          strict: true,
          noEmit: true,
        },
        files: ['consumer.ts'],
      }),
    );
    fs.writeFileSync(
      path.join(consumer, 'consumer.ts'),
      `import { createTokenClient, momentoCredentials, type TokenPermission, type TokenClientEvent } from '${CLIENT_PACKAGE}';
const tokens = createTokenClient({ url: 'https://tvm.example.com/prod/token' });
export const unsubscribe: () => void = tokens.subscribe((event: TokenClientEvent) => {
  if (event.type === 'token') {
    const p: TokenPermission | undefined = event.token.permissions[0];
    if (p?.type === 'cache') {
      const prefix: string | undefined = p.keyPrefix;
      void prefix;
    }
  } else {
    const status: number = event.error.status;
    void status;
  }
});
// @ts-expect-error 'queue' is not a permission type: TokenPermission['type'] is a union of literals
export const wrong: TokenPermission = { type: 'queue', cache: 'a', role: 'readwrite' };
// @ts-expect-error a topic role on a cache statement
export const wrongRole: TokenPermission = { type: 'cache', cache: 'a', role: 'publishonly' };
export const credentials: Promise<{ readonly authToken: string }> = momentoCredentials(tokens);
`,
    );
    // Throws (with tsc's diagnostics in the message) on any error, including an unused @ts-expect-error.
    const out = execFileSync(process.execPath, [TSC, '-p', 'tsconfig.json'], { cwd: consumer, encoding: 'utf8' });
    expect(out).toBe('');
  });
});
