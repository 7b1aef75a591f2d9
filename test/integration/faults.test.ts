/**
 * Faults: the real vending handler + the real gRPC minter + the fake Momento (TLS via the CONNECT
 * proxy), with the key read by the production `secretsManagerKeySource` from a Secrets Manager stub that checks
 * each request's SigV4 signature (AWS_ENDPOINT_URL_SECRETS_MANAGER). Each fault: status, Retry-After, problem code, and time to answer. A short deadline
 * (500 ms) keeps it fast; the token cache is off so every request reaches Momento.
 *
 * Prints a fault table at the end (no token or key ever goes into it).
 */
import tvmConfig from '../../config/tvm.config';
import { SECRET_READ_TIMEOUT_MS } from '../../common/secret-reader';
import { fakeV2ApiKey, type LocalMomento } from '../../dev/fake-momento';
import { secretsManagerKeySource } from '../../lambda/momento';
import { cognitoAuthorizer, tokenEvent } from '../support/events';
import {
  call,
  configFor,
  container,
  startMomento,
  startSecretsManager,
  type Answer,
  type Container,
  type SecretsManagerBehavior,
  type SecretsManagerStub,
} from './harness';

const DEADLINE_MS = 500;
/** Scheduling slack on a busy 2-core machine: an answer must come within deadline + this. */
const MARGIN_MS = 400;
const SECRET_ID = 'tvm/integration/momento-api-key';
const CONFIG = configFor(tvmConfig, {
  tokenCache: { enabled: false },
  momento: { deadlineMs: DEADLINE_MS },
});
const SUB = '7d3f1c2a-5b6e-4f80-9a1b-2c3d4e5f6a7b';
const event = () => tokenEvent({ authorizer: cognitoAuthorizer(SUB, ['members']) });

let local: LocalMomento;
let stub: SecretsManagerStub;
let key: string;
const containers: Container[] = [];
const table: Array<{ fault: string; status: number; code: string; retryAfter: string; ms: number }> = [];

beforeAll(async () => {
  local = await startMomento();
  // What Lambda gives the function: region, the role's credentials; the endpoint variable points at the stub.
  stub = await startSecretsManager(SECRET_ID, { value: fakeV2ApiKey() });
});
afterAll(async () => {
  for (const c of containers) c.minter.close();
  await stub.close();
  await local.close();
  const rows = table.map(
    (r) =>
      `${r.fault.padEnd(58)} → ${String(r.status).padEnd(4)}${r.code.padEnd(22)}${r.retryAfter.padEnd(5)}${r.ms.toFixed(0).padStart(5)} ms`,
  );
  console.log(
    [
      `fault table (deadlineMs ${DEADLINE_MS})`,
      `${'fault'.padEnd(58)} → status code${' '.repeat(17)}R-A  time`,
      ...rows,
    ].join('\n'),
  );
});
beforeEach(() => {
  key = fakeV2ApiKey();
  stub.set(SECRET_ID, { value: key });
  local.fake.received.length = 0;
  local.fake.setBehavior('ok');
  local.fake.setAcceptedKeys([key]);
});

/** A cold container, exactly as lambda/handler.ts builds it (secretsManagerKeySource({ secretId }), env as in Lambda). */
async function coldContainer(): Promise<Container> {
  const c = await container(CONFIG, secretsManagerKeySource({ secretId: SECRET_ID }));
  containers.push(c);
  return c;
}

/** A container that has served one request (warm connection, key cached). */
async function warmContainer(): Promise<Container> {
  const c = await coldContainer();
  const first = await call(c.handler, event());
  expect(first.status).toBe(200);
  local.fake.received.length = 0;
  return c;
}

function row(fault: string, a: Answer): Answer {
  table.push({
    fault,
    status: a.status,
    code: typeof a.body.code === 'string' ? a.body.code : '-',
    retryAfter: a.headers['Retry-After'] ?? '-',
    ms: a.ms,
  });
  return a;
}

/** A problem answer with this status and code (and Retry-After when given; none otherwise). */
function expectProblem(a: Answer, status: number, code: string, retryAfter?: string): void {
  expect({ status: a.status, code: a.body.code, retryAfter: a.headers['Retry-After'] }).toEqual({
    status,
    code,
    retryAfter,
  });
  expect(a.headers['Content-Type']).toBe('application/problem+json');
  expect(a.body).not.toHaveProperty('authToken');
  // 5xx details are our fixed words, never the upstream's text or the key.
  expect(JSON.stringify(a.body)).not.toContain(key);
  expect(JSON.stringify(a.body)).not.toContain('fake Momento');
}

describe('Faults: Momento', () => {
  it('baseline: a healthy call is a 200 well inside the deadline', async () => {
    const c = await coldContainer();
    const a = row('none (healthy)', await call(c.handler, event()));
    expect(a.status).toBe(200);
    expect(a.ms).toBeLessThan(DEADLINE_MS);
    expect(stub.reads.at(-1)?.secretId).toBe(SECRET_ID);
    expect(stub.refused).toEqual([]); // target, session token and SigV4 signature all checked
  });

  it('Momento hangs → 503 momento-timeout at the deadline; the next call opens a fresh connection and succeeds', async () => {
    // Prepare
    const c = await warmContainer();
    const connectionsBefore = local.proxy.connections;
    local.fake.setBehavior(['hang', 'ok']);

    // Act
    const timedOut = row('Momento hangs', await call(c.handler, event()));
    const next = await call(c.handler, event());

    // Assess
    expectProblem(timedOut, 503, 'momento-timeout', '2');
    expect(timedOut.ms).toBeGreaterThanOrEqual(DEADLINE_MS - 10);
    expect(timedOut.ms).toBeLessThan(DEADLINE_MS + MARGIN_MS);
    expect(next.status).toBe(200);
    expect(local.proxy.connections).toBe(connectionsBefore + 1);
    expect(local.fake.received.map((r) => r.behavior)).toEqual(['hang', 'ok']); // a timeout is not retried
  });

  it('Momento slow but within the deadline → 200', async () => {
    const c = await warmContainer();
    local.fake.setBehavior({ delayMs: 250 });
    const a = row('Momento delays 250 ms (< deadline)', await call(c.handler, event()));
    expect(a.status).toBe(200);
    expect(a.ms).toBeGreaterThanOrEqual(240);
    expect(a.ms).toBeLessThan(DEADLINE_MS);
  });

  it('UNAVAILABLE once → 200 after one retry (Momento received 2 calls)', async () => {
    const c = await warmContainer();
    local.fake.setBehavior([{ code: 14 }, 'ok']);
    const a = row('UNAVAILABLE once', await call(c.handler, event()));
    expect(a.status).toBe(200);
    expect(local.fake.received.map((r) => r.behavior)).toEqual([{ code: 14 }, 'ok']);
    expect(c.telemetry.notes.map((n) => n.type)).toContain('retry');
  });

  it('UNAVAILABLE twice → 503 momento-unavailable + Retry-After', async () => {
    const c = await warmContainer();
    local.fake.setBehavior([{ code: 14 }, { code: 14 }, 'ok']);
    const a = row('UNAVAILABLE twice', await call(c.handler, event()));
    expectProblem(a, 503, 'momento-unavailable', '2');
    expect(local.fake.received).toHaveLength(2);
    expect(a.ms).toBeLessThan(DEADLINE_MS);
  });

  it('RESOURCE_EXHAUSTED (auth rate limit) → 429 momento-throttled + Retry-After, not retried', async () => {
    const c = await warmContainer();
    local.fake.setBehavior([{ code: 8, details: 'rate limited' }]);
    const a = row('RESOURCE_EXHAUSTED', await call(c.handler, event()));
    expectProblem(a, 429, 'momento-throttled', '1');
    expect(local.fake.received).toHaveLength(1);
  });

  it('UNAUTHENTICATED, secret rotated meanwhile → 200 after exactly one secret re-read', async () => {
    // Prepare: the container cached the old key; the secret and Momento now hold a new one.
    const c = await warmContainer();
    const oldKey = key;
    const rotated = fakeV2ApiKey();
    stub.set(SECRET_ID, { value: rotated });
    local.fake.setAcceptedKeys([rotated]);
    const readsBefore = stub.reads.length;

    // Act
    const a = row('UNAUTHENTICATED, secret rotated', await call(c.handler, event()));
    const again = await call(c.handler, event());

    // Assess: compared, never printed.
    expect(a.status).toBe(200);
    expect(again.status).toBe(200);
    expect(stub.reads.length - readsBefore).toBe(1);
    const sent = local.fake.received.map((r) =>
      r.authToken === oldKey ? 'old' : r.authToken === rotated ? 'rotated' : 'other',
    );
    expect(sent).toEqual(['old', 'rotated', 'rotated']);
    expect(c.telemetry.notes.map((n) => n.type)).toContain('key-reloaded');
  });

  it('UNAUTHENTICATED, same secret → 502 momento-auth after one re-read; the function keeps serving', async () => {
    // Prepare: Momento no longer accepts the key the secret holds (revoked).
    const c = await warmContainer();
    local.fake.setAcceptedKeys([fakeV2ApiKey()]);
    const readsBefore = stub.reads.length;

    // Act
    const a = row('UNAUTHENTICATED, same secret', await call(c.handler, event()));
    const readsAfterFailure = stub.reads.length;
    local.fake.setAcceptedKeys([key]); // the operator fixes it on Momento's side
    const recovered = await call(c.handler, event());

    // Assess
    expectProblem(a, 502, 'momento-auth');
    expect(readsAfterFailure - readsBefore).toBe(1);
    expect(local.fake.received[0]?.behavior).toEqual({ code: 16, details: 'Invalid signature' });
    expect(recovered.status).toBe(200);
    expect(stub.reads.length).toBe(readsAfterFailure); // the re-read value is cached again: no crash loop, no read storm
  });

  it('PERMISSION_DENIED → 502 momento-auth', async () => {
    const c = await warmContainer();
    local.fake.setBehavior([{ code: 7 }]);
    const readsBefore = stub.reads.length;
    const a = row('PERMISSION_DENIED', await call(c.handler, event()));
    expectProblem(a, 502, 'momento-auth');
    expect(stub.reads.length - readsBefore).toBe(1);
    expect(local.fake.received).toHaveLength(1);
  });

  it('INVALID_ARGUMENT → 502 momento-rejected, no retry, no re-read', async () => {
    const c = await warmContainer();
    local.fake.setBehavior([{ code: 3, details: 'nope' }]);
    const readsBefore = stub.reads.length;
    const a = row('INVALID_ARGUMENT', await call(c.handler, event()));
    expectProblem(a, 502, 'momento-rejected');
    expect(stub.reads.length).toBe(readsBefore);
    expect(local.fake.received).toHaveLength(1);
  });

  it('connection reset mid-call → 200 through the one retry', async () => {
    const c = await warmContainer();
    local.fake.setBehavior(['reset', 'ok']);
    const a = row('connection reset mid-call', await call(c.handler, event()));
    expect(a.status).toBe(200);
    expect(a.ms).toBeLessThan(DEADLINE_MS);
    expect(local.fake.received).toHaveLength(2);
  });

  it('connections reset between calls (Lambda freeze) → next call 200 or a fast 503, never a hang', async () => {
    // Prepare
    const c = await warmContainer();
    const before = local.proxy.connections;
    local.proxy.destroyAll();
    await new Promise((r) => setTimeout(r, 20));

    // Act
    const a = row('connections reset between calls (freeze)', await call(c.handler, event()));
    const next = await call(c.handler, event());

    // Assess
    expect([200, 503]).toContain(a.status);
    if (a.status === 503) expect(a.headers['Retry-After']).toBe('2');
    expect(a.ms).toBeLessThan(DEADLINE_MS);
    expect(next.status).toBe(200);
    expect(local.proxy.connections).toBeGreaterThan(before);
  });

  it('black-holed connection → 503 momento-timeout within the deadline, then 200 on a fresh connection', async () => {
    // Prepare
    const c = await warmContainer();
    const before = local.proxy.connections;
    local.proxy.blackholeAll();

    // Act
    const a = row('connection black-holed', await call(c.handler, event()));
    const next = await call(c.handler, event());

    // Assess: the lost call never reached Momento.
    expectProblem(a, 503, 'momento-timeout', '2');
    expect(a.ms).toBeLessThan(DEADLINE_MS + MARGIN_MS);
    expect(next.status).toBe(200);
    expect(local.fake.received).toHaveLength(1);
    expect(local.proxy.connections).toBe(before + 1);
  });
});

describe('Faults: the secret (Secrets Manager GetSecretValue)', () => {
  it.each<[string, SecretsManagerBehavior, string]>([
    ['secret missing (ResourceNotFoundException)', 'not-found', 'secret-missing'],
    ['secret never given a value (no AWSCURRENT)', 'no-value', 'secret-empty'],
    ['secret empty (SecretString "")', { value: '' }, 'secret-empty'],
    ['secret is not a Momento key', { value: 'not-a-momento-key' }, 'momento-key-invalid'],
    ['role may not read it (AccessDeniedException)', 'access-denied', 'secret-unreadable'],
    ['KMS cannot decrypt it (DecryptionFailure)', 'decryption-failure', 'secret-unreadable'],
  ])('%s → 500 with its reason; after the fix the same handler serves 200', async (fault, behavior, code) => {
    // Prepare: a cold start with the secret broken.
    stub.set(SECRET_ID, behavior);
    const c = await coldContainer();

    // Act
    const broken = row(fault, await call(c.handler, event()));
    const stillBroken = await call(c.handler, event());
    stub.set(SECRET_ID, { value: key }); // the operator puts the key in
    const fixed = await call(c.handler, event());

    // Assess: a clear 500 each time (no crash, no cached failure), then service.
    expectProblem(broken, 500, code);
    expectProblem(stillBroken, 500, code);
    // The reason names the secret: it is for the operator's log, not for the caller.
    expect(JSON.stringify(broken.body)).not.toContain(SECRET_ID);
    expect(fixed.status).toBe(200);
    expect(local.fake.received).toHaveLength(1);
    const logged = c.telemetry.events.filter((e) => e.status === 500);
    expect(logged.map((e) => e.code)).toEqual([code, code]);
    expect(logged[0]?.reason).toContain(code === 'momento-key-invalid' ? 'Momento API key' : SECRET_ID);
  });

  it.each<[string, SecretsManagerBehavior, RegExp]>([
    ['Secrets Manager throttles (ThrottlingException)', 'throttled', /throttled: ThrottlingException/],
    ['Secrets Manager fails (HTTP 500)', 'server-error', /server: InternalServiceError/],
    ['Secrets Manager drops the connection', 'drop', /connection/],
  ])('%s → 503 secret-unavailable + Retry-After; the next request serves 200', async (fault, behavior, reason) => {
    // Prepare
    stub.set(SECRET_ID, behavior);
    const c = await coldContainer();

    // Act
    const down = row(fault, await call(c.handler, event()));
    stub.set(SECRET_ID, { value: key });
    const back = await call(c.handler, event());

    // Assess: passing trouble is not the operator's misconfiguration, and it is not cached.
    expectProblem(down, 503, 'secret-unavailable', '1');
    expect(JSON.stringify(down.body)).not.toContain(SECRET_ID);
    expect(down.ms).toBeLessThan(DEADLINE_MS);
    expect(back.status).toBe(200);
    expect(local.fake.received).toHaveLength(1);
    // The operator's audit line says what went wrong and with which secret.
    const audited = c.telemetry.events.find((e) => e.status === 503);
    expect(audited).toMatchObject({ code: 'secret-unavailable' });
    expect(audited?.reason).toMatch(reason);
    expect(audited?.reason).toContain(SECRET_ID);
  });

  it('Secrets Manager hangs → 503 secret-unavailable after the read timeout (2 s), not a Lambda timeout', async () => {
    // Prepare
    stub.set(SECRET_ID, 'hang');
    const c = await coldContainer();

    // Act
    const down = row('Secrets Manager hangs', await call(c.handler, event()));

    // Assess
    expectProblem(down, 503, 'secret-unavailable', '1');
    expect(down.ms).toBeGreaterThanOrEqual(SECRET_READ_TIMEOUT_MS - 50);
    expect(down.ms).toBeLessThan(SECRET_READ_TIMEOUT_MS + MARGIN_MS);
  });

  it('Secrets Manager unreachable → 503 secret-unavailable; when it is back the same handler serves 200', async () => {
    // Prepare
    await stub.stop();
    let c: Container;
    try {
      c = await coldContainer();
      // Act
      const down = row('Secrets Manager unreachable', await call(c.handler, event()));
      // Assess
      expectProblem(down, 503, 'secret-unavailable', '1');
      expect(down.ms).toBeLessThan(DEADLINE_MS);
    } finally {
      await stub.restart();
    }
    const back = await call(c.handler, event());
    expect(back.status).toBe(200);
  });
});
