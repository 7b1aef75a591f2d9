/**
 * Post-deploy smoke test (`npm run smoke -- --stack <name> …`): checks a deployed TVM over the network for what
 * the offline test suite cannot prove — API Gateway's own answers (preflight, 401, 404, CORS on them), the
 * Cognito authorizer's header forms, and, with `--momento`, that a vended token really works against Momento and
 * only within its scope.
 *
 * Prints one table (check, expected, seen) and exits 0 when every check passed, 1 when one failed, 2 on a usage
 * error. Never prints the token, the credential or a response body: only statuses, header values, field names and
 * error codes, and every line passes through a redactor that masks the secrets it knows.
 *
 * Requests go through node:http / node:https (HTTP/1.1), so header names are sent exactly as written: the 401 and
 * 404 checks send the allowed origin once as `Origin` and once as `origin`.
 */
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { parseArgs } from 'node:util';
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { tokenResponseProblems, type TokenPermission, type TokenResponse } from '../client/src/contract';
import { isLocalMomentoEndpoint } from '../client/src/momento';
import { decodeDisposableToken } from '../lambda/momento/api-key';
import { requireSupportedNode } from './node-support';

/** The usage text. */
const USAGE = `Usage: npm run smoke -- (--stack <name> [--region <region>] | --url <token URL> --mode <mode>)
                        [--origin <allowed origin>] [--auth <credential>] [--momento [--cache <name>]]

  --stack <name>     read TokenUrl and the auth mode from the stack (CloudFormation DescribeStacks)
  --region <region>  the stack's region (default: the AWS SDK's, e.g. AWS_REGION or the profile's)
  --url <token URL>  skip the stack lookup (e.g. a dev server: http://localhost:8787/token); needs --mode
  --mode <mode>      open | cognito | authorizer (default with --stack: from the stack)
  --origin <origin>  an origin listed in cors.allowOrigins; without it the CORS checks are skipped
  --auth <cred>      what to send in Authorization (required in cognito and authorizer modes):
                       env:NAME  read it from the environment variable NAME (recommended)
                       @path     read it from a file (surrounding whitespace ignored)
                       <value>   the credential itself (it then shows in shell history and the process list)
                     cognito: the ID token (a leading "Bearer " is ignored); the documented header form
                       (the raw ID token) must be accepted, "Bearer <ID token>" is tried and reported
                     authorizer: the whole header value, e.g. "Bearer <JWT>" or "ApiKey <id>.<secret>"
  --momento          also use the token against Momento: one operation it grants must succeed, one it does not
                     grant must be refused (PERMISSION_ERROR); a dev server's token (endpoint
                     http://127.0.0.1:<port>) is tried against its local Momento (dev/local-momento)
  --cache <name>     an existing cache for a grant on every cache ("*"), used by --momento

Exit codes: 0 every check passed, 1 a check failed, 2 usage error.`;

/** How callers authenticate (config `auth.mode`). */
export type AuthMode = 'open' | 'cognito' | 'authorizer';
const MODES: readonly AuthMode[] = ['open', 'cognito', 'authorizer'];

/** A command line that cannot be run: exit code 2, with usage. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A parsed command line. */
export interface SmokeOptions {
  readonly stack?: string;
  readonly region?: string;
  readonly url?: string;
  readonly mode?: AuthMode;
  readonly origin?: string;
  /** The `--auth` argument as written (a reference or the credential); resolve it with {@link resolveCredential}. */
  readonly auth?: string;
  readonly momento: boolean;
  readonly cache?: string;
}

/**
 * Parses the command line (pure).
 *
 * @throws UsageError
 */
export function parseSmokeArgs(argv: readonly string[]): SmokeOptions | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        stack: { type: 'string' },
        region: { type: 'string' },
        url: { type: 'string' },
        mode: { type: 'string' },
        origin: { type: 'string' },
        auth: { type: 'string' },
        momento: { type: 'boolean', default: false },
        cache: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return 'help';
  if ((values.stack === undefined) === (values.url === undefined)) throw new UsageError('give --stack or --url');
  if (values.url !== undefined) {
    if (!/^https?:$/.test(safeUrl(values.url)?.protocol ?? '')) throw new UsageError('--url must be an http(s) URL');
    if (values.mode === undefined) throw new UsageError('--url needs --mode (open, cognito or authorizer)');
    if (values.region !== undefined) throw new UsageError('--region applies to --stack only');
  }
  if (values.mode !== undefined && !MODES.includes(values.mode as AuthMode))
    throw new UsageError(`--mode must be one of ${MODES.join(', ')}`);
  if (values.origin !== undefined) {
    const o = safeUrl(values.origin);
    // An origin is scheme://host[:port], exactly as a browser sends it (no path, no trailing slash).
    if (o === undefined || o.origin === 'null' || o.origin !== values.origin)
      throw new UsageError(`--origin must be an origin such as https://app.example.com (got "${values.origin}")`);
  }
  if (values.cache !== undefined && !values.momento) throw new UsageError('--cache applies to --momento only');
  return {
    stack: values.stack,
    region: values.region,
    url: values.url,
    mode: values.mode as AuthMode | undefined,
    origin: values.origin,
    auth: values.auth,
    momento: values.momento ?? false,
    cache: values.cache,
  };
}

function safeUrl(s: string): URL | undefined {
  try {
    return new URL(s);
  } catch {
    return undefined;
  }
}

/**
 * The credential an `--auth` argument names: `env:NAME` → that environment variable, `@path` → the file's
 * content, anything else → itself. Surrounding whitespace is dropped.
 *
 * @throws UsageError when the variable is unset/empty or the file cannot be read (the message never quotes it).
 */
export function resolveCredential(
  spec: string,
  env: Readonly<Record<string, string | undefined>>,
  readFile: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): string {
  let value: string;
  if (spec.startsWith('env:')) {
    const name = spec.slice(4);
    value = env[name] ?? '';
    if (value.trim() === '') throw new UsageError(`--auth env:${name}: the variable is unset or empty`);
  } else if (spec.startsWith('@')) {
    try {
      value = readFile(spec.slice(1));
    } catch (err) {
      throw new UsageError(`--auth ${spec}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  } else {
    value = spec;
  }
  value = value.trim();
  if (value === '') throw new UsageError('--auth names an empty credential');
  return value;
}

// ---------------------------------------------------------------------------------------------------------------
// The deployed stack

/** What the smoke test needs from the stack. */
export interface StackTarget {
  readonly tokenUrl: string;
  /** From the stack description ("… (cognito mode)"); undefined when it cannot be told. */
  readonly mode: AuthMode | undefined;
  /** CloudFormation's stack status, e.g. `CREATE_COMPLETE`. */
  readonly status: string;
}

/** Reads the stack's `TokenUrl` output, status and auth mode (DescribeStacks). */
export async function readStack(client: Pick<CloudFormationClient, 'send'>, stackName: string): Promise<StackTarget> {
  const { DescribeStacksCommand } = await import('@aws-sdk/client-cloudformation');
  const out = await client.send(new DescribeStacksCommand({ StackName: stackName }));
  const stack = out.Stacks?.[0];
  if (stack === undefined) throw new Error(`stack ${stackName} not found`);
  const outputs = new Map((stack.Outputs ?? []).map((o) => [o.OutputKey, o.OutputValue]));
  const tokenUrl = outputs.get('TokenUrl');
  if (!tokenUrl) throw new Error(`stack ${stackName} has no TokenUrl output (is it a token vending machine?)`);
  // lib/tvm-stack.ts: the description is "Momento token vending machine (<mode> mode)".
  const described = /\((open|cognito|authorizer) mode\)/.exec(stack.Description ?? '')?.[1] as AuthMode | undefined;
  const mode = described ?? (outputs.has('UserPoolId') || outputs.has('UserPoolClientIds') ? 'cognito' : undefined);
  return { tokenUrl, mode, status: stack.StackStatus ?? 'UNKNOWN' };
}

// ---------------------------------------------------------------------------------------------------------------
// Results

/**
 * Outcome of one check. `skip`: not applicable or not asked for; `info`: reported, not judged (neither is a
 * failure).
 */
export type CheckStatus = 'pass' | 'fail' | 'skip' | 'info';

/** One row of the table. */
export interface CheckResult {
  readonly check: string;
  readonly expected: string;
  readonly seen: string;
  readonly status: CheckStatus;
}

const row = (check: string, expected: string, seen: string, ok: boolean): CheckResult => ({
  check,
  expected,
  seen,
  status: ok ? 'pass' : 'fail',
});
const skip = (check: string, expected: string, why: string): CheckResult => ({
  check,
  expected,
  seen: why,
  status: 'skip',
});

// Terminal escapes (CSI, OSC, two-character ESC sequences), then any other C0/C1 control character but a newline,
// and the bidirectional overrides that make a terminal show text in another order than it is.
// eslint-disable-next-line no-control-regex
const TERMINAL_ESCAPES = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|\u001b[@-_]?/g;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Credentials by shape, wherever they come from (a server may echo one the smoke test never saw): a JWT, an
 * API key (`<id>.<43 base64url characters>`, authorizers/api-keys.ts), the value after an Authorization scheme,
 * and any other opaque run of 40+ base64 characters (Momento tokens and keys).
 */
const CREDENTIAL_SHAPES: readonly [RegExp, string][] = [
  [/\b(Bearer|ApiKey|Basic)\s+[^\s,;"']{8,}/gi, '$1 [redacted]'],
  [/eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g, '[redacted]'],
  [/\b[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?\.[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/g, '[redacted]'],
  [/[A-Za-z0-9+/_-]{40,}={0,2}/g, '[redacted]'],
];

/** Removes terminal escapes and control characters (a newline stays; a tab becomes a space). */
export function stripControl(text: string): string {
  return text.replace(/\t/g, ' ').replace(TERMINAL_ESCAPES, '').replace(CONTROL_CHARACTERS, '');
}

/**
 * What may be printed: control characters stripped (so an escape cannot split or hide a secret), every
 * occurrence of each known secret (8+ characters) and anything shaped like a credential replaced by `[redacted]`.
 */
export function redact(text: string, secrets: readonly string[]): string {
  let out = stripControl(text);
  for (const s of secrets) if (s.length >= 8) out = out.split(s).join('[redacted]');
  for (const [shape, replacement] of CREDENTIAL_SHAPES) out = out.replace(shape, replacement);
  return out;
}

/** The results as an aligned text table with a summary line; secrets are masked. */
export function formatTable(results: readonly CheckResult[], secrets: readonly string[] = []): string {
  const head = ['', 'check', 'expected', 'seen'];
  // Per cell, before the widths: what is stripped or masked must not break the alignment.
  const lines = results.map((r) =>
    [r.status.toUpperCase(), r.check, r.expected, r.seen].map((c) => redact(c, secrets)),
  );
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const failed = results.filter((r) => r.status === 'fail').length;
  const passed = results.filter((r) => r.status === 'pass').length;
  const skipped = results.filter((r) => r.status === 'skip').length;
  const info = results.filter((r) => r.status === 'info').length;
  const text = [
    fmt(head),
    fmt(widths.map((w) => '-'.repeat(w))),
    ...lines.map(fmt),
    '',
    `${passed} passed, ${failed} failed, ${skipped} skipped${info ? `, ${info} reported` : ''} (ACAO: Access-Control-Allow-Origin)`,
  ].join('\n');
  return redact(text, secrets);
}

// ---------------------------------------------------------------------------------------------------------------
// HTTP

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
interface HttpTarget {
  readonly tokenUrl: string;
  readonly mode: AuthMode;
  /** An allowed origin; CORS checks are skipped without it. */
  readonly origin?: string;
  /** The resolved `--auth` credential (required unless open). */
  readonly credential?: string;
}

/** The ID token in a Cognito credential (a `Bearer ` prefix removed). */
const rawIdToken = (credential: string): string => credential.replace(/^Bearer\s+/i, '');

/**
 * Runs every HTTP check against the TVM. Returns the rows and, when `GET /token` gave one, the token body (for
 * {@link runMomentoChecks}). A network failure is a failed row, never an exception.
 */
async function runHttpChecks(
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

// ---------------------------------------------------------------------------------------------------------------
// Momento

/** One data-plane operation tried with the token. */
export type MomentoOp =
  | { readonly kind: 'cache-get' | 'cache-set'; readonly cache: string; readonly key: string }
  | { readonly kind: 'topic-subscribe' | 'topic-publish'; readonly cache: string; readonly topic: string };

/** What an operation gave: success, or Momento's error code (`MomentoErrorCode`, e.g. `PERMISSION_ERROR`). */
export type MomentoOutcome = { readonly ok: true } | { readonly ok: false; readonly code: string };

/** Runs operations with one token (the SDK in production, a fake in tests). */
export interface MomentoOps {
  run(op: MomentoOp): Promise<MomentoOutcome>;
  close(): void;
}

const READS = { cache: ['readwrite', 'readonly'], topic: ['publishsubscribe', 'subscribeonly'] };
const WRITES = { cache: ['readwrite', 'writeonly'], topic: ['publishsubscribe', 'publishonly'] };
const SMOKE_NAME = 'tvm-smoke';
const OUTSIDE_NAME = 'tvm-smoke-outside-scope';
const UNGRANTED_CACHE = 'tvm-smoke-ungranted-cache';

const opType = (op: MomentoOp) => (op.kind.startsWith('cache') ? 'cache' : 'topic');
const opReads = (op: MomentoOp) => op.kind === 'cache-get' || op.kind === 'topic-subscribe';
const opItem = (op: MomentoOp) => ('key' in op ? op.key : op.topic);

/** Whether the permissions grant `op` (Momento's rules: cache and item name, role's read/write side). */
export function isGranted(permissions: readonly Permission[], op: MomentoOp): boolean {
  const type = opType(op);
  const item = opItem(op);
  return permissions.some((p) => {
    if (p.type !== type || (p.cache !== '*' && p.cache !== op.cache)) return false;
    if (!(opReads(op) ? READS : WRITES)[type].includes(p.role)) return false;
    const exact = p.type === 'cache' ? p.key : p.topic;
    const prefix = p.type === 'cache' ? p.keyPrefix : p.topicPrefix;
    if (exact !== undefined) return item === exact;
    if (prefix !== undefined) return item.startsWith(prefix);
    return true;
  });
}

/** A human description of an operation, e.g. `get app/user/1/tvm-smoke`. */
export const describeOp = (op: MomentoOp): string =>
  `${{ 'cache-get': 'get', 'cache-set': 'set', 'topic-subscribe': 'subscribe', 'topic-publish': 'publish' }[op.kind]} ${op.cache}/${opItem(op)}`;

/**
 * Picks one operation the token grants and one it does not. Reads (get, subscribe) are preferred for the granted
 * one, so the smoke test changes nothing where it can; a write uses a key/topic named `…tvm-smoke` (a set expires
 * after 60 s). The refused one is the nearest denial — the other side of a granted item (a write where only
 * reading is granted), a name outside a granted prefix, the other data type in a granted cache — and only as a
 * last resort a cache no grant names (Momento might then answer "not found" rather than "permission denied").
 * `cache` names an existing cache for grants on every cache (`*`).
 */
export function chooseMomentoOps(
  permissions: readonly Permission[],
  cache?: string,
): { inScope?: MomentoOp; outOfScope?: MomentoOp } {
  const within: MomentoOp[] = [];
  const outside: MomentoOp[] = [];
  const named = [...new Set(permissions.map((p) => (p.cache === '*' ? cache : p.cache)))].filter(
    (c): c is string => c !== undefined,
  );
  for (const p of permissions) {
    const c = p.cache === '*' ? cache : p.cache;
    if (c === undefined) continue;
    if (p.type === 'cache') {
      const key = p.key ?? `${p.keyPrefix ?? ''}${SMOKE_NAME}`;
      const reads = READS.cache.includes(p.role);
      within.push({ kind: reads ? 'cache-get' : 'cache-set', cache: c, key });
      outside.push({ kind: reads ? 'cache-set' : 'cache-get', cache: c, key });
      outside.push({ kind: 'cache-get', cache: c, key: OUTSIDE_NAME });
    } else {
      const topic = p.topic ?? `${p.topicPrefix ?? ''}${SMOKE_NAME}`;
      const reads = READS.topic.includes(p.role);
      within.push({ kind: reads ? 'topic-subscribe' : 'topic-publish', cache: c, topic });
      outside.push({ kind: reads ? 'topic-publish' : 'topic-subscribe', cache: c, topic });
      outside.push({ kind: 'topic-subscribe', cache: c, topic: OUTSIDE_NAME });
    }
  }
  for (const c of named) {
    outside.push({ kind: 'cache-get', cache: c, key: SMOKE_NAME });
    outside.push({ kind: 'topic-subscribe', cache: c, topic: SMOKE_NAME });
  }
  outside.push({ kind: 'cache-get', cache: UNGRANTED_CACHE, key: SMOKE_NAME });
  outside.push({ kind: 'topic-subscribe', cache: UNGRANTED_CACHE, topic: SMOKE_NAME });
  const inScope = [...within.filter(opReads), ...within.filter((o) => !opReads(o))].find((o) =>
    isGranted(permissions, o),
  );
  const outOfScope = outside.find((o) => !isGranted(permissions, o));
  return { inScope, outOfScope };
}

/** Runs the chosen operations with `ops` and turns the outcomes into rows; closes `ops`. */
export async function runMomentoChecks(
  token: Pick<TokenBody, 'permissions'>,
  ops: MomentoOps,
  cache?: string,
): Promise<CheckResult[]> {
  const { inScope, outOfScope } = chooseMomentoOps(token.permissions, cache);
  const results: CheckResult[] = [];
  const outcome = async (op: MomentoOp): Promise<MomentoOutcome> => {
    try {
      return await ops.run(op);
    } catch (err) {
      return { ok: false, code: (err as Error).name || 'exception' };
    }
  };
  try {
    if (inScope === undefined) {
      results.push(
        row(
          'Momento: a granted operation',
          'succeeds',
          'every grant is on all caches (*): name an existing cache with --cache',
          false,
        ),
      );
    } else {
      const o = await outcome(inScope);
      results.push(
        row(`Momento: ${describeOp(inScope)} (granted)`, 'succeeds', o.ok ? 'succeeded' : `error ${o.code}`, o.ok),
      );
    }
    if (outOfScope === undefined) {
      results.push(skip('Momento: an operation not granted', 'refused', 'the token grants every operation'));
    } else {
      const o = await outcome(outOfScope);
      const refused = !o.ok && o.code === 'PERMISSION_ERROR';
      results.push(
        row(
          `Momento: ${describeOp(outOfScope)} (not granted)`,
          'refused (PERMISSION_ERROR)',
          o.ok ? 'succeeded — the token allows more than its permissions say' : `refused (${o.code})`,
          refused,
        ),
      );
    }
  } finally {
    ops.close();
  }
  return results;
}

/**
 * What `CredentialProvider.fromDisposableToken` of `@gomomento/sdk` needs for `authToken`: the token alone when it
 * names a Momento endpoint (a host name: every deployed stack's token), so the SDK derives `cache.<endpoint>` over
 * TLS; for a token of `npm run dev`'s local Momento (endpoint `http://127.0.0.1:<port>`, dev/local-momento), every
 * endpoint overridden to that `host:port` over plain gRPC.
 */
export function nodeSdkCredentials(authToken: string): {
  authToken: string;
  endpointOverrides?: {
    cacheEndpoint: string;
    controlEndpoint: string;
    tokenEndpoint: string;
    secureConnection: false;
  };
} {
  const endpoint = decodeDisposableToken(authToken)?.endpoint;
  if (!isLocalMomentoEndpoint(endpoint)) return { authToken };
  const hostPort = endpoint!.slice('http://'.length);
  return {
    authToken,
    endpointOverrides: {
      cacheEndpoint: hostPort,
      controlEndpoint: hostPort,
      tokenEndpoint: hostPort,
      secureConnection: false,
    },
  };
}

/**
 * {@link MomentoOps} with `@gomomento/sdk` and `CredentialProvider.fromDisposableToken` ({@link nodeSdkCredentials}). A subscription counts as
 * established when its first message (Momento's heartbeat) arrives, then it is closed; a set writes a short text
 * that expires after 60 s.
 */
async function sdkMomentoOps(authToken: string, timeoutMs = 15_000): Promise<MomentoOps> {
  const sdk = await import('@gomomento/sdk');
  const credentialProvider = sdk.CredentialProvider.fromDisposableToken(nodeSdkCredentials(authToken));
  const logs = new sdk.NoopMomentoLoggerFactory();
  const caches = new sdk.CacheClient({
    configuration: sdk.Configurations.Laptop.v1(logs),
    credentialProvider,
    defaultTtlSeconds: 60,
  });
  const topics = new sdk.TopicClient({
    configuration: sdk.TopicConfigurations.Default.latest(logs),
    credentialProvider,
  });
  const failed = (r: { errorCode(): string }): MomentoOutcome => ({ ok: false, code: r.errorCode() });
  const within = <T>(p: Promise<T>): Promise<T> =>
    Promise.race([
      p,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(Object.assign(new Error(), { name: 'TIMEOUT' })), timeoutMs).unref(),
      ),
    ]);
  return {
    async run(op) {
      switch (op.kind) {
        case 'cache-get': {
          const r = await within(caches.get(op.cache, op.key));
          return r.type === sdk.CacheGetResponse.Error ? failed(r) : { ok: true };
        }
        case 'cache-set': {
          const r = await within(caches.set(op.cache, op.key, 'written by the TVM smoke test', { ttl: 60 }));
          return r.type === sdk.CacheSetResponse.Error ? failed(r) : { ok: true };
        }
        case 'topic-publish': {
          const r = await within(topics.publish(op.cache, op.topic, 'TVM smoke test'));
          return r.type === sdk.TopicPublishResponse.Error ? failed(r) : { ok: true };
        }
        case 'topic-subscribe': {
          const r = await within(
            topics.subscribe(op.cache, op.topic, { onItem: () => undefined, onError: () => undefined }),
          );
          if (r.type === sdk.TopicSubscribeResponse.Error) return failed(r);
          if (r.type === sdk.TopicSubscribeResponse.Subscription) r.unsubscribe();
          return { ok: true };
        }
      }
    },
    close() {
      // TopicClient has no close(); subscriptions are closed above and the CLI exits when done.
      caches.close();
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Command line

/** What {@link run} uses from the outside (injected for tests). */
export interface SmokeDeps {
  readonly env: Readonly<Record<string, string | undefined>>;
  out(text: string): void;
  err(text: string): void;
  readonly send?: HttpSend;
  /** DescribeStacks for a region. @default a CloudFormationClient */
  readonly cloudFormation?: (region: string | undefined) => Pick<CloudFormationClient, 'send'>;
  /** @default {@link sdkMomentoOps} */
  readonly momento?: (authToken: string) => Promise<MomentoOps>;
  readonly readFile?: (path: string) => string;
}

/**
 * Runs the smoke test for a command line; resolves with the exit code.
 *
 * @example
 * process.exitCode = await run(['--stack', 'MomentoTvm', '--origin', 'https://app.example.com'], deps);
 */
export async function run(argv: readonly string[], deps: SmokeDeps): Promise<number> {
  const secrets: string[] = [];
  try {
    const options = parseSmokeArgs(argv);
    if (options === 'help') {
      deps.out(USAGE);
      return 0;
    }
    const credential =
      options.auth === undefined ? undefined : resolveCredential(options.auth, deps.env, deps.readFile);
    if (credential !== undefined) secrets.push(credential, rawIdToken(credential));
    const results: CheckResult[] = [];
    let tokenUrl = options.url;
    let mode = options.mode;
    if (options.stack !== undefined) {
      const cfn =
        deps.cloudFormation?.(options.region) ??
        new (await import('@aws-sdk/client-cloudformation')).CloudFormationClient({ region: options.region });
      const stack = await readStack(cfn, options.stack);
      const complete = /^(CREATE|UPDATE)_COMPLETE$/.test(stack.status);
      results.push(row(`stack ${options.stack}`, 'CREATE_COMPLETE or UPDATE_COMPLETE', stack.status, complete));
      tokenUrl = stack.tokenUrl;
      mode ??= stack.mode;
      if (mode === undefined) throw new UsageError('cannot tell the auth mode from the stack: give --mode');
    }
    if (mode !== 'open' && credential === undefined) throw new UsageError(`${mode} mode needs --auth`);
    deps.out(redact(`Smoke test of ${tokenUrl} (${mode} mode)\n`, secrets));
    const http = await runHttpChecks(
      { tokenUrl: tokenUrl!, mode: mode!, origin: options.origin, credential },
      deps.send ?? nodeHttpSend(),
    );
    results.push(...http.results);
    if (http.token) {
      secrets.push(http.token.authToken, decodeDisposableToken(http.token.authToken)?.apiKey ?? '');
    }
    if (options.momento) {
      if (http.token === undefined)
        results.push(row('Momento: the token works', 'a token to try', 'GET /token gave none', false));
      else {
        const endpoint = decodeDisposableToken(http.token.authToken)?.endpoint;
        if (isLocalMomentoEndpoint(endpoint))
          results.push({
            check: 'Momento: endpoint',
            expected: 'reported only',
            seen: `local Momento at ${endpoint} (npm run dev, no MOMENTO_API_KEY)`,
            status: 'info',
          });
        results.push(
          ...(await runMomentoChecks(
            http.token,
            await (deps.momento ?? sdkMomentoOps)(http.token.authToken),
            options.cache,
          )),
        );
      }
    } else {
      results.push(skip('Momento: the token works', 'granted op succeeds, other refused', 'no --momento'));
    }
    deps.out(formatTable(results, secrets));
    return results.some((r) => r.status === 'fail') ? 1 : 0;
  } catch (err) {
    if (err instanceof UsageError) {
      deps.err(redact(`${err.message}\n\n${USAGE}`, secrets));
      return 2;
    }
    const e = err as Error;
    deps.err(redact(`smoke test failed: ${e.name}: ${e.message}`, secrets));
    return 1;
  }
}

if (require.main === module) {
  requireSupportedNode('npm run smoke');
  void run(process.argv.slice(2), {
    env: process.env,
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
  }).then((code) => {
    process.exitCode = code;
    // The Momento SDK's topic channels have no close(): leave soon after the table is written.
    setTimeout(() => process.exit(code), 200).unref();
  });
}
