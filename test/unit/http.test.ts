import { preflightResponse } from '../../lambda/http';

describe('Function: preflightResponse (the dev server’s stand-in for the stack’s OPTIONS mock)', () => {
  const allowed = new Set(['http://localhost:5173']);

  it('answers an allowed origin with the headers and max age the stack’s API Gateway sends', () => {
    expect(preflightResponse('http://localhost:5173', allowed)).toEqual({
      statusCode: 204,
      headers: {
        Vary: 'Origin',
        'Access-Control-Allow-Origin': 'http://localhost:5173',
        'Access-Control-Expose-Headers': 'Retry-After',
        'Access-Control-Allow-Methods': 'GET,OPTIONS',
        'Access-Control-Allow-Headers': 'Authorization,Content-Type',
        // test/infra/api.test.ts: 'method.response.header.Access-Control-Max-Age': "'3600'"
        'Access-Control-Max-Age': '3600',
      },
      body: '',
    });
  });

  it('allows nothing for another origin', () => {
    expect(preflightResponse('https://evil.example', allowed).headers).toEqual({ Vary: 'Origin' });
  });
});
