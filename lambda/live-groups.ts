/**
 * `auth.liveGroups` (Cognito mode): the caller's CURRENT groups, read from the user pool, replace the ID token's
 * `cognito:groups`, so removing a user from a group changes their next Momento token within `cacheSeconds`
 * instead of at ID token expiry. The user is the one the token was issued to, found by its `sub` (never by the
 * user name, which a pool may let users change or reuse). Pure logic against a {@link GroupSource} port; the
 * Cognito adapter below uses the signed client in common/aws (`ListUsers`, then `AdminListGroupsForUser`).
 */
import {
  awsJsonCall,
  AwsCallError,
  COGNITO_IDENTITY_PROVIDER,
  regionOfUserPool,
  type AwsJsonCall,
} from '../common/aws';
import { TvmError } from './errors';
import { LookupCache } from './lookup-cache';
import { MAX_GROUPS, parseGroupList } from '../common/groups';
import { LIVE_GROUPS_BUDGET_MS, LIVE_GROUPS_PAGE_SIZE, LOOKUP_CALL_TIMEOUT_MS } from '../config/limits';
import type { Principal } from './types';

/** Where current group memberships come from. */
export interface GroupSource {
  /**
   * The groups of the user whose `sub` this is; `undefined` when no such user exists (any more). Throws when the
   * source cannot answer.
   */
  groupsOf(sub: string): Promise<readonly string[] | undefined>;
}

/**
 * What a Cognito `sub` may look like before it goes into a `ListUsers` filter: Cognito issues UUIDs; letters,
 * digits and `-` leave room without letting a quote, backslash or space change the filter's meaning.
 */
export const COGNITO_SUB = /^[A-Za-z0-9-]{1,128}$/;

/** 503: Cognito could not be asked for the caller's groups (liveGroups fails closed). */
export class GroupsLookupError extends TvmError {
  override readonly name = 'GroupsLookupError';
  constructor(options?: { cause?: unknown }) {
    super('groups-check-failed', 'the caller’s current groups could not be read; retry shortly', {
      cause: options?.cause,
    });
  }
}

/** Options of {@link LiveGroups}. */
export interface LiveGroupsOptions {
  readonly source: GroupSource;
  /** Seconds one user's groups are reused in this container; 0 asks on every request. */
  readonly cacheSeconds: number;
  /** Most users remembered. @default 10000 */
  readonly maxEntries?: number;
  /** Clock in epoch milliseconds. @default Date.now */
  readonly nowMs?: () => number;
}

/**
 * Replaces a Cognito principal's groups with its current ones (cached briefly per container, single-flight).
 * A user who no longer exists gets `undefined`: the caller answers 403 `revoked`.
 */
export class LiveGroups {
  private readonly cache: LookupCache<readonly string[] | undefined>;

  constructor(private readonly options: LiveGroupsOptions) {
    this.cache = new LookupCache({
      ttlSeconds: options.cacheSeconds,
      maxEntries: options.maxEntries,
      nowMs: options.nowMs,
    });
  }

  /**
   * The principal with its current groups, or undefined when the user is gone.
   *
   * @throws GroupsLookupError when the source fails
   */
  async resolve(principal: Principal): Promise<Principal | undefined> {
    if (principal.source !== 'cognito' || principal.id === undefined) return principal;
    // The user the token was issued to: its sub, never its (changeable, reusable) user name.
    const sub = principal.claims.sub;
    if (sub === undefined || !COGNITO_SUB.test(sub))
      throw new TvmError('unauthenticated', 'the ID token carries no usable sub to look its user up by');
    let groups: readonly string[] | undefined;
    try {
      groups = await this.cache.get(sub, (s) => this.options.source.groupsOf(s));
    } catch (cause) {
      throw new GroupsLookupError({ cause });
    }
    if (groups === undefined) return undefined;
    // The same limits as groups from a token (common/groups.ts): refused, never cut short.
    const parsed = parseGroupList(groups);
    if (!parsed.ok)
      throw new TvmError('unauthenticated', `the user's current groups are not accepted (${parsed.problem})`);
    return { ...principal, groups: parsed.groups };
  }
}

// What one lookup may take in all: defined with the vending function's timeout budget (config/limits.ts).
export { LIVE_GROUPS_BUDGET_MS };

/** Options of {@link cognitoGroupSource}. */
export interface CognitoGroupSourceOptions {
  readonly userPoolId: string;
  /** Give up on one call after this long (less when the lookup's budget runs out first). @default LOOKUP_CALL_TIMEOUT_MS */
  readonly timeoutMs?: number;
  /** What the whole lookup may take. @default LIVE_GROUPS_BUDGET_MS */
  readonly budgetMs?: number;
  /** Clock in epoch milliseconds. @default Date.now */
  readonly nowMs?: () => number;
  /** Sends the call (tests inject a recorder). @default awsJsonCall from common/aws */
  readonly call?: (call: AwsJsonCall) => Promise<unknown>;
}

/** Cognito's answer to ListUsers, as far as it is read here. */
interface ListUsersPage {
  Users?: { Username?: unknown; Attributes?: { Name?: unknown; Value?: unknown }[] }[];
}

/**
 * `ListUsers` with `Filter: sub = "<sub>"` (exact match) for the user name the token's user has now, then
 * `AdminListGroupsForUser` for it, every page (60 groups each), bounded like token groups (100 × 128 characters).
 * Two calls on every cache miss, within one {@link LIVE_GROUPS_BUDGET_MS} budget. The sub is checked against
 * {@link COGNITO_SUB} before it is put in the filter.
 *
 * @example
 * const source = cognitoGroupSource({ userPoolId: process.env.TVM_USER_POOL_ID! });
 */
export function cognitoGroupSource(options: CognitoGroupSourceOptions): GroupSource {
  const call = options.call ?? awsJsonCall;
  // The pool answers only in its own region, which need not be the function's.
  const region = regionOfUserPool(options.userPoolId);
  const nowMs = options.nowMs ?? Date.now;
  const budgetMs = options.budgetMs ?? LIVE_GROUPS_BUDGET_MS;
  /** One call, given what is left of the lookup's budget (started at `since`). */
  const send = (since: number, operation: string, body: Record<string, unknown>) => {
    const left = budgetMs - (nowMs() - since);
    if (left <= 0) throw new Error(`the live-groups lookup spent its ${budgetMs} ms before ${operation}`);
    return call({
      service: COGNITO_IDENTITY_PROVIDER,
      ...(region ? { region } : {}),
      operation,
      body: { UserPoolId: options.userPoolId, ...body },
      timeoutMs: Math.min(options.timeoutMs ?? LOOKUP_CALL_TIMEOUT_MS, left),
    });
  };

  /** The current user name of the user with this sub, or undefined when there is none. */
  async function usernameOf(since: number, sub: string): Promise<string | undefined> {
    if (!COGNITO_SUB.test(sub)) throw new Error('not a Cognito sub: refused before building a ListUsers filter');
    const page = (await send(since, 'ListUsers', {
      Filter: `sub = "${sub}"`,
      Limit: 1,
      AttributesToGet: ['sub'],
    })) as ListUsersPage;
    const user = page.Users?.[0];
    // Only the user Cognito says has exactly this sub (a filter is no place to trust a near match).
    const hasSub = user?.Attributes?.some((a) => a.Name === 'sub' && a.Value === sub) ?? false;
    return hasSub && typeof user?.Username === 'string' && user.Username !== '' ? user.Username : undefined;
  }

  return {
    async groupsOf(sub) {
      const since = nowMs();
      const username = await usernameOf(since, sub);
      if (username === undefined) return undefined;
      const groups = new Set<string>();
      let next: string | undefined;
      do {
        let page: { Groups?: { GroupName?: unknown }[]; NextToken?: unknown };
        try {
          page = (await send(since, 'AdminListGroupsForUser', {
            Username: username,
            Limit: LIVE_GROUPS_PAGE_SIZE,
            ...(next ? { NextToken: next } : {}),
          })) as typeof page;
        } catch (err) {
          // Deleted between the two calls.
          if (err instanceof AwsCallError && err.errorType === 'UserNotFoundException') return undefined;
          throw err;
        }
        for (const g of page.Groups ?? [])
          if (typeof g.GroupName === 'string' && g.GroupName !== '') groups.add(g.GroupName);
        next = typeof page.NextToken === 'string' && page.NextToken !== '' ? page.NextToken : undefined;
        // One more than the limit is enough to refuse: no need to page further.
      } while (next !== undefined && groups.size <= MAX_GROUPS);
      return [...groups];
    },
  };
}
