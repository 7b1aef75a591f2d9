/**
 * The API Gateway in front of the vending code in `npm run dev`: what the stack's REST API does before and after
 * the function, emulated for real HTTP requests.
 *
 * Builds API Gateway REST proxy events from real HTTP requests, answers CORS preflights as the stack's API
 * Gateway does, and emulates each auth mode: open; cognito (ID tokens verified against the configured pool's
 * JWKS, or a local issuer offline); authorizer (the real authorizer code, against a local issuer offline). Its own
 * answers (RouteNotFound, Unauthorized, the authorizer failures) are the stack's gateway responses.
 */
import { randomUUID } from 'node:crypto';
import type * as http from 'node:http';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { ResolvedConfig } from '../config/schema';
import { problemBody, problemOf, type ProblemCode } from '../common/problems';
import { CORS_EXPOSE_HEADERS, preflightResponse } from '../lambda/http';
import { headerOf, type VendHandler } from '../lambda/vend';
import { createLocalIssuer, type LocalIssuer } from './local-issuer';

/** Verifies an `Authorization` value the way the deployed API Gateway would, producing requestContext.authorizer. */
export type AuthEmulator = (
  authorization: string | undefined,
  methodArn: string,
) => Promise<Record<string, unknown> | 'unauthorized' | 'authorizer-unavailable' | null>;

/**
 * The authorizer of the config's auth mode: none (open), Cognito ID tokens (the configured pool, or a local issuer
 * with `localAuth` or without a pool), or the real authorizer code against a local issuer. Returns the local issuer
 * (when there is one) and the audience its ID tokens carry.
 */
export async function createAuthEmulator(
  config: ResolvedConfig,
  localAuth: boolean,
  log: (line: string) => void,
): Promise<{ emulate: AuthEmulator; issuer?: LocalIssuer; audience?: string }> {
  const auth = config.auth;
  if (auth.mode === 'open') return { emulate: async () => null };
  const { JwtVerifier, CognitoJwtVerifier } = await import('aws-jwt-verify');
  if (auth.mode === 'cognito') {
    const useReal = auth.existingUserPool !== undefined && !localAuth;
    const issuer = useReal ? undefined : createLocalIssuer('https://local-issuer.tvm.localhost/cognito');
    const audience = 'tvm-dev-client';
    let verify: (token: string) => Promise<unknown>;
    if (issuer) {
      const local = JwtVerifier.create({
        issuer: issuer.issuer,
        audience,
        jwksUri: `${issuer.issuer}/.well-known/jwks.json`,
      });
      local.cacheJwks(issuer.jwks);
      verify = (token) => local.verify(token);
    } else {
      const pool = CognitoJwtVerifier.create({
        userPoolId: auth.existingUserPool!.userPoolId,
        tokenUse: 'id',
        clientId: auth.existingUserPool!.clientIds,
      });
      verify = (token) => pool.verify(token);
    }
    return {
      issuer,
      audience,
      emulate: async (authorization) => {
        // Exactly the documented form, `Authorization: <ID token>` (docs/decisions.md: whether API Gateway also
        // takes "Bearer <ID token>" is not documented, so neither the docs nor the dev server rely on it).
        const token = authorization?.trim();
        if (!token) return 'unauthorized';
        try {
          const payload = (await verify(token)) as Record<string, unknown>;
          // API Gateway hands claims to the function as strings; groups as "a,b".
          const claims = Object.fromEntries(
            Object.entries(payload).map(([k, v]) => [
              k,
              Array.isArray(v) ? v.join(',') : typeof v === 'string' ? v : JSON.stringify(v),
            ]),
          );
          return { claims };
        } catch {
          return 'unauthorized';
        }
      },
    };
  }
  // Authorizer mode: the real authorizer code; offline its issuer is replaced by a local one.
  const issuer = createLocalIssuer('https://local-issuer.tvm.localhost/oidc');
  const localConfig = {
    ...auth,
    issuer: issuer.issuer,
    jwksUri: `${issuer.issuer}/.well-known/jwks.json`,
    algorithms: ['RS256' as const],
  };
  const [{ createAuthorizer }, { createJwtVerifier }, { createApiKeyStore }, { readSecretString }] = await Promise.all([
    import('../authorizers/authorizer'),
    import('../authorizers/verify'),
    import('../authorizers/api-keys'),
    import('../common/secret-reader'),
  ]);
  const verifier = createJwtVerifier(localConfig);
  verifier.cacheJwks(issuer.jwks);
  // With auth.apiKeys the key table comes from Secrets Manager as in the stack (the AWS credentials, region and
  // AWS_ENDPOINT_URL_SECRETS_MANAGER of the environment); the secret is TVM_API_KEYS_SECRET_ID or the configured
  // name/ARN. A secret the stack creates has no name before deploy: without TVM_API_KEYS_SECRET_ID, keys are refused.
  const ref = auth.apiKeys?.secret;
  const keysSecretId =
    ref && (process.env.TVM_API_KEYS_SECRET_ID || ('name' in ref ? ref.name : 'arn' in ref ? ref.arn : undefined));
  const apiKeyStore = keysSecretId ? createApiKeyStore(() => readSecretString(keysSecretId)) : undefined;
  const authorize = createAuthorizer({
    auth: localConfig,
    verifier,
    apiKeyStore,
    // Operator reasons only (JWKS, key table): never caller input, never a credential.
    log: (e) => {
      if (e.level === 'ERROR')
        log(`${new Date().toISOString()} authorizer: ${e.message} ${e.reason} (${e.detail ?? ''})`);
    },
  });
  return {
    issuer,
    audience: auth.audience[0],
    emulate: async (authorization, methodArn) => {
      try {
        const result = await authorize({ type: 'TOKEN', authorizationToken: authorization ?? '', methodArn });
        return { principalId: result.principalId, ...result.context };
      } catch (err) {
        // As API Gateway: exactly "Unauthorized" is a 401; any other error, its authorizer-failure response (503).
        return err instanceof Error && err.message === 'Unauthorized' ? 'unauthorized' : 'authorizer-unavailable';
      }
    },
  };
}

/**
 * The API Gateway REST proxy event for a request (exported for tests). Null-prototype maps: a parameter named
 * `__proto__` or `constructor` is an unknown parameter (400), not a property of `Object.prototype` (a 500).
 */
export function toEvent(
  req: Pick<http.IncomingMessage, 'headers' | 'method' | 'socket'>,
  url: URL,
  authorizer: Record<string, unknown> | null,
): APIGatewayProxyEvent {
  const headers: Record<string, string> = Object.create(null);
  for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
  const multi: Record<string, string[]> = Object.create(null);
  for (const [k, v] of url.searchParams) (multi[k] ??= []).push(v);
  const hasQuery = Object.keys(multi).length > 0;
  return {
    resource: '/token',
    path: url.pathname,
    httpMethod: req.method ?? 'GET',
    headers,
    multiValueHeaders: {},
    queryStringParameters: hasQuery
      ? Object.fromEntries(Object.entries(multi).map(([k, v]) => [k, v[v.length - 1]!]))
      : null,
    multiValueQueryStringParameters: hasQuery ? multi : null,
    pathParameters: null,
    stageVariables: null,
    body: null,
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer,
      protocol: 'HTTP/1.1',
      httpMethod: req.method ?? 'GET',
      identity: {
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? null,
      } as APIGatewayProxyEvent['requestContext']['identity'],
      path: url.pathname,
      stage: 'local',
      requestId: randomUUID(),
      requestTimeEpoch: Date.now(),
      resourceId: 'local',
      resourcePath: '/token',
    },
  };
}

/** Writes a proxy integration result as the HTTP answer. */
export function send(res: http.ServerResponse, result: APIGatewayProxyResult): void {
  res.writeHead(result.statusCode, result.headers as http.OutgoingHttpHeaders);
  res.end(result.body);
}

/**
 * A gateway response as the deployed stack answers it (lib/gateway-responses.ts): the same status, title,
 * detail and fields, a request id, and the same headers (problem+json, no-store, `Vary: Origin`,
 * `Access-Control-Expose-Headers`), with `Access-Control-Allow-Origin` for allowed origins.
 */
function gatewayProblem(code: ProblemCode, cors: Record<string, string>): APIGatewayProxyResult {
  const problem = problemOf(code);
  const headers: Record<string, string> = {
    ...cors,
    'Access-Control-Expose-Headers': CORS_EXPOSE_HEADERS,
    'Content-Type': 'application/problem+json',
    'Cache-Control': 'no-store',
  };
  if (problem.retryAfterSeconds !== undefined) headers['Retry-After'] = String(problem.retryAfterSeconds);
  return {
    statusCode: problem.status!,
    headers,
    body: JSON.stringify(problemBody(code, problem.detail, randomUUID())),
  };
}

/** What {@link createApiGateway} stands in front of. */
export interface ApiGatewayOptions {
  /** The vending function. */
  readonly handler: VendHandler;
  /** The auth mode's authorizer ({@link createAuthEmulator}). */
  readonly emulate: AuthEmulator;
  /** The config's `cors.allowOrigins`. */
  readonly allowOrigins: ReadonlySet<string>;
  /** Where the gateway's own 401 and 503 lines go. */
  readonly log: (line: string) => void;
}

/** One request as the dev server read it: its URL, its `Origin` and the CORS headers for that origin. */
export interface GatewayRequest {
  readonly url: URL;
  readonly origin: string | undefined;
  readonly cors: Record<string, string>;
}

/**
 * Answers requests as the stack's API Gateway does: RouteNotFound for any path but `/token`, preflights as its
 * mock integration, the authorizer's 401 and 503 gateway responses, and otherwise the function's answer to the
 * proxy event.
 */
export function createApiGateway(
  options: ApiGatewayOptions,
): (req: http.IncomingMessage, res: http.ServerResponse, request: GatewayRequest) => Promise<void> {
  const { handler, emulate, allowOrigins, log } = options;
  return async (req, res, { url, origin, cors }) => {
    if (url.pathname !== '/token') {
      // What the stack's RouteNotFound gateway response answers.
      send(res, gatewayProblem('not-found', cors));
      return;
    }
    if (req.method === 'OPTIONS') {
      send(res, preflightResponse(origin, allowOrigins));
      return;
    }
    const authorizer = await emulate(
      headerOf(req.headers as Record<string, string>, 'authorization'),
      'arn:aws:execute-api:local:000000000000:local/local/GET/token',
    );
    if (authorizer === 'unauthorized') {
      // What the stack's Unauthorized gateway response answers, CORS headers included.
      send(res, gatewayProblem('unauthorized', cors));
      log(`${new Date().toISOString()} 401 unauthorized (gateway)`);
      return;
    }
    if (authorizer === 'authorizer-unavailable') {
      // What the stack's AuthorizerFailure / AuthorizerConfigurationError gateway responses answer.
      send(res, gatewayProblem('authorizer-unavailable', cors));
      log(`${new Date().toISOString()} 503 authorizer-unavailable (gateway)`);
      return;
    }
    send(res, await handler(toEvent(req, url, authorizer)));
  };
}
