/**
 * Real-browser test of token sharing between tabs (client/README.md, "Tabs"): several pages of one Chromium
 * context load the built client from a tiny server on 127.0.0.1 that also answers `GET /token` and counts the
 * requests. Every page sends its own name as the Authorization value, so the server sees which tab fetched.
 * Tokens live 6 s and are refreshed at 50 % of that, minus up to 10 % jitter: a refresh every 2.7 to 3 s.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { CHROMIUM_PATH, INSTALL_HINT, chromiumAvailable, launchChromium } from './chromium';

const TOKEN_SECONDS = 6;

interface TokenRequest {
  /** The Authorization value: the name of the tab that sent it. */
  tab: string | undefined;
  at: number;
}

// What the page exposes; only the parts read here.
type TabWindow = {
  tab: {
    ready: Promise<unknown>;
    tokenIds: string[];
    errors: string[];
    client: { currentToken?: { tokenId?: string }; getStatus(): { sharedAcrossTabs: boolean; state: string } };
  };
};

const PAGE = `<!doctype html><meta charset="utf-8"><title>tab</title>
<script type="module">
import { createTokenClient } from '/client.js';
const name = new URL(location.href).searchParams.get('tab');
const client = createTokenClient({
  url: '/token',
  getAuthHeader: () => name,
  refreshFraction: 0.5,
  minRefreshSeconds: 0,
});
const tab = { client, tokenIds: [], errors: [] };
let first;
tab.ready = new Promise((resolve) => (first = resolve));
client.subscribe((event) => {
  if (event.type === 'token') {
    tab.tokenIds.push(event.token.tokenId);
    first();
  } else tab.errors.push(event.error.code);
});
window.tab = tab;
client.start();
</script>`;

const available = chromiumAvailable();
if (!available && process.env.CI === 'true') {
  describe('tabs in a real browser', () => {
    it('needs Chromium', () => {
      throw new Error(`${CHROMIUM_PATH} not found: CI must install it (${INSTALL_HINT}) before running the e2e tests`);
    });
  });
} else if (!available) {
  console.warn(`Skipping the tab-sharing browser tests: ${CHROMIUM_PATH} not found. Install it with: ${INSTALL_HINT}`);
}

(available ? describe : describe.skip)('real browser: one token per browser, not per tab', () => {
  let server: http.Server;
  let origin: string;
  let browser: Browser;
  let workDir: string;
  const contexts: BrowserContext[] = [];
  const requests: TokenRequest[] = [];

  beforeAll(async () => {
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tvm-client-tabs-'));
    const bundle = fs.readFileSync(
      await (await import('../../client/build')).buildClient({ outfile: path.join(workDir, 'index.js') }),
    );
    server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (url.pathname === '/token') {
        requests.push({ tab: req.headers.authorization, at: Date.now() });
        const n = requests.length;
        const body = {
          authToken: `tok-${n}`,
          expiresAt: Math.floor(Date.now() / 1000) + TOKEN_SECONDS,
          expiresIn: TOKEN_SECONDS,
          endpoint: 'cell-1.test',
          tokenId: `t-${n}`,
          permissions: [],
        };
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        res.end(JSON.stringify(body));
      } else if (url.pathname === '/client.js') {
        res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
      } else if (url.pathname === '/') {
        res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchChromium();
  }, 60_000);

  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.close();
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
    if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
  });

  async function newContext(): Promise<BrowserContext> {
    const context = await browser.newContext();
    contexts.push(context);
    return context;
  }

  /** Opens the page as tab `name` and resolves once it has its first token. */
  async function openTab(context: BrowserContext, name: string): Promise<Page> {
    const page = await context.newPage();
    await page.goto(`${origin}/?tab=${name}`);
    await page.evaluate(() => (window as unknown as TabWindow).tab.ready.then(() => true));
    return page;
  }

  const tokenId = (page: Page) =>
    page.evaluate(() => (window as unknown as TabWindow).tab.client.currentToken?.tokenId);
  const errors = (page: Page) => page.evaluate(() => (window as unknown as TabWindow).tab.errors);
  /** Every page holds token `t-<n>`. */
  const allHold = async (pages: Page[], n: number) =>
    expect(await Promise.all(pages.map(tokenId))).toEqual(pages.map(() => `t-${n}`));
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  async function waitForRequests(count: number, timeoutMs = 10_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (requests.length < count) {
      if (Date.now() > until) throw new Error(`expected ${count} GET /token, saw ${requests.length}`);
      await sleep(50);
    }
  }

  it('four tabs: one GET /token at start and one per refresh, and every tab gets each token', async () => {
    const since = requests.length;
    const context = await newContext();
    const first = await openTab(context, 'a');
    // Three more at once: they queue on the lock and take the first tab's token instead of fetching.
    const others = await Promise.all(['b', 'c', 'd'].map((name) => openTab(context, name)));
    const pages = [first, ...others];
    expect(
      await Promise.all(pages.map((p) => p.evaluate(() => (window as unknown as TabWindow).tab.client.getStatus()))),
    ).toEqual(pages.map(() => expect.objectContaining({ sharedAcrossTabs: true, state: 'scheduled' })));
    expect(requests.slice(since).map((r) => r.tab)).toEqual(['a']);
    await allHold(pages, since + 1);

    // Two refresh periods: exactly one request each, and every tab moves to the new token.
    for (const round of [2, 3]) {
      await waitForRequests(since + round);
      await sleep(1_000); // well inside the next period (≥ 2.7 s): any duplicate request would have come by now
      expect(requests.length).toBe(since + round);
      await allHold(pages, since + round);
    }
    for (const page of pages) expect(await errors(page)).toEqual([]);
  }, 60_000);

  it('closing the tab that refreshed: another tab takes over the next refresh', async () => {
    const since = requests.length;
    const context = await newContext();
    const pages = new Map<string, Page>();
    for (const name of ['a', 'b', 'c']) pages.set(name, await openTab(context, name));
    await waitForRequests(since + 2); // the first refresh
    const leader = requests[since + 1]!.tab!;
    await pages.get(leader)!.close();
    pages.delete(leader);

    await waitForRequests(since + 3);
    await sleep(1_000);
    expect(requests.length).toBe(since + 3);
    expect(requests[since + 2]!.tab).not.toBe(leader);
    expect([...pages.keys()]).toContain(requests[since + 2]!.tab);
    await allHold([...pages.values()], since + 3);
  }, 60_000);

  it('another browser context (another browser profile) gets its own token', async () => {
    const since = requests.length;
    const one = await openTab(await newContext(), 'a');
    const other = await openTab(await newContext(), 'b');
    expect(requests.slice(since, since + 2).map((r) => r.tab)).toEqual(['a', 'b']);
    expect(await tokenId(one)).toBe(`t-${since + 1}`);
    expect(await tokenId(other)).toBe(`t-${since + 2}`);
  }, 30_000);
});
