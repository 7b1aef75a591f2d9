import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { startDemoServer, WEB_SDK_PATH, type DemoServer } from '../../dev/demo-server';

describe('Function: startDemoServer', () => {
  let dir: string;
  let demo: DemoServer;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tvm-demo-server-'));
    const clientFile = path.join(dir, 'tvm-client.js');
    fs.writeFileSync(clientFile, 'export {};\n');
    demo = await startDemoServer({ port: 0, clientFile });
  });

  afterAll(async () => {
    await demo.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('serves the page with a policy that loads scripts from this origin only (no ?client=https://elsewhere)', async () => {
    const res = await fetch(`${demo.origin}/?client=https://evil.example/x.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(
      res.headers
        .get('content-security-policy')
        ?.split(';')
        .map((d) => d.trim()),
    ).toContain("script-src 'self'");
  });

  it('answers only Host localhost / 127.0.0.1 / [::1] at its own port (DNS rebinding): 403 otherwise', async () => {
    // Prepare
    const ask = (host: string) =>
      new Promise<number>((resolve, reject) =>
        http
          .request({ host: '127.0.0.1', port: demo.port, path: '/', headers: { host } }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          })
          .on('error', reject)
          .end(),
      );

    // Act & Assess
    expect(await ask('rebind.attacker.example')).toBe(403);
    expect(await ask(`rebind.attacker.example:${demo.port}`)).toBe(403);
    expect(await ask(`localhost:${demo.port + 1}`)).toBe(403);
    expect(await ask(`localhost:${demo.port}`)).toBe(200);
    expect(await ask(`127.0.0.1:${demo.port}`)).toBe(200);
    expect(await ask(`[::1]:${demo.port}`)).toBe(200);
  });

  it('serves only its fixed files', async () => {
    expect((await fetch(`${demo.origin}/client/tvm-client.js`)).status).toBe(200);
    expect((await fetch(`${demo.origin}/../package.json`)).status).toBe(404);
    expect((await fetch(`${demo.origin}/demo/index.html`)).status).toBe(404);
  });

  it('serves the chat page and its script', async () => {
    const page = await fetch(`${demo.origin}/chat.html`);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<script type="module" src="\.\/chat\.js">/);
    const script = await fetch(`${demo.origin}/chat.js`);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
  });

  it('serves @gomomento/sdk-web bundled into one ES module (built by esbuild on first request)', async () => {
    const res = await fetch(`${demo.origin}${WEB_SDK_PATH}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const body = await res.text();
    // An ES module exporting what the chat page uses (tested on the text: a failure must not print 1.5 MB).
    expect(/export\s*\{[^}]*\bas TopicClient\b/.test(body)).toBe(true);
    expect(/\bas CredentialProvider\b/.test(body)).toBe(true);
    expect(/\bas CacheClient\b/.test(body)).toBe(true);
  }, 30_000);
});
