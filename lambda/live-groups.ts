/**
 * `auth.liveGroups` (Cognito mode): the caller's CURRENT groups, read from the user pool, replace the ID token's
 * `cognito:groups`, so removing a user from a group changes their next Momento token within `cacheSeconds`
 * instead of at ID token expiry. Pure logic against a {@link GroupSource} port; the Cognito adapter below
 * uses the signed client in common/aws (`AdminListGroupsForUser`).
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
import { LIVE_GROUPS_PAGE_SIZE, LOOKUP_CALL_TIMEOUT_MS } from '../config/limits';
import type { Principal } from './types';

/** Where current group memberships come from. */
export interface GroupSource {
  /** The user's groups; `undefined` when the user no longer exists. Throws when the source cannot answer. */
  groupsOf(username: string): Promise<readonly string[] | undefined>;
}

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
    // Admin APIs take the user name, or the sub of a local user; the ID token carries both.
    const username = principal.claims['cognito:username'] ?? principal.id;
    let groups: readonly string[] | undefined;
    try {
      groups = await this.cache.get(username, (u) => this.options.source.groupsOf(u));
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

/** Options of {@link cognitoGroupSource}. */
export interface CognitoGroupSourceOptions {
  readonly userPoolId: string;
  /** Give up on one page after this long. @default LOOKUP_CALL_TIMEOUT_MS */
  readonly timeoutMs?: number;
  /** Sends the call (tests inject a recorder). @default awsJsonCall from common/aws */
  readonly call?: (call: AwsJsonCall) => Promise<unknown>;
}

/**
 * `AdminListGroupsForUser`, every page (60 groups each), bounded like token groups (100 × 128 characters).
 *
 * @example
 * const source = cognitoGroupSource({ userPoolId: process.env.TVM_USER_POOL_ID! });
 */
export function cognitoGroupSource(options: CognitoGroupSourceOptions): GroupSource {
  const call = options.call ?? awsJsonCall;
  // The pool answers only in its own region, which need not be the function's.
  const region = regionOfUserPool(options.userPoolId);
  return {
    async groupsOf(username) {
      const groups = new Set<string>();
      let next: string | undefined;
      do {
        let page: { Groups?: { GroupName?: unknown }[]; NextToken?: unknown };
        try {
          page = (await call({
            service: COGNITO_IDENTITY_PROVIDER,
            ...(region ? { region } : {}),
            operation: 'AdminListGroupsForUser',
            body: {
              UserPoolId: options.userPoolId,
              Username: username,
              Limit: LIVE_GROUPS_PAGE_SIZE,
              ...(next ? { NextToken: next } : {}),
            },
            timeoutMs: options.timeoutMs ?? LOOKUP_CALL_TIMEOUT_MS,
          })) as typeof page;
        } catch (err) {
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
