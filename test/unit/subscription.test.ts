/**
 * subscribeWithRefresh against a scripted fake TopicClient and a fake token source, with jest's fake timers
 * (the backoff clock) and a fixed `random`. No network, no SDK.
 */
import {
  subscribeWithRefresh,
  SubscriptionError,
  TokenVendingError,
  type RefreshingSubscriptionOptions,
  type TokenClientEvent,
  type DisposableTokenCredentials,
  type TokenResponse,
  type TopicClientLike,
  type TopicErrorLike,
  type TopicGap,
  type TopicItemLike,
  type TopicSubscribeCallbacks,
} from '../../client/src/index';
import type { TopicClient } from '@gomomento/sdk-web';

/** Compile-time: the pinned Web SDK's `TopicClient` is assignable to the structural type (tsc fails if not). */
const SDK_TOPIC_CLIENT_FITS: TopicClient extends TopicClientLike ? true : never = true;

function token(n: number): TokenResponse {
  return {
    authToken: `tok-${n}`,
    expiresAt: 0,
    expiresIn: 60,
    endpoint: `cell-${n}.example.test`,
  } as unknown as TokenResponse;
}

class FakeTokens {
  current = token(1);
  getTokenError: unknown;
  private readonly listeners = new Set<(event: TokenClientEvent) => void>();
  getToken(): Promise<TokenResponse> {
    return this.getTokenError === undefined ? Promise.resolve(this.current) : Promise.reject(this.getTokenError);
  }
  subscribe(listener: (event: TokenClientEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  refresh(n: number): void {
    this.current = token(n);
    for (const l of this.listeners) l({ type: 'token', token: this.current });
  }
  emit(event: TokenClientEvent): void {
    for (const l of this.listeners) l(event);
  }
  get listenerCount(): number {
    return this.listeners.size;
  }
}

/** One stream the code under test opened. */
interface FakeStream {
  readonly authToken: string;
  readonly callbacks: TopicSubscribeCallbacks;
  unsubscribed: boolean;
  /** The SDK gave the stream up by itself (its handle's `isSubscribed` turns false). */
  givenUp: boolean;
  item(seq: number, value?: string): void;
}

function item(seq: number, value = `m${seq}`): TopicItemLike {
  return { value: () => value, sequenceNumber: () => seq };
}

function momentoError(code: string): TopicErrorLike {
  return { errorCode: () => code, message: () => `${code} from fake` };
}

/**
 * Every `subscribe` is recorded; `answer` scripts the answer to the next ones (a stream by default), and
 * `hold` keeps an answer pending until released, to observe the make-before-break window.
 */
class FakeTopics {
  readonly streams: FakeStream[] = [];
  readonly clientsFor: string[] = [];
  /** The whole TVM answer each client was built for (the factory's second argument). */
  readonly endpointsFor: string[] = [];
  answers: (TopicErrorLike | 'stream' | 'hold')[] = [];
  private held: (() => void)[] = [];

  readonly credentials: DisposableTokenCredentials[] = [];

  factory = (credentials: DisposableTokenCredentials, response: TokenResponse): TopicClientLike => {
    const { authToken } = credentials;
    this.credentials.push(credentials);
    this.clientsFor.push(authToken);
    this.endpointsFor.push(response.endpoint);
    return {
      subscribe: (_cache, _topic, callbacks) => {
        const stream: FakeStream = {
          authToken,
          callbacks,
          unsubscribed: false,
          givenUp: false,
          item: (seq, value) => callbacks.onItem(item(seq, value)),
        };
        this.streams.push(stream);
        const handle = {
          unsubscribe: () => (stream.unsubscribed = true),
          get isSubscribed() {
            return !stream.unsubscribed && !stream.givenUp;
          },
        };
        const answer = this.answers.shift() ?? 'stream';
        if (answer === 'stream') return Promise.resolve(handle);
        if (answer === 'hold') return new Promise((resolve) => this.held.push(() => resolve(handle)));
        return Promise.resolve(answer);
      },
    };
  };

  release(): void {
    const next = this.held.shift();
    if (next === undefined) throw new Error('nothing held');
    next();
  }

  get last(): FakeStream {
    const s = this.streams[this.streams.length - 1];
    if (s === undefined) throw new Error('no stream');
    return s;
  }

  at(i: number): FakeStream {
    const s = this.streams[i];
    if (s === undefined) throw new Error(`no stream ${i}`);
    return s;
  }
}

/** Lets promise callbacks run without moving the fake clock. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

function setup(extra: Partial<RefreshingSubscriptionOptions> = {}) {
  const tokens = new FakeTokens();
  const topics = new FakeTopics();
  const received: number[] = [];
  const gaps: TopicGap[] = [];
  const stops: SubscriptionError[] = [];
  const statuses: unknown[] = [];
  const sub = subscribeWithRefresh({
    tokens,
    createTopicClient: topics.factory,
    cacheName: 'chat',
    topicName: 'room',
    onItem: (i) => received.push(i.sequenceNumber()),
    onDiscontinuity: (g) => gaps.push(g),
    onStop: (e) => stops.push(e),
    onStatus: (s) => statuses.push(s),
    random: () => 0.5,
    backoff: { baseMs: 100, maxMs: 1000 },
    ...extra,
  });
  return { tokens, topics, received, gaps, stops, statuses, sub };
}

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

describe('Function: subscribeWithRefresh', () => {
  it('accepts the pinned @gomomento/sdk-web TopicClient (checked by tsc)', () => {
    expect(SDK_TOPIC_CLIENT_FITS).toBe(true);
  });

  it('opens one stream with the current token and delivers its items in order', async () => {
    const { topics, received, sub } = setup();
    await sub.ready;
    expect(topics.clientsFor).toEqual(['tok-1']);
    topics.last.item(1);
    topics.last.item(2);
    expect(received).toEqual([1, 2]);
    expect(sub.lastSequenceNumber).toBe(2);
    expect(topics.last.callbacks.resumeAtSequenceNumber).toBeUndefined();
  });

  it('builds each TopicClient from the whole token answer (credentials, and the endpoint for a factory that needs it)', async () => {
    const { tokens, topics, sub } = setup();
    await sub.ready;
    tokens.refresh(2);
    await settle();
    expect(topics.clientsFor).toEqual(['tok-1', 'tok-2']);
    expect(topics.endpointsFor).toEqual(['cell-1.example.test', 'cell-2.example.test']);
  });

  it('hands the factory credentials with the endpoint overrides of a local Momento (npm run dev)', async () => {
    const tokens = new FakeTokens();
    tokens.current = { ...token(1), endpoint: 'http://127.0.0.1:4555' };
    const topics = new FakeTopics();
    const sub = subscribeWithRefresh({
      tokens,
      createTopicClient: topics.factory,
      cacheName: 'chat',
      topicName: 'room',
      onItem: () => undefined,
    });
    await sub.ready;
    expect(topics.credentials[0]).toMatchObject({
      authToken: 'tok-1',
      endpointOverrides: { cacheEndpoint: 'http://127.0.0.1:4555', secureConnection: false },
    });
    sub.close();
  });

  it('moves to a refreshed token make-before-break: the old stream runs until the new one is open', async () => {
    const { tokens, topics, received, statuses, sub } = setup();
    await sub.ready;
    const old = topics.last;
    old.item(1);
    old.item(2);
    topics.answers = ['hold'];
    tokens.refresh(2);
    const next = topics.last;
    expect(next.authToken).toBe('tok-2');
    expect(next.callbacks.resumeAtSequenceNumber).toBe(3);
    // Still opening: the old stream keeps delivering and is not closed.
    old.item(3);
    topics.release();
    await settle();
    expect(old.unsubscribed).toBe(false);
    // The new stream overlaps (3 again): it continues the old one, so it takes over and the old one closes.
    next.item(3);
    expect(old.unsubscribed).toBe(true);
    expect(statuses).toContainEqual({ type: 'moved', overlapItems: 1 });
    next.item(4);
    old.item(5);
    next.item(5);
    expect(received).toEqual([1, 2, 3, 4, 5]);
  });

  it('keeps the old stream until it catches up with a new stream that is ahead, then replays the new one in order', async () => {
    // Two connections deliver independently: the new stream's first items can arrive before the old
    // stream's last ones.
    const { tokens, topics, received, gaps, sub } = setup();
    await sub.ready;
    const old = topics.last;
    old.item(1);
    tokens.refresh(2);
    await settle();
    const next = topics.last;
    next.item(3);
    next.item(4);
    expect(received).toEqual([1]);
    expect(old.unsubscribed).toBe(false);
    old.item(2);
    expect(old.unsubscribed).toBe(true);
    old.item(3);
    next.item(5);
    expect(received).toEqual([1, 2, 3, 4, 5]);
    expect(gaps).toEqual([]);
  });

  it('lets the new stream take over after moveTimeoutMs on a quiet topic', async () => {
    const { tokens, topics, statuses, sub } = setup({ moveTimeoutMs: 2_000 });
    await sub.ready;
    const old = topics.last;
    tokens.refresh(2);
    await settle();
    await jest.advanceTimersByTimeAsync(1_999);
    expect(old.unsubscribed).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    expect(old.unsubscribed).toBe(true);
    expect(statuses).toContainEqual({ type: 'moved', overlapItems: 0 });
  });

  it('reports a detected gap when the old stream never caught up before moveTimeoutMs', async () => {
    const { tokens, topics, received, gaps, sub } = setup({ moveTimeoutMs: 2_000 });
    await sub.ready;
    topics.last.item(1);
    tokens.refresh(2);
    await settle();
    topics.last.item(4);
    await jest.advanceTimersByTimeAsync(2_000);
    expect(received).toEqual([1, 4]);
    expect(gaps).toEqual([{ lastSequenceNumber: 1, newSequenceNumber: 3, detected: true }]);
  });

  it('replays a discontinuity the new stream reported before it took over', async () => {
    const { tokens, topics, received, gaps, sub } = setup({ moveTimeoutMs: 2_000 });
    await sub.ready;
    topics.last.item(1);
    tokens.refresh(2);
    await settle();
    topics.last.callbacks.onDiscontinuity({ lastSequenceNumber: () => 1, newSequenceNumber: () => 7 });
    topics.last.item(8);
    expect(gaps).toEqual([{ lastSequenceNumber: 1, newSequenceNumber: 7, detected: false }]);
    expect(received).toEqual([1, 8]);
    expect(topics.at(0).unsubscribed).toBe(true);
  });

  it('a newer token supersedes a move still opening', async () => {
    const { tokens, topics, sub } = setup();
    await sub.ready;
    topics.answers = ['hold'];
    tokens.refresh(2);
    const second = topics.last;
    tokens.refresh(3);
    await settle();
    expect(second.unsubscribed).toBe(false); // its subscribe has not answered yet
    topics.release();
    await settle();
    expect(second.unsubscribed).toBe(true);
    expect(topics.last.authToken).toBe('tok-3');
    expect(topics.at(0).unsubscribed).toBe(false);
  });

  it('keeps the old stream and retries the move with backoff when the new stream fails to open', async () => {
    const { tokens, topics, received, statuses, sub } = setup();
    await sub.ready;
    const old = topics.last;
    topics.answers = [momentoError('SERVER_UNAVAILABLE')];
    tokens.refresh(2);
    await settle();
    expect(statuses).toContainEqual({ type: 'reconnecting', attempt: 1, delayMs: 50 });
    old.item(1);
    expect(received).toEqual([1]);
    await jest.advanceTimersByTimeAsync(50);
    expect(topics.streams).toHaveLength(3);
    expect(topics.last.authToken).toBe('tok-2');
    topics.last.item(1);
    expect(old.unsubscribed).toBe(true);
  });

  it('hands over at once when the old stream fails while the new one is open', async () => {
    const { tokens, topics, received, statuses, sub } = setup();
    await sub.ready;
    topics.last.item(1);
    tokens.refresh(2);
    await settle();
    topics.last.item(3);
    topics.at(0).callbacks.onError(momentoError('SERVER_UNAVAILABLE'));
    expect(received).toEqual([1, 3]);
    expect(statuses.filter((s) => (s as { type: string }).type === 'reconnecting')).toEqual([]);
    await jest.advanceTimersByTimeAsync(60_000);
    expect(topics.streams).toHaveLength(2);
  });

  it('does not open a second stream for a token event carrying the token already in use', async () => {
    const { tokens, topics, sub } = setup();
    await sub.ready;
    tokens.emit({ type: 'token', token: token(1) });
    await settle();
    expect(topics.streams).toHaveLength(1);
  });

  it('drops repeats and items older than the last delivered one', async () => {
    const { topics, received, sub } = setup();
    await sub.ready;
    for (const seq of [1, 2, 2, 1, 3, 3]) topics.last.item(seq);
    expect(received).toEqual([1, 2, 3]);
  });

  it('passes on a discontinuity the service reports', async () => {
    const { topics, gaps, sub } = setup();
    await sub.ready;
    topics.last.callbacks.onDiscontinuity({ lastSequenceNumber: () => 4, newSequenceNumber: () => 9 });
    expect(gaps).toEqual([{ lastSequenceNumber: 4, newSequenceNumber: 9, detected: false }]);
    // The stream continues after 9, as the SDK reads it: that is where a re-opened stream resumes.
    expect(sub.lastSequenceNumber).toBe(9);
    topics.last.callbacks.onError(momentoError('SERVER_UNAVAILABLE'));
    await jest.advanceTimersByTimeAsync(1_000);
    expect(topics.last.callbacks.resumeAtSequenceNumber).toBe(10);
  });

  it('re-subscribes after a dropped stream with jittered backoff, resuming after the last item', async () => {
    const { topics, received, statuses, sub } = setup();
    await sub.ready;
    topics.last.item(1);
    topics.last.item(2);
    topics.last.callbacks.onError(momentoError('SERVER_UNAVAILABLE'));
    // random 0.5 × ceiling 100 ms.
    expect(statuses).toContainEqual({ type: 'reconnecting', attempt: 1, delayMs: 50 });
    await jest.advanceTimersByTimeAsync(49);
    expect(topics.streams).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(topics.streams).toHaveLength(2);
    expect(topics.last.callbacks.resumeAtSequenceNumber).toBe(3);
    topics.last.item(2);
    topics.last.item(3);
    expect(received).toEqual([1, 2, 3]);
  });

  it('leaves a stream end to the SDK (it re-opens ended streams itself, resuming)', async () => {
    const { topics, sub } = setup();
    await sub.ready;
    topics.last.callbacks.onSubscriptionEnd();
    topics.last.callbacks.onConnectionLost();
    await jest.advanceTimersByTimeAsync(60_000);
    expect(topics.streams).toHaveLength(1);
    expect(topics.last.unsubscribed).toBe(false);
  });

  it('re-opens a stream the SDK ended by itself without an error (its handle is no longer subscribed)', async () => {
    const { topics, statuses, sub } = setup();
    await sub.ready;
    topics.last.givenUp = true;
    topics.last.callbacks.onSubscriptionEnd();
    expect(statuses).toContainEqual({ type: 'reconnecting', attempt: 1, delayMs: 50 });
    await jest.advanceTimersByTimeAsync(50);
    expect(topics.streams).toHaveLength(2);
  });

  it('does not reconnect for an error on a stream it already retired', async () => {
    const { tokens, topics, sub } = setup();
    await sub.ready;
    tokens.refresh(2);
    await settle();
    topics.last.item(1); // the new stream takes over (nothing was delivered yet)
    expect(topics.at(0).unsubscribed).toBe(true);
    topics.at(0).callbacks.onError(momentoError('SERVER_UNAVAILABLE'));
    await jest.advanceTimersByTimeAsync(10_000);
    expect(topics.streams).toHaveLength(2);
    topics.at(1).callbacks.onError(momentoError('SERVER_UNAVAILABLE'));
    await jest.advanceTimersByTimeAsync(10_000);
    expect(topics.streams).toHaveLength(3);
    expect(topics.last.authToken).toBe('tok-2');
  });

  it('reports a gap it detects when a re-opened stream starts past the last item + 1', async () => {
    const { topics, gaps, received, sub } = setup();
    await sub.ready;
    topics.last.item(1);
    topics.last.item(2);
    topics.last.callbacks.onError(momentoError('SERVER_UNAVAILABLE'));
    await jest.advanceTimersByTimeAsync(1_000);
    topics.last.item(6);
    topics.last.item(7);
    expect(gaps).toEqual([{ lastSequenceNumber: 2, newSequenceNumber: 5, detected: true }]);
    expect(received).toEqual([1, 2, 6, 7]);
  });

  it('accepts lower numbers after a discontinuity that restarts the numbering (a new sequence page)', async () => {
    const { topics, received, gaps, sub } = setup();
    await sub.ready;
    topics.last.item(41);
    topics.last.item(42);
    topics.last.callbacks.onDiscontinuity({ lastSequenceNumber: () => 42, newSequenceNumber: () => 0 });
    topics.last.item(1);
    topics.last.item(2);
    expect(received).toEqual([41, 42, 1, 2]);
    expect(gaps).toEqual([{ lastSequenceNumber: 42, newSequenceNumber: 0, detected: false }]);
  });

  it('does not add a detected gap where the service reported a discontinuity', async () => {
    const { topics, gaps, sub } = setup();
    await sub.ready;
    topics.last.item(1);
    topics.last.callbacks.onError(momentoError('SERVER_UNAVAILABLE'));
    await jest.advanceTimersByTimeAsync(1_000);
    topics.last.callbacks.onDiscontinuity({ lastSequenceNumber: () => 1, newSequenceNumber: () => 5 });
    topics.last.item(6);
    expect(gaps).toEqual([{ lastSequenceNumber: 1, newSequenceNumber: 5, detected: false }]);
    expect(sub.lastSequenceNumber).toBe(6);
  });

  it('doubles the backoff ceiling on consecutive failures and stops after maxResubscribeAttempts', async () => {
    const { topics, stops, statuses, sub } = setup({ maxResubscribeAttempts: 3 });
    await sub.ready;
    topics.answers = [
      momentoError('SERVER_UNAVAILABLE'),
      momentoError('SERVER_UNAVAILABLE'),
      momentoError('SERVER_UNAVAILABLE'),
    ];
    topics.last.callbacks.onError(momentoError('SERVER_UNAVAILABLE'));
    await jest.advanceTimersByTimeAsync(5_000);
    expect(statuses.filter((s) => (s as { type: string }).type === 'reconnecting')).toEqual([
      { type: 'reconnecting', attempt: 1, delayMs: 50 },
      { type: 'reconnecting', attempt: 2, delayMs: 100 },
      { type: 'reconnecting', attempt: 3, delayMs: 200 },
    ]);
    expect(stops).toHaveLength(1);
    expect(stops[0]).toMatchObject({ reason: 'exhausted', code: 'resubscribe-exhausted' });
    expect(sub.closed).toBe(true);
  });

  it('resets the failure count once a re-subscribe opens', async () => {
    const { topics, statuses, sub } = setup();
    await sub.ready;
    topics.answers = [momentoError('SERVER_UNAVAILABLE')];
    topics.last.callbacks.onError(momentoError('SERVER_UNAVAILABLE'));
    await jest.advanceTimersByTimeAsync(1_000);
    topics.last.callbacks.onError(momentoError('SERVER_UNAVAILABLE'));
    expect(statuses[statuses.length - 1]).toEqual({ type: 'reconnecting', attempt: 1, delayMs: 50 });
  });

  it.each(['AUTHENTICATION_ERROR', 'PERMISSION_ERROR'])(
    'stops without retrying on Momento %s from subscribe',
    async (code) => {
      const { topics, stops, sub } = setup();
      topics.answers = [momentoError(code)];
      await expect(sub.ready).rejects.toThrow(SubscriptionError);
      await jest.advanceTimersByTimeAsync(60_000);
      expect(topics.streams).toHaveLength(1);
      expect(stops).toHaveLength(1);
      expect(stops[0]).toMatchObject({ reason: 'momento', code });
      expect(stops[0]?.message).toMatch(code);
    },
  );

  it('stops on a PERMISSION_ERROR arriving on an open stream, and unsubscribes it', async () => {
    const { tokens, topics, stops, sub } = setup();
    await sub.ready;
    topics.last.callbacks.onError(momentoError('PERMISSION_ERROR'));
    await jest.advanceTimersByTimeAsync(60_000);
    expect(topics.streams).toHaveLength(1);
    expect(topics.last.unsubscribed).toBe(true);
    expect(stops[0]).toMatchObject({ reason: 'momento', code: 'PERMISSION_ERROR' });
    expect(tokens.listenerCount).toBe(0);
  });

  it("does not stop on AUTHENTICATION_ERROR from an old token's stream while a move is retrying", async () => {
    // Prepare: the move's new stream failed to open and waits for its backoff; the old token then expires.
    const { tokens, topics, received, stops, sub } = setup();
    await sub.ready;
    const old = topics.last;
    topics.answers = [momentoError('SERVER_UNAVAILABLE')];
    tokens.refresh(2);
    await settle();

    // Act
    old.callbacks.onError(momentoError('AUTHENTICATION_ERROR'));
    await jest.advanceTimersByTimeAsync(50);
    topics.last.item(1);

    // Assess
    expect(stops).toEqual([]);
    expect(topics.last.authToken).toBe('tok-2');
    expect(received).toEqual([1]);
  });

  it("stops on AUTHENTICATION_ERROR from the newest token's stream", async () => {
    const { tokens, topics, stops, sub } = setup();
    await sub.ready;
    tokens.refresh(2);
    await settle();
    topics.last.callbacks.onError(momentoError('AUTHENTICATION_ERROR'));
    expect(stops[0]).toMatchObject({ reason: 'momento', code: 'AUTHENTICATION_ERROR' });
  });

  it('stops on an auth-error event from the TVM (revoked), closing the stream', async () => {
    const { tokens, topics, stops, sub } = setup();
    await sub.ready;
    const error = new TokenVendingError({ status: 403, code: 'revoked', title: 'Token revoked', kind: 'auth' });
    tokens.emit({ type: 'auth-error', error });
    expect(stops[0]).toMatchObject({ reason: 'auth', code: 'revoked' });
    expect(stops[0]?.cause).toBe(error);
    expect(topics.last.unsubscribed).toBe(true);
    expect(sub.closed).toBe(true);
  });

  it('ignores a transient TVM error event (the token client retries it)', async () => {
    const { tokens, stops, sub } = setup();
    await sub.ready;
    tokens.emit({
      type: 'error',
      error: new TokenVendingError({ status: 503, code: 'x', title: 'x', kind: 'transient' }),
    });
    expect(stops).toEqual([]);
    expect(sub.closed).toBe(false);
  });

  it('stops when getToken is refused with 401 while re-subscribing', async () => {
    const { tokens, topics, stops, sub } = setup();
    await sub.ready;
    tokens.getTokenError = new TokenVendingError({ status: 401, code: 'unauthorized', title: 'x', kind: 'auth' });
    topics.last.callbacks.onError(momentoError('SERVER_UNAVAILABLE'));
    await jest.advanceTimersByTimeAsync(60_000);
    expect(stops).toHaveLength(1);
    expect(stops[0]).toMatchObject({ reason: 'auth', code: 'unauthorized' });
    expect(topics.streams).toHaveLength(1);
  });

  it('retries a transient getToken failure with backoff', async () => {
    const { tokens, topics, sub } = setup();
    await sub.ready;
    tokens.getTokenError = new TokenVendingError({ status: 0, code: 'network-error', title: 'x', kind: 'transient' });
    topics.last.callbacks.onError(momentoError('SERVER_UNAVAILABLE'));
    await jest.advanceTimersByTimeAsync(50);
    expect(topics.streams).toHaveLength(1);
    tokens.getTokenError = undefined;
    await jest.advanceTimersByTimeAsync(100);
    expect(topics.streams).toHaveLength(2);
  });

  it('close() unsubscribes, stops following tokens and cancels a pending retry', async () => {
    const { tokens, topics, sub } = setup();
    await sub.ready;
    topics.last.callbacks.onError(momentoError('SERVER_UNAVAILABLE'));
    sub.close();
    await jest.advanceTimersByTimeAsync(60_000);
    tokens.refresh(2);
    expect(topics.streams).toHaveLength(1);
    expect(tokens.listenerCount).toBe(0);
    expect(sub.closed).toBe(true);
  });

  it('closes a stream whose subscribe answers after close()', async () => {
    const { topics, sub } = setup();
    topics.answers = ['hold'];
    await settle();
    sub.close();
    topics.release();
    await settle();
    expect(topics.last.unsubscribed).toBe(true);
  });

  it('delivers every item exactly once in order across refreshes and a failure (scripted stream of 300)', async () => {
    // Each refresh opens a stream that either replays the last few items, or registered late and whose
    // first items arrive before the old stream's last ones (two connections, independent delays); the old
    // one keeps sending until it is closed. One stream fails mid-way and is re-opened, resuming.
    const { tokens, topics, received, gaps, statuses, sub } = setup();
    await sub.ready;
    let seq = 0;
    const publish = (n: number): void => {
      for (let i = 0; i < n; i++) {
        seq += 1;
        for (const s of topics.streams) if (!s.unsubscribed) s.item(seq);
      }
    };
    publish(50);
    for (const [round, offset] of [
      [2, -3],
      [3, 2],
      [4, -1],
      [5, 4],
    ] as const) {
      const old = topics.last;
      tokens.refresh(round);
      await settle();
      const next = topics.last;
      if (offset < 0) {
        for (let r = seq + offset + 1; r <= seq; r++) next.item(r);
      } else {
        // Published meanwhile: the old stream gets seq+1…seq+offset+2, the new one only the last two, first.
        const later = [seq + offset + 1, seq + offset + 2];
        for (const r of later) next.item(r);
        for (let r = seq + 1; r <= seq + offset + 2; r++) old.item(r);
        seq += offset + 2;
      }
      expect(old.unsubscribed).toBe(true);
      publish(40);
      if (round === 3) {
        topics.last.callbacks.onError(momentoError('SERVER_UNAVAILABLE'));
        await jest.advanceTimersByTimeAsync(1_000);
        expect(topics.last.callbacks.resumeAtSequenceNumber).toBe(seq + 1);
        publish(20);
      }
    }
    publish(300 - seq);
    expect(statuses.filter((s) => (s as { type: string }).type === 'moved')).toHaveLength(4);
    expect(received).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    expect(gaps).toEqual([]);
  });
});
