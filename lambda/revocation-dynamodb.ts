/**
 * The DynamoDB adapter of {@link RevocationStore}: one `GetItem` (strongly consistent, two attributes) through
 * the tiny signed client in common/aws — no AWS SDK in the vending function's cold path.
 */
import { awsJsonCall, DYNAMODB, type AwsJsonCall } from '../common/aws';
import { LOOKUP_CALL_TIMEOUT_MS } from '../config/limits';
import { REVOCATION_ATTRIBUTES as A, type RevocationRecord, type RevocationStore } from './revocation';

/** Options of {@link dynamoRevocationStore}. */
export interface DynamoRevocationStoreOptions {
  /** The table (the stack passes `TVM_REVOCATION_TABLE`). */
  readonly tableName: string;
  /** Give up on one GetItem after this long (the request then fails closed or open). @default LOOKUP_CALL_TIMEOUT_MS */
  readonly timeoutMs?: number;
  /** Sends the call (tests inject a recorder). @default awsJsonCall from common/aws */
  readonly call?: (call: AwsJsonCall) => Promise<unknown>;
  /** Clock in epoch seconds, to ignore records past their TTL that DynamoDB has not deleted yet. @default Date.now()/1000 */
  readonly nowSeconds?: () => number;
}

type AttributeValue = { S?: string; N?: string };

/**
 * Reads revocation records from DynamoDB. A record past `expiresAt` counts as absent (DynamoDB deletes expired
 * items lazily, within days). A record whose `notBefore` is missing or unreadable refuses every credential.
 *
 * @example
 * const store = dynamoRevocationStore({ tableName: process.env.TVM_REVOCATION_TABLE! });
 */
export function dynamoRevocationStore(options: DynamoRevocationStoreOptions): RevocationStore {
  const call = options.call ?? awsJsonCall;
  const now = options.nowSeconds ?? (() => Date.now() / 1000);
  const timeoutMs = options.timeoutMs ?? LOOKUP_CALL_TIMEOUT_MS;
  return {
    async get(principal) {
      const answer = (await call({
        service: DYNAMODB,
        operation: 'GetItem',
        body: {
          TableName: options.tableName,
          Key: { [A.principal]: { S: principal } },
          // A revocation must be visible to the next lookup, not "usually within a second".
          ConsistentRead: true,
          ProjectionExpression: '#nb, #exp',
          ExpressionAttributeNames: { '#nb': A.notBefore, '#exp': A.expiresAt },
        },
        timeoutMs,
      })) as { Item?: Record<string, AttributeValue> };
      const item = answer.Item;
      if (item === undefined) return undefined;
      const expiresAt = numberOf(item[A.expiresAt]);
      if (expiresAt !== undefined && expiresAt <= now()) return undefined;
      const record: RevocationRecord = {
        principal,
        notBefore: numberOf(item[A.notBefore]) ?? Number.MAX_SAFE_INTEGER,
        ...(expiresAt === undefined ? {} : { expiresAt }),
      };
      return record;
    },
  };
}

function numberOf(v: AttributeValue | undefined): number | undefined {
  const n = v?.N === undefined ? NaN : Number(v.N);
  return Number.isFinite(n) ? n : undefined;
}
