/**
 * The vending function's timeout budget has one home (config/limits.ts): the construct computes the function's
 * timeout from the constants the function's code waits on. These tests tie the two sides: each wait, left at its
 * default, uses the budget's constant (so changing a wait alone fails here), and the timeout adds up exactly those
 * waits (so changing the sum alone fails here and in test/infra/security.test.ts).
 */
import type { AwsJsonCall } from '../../common/aws';
import { SECRET_READ_TIMEOUT_MS as READER_TIMEOUT_MS } from '../../common/secret-reader';
import {
  AUTHORIZER_TIMEOUT_SECONDS,
  GOVERNOR_CALLS,
  JWKS_RESPONSE_TIMEOUT_MS,
  GOVERNOR_CALL_TIMEOUT_MS,
  LIVE_GROUPS_BUDGET_MS,
  LIVE_GROUPS_PAGE_SIZE,
  LOOKUPS_BUDGET_MS,
  LOOKUP_CALL_TIMEOUT_MS,
  MINT_WAIT_MS,
  SECRET_READ_TIMEOUT_MS,
  vendingTimeoutSeconds,
} from '../../config/limits';
import { dynamoFleetTokenStore } from '../../lambda/fleet-tokens';
import { cognitoGroupSource } from '../../lambda/live-groups';
import { staticKeySource } from '../../lambda/momento/key-source';
import { dynamoRevocationStore } from '../../lambda/revocation-dynamodb';
import { vendingTimeoutSeconds as constructTimeoutSeconds } from '../../lib/token-vending-machine';

/** A `call` port that records what it is asked and answers `answer(call, index)`. */
const recorder = (answer: (c: AwsJsonCall, i: number) => unknown = () => ({})) => {
  const seen: AwsJsonCall[] = [];
  const call = async (c: AwsJsonCall) => {
    seen.push(c);
    return answer(c, seen.length - 1);
  };
  return { seen, call };
};

describe('Rule: the vending timeout budget (config/limits.ts)', () => {
  it('the revocation GetItem gives up after LOOKUP_CALL_TIMEOUT_MS', async () => {
    const { seen, call } = recorder();
    await dynamoRevocationStore({ tableName: 't', call }).get('sub-1');
    expect(seen.map((c) => c.timeoutMs)).toEqual([LOOKUP_CALL_TIMEOUT_MS]);
  });

  it("the token table's read gives up after LOOKUP_CALL_TIMEOUT_MS", async () => {
    const { seen, call } = recorder();
    const store = dynamoFleetTokenStore({ tableName: 't', call, keySource: staticKeySource('key') });
    await store.get('k');
    expect(seen.map((c) => [c.operation, c.timeoutMs])).toEqual([['GetItem', LOOKUP_CALL_TIMEOUT_MS]]);
  });

  it('liveGroups gives each call LOOKUP_CALL_TIMEOUT_MS and the whole lookup LIVE_GROUPS_BUDGET_MS', async () => {
    // A user in far too many groups: ListUsers, then AdminListGroupsForUser pages until one group too many.
    let now = 0;
    const sub = '0123abcd-0123-4567-89ab-0123456789ab';
    const { seen, call } = recorder((c, i) =>
      c.operation === 'ListUsers'
        ? { Users: [{ Username: 'alice', Attributes: [{ Name: 'sub', Value: sub }] }] }
        : {
            Groups: Array.from({ length: LIVE_GROUPS_PAGE_SIZE }, (_, j) => ({ GroupName: `g${i}-${j}` })),
            NextToken: `page-${i + 1}`,
          },
    );
    await cognitoGroupSource({ userPoolId: 'us-west-2_AbC', call, nowMs: () => now }).groupsOf(sub);
    expect(seen.map((c) => c.timeoutMs)).toEqual(seen.map(() => LOOKUP_CALL_TIMEOUT_MS));
    for (const c of seen.slice(1)) expect((c.body as { Limit: number }).Limit).toBe(LIVE_GROUPS_PAGE_SIZE);
    // Late in the lookup a call gets only what is left of the budget, and none once it is spent.
    const late = recorder((c) =>
      c.operation === 'ListUsers'
        ? ((now = LIVE_GROUPS_BUDGET_MS - 300),
          {
            Users: [{ Username: 'alice', Attributes: [{ Name: 'sub', Value: sub }] }],
          })
        : { Groups: [] },
    );
    now = 0;
    await cognitoGroupSource({ userPoolId: 'us-west-2_AbC', call: late.call, nowMs: () => now }).groupsOf(sub);
    expect(late.seen.map((c) => c.timeoutMs)).toEqual([LOOKUP_CALL_TIMEOUT_MS, 300]);
    // The lookups before a mint: the revocation read and this lookup, side by side.
    expect(LOOKUPS_BUDGET_MS).toBe(Math.max(LOOKUP_CALL_TIMEOUT_MS, LIVE_GROUPS_BUDGET_MS));
  });

  it('both functions read secrets with the budget’s SECRET_READ_TIMEOUT_MS', () => {
    expect(READER_TIMEOUT_MS).toBe(SECRET_READ_TIMEOUT_MS);
  });

  it.each([100, 3000, 10000])(
    'the timeout for a %i ms mint deadline adds up the waits, plus a second',
    (deadlineMs) => {
      const waits =
        LOOKUPS_BUDGET_MS +
        MINT_WAIT_MS +
        GOVERNOR_CALLS * GOVERNOR_CALL_TIMEOUT_MS +
        2 * deadlineMs +
        2 * SECRET_READ_TIMEOUT_MS;
      const expected = Math.min(28, Math.max(10, Math.ceil((waits + 1000) / 1000)));
      expect(vendingTimeoutSeconds(deadlineMs)).toBe(expected);
      // The construct sizes the function with this very function (its synthesized Timeout: test/infra/security.test.ts).
      expect(constructTimeoutSeconds).toBe(vendingTimeoutSeconds);
    },
  );
});

describe('Rule: the authorizer timeout budget (config/limits.ts)', () => {
  it('downloads the JWKS with JWKS_RESPONSE_TIMEOUT_MS per attempt', async () => {
    const seen: unknown[] = [];
    await jest.isolateModulesAsync(async () => {
      jest.doMock('aws-jwt-verify/https', () => {
        const actual = jest.requireActual<typeof import('aws-jwt-verify/https')>('aws-jwt-verify/https');
        class RecordingFetcher extends actual.SimpleFetcher {
          constructor(props?: ConstructorParameters<typeof actual.SimpleFetcher>[0]) {
            super(props);
            seen.push(props?.defaultRequestOptions?.responseTimeout);
          }
        }
        return { ...actual, SimpleFetcher: RecordingFetcher };
      });
      const { createJwtVerifier } = await import('../../authorizers/verify');
      const { authorizerAuth } = await import('./authorizer-fixtures');
      createJwtVerifier(authorizerAuth());
    });
    expect(seen).toEqual([JWKS_RESPONSE_TIMEOUT_MS]);
  });

  it('a JWKS download and its retry, or a secret read, end a second before the function is cut off', () => {
    expect(2 * JWKS_RESPONSE_TIMEOUT_MS + 1000).toBeLessThanOrEqual(AUTHORIZER_TIMEOUT_SECONDS * 1000);
    expect(SECRET_READ_TIMEOUT_MS + 1000).toBeLessThanOrEqual(AUTHORIZER_TIMEOUT_SECONDS * 1000);
  });
});
