/**
 * Parses and bounds the query string of `GET /token` into a narrowing request. Anything unknown or malformed
 * is a 400 — a typo must not silently turn into a broader token than the caller meant.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { MAX_TTL_SECONDS } from '../config/limits';
import { BadRequestError } from './errors';
import type { ScopeRequest } from './policy';

/** Query parameters `GET /token` understands (all optional, all narrowing). */
export const QUERY_PARAMETERS = ['cache', 'topic', 'key', 'keyPrefix', 'access', 'ttl'] as const;
type Param = (typeof QUERY_PARAMETERS)[number];

/** Input limits (beyond API Gateway's own): oversized input is refused before any work. */
export const LIMITS = { valuesPerParameter: 10, valueLength: 255, queryLength: 2048, headerBytes: 8192 } as const;
const VALUE_RE = /^[A-Za-z0-9_.:\-/@+=|]+$/;

function valuesOf(
  event: Pick<APIGatewayProxyEvent, 'queryStringParameters' | 'multiValueQueryStringParameters'>,
): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const multi = event.multiValueQueryStringParameters;
  if (multi) for (const [k, v] of Object.entries(multi)) out.set(k, (v ?? []).slice());
  else if (event.queryStringParameters)
    for (const [k, v] of Object.entries(event.queryStringParameters)) out.set(k, v === undefined ? [] : [v]);
  return out;
}

/** Header size check: API Gateway allows 10 KB; we need only Origin and Authorization. */
export function checkHeaders(headers: APIGatewayProxyEvent['headers'] | null | undefined): void {
  let bytes = 0;
  for (const [k, v] of Object.entries(headers ?? {})) bytes += k.length + (v?.length ?? 0);
  if (bytes > LIMITS.headerBytes)
    throw new BadRequestError('headers-too-large', `request headers exceed ${LIMITS.headerBytes} bytes`);
}

/** Parses the query string into a {@link ScopeRequest}; throws {@link BadRequestError}. */
export function parseScopeRequest(
  event: Pick<APIGatewayProxyEvent, 'queryStringParameters' | 'multiValueQueryStringParameters'>,
): ScopeRequest {
  const params = valuesOf(event);
  let length = 0;
  for (const [k, vs] of params) for (const v of vs) length += k.length + v.length + 2;
  if (length > LIMITS.queryLength)
    throw new BadRequestError('query-too-long', `the query string exceeds ${LIMITS.queryLength} characters`);
  if (params.size > QUERY_PARAMETERS.length)
    throw new BadRequestError('too-many-parameters', 'too many query parameters');

  const get = (name: Param): string[] | undefined => {
    const raw = params.get(name);
    if (raw === undefined) return undefined;
    // Accept repeated parameters and comma-separated lists alike.
    const vs = raw.flatMap((v) => v.split(',')).map((v) => v.trim());
    if (vs.length === 0 || vs.some((v) => v === ''))
      throw new BadRequestError('bad-parameter', `${name} must not be empty`);
    if (vs.length > LIMITS.valuesPerParameter)
      throw new BadRequestError('bad-parameter', `${name} takes at most ${LIMITS.valuesPerParameter} values`);
    for (const v of vs)
      if (v.length > LIMITS.valueLength || !VALUE_RE.test(v))
        throw new BadRequestError(
          'bad-parameter',
          `${name} values must be 1–${LIMITS.valueLength} characters of letters, digits and _ . : - / @ + = |`,
        );
    return [...new Set(vs)];
  };
  for (const k of params.keys())
    if (!(QUERY_PARAMETERS as readonly string[]).includes(k))
      throw new BadRequestError(
        'unknown-parameter',
        `unknown query parameter "${k.slice(0, 64)}"; known: ${QUERY_PARAMETERS.join(', ')}`,
      );

  const request: { -readonly [K in keyof ScopeRequest]: ScopeRequest[K] } = {};
  const caches = get('cache');
  const topics = get('topic');
  const keys = get('key');
  const keyPrefixes = get('keyPrefix');
  if (caches) request.caches = caches;
  if (topics) request.topics = topics;
  if (keys) request.keys = keys;
  if (keyPrefixes) request.keyPrefixes = keyPrefixes;
  const access = get('access');
  if (access) {
    if (access.length > 1) throw new BadRequestError('bad-parameter', 'access takes one value; it was given more');
    if (access[0] !== 'read' && access[0] !== 'full')
      throw new BadRequestError('bad-parameter', 'access must be "read" or "full"');
    if (access[0] === 'read') request.readOnly = true;
  }
  const ttl = get('ttl');
  if (ttl) {
    // A repeat is reported as such: `ttl=600&ttl=700` is not a range problem, and neither value wins.
    if (ttl.length > 1) throw new BadRequestError('bad-parameter', 'ttl takes one value; it was given more');
    const n = /^\d{1,6}$/.test(ttl[0]!) ? Number(ttl[0]) : NaN;
    if (!Number.isInteger(n) || n < 60 || n > MAX_TTL_SECONDS)
      throw new BadRequestError('bad-parameter', `ttl must be a whole number of seconds from 60 to ${MAX_TTL_SECONDS}`);
    request.ttlSeconds = n;
  }
  return request;
}
