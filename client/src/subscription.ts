/**
 * A Momento topic subscription that survives token refresh: each new token gets its own `TopicClient`, the
 * subscription moves to it make-before-break (handing over once the new stream joins up with the old one),
 * repeats are dropped by sequence number, gaps are reported, failed streams are re-opened with backoff, and
 * auth failures stop it for good.
 *
 * Structural like momento.ts, so this package does not depend on `@gomomento/sdk-web` (an optional peer):
 * the SDK's `TopicClient`, `TopicItem`, `TopicDiscontinuity` and `TopicSubscribe.*` fit the `…Like` types.
 */
import { backoffDelayMs, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
import type { TokenResponse } from './contract.js';
import { TokenVendingError } from './errors.js';
import { momentoCredentialsFor, type DisposableTokenCredentials, type TokenSource } from './momento.js';

/** What the subscription reads of a topic item (the SDK's `TopicItem`). */
export interface TopicItemLike {
  value(): string | Uint8Array;
  sequenceNumber(): number;
  /** The publisher's `tokenId`, when the service sent one. */
  tokenId?(): string | undefined;
}

/** A gap the service reports (the SDK's `TopicDiscontinuity`). */
export interface TopicDiscontinuityLike {
  lastSequenceNumber(): number;
  newSequenceNumber(): number;
}

/** An error answer or stream error (the SDK's `TopicSubscribe.Error`). */
export interface TopicErrorLike {
  errorCode(): string;
  message(): string;
}

/** An open stream (the SDK's `TopicSubscribe.Subscription`). */
export interface TopicStreamLike {
  unsubscribe(): void;
  /** False once the SDK has given the stream up (or it was unsubscribed). */
  readonly isSubscribed?: boolean;
}

/** The callbacks handed to `TopicClient.subscribe` (a subset of the SDK's `SubscribeCallOptions`). */
export interface TopicSubscribeCallbacks {
  onItem(item: TopicItemLike): void;
  onError(error: TopicErrorLike, subscription?: TopicStreamLike): void;
  onDiscontinuity(discontinuity: TopicDiscontinuityLike): void;
  onConnectionLost(): void;
  onSubscriptionEnd(): void;
  /**
   * Where the stream should start: last delivered sequence number + 1. `@gomomento/sdk-web` 1.118 does not
   * read it (its public `subscribe` always starts at the live end), so against it the overlap of the
   * make-before-break window, de-duplicated here, is what keeps a refresh lossless; a client that can
   * resume (a newer SDK, a wrapper) uses it.
   */
  readonly resumeAtSequenceNumber?: number;
}

/** The part of the SDK's `TopicClient` used here. */
export interface TopicClientLike {
  subscribe(
    cacheName: string,
    topicName: string,
    callbacks: TopicSubscribeCallbacks,
  ): Promise<TopicStreamLike | TopicErrorLike>;
}

/** Momento error codes after which retrying cannot help: the token is refused or does not allow the topic. */
export const FATAL_TOPIC_ERROR_CODES: readonly string[] = ['AUTHENTICATION_ERROR', 'PERMISSION_ERROR'];

/** Default limit of consecutive failed (re)subscribes before giving up. */
export const DEFAULT_MAX_RESUBSCRIBE_ATTEMPTS = 10;

/**
 * Default longest overlap of a move: how long the old stream stays open when the new one has not yet shown
 * that it continues where the old one is (a quiet topic shows nothing).
 */
export const DEFAULT_MOVE_TIMEOUT_MS = 5_000;

/** Why a {@link RefreshingSubscription} stopped by itself. */
export class SubscriptionError extends Error {
  override readonly name = 'SubscriptionError';
  /**
   * `auth`: the TVM refused a token (401/403, e.g. `revoked`); `momento`: Momento answered
   * AUTHENTICATION_ERROR / PERMISSION_ERROR; `exhausted`: too many consecutive failed reconnects.
   */
  readonly reason: 'auth' | 'momento' | 'exhausted';
  /** The TVM error code or Momento error code. */
  readonly code: string;

  constructor(reason: SubscriptionError['reason'], code: string, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.reason = reason;
    this.code = code;
  }
}

/** A gap in the stream, see {@link RefreshingSubscriptionOptions.onDiscontinuity}. */
export interface TopicGap {
  /** The last item before the gap. */
  readonly lastSequenceNumber: number;
  /** Where the stream continues: the next item is numbered above it (as the SDK reads a discontinuity). */
  readonly newSequenceNumber: number;
  /** True when found here from sequence numbers, false when the service reported it. */
  readonly detected: boolean;
}

/** Options of {@link subscribeWithRefresh}. */
export interface RefreshingSubscriptionOptions {
  /** The TVM client (or anything shaped like it); its `token` events drive the moves. */
  readonly tokens: TokenSource;
  /**
   * Builds a `TopicClient` for one token; called once per token. `credentials` is
   * `momentoCredentialsFor(token)` (with the endpoint overrides of a local Momento, so
   * `CredentialProvider.fromDisposableToken(credentials)` works against `npm run dev` too); `token` is the whole
   * TVM answer.
   */
  readonly createTopicClient: (credentials: DisposableTokenCredentials, token: TokenResponse) => TopicClientLike;
  readonly cacheName: string;
  readonly topicName: string;
  /** Each item once, in sequence order. */
  readonly onItem: (item: TopicItemLike) => void;
  /**
   * A gap: items after `lastSequenceNumber` up to `newSequenceNumber` are lost. `detected` is false when the
   * service reported it (a discontinuity), true when found here from the sequence numbers.
   * @default nothing
   */
  readonly onDiscontinuity?: (gap: TopicGap) => void;
  /**
   * The subscription stopped by itself and will not retry.
   * @default nothing
   */
  readonly onStop?: (error: SubscriptionError) => void;
  /**
   * Informational: a stream was moved to a new token, or is being re-opened after a failure.
   * @default nothing
   */
  readonly onStatus?: (status: SubscriptionStatus) => void;
  /**
   * Backoff between re-subscribes after a failed stream.
   * @default DEFAULT_BACKOFF (0.5 s doubling to 30 s, full jitter)
   */
  readonly backoff?: BackoffOptions;
  /**
   * Consecutive failed re-subscribes before stopping with reason `exhausted`.
   * @default DEFAULT_MAX_RESUBSCRIBE_ATTEMPTS
   */
  readonly maxResubscribeAttempts?: number;
  /**
   * Longest time both streams of a move stay open while the new one has not shown that it continues the old
   * one; then the new one takes over anyway (and a gap, if any, is reported as detected).
   * @default DEFAULT_MOVE_TIMEOUT_MS
   */
  readonly moveTimeoutMs?: number;
  /**
   * Randomness in [0, 1) for the jitter.
   * @default Math.random
   */
  readonly random?: () => number;
}

/** What {@link RefreshingSubscriptionOptions.onStatus} reports. */
export type SubscriptionStatus =
  | { readonly type: 'moved'; readonly overlapItems: number }
  | { readonly type: 'reconnecting'; readonly attempt: number; readonly delayMs: number };

/** A running subscription. */
export interface RefreshingSubscription {
  /**
   * Resolves once the first stream is open; rejects with the {@link SubscriptionError} if it stops before.
   * Stays pending if `close()` comes first.
   */
  readonly ready: Promise<void>;
  /**
   * Where the subscription is: the sequence number of the last item delivered (after a reported gap, the
   * gap's `newSequenceNumber`); undefined before the first item.
   */
  readonly lastSequenceNumber: number | undefined;
  /** True once closed or stopped. */
  readonly closed: boolean;
  /** Closes the stream and stops following the token. */
  close(): void;
}

/** What a new stream delivered before it took over: replayed in order when it does. */
type Buffered = { readonly item: TopicItemLike } | { readonly gap: TopicDiscontinuityLike };

interface Stream {
  readonly token: string;
  handle: TopicStreamLike | undefined;
  /** Set when this side closed it or gave up on it: nothing it sends counts any more. */
  retired: boolean;
  /** A stream opened while another one delivers: its items wait here until it takes over. */
  readonly buffer: Buffered[];
  /** Items it sent that the old stream had already delivered (the overlap of a move). */
  overlap: number;
}

function isStream(result: TopicStreamLike | TopicErrorLike): result is TopicStreamLike {
  return typeof (result as Partial<TopicStreamLike>).unsubscribe === 'function';
}

/**
 * Subscribes to a topic and keeps the subscription alive across token refreshes and failed streams.
 *
 * A move to a new token is make-before-break: the new stream is opened while the old one keeps delivering,
 * and takes over only once one of its items is at or below the last delivered + 1 (so nothing between the
 * two is lost, whatever the order the two connections deliver in), or after `moveTimeoutMs`.
 *
 * @example
 * ```ts
 * import { Configurations, CredentialProvider, TopicClient } from '@gomomento/sdk-web';
 * const sub = subscribeWithRefresh({
 *   tokens, // createTokenClient(...)
 *   createTopicClient: (credentials) =>
 *     new TopicClient({
 *       configuration: Configurations.Browser.v1(),
 *       credentialProvider: CredentialProvider.fromDisposableToken(credentials),
 *     }),
 *   cacheName: 'chat',
 *   topicName: 'room-1',
 *   onItem: (item) => show(item.value()),
 *   onStop: (error) => showSignIn(error.message),
 * });
 * ```
 */
export function subscribeWithRefresh(options: RefreshingSubscriptionOptions): RefreshingSubscription {
  const backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
  const maxAttempts = options.maxResubscribeAttempts ?? DEFAULT_MAX_RESUBSCRIBE_ATTEMPTS;
  const moveTimeoutMs = options.moveTimeoutMs ?? DEFAULT_MOVE_TIMEOUT_MS;
  const random = options.random ?? Math.random;

  /** The stream whose items are delivered. */
  let active: Stream | undefined;
  /** A stream for a newer token: opening, or open and buffering until it takes over from `active`. */
  let next: Stream | undefined;
  let last: number | undefined;
  /** The service reported a gap: the next jump in sequence numbers is that gap, already reported. */
  let gapReported = false;
  let closed = false;
  /** The newest token seen: only a stream on it can prove the subscription is refused. */
  let latestToken: string | undefined;
  let failures = 0;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let moveTimer: ReturnType<typeof setTimeout> | undefined;
  let resolveReady!: () => void;
  let rejectReady!: (e: unknown) => void;
  const ready = new Promise<void>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  // A caller that only uses onStop must not get an unhandled rejection.
  ready.catch(() => undefined);

  const clearMoveTimer = (): void => {
    if (moveTimer !== undefined) clearTimeout(moveTimer);
    moveTimer = undefined;
  };

  const retire = (stream: Stream | undefined): void => {
    if (stream === undefined) return;
    stream.retired = true;
    stream.handle?.unsubscribe();
  };

  const shutdown = (): void => {
    unsubscribeTokens?.();
    if (retryTimer !== undefined) clearTimeout(retryTimer);
    retryTimer = undefined;
    clearMoveTimer();
    retire(next);
    retire(active);
    next = undefined;
    active = undefined;
  };

  const stop = (error: SubscriptionError): void => {
    if (closed) return;
    closed = true;
    shutdown();
    rejectReady(error);
    options.onStop?.(error);
  };

  /** Stops on a fatal Momento error, unless it is an expired old token's (its replacement is on the way). */
  const momentoError = (stream: Stream, error: TopicErrorLike): boolean => {
    const code = error.errorCode();
    if (!FATAL_TOPIC_ERROR_CODES.includes(code)) return false;
    // The old stream of a move can outlive its token (e.g. while the new stream waits for its backoff): Momento
    // then ends it with AUTHENTICATION_ERROR, which says nothing about the newer token.
    if (code === 'AUTHENTICATION_ERROR' && latestToken !== undefined && stream.token !== latestToken) return false;
    stop(new SubscriptionError('momento', code, `Momento refused the subscription: ${code}: ${error.message()}`));
    return true;
  };

  const tvmError = (e: unknown): boolean => {
    if (e instanceof TokenVendingError && e.kind === 'auth') {
      stop(new SubscriptionError('auth', e.code, `the token vending machine refused a token: ${e.message}`, e));
      return true;
    }
    return false;
  };

  /** Passes an item on unless it is a repeat; reports a jump the service did not report. */
  const emit = (stream: Stream, item: TopicItemLike): void => {
    const seq = item.sequenceNumber();
    if (last !== undefined && seq <= last) {
      stream.overlap += 1;
      return;
    }
    // Topic sequence numbers are consecutive: a stream opened at the live end (after a failure, or a move
    // that timed out) says nothing about what it missed, so the jump is the only sign of the loss.
    if (last !== undefined && seq > last + 1 && !gapReported) {
      options.onDiscontinuity?.({ lastSequenceNumber: last, newSequenceNumber: seq - 1, detected: true });
    }
    gapReported = false;
    last = seq;
    options.onItem(item);
  };

  const emitGap = (d: TopicDiscontinuityLike): void => {
    options.onDiscontinuity?.({
      lastSequenceNumber: d.lastSequenceNumber(),
      newSequenceNumber: d.newSequenceNumber(),
      detected: false,
    });
    gapReported = true;
    // The stream continues after `newSequenceNumber` (the SDK resumes there too), which may be lower than
    // `last` when the topic's numbering restarted (a new sequence page): items from there on are new, not repeats.
    last = d.newSequenceNumber();
  };

  /** `next` replaces `active`: what it buffered is replayed (repeats dropped), then the old stream closes. */
  const takeOver = (): void => {
    const stream = next;
    if (stream === undefined || stream.handle === undefined) return;
    clearMoveTimer();
    next = undefined;
    const previous = active;
    active = stream;
    retire(previous);
    for (const entry of stream.buffer.splice(0)) {
      if ('item' in entry) emit(stream, entry.item);
      else emitGap(entry.gap);
    }
    if (previous !== undefined) options.onStatus?.({ type: 'moved', overlapItems: stream.overlap });
  };

  /** Whether the new stream's earliest buffered item joins up with what was delivered. */
  const continues = (stream: Stream): boolean => {
    const first = stream.buffer[0];
    if (first === undefined) return false;
    if (!('item' in first)) return true;
    return last === undefined || first.item.sequenceNumber() <= last + 1;
  };

  const onItem = (stream: Stream, item: TopicItemLike): void => {
    if (closed || stream.retired) return;
    if (stream === active) {
      emit(stream, item);
      if (next?.handle !== undefined && continues(next)) takeOver();
      return;
    }
    // Not yet taken over: possible only while the old stream still delivers.
    stream.buffer.push({ item });
    if (stream.handle !== undefined && continues(stream)) takeOver();
  };

  const onGap = (stream: Stream, gap: TopicDiscontinuityLike): void => {
    if (closed || stream.retired) return;
    if (stream === active) emitGap(gap);
    else stream.buffer.push({ gap });
  };

  /** A stream failed without this side asking: re-open with backoff, on the latest token. */
  const failed = (stream: Stream): void => {
    if (closed || stream.retired) return;
    retire(stream);
    if (stream === active) {
      active = undefined;
      // The new stream of a move in progress is all there is now.
      if (next?.handle !== undefined) {
        takeOver();
        return;
      }
      if (next !== undefined) return;
    }
    if (stream === next) {
      next = undefined;
      clearMoveTimer();
    }
    if (retryTimer === undefined) scheduleResubscribe();
  };

  const scheduleResubscribe = (): void => {
    failures += 1;
    if (failures > maxAttempts) {
      stop(
        new SubscriptionError(
          'exhausted',
          'resubscribe-exhausted',
          `gave up after ${maxAttempts} failed re-subscribes`,
        ),
      );
      return;
    }
    const delayMs = backoffDelayMs(failures, backoff, random);
    options.onStatus?.({ type: 'reconnecting', attempt: failures, delayMs });
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void fetchAndOpen();
    }, delayMs);
  };

  const fetchAndOpen = async (): Promise<void> => {
    let token: TokenResponse;
    try {
      token = await options.tokens.getToken();
    } catch (e) {
      if (!closed && !tvmError(e)) scheduleResubscribe();
      return;
    }
    open(token);
  };

  const open = (token: TokenResponse): void => {
    if (closed) return;
    const { authToken } = token;
    latestToken = authToken;
    if (active?.token === authToken || next?.token === authToken) return;
    const stream: Stream = { token: authToken, handle: undefined, retired: false, buffer: [], overlap: 0 };
    // A newer token supersedes one still opening or not yet taken over.
    retire(next);
    clearMoveTimer();
    next = stream;
    const client = options.createTopicClient(momentoCredentialsFor(token), token);
    const callbacks: TopicSubscribeCallbacks = {
      onItem: (item) => onItem(stream, item),
      onDiscontinuity: (gap) => onGap(stream, gap),
      // The SDK has already unsubscribed when it reports a stream error: the stream is over.
      onError: (error) => {
        if (closed || stream.retired) return;
        if (!momentoError(stream, error)) failed(stream);
      },
      // @gomomento/sdk-web 1.118 re-opens a stream that ended or broke on a network error by itself, resuming
      // after its last item, and calls onSubscriptionEnd even then; a stream it gives up on mostly ends in
      // onError, except when a re-open of a stream that has had no item yet fails: it then just unsubscribes.
      onConnectionLost: () => undefined,
      onSubscriptionEnd: () => {
        if (stream.handle?.isSubscribed === false) failed(stream);
      },
      ...(last === undefined ? {} : { resumeAtSequenceNumber: last + 1 }),
    };
    client.subscribe(options.cacheName, options.topicName, callbacks).then(
      (result) => {
        if (stream.retired || closed) {
          if (isStream(result)) result.unsubscribe();
          return;
        }
        if (!isStream(result)) {
          if (!momentoError(stream, result)) failed(stream);
          return;
        }
        stream.handle = result;
        failures = 0;
        resolveReady();
        if (active === undefined || continues(stream)) {
          takeOver();
          return;
        }
        moveTimer = setTimeout(() => {
          moveTimer = undefined;
          takeOver();
        }, moveTimeoutMs);
      },
      () => failed(stream),
    );
  };

  const unsubscribeTokens = options.tokens.subscribe?.((event) => {
    if (closed) return;
    if (event.type === 'token') open(event.token);
    else if (event.type === 'auth-error') tvmError(event.error);
  });

  void (async () => {
    try {
      open(await options.tokens.getToken());
    } catch (e) {
      if (!closed && !tvmError(e)) scheduleResubscribe();
    }
  })();

  return {
    ready,
    get lastSequenceNumber() {
      return last;
    },
    get closed() {
      return closed;
    },
    close() {
      if (closed) return;
      closed = true;
      shutdown();
    },
  };
}
