/**
 * Real-shaped API Gateway REST (v1) proxy events for handler tests and the dev server.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';

let counter = 0;

/** A `GET /token` event; `authorizer` is what API Gateway puts in requestContext.authorizer. */
export function tokenEvent(
  options: {
    headers?: Record<string, string>;
    query?: Record<string, string[]>;
    authorizer?: Record<string, unknown> | null;
    method?: string;
  } = {},
): APIGatewayProxyEvent {
  const query = options.query;
  const single = query ? Object.fromEntries(Object.entries(query).map(([k, v]) => [k, v[v.length - 1]!])) : null;
  counter += 1;
  return {
    resource: '/token',
    path: '/token',
    httpMethod: options.method ?? 'GET',
    headers: { Host: 'abc123.execute-api.us-east-1.amazonaws.com', ...(options.headers ?? {}) },
    multiValueHeaders: {},
    queryStringParameters: single,
    multiValueQueryStringParameters: query ?? null,
    pathParameters: null,
    stageVariables: null,
    body: null,
    isBase64Encoded: false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      authorizer: options.authorizer ?? null,
      protocol: 'HTTP/1.1',
      httpMethod: options.method ?? 'GET',
      identity: { sourceIp: '203.0.113.7', userAgent: 'jest' } as APIGatewayProxyEvent['requestContext']['identity'],
      path: '/prod/token',
      stage: 'prod',
      requestId: `req-${counter}`,
      requestTimeEpoch: Date.now(),
      resourceId: 'res1',
      resourcePath: '/token',
    },
  };
}

/** The authorizer block a Cognito user-pools authorizer produces: every claim a string. */
export function cognitoAuthorizer(
  sub: string,
  groups: string[],
  extra: Record<string, string> = {},
): Record<string, unknown> {
  return {
    claims: {
      sub,
      'cognito:groups': groups.join(','),
      'cognito:username': `user-${sub.slice(0, 8)}`,
      email_verified: 'true',
      token_use: 'id',
      auth_time: '1767225600',
      iss: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEf123',
      aud: '4example1client2id3',
      exp: 'Thu Jan 01 01:00:00 UTC 2026',
      iat: 'Thu Jan 01 00:00:00 UTC 2026',
      ...extra,
    },
  };
}

/** The authorizer block our Lambda authorizer produces (context values are strings). */
export function lambdaAuthorizer(
  principalId: string,
  groups: string[],
  claims: Record<string, string> = {},
): Record<string, unknown> {
  return { principalId, groups: JSON.stringify(groups), claims: JSON.stringify(claims), integrationLatency: 12 };
}
