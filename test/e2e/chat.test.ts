/**
 * The chat demo (demo/chat.html) in headless Chromium, two windows (browser contexts) against `npm run dev`'s
 * servers: local sign-in, the real @gomomento/sdk-web (bundled by the demo server) talking grpc-web to the local
 * Momento, which enforces each token's permissions.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { buildClient } from '../../client/build';
import baseConfig from '../../config/tvm.config';
import { startDemoServer, type DemoServer } from '../../dev/demo-server';
import { startDevServer, type DevServer } from '../../dev/server';
import { restoreEnv } from '../support/env';
import { chromiumAvailable, launchChromium } from './chromium';

interface ChatMessage {
  seq: number;
  text: string;
  from: string;
  publisher?: string;
}
interface ChatEvent {
  type: string;
  code?: string;
}
type ChatWindow = { tvmChat: { ready: Promise<unknown>; messages: ChatMessage[]; events: ChatEvent[] } };

(chromiumAvailable() ? describe : describe.skip)('real browser: the chat demo in two windows', () => {
  let dir: string;
  let demo: DemoServer;
  let dev: DevServer;
  let browser: Browser;
  let tvmUrl: string;
  const contexts: BrowserContext[] = [];
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    delete process.env.MOMENTO_API_KEY; // the embedded fake token service and the local Momento
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tvm-chat-e2e-'));
    demo = await startDemoServer({ port: 0, clientFile: await buildClient({ outfile: path.join(dir, 'client.js') }) });
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
    await Promise.all(contexts.splice(0).map((c) => c.close()));
  });

  afterAll(async () => {
    await browser?.close();
    await dev?.close();
    await demo?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    restoreEnv(savedEnv);
  });

  /** A new window (its own context: no shared storage or tabs) signed in as `user` of `groups`. */
  async function signedIn(user: string, groups: 'members' | 'readers', topic: string): Promise<Page> {
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(`${demo.origin}/chat.html?${new URLSearchParams({ tvm: tvmUrl, topic })}`);
    await page.evaluate(() => (window as unknown as ChatWindow).tvmChat.ready.then(() => true));
    await page.fill('#login-user', user);
    await page.selectOption('#login-groups', groups);
    await page.click('#btn-login');
    await page.waitForFunction(
      () => (window as unknown as ChatWindow).tvmChat.events.some((e) => e.type === 'subscribed'),
      undefined,
      { timeout: 15_000 },
    );
    return page;
  }

  const messagesOf = (page: Page) => page.evaluate(() => (window as unknown as ChatWindow).tvmChat.messages);
  const waitForMessages = (page: Page, n: number) =>
    page.waitForFunction((count) => (window as unknown as ChatWindow).tvmChat.messages.length >= count, n, {
      timeout: 10_000,
    });

  /** Clicks `button` and returns the cache status line once it has changed. */
  async function kvStatusAfter(page: Page, button: string): Promise<string> {
    const before = await page.textContent('#kv-status');
    await page.click(button);
    await page.waitForFunction((text) => document.getElementById('kv-status')?.textContent !== text, before, {
      timeout: 10_000,
    });
    return (await page.textContent('#kv-status')) ?? '';
  }

  async function say(page: Page, text: string): Promise<void> {
    await page.fill('#message', text);
    await page.click('#btn-send');
  }

  it("carries a member's messages to a reader's window; the reader's publish is refused with PERMISSION_ERROR", async () => {
    // Prepare
    const alice = await signedIn('alice', 'members', 'chat-flow');
    const rita = await signedIn('rita', 'readers', 'chat-flow');

    // Act
    await say(alice, 'hello rita');
    await waitForMessages(rita, 1);
    await say(rita, 'hello alice');
    await rita.waitForSelector('#send-status[data-state="error"]');
    await say(alice, 'still there?');
    await waitForMessages(alice, 2);
    await waitForMessages(rita, 2);

    // Assess: both windows saw exactly alice's two messages, in order, with alice's tokenId as the publisher.
    const seen = await messagesOf(rita);
    expect(seen.map((m) => [m.from, m.text])).toEqual([
      ['alice', 'hello rita'],
      ['alice', 'still there?'],
    ]);
    expect(seen[1]!.seq).toBe(seen[0]!.seq + 1);
    expect(seen[0]!.publisher).toMatch(/^[0-9a-f-]{36}$/);
    expect((await messagesOf(alice)).map((m) => m.text)).toEqual(['hello rita', 'still there?']);
    expect(await rita.textContent('#send-status')).toMatch(/^publish refused: PERMISSION_ERROR: .*chat-flow/);
    expect(await rita.evaluate(() => (window as unknown as ChatWindow).tvmChat.events)).toContainEqual(
      expect.objectContaining({ type: 'publish-error', code: 'PERMISSION_ERROR' }),
    );
    expect(await alice.textContent('#send-status')).toBe('sent');
  }, 60_000);

  it("lets a member write its own user/{sub}/ key and read others', but not write another user's", async () => {
    // Prepare
    const alice = await signedIn('alice', 'members', 'chat-keys');
    const bob = await signedIn('bob', 'members', 'chat-keys');
    const aliceKey = await alice.inputValue('#kv-key');
    const bobKey = await bob.inputValue('#kv-key');
    expect(aliceKey).toMatch(/^user\/[0-9a-f-]{36}\/status$/);
    expect(bobKey).not.toBe(aliceKey);

    // Act & Assess: alice writes her own key.
    await alice.fill('#kv-value', 'at lunch');
    expect(await kvStatusAfter(alice, '#btn-set')).toBe(`set ${aliceKey} = "at lunch"`);

    // bob may read it (member: readonly on the whole cache)…
    await bob.fill('#kv-key', aliceKey);
    expect(await kvStatusAfter(bob, '#btn-get')).toBe(`${aliceKey} = "at lunch"`);

    // …but not write it, nor a made-up user's key.
    await bob.fill('#kv-value', 'hijacked');
    expect(await kvStatusAfter(bob, '#btn-set')).toMatch(new RegExp(`^set ${aliceKey} refused: PERMISSION_ERROR: `));
    await bob.click('#btn-other-key');
    expect(await kvStatusAfter(bob, '#btn-set')).toMatch(/^set user\/someone-else\/status refused: PERMISSION_ERROR: /);

    // alice's value is unchanged.
    expect(await kvStatusAfter(alice, '#btn-get')).toBe(`${aliceKey} = "at lunch"`);
  }, 60_000);
});
