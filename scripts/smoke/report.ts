/**
 * The smoke test's results and what it prints: one row per check, an aligned table, and the redactor every printed
 * line passes through (control characters stripped, known secrets and anything shaped like a credential masked).
 */

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

/** A judged row: `pass` when `ok`, else `fail`. */
export const row = (check: string, expected: string, seen: string, ok: boolean): CheckResult => ({
  check,
  expected,
  seen,
  status: ok ? 'pass' : 'fail',
});
/** A row for a check that does not apply or was not asked for; `why` is shown as what was seen. */
export const skip = (check: string, expected: string, why: string): CheckResult => ({
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
