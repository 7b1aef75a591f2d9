/**
 * The vending steps — request → identity → policy → (cache) → mint → response — as a function of its I/O,
 * so tests hand it a fake minter instead of mocking modules. `handler.ts` builds the real dependencies once.
 */
import { createHash } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { ResolvedPolicy } from '../config/schema';
import { MisconfiguredError, MomentoError, SecretUnavailableError, TvmError } from './errors';
import { corsHeaders, errorResponse, problemResponse, tokenResponse } from './http';
import { identify } from './identity';
import type { LiveGroups } from './live-groups';
import { PolicyEngine } from './policy';
import { checkHeaders, parseScopeRequest } from './request';
import type { RevocationCheck } from './revocation';
import type { IssuanceEvent, Telemetry } from './telemetry';
import { CallerLimit } from './caller-limit';
import { TokenCache, type TokenSource } from './token-cache';
import type { Grant, Minter, MintedToken } from './types';

/** What the vending handler needs from the outside world. */
export interface VendDeps {
  /** Validated configuration. */
  readonly config: ResolvedPolicy;
  /** The port to Momento. */
  readonly minter: Minter;
  /** Audit log and metrics. @default nothing is recorded */
  readonly telemetry?: Telemetry;
  /** Clock in epoch seconds. @default Date.now()/1000 */
  readonly nowSeconds?: () => number;
  /** Cognito mode: app client ids whose ID tokens may vend. @default no client check */
  readonly cognitoClientIds?: readonly string[];
  /** Revocation records, checked before minting and before serving a cached token. @default no check */
  readonly revocation?: RevocationCheck;
  /** Cognito `auth.liveGroups`: current groups from the pool replace the token's. @default the token's groups */
  readonly liveGroups?: LiveGroups;
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
function scopeHash(grants: readonly Grant[]): string {
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
        return finish(withAllow(problemResponse('method-not-allowed', 'use GET', cors, { requestId })), 'denied', {
          code: 'method-not-allowed',
        });
      // Identity first: a signed-in caller's malformed request is audited with its principal, not as anonymous.
      const identity = identify(event, config.auth, identityOptions);
      if ('refused' in identity)
        return finish(
          problemResponse('unauthenticated', 'no verified identity reached the function', cors, { requestId }),
          'denied',
          { code: 'unauthenticated', reason: identity.refused },
        );
      const verified = identity.principal;
      audit = { ...audit, principalId: verified.id, source: verified.source, groups: verified.groups };
      checkHeaders(event.headers);
      const request = parseScopeRequest(event);

      // The key read and the TLS connection a mint will need start now and overlap the lookups below (on a
      // cold start: three round trips at once instead of one after the other). Nothing is minted or served
      // before the revocation verdict; a refused caller only leaves the key cached and the connection open.
      if (deps.revocation || deps.liveGroups) minter.prepare?.();
      // Before the policy, so before any mint and before any cached token is served. The two lookups are
      // independent: one round trip, not two, when neither is cached. The revocation verdict is read first.
      const live = deps.liveGroups?.resolve(verified);
      // Settled below, or dropped when the caller is revoked or the check fails: never an unhandled rejection.
      live?.catch(() => undefined);
      const verdict = await deps.revocation?.check(verified);
      const revoked = (detail: string) =>
        finish(problemResponse('revoked', detail, cors, { requestId }), 'denied', { code: 'revoked' });
      if (verdict?.outcome === 'revoked')
        return revoked('access for this identity was revoked; credentials issued before the revocation are refused');
      if (verdict?.outcome === 'failed-open') audit = { ...audit, revocationCheck: 'failed-open' };
      const principal = live ? await live : verified;
      if (!principal) return revoked('this user no longer exists in the user pool');
      if (principal !== verified) audit = { ...audit, groups: principal.groups };

      const decision = policy.decide(principal, request);
      if (decision.outcome === 'denied')
        return finish(problemResponse(decision.code, decision.detail, cors, { requestId }), 'denied', {
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
          throw new TvmError('caller-rate-limited', 'too many new tokens for this caller; retry later', {
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
      // A revocation's notBefore is part of the key: a token minted before a revocation is never served after it.
      const notBefore = verdict?.outcome === 'allowed' ? (verdict.record?.notBefore ?? '') : '';
      const key = `${principal.source}\u0000${principal.id ?? ''}\u0000${decision.ttlSeconds}\u0000${hash}\u0000${notBefore}`;
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
              : err instanceof TvmError && DEPENDENCY_CODES.has(err.code)
                ? causeOf(err)
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

/** 503s from the revocation table or Cognito: the operator's log gets the AWS error (type and AWS's message). */
const DEPENDENCY_CODES = new Set(['revocation-check-failed', 'groups-check-failed']);
const causeOf = (err: Error): string =>
  err.cause instanceof Error ? `${err.cause.name}: ${err.cause.message}`.slice(0, 500) : err.name;

const round = (ms: number) => Math.round(ms * 100) / 100;
