/**
 * A Momento topic subscription that survives token refresh: each new token gets its own `TopicClient`, the
 * subscription moves to it make-before-break, repeats are dropped by sequence number, gaps the service
 * reports are passed on, dropped streams are re-opened with backoff, and auth failures stop it for good.
 *
 * Structural like momento.ts, so this package does not depend on `@gomomento/sdk-web` (an optional peer):
 * the SDK's `TopicClient`, `TopicItem`, `TopicDiscontinuity` and `TopicSubscribe.*` fit the `…Like` types.
 */
import { backoffDelayMs, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
import type { TokenResponse } from './contract.js';
import { TokenVendingError } from './errors.js';
import type { DisposableTokenCredentials, TokenSource } from './momento.js';

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
  readonly lastSequenceNumber: number;
  readonly newSequenceNumber: number;
  /** True when found here from sequence numbers, false when the service reported it. */
  readonly detected: boolean;
}

/** Options of {@link subscribeWithRefresh}. */
export interface RefreshingSubscriptionOptions {
  /** The TVM client (or anything shaped like it); its `token` events drive the moves. */
  readonly tokens: TokenSource;
  /** Builds a `TopicClient` for one token's credentials; called once per token. */
  readonly createTopicClient: (credentials: DisposableTokenCredentials) => TopicClientLike;
  readonly cacheName: string;
  readonly topicName: string;
  /** Each item once, in sequence order as delivered. */
  readonly onItem: (item: TopicItemLike) => void;
  /**
   * A gap: items after `lastSequenceNumber` and before `newSequenceNumber` are lost. `detected` is false
   * when the service reported it (a discontinuity), true when a re-opened stream started past the last
   * delivered item + 1.
   * @default nothing
   */
  readonly onDiscontinuity?: (gap: TopicGap) => void;
  /**
   * The subscription stopped by itself and will not retry.
   * @default nothing
   */
  readonly onStop?: (error: SubscriptionError) => void;
  /**
   * Informational: a stream was moved to a new token, or is being re-opened after a drop.
   * @default nothing
   */
  readonly onStatus?: (status: { type: 'moved' } | { type: 'reconnecting'; attempt: number; delayMs: number }) => void;
  /**
   * Backoff between re-subscribes after a dropped stream.
   * @default DEFAULT_BACKOFF (0.5 s doubling to 30 s, full jitter)
   */
  readonly backoff?: BackoffOptions;
  /**
   * Consecutive failed re-subscribes before stopping with reason `exhausted`.
   * @default DEFAULT_MAX_RESUBSCRIBE_ATTEMPTS
   */
  readonly maxResubscribeAttempts?: number;
  /**
   * Randomness in [0, 1) for the jitter.
   * @default Math.random
   */
  readonly random?: () => number;
}

/** A running subscription. */
export interface RefreshingSubscription {
  /** Resolves once the first stream is open; rejects with the {@link SubscriptionError} if it never opens. */
  readonly ready: Promise<void>;
  /** Highest sequence number delivered, or undefined before the first item. */
  readonly lastSequenceNumber: number | undefined;
  /** True once closed or stopped. */
  readonly closed: boolean;
  /** Closes the stream and stops following the token. */
  close(): void;
}

interface Stream {
  readonly token: string;
  handle: TopicStreamLike | undefined;
  /** Set when this side closed it, so its end is not mistaken for a drop. */
  retired: boolean;
  /** Whether it delivered (or skipped as a repeat) an item yet. */
  seen: boolean;
  /** Whether the service reported a discontinuity on it. */
  reportedGap: boolean;
}

function isStream(result: TopicStreamLike | TopicErrorLike): result is TopicStreamLike {
  return typeof (result as Partial<TopicStreamLike>).unsubscribe === 'function';
}

/**
 * Subscribes to a topic and keeps the subscription alive across token refreshes and dropped streams.
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
  const random = options.random ?? Math.random;

  let active: Stream | undefined;
  /** Opening for a newer token while `active` keeps delivering. */
  let pending: Stream | undefined;
  let last: number | undefined;
  let closed = false;
  let failures = 0;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let resolveReady!: () => void;
  let rejectReady!: (e: unknown) => void;
  const ready = new Promise<void>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  // A caller that only uses onStop must not get an unhandled rejection.
  ready.catch(() => undefined);

  const retire = (stream: Stream | undefined): void => {
    if (stream === undefined) return;
    stream.retired = true;
    stream.handle?.unsubscribe();
  };

  const stop = (error: SubscriptionError): void => {
    if (closed) return;
    closed = true;
    shutdown();
    rejectReady(error);
    options.onStop?.(error);
  };

  const shutdown = (): void => {
    unsubscribeTokens?.();
    if (retryTimer !== undefined) clearTimeout(retryTimer);
    retryTimer = undefined;
    retire(pending);
    retire(active);
    pending = undefined;
    active = undefined;
  };

  const momentoError = (error: TopicErrorLike): boolean => {
    const code = error.errorCode();
    if (!FATAL_TOPIC_ERROR_CODES.includes(code)) return false;
    stop(new SubscriptionError('momento', code, `Momento refused the subscription: ${code}: ${error.message()}`));
    return true;
  };

  const deliver = (stream: Stream, item: TopicItemLike): void => {
    if (closed || stream.retired) return;
    const seq = item.sequenceNumber();
    const first = !stream.seen;
    stream.seen = true;
    // Sequence numbers of a topic are consecutive: a later stream that starts past last + 1 (one opened at
    // the live end after a drop) lost the items in between, and the service reports nothing in that case.
    if (first && last !== undefined && seq > last + 1 && !stream.reportedGap) {
      options.onDiscontinuity?.({ lastSequenceNumber: last, newSequenceNumber: seq, detected: true });
    }
    // The overlap of two streams during a move, and a stream re-opened at an earlier point, repeat items.
    if (last !== undefined && seq <= last) return;
    last = seq;
    options.onItem(item);
  };

  /** A stream failed without this side asking: re-open with backoff, on the latest token. */
  const dropped = (stream: Stream): void => {
    if (closed || stream.retired) return;
    stream.retired = true;
    stream.handle?.unsubscribe();
    if (stream === pending) pending = undefined;
    if (stream === active) active = undefined;
    if (active !== undefined || pending !== undefined || retryTimer !== undefined) return;
    scheduleResubscribe();
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
      if (!tvmError(e)) scheduleResubscribe();
      return;
    }
    if (closed) return;
    open(token.authToken);
  };

  const tvmError = (e: unknown): boolean => {
    if (e instanceof TokenVendingError && e.kind === 'auth') {
      stop(new SubscriptionError('auth', e.code, `the token vending machine refused a token: ${e.message}`, e));
      return true;
    }
    return false;
  };

  const open = (authToken: string): void => {
    if (closed) return;
    if (active?.token === authToken || pending?.token === authToken) return;
    const stream: Stream = { token: authToken, handle: undefined, retired: false, seen: false, reportedGap: false };
    // A newer token supersedes one still opening.
    retire(pending);
    pending = stream;
    const client = options.createTopicClient({ authToken });
    const callbacks: TopicSubscribeCallbacks = {
      onItem: (item) => deliver(stream, item),
      onDiscontinuity: (d) => {
        if (closed || stream.retired) return;
        stream.reportedGap = true;
        options.onDiscontinuity?.({
          lastSequenceNumber: d.lastSequenceNumber(),
          newSequenceNumber: d.newSequenceNumber(),
          detected: false,
        });
      },
      // The SDK has already unsubscribed when it reports a stream error: the stream is over.
      onError: (error) => {
        if (closed || stream.retired) return;
        if (!momentoError(error)) dropped(stream);
      },
      // @gomomento/sdk-web 1.118 re-opens a stream that ended or broke on a network error by itself, resuming
      // after its last item, and calls onSubscriptionEnd even then; a stream it gives up on ends in onError.
      onConnectionLost: () => undefined,
      onSubscriptionEnd: () => undefined,
      ...(last === undefined ? {} : { resumeAtSequenceNumber: last + 1 }),
    };
    client.subscribe(options.cacheName, options.topicName, callbacks).then(
      (result) => {
        if (stream.retired || closed) {
          if (isStream(result)) result.unsubscribe();
          return;
        }
        if (!isStream(result)) {
          if (!momentoError(result)) dropped(stream);
          return;
        }
        stream.handle = result;
        const previous = active;
        active = stream;
        if (pending === stream) pending = undefined;
        failures = 0;
        // Make-before-break: the old stream ran until now, so nothing published meanwhile is missed.
        if (previous !== undefined) {
          retire(previous);
          options.onStatus?.({ type: 'moved' });
        }
        resolveReady();
      },
      () => {
        dropped(stream);
      },
    );
  };

  const unsubscribeTokens = options.tokens.subscribe?.((event) => {
    if (closed) return;
    if (event.type === 'token') open(event.token.authToken);
    else if (event.type === 'auth-error') tvmError(event.error);
  });

  void (async () => {
    try {
      const token = await options.tokens.getToken();
      open(token.authToken);
    } catch (e) {
      if (!tvmError(e)) scheduleResubscribe();
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
