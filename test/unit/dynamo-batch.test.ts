import { AwsCallError, DYNAMODB, type AwsJsonCall } from '../../common/aws';
import { coalescingGetItems, UnprocessedKeyError } from '../../lambda/dynamo-batch';
import { open, seal } from '../../lambda/fleet-tokens';

const getItem = (table: string, key: Record<string, unknown>, extra: Record<string, unknown> = {}): AwsJsonCall => ({
  service: DYNAMODB,
  operation: 'GetItem',
  body: { TableName: table, Key: key, ...extra },
  timeoutMs: 1000,
});
const REVOCATION = getItem(
  'rev',
  { principal: { S: 'cognito:a' } },
  { ConsistentRead: true, ProjectionExpression: '#nb', ExpressionAttributeNames: { '#nb': 'notBefore' } },
);
const TOKEN = getItem('fleet', { pk: { S: 'tok#1' } }, { ProjectionExpression: 'ct' });

describe('Function: coalescingGetItems', () => {
  it('sends the GetItems of one turn as one BatchGetItem and hands each caller its own item', async () => {
    // Prepare
    const sent: AwsJsonCall[] = [];
    const call = coalescingGetItems({
      call: async (c) => {
        sent.push(c);
        return {
          Responses: {
            rev: [{ principal: { S: 'cognito:a' }, notBefore: { N: '5' } }],
            fleet: [{ pk: { S: 'tok#1' }, ct: { S: 'sealed' } }],
          },
        };
      },
    });

    // Act
    const [rev, tok] = await Promise.all([call(REVOCATION), call(TOKEN)]);

    // Assess
    expect(sent.map((c) => c.operation)).toEqual(['BatchGetItem']);
    const items = (sent[0]!.body as { RequestItems: Record<string, Record<string, unknown>> }).RequestItems;
    expect(items.rev).toMatchObject({ ConsistentRead: true, Keys: [{ principal: { S: 'cognito:a' } }] });
    expect(items.fleet).toMatchObject({ Keys: [{ pk: { S: 'tok#1' } }] });
    // Each caller sees exactly the attributes its GetItem projected (the key joined the batch's projection only).
    expect(rev).toEqual({ Item: { notBefore: { N: '5' } } });
    expect(tok).toEqual({ Item: { ct: { S: 'sealed' } } });
  });

  it('sends a lone GetItem as itself, and other operations straight through', async () => {
    // Prepare
    const sent: string[] = [];
    const call = coalescingGetItems({ call: async (c) => (sent.push(c.operation), {}) });

    // Act
    await call(TOKEN);
    await call({ ...TOKEN, operation: 'PutItem' });

    // Assess
    expect(sent).toEqual(['GetItem', 'PutItem']);
  });

  it('answers an absent item as GetItem does, and asks again for unprocessed keys', async () => {
    // Prepare
    let calls = 0;
    const call = coalescingGetItems({
      call: async () =>
        ++calls === 1
          ? { Responses: { rev: [] }, UnprocessedKeys: { fleet: { Keys: [{ pk: { S: 'tok#1' } }] } } }
          : { Responses: { fleet: [{ pk: { S: 'tok#1' }, ct: { S: 'x' } }] } },
    });

    // Act
    const [rev, tok] = await Promise.all([call(REVOCATION), call(TOKEN)]);

    // Assess
    expect(rev).toEqual({});
    expect(tok).toEqual({ Item: { ct: { S: 'x' } } });
    expect(calls).toBe(2);
  });

  it('fails only the reads DynamoDB kept leaving unprocessed', async () => {
    // Prepare
    const call = coalescingGetItems({
      call: async () => ({ Responses: { rev: [] }, UnprocessedKeys: { fleet: { Keys: [{ pk: { S: 'tok#1' } }] } } }),
    });

    // Act
    const [rev, tok] = await Promise.allSettled([call(REVOCATION), call(TOKEN)]);

    // Assess
    expect(rev).toEqual({ status: 'fulfilled', value: {} });
    expect(tok.status === 'rejected' && tok.reason).toBeInstanceOf(UnprocessedKeyError);
  });

  it('a table refusing the batch (permanent error) does not fail the other table’s read', async () => {
    // Prepare
    const call = coalescingGetItems({
      call: async (c) => {
        if (c.operation === 'BatchGetItem')
          throw new AwsCallError('dynamodb.BatchGetItem', 'service', {
            errorType: 'ResourceNotFoundException',
            message: 'x',
          });
        if ((c.body as { TableName: string }).TableName === 'fleet')
          throw new AwsCallError('dynamodb.GetItem', 'service', {
            errorType: 'ResourceNotFoundException',
            message: 'x',
          });
        return { Item: { notBefore: { N: '1' } } };
      },
    });

    // Act
    const [rev, tok] = await Promise.allSettled([call(REVOCATION), call(TOKEN)]);

    // Assess
    expect(rev).toEqual({ status: 'fulfilled', value: { Item: { notBefore: { N: '1' } } } });
    expect(tok.status).toBe('rejected');
  });

  it('a transient failure reaches every read of the batch (the revocation check then fails closed)', async () => {
    // Prepare
    const sent: string[] = [];
    const call = coalescingGetItems({
      call: async (c) => {
        sent.push(c.operation);
        throw new AwsCallError('dynamodb.BatchGetItem', 'timeout', { message: 'slow' });
      },
    });

    // Act
    const results = await Promise.allSettled([call(REVOCATION), call(TOKEN)]);

    // Assess
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(sent).toEqual(['BatchGetItem']);
  });
});

describe('Function: seal / open (fleet items)', () => {
  const key = Buffer.alloc(32, 7);
  const aad = Buffer.from('pk|900');
  const value = { authToken: 'secret-token', endpoint: 'momento.test' };

  it('round-trips, and hides the token', () => {
    const sealed = seal(key, value, aad);
    expect(sealed).not.toContain('secret');
    expect(Buffer.from(sealed, 'base64url').toString('latin1')).not.toContain('secret-token');
    expect(open(key, sealed, aad)).toEqual(value);
  });

  it('refuses another key, edited associated data (e.g. a longer expiry) and edited ciphertext', () => {
    const sealed = seal(key, value, aad);
    expect(open(Buffer.alloc(32, 8), sealed, aad)).toBeUndefined();
    expect(open(key, sealed, Buffer.from('pk|9000'))).toBeUndefined();
    const raw = Buffer.from(sealed, 'base64url');
    raw[14]! ^= 1;
    expect(open(key, raw.toString('base64url'), aad)).toBeUndefined();
    expect(open(key, 'short', aad)).toBeUndefined();
  });
});
