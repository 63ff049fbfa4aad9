/**
 * Small descriptive statistics shared by figures, tables and verdicts.
 */

/** Arithmetic mean (NaN for an empty list). */
export function mean(values: readonly number[]): number {
  return values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

/** Sample standard deviation (n - 1); 0 for one value, NaN for none. */
export function sampleStd(values: readonly number[]): number {
  const n = values.length;
  if (n === 0) return NaN;
  if (n === 1) return 0;
  const m = mean(values);
  return Math.sqrt(values.reduce((a, b) => a + (b - m) ** 2, 0) / (n - 1));
}

/** Mean, min and max of a list (the band of a curve over seeds). */
export function spread(values: readonly number[]): { mean: number; lo: number; hi: number } {
  return { mean: mean(values), lo: Math.min(...values), hi: Math.max(...values) };
}

/** Two-sided 95% quantiles of Student's t, t_{0.975, df}, for df = 1..30 (standard table values). */
const T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042];
const Z975 = 1.959963984540054;

/** t_{0.975, df}: the multiplier of a 95% two-sided interval; beyond the table, a Cornish-Fisher expansion (error < 1e-3). */
export function tQuantile975(df: number): number {
  if (!(df >= 1) || !Number.isInteger(df)) throw new Error(`tQuantile975: degrees of freedom must be a positive integer, got ${df}`);
  if (df <= T975.length) return T975[df - 1];
  const z = Z975;
  return z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df ** 2) + (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / (384 * df ** 3);
}

export interface Interval {
  lo: number;
  hi: number;
}

/** 95% Student-t interval for the mean of `values` (n >= 2): mean ± t_{0.975, n-1} s / sqrt(n). */
export function tInterval95(values: readonly number[]): Interval {
  const n = values.length;
  if (n < 2) throw new Error(`tInterval95 needs at least 2 values, got ${n}`);
  const m = mean(values);
  const half = (tQuantile975(n - 1) * sampleStd(values)) / Math.sqrt(n);
  return { lo: m - half, hi: m + half };
}

/** 95% interval for the mean of n values whose standard deviation `sd` is known (a normal interval). */
export function knownSdInterval95(m: number, sd: number, n: number): Interval {
  const half = (Z975 * sd) / Math.sqrt(n);
  return { lo: m - half, hi: m + half };
}
