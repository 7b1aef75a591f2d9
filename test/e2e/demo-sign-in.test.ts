/**
 * Real-browser test of the newcomer's path (issue 10): the bare demo URL, default (Cognito) config, embedded fake
 * Momento. The first request is a 401 → the page offers local sign-in (user + groups → /dev/login) → a token.
 * A 403 `ttl-exceeds-tier` is labelled "not allowed", never "sign-in needed"; each 403 gets the hint that can help
 * (a shorter ttl only for ttl-exceeds-tier). Issue 17 item 18: the sign-in form takes `?groups=`, an open-mode
 * server's missing /dev/login is explained (not blamed), "Forget token" says it stopped the refresh, and the
 * page offers a short-ttl run that shows a refresh within a minute.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import openConfig from '../../config/examples/open.config';
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
  let openDev: DevServer;
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
    openDev = await startDevServer({
      config: { ...openConfig, cors: { allowOrigins: [demo.origin] } },
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
    await openDev?.close();
    await demo?.close();
    restoreEnv(savedEnv);
  });

  async function open(params: Record<string, string>, tvm = tvmUrl): Promise<Page> {
    context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${demo.origin}/?${new URLSearchParams({ tvm, ...params })}`);
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
    expect(await page.textContent('#auth-banner-hint')).toMatch(/ask for a shorter ttl/);
  });

  it('answers 403 no-tier with the groups hint, never "a shorter ttl"', async () => {
    const page = await open({ autostart: '0', groups: 'nobody' });
    expect(await page.inputValue('#login-groups')).toBe('nobody'); // ?groups= fills the form
    await page.click('#btn-login');
    await waitFor(page, 'auth-error');
    expect(await page.textContent('#status')).toBe('not allowed (403 no-tier)');
    const hint = await page.textContent('#auth-banner-hint');
    expect(hint).toMatch(/none of your groups is named by a tier/);
    expect(hint).not.toMatch(/ttl/);
  });

  it('in open mode, explains that local sign-in is not needed instead of blaming the server', async () => {
    const url = new URL(openDev.tokenUrl);
    url.hostname = '127.0.0.1';
    const page = await open({ autostart: '0' }, url.href);
    await page.click('#btn-login');
    await page.waitForFunction(() => !/signing in/.test(document.getElementById('login-status')!.textContent!));
    const status = await page.textContent('#login-status');
    expect(status).toMatch(/no local sign-in: in open mode none is needed/);
    expect(status).not.toMatch(/is npm run dev running/);
  });

  it('"Forget token" says the background refresh stopped; the short-ttl link keeps the page and asks ttl=60', async () => {
    const page = await open({});
    await page.fill('#login-groups', 'members');
    await page.click('#btn-login');
    await waitFor(page, 'token');
    await page.click('#btn-reset');
    await page.waitForFunction(() => /background refresh off/.test(document.getElementById('status')!.textContent!));
    expect(await page.textContent('#status')).toMatch(/idle: no token, background refresh off/);
    const href = new URL((await page.getAttribute('#short-ttl', 'href'))!, demo.origin);
    expect(href.searchParams.get('ttl')).toBe('60');
    expect(href.searchParams.get('tvm')).toBe(tvmUrl);
  });
});
