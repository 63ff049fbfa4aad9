/**
 * Helpers for claim metrics. A metric returns a number, a NotRun or an Outcome; these
 * pass the non-numbers through unchanged so a claim's metric reads as arithmetic.
 */
import type { MetricValue } from './contract';

/** a / b, or the first value that is not a number (a NotRun or an Outcome). */
export function ratio(a: MetricValue, b: MetricValue): MetricValue {
  if (typeof a !== 'number') return a;
  if (typeof b !== 'number') return b;
  return a / b;
}

/** a - b, or the first value that is not a number. */
export function difference(a: MetricValue, b: MetricValue): MetricValue {
  if (typeof a !== 'number') return a;
  if (typeof b !== 'number') return b;
  return a - b;
}

/**
 * The x at which a measured curve first reaches `target` (y <= target), interpolated
 * linearly between the last measurement above the target and the first at or below it.
 * When the FIRST measurement already meets the target, the answer is that measurement's
 * x: the curve is not observed before it, so any earlier x would be invented (a curve
 * measured from x = 0 gives 0). null when the curve never reaches the target.
 */
export function firstCrossing(xs: readonly number[], ys: readonly number[], target: number): number | null {
  if (xs.length !== ys.length) throw new Error(`firstCrossing: ${xs.length} x values but ${ys.length} y values`);
  for (let i = 0; i < ys.length; i++) {
    if (!(ys[i] <= target)) continue;
    if (i === 0) return xs[0];
    const [x0, x1, y0, y1] = [xs[i - 1], xs[i], ys[i - 1], ys[i]];
    return y0 === y1 ? x1 : x0 + ((y0 - target) / (y0 - y1)) * (x1 - x0);
  }
  return null;
}
