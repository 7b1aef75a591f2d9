/**
 * The smoke test's HTTP checks: `GET /token` and its body, an error answer of the function, the preflights, API
 * Gateway's own 401 and 404, and the Cognito header forms.
 *
 * Requests go through node:http / node:https (HTTP/1.1), so header names are sent exactly as written: the 401 and
 * 404 checks send the allowed origin once as `Origin` and once as `origin`.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { tokenResponseProblems, type TokenPermission, type TokenResponse } from '../../client/src/contract';
import { decodeDisposableToken } from '../../lambda/momento/api-key';
import { UsageError, type AuthMode } from './cli';
import { row, skip, type CheckResult } from './report';

/** An HTTP answer: lower-cased header names, body as text (first 64 KiB). */
export interface HttpAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** Sends one request; headers are `[name, value]` pairs sent with the name's case as given. */
export type HttpSend = (
  url: string,
  init: { readonly method: string; readonly headers: readonly (readonly [string, string])[] },
) => Promise<HttpAnswer>;

const MAX_BODY = 64 * 1024;

/** {@link HttpSend} over node:http / node:https (HTTP/1.1, no connection reuse). */
export function nodeHttpSend(timeoutMs = 10_000): HttpSend {
  return (url, init) =>
    new Promise<HttpAnswer>((resolve, reject) => {
      const target = new URL(url);
      const transport = target.protocol === 'https:' ? https : http;
      // Node writes outgoing header names as given, so `origin` really goes out in lower case.
      const headers: Record<string, string> = {};
      for (const [name, value] of init.headers) headers[name] = value;
      const req = transport.request(target, { method: init.method, headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          if (size < MAX_BODY) chunks.push(chunk);
          size += chunk.length;
        });
        res.on('end', () => {
          const flat: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers))
            if (v !== undefined) flat[k] = Array.isArray(v) ? v.join(', ') : v;
          resolve({
            status: res.statusCode ?? 0,
            headers: flat,
            body: Buffer.concat(chunks).toString('utf8').slice(0, MAX_BODY),
          });
        });
        res.on('error', reject);
      });
      req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
      req.on('error', reject);
      req.end();
    });
}

/** The `GET /token` success body: the client's contract (client/src/contract.ts). */
export type TokenBody = TokenResponse;

/** One granted statement as the TVM reports it. */
export type Permission = TokenPermission;

/**
 * What is wrong with a `GET /token` body (empty when nothing), by the client's contract (`tokenResponseProblems`).
 * `tokenId` is required when the caller authenticated (cognito, authorizer); open mode has none.
 */
export function tokenBodyProblems(body: unknown, mode: AuthMode): string[] {
  return tokenResponseProblems(body, { requireTokenId: mode !== 'open' });
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

const mediaType = (a: HttpAnswer) => (a.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
const noStore = (a: HttpAnswer) =>
  (a.headers['cache-control'] ?? '')
    .split(',')
    .map((d) => d.trim().toLowerCase())
    .includes('no-store');
const acao = (a: HttpAnswer) => a.headers['access-control-allow-origin'];
const listHas = (value: string | undefined, item: string) =>
  (value ?? '')
    .split(',')
    .map((v) => v.trim().toLowerCase())
    .includes(item.toLowerCase());

/** A problem+json answer with `status` in the body matching the HTTP status and a string `code`: why not, or ''. */
function problemShape(a: HttpAnswer): string {
  if (mediaType(a) !== 'application/problem+json') return `Content-Type ${a.headers['content-type'] ?? '(none)'}`;
  const body = parseJson(a.body);
  if (!isRecord(body)) return 'body is not JSON';
  if (typeof body.code !== 'string') return 'body has no code';
  if (body.status !== undefined && body.status !== a.status) return `body status ${String(body.status)}`;
  return '';
}

const problemCode = (a: HttpAnswer) => {
  const body = parseJson(a.body);
  return isRecord(body) && typeof body.code === 'string' ? body.code : undefined;
};

/** A header that `preflight from another origin` sends; `.invalid` can never be a real site (RFC 2606). */
const FOREIGN_ORIGIN = 'https://tvm-smoke-test.invalid';

/** Where the 404 check asks: a sibling of `/token` in the same stage (API Gateway's MISSING_AUTHENTICATION_TOKEN). */
export const notFoundUrl = (tokenUrl: string): string => new URL('tvm-smoke-nope', tokenUrl).toString();

/**
 * The Cognito `Authorization` forms the smoke test tries. A `documented` form (README: `Authorization: <ID token>`)
 * must be accepted; any other is only reported (INFO), so an operator learns whether clients that send
 * `Bearer <ID token>` — as many HTTP libraries do for a JWT — work against this API Gateway.
 */
const COGNITO_HEADER_FORMS: readonly {
  readonly label: string;
  readonly documented: boolean;
  readonly value: (idToken: string) => string;
}[] = [
  { label: 'Authorization: <ID token>', documented: true, value: (t) => t },
  { label: 'Authorization: Bearer <ID token>', documented: false, value: (t) => `Bearer ${t}` },
];

/** What {@link runHttpChecks} checks against. */
export interface HttpTarget {
  readonly tokenUrl: string;
  readonly mode: AuthMode;
  /** An allowed origin; CORS checks are skipped without it. */
  readonly origin?: string;
  /** The resolved `--auth` credential (required unless open). */
  readonly credential?: string;
}

/** The ID token in a Cognito credential (a `Bearer ` prefix removed). */
export const rawIdToken = (credential: string): string => credential.replace(/^Bearer\s+/i, '');

/**
 * Runs every HTTP check against the TVM. Returns the rows and, when `GET /token` gave one, the token body (for
 * {@link runMomentoChecks}). A network failure is a failed row, never an exception.
 */
export async function runHttpChecks(
  target: HttpTarget,
  send: HttpSend,
): Promise<{ results: CheckResult[]; token?: TokenBody }> {
  const { tokenUrl, mode, origin } = target;
  const results: CheckResult[] = [];
  const credential =
    target.credential === undefined
      ? undefined
      : mode === 'cognito'
        ? rawIdToken(target.credential)
        : target.credential;
  if (mode !== 'open' && credential === undefined) throw new UsageError(`${mode} mode needs --auth`);
  const originHeaders = (name = 'Origin'): [string, string][] => (origin ? [[name, origin]] : []);
  const authHeaders: [string, string][] = credential ? [['Authorization', credential]] : [];
  const attempt = async (url: string, method: string, headers: [string, string][]) => {
    try {
      return await send(url, { method, headers });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      return `no answer (${e.code ?? e.name})`;
    }
  };
  const corsExpected = origin ? `, ACAO ${origin}` : '';
  const corsSeen = (a: HttpAnswer) => (origin ? `, ACAO ${acao(a) ?? '(none)'}` : '');
  const corsOk = (a: HttpAnswer) => !origin || acao(a) === origin;

  // GET /token
  let token: TokenBody | undefined;
  const answer = await attempt(tokenUrl, 'GET', [...originHeaders(), ...authHeaders]);
  const label = 'GET /token';
  if (typeof answer === 'string') {
    results.push(row(label, '200', answer, false));
  } else {
    const seenStatus =
      answer.status === 200 ? '200' : `${answer.status}${problemCode(answer) ? ` ${problemCode(answer)}` : ''}`;
    results.push(row(label, '200', seenStatus, answer.status === 200));
    if (answer.status === 200) {
      results.push(
        row(`${label}: Cache-Control`, 'no-store', answer.headers['cache-control'] ?? '(none)', noStore(answer)),
      );
      results.push(
        row(
          `${label}: Content-Type`,
          'application/json',
          answer.headers['content-type'] ?? '(none)',
          mediaType(answer) === 'application/json',
        ),
      );
      const body = parseJson(answer.body);
      const problems = tokenBodyProblems(body, mode);
      const fields = `authToken, expiresAt, expiresIn, endpoint, permissions${mode === 'open' ? '' : ', tokenId'}`;
      results.push(
        row(
          `${label}: fields`,
          fields,
          problems.length === 0 ? 'all present' : problems.join('; '),
          problems.length === 0,
        ),
      );
      if (problems.length === 0) {
        token = body as TokenBody;
        const decoded = decodeDisposableToken(token.authToken);
        const why =
          decoded === undefined
            ? 'not base64 JSON {endpoint, api_key}'
            : decoded.endpoint !== token.endpoint
              ? 'its endpoint differs from the answer’s endpoint'
              : 'decodes';
        results.push(
          row(`${label}: authToken`, 'base64 JSON {endpoint, api_key}, same endpoint', why, why === 'decodes'),
        );
        const skew = token.expiresAt - (Math.floor(Date.now() / 1000) + token.expiresIn);
        results.push(
          row(
            `${label}: expiresAt`,
            'now + expiresIn (± 5 min)',
            Math.abs(skew) <= 300 ? 'consistent' : `off by ${skew} s`,
            Math.abs(skew) <= 300,
          ),
        );
      }
      if (origin) results.push(row(`${label}: CORS`, `ACAO ${origin}`, acao(answer) ?? '(none)', corsOk(answer)));
    }
  }

  // An error answer of the function: problem+json, no-store, CORS.
  {
    const check = 'GET /token?tvm-smoke=1 (unknown parameter)';
    const expected = `400 application/problem+json, no-store${corsExpected}`;
    const a = await attempt(`${tokenUrl}${tokenUrl.includes('?') ? '&' : '?'}tvm-smoke=1`, 'GET', [
      ...originHeaders(),
      ...authHeaders,
    ]);
    if (typeof a === 'string') results.push(row(check, expected, a, false));
    else {
      const shape = problemShape(a);
      const seen = `${a.status} ${shape || `application/problem+json ${problemCode(a)}`}, ${noStore(a) ? 'no-store' : `Cache-Control ${a.headers['cache-control'] ?? '(none)'}`}${corsSeen(a)}`;
      results.push(row(check, expected, seen, a.status === 400 && shape === '' && noStore(a) && corsOk(a)));
    }
  }

  // Preflights (API Gateway's mock integration).
  const preflightHeaders = (o: string): [string, string][] => [
    ['Origin', o],
    ['Access-Control-Request-Method', 'GET'],
    ['Access-Control-Request-Headers', 'authorization'],
  ];
  if (origin) {
    const check = `OPTIONS /token from ${origin}`;
    const expected = `2xx, ACAO ${origin}, methods ∋ GET, headers ∋ Authorization`;
    const a = await attempt(tokenUrl, 'OPTIONS', preflightHeaders(origin));
    if (typeof a === 'string') results.push(row(check, expected, a, false));
    else {
      const methods = a.headers['access-control-allow-methods'];
      const allowHeaders = a.headers['access-control-allow-headers'];
      const ok =
        a.status >= 200 &&
        a.status < 300 &&
        acao(a) === origin &&
        listHas(methods, 'GET') &&
        listHas(allowHeaders, 'authorization');
      results.push(
        row(
          check,
          expected,
          `${a.status}, ACAO ${acao(a) ?? '(none)'}, methods ${methods ?? '(none)'}, headers ${allowHeaders ?? '(none)'}`,
          ok,
        ),
      );
    }
  } else {
    results.push(skip('OPTIONS /token from the allowed origin', '2xx with ACAO', 'no --origin given'));
  }
  {
    // With one allowed origin API Gateway answers every preflight with that literal origin; a browser then refuses
    // the foreign page, so the check is that the foreign origin (or *) is never allowed, not that the header is absent.
    const check = `OPTIONS /token from ${FOREIGN_ORIGIN}`;
    const expected = `no ACAO for it (absent or another origin; never *)`;
    const a = await attempt(tokenUrl, 'OPTIONS', preflightHeaders(FOREIGN_ORIGIN));
    if (typeof a === 'string') results.push(row(check, expected, a, false));
    else {
      const value = acao(a);
      results.push(
        row(check, expected, `${a.status}, ACAO ${value ?? '(none)'}`, value !== FOREIGN_ORIGIN && value !== '*'),
      );
    }
  }

  // API Gateway's own answers: 401 (authenticated modes) and 404, with the origin header in both spellings.
  const spellings = origin ? ['Origin', 'origin'] : [undefined];
  const gatewayCheck = async (check: string, url: string, status: number) => {
    for (const name of spellings) {
      const expected = `${status} application/problem+json${corsExpected}`;
      const a = await attempt(url, 'GET', name ? originHeaders(name) : []);
      const fullCheck = name ? `${check} (${name} header)` : check;
      if (typeof a === 'string') {
        results.push(row(fullCheck, expected, a, false));
        continue;
      }
      const shape = problemShape(a);
      const seen = `${a.status} ${shape || `application/problem+json ${problemCode(a)}`}${corsSeen(a)}`;
      results.push(row(fullCheck, expected, seen, a.status === status && shape === '' && corsOk(a)));
    }
  };
  if (mode === 'open') results.push(skip('GET /token without credential', '401', 'open mode: no credential needed'));
  else await gatewayCheck('GET /token without credential', tokenUrl, 401);
  await gatewayCheck(`GET ${new URL(notFoundUrl(tokenUrl)).pathname}`, notFoundUrl(tokenUrl), 404);

  // Cognito: the documented header form must be accepted; the others are reported.
  if (mode === 'cognito' && credential !== undefined) {
    for (const form of COGNITO_HEADER_FORMS) {
      const a = await attempt(tokenUrl, 'GET', [...originHeaders(), ['Authorization', form.value(credential)]]);
      const accepted = typeof a !== 'string' && a.status === 200;
      const seen = typeof a === 'string' ? a : accepted ? 'accepted (200)' : `refused (${a.status})`;
      if (form.documented) results.push(row(`${form.label} (documented)`, 'accepted (200)', seen, accepted));
      else results.push({ check: `${form.label} (not documented)`, expected: 'reported only', seen, status: 'info' });
    }
  }
  return { results, token };
}
