/**
 * The fleet's token cache: a token minted by one container is found by every other one, so a user who reloads on
 * another container, or a thousand readers of one shared scope, cost one mint instead of one each.
 *
 * Items live in the stack's token table (partition key `pk`, TTL attribute `ttl`), keyed by a hash of everything
 * that decides the token (lambda/token-reuse.ts builds it). The token itself is sealed with AES-256-GCM under a
 * key derived (HKDF-SHA256) from the TVM's Momento API key, which only the functions hold: whoever can read the
 * table cannot use what it holds, and a rotated API key turns every old item into a miss. The clear attributes
 * (expiry, mint time, ttl) are bound to the ciphertext as associated data, so they cannot be edited either.
 * docs/decisions.md, "Fleet token cache" has the choice and its measured cost.
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { awsJsonCall, DYNAMODB, type AwsJsonCall } from '../common/aws';
import { LOOKUP_CALL_TIMEOUT_MS } from '../config/limits';
import type { KeySource, MintedToken } from './types';

/** A token as the fleet keeps it. */
export interface StoredToken {
  readonly token: MintedToken;
  /** Epoch seconds the token was minted at (a revocation after it makes it unusable for that user). */
  readonly mintedAt: number;
  /** The ttl it was minted with: freshness is a fraction of it. */
  readonly ttlSeconds: number;
}

/** Where fleet-shared tokens live (DynamoDB in the stack; a Map in unit tests). Methods throw when the store fails. */
export interface FleetTokenStore {
  /** The token stored under `key`, or undefined (none, expired, or sealed under another API key). */
  get(key: string): Promise<StoredToken | undefined>;
  /** Stores `entry` under `key` unless a token that lives longer is already there. */
  put(key: string, entry: StoredToken): Promise<void>;
  /**
   * Claims the right to refresh `key` until `untilSeconds`: true for exactly one caller at a time, so one
   * container pre-mints a shared scope while the others keep serving the current token.
   */
  lease(key: string, untilSeconds: number): Promise<boolean>;
}

/** Attribute names of the token table's items (the stack and the adapters agree on these). */
export const TOKEN_TABLE_ATTRIBUTES = {
  /** Partition key (S): `tok#…` for cached tokens, `gov#…` for the mint governor. */
  pk: 'pk',
  /** N, epoch seconds: DynamoDB's TTL deletes the item after this. */
  ttl: 'ttl',
} as const;

/** Associated data and key derivation labels: bump the version when the item format changes. */
const FORMAT = 'momento-tvm fleet token v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Options of {@link dynamoFleetTokenStore}. */
export interface DynamoFleetTokenStoreOptions {
  /** The token table (`TVM_TOKEN_TABLE`). */
  readonly tableName: string;
  /** The TVM's Momento API key: the sealing key is derived from it. */
  readonly keySource: KeySource;
  /** Give up on one call after this long. @default LOOKUP_CALL_TIMEOUT_MS */
  readonly timeoutMs?: number;
  /** Sends the call (lambda/dynamo-batch.ts coalesces the GetItem with the revocation lookup). @default awsJsonCall */
  readonly call?: (call: AwsJsonCall) => Promise<unknown>;
  /** Clock in epoch seconds. @default Date.now()/1000 */
  readonly nowSeconds?: () => number;
}

type AttributeValue = { S?: string; N?: string };

/** The partition key of a cache key: a hash, so the item names neither the user nor the scope. */
export const tokenItemKey = (key: string): string => `tok#${createHash('sha256').update(key).digest('base64url')}`;

/**
 * The DynamoDB adapter of {@link FleetTokenStore}.
 *
 * @example
 * const fleet = dynamoFleetTokenStore({ tableName: process.env.TVM_TOKEN_TABLE!, keySource });
 */
export function dynamoFleetTokenStore(options: DynamoFleetTokenStoreOptions): FleetTokenStore {
  const call = options.call ?? awsJsonCall;
  const now = options.nowSeconds ?? (() => Date.now() / 1000);
  const timeoutMs = options.timeoutMs ?? LOOKUP_CALL_TIMEOUT_MS;
  const sealer = sealingKeys(options.keySource);
  const send = (operation: string, body: unknown) =>
    call({ service: DYNAMODB, operation, body: { TableName: options.tableName, ...(body as object) }, timeoutMs });

  return {
    async get(key) {
      const pk = tokenItemKey(key);
      // Started together: the GetItem joins the revocation lookup's round trip, the key read overlaps both.
      const [answer, secret] = await Promise.all([
        send('GetItem', {
          Key: { pk: { S: pk } },
          ProjectionExpression: 'ct, #exp, mat, tts',
          ExpressionAttributeNames: { '#exp': 'exp' },
        }) as Promise<{ Item?: Record<string, AttributeValue> }>,
        sealer.current(),
      ]);
      const item = answer.Item;
      if (item === undefined) return undefined;
      const expiresAt = numberOf(item.exp);
      const mintedAt = numberOf(item.mat);
      const ttlSeconds = numberOf(item.tts);
      const sealed = item.ct?.S;
      if (expiresAt === undefined || mintedAt === undefined || ttlSeconds === undefined || sealed === undefined)
        return undefined;
      if (expiresAt <= now()) return undefined;
      const opened = open(secret, sealed, associatedData(pk, expiresAt, mintedAt, ttlSeconds));
      if (opened === undefined) return undefined;
      return { token: { ...opened, expiresAt }, mintedAt, ttlSeconds };
    },

    async put(key, entry) {
      const pk = tokenItemKey(key);
      const { expiresAt } = entry.token;
      const secret = await sealer.current();
      const ct = seal(
        secret,
        { authToken: entry.token.authToken, endpoint: entry.token.endpoint },
        associatedData(pk, expiresAt, entry.mintedAt, entry.ttlSeconds),
      );
      try {
        await send('PutItem', {
          Item: {
            pk: { S: pk },
            ct: { S: ct },
            exp: { N: String(expiresAt) },
            mat: { N: String(entry.mintedAt) },
            tts: { N: String(entry.ttlSeconds) },
            ttl: { N: String(Math.ceil(expiresAt)) },
          },
          // Two containers that minted the same scope at once: the token that lives longer stays.
          ConditionExpression: 'attribute_not_exists(pk) OR #exp < :exp',
          ExpressionAttributeNames: { '#exp': 'exp' },
          ExpressionAttributeValues: { ':exp': { N: String(expiresAt) } },
        });
      } catch (error) {
        if (!isConditionFailed(error)) throw error;
      }
    },

    async lease(key, untilSeconds) {
      try {
        await send('UpdateItem', {
          Key: { pk: { S: tokenItemKey(key) } },
          UpdateExpression: 'SET lease = :until',
          // Only on an existing item (a lease never creates one), and only when no other lease is running.
          ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(lease) OR lease < :now)',
          ExpressionAttributeValues: { ':until': { N: String(untilSeconds) }, ':now': { N: String(now()) } },
        });
        return true;
      } catch (error) {
        if (isConditionFailed(error)) return false;
        throw error;
      }
    },
  };
}

/** True for DynamoDB's answer to a condition that did not hold. */
export const isConditionFailed = (error: unknown): boolean =>
  error instanceof Error && (error as { errorType?: string }).errorType === 'ConditionalCheckFailedException';

const associatedData = (pk: string, expiresAt: number, mintedAt: number, ttlSeconds: number) =>
  Buffer.from(`${FORMAT}\u0000${pk}\u0000${expiresAt}\u0000${mintedAt}\u0000${ttlSeconds}`);

/** The sealing key of the current API key, derived once per key (a rotated key derives a new one). */
function sealingKeys(keySource: KeySource): { current(): Promise<Buffer> } {
  let last: { apiKey: string; key: Buffer } | undefined;
  return {
    async current() {
      const apiKey = await keySource.getKey();
      if (last?.apiKey !== apiKey)
        last = { apiKey, key: Buffer.from(hkdfSync('sha256', apiKey, FORMAT, 'token sealing key', 32)) };
      return last.key;
    },
  };
}

/** `base64url(iv ‖ ciphertext ‖ tag)` of the JSON of `value`. */
export function seal(key: Buffer, value: { authToken: string; endpoint: string }, aad: Buffer): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
}

/** The sealed value, or undefined when it was sealed under another key, edited, or is not ours. */
export function open(key: Buffer, sealed: string, aad: Buffer): { authToken: string; endpoint: string } | undefined {
  const raw = Buffer.from(sealed, 'base64url');
  if (raw.length < IV_BYTES + TAG_BYTES + 2) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
    decipher.setAAD(aad);
    decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
    const text = Buffer.concat([
      decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)),
      decipher.final(),
    ]).toString('utf8');
    const value = JSON.parse(text) as { authToken?: unknown; endpoint?: unknown };
    return typeof value.authToken === 'string' && typeof value.endpoint === 'string'
      ? { authToken: value.authToken, endpoint: value.endpoint }
      : undefined;
  } catch {
    return undefined;
  }
}

function numberOf(v: AttributeValue | undefined): number | undefined {
  const n = v?.N === undefined ? NaN : Number(v.N);
  return Number.isFinite(n) ? n : undefined;
}
