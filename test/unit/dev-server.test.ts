import type { IncomingMessage } from 'node:http';
import { validateConfig } from '../../config/schema';
import openConfig from '../../config/examples/open.config';
import { toEvent } from '../../dev/server';
import { createVendHandler } from '../../lambda/vend';

const request = (headers: Record<string, string> = {}) =>
  ({ headers, method: 'GET', socket: { remoteAddress: '127.0.0.1' } }) as unknown as IncomingMessage;

describe('Function: toEvent (dev server)', () => {
  it('builds the REST proxy event API Gateway would: repeated parameters, last value wins in the single map', () => {
    const event = toEvent(
      request({ origin: 'http://localhost:8080' }),
      new URL('http://localhost/token?topic=a&topic=b'),
      null,
    );
    expect(event.multiValueQueryStringParameters).toEqual({ topic: ['a', 'b'] });
    expect(event.queryStringParameters).toEqual({ topic: 'b' });
    expect(event.headers).toEqual({ origin: 'http://localhost:8080' });
    expect(event.requestContext.identity.sourceIp).toBe('127.0.0.1');
  });

  it.each(['__proto__', 'constructor', 'hasOwnProperty'])(
    'keeps a parameter named %s as a plain name, which the handler refuses with 400',
    async (name) => {
      // Prepare
      const handler = createVendHandler({
        config: validateConfig(openConfig),
        minter: { mint: () => Promise.reject(new Error('must not mint')) },
      });
      // Act
      const event = toEvent(request(), new URL(`http://localhost/token?${name}=1`), null);
      const res = await handler(event);
      // Assess
      expect(event.multiValueQueryStringParameters?.[name]).toEqual(['1']);
      expect(res.statusCode).toBe(400);
      expect(JSON.parse(res.body)).toMatchObject({ code: 'unknown-parameter' });
    },
  );
});
