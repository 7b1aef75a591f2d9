/**
 * One round trip for the lookups of one request: `GetItem` calls issued in the same turn of the event loop (the
 * revocation record and the fleet's cached token) are sent as one `BatchGetItem`, and each caller gets back the
 * `{ Item }` its own `GetItem` would have returned. Everything else passes through unchanged.
 *
 * A wrapper of the `call` port the DynamoDB adapters already take (lambda/revocation-dynamodb.ts,
 * lambda/fleet-tokens.ts), so neither adapter knows about the other; docs/decisions.md, "Fleet token cache".
 */
import { AwsCallError, DYNAMODB, type AwsJsonCall } from '../common/aws';

type Call = (call: AwsJsonCall) => Promise<unknown>;
type AttributeValue = Record<string, unknown>;
type Item = Record<string, AttributeValue>;

interface GetItemBody {
  readonly TableName: string;
  readonly Key: Item;
  readonly ConsistentRead?: boolean;
  readonly ProjectionExpression?: string;
  readonly ExpressionAttributeNames?: Record<string, string>;
}

interface Pending {
  readonly call: AwsJsonCall;
  readonly body: GetItemBody;
  readonly resolve: (answer: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/** BatchGetItem hands back what it could not read in time; those are asked for again, this many times. */
const UNPROCESSED_RETRIES = 2;

/** The answer to one request of a batch that DynamoDB left unprocessed twice: retry, as a throttle would say. */
export class UnprocessedKeyError extends Error {
  override readonly name = 'UnprocessedKeyError';
}

/** Options of {@link coalescingGetItems}. */
export interface CoalescingOptions {
  /** Sends the calls. */
  readonly call: Call;
  /** Runs the flush after the current turn. @default setImmediate */
  readonly defer?: (flush: () => void) => void;
}

/**
 * Wraps `call` so that `GetItem`s of one turn share one `BatchGetItem`. A lone `GetItem` is sent as itself; two
 * reads of one table with different projections or consistency are sent separately (never widened).
 *
 * @example
 * const call = coalescingGetItems({ call: awsJsonCall });
 * const revocation = dynamoRevocationStore({ tableName, call });
 */
export function coalescingGetItems(options: CoalescingOptions): Call {
  const defer = options.defer ?? ((flush) => setImmediate(flush));
  let queue: Pending[] = [];

  const flush = () => {
    const batch = queue;
    queue = [];
    // Reads that can share a BatchGetItem: one shape per table, one key per item.
    const shapeOf = (b: GetItemBody) =>
      JSON.stringify([b.ConsistentRead === true, b.ProjectionExpression ?? '', b.ExpressionAttributeNames ?? {}]);
    const byTable = new Map<string, Pending[]>();
    const alone: Pending[] = [];
    for (const p of batch) {
      const group = byTable.get(p.body.TableName);
      if (group && (shapeOf(group[0]!.body) !== shapeOf(p.body) || group.some((g) => sameKey(g.body.Key, p.body.Key))))
        alone.push(p);
      else if (group) group.push(p);
      else byTable.set(p.body.TableName, [p]);
    }
    const grouped = [...byTable.values()];
    if (grouped.length === 1 && grouped[0]!.length === 1) alone.push(grouped[0]![0]!);
    else if (grouped.length > 0) void batchGet(options.call, grouped);
    for (const p of alone) options.call(p.call).then(p.resolve, p.reject);
  };

  return (call) => {
    if (call.service !== DYNAMODB || call.operation !== 'GetItem') return options.call(call);
    return new Promise((resolve, reject) => {
      if (queue.length === 0) defer(flush);
      queue.push({ call, body: call.body as GetItemBody, resolve, reject });
    });
  };
}

/** One BatchGetItem for every group (a table each), then each caller's `{ Item }`. */
async function batchGet(call: Call, groups: Pending[][]): Promise<void> {
  const all = groups.flat();
  const found = new Map<Pending, Item>();
  let open = all;
  try {
    for (let attempt = 0; attempt <= UNPROCESSED_RETRIES && open.length > 0; attempt++) {
      const requestItems: Record<string, unknown> = {};
      for (const p of open) {
        const b = p.body;
        const entry = (requestItems[b.TableName] ??= {
          Keys: [] as Item[],
          ...(b.ConsistentRead === undefined ? {} : { ConsistentRead: b.ConsistentRead }),
          ...(b.ProjectionExpression === undefined
            ? {}
            : { ProjectionExpression: withKeyAttributes(b), ExpressionAttributeNames: namesWithKeys(b) }),
        }) as { Keys: Item[] };
        entry.Keys.push(b.Key);
      }
      const answer = (await call({
        service: DYNAMODB,
        operation: 'BatchGetItem',
        body: { RequestItems: requestItems },
        timeoutMs: Math.min(...open.map((p) => p.call.timeoutMs)),
        ...(open[0]!.call.env === undefined ? {} : { env: open[0]!.call.env }),
      })) as { Responses?: Record<string, Item[]>; UnprocessedKeys?: Record<string, { Keys?: Item[] }> };
      for (const p of open) {
        const item = answer.Responses?.[p.body.TableName]?.find((i) => matchesKey(i, p.body.Key));
        if (item) found.set(p, stripKeys(item, p.body));
      }
      const unprocessed = answer.UnprocessedKeys ?? {};
      open = open.filter((p) => (unprocessed[p.body.TableName]?.Keys ?? []).some((k) => sameKey(k, p.body.Key)));
    }
  } catch (error) {
    // One table refusing (missing, access denied) must not fail the other table's read: each is asked alone.
    // A transient failure (timeout, connection) is DynamoDB's as a whole, and every read gets it.
    if (error instanceof AwsCallError && error.kind === 'permanent')
      for (const p of all) call(p.call).then(p.resolve, p.reject);
    else for (const p of all) p.reject(error);
    return;
  }
  for (const p of all)
    if (open.includes(p))
      p.reject(new UnprocessedKeyError(`${p.body.TableName}: key left unprocessed by BatchGetItem`));
    else p.resolve(found.has(p) ? { Item: found.get(p) } : {});
}

const sameKey = (a: Item, b: Item): boolean => {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => JSON.stringify(a[k]) === JSON.stringify(b[k]));
};
const matchesKey = (item: Item, key: Item): boolean =>
  Object.keys(key).every((k) => JSON.stringify(item[k]) === JSON.stringify(key[k]));

// A BatchGetItem answer is matched to its request by the key, so the key attributes join the projection; the
// caller gets back exactly the attributes its own GetItem asked for.
const keyAlias = (name: string) => `#k_${name.replace(/[^A-Za-z0-9_]/g, '_')}`;
const withKeyAttributes = (b: GetItemBody): string =>
  [b.ProjectionExpression, ...Object.keys(b.Key).map(keyAlias)].join(', ');
const namesWithKeys = (b: GetItemBody): Record<string, string> => ({
  ...b.ExpressionAttributeNames,
  ...Object.fromEntries(Object.keys(b.Key).map((k) => [keyAlias(k), k])),
});
function stripKeys(item: Item, b: GetItemBody): Item {
  if (b.ProjectionExpression === undefined) return item;
  const asked = new Set(
    b.ProjectionExpression.split(',')
      .map((s) => s.trim())
      .map((s) => b.ExpressionAttributeNames?.[s] ?? s),
  );
  return Object.fromEntries(Object.entries(item).filter(([k]) => asked.has(k)));
}
