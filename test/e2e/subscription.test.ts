/**
 * `subscribeWithRefresh` in headless Chromium with the real @gomomento/sdk-web against the dev server's local
 * Momento: a 300-message stream arrives exactly once, in order, across three forced token refreshes (each a
 * make-before-break move to a new TopicClient) and one dropped connection (the data plane's drop hook); and it
 * stops, without retrying, on Momento's PERMISSION_ERROR and on the TVM's 401.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { buildClient } from '../../client/build';
import baseConfig from '../../config/tvm.config';
import { startDemoServer, WEB_SDK_PATH, type DemoServer } from '../../dev/demo-server';
import { startDevServer, type DevServer } from '../../dev/server';
import { restoreEnv } from '../support/env';
import { chromiumAvailable, launchChromium } from './chromium';

const MESSAGES = 300;
const TOPIC = 'chat-refresh-e2e';

interface Harness {
  received: { value: string; seq: number }[];
  gaps: unknown[];
  statuses: { type: string }[];
  stops: { reason: string; code: string }[];
  tokens: number;
  published: number;
  publishErrors: string[];
}
type HarnessWindow = {
  harness: Harness;
  refresh(): Promise<unknown>;
  spoilSignIn(): void;
  publishing: Promise<void>;
};

/**
 * In-page code as a string: Jest's transform would turn a dynamic `import()` in a function into `require`. Signs
 * in locally as `user` (member tier), then either subscribes with `subscribeWithRefresh` or publishes
 * `count` messages (`m1`…), one after the other.
 */
function pageScript(args: {
  tvmUrl: string;
  user: string;
  role: 'subscriber' | 'publisher';
  count: number;
  topic: string;
}): string {
  return `(async (args) => {
    const tvm = await import('/client/tvm-client.js');
    const sdk = await import('${WEB_SDK_PATH}');
    const login = new URL(args.tvmUrl.replace(/\\/token$/, '/dev/login'));
    login.searchParams.set('user', args.user);
    login.searchParams.set('groups', 'members');
    let { authorization } = await (await fetch(login)).json();
    const tokens = tvm.createTokenClient({ url: args.tvmUrl, getAuthHeader: () => authorization, shareAcrossTabs: false });
    // The ID token goes bad (signed out, expired session): the next token request is answered 401.
    window.spoilSignIn = () => { authorization = 'not-an-id-token'; };
    const h = (window.harness = { received: [], gaps: [], statuses: [], stops: [], tokens: 0, published: 0, publishErrors: [] });
    tokens.subscribe((e) => { if (e.type === 'token') h.tokens += 1; });
    window.refresh = () => tokens.refresh();
    const topicClient = (credentials) => new sdk.TopicClient({
      configuration: sdk.TopicConfigurations.Browser.latest(),
      credentialProvider: sdk.CredentialProvider.fromDisposableToken(credentials),
    });
    if (args.role === 'subscriber') {
      tokens.start();
      const sub = tvm.subscribeWithRefresh({
        tokens,
        createTopicClient: topicClient,
        cacheName: 'app',
        topicName: args.topic,
        onItem: (item) => h.received.push({ value: String(item.value()), seq: item.sequenceNumber() }),
        onDiscontinuity: (gap) => h.gaps.push(gap),
        onStatus: (status) => h.statuses.push(status),
        onStop: (error) => h.stops.push({ reason: error.reason, code: error.code }),
      });
      // A refused subscription rejects ready; the test reads stops.
      await sub.ready.catch(() => undefined);
      return true;
    }
    const topics = topicClient(tvm.momentoCredentialsFor(await tokens.getToken()));
    window.publishing = (async () => {
      for (let i = 1; i <= args.count; i++) {
        const answer = await topics.publish('app', args.topic, 'm' + i);
        if (typeof answer.errorCode === 'function') h.publishErrors.push(answer.errorCode());
        h.published = i;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    return true;
  })(${JSON.stringify(args)})`;
}

(chromiumAvailable() ? describe : describe.skip)('real browser: subscribeWithRefresh against the local Momento', () => {
  let dir: string;
  let demo: DemoServer;
  let dev: DevServer;
  let browser: Browser;
  let tvmUrl: string;
  const contexts: BrowserContext[] = [];
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    delete process.env.MOMENTO_API_KEY; // the embedded fake token service and the local Momento
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tvm-subscription-e2e-'));
    demo = await startDemoServer({ port: 0, clientFile: await buildClient({ outfile: path.join(dir, 'client.js') }) });
    dev = await startDevServer({
      // No token reuse: each forced refresh must mint a new token (with reuse, a refresh within the fresh
      // window answers the same token, and there is nothing to move to).
      config: { ...baseConfig, cors: { allowOrigins: [demo.origin] }, tokenCache: { enabled: false } },
      port: 0,
      demoPort: -1,
      log: () => undefined,
    });
    const url = new URL(dev.tokenUrl);
    url.hostname = '127.0.0.1';
    tvmUrl = url.href;
    browser = await launchChromium();
  }, 30_000);

  afterAll(async () => {
    await Promise.all(contexts.map((c) => c.close()));
    await browser?.close();
    await dev?.close();
    await demo?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    restoreEnv(savedEnv);
  });

  /** A window (its own context) on the demo origin running the harness as `user`. */
  async function start(user: string, role: 'subscriber' | 'publisher', topic = TOPIC): Promise<Page> {
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(`${demo.origin}/chat.html`);
    await page.evaluate(pageScript({ tvmUrl, user, role, count: MESSAGES, topic }));
    return page;
  }

  const harness = (page: Page) => page.evaluate(() => (window as unknown as HarnessWindow).harness);
  const received = (page: Page, n: number) =>
    page.waitForFunction((count) => (window as unknown as HarnessWindow).harness.received.length >= count, n, {
      timeout: 30_000,
    });

  it(`delivers each of ${MESSAGES} messages once, in order, across 3 token refreshes and a dropped connection`, async () => {
    // Prepare
    const subscriber = await start('sam', 'subscriber');
    const publisher = await start('pat', 'publisher');

    // Act: refreshes and the drop happen while messages flow.
    const refresh = () => subscriber.evaluate(() => (window as unknown as HarnessWindow).refresh().then(() => true));
    await received(subscriber, 40);
    await refresh();
    await received(subscriber, 100);
    await refresh();
    await received(subscriber, 160);
    const dropped = dev.dataPlane!.dropSubscriptions('reset');
    await received(subscriber, 220);
    await refresh();
    await publisher.evaluate(() => (window as unknown as HarnessWindow).publishing);
    await received(subscriber, MESSAGES);
    // Anything repeated would arrive after the last message: give it a moment.
    await subscriber.waitForTimeout(300);

    // Assess
    const h = await harness(subscriber);
    expect((await harness(publisher)).publishErrors).toEqual([]);
    expect(dropped).toBeGreaterThanOrEqual(1);
    expect(h.received.map((r) => r.value)).toEqual(Array.from({ length: MESSAGES }, (_, i) => `m${i + 1}`));
    const seqs = h.received.map((r) => r.seq);
    expect(seqs.every((s, i) => i === 0 || s === seqs[i - 1]! + 1)).toBe(true);
    expect(h.tokens).toBeGreaterThanOrEqual(4);
    expect(h.statuses.filter((s) => s.type === 'moved')).toHaveLength(3);
    expect(h.gaps).toEqual([]);
    expect(h.stops).toEqual([]);
  }, 90_000);

  it('stops with PERMISSION_ERROR, without retrying, on a topic the token does not allow', async () => {
    // Prepare: members may subscribe to chat-* and inbox-{sub} only.
    const before = dev.dataPlane!.subscriptions;

    // Act
    const subscriber = await start('sam', 'subscriber', 'news');
    await subscriber.waitForTimeout(1_500);

    // Assess
    const h = await harness(subscriber);
    expect(h.stops).toEqual([{ reason: 'momento', code: 'PERMISSION_ERROR' }]);
    expect(h.statuses.filter((s) => s.type === 'reconnecting')).toEqual([]);
    expect(dev.dataPlane!.subscriptions).toBe(before);
  }, 30_000);

  it('stops with reason auth when the token vending machine answers 401 to a refresh', async () => {
    // Prepare
    const subscriber = await start('sue', 'subscriber');
    await subscriber.waitForFunction(() => (window as unknown as HarnessWindow).harness.tokens >= 1);
    const before = dev.dataPlane!.subscriptions;

    // Act
    await subscriber.evaluate(() => {
      const w = window as unknown as HarnessWindow;
      w.spoilSignIn();
      return w.refresh().catch(() => undefined);
    });
    await subscriber.waitForFunction(() => (window as unknown as HarnessWindow).harness.stops.length > 0);

    // Assess: stopped once, with the TVM's code, and its stream is closed.
    const h = await harness(subscriber);
    expect(h.stops).toEqual([{ reason: 'auth', code: 'unauthorized' }]);
    await subscriber.waitForTimeout(300);
    expect(dev.dataPlane!.subscriptions).toBe(before - 1);
  }, 30_000);
});
