/**
 * Real-browser test: the demo page and the browser client in headless Chromium against the dev server (the real
 * vending code, the cognito auth emulation with a local issuer, the embedded fake Momento). The allowed demo
 * origin serves the client as published: packed with `npm pack` and installed from the tarball (static-demo.ts).
 *
 * Origins: the TVM is http://127.0.0.1:<tvm port>; the allowed demo origin is our own static server on
 * http://127.0.0.1:<port> (started first, so its origin goes into `cors.allowOrigins`); the dev server's own demo
 * server (http://127.0.0.1:<demo port>) is NOT in the allow-list and plays the foreign site. Everything is
 * 127.0.0.1 (never `localhost`, a different origin). Requests are counted on the server (`onRequest`), because
 * Chromium does not show CORS preflights to `page.on('request')`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import baseConfig from '../../config/tvm.config';
import { startDevServer, type DevServer } from '../../dev/server';
import { CHROMIUM_PATH, INSTALL_HINT, chromiumAvailable, launchChromium } from './chromium';
import { startStaticDemo, type StaticDemo } from './static-demo';
import { restoreEnv } from '../support/env';

const SCREENSHOT = path.resolve(__dirname, '..', '..', 'test-results', 'demo.png');

interface DemoEvent {
  type: 'token' | 'error' | 'auth-error';
  at: number;
  status?: number;
  code?: string;
  expiresIn?: number;
  tokenId?: string;
}
interface SeenRequest {
  method: string;
  path: string;
  origin: string | undefined;
}
// What the page exposes (demo/demo.js); only the parts read here.
type DemoWindow = {
  tvmDemo: {
    events: DemoEvent[];
    fetchCount: number;
    ready: Promise<unknown>;
    client: {
      start(): void;
      stop(): void;
      subscribe(
        listener: (
          event:
            { type: 'token'; token: { authToken: string; expiresAt: number; expiresIn: number } } | { type: 'error' },
        ) => void,
      ): () => void;
      getStatus(): { state: string };
    };
    getTokenConcurrently(n: number): Promise<Record<string, number>>;
  };
  e2eTokens?: { at: number; expiresAtMs: number; expiresIn: number; newToken: boolean }[];
};

const available = chromiumAvailable();
const inCi = process.env.CI === 'true';

if (!available && inCi) {
  describe('real browser', () => {
    it('needs Chromium', () => {
      throw new Error(`${CHROMIUM_PATH} not found: CI must install it (${INSTALL_HINT}) before running the e2e tests`);
    });
  });
} else if (!available) {
  console.warn(`Skipping the real-browser tests: ${CHROMIUM_PATH} not found. Install it with: ${INSTALL_HINT}`);
}

(available ? describe : describe.skip)('real browser: demo page + client against the dev server', () => {
  let allowed: StaticDemo;
  let dev: DevServer;
  let browser: Browser;
  let context: BrowserContext | undefined;
  let tvmUrl: string;
  let foreignOrigin: string;
  let aliceToken: string;
  const seen: SeenRequest[] = [];
  const serverLog: string[] = [];
  const savedEnv = { ...process.env };

  /** Requests the TVM received for /token from `origin` (optionally one method), from index `since` on. */
  const requests = (origin: string, method?: string, since = 0) =>
    seen
      .slice(since)
      .filter((r) => r.path === '/token' && r.origin === origin && (method === undefined || r.method === method));

  beforeAll(async () => {
    // The embedded fake Momento: no real key may be picked up from the environment.
    delete process.env.MOMENTO_API_KEY;
    allowed = await startStaticDemo();
    dev = await startDevServer({
      config: {
        ...baseConfig,
        cors: { allowOrigins: [allowed.origin] },
        // Every request mints a new token (no server-side reuse), so a refresh visibly yields a new token.
        tokenCache: { enabled: false },
      },
      port: 0,
      demoPort: 0,
      log: (line) => serverLog.push(line),
      onRequest: (method, p, origin) => seen.push({ method, path: p, origin }),
    });
    const token = new URL(dev.tokenUrl);
    token.hostname = '127.0.0.1';
    tvmUrl = token.href;
    const foreign = new URL(dev.demoUrl!);
    foreign.hostname = '127.0.0.1';
    foreignOrigin = foreign.origin;
    aliceToken = dev.login('alice', ['admins']);
    browser = await launchChromium();
    // npm pack (with its tsc + esbuild prepack build) and an offline install take ~10 s on a busy 2-core runner.
  }, 90_000);

  afterEach(async () => {
    await context?.close();
    context = undefined;
  });

  afterAll(async () => {
    await browser?.close();
    await dev?.close();
    await allowed?.close();
    // startDevServer points grpc-js at the fake (CA, proxy, endpoint): give the worker its environment back.
    restoreEnv(savedEnv);
  });

  /** A fresh context and the demo page from `origin`, with `params`; resolves once the client is loaded. */
  async function openDemo(origin: string, params: Record<string, string>): Promise<Page> {
    context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    const page = await context.newPage();
    const query = new URLSearchParams({ tvm: tvmUrl, ...params });
    await page.goto(`${origin}/?${query}`);
    await page.evaluate(() => (window as unknown as DemoWindow).tvmDemo.ready.then(() => true));
    return page;
  }

  const events = (page: Page) => page.evaluate(() => (window as unknown as DemoWindow).tvmDemo.events);
  const waitForEvent = (page: Page, type: DemoEvent['type'], count = 1, timeout = 10_000) =>
    page.waitForFunction(
      ([t, n]) => (window as unknown as DemoWindow).tvmDemo.events.filter((e) => e.type === t).length >= (n as number),
      [type, count] as const,
      { timeout },
    );

  it('an allowed origin gets a token after a real CORS preflight (cognito, Authorization header)', async () => {
    const since = seen.length;
    const page = await openDemo(allowed.origin, { auth: aliceToken });
    await waitForEvent(page, 'token');

    // The page shows the token's id (the verified `sub`) and the admin tier's permissions.
    const sub = (JSON.parse(Buffer.from(aliceToken.split('.')[1]!, 'base64url').toString('utf8')) as { sub: string })
      .sub;
    await page.waitForFunction((s) => document.getElementById('token-id')?.textContent === s, sub);
    const rows = await page.$$eval('#permissions tbody tr', (trs) =>
      (trs as HTMLTableRowElement[]).map((tr) => Array.from(tr.cells, (c) => c.textContent)),
    );
    expect(rows).toEqual(
      expect.arrayContaining([
        ['cache', 'app', 'readwrite', 'all', ''],
        ['topic', 'app', 'publishsubscribe', 'all', ''],
      ]),
    );
    expect(await page.textContent('#status')).toMatch(/token valid/);
    expect((await events(page)).filter((e) => e.type !== 'token')).toEqual([]);

    // The server saw the browser's preflight from this origin, and before the GET it allowed.
    const fromPage = requests(allowed.origin, undefined, since).map((r) => r.method);
    expect(fromPage.filter((m) => m === 'OPTIONS').length).toBeGreaterThanOrEqual(1);
    expect(fromPage.indexOf('OPTIONS')).toBeLessThan(fromPage.indexOf('GET'));
    expect(fromPage.filter((m) => m === 'GET')).toHaveLength(1);
  });

  it('the page runs the published package: the module npm installed from the tarball', async () => {
    const served = await fetch(`${allowed.origin}/client/tvm-client.js`);
    expect(served.status).toBe(200);
    expect(await served.text()).toBe(fs.readFileSync(allowed.clientFile, 'utf8'));
    expect(allowed.clientFile).toMatch(/node_modules\/@momento-tvm\/client\/dist\/index\.js$/);

    const page = await openDemo(allowed.origin, { auth: aliceToken, autostart: '0' });
    // The state machine of this version is visible through the page's client.
    expect(await page.evaluate(() => (window as unknown as DemoWindow).tvmDemo.client.getStatus().state)).toBe('idle');
  });

  it('a disallowed origin is blocked by the browser although the server answered', async () => {
    // 1. With an Authorization header: the server answers the preflight (204, no Access-Control-Allow-Origin),
    //    so Chromium never sends the GET and fetch rejects.
    const since = seen.length;
    const consoleErrors: string[] = [];
    const page = await openDemo(foreignOrigin, { auth: aliceToken, autostart: '0' });
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    await page.evaluate(() => (window as unknown as DemoWindow).tvmDemo.client.start());
    await waitForEvent(page, 'error');
    await page.evaluate(() => (window as unknown as DemoWindow).tvmDemo.client.stop());
    const withAuth = await events(page);
    expect(withAuth.length).toBeGreaterThanOrEqual(1);
    for (const e of withAuth) expect(e).toMatchObject({ type: 'error', status: 0, code: 'network-error' });
    expect(requests(foreignOrigin, 'OPTIONS', since).length).toBeGreaterThanOrEqual(1);
    expect(requests(foreignOrigin, 'GET', since)).toEqual([]);
    expect(consoleErrors.some((t) => /blocked by CORS policy/.test(t) && t.includes(foreignOrigin))).toBe(true);
    await context!.close();

    // 2. Without credentials (a simple request, no preflight): the GET reaches the server, which answers 401
    //    without Access-Control-Allow-Origin. The page cannot read that answer: status 0, not an auth error.
    const since2 = seen.length;
    const logSince = serverLog.length;
    const page2 = await openDemo(foreignOrigin, { autostart: '0' });
    await page2.evaluate(() => (window as unknown as DemoWindow).tvmDemo.client.start());
    await waitForEvent(page2, 'error');
    await page2.evaluate(() => (window as unknown as DemoWindow).tvmDemo.client.stop());
    const withoutAuth = await events(page2);
    for (const e of withoutAuth) expect(e).toMatchObject({ type: 'error', status: 0, code: 'network-error' });
    expect(requests(foreignOrigin, 'OPTIONS', since2)).toEqual([]);
    expect(requests(foreignOrigin, 'GET', since2).length).toBeGreaterThanOrEqual(1);
    expect(serverLog.slice(logSince).some((l) => l.includes('401 unauthorized'))).toBe(true);
  });

  it('a 401 reaches the page as an auth-error event with its status and code (CORS headers on the error answer)', async () => {
    for (const params of [{ auth: 'not-a-valid-id-token' }, {}] as Record<string, string>[]) {
      const page = await openDemo(allowed.origin, params);
      await waitForEvent(page, 'auth-error');
      const all = await events(page);
      expect(all.filter((e) => e.type === 'auth-error')).toEqual([
        expect.objectContaining({ type: 'auth-error', status: 401, code: 'unauthorized' }),
      ]);
      expect(all.filter((e) => e.type !== 'auth-error')).toEqual([]);
      expect(await page.getAttribute('#auth-banner', 'data-visible')).toBe('true');
      expect(await page.textContent('#status')).toMatch(/sign-in needed \(401 unauthorized\)/);
      await context!.close();
    }
  });

  it('refreshes before expiry, after about refreshFraction × expiresIn', async () => {
    const refreshFraction = 0.05;
    const since = seen.length;
    const page = await openDemo(allowed.origin, {
      auth: aliceToken,
      ttl: '60', // the server's minimum
      refreshFraction: String(refreshFraction),
      minRefresh: '1',
      autostart: '0',
    });
    // Record each token's expiresAt and whether it is a new token, without letting a token leave the page.
    await page.evaluate(() => {
      const w = window as unknown as DemoWindow;
      const list: NonNullable<DemoWindow['e2eTokens']> = (w.e2eTokens = []);
      let previous: string | undefined;
      w.tvmDemo.client.subscribe((event) => {
        if (event.type !== 'token') return;
        const t = event.token;
        list.push({
          at: Date.now(),
          expiresAtMs: t.expiresAt * 1000,
          expiresIn: t.expiresIn,
          newToken: t.authToken !== previous,
        });
        previous = t.authToken;
      });
      w.tvmDemo.client.start();
    });
    await waitForEvent(page, 'token', 2, 15_000);
    await page.evaluate(() => (window as unknown as DemoWindow).tvmDemo.client.stop());

    const tokenEvents = (await events(page)).filter((e) => e.type === 'token');
    const tokens = (await page.evaluate(() => (window as unknown as DemoWindow).e2eTokens))!;
    expect(tokenEvents.length).toBeGreaterThanOrEqual(2);
    expect(tokens.length).toBeGreaterThanOrEqual(2);
    const [first, second] = tokens as [(typeof tokens)[0], (typeof tokens)[0]];
    expect(first.expiresIn).toBeGreaterThan(55);
    expect(first.expiresIn).toBeLessThanOrEqual(60);
    expect(second.newToken).toBe(true);
    // Refreshed while the first token was still valid.
    expect(second.at).toBeLessThan(first.expiresAtMs);
    const expectedGap = refreshFraction * first.expiresIn * 1000;
    const gap = tokenEvents[1]!.at - tokenEvents[0]!.at;
    expect(gap).toBeGreaterThanOrEqual(expectedGap * 0.8);
    expect(gap).toBeLessThanOrEqual(expectedGap + 1500);
    expect(requests(allowed.origin, 'GET', since).length).toBe(tokenEvents.length);
    console.log(
      `refresh timings: ttl=60 refreshFraction=${refreshFraction} expiresIn=${first.expiresIn}s ` +
        `expected gap=${expectedGap.toFixed(0)}ms observed gap=${gap}ms (token events at +0ms, ` +
        `${tokenEvents
          .slice(1)
          .map((e) => `+${e.at - tokenEvents[0]!.at}ms`)
          .join(', ')}); ` +
        `second token arrived ${((first.expiresAtMs - second.at) / 1000).toFixed(1)}s before the first one's expiresAt`,
    );
  });

  it('five concurrent getToken() calls cause exactly one request', async () => {
    const page = await openDemo(allowed.origin, { auth: aliceToken, autostart: '0' });
    const since = seen.length;
    const batch = await page.evaluate(() => (window as unknown as DemoWindow).tvmDemo.getTokenConcurrently(5));
    expect(batch).toMatchObject({ calls: 5, fetches: 1, fulfilled: 5, rejected: 0, distinctTokens: 1 });
    expect(await page.textContent('#last-batch')).toContain('5 concurrent getToken() → 1 request(s), 5 fulfilled');
    // Server side: one GET, and still one a moment later (no background refresh with autostart=0).
    expect(requests(allowed.origin, 'GET', since)).toHaveLength(1);
    await page.waitForTimeout(500);
    expect(requests(allowed.origin, 'GET', since)).toHaveLength(1);
  });

  it('renders the demo page with a token (screenshot)', async () => {
    const page = await openDemo(allowed.origin, { auth: aliceToken });
    await waitForEvent(page, 'token');
    await page.waitForFunction(() => document.getElementById('token-id')?.textContent !== '—');
    fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    const png = fs.readFileSync(SCREENSHOT);
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(png.length).toBeGreaterThan(10_000);
    // The page never shows the token itself, only its length.
    expect(await page.textContent('#auth-token')).toMatch(/^\d+ characters \(not shown\)$/);
    console.log(`demo screenshot: ${SCREENSHOT}`);
  });
});
