/** API Gateway events the benchmark sends to the handlers. */
import type { APIGatewayProxyEvent } from 'aws-lambda';

/** The app client id the benchmark's Cognito ID tokens were issued to (`aud`); the stack passes the pool's ids. */
export const BENCH_CLIENT_ID = 'benchclient0000000000000000';

/** Cognito `sub` number `i` (UUID-shaped, as Cognito issues them). */
export const subOf = (i: number): string => `${(i >>> 0).toString(16).padStart(8, '0')}-7d1e-4c55-9a3b-5e0c2f6a9b14`;

/**
 * A minimal REST API (v1) proxy event for `GET /token` from a browser on localhost:5173, signed in with Cognito
 * and in `groups` (default: `members`, the default config's member tier); claims as the Cognito authorizer passes
 * them (groups comma-separated).
 */
export function tokenEvent(
  requestNo: number,
  sub: string,
  groups: readonly string[] = ['members'],
): APIGatewayProxyEvent {
  return {
    resource: '/token',
    path: '/token',
    httpMethod: 'GET',
    headers: { origin: 'http://localhost:5173' },
    multiValueHeaders: { origin: ['http://localhost:5173'] },
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body: null,
    isBase64Encoded: false,
    requestContext: {
      requestId: `bench-${requestNo}`,
      authorizer: { claims: { sub, 'cognito:groups': groups.join(','), token_use: 'id', aud: BENCH_CLIENT_ID } },
    },
  } as unknown as APIGatewayProxyEvent;
}
