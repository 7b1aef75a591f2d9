/**
 * The `GET /token` contract has one definition, client/src/contract.ts, which the server imports. These tests fail
 * when the two sides drift: at compile time (tsc checks the type assertions below in `npm run build`) and at run
 * time (a real answer of the vending handler must pass the client's parser unchanged).
 */
import * as schema from '../../config/schema';
import cognitoConfig from '../../config/tvm.config';
import * as contract from '../../client/src/contract';
import { parseTokenResponse } from '../../client/src/http';
import type { Grant, MintedToken, MintRequest, TokenBody } from '../../lambda/types';
import { createVendHandler } from '../../lambda/vend';
import { cognitoAuthorizer, tokenEvent } from '../support/events';

/** True only when A and B are the same type (not merely assignable either way). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** Fails to compile unless T is `true`. */
function assertType<T extends true>(): T | undefined {
  return undefined;
}

// Compile-time: the server's types are the contract's, and the operator's config speaks the same roles and
// selectors, so every statement a tier grants is a statement the client can read.
assertType<Equal<Grant, contract.TokenPermission>>();
assertType<Equal<TokenBody, contract.TokenResponse>>();
assertType<Equal<schema.CacheRole, contract.CacheRole>>();
assertType<Equal<schema.TopicRole, contract.TopicRole>>();
assertType<Equal<keyof schema.CachePermission, keyof contract.CachePermission>>();
assertType<Equal<keyof schema.TopicPermission, keyof contract.TopicPermission>>();
assertType<Equal<schema.Permission['type'], contract.TokenPermission['type']>>();
// `type` is a union of literals, not a string.
assertType<Equal<contract.TokenPermission['type'], 'cache' | 'topic'>>();

const NOW = 1_767_225_600;

function vend() {
  const minted: MintRequest[] = [];
  const handler = createVendHandler({
    config: schema.validateConfig(cognitoConfig),
    minter: {
      mint: async (req: MintRequest): Promise<MintedToken> => {
        minted.push(req);
        return { authToken: `tok-${minted.length}`, endpoint: 'cell-1.example.momentohq.com', expiresAt: NOW + 900 };
      },
    },
    telemetry: { record: () => undefined },
    nowSeconds: () => NOW,
  });
  return { handler, minted };
}

describe('Contract: GET /token', () => {
  it('the config schema and the contract list the same roles, in the same order', () => {
    expect(contract.CACHE_ROLES).toEqual(schema.CACHE_ROLES);
    expect(contract.TOPIC_ROLES).toEqual(schema.TOPIC_ROLES);
  });

  it.each([
    ['admins', 'sub-admin-1'],
    ['members', 'sub-member-1'], // every optional selector: keyPrefix, topic, topicPrefix
    ['readers', 'sub-reader-1'],
  ])('a real %s answer of the vending handler passes the client parser unchanged', async (group, sub) => {
    // Prepare
    const { handler, minted } = vend();
    // Act
    const res = await handler(tokenEvent({ authorizer: cognitoAuthorizer(sub, [group]) }));
    // Assess
    expect(res.statusCode).toBe(200);
    const body = JSON.parse(res.body) as Record<string, unknown>;
    const parsed = parseTokenResponse(body, NOW * 1000);
    // Equal means: no member the contract does not name (the parser drops those), none missing, none retyped.
    expect(parsed).toEqual(body);
    expect(parsed?.permissions).toEqual(minted[0]?.grants);
    expect((body.permissions as unknown[]).every(contract.isTokenPermission)).toBe(true);
    // The strict check the smoke test applies to a deployed TVM (scripts/smoke/http-checks.ts) accepts it as well.
    expect(contract.tokenResponseProblems(body, { requireTokenId: group !== 'readers' })).toEqual([]);
    // The reader tier is shared (one token for all readers): no per-user tokenId.
    const fields = ['authToken', 'endpoint', 'expiresAt', 'expiresIn', 'permissions'];
    expect(Object.keys(body).sort()).toEqual((group === 'readers' ? fields : [...fields, 'tokenId']).sort());
  });

  it('the member tier exercises every optional selector of both statement kinds', async () => {
    const { handler } = vend();
    const res = await handler(tokenEvent({ authorizer: cognitoAuthorizer('sub-member-1', ['members']) }));
    const permissions = (JSON.parse(res.body) as contract.TokenResponse).permissions;
    const members = new Set(permissions.flatMap((p) => Object.keys(p)));
    expect([...members].sort()).toEqual(['cache', 'keyPrefix', 'role', 'topic', 'topicPrefix', 'type']);
  });

  it.each([
    [{ type: 'cache', cache: 'a', role: 'readwrite' }, true],
    [{ type: 'topic', cache: '*', role: 'subscribeonly', topicPrefix: 'chat-' }, true],
    [{ type: 'cache', cache: 'a', role: 'publishonly' }, false],
    [{ type: 'topic', cache: 'a', role: 'publishonly', keyPrefix: 'x' }, false],
    [{ type: 'queue', cache: 'a', role: 'readwrite' }, false],
    [{ cache: 'a', role: 'readwrite' }, false],
    [null, false],
    [['cache'], false],
  ])('isTokenPermission(%j) is %s', (value, expected) => {
    expect(contract.isTokenPermission(value)).toBe(expected);
  });
});
