/**
 * `npm run dev` supports revocation with the same code: the dev server starts a local table (dynalite) and the
 * revoke CLI, pointed at it with the environment the server prints, takes alice's access away; a web page cannot
 * give it back (the table answers only local tools: no `Origin`, a local `Host`).
 */
import * as http from 'node:http';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import tvmConfig from '../../config/tvm.config';
import { startDevServer, type DevServer } from '../../dev/server';
import { run as revokeCli } from '../../scripts/revoke';

let dev: DevServer;
const lines: string[] = [];

interface Answer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** One raw request to the local table (Host included: fetch would not let us set it). */
function ask(endpoint: string, method: string, headers: Record<string, string>, body = ''): Promise<Answer> {
  const { hostname, port } = new URL(endpoint);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, path: '/', method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject).end(body);
  });
}

/** The environment the dev server printed for the revoke CLI. */
function printedEnv(): Record<string, string> {
  const hint = lines.find((l) => l.includes('npm run revoke'));
  expect(hint).toBeDefined();
  return Object.fromEntries([...hint!.matchAll(/([A-Z_]+)=(\S+)/g)].map((m) => [m[1]!, m[2]!]));
}

beforeAll(async () => {
  dev = await startDevServer({
    config: { ...tvmConfig, revocation: { cacheSeconds: 0 } },
    port: 0,
    demoPort: -1,
    momentoApiKey: undefined,
    log: (l) => void lines.push(l),
  });
});
afterAll(() => dev.close());

describe('Dev server: revocation', () => {
  it('prints how to revoke, and a revocation written with that environment refuses the next request', async () => {
    const env = printedEnv();
    expect(env).toMatchObject({
      TVM_REVOCATION_TABLE: 'tvm-revocations',
      AWS_ENDPOINT_URL_DYNAMODB: expect.any(String),
    });

    const idToken = dev.login('alice', ['admins']);
    const get = () => fetch(dev.tokenUrl, { headers: { Authorization: idToken } });
    expect((await get()).status).toBe(200);
    const sub = lines.map((l) => / 200 (\S+) tiers=admin/.exec(l)?.[1]).find(Boolean);
    expect(sub).toBeDefined();

    const out: string[] = [];
    const ddb = new DynamoDBClient({
      endpoint: env.AWS_ENDPOINT_URL_DYNAMODB,
      region: env.AWS_REGION,
      credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! },
    });
    const settings = {
      cacheSeconds: 0,
      maxTokenTtlSeconds: 3600,
      maxCredentialLifetimeSeconds: 86400,
      mode: 'cognito' as const,
      tokenIdClaim: 'sub',
    };
    // The local issuer's ID token has iat = now (whole seconds); revoke one second later so it is "before".
    const code = await revokeCli([`cognito:${sub}`], ddb, { out: (l) => out.push(l), err: (l) => out.push(l) }, env, {
      settings,
      nowSeconds: () => Date.now() / 1000 + 1,
    });
    expect(code).toBe(0);
    const refused = await get();
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ code: 'revoked' });
  });

  describe('the local table answers only local tools', () => {
    // What a page on another origin would send to lift the revocation: dynalite checks no signature, so any
    // Authorization value passes, and it answers CORS preflights with Access-Control-Allow-Origin: *.
    const deleteItem = (sub: string) =>
      JSON.stringify({ TableName: 'tvm-revocations', Key: { principal: { S: `cognito:${sub}` } } });
    const amzHeaders = {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': 'DynamoDB_20120810.DeleteItem',
      'x-amz-date': '20261207T000000Z',
      authorization:
        'AWS4-HMAC-SHA256 Credential=local/20261207/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=x',
    };

    it('refuses a cross-site DeleteItem and its preflight from a page Origin (403), and the revocation holds', async () => {
      // Prepare: alice is revoked (the test above)
      const { AWS_ENDPOINT_URL_DYNAMODB: endpoint } = printedEnv();
      const host = new URL(endpoint!).host;
      const sub = lines.map((l) => / 200 (\S+) tiers=admin/.exec(l)?.[1]).find(Boolean)!;

      // Act
      const preflight = await ask(endpoint!, 'OPTIONS', {
        host,
        origin: 'https://evil.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type,x-amz-target',
      });
      const lift = await ask(
        endpoint!,
        'POST',
        { host, origin: 'https://evil.example', ...amzHeaders },
        deleteItem(sub),
      );

      // Assess
      for (const res of [preflight, lift]) {
        expect(res.status).toBe(403);
        expect(res.headers['access-control-allow-origin']).toBeUndefined();
        expect(res.headers['content-type']).toBe('application/problem+json');
        expect(JSON.parse(res.body)).toMatchObject({ status: 403, code: 'origin-not-allowed' });
      }
      const still = await fetch(dev.tokenUrl, { headers: { Authorization: dev.login('alice', ['admins']) } });
      expect(still.status).toBe(403);
      expect(await still.json()).toMatchObject({ code: 'revoked' });
    });

    it.each(['rebind.attacker.example', 'rebind.attacker.example:PORT', 'localhost:1'])(
      'refuses Host %s (DNS rebinding) with 403 host-not-allowed',
      async (foreign) => {
        const { AWS_ENDPOINT_URL_DYNAMODB: endpoint } = printedEnv();
        const port = new URL(endpoint!).port;
        const res = await ask(
          endpoint!,
          'POST',
          { host: foreign.replace('PORT', port), ...amzHeaders },
          deleteItem('x'),
        );
        expect(res.status).toBe(403);
        expect(JSON.parse(res.body)).toMatchObject({ code: 'host-not-allowed' });
      },
    );

    it('still answers a local tool: the same DeleteItem without Origin, to 127.0.0.1, lifts the revocation', async () => {
      const { AWS_ENDPOINT_URL_DYNAMODB: endpoint } = printedEnv();
      const sub = lines.map((l) => / 200 (\S+) tiers=admin/.exec(l)?.[1]).find(Boolean)!;
      const res = await ask(endpoint!, 'POST', { host: new URL(endpoint!).host, ...amzHeaders }, deleteItem(sub));
      expect(res.status).toBe(200);
      const after = await fetch(dev.tokenUrl, { headers: { Authorization: dev.login('alice', ['admins']) } });
      expect(after.status).toBe(200);
    });
  });
});
