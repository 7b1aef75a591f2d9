/**
 * Real-browser test of the newcomer's path (issue 10): the bare demo URL, default (Cognito) config, embedded fake
 * Momento. The first request is a 401 → the page offers local sign-in (user + groups → /dev/login) → a token.
 * A 403 `ttl-exceeds-tier` is labelled "not allowed", never "sign-in needed".
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import baseConfig from '../../config/tvm.config';
import { startDevServer, type DevServer } from '../../dev/server';
import { chromiumAvailable, launchChromium } from './chromium';
import { startStaticDemo, type StaticDemo } from './static-demo';
import { restoreEnv } from '../support/env';

interface DemoEvent {
  type: 'token' | 'error' | 'auth-error';
  status?: number;
  code?: string;
}
type DemoWindow = { tvmDemo: { events: DemoEvent[]; ready: Promise<unknown> } };

(chromiumAvailable() ? describe : describe.skip)('real browser: local sign-in on the bare demo page', () => {
  let demo: StaticDemo;
  let dev: DevServer;
  let browser: Browser;
  let context: BrowserContext | undefined;
  let tvmUrl: string;
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    delete process.env.MOMENTO_API_KEY; // the embedded fake: local sign-in is on
    demo = await startStaticDemo();
    dev = await startDevServer({
      config: { ...baseConfig, cors: { allowOrigins: [demo.origin] } },
      port: 0,
      demoPort: -1,
      log: () => undefined,
    });
    const url = new URL(dev.tokenUrl);
    url.hostname = '127.0.0.1';
    tvmUrl = url.href;
    browser = await launchChromium();
  }, 30_000);

  afterEach(async () => {
    await context?.close();
    context = undefined;
  });

  afterAll(async () => {
    await browser?.close();
    await dev?.close();
    await demo?.close();
    restoreEnv(savedEnv);
  });

  async function open(params: Record<string, string>): Promise<Page> {
    context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${demo.origin}/?${new URLSearchParams({ tvm: tvmUrl, ...params })}`);
    await page.evaluate(() => (window as unknown as DemoWindow).tvmDemo.ready.then(() => true));
    return page;
  }

  const waitFor = (page: Page, type: DemoEvent['type']) =>
    page.waitForFunction((t) => (window as unknown as DemoWindow).tvmDemo.events.some((e) => e.type === t), type, {
      timeout: 10_000,
    });

  it('offers local sign-in on a 401 and gets a token with it', async () => {
    // Prepare: no ?auth= — what a newcomer opens first.
    const page = await open({});
    await waitFor(page, 'auth-error');
    expect(await page.textContent('#auth-banner-title')).toBe('Sign-in needed.');
    expect(await page.textContent('#auth-banner-hint')).toMatch(/Sign in locally below/);

    // Act
    await page.fill('#login-user', 'alice');
    await page.fill('#login-groups', 'members');
    await page.click('#btn-login');
    await waitFor(page, 'token');

    // Assess
    expect(await page.getAttribute('#status', 'data-state')).toBe('ok');
    expect(await page.getAttribute('#auth-banner', 'data-visible')).toBe('false');
    expect(await page.textContent('#login-status')).toBe('signed in as alice');
    expect(await page.textContent('#permissions')).toMatch(/chat-/);
  });

  it('labels 403 ttl-exceeds-tier "not allowed", not "sign-in needed"', async () => {
    // Prepare: readers may hold tokens for 900 s at most.
    const page = await open({ ttl: '1800', autostart: '0' });

    // Act
    await page.fill('#login-user', 'rita');
    await page.fill('#login-groups', 'readers');
    await page.click('#btn-login');
    await waitFor(page, 'auth-error');

    // Assess
    const events = await page.evaluate(() => (window as unknown as DemoWindow).tvmDemo.events);
    expect(events.filter((e) => e.type === 'auth-error')).toEqual([
      expect.objectContaining({ status: 403, code: 'ttl-exceeds-tier' }),
    ]);
    expect(await page.textContent('#status')).toBe('not allowed (403 ttl-exceeds-tier)');
    expect(await page.textContent('#auth-banner-title')).toBe('Not allowed.');
    expect(await page.textContent('#auth-banner-text')).toMatch(/ttl 1800 exceeds your maximum of 900 seconds/);
    expect(await page.textContent('#auth-banner')).not.toMatch(/Sign-in needed/);
  });
});
