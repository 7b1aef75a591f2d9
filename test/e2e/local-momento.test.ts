/**
 * The real `@gomomento/sdk-web` in headless Chromium against the local Momento data plane of the dev server
 * (dev/local-momento): tokens minted by the vending code for each tier of the default config, turned into a Web
 * SDK credential provider by `momentoCredentialsFor` (the helper pages use), and every permission statement tried
 * once inside and once outside its scope, with the SDK's own error codes.
 *
 * The page is our own static server on http://127.0.0.1:<port> (in `cors.allowOrigins`); it serves an esbuild
 * bundle of the Web SDK and the client helper. Tokens are fetched in Node with the Authorization a signed-in page
 * would send.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import baseConfig from '../../config/tvm.config';
import type { TokenResponse } from '../../client/src/contract';
import { startDevServer, type DevServer } from '../../dev/server';
import { CHROMIUM_PATH, INSTALL_HINT, chromiumAvailable, launchChromium } from './chromium';
import { restoreEnv } from '../support/env';

const ROOT = path.resolve(__dirname, '..', '..');

/** One operation the page runs with the Web SDK. */
type Op =
  | { kind: 'get' | 'set' | 'delete'; cache: string; key: string }
  | { kind: 'publish' | 'subscribe'; cache: string; topic: string };

/** What the bundle exposes (the page code below). */
interface LocalMomentoWindow {
  lm: {
    run(token: Pick<TokenResponse, 'authToken' | 'endpoint'>, op: Op): Promise<string>;
    listen(token: Pick<TokenResponse, 'authToken' | 'endpoint'>, cache: string, topic: string): Promise<string>;
    received: { value: string; seq: number; tokenId: string | undefined }[];
    errors: string[];
    stop(): void;
  };
}

// The page code: `run` answers 'ok' or the SDK's error code; `listen` keeps a subscription and records its items.
const PAGE_CODE = `
import * as sdk from '@gomomento/sdk-web';
import { momentoCredentialsFor } from './client/src/momento';

const clients = new Map();
function clientsFor(token) {
  let c = clients.get(token.authToken);
  if (!c) {
    const credentialProvider = sdk.CredentialProvider.fromDisposableToken(momentoCredentialsFor(token));
    c = {
      cache: new sdk.CacheClient({ configuration: sdk.Configurations.Browser.v1(), credentialProvider, defaultTtlSeconds: 60 }),
      topics: new sdk.TopicClient({ configuration: sdk.TopicConfigurations.Browser.latest(), credentialProvider }),
    };
    clients.set(token.authToken, c);
  }
  return c;
}
const code = (r) => (r.type === 'Error' ? r.errorCode() : 'ok');
let subscription;
window.lm = {
  received: [],
  errors: [],
  async run(token, op) {
    const { cache, topics } = clientsFor(token);
    switch (op.kind) {
      case 'get': return code(await cache.get(op.cache, op.key));
      case 'set': return code(await cache.set(op.cache, op.key, 'written in Chromium'));
      case 'delete': return code(await cache.delete(op.cache, op.key));
      case 'publish': return code(await topics.publish(op.cache, op.topic, 'hello from Chromium'));
      case 'subscribe': {
        const r = await topics.subscribe(op.cache, op.topic, {});
        if (r.type === 'Error') return r.errorCode();
        r.unsubscribe();
        return 'ok';
      }
    }
  },
  async listen(token, cache, topic) {
    const r = await clientsFor(token).topics.subscribe(cache, topic, {
      onItem: (i) => window.lm.received.push({ value: i.valueString(), seq: i.sequenceNumber(), tokenId: i.tokenId() }),
      onError: (e) => window.lm.errors.push(e.errorCode()),
    });
    if (r.type === 'Error') return r.errorCode();
    subscription = r;
    return 'ok';
  },
  stop() { subscription?.unsubscribe(); },
};
`;

const available = chromiumAvailable();
const inCi = process.env.CI === 'true';

if (!available && inCi) {
  describe('local Momento in a real browser', () => {
    it('needs Chromium', () => {
      throw new Error(`${CHROMIUM_PATH} not found: CI must install it (${INSTALL_HINT}) before running the e2e tests`);
    });
  });
} else if (!available) {
  console.warn(
    `Skipping the local Momento browser tests: ${CHROMIUM_PATH} not found. Install it with: ${INSTALL_HINT}`,
  );
}

(available ? describe : describe.skip)('local Momento: the real Web SDK in Chromium against npm run dev', () => {
  let site: http.Server;
  let origin: string;
  let dev: DevServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    delete process.env.MOMENTO_API_KEY;
    const { build } = await import('esbuild');
    const bundle = await build({
      stdin: { contents: PAGE_CODE, resolveDir: ROOT, loader: 'js' },
      bundle: true,
      platform: 'browser',
      format: 'iife',
      write: false,
      logLevel: 'silent',
    });
    const script = bundle.outputFiles[0]!.contents;
    site = http.createServer((req, res) => {
      if (req.url === '/app.js') res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(script);
      else res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><script src="/app.js"></script>');
    });
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
    dev = await startDevServer({
      config: { ...baseConfig, cors: { allowOrigins: [origin] }, tokenCache: { enabled: false } },
      port: 0,
      demoPort: -1,
      log: () => undefined,
    });
    browser = await launchChromium();
    context = await browser.newContext();
    page = await context.newPage();
    await page.goto(`${origin}/`);
    await page.waitForFunction(() => 'lm' in window);
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await dev?.close();
    await new Promise((resolve) => site?.close(resolve));
    restoreEnv(savedEnv);
  });

  /** A token for `user` in `groups`, as GET /token answers a signed-in page, and the user's verified `sub`. */
  async function tokenFor(user: string, groups: string[]): Promise<{ token: TokenResponse; sub: string }> {
    const idToken = dev.login(user, groups);
    const res = await fetch(dev.tokenUrl, {
      headers: { Authorization: dev.authorizationFor(idToken), Origin: origin },
    });
    expect(res.status).toBe(200);
    const { sub } = JSON.parse(Buffer.from(idToken.split('.')[1]!, 'base64url').toString('utf8')) as { sub: string };
    return { token: (await res.json()) as TokenResponse, sub };
  }
  const run = (token: TokenResponse, op: Op) =>
    page.evaluate(([t, o]) => (window as unknown as LocalMomentoWindow).lm.run(t, o), [token, op] as const);

  it('the token response names the data plane, and the page reaches it over plain HTTP', async () => {
    const { token } = await tokenFor('alice', ['admins']);
    expect(token.endpoint).toBe(dev.dataPlane!.endpoint);
    expect(token.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await run(token, { kind: 'set', cache: 'app', key: 'greeting' })).toBe('ok');
    expect(await run(token, { kind: 'get', cache: 'app', key: 'greeting' })).toBe('ok');
  });

  // Per tier of config/tvm.config.ts and per statement: one operation inside its scope, one outside.
  const TIERS: {
    tier: string;
    groups: string[];
    statements: number;
    cases: (sub: string) => { statement: string; allowed: Op; refused: Op }[];
  }[] = [
    {
      tier: 'admin',
      groups: ['admins'],
      statements: 2,
      cases: () => [
        {
          statement: 'cache app readwrite',
          allowed: { kind: 'set', cache: 'app', key: 'admin-notes' },
          refused: { kind: 'set', cache: 'billing', key: 'admin-notes' },
        },
        {
          statement: 'topic app publishsubscribe',
          allowed: { kind: 'publish', cache: 'app', topic: 'announcements' },
          refused: { kind: 'subscribe', cache: 'billing', topic: 'announcements' },
        },
      ],
    },
    {
      tier: 'member',
      groups: ['members'],
      statements: 4,
      cases: (sub) => [
        {
          statement: 'cache app readonly',
          allowed: { kind: 'get', cache: 'app', key: 'motd' },
          refused: { kind: 'set', cache: 'app', key: 'motd' },
        },
        {
          statement: 'cache app readwrite keyPrefix user/{sub}/',
          allowed: { kind: 'set', cache: 'app', key: `user/${sub}/profile` },
          refused: { kind: 'set', cache: 'app', key: 'user/someone-else/profile' },
        },
        {
          statement: 'topic app publishsubscribe topicPrefix chat-',
          allowed: { kind: 'publish', cache: 'app', topic: 'chat-lobby' },
          refused: { kind: 'publish', cache: 'app', topic: 'news-lobby' },
        },
        {
          statement: 'topic app subscribeonly topic inbox-{sub}',
          allowed: { kind: 'subscribe', cache: 'app', topic: `inbox-${sub}` },
          refused: { kind: 'publish', cache: 'app', topic: `inbox-${sub}` },
        },
      ],
    },
    {
      tier: 'reader',
      groups: ['readers'],
      statements: 1,
      cases: () => [
        {
          statement: 'topic app subscribeonly topicPrefix chat-',
          allowed: { kind: 'subscribe', cache: 'app', topic: 'chat-lobby' },
          refused: { kind: 'publish', cache: 'app', topic: 'chat-lobby' },
        },
      ],
    },
  ];

  it.each(TIERS)('$tier: each statement allows one operation and refuses one (PERMISSION_ERROR)', async (t) => {
    const { token, sub } = await tokenFor(`${t.tier}-user`, t.groups);
    // The table covers every statement the config gives this tier.
    expect(token.permissions).toHaveLength(t.statements);
    expect(t.cases('x')).toHaveLength(t.statements);
    for (const c of t.cases(sub)) {
      expect({ statement: c.statement, allowed: await run(token, c.allowed) }).toEqual({
        statement: c.statement,
        allowed: 'ok',
      });
      expect({ statement: c.statement, refused: await run(token, c.refused) }).toEqual({
        statement: c.statement,
        refused: 'PERMISSION_ERROR',
      });
    }
  });

  it('an expired, a forged and a foreign token are refused with AUTHENTICATION_ERROR', async () => {
    const plane = dev.dataPlane!;
    const wrap = (apiKey: string) => ({
      authToken: Buffer.from(JSON.stringify({ endpoint: plane.endpoint, api_key: apiKey })).toString('base64'),
      endpoint: plane.endpoint,
    });
    const grants = [{ type: 'cache' as const, role: 'readwrite' as const, cache: 'app' }];
    const expired = wrap(plane.issuer.issue({ grants, expiresAt: Math.floor(Date.now() / 1000) - 1, tokenId: 'x' }));
    const valid = plane.issuer.issue({ grants, expiresAt: Math.floor(Date.now() / 1000) + 60, tokenId: 'x' });
    const [head, claims] = valid.split('.');
    const widened = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(claims!, 'base64url').toString()), grants: [{ type: 'superuser' }] }),
    ).toString('base64url');
    const forged = wrap(`${head}.${widened}.${valid.split('.')[2]}`);
    const foreign = wrap(`fake-disposable-${'A'.repeat(32)}`);
    const op: Op = { kind: 'get', cache: 'app', key: 'k' };
    for (const token of [expired, forged, foreign]) {
      expect(
        await page.evaluate(([t, o]) => (window as unknown as LocalMomentoWindow).lm.run(t, o), [token, op] as const),
      ).toBe('AUTHENTICATION_ERROR');
    }
    // The same grants with a good signature and a future expiry work.
    expect(
      await page.evaluate(([t, o]) => (window as unknown as LocalMomentoWindow).lm.run(t, o), [
        wrap(valid),
        op,
      ] as const),
    ).toBe('ok');
  });

  it('a subscription ends with AUTHENTICATION_ERROR when its token expires', async () => {
    const plane = dev.dataPlane!;
    const expiresAt = Math.floor(Date.now() / 1000) + 2;
    const apiKey = plane.issuer.issue({
      grants: [{ type: 'topic', role: 'subscribeonly', cache: 'app' }],
      expiresAt,
      tokenId: 'short-lived',
    });
    const token = {
      authToken: Buffer.from(JSON.stringify({ endpoint: plane.endpoint, api_key: apiKey })).toString('base64'),
      endpoint: plane.endpoint,
    };
    const errors = () => page.evaluate(() => (window as unknown as LocalMomentoWindow).lm.errors);
    const before = (await errors()).length;
    expect(
      await page.evaluate(([t]) => (window as unknown as LocalMomentoWindow).lm.listen(t, 'app', 'chat-expiry'), [
        token,
      ] as const),
    ).toBe('ok');
    await page.waitForFunction((n) => (window as unknown as LocalMomentoWindow).lm.errors.length > n, before, {
      timeout: 5_000,
    });
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt * 1000);
    expect((await errors()).slice(before)).toEqual(['AUTHENTICATION_ERROR']);
    await page.evaluate(() => {
      const lm = (window as unknown as LocalMomentoWindow).lm;
      lm.stop();
      lm.errors.length = 0;
    });
  });

  /** Waits (up to 3 s) until the data plane holds exactly `n` open subscribe streams; fails with the count seen. */
  const openSubscriptions = async (n: number): Promise<void> => {
    const until = Date.now() + 3_000;
    while (dev.dataPlane!.subscriptions !== n && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect(dev.dataPlane!.subscriptions).toBe(n);
  };

  it('messages flow from one user to another with the publisher token id; a dropped connection loses and repeats none', async () => {
    const member = await tokenFor('bob', ['members']);
    const reader = await tokenFor('carol', ['readers']);
    // Streams the earlier tests cancelled in the page close on the server a little later: start from none.
    await openSubscriptions(0);
    expect(
      await page.evaluate(([t]) => (window as unknown as LocalMomentoWindow).lm.listen(t, 'app', 'chat-flow'), [
        reader.token,
      ] as const),
    ).toBe('ok');
    const publish = async (n: number) => {
      for (let i = 0; i < n; i++)
        expect(await run(member.token, { kind: 'publish', cache: 'app', topic: 'chat-flow' })).toBe('ok');
    };
    await publish(3);
    await page.waitForFunction(() => (window as unknown as LocalMomentoWindow).lm.received.length >= 3);
    await openSubscriptions(1);
    expect(dev.dataPlane!.dropSubscriptions()).toBe(1);
    // Published while the reader is disconnected: delivered when the SDK resumes at the next sequence number.
    await publish(3);
    await page.waitForFunction(() => (window as unknown as LocalMomentoWindow).lm.received.length >= 6, undefined, {
      timeout: 10_000,
    });
    await publish(1);
    await page.waitForFunction(() => (window as unknown as LocalMomentoWindow).lm.received.length >= 7);
    const received = await page.evaluate(() => (window as unknown as LocalMomentoWindow).lm.received);
    expect(received.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(new Set(received.map((r) => r.tokenId))).toEqual(new Set([member.token.tokenId]));
    expect(await page.evaluate(() => (window as unknown as LocalMomentoWindow).lm.errors)).toEqual([]);
    await page.evaluate(() => (window as unknown as LocalMomentoWindow).lm.stop());
  });
});
