/**
 * Helpers for claim metrics. A metric returns a number or a NotRun; these pass a NotRun
 * through unchanged so a claim's metric reads as arithmetic on its inputs.
 */
import type { NotRun } from './contract';

export type MaybeRun = number | NotRun;

export function isNotRun(v: MaybeRun): v is NotRun {
  return typeof v !== 'number';
}

/** a / b, or the first NotRun. */
export function ratio(a: MaybeRun, b: MaybeRun): MaybeRun {
  if (isNotRun(a)) return a;
  if (isNotRun(b)) return b;
  return a / b;
}

/** a - b, or the first NotRun. */
export function difference(a: MaybeRun, b: MaybeRun): MaybeRun {
  if (isNotRun(a)) return a;
  if (isNotRun(b)) return b;
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
