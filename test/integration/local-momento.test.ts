/**
 * The local Momento data plane (dev/local-momento) on the wire, with hand-built grpc-web frames and the messages
 * the Web SDK itself uses (`@gomomento/generated-types-webtext`): frames and trailers, CORS, the Host lock, 4xx
 * problems for what is not grpc-web, enforcement statuses, and the subscribe stream (heartbeat, sequence numbers,
 * resume, discontinuity, publisher token id, expiry, the drop hook). Tokens come from the fake token service
 * (dev/fake-momento) through the production minter, with the data plane's issuer plugged in.
 */
import * as http from 'node:http';
import * as cachePb from '@gomomento/generated-types-webtext/dist/cacheclient_pb';
import * as pubsubPb from '@gomomento/generated-types-webtext/dist/cachepubsub_pb';
import { FAKE_ENDPOINT, fakeV2ApiKey, startLocalMomento, type LocalMomento } from '../../dev/fake-momento';
import { startLocalDataPlane, type LocalDataPlane } from '../../dev/local-momento';
import { createGrpcMinter, staticKeySource, type GrpcMinter } from '../../lambda/momento';
import { decodeDisposableToken } from '../../lambda/momento/api-key';
import type { Grant } from '../../lambda/types';

const ORIGIN = 'http://localhost:5173';
let plane: LocalDataPlane;
let local: LocalMomento;
let minter: GrpcMinter;

beforeAll(async () => {
  plane = await startLocalDataPlane({ allowOrigins: [ORIGIN], historyPerTopic: 3, heartbeatMs: 200 });
  local = await startLocalMomento({ issueToken: plane.issueToken });
  Object.assign(process.env, local.env);
  minter = createGrpcMinter({ keySource: staticKeySource(fakeV2ApiKey()), endpoint: FAKE_ENDPOINT, deadlineMs: 2000 });
});
afterAll(async () => {
  minter.close();
  await local.close();
  await plane.close();
});

/** The `api_key` of a token minted through the fake token service for `grants`. */
async function mint(grants: readonly Grant[], tokenId = 'tester', ttlSeconds = 60): Promise<string> {
  const token = await minter.mint({ grants, ttlSeconds, tokenId });
  expect(token.endpoint).toBe(plane.endpoint);
  return decodeDisposableToken(token.authToken)!.apiKey;
}

interface Answer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly text: string;
}

/** One HTTP request to the data plane; `Host` can be set (fetch cannot). */
function request(
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: plane.port, path, method: options.method ?? 'POST', headers: options.headers },
      (res) => {
        let text = '';
        res.setEncoding('latin1');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** base64 of one uncompressed grpc-web frame around `message`, as the Web SDK sends it. */
const textBody = (message: Uint8Array): string => {
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  return frame.toString('base64');
};

interface Frames {
  readonly messages: Uint8Array[];
  readonly trailers: Record<string, string> | undefined;
  /** base64 segments, one per frame (each padded on its own). */
  readonly segments: number;
}

/** Decodes a grpc-web-text answer 4 characters at a time, as the grpc-web client does, into frames. */
function readFrames(text: string): Frames {
  const bytes: number[] = [];
  let segments = 0;
  for (let i = 0; i < text.length; i += 4) {
    const quad = text.slice(i, i + 4);
    if (quad.endsWith('=') || i + 4 >= text.length) segments += 1;
    bytes.push(...Buffer.from(quad, 'base64'));
  }
  const all = Buffer.from(bytes);
  const messages: Uint8Array[] = [];
  let trailers: Record<string, string> | undefined;
  for (let at = 0; at < all.length;) {
    const flag = all[at]!;
    const length = all.readUInt32BE(at + 1);
    const payload = all.subarray(at + 5, at + 5 + length);
    if (flag === 0x80) {
      trailers = Object.fromEntries(
        payload
          .toString('latin1')
          .split('\r\n')
          .filter(Boolean)
          .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1)]),
      );
    } else messages.push(payload);
    at += 5 + length;
  }
  return { messages, trailers, segments };
}

const grpcHeaders = (apiKey: string | undefined, cache?: string): Record<string, string> => ({
  'Content-Type': 'application/grpc-web-text',
  Accept: 'application/grpc-web-text',
  'X-Grpc-Web': '1',
  Origin: ORIGIN,
  ...(apiKey === undefined ? {} : { authorization: apiKey }),
  ...(cache === undefined ? {} : { cache }),
});

async function unary(path: string, message: { serializeBinary(): Uint8Array }, apiKey?: string, cache?: string) {
  const answer = await request(path, {
    headers: grpcHeaders(apiKey, cache),
    body: textBody(message.serializeBinary()),
  });
  return { answer, ...readFrames(answer.text) };
}

const getRequest = (key: string) => new cachePb._GetRequest().setCacheKey(Buffer.from(key));
const setRequest = (key: string, value: string) =>
  new cachePb._SetRequest().setCacheKey(Buffer.from(key)).setCacheBody(Buffer.from(value)).setTtlMilliseconds(60_000);
const publishRequest = (topic: string, text: string) =>
  new pubsubPb._PublishRequest().setCacheName('app').setTopic(topic).setValue(new pubsubPb._TopicValue().setText(text));

const RW_APP: Grant[] = [{ type: 'cache', cache: 'app', role: 'readwrite' }];

describe('grpc-web framing', () => {
  it('answers a unary call with 200, grpc-web-text, one message frame and a trailers frame, each base64 on its own', async () => {
    const key = await mint(RW_APP);
    const set = await unary('/cache_client.Scs/Set', setRequest('k', 'v'), key, 'app');
    expect(set.answer.status).toBe(200);
    expect(set.answer.headers['content-type']).toBe('application/grpc-web-text+proto');
    expect(set.trailers).toEqual({ 'grpc-status': '0', 'grpc-message': '' });

    const get = await unary('/cache_client.Scs/Get', getRequest('k'), key, 'app');
    expect(get.segments).toBe(2);
    expect(get.messages).toHaveLength(1);
    const reply = cachePb._GetResponse.deserializeBinary(get.messages[0]!);
    expect(reply.getResult()).toBe(cachePb.ECacheResult.HIT);
    expect(Buffer.from(reply.getCacheBody_asU8()).toString()).toBe('v');
    expect(get.trailers?.['grpc-status']).toBe('0');
  });

  it('reads the binary form (application/grpc-web+proto) too', async () => {
    const key = await mint(RW_APP);
    const message = getRequest('absent').serializeBinary();
    const body = Buffer.concat([Buffer.from([0, 0, 0, 0, message.length]), message]);
    const answer = await new Promise<{ type: string | undefined; bytes: Buffer }>((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port: plane.port,
          path: '/cache_client.Scs/Get',
          method: 'POST',
          headers: { 'Content-Type': 'application/grpc-web+proto', authorization: key, cache: 'app' },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ type: res.headers['content-type'], bytes: Buffer.concat(chunks) }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
    expect(answer.type).toBe('application/grpc-web+proto');
    const length = answer.bytes.readUInt32BE(1);
    expect(answer.bytes[0]).toBe(0);
    expect(cachePb._GetResponse.deserializeBinary(answer.bytes.subarray(5, 5 + length)).getResult()).toBe(
      cachePb.ECacheResult.MISS,
    );
    expect(answer.bytes[5 + length]).toBe(0x80);
  });

  it('answers an unknown method with UNIMPLEMENTED (12) in the trailers', async () => {
    const key = await mint(RW_APP);
    const r = await unary('/cache_client.Scs/DictionaryFetch', getRequest('k'), key, 'app');
    expect(r.answer.status).toBe(200);
    expect(r.messages).toHaveLength(0);
    expect(r.trailers?.['grpc-status']).toBe('12');
  });

  it.each([
    ['a non-grpc-web media type', { 'Content-Type': 'application/json' }, '{}', 415, 'unsupported-media-type'],
    ['a body that is not base64', { 'Content-Type': 'application/grpc-web-text' }, '!!!!', 400, 'bad-grpc-web-body'],
    [
      'a frame whose length lies',
      { 'Content-Type': 'application/grpc-web-text' },
      Buffer.from([0, 0, 0, 0, 9, 1]).toString('base64'),
      400,
      'bad-grpc-web-body',
    ],
  ])('refuses %s with a 4xx problem+json', async (_what, headers, body, status, code) => {
    const r = await request('/cache_client.Scs/Get', { headers: { ...headers, Origin: ORIGIN }, body });
    expect(r.status).toBe(status);
    expect(r.headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(r.text)).toMatchObject({ status, code });
  });

  it('refuses a GET with 405 and Allow', async () => {
    const r = await request('/cache_client.Scs/Get', { method: 'GET', headers: { Origin: ORIGIN } });
    expect(r.status).toBe(405);
    expect(r.headers.allow).toBe('POST, OPTIONS');
  });
});

describe('CORS and Host', () => {
  const preflight = (origin: string, headers = 'content-type,x-grpc-web,authorization,cache,agent') =>
    request('/cache_client.Scs/Get', {
      method: 'OPTIONS',
      headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': headers },
    });

  it('answers a preflight from an allowed origin with that origin (never *) and the headers asked for', async () => {
    const r = await preflight(ORIGIN);
    expect(r.status).toBe(204);
    expect(r.headers['access-control-allow-origin']).toBe(ORIGIN);
    expect(r.headers['access-control-allow-methods']).toBe('POST');
    expect(r.headers['access-control-allow-headers']).toBe('content-type, x-grpc-web, authorization, cache, agent');
    expect(r.headers.vary).toBe('Origin');
  });

  it('refuses a preflight from another origin, without CORS headers', async () => {
    const r = await preflight('http://evil.example');
    expect(r.status).toBe(403);
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
    expect(JSON.parse(r.text)).toMatchObject({ code: 'origin-not-allowed' });
  });

  it('refuses a preflight asking for a header the SDK never sends', async () => {
    const r = await preflight(ORIGIN, 'content-type,x-forwarded-for');
    expect(r.status).toBe(403);
    expect(JSON.parse(r.text).detail).toMatch(/x-forwarded-for/);
  });

  it('exposes grpc-status and grpc-message on calls from an allowed origin', async () => {
    const r = await unary('/cache_client.Scs/Get', getRequest('k'), await mint(RW_APP), 'app');
    expect(r.answer.headers['access-control-allow-origin']).toBe(ORIGIN);
    expect(r.answer.headers['access-control-expose-headers']).toBe('grpc-status, grpc-message');
  });

  it('refuses a call from a disallowed origin before running it', async () => {
    const key = await mint(RW_APP);
    const r = await request('/cache_client.Scs/Set', {
      headers: { ...grpcHeaders(key, 'app'), Origin: 'http://evil.example' },
      body: textBody(setRequest('planted', 'x').serializeBinary()),
    });
    expect(r.status).toBe(403);
    const get = await unary('/cache_client.Scs/Get', getRequest('planted'), key, 'app');
    expect(cachePb._GetResponse.deserializeBinary(get.messages[0]!).getResult()).toBe(cachePb.ECacheResult.MISS);
  });

  it.each(['rebind.attacker.example', 'localhost:1', 'localhost.evil.example'])(
    'refuses Host %s (DNS rebinding)',
    async (host) => {
      const r = await request('/cache_client.Scs/Get', {
        headers: { ...grpcHeaders(undefined), Host: host },
        body: '',
      });
      expect(r.status).toBe(403);
      expect(JSON.parse(r.text)).toMatchObject({ code: 'host-not-allowed' });
    },
  );

  it.each(['localhost', '127.0.0.1'])('serves Host %s at its port', async (name) => {
    const r = await request('/cache_client.Scs/Get', {
      headers: { ...grpcHeaders(undefined, 'app'), Host: `${name}:${plane.port}` },
      body: textBody(getRequest('k').serializeBinary()),
    });
    expect(r.status).toBe(200);
  });
});

describe('enforcement statuses', () => {
  const status = async (path: string, message: { serializeBinary(): Uint8Array }, key?: string, cache = 'app') =>
    (await unary(path, message, key, cache)).trailers?.['grpc-status'];

  it('UNAUTHENTICATED (16) without a token, for a real-looking Momento token, an expired and a forged one', async () => {
    const valid = await mint(RW_APP);
    const [head, claims, signature] = valid.split('.');
    const widened = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(claims!, 'base64url').toString()), grants: [{ type: 'superuser' }] }),
    ).toString('base64url');
    const expired = plane.issuer.issue({
      grants: [{ type: 'cache', cache: 'app', role: 'readwrite' }],
      expiresAt: Math.floor(Date.now() / 1000),
      tokenId: '',
    });
    const otherIssuer = (await import('../../dev/local-momento')).createTokenIssuer().issue({
      grants: [{ type: 'superuser' }],
      expiresAt: Math.floor(Date.now() / 1000) + 60,
      tokenId: '',
    });
    for (const key of [undefined, fakeV2ApiKey(), `${head}.${widened}.${signature}`, expired, otherIssuer])
      expect(await status('/cache_client.Scs/Get', getRequest('k'), key)).toBe('16');
    expect(await status('/cache_client.Scs/Get', getRequest('k'), valid)).toBe('0');
  });

  it.each<[string, Grant[], string, { serializeBinary(): Uint8Array }, string, string]>([
    [
      'readonly refuses a set',
      [{ type: 'cache', cache: 'app', role: 'readonly' }],
      '/cache_client.Scs/Set',
      setRequest('k', 'v'),
      'app',
      '7',
    ],
    [
      'readonly allows a get',
      [{ type: 'cache', cache: 'app', role: 'readonly' }],
      '/cache_client.Scs/Get',
      getRequest('k'),
      'app',
      '0',
    ],
    [
      'writeonly refuses a get',
      [{ type: 'cache', cache: 'app', role: 'writeonly' }],
      '/cache_client.Scs/Get',
      getRequest('k'),
      'app',
      '7',
    ],
    [
      'writeonly allows a delete',
      [{ type: 'cache', cache: 'app', role: 'writeonly' }],
      '/cache_client.Scs/Delete',
      new cachePb._DeleteRequest().setCacheKey(Buffer.from('k')),
      'app',
      '0',
    ],
    ['one cache refuses another', RW_APP, '/cache_client.Scs/Get', getRequest('k'), 'other', '7'],
    [
      'all caches allow any',
      [{ type: 'cache', cache: '*', role: 'readonly' }],
      '/cache_client.Scs/Get',
      getRequest('k'),
      'other',
      '0',
    ],
    [
      'one key refuses another',
      [{ type: 'cache', cache: 'app', role: 'readwrite', key: 'a' }],
      '/cache_client.Scs/Get',
      getRequest('ab'),
      'app',
      '7',
    ],
    [
      'a key prefix allows a key under it',
      [{ type: 'cache', cache: 'app', role: 'readwrite', keyPrefix: 'u/1/' }],
      '/cache_client.Scs/Set',
      setRequest('u/1/x', 'v'),
      'app',
      '0',
    ],
    [
      'a key prefix refuses a key outside',
      [{ type: 'cache', cache: 'app', role: 'readwrite', keyPrefix: 'u/1/' }],
      '/cache_client.Scs/Set',
      setRequest('u/2/x', 'v'),
      'app',
      '7',
    ],
    [
      'a topic grant refuses cache items',
      [{ type: 'topic', cache: 'app', role: 'publishsubscribe' }],
      '/cache_client.Scs/Get',
      getRequest('k'),
      'app',
      '7',
    ],
    [
      'a cache grant refuses a publish',
      RW_APP,
      '/cache_client.pubsub.Pubsub/Publish',
      publishRequest('t', 'x'),
      'app',
      '7',
    ],
    [
      'subscribeonly refuses a publish',
      [{ type: 'topic', cache: 'app', role: 'subscribeonly' }],
      '/cache_client.pubsub.Pubsub/Publish',
      publishRequest('t', 'x'),
      'app',
      '7',
    ],
    [
      'publishonly allows a publish',
      [{ type: 'topic', cache: 'app', role: 'publishonly' }],
      '/cache_client.pubsub.Pubsub/Publish',
      publishRequest('t', 'x'),
      'app',
      '0',
    ],
    [
      'one topic refuses another',
      [{ type: 'topic', cache: 'app', role: 'publishsubscribe', topic: 't' }],
      '/cache_client.pubsub.Pubsub/Publish',
      publishRequest('t2', 'x'),
      'app',
      '7',
    ],
    [
      'a topic prefix allows a topic under it',
      [{ type: 'topic', cache: 'app', role: 'publishonly', topicPrefix: 'chat-' }],
      '/cache_client.pubsub.Pubsub/Publish',
      publishRequest('chat-1', 'x'),
      'app',
      '0',
    ],
    [
      'a topic prefix refuses a topic outside',
      [{ type: 'topic', cache: 'app', role: 'publishonly', topicPrefix: 'chat-' }],
      '/cache_client.pubsub.Pubsub/Publish',
      publishRequest('news-1', 'x'),
      'app',
      '7',
    ],
  ])('%s', async (_what, grants, path, message, cache, expected) => {
    expect(await status(path, message, await mint(grants), cache)).toBe(expected);
  });

  it('KeysExist needs every key to be allowed', async () => {
    const key = await mint([{ type: 'cache', cache: 'app', role: 'readonly', keyPrefix: 'pub/' }]);
    const ask = (...keys: string[]) =>
      status(
        '/cache_client.Scs/KeysExist',
        new cachePb._KeysExistRequest().setCacheKeysList(keys.map((k) => Buffer.from(k))),
        key,
      );
    expect(await ask('pub/a', 'pub/b')).toBe('0');
    expect(await ask('pub/a', 'secret')).toBe('7');
  });

  it('PERMISSION_DENIED says what was refused, and never echoes the token', async () => {
    const key = await mint([{ type: 'cache', cache: 'app', role: 'readonly' }]);
    const r = await unary('/cache_client.Scs/Set', setRequest('user/x', 'v'), key, 'app');
    expect(r.trailers?.['grpc-message']).toBe('the token does not allow write key "user/x" in cache "app"');
    expect(r.answer.text).not.toContain(key);
  });
});

/** A subscribe stream read frame by frame. */
function subscribe(apiKey: string | undefined, topic: string, resumeAt = 0, page = 0) {
  const message = new pubsubPb._SubscriptionRequest()
    .setCacheName('app')
    .setTopic(topic)
    .setResumeAtTopicSequenceNumber(resumeAt)
    .setSequencePage(page)
    .serializeBinary();
  let text = '';
  let ended = false;
  let error = false;
  const req = http.request(
    {
      host: '127.0.0.1',
      port: plane.port,
      path: '/cache_client.pubsub.Pubsub/Subscribe',
      method: 'POST',
      headers: grpcHeaders(apiKey),
    },
    (res) => {
      res.setEncoding('latin1');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => (ended = true));
      res.on('error', () => (error = true));
      res.on('aborted', () => (error = true));
    },
  );
  req.on('error', () => (error = true));
  req.end(textBody(message));
  const items = () => readFrames(text).messages.map((m) => pubsubPb._SubscriptionItem.deserializeBinary(m));
  return {
    items,
    frames: () => readFrames(text),
    get ended() {
      return ended;
    },
    get broken() {
      return error;
    },
    close: () => req.destroy(),
    async until(check: () => boolean, timeoutMs = 3000) {
      const start = Date.now();
      while (!check()) {
        if (Date.now() - start > timeoutMs)
          throw new Error(`timed out; frames: ${JSON.stringify(items().map((i) => i.toObject()))}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
  };
}

describe('Subscribe', () => {
  const PUBSUB: Grant[] = [{ type: 'topic', cache: 'app', role: 'publishsubscribe' }];
  const publish = async (key: string, topic: string, n: number, from = 0) => {
    for (let i = 0; i < n; i++)
      expect(
        (await unary('/cache_client.pubsub.Pubsub/Publish', publishRequest(topic, `m${from + i}`), key)).trailers?.[
          'grpc-status'
        ],
      ).toBe('0');
  };
  const kinds = (s: ReturnType<typeof subscribe>) =>
    s
      .items()
      .map((i) =>
        i.hasHeartbeat()
          ? 'heartbeat'
          : i.hasItem()
            ? `item ${i.getItem()!.getTopicSequenceNumber()} ${i.getItem()!.getValue()!.getText()}`
            : `discontinuity ${i.getDiscontinuity()!.getLastTopicSequence()}→${i.getDiscontinuity()!.getNewTopicSequence()}`,
      );

  it('starts with a heartbeat, streams items with sequence numbers, the page and the publisher token id, and keeps beating', async () => {
    const key = await mint(PUBSUB, 'alice');
    const s = subscribe(key, 'stream-1');
    await s.until(() => s.items().length >= 1);
    expect(kinds(s)).toEqual(['heartbeat']);
    await publish(key, 'stream-1', 2);
    await s.until(() => s.items().filter((i) => i.hasItem()).length >= 2);
    const items = s
      .items()
      .filter((i) => i.hasItem())
      .map((i) => i.getItem()!);
    expect(items.map((i) => i.getTopicSequenceNumber())).toEqual([1, 2]);
    expect(items.map((i) => i.getPublisherId())).toEqual(['alice', 'alice']);
    expect(new Set(items.map((i) => i.getSequencePage())).size).toBe(1);
    expect(items[0]!.getSequencePage()).toBeGreaterThan(0);
    // heartbeatMs is 200 here.
    await s.until(() => s.items().filter((i) => i.hasHeartbeat()).length >= 3, 2000);
    s.close();
  });

  it('resumes after the last sequence number seen, and reports a discontinuity when the history no longer holds it', async () => {
    const key = await mint(PUBSUB);
    await publish(key, 'resume-1', 5); // history holds the last 3: 3, 4, 5
    const page = await (async () => {
      const s = subscribe(key, 'resume-1', 4);
      await s.until(() => s.items().length >= 3);
      expect(kinds(s)).toEqual(['heartbeat', 'item 4 m3', 'item 5 m4']);
      const p = s.items()[1]!.getItem()!.getSequencePage();
      s.close();
      return p;
    })();
    const gone = subscribe(key, 'resume-1', 2, page);
    await gone.until(() => gone.items().length >= 5);
    expect(kinds(gone)).toEqual(['heartbeat', 'discontinuity 1→2', 'item 3 m2', 'item 4 m3', 'item 5 m4']);
    expect(gone.items()[1]!.getDiscontinuity()!.getNewSequencePage()).toBe(page);
    gone.close();
    const otherPage = subscribe(key, 'resume-1', 4, page + 1000);
    await otherPage.until(() => otherPage.items().length >= 2);
    expect(kinds(otherPage)[1]).toBe('discontinuity 3→2');
    otherPage.close();
    const ahead = subscribe(key, 'resume-1', 9, page);
    await ahead.until(() => ahead.items().length >= 2);
    expect(kinds(ahead)).toEqual(['heartbeat', 'discontinuity 8→5']);
    ahead.close();
  });

  it('refuses a subscribe without permission with trailers only (no heartbeat)', async () => {
    const key = await mint([{ type: 'topic', cache: 'app', role: 'publishonly' }]);
    const s = subscribe(key, 'closed');
    await s.until(() => s.ended);
    expect(s.frames().messages).toHaveLength(0);
    expect(s.frames().trailers?.['grpc-status']).toBe('7');
  });

  it('ends an open stream with UNAUTHENTICATED when the token expires', async () => {
    const key = await mint(PUBSUB, 'short', 1);
    const s = subscribe(key, 'expiring');
    await s.until(() => s.ended, 3000);
    expect(s.frames().trailers).toMatchObject({ 'grpc-status': '16', 'grpc-message': 'Token has expired' });
  });

  it('dropSubscriptions: reset breaks the connection, end finishes with status 0', async () => {
    const key = await mint(PUBSUB);
    const a = subscribe(key, 'drop-1');
    await a.until(() => a.items().length >= 1);
    expect(plane.subscriptions).toBe(1);
    expect(plane.dropSubscriptions()).toBe(1);
    await a.until(() => a.broken || a.ended);
    expect(a.frames().trailers).toBeUndefined();
    expect(plane.subscriptions).toBe(0);

    const b = subscribe(key, 'drop-1');
    await b.until(() => b.items().length >= 1);
    expect(plane.dropSubscriptions('end')).toBe(1);
    await b.until(() => b.ended);
    expect(b.frames().trailers?.['grpc-status']).toBe('0');
  });

  it('forgets a stream whose client went away', async () => {
    const key = await mint(PUBSUB);
    const s = subscribe(key, 'gone');
    await s.until(() => s.items().length >= 1);
    expect(plane.subscriptions).toBe(1);
    s.close();
    const start = Date.now();
    while (plane.subscriptions > 0 && Date.now() - start < 2000) await new Promise((r) => setTimeout(r, 10));
    expect(plane.subscriptions).toBe(0);
  });
});
