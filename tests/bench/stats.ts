/** Small statistics helpers for the benchmark: percentiles, medians, ranges. */

/** The `p`-th percentile (0-100) of `values` by nearest rank; NaN when empty. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/** Latency distribution of one run, in ms. */
export interface Distribution {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** Summarises `values` (it is sorted in place). */
export function distribution(values: Float64Array): Distribution {
  values.sort();
  let sum = 0;
  for (const v of values) sum += v;
  return {
    count: values.length,
    p50: percentile(values, 50),
    p95: percentile(values, 95),
    p99: percentile(values, 99),
    max: values.length > 0 ? values[values.length - 1] : NaN,
    mean: values.length > 0 ? sum / values.length : NaN,
  };
}

/** Median, minimum and maximum of repeated measurements of one figure. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  runs: number[];
}

/** The spread of `runs`; NaN entries (a run that could not measure) are left out. */
export function spread(runs: number[]): Spread {
  const ok = runs.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (ok.length === 0) return { median: NaN, min: NaN, max: NaN, runs };
  const mid = Math.floor(ok.length / 2);
  const median = ok.length % 2 === 1 ? ok[mid] : (ok[mid - 1] + ok[mid]) / 2;
  return { median, min: ok[0], max: ok[ok.length - 1], runs };
}

/** Formats a number for the tables: few digits, no noise. */
export function fmt(value: number, digits?: number): string {
  if (!Number.isFinite(value)) return "-";
  const abs = Math.abs(value);
  const d = digits ?? (abs >= 1000 ? 0 : abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3);
  return value.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d });
}

/** `median (min-max)` of a spread. */
export function fmtSpread(s: Spread, digits?: number): string {
  if (!Number.isFinite(s.median)) return "-";
  if (s.runs.filter(Number.isFinite).length <= 1) return fmt(s.median, digits);
  return `${fmt(s.median, digits)} (${fmt(s.min, digits)}-${fmt(s.max, digits)})`;
}
