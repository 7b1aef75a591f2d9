/**
 * The vending steps — request → identity → policy → (cache) → mint → response — as a function of its I/O,
 * so tests hand it a fake minter instead of mocking modules. `handler.ts` builds the real dependencies once.
 */
import { createHash } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { ResolvedConfig } from '../config/schema';
import { MisconfiguredError, MomentoError, SecretUnavailableError, TvmError } from './errors';
import { corsHeaders, errorResponse, problemResponse, tokenResponse } from './http';
import { principalFrom } from './identity';
import { PolicyEngine } from './policy';
import { checkHeaders, parseScopeRequest } from './request';
import type { IssuanceEvent, Telemetry } from './telemetry';
import { CallerLimit } from './caller-limit';
import { TokenCache, type TokenSource } from './token-cache';
import type { Grant, Minter, MintedToken } from './types';

/** What the vending handler needs from the outside world. */
export interface VendDeps {
  /** Validated configuration. */
  readonly config: ResolvedConfig;
  /** The port to Momento. */
  readonly minter: Minter;
  /** Audit log and metrics. @default nothing is recorded */
  readonly telemetry?: Telemetry;
  /** Clock in epoch seconds. @default Date.now()/1000 */
  readonly nowSeconds?: () => number;
  /** Cognito mode: app client ids whose ID tokens may vend. @default no client check */
  readonly cognitoClientIds?: readonly string[];
}

/** A REST API (v1) proxy handler. */
export type VendHandler = (
  event: APIGatewayProxyEvent,
  context?: Pick<Context, 'awsRequestId'>,
) => Promise<APIGatewayProxyResult>;

const NOOP: Telemetry = { record: () => undefined };

/** Case-insensitive header lookup (REST APIs pass headers as the client sent them). */
export function headerOf(
  headers: APIGatewayProxyEvent['headers'] | null | undefined,
  name: string,
): string | undefined {
  if (!headers) return undefined;
  const direct = headers[name];
  if (direct !== undefined) return direct;
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

/** sha256 of the canonical statements: the token-cache key part and the audit's scope hash. */
export function scopeHash(grants: readonly Grant[]): string {
  return createHash('sha256').update(JSON.stringify(grants)).digest('hex').slice(0, 16);
}

/** Builds the `GET /token` handler. Everything per-configuration is computed here, once. */
export function createVendHandler(deps: VendDeps): VendHandler {
  const { config, minter } = deps;
  const telemetry = deps.telemetry ?? NOOP;
  const now = deps.nowSeconds ?? (() => Date.now() / 1000);
  const policy = new PolicyEngine(config);
  const allowOrigins = new Set(config.cors.allowOrigins);
  const callerLimit = config.callerLimit ? new CallerLimit(config.callerLimit) : undefined;
  const identityOptions = { cognitoClientIds: deps.cognitoClientIds ? new Set(deps.cognitoClientIds) : undefined };
  const cache = config.tokenCache.enabled
    ? new TokenCache({
        maxEntries: config.tokenCache.maxEntries,
        minRemainingFraction: config.tokenCache.minRemainingFraction,
        nowSeconds: now,
      })
    : undefined;

  return async (event, context) => {
    const started = performance.now();
    const requestId = event.requestContext?.requestId ?? context?.awsRequestId;
    const cors = corsHeaders(headerOf(event.headers, 'origin'), allowOrigins);
    let audit: Omit<IssuanceEvent, 'latencyMs' | 'decision' | 'status'> = { requestId };
    const finish = (
      response: APIGatewayProxyResult,
      decision: IssuanceEvent['decision'],
      extra: Partial<IssuanceEvent> = {},
    ) => {
      telemetry.record({
        ...audit,
        ...extra,
        decision,
        status: response.statusCode,
        latencyMs: round(performance.now() - started),
      });
      return response;
    };

    try {
      if (event.httpMethod !== undefined && event.httpMethod !== 'GET')
        return finish(withAllow(problemResponse(405, 'method-not-allowed', 'use GET', cors, { requestId })), 'denied', {
          code: 'method-not-allowed',
        });
      checkHeaders(event.headers);
      const request = parseScopeRequest(event);
      const principal = principalFrom(event, config.auth, identityOptions);
      if (!principal)
        return finish(
          problemResponse(401, 'unauthenticated', 'no verified identity reached the function', cors, { requestId }),
          'denied',
          {
            code: 'unauthenticated',
          },
        );
      audit = { ...audit, principalId: principal.id, source: principal.source, groups: principal.groups };

      const decision = policy.decide(principal, request);
      if (decision.outcome === 'denied')
        return finish(problemResponse(decision.status, decision.code, decision.detail, cors, { requestId }), 'denied', {
          code: decision.code,
          tiers: decision.tiers,
        });

      const hash = scopeHash(decision.grants);
      audit = {
        ...audit,
        tiers: decision.tiers,
        scopeHash: hash,
        permissionCount: decision.grants.length,
        ttlSeconds: decision.ttlSeconds,
        tokenId: decision.tokenId,
      };
      let mintLatencyMs: number | undefined;
      // Anonymous callers (open mode) are told apart by IP for rate limiting only; tokens are never shared by IP.
      const caller =
        principal.id !== undefined
          ? `${principal.source}:${principal.id}`
          : `ip:${event.requestContext?.identity?.sourceIp ?? ''}`;
      const mint = async (): Promise<MintedToken> => {
        const wait = callerLimit?.take(caller) ?? 0;
        if (wait > 0)
          throw new TvmError(429, 'caller-rate-limited', 'too many new tokens for this caller; retry later', {
            retryAfterSeconds: wait,
          });
        const t0 = performance.now();
        try {
          return await minter.mint({
            grants: decision.grants,
            ttlSeconds: decision.ttlSeconds,
            tokenId: decision.tokenId,
          });
        } finally {
          mintLatencyMs = round(performance.now() - t0);
        }
      };
      // Same verified identity (source + id; all anonymous callers are one identity) + same scope + same ttl.
      const key = `${principal.source}\u0000${principal.id ?? ''}\u0000${decision.ttlSeconds}\u0000${hash}`;
      const { token, source }: { token: MintedToken; source: TokenSource } = cache
        ? await cache.getOrMint(key, decision.ttlSeconds, mint)
        : { token: await mint(), source: 'minted' };

      const expiresIn = Math.max(0, Math.floor(token.expiresAt - now()));
      const body = {
        authToken: token.authToken,
        expiresAt: token.expiresAt,
        expiresIn,
        endpoint: token.endpoint,
        permissions: decision.grants,
      };
      return finish(
        tokenResponse(decision.tokenId === undefined ? body : { ...body, tokenId: decision.tokenId }, cors),
        'granted',
        {
          tokenSource: source,
          mintLatencyMs,
        },
      );
    } catch (err) {
      const response = errorResponse(err, cors, requestId);
      return finish(response, response.statusCode < 500 && !(err instanceof MomentoError) ? 'denied' : 'error', {
        code: err instanceof TvmError ? err.code : 'internal',
        momentoFailure: err instanceof MomentoError ? err.failure : undefined,
        // The reason for a 500 is for the operator's log only; unknown errors are named by class, not message.
        reason:
          err instanceof MisconfiguredError
            ? err.message
            : err instanceof SecretUnavailableError
              ? err.reason
              : err instanceof TvmError
                ? undefined
                : err instanceof Error
                  ? err.name
                  : typeof err,
      });
    }
  };
}

/** RFC 9110: a 405 names the methods the resource supports. */
const withAllow = (r: APIGatewayProxyResult): APIGatewayProxyResult => ({
  ...r,
  headers: { ...r.headers, Allow: 'GET, OPTIONS' },
});

const round = (ms: number) => Math.round(ms * 100) / 100;
