/**
 * Sharing one token among the tabs of an origin: a `BroadcastChannel` carries tokens and session-ending errors
 * between tabs, and a Web Lock makes sure only one tab at a time asks the TVM. Momento allows only a few token
 * mints per second per account, so four open tabs must not mean four `GET /token` per refresh.
 *
 * Why not `localStorage`: it writes the token to disk, where it outlives the browser session (and the user's
 * sign-out in a crashed tab), shows up in every storage inspector and backup of the profile, and every script
 * on the origin can read it at any later time. A BroadcastChannel is same-origin by construction and in memory
 * only: a token exists only in the tabs that are open, as it does without sharing.
 */
import type { StampedToken } from './clock.js';
import { isTokenPermission, type TokenResponse } from './contract.js';
import type { TokenErrorKind } from './errors.js';

/** Version of the message format; a tab running another version of the client ignores ours. */
const PROTOCOL = 1;

/**
 * How long a tab waits for another tab to answer its `ask` before it fetches itself. Tabs of one origin run
 * in the same browser and answer within milliseconds; a tab that does not answer this quickly is frozen or busy.
 */
export const ASK_WAIT_MS = 150;

/** A token as it travels between tabs, stamped on the wall clock (each tab's monotonic clock has its own origin). */
export interface SharedToken {
  readonly token: TokenResponse;
  /** `Date.now()` in the fetching tab when the request was sent. */
  readonly sentAtWallMs: number;
}

/** The part of a session-ending error other tabs need (no cause, no token, nothing secret). */
export interface SharedHalt {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly detail?: string;
  readonly kind: Exclude<TokenErrorKind, 'transient'>;
}

/**
 * What tabs send each other, on a channel named after the token URL:
 * - `ask`: a tab wants a token (newly opened, or about to fetch); tabs holding a usable one answer with `token`;
 * - `token`: a token another tab received (or holds, in answer to `ask`);
 * - `halt`: an authentication or fatal error ended the session; the others stop too instead of each trying.
 */
export type TabMessage =
  | { readonly v: typeof PROTOCOL; readonly key: string; readonly type: 'ask' }
  | ({ readonly v: typeof PROTOCOL; readonly key: string; readonly type: 'token' } & SharedToken)
  | { readonly v: typeof PROTOCOL; readonly key: string; readonly type: 'halt'; readonly error: SharedHalt };

/**
 * The name of the lock and the channel for one token URL. The URL includes the query string, so clients
 * asking for different scopes or TTLs never share a token or wait on each other.
 */
export function tabScopeKey(url: string): string {
  return `momento-tvm-client:${url}`;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isFiniteNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
const isOptionalString = (value: unknown): boolean => value === undefined || typeof value === 'string';

/** The token in a message, or undefined unless it has every field the contract requires. */
function parseToken(value: unknown): TokenResponse | undefined {
  if (!isRecord(value)) return undefined;
  const { authToken, expiresAt, expiresIn, endpoint, tokenId, permissions } = value;
  if (typeof authToken !== 'string' || authToken.length === 0 || typeof endpoint !== 'string') return undefined;
  if (!isFiniteNumber(expiresAt) || !isFiniteNumber(expiresIn) || expiresIn <= 0) return undefined;
  if (!isOptionalString(tokenId) || !Array.isArray(permissions)) return undefined;
  return {
    authToken,
    expiresAt,
    expiresIn,
    endpoint,
    ...(tokenId === undefined ? {} : { tokenId: tokenId as string }),
    permissions: permissions.filter(isTokenPermission),
  };
}

/**
 * Validates a message received on the channel. Anything else (another version, another key, a missing or
 * mistyped field, a `transient` error) is undefined and ignored: any script of the origin can post on the
 * channel, and a malformed message must never break a tab.
 */
export function parseTabMessage(data: unknown, key: string): TabMessage | undefined {
  if (!isRecord(data) || data.v !== PROTOCOL || data.key !== key) return undefined;
  if (data.type === 'ask') return { v: PROTOCOL, key, type: 'ask' };
  if (data.type === 'token') {
    const token = parseToken(data.token);
    if (!token || !isFiniteNumber(data.sentAtWallMs)) return undefined;
    return { v: PROTOCOL, key, type: 'token', token, sentAtWallMs: data.sentAtWallMs };
  }
  if (data.type === 'halt' && isRecord(data.error)) {
    const { status, code, title, detail, kind } = data.error;
    if (!Number.isInteger(status) || typeof code !== 'string' || typeof title !== 'string') return undefined;
    if (!isOptionalString(detail) || (kind !== 'auth' && kind !== 'fatal')) return undefined;
    const error: SharedHalt = {
      status: status as number,
      code,
      title,
      kind,
      ...(detail === undefined ? {} : { detail: detail as string }),
    };
    return { v: PROTOCOL, key, type: 'halt', error };
  }
  return undefined;
}

/** Wall-clock instant after which the token is no longer valid, as the fetching tab measured it. */
export function expiresAtWallMs(shared: SharedToken): number {
  return shared.sentAtWallMs + shared.token.expiresIn * 1000;
}

/**
 * A shared token stamped for this tab. The monotonic stamp is derived from the wall-clock age, so the
 * scheduler's "larger of the two clocks" sees the same age on both.
 */
export function stampShared(shared: SharedToken, nowMonotonicMs: number, nowWallMs: number): StampedToken {
  return {
    token: shared.token,
    sentAtWallMs: shared.sentAtWallMs,
    sentAtMonotonicMs: nowMonotonicMs - (nowWallMs - shared.sentAtWallMs),
  };
}

/** The browser features sharing needs. */
interface LockManagerLike {
  request(name: string, callback: () => Promise<unknown>): Promise<unknown>;
}

/** What the client gets from the channel. */
export interface TabChannelCallbacks {
  /** Another tab sent a token (valid; whether it is newer is the client's decision). */
  readonly onToken: (shared: SharedToken) => void;
  /** Another tab's session ended with this error. */
  readonly onHalt: (error: SharedHalt) => void;
  /** Another tab asks for a token: the current one to send, or undefined when there is none usable. */
  readonly current: () => SharedToken | undefined;
}

/**
 * One tab's end of the channel and the lock. {@link TabChannel.open} returns undefined where the browser has
 * no `BroadcastChannel` or no Web Locks (older browsers, non-secure contexts, Node): the client then works on
 * its own, as every tab did before.
 */
export class TabChannel {
  private readonly waitingForAnswer = new Set<() => void>();

  private constructor(
    private readonly key: string,
    private readonly channel: BroadcastChannel,
    private readonly locks: LockManagerLike,
    private readonly callbacks: TabChannelCallbacks,
  ) {
    channel.onmessage = (event: MessageEvent) => this.receive(event.data);
  }

  /** Opens the channel for `url`, or returns undefined where the browser cannot share. Never throws. */
  static open(url: string, callbacks: TabChannelCallbacks): TabChannel | undefined {
    try {
      const locks = (globalThis as { navigator?: { locks?: Partial<LockManagerLike> } }).navigator?.locks;
      if (typeof BroadcastChannel !== 'function' || typeof locks?.request !== 'function') return undefined;
      const key = tabScopeKey(url);
      return new TabChannel(key, new BroadcastChannel(key), locks as LockManagerLike, callbacks);
    } catch {
      // E.g. a sandboxed iframe or an opaque origin, where the constructors exist but refuse.
      return undefined;
    }
  }

  /**
   * Runs `work` while holding the tab-wide lock for this URL: of all tabs wanting a token, one fetches at a
   * time, and the next one finds the token it broadcast. If the tab closes meanwhile, the browser releases
   * the lock and the next waiting tab goes.
   */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    return this.locks.request(this.key, work) as Promise<T>;
  }

  /** Asks the other tabs for their token and resolves after the first answer or {@link ASK_WAIT_MS}. */
  ask(): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waitingForAnswer.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ASK_WAIT_MS);
      this.waitingForAnswer.add(done);
      this.post({ v: PROTOCOL, key: this.key, type: 'ask' });
    });
  }

  /** Sends a token to the other tabs. */
  shareToken(shared: SharedToken): void {
    this.post({ v: PROTOCOL, key: this.key, type: 'token', ...shared });
  }

  /** Tells the other tabs the session ended. */
  shareHalt(error: SharedHalt): void {
    this.post({ v: PROTOCOL, key: this.key, type: 'halt', error });
  }

  close(): void {
    this.channel.onmessage = null;
    this.channel.close();
    for (const done of [...this.waitingForAnswer]) done();
  }

  private post(message: TabMessage): void {
    try {
      this.channel.postMessage(message);
    } catch {
      // A closed channel (the tab is going away): the other tabs will fetch for themselves.
    }
  }

  private receive(data: unknown): void {
    const message = parseTabMessage(data, this.key);
    if (!message) return;
    if (message.type === 'ask') {
      const current = this.callbacks.current();
      if (current) this.shareToken(current);
    } else if (message.type === 'token') {
      this.callbacks.onToken(message);
      for (const done of [...this.waitingForAnswer]) done();
    } else {
      this.callbacks.onHalt(message.error);
    }
  }
}
