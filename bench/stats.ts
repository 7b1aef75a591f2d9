/** Small statistics and formatting helpers shared by the benchmark parent and its children. */

/** Nearest-rank percentile (`q` in 0..1) of unsorted samples; NaN when there are none. */
export function percentile(samples: ArrayLike<number>, q: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = Float64Array.from(samples).sort();
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1] as number;
}

/** Median, p10, p90 of a sample. */
export interface Spread {
  readonly median: number;
  readonly p10: number;
  readonly p90: number;
  readonly n: number;
}

export const spread = (samples: ArrayLike<number>): Spread => ({
  median: percentile(samples, 0.5),
  p10: percentile(samples, 0.1),
  p90: percentile(samples, 0.9),
  n: samples.length,
});

/** Milliseconds with a precision that suits the magnitude. */
export const ms = (v: number): string =>
  Number.isNaN(v) ? '—' : v < 1 ? `${v.toFixed(3)} ms` : v < 10 ? `${v.toFixed(2)} ms` : `${v.toFixed(1)} ms`;

/** Bytes as kB / MB (decimal, as docs/architecture.md, "Cold start", reports them). */
export const bytes = (v: number): string =>
  v >= 1e6 ? `${(v / 1e6).toFixed(2)} MB` : v >= 1e3 ? `${(v / 1e3).toFixed(1)} kB` : `${v} B`;

/** One line of the printed table. */
export type Row = [figure: string, value: string, target: string, verdict: string];

/** PASS / FAIL, or nothing when there is no figure to judge. */
export const verdict = (ok: boolean | undefined): string => (ok === undefined ? '' : ok ? 'PASS' : 'FAIL');
