/**
 * The vending steps — identity → request → revocation (and live groups) → policy → token reuse (this container's
 * cache, the fleet's, the mint governor, the caller limit) → mint → response — as a function of its I/O, so tests
 * hand it a fake minter instead of mocking modules. `handler.ts` builds the real dependencies once; the order and
 * its reasons: docs/architecture.md, "Request flow".
 */
import { createHash } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { MINT_WAIT_MS } from '../config/limits';
import type { ResolvedPolicy } from '../config/schema';
import { MisconfiguredError, MomentoError, SecretUnavailableError, TvmError } from './errors';
import { corsHeaders, errorResponse, problemResponse, tokenResponse } from './http';
import { identify } from './identity';
import type { LiveGroups } from './live-groups';
import { PolicyEngine, type Decision } from './policy';
import { checkHeaders, parseScopeRequest } from './request';
import type { RevocationCheck } from './revocation';
import type { IssuanceEvent, Telemetry } from './telemetry';
import { CallerLimit } from './caller-limit';
import type { FleetTokenStore } from './fleet-tokens';
import type { MintGovernor } from './mint-governor';
import { TokenCache } from './token-cache';
import { TokenReuse } from './token-reuse';
import type { Grant, Minter, MintedToken, Principal } from './types';

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
  /** The fleet's token cache (shared by every container), used when `tokenCache.fleet` is on. @default none */
  readonly fleet?: FleetTokenStore;
  /** The fleet-wide mint governor (`momento.mintsPerSecond`). @default none: mints go straight to Momento */
  readonly governor?: MintGovernor;
  /** Longest wait for a mint slot. @default MINT_WAIT_MS (config/limits.ts; the function's timeout includes it) */
  readonly maxMintWaitMs?: number;
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
  const caching = config.tokenCache.enabled;
  const reuse = new TokenReuse({
    cache: caching
      ? new TokenCache({
          maxEntries: config.tokenCache.maxEntries,
          minRemainingFraction: config.tokenCache.minRemainingFraction,
          nowSeconds: now,
        })
      : undefined,
    fleet: caching && config.tokenCache.fleet ? deps.fleet : undefined,
    governor: deps.governor,
    minRemainingFraction: config.tokenCache.minRemainingFraction,
    maxWaitMs: deps.maxMintWaitMs ?? MINT_WAIT_MS,
    nowSeconds: now,
    onFleetError: (error) =>
      telemetry.note?.('fleet token cache unavailable', { error: error instanceof Error ? error.name : typeof error }),
  });
  // Everything that decides a token: who (or the shared scope), the statements, the ttl and the tokenId.
  const reuseKey = (principal: Principal, d: Extract<Decision, { outcome: 'granted' }>, hash: string) =>
    [d.shared ? 'shared' : `${principal.source}:${principal.id ?? ''}`, d.ttlSeconds, hash, d.tokenId ?? ''].join(
      '\u0000',
    );

  return async (event, context) => {
    const started = performance.now();
    const requestId = event.requestContext?.requestId ?? context?.awsRequestId;
    const cors = corsHeaders(headerOf(event.headers, 'origin'), allowOrigins);
    let audit: Omit<IssuanceEvent, 'latencyMs' | 'decision' | 'status'> = { requestId };
    // Set by every call to Momento, failed or not: the audit of a failed mint still counts as a mint call.
    let mintLatencyMs: number | undefined;
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
      // Without live groups the decision is known now: its fleet lookup joins the revocation lookup (one
      // BatchGetItem, lambda/dynamo-batch.ts). Nothing it finds is served before the verdict below.
      const early = live ? undefined : policy.decide(verified, request);
      const earlyHash = early?.outcome === 'granted' ? scopeHash(early.grants) : undefined;
      const earlyKey = early?.outcome === 'granted' ? reuseKey(verified, early, earlyHash!) : undefined;
      const prefetched =
        earlyKey !== undefined && early?.outcome === 'granted' ? reuse.prefetch(earlyKey, early.shared) : undefined;
      const verdict = await deps.revocation?.check(verified);
      const revoked = (detail: string) =>
        finish(problemResponse('revoked', detail, cors, { requestId }), 'denied', { code: 'revoked' });
      if (verdict?.outcome === 'revoked')
        return revoked('access for this identity was revoked; credentials issued before the revocation are refused');
      if (verdict?.outcome === 'failed-open') audit = { ...audit, revocationCheck: 'failed-open' };
      const principal = live ? await live : verified;
      if (!principal) return revoked('this user no longer exists in the user pool');
      if (principal !== verified) audit = { ...audit, groups: principal.groups };

      const decision = principal === verified && early ? early : policy.decide(principal, request);
      if (decision.outcome === 'denied')
        return finish(problemResponse(decision.code, decision.detail, cors, { requestId }), 'denied', {
          code: decision.code,
          tiers: decision.tiers,
        });

      const hash = decision === early ? earlyHash! : scopeHash(decision.grants);
      audit = {
        ...audit,
        tiers: decision.tiers,
        scopeHash: hash,
        permissionCount: decision.grants.length,
        ttlSeconds: decision.ttlSeconds,
        tokenId: decision.tokenId,
      };
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
      // Same verified identity (source + id; all anonymous callers are one identity) or the same shared scope, +
      // same statements + same ttl + same tokenId. A token minted before the principal's revocation is never
      // served to them (the revocation's notBefore is compared with the token's mint time).
      const key = decision === early ? earlyKey! : reuseKey(principal, decision, hash);
      const notBefore = verdict?.outcome === 'allowed' ? verdict.record?.notBefore : undefined;
      const outcome = await reuse.obtain(
        {
          key,
          ttlSeconds: decision.ttlSeconds,
          shared: decision.shared,
          ...(notBefore === undefined ? {} : { notBefore }),
          ...(decision === early && prefetched ? { prefetched } : {}),
        },
        mint,
      );
      const { token, source } = outcome;
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
          ...(decision.shared ? { sharedScope: true } : {}),
          ...(outcome.fleet === undefined ? {} : { fleetCache: outcome.fleet }),
          ...(outcome.governorWaitMs === undefined ? {} : { mintWaitMs: outcome.governorWaitMs }),
          ...(outcome.ungoverned ? { governor: 'unavailable' as const } : {}),
          ...(outcome.preMinted ? { preMinted: true } : {}),
        },
      );
    } catch (err) {
      const response = errorResponse(err, cors, requestId);
      return finish(response, response.statusCode < 500 && !(err instanceof MomentoError) ? 'denied' : 'error', {
        code: err instanceof TvmError ? err.code : 'internal',
        mintLatencyMs,
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
