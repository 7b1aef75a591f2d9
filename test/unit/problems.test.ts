/**
 * One table of problem codes (common/problems.ts): the error table of docs/http-contract.md, the function's errors, the
 * policy's denials and the gateway responses must all agree with it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PROBLEMS, type ProblemCode } from '../../common/problems';
import {
  BadRequestError,
  MisconfiguredError,
  MomentoError,
  SecretUnavailableError,
  TvmError,
  type MomentoFailure,
} from '../../lambda/errors';
import { GroupsLookupError } from '../../lambda/live-groups';
import { RevocationCheckError } from '../../lambda/revocation';
import { errorResponse } from '../../lambda/http';
import { PROBLEM_GATEWAY_RESPONSES } from '../../lib/gateway-responses';

/** The page that documents every problem code, in the table this test parses. */
const CONTRACT_PAGE = path.join(__dirname, '..', '..', 'docs', 'http-contract.md');

interface DocRow {
  readonly status: string;
  readonly title: string;
  readonly code: string;
  readonly from: 'function' | 'gateway' | 'dev';
}

/** The rows of the page's error table (the one whose header starts `| status | title | code(s)`), one per code. */
function documentedErrorTable(): DocRow[] {
  const lines = fs.readFileSync(CONTRACT_PAGE, 'utf8').split('\n');
  const start = lines.findIndex((l) => /^\|\s*status\s*\|\s*title\s*\|\s*code\(s\)\s*\|/.test(l));
  if (start < 0)
    throw new Error('docs/http-contract.md: the error table (| status | title | code(s) | when |) is missing');
  const rows: DocRow[] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    const [status, title, codes] = line
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim());
    for (const m of codes!.matchAll(/`([a-z0-9-]+)`(?:\s*\((API Gateway|dev server)\))?/g)) {
      const from = m[2] === 'API Gateway' ? 'gateway' : m[2] === 'dev server' ? 'dev' : 'function';
      rows.push({ status: status!, title: title!, code: m[1]!, from });
    }
  }
  return rows;
}

describe('Constant: PROBLEMS (the one table of problem codes)', () => {
  const rows = documentedErrorTable();

  it('lists in docs/http-contract.md exactly the codes of the table, each once', () => {
    const codes = rows.map((r) => r.code);
    expect(new Set(codes).size).toBe(codes.length);
    expect([...codes].sort()).toEqual(Object.keys(PROBLEMS).sort());
  });

  it.each(Object.entries(PROBLEMS))(
    'docs/http-contract.md agrees on %s: status, title and who answers',
    (code, problem) => {
      const row = rows.find((r) => r.code === code);
      expect(row).toBeDefined();
      const status =
        problem.status === undefined ? (code === 'rejected' ? '4xx' : '5xx') : String(problem.status as number);
      expect({ status: row!.status, title: row!.title, from: row!.from }).toEqual({
        status,
        title: problem.title,
        from: problem.from,
      });
    },
  );

  it('gives the gateway responses their status, title, detail and Retry-After', () => {
    for (const r of PROBLEM_GATEWAY_RESPONSES) {
      const p = PROBLEMS[r.code];
      expect(p.from).toBe('gateway');
      expect({ status: r.status, title: r.title }).toEqual({ status: p.status, title: p.title });
      expect(r.detail).toBe('detail' in p ? p.detail : undefined);
      expect(r.retryAfterSeconds).toBe('retryAfterSeconds' in p ? p.retryAfterSeconds : undefined);
    }
    // Every gateway code has its gateway response (some, like authorizer-unavailable, answer for several types).
    const gatewayCodes = Object.entries(PROBLEMS)
      .filter(([, p]) => p.from === 'gateway')
      .map(([c]) => c);
    expect([...new Set(PROBLEM_GATEWAY_RESPONSES.map((r) => r.code))].sort()).toEqual(gatewayCodes.sort());
    // …but each API Gateway response type is customised once.
    expect(new Set(PROBLEM_GATEWAY_RESPONSES.map((r) => r.type.responseType)).size).toBe(
      PROBLEM_GATEWAY_RESPONSES.length,
    );
  });

  it.each<MomentoFailure>(['auth', 'throttled', 'unavailable', 'timeout', 'rejected', 'internal'])(
    'answers a Momento %s failure with the status, title and Retry-After of its code',
    (failure) => {
      const code = `momento-${failure}` as ProblemCode;
      const res = errorResponse(new MomentoError(failure, undefined), {}, 'r-1');
      const p = PROBLEMS[code];
      expect(res.statusCode).toBe(p.status);
      expect(JSON.parse(res.body)).toMatchObject({ title: p.title, status: p.status, code, requestId: 'r-1' });
      expect(res.headers?.['Retry-After']).toBe('retryAfterSeconds' in p ? String(p.retryAfterSeconds) : undefined);
    },
  );

  it('answers the function’s own error classes with their table status', () => {
    expect(errorResponse(new BadRequestError('bad-parameter', 'x'), {}, undefined).statusCode).toBe(400);
    const misconfigured = errorResponse(new MisconfiguredError('secret-empty', 'secret "arn:…" is empty'), {}, 'r');
    expect(misconfigured.statusCode).toBe(500);
    expect(JSON.parse(misconfigured.body)).toMatchObject({ title: 'Internal Server Error', code: 'secret-empty' });
    expect(misconfigured.body).not.toContain('arn:');
  });

  // Retry-After has one home: a fixed number lives in the table only, and the error classes take it from there.
  it.each<[string, TvmError]>([
    ['SecretUnavailableError', new SecretUnavailableError('operator detail')],
    ['RevocationCheckError', new RevocationCheckError()],
    ['GroupsLookupError', new GroupsLookupError()],
    ...(['throttled', 'unavailable', 'timeout'] as const).map((f): [string, TvmError] => [
      `MomentoError ${f}`,
      new MomentoError(f, undefined),
    ]),
  ])('%s answers the Retry-After of its code in the table', (_name, err) => {
    const p = PROBLEMS[err.code];
    expect('retryAfterSeconds' in p).toBe(true);
    const fixed = (p as { retryAfterSeconds: number }).retryAfterSeconds;
    expect(err.retryAfterSeconds).toBe(fixed);
    expect(errorResponse(err, {}, 'r').headers?.['Retry-After']).toBe(String(fixed));
  });

  it('a computed Retry-After (backlog, caller wait) is passed by the thrower; its code has no fixed one', () => {
    for (const code of ['mint-budget-exhausted', 'caller-rate-limited'] as const) {
      expect(PROBLEMS[code]).not.toHaveProperty('retryAfterSeconds');
      const res = errorResponse(new TvmError(code, 'wait', { retryAfterSeconds: 7 }), {}, 'r');
      expect(res.headers?.['Retry-After']).toBe('7');
    }
  });
});
