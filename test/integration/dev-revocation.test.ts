/**
 * `npm run dev` supports revocation with the same code: the dev server starts a local table (dynalite) and the
 * revoke CLI, pointed at it with the environment the server prints, takes alice's access away.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import tvmConfig from '../../config/tvm.config';
import { startDevServer, type DevServer } from '../../dev/server';
import { run as revokeCli } from '../../scripts/revoke';

let dev: DevServer;
const lines: string[] = [];

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
    const hint = lines.find((l) => l.includes('npm run revoke'));
    expect(hint).toBeDefined();
    const env = Object.fromEntries([...hint!.matchAll(/([A-Z_]+)=(\S+)/g)].map((m) => [m[1]!, m[2]!])) as Record<
      string,
      string
    >;
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
      issueTimeForwarded: true,
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
});
