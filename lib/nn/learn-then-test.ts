/**
 * Learn-then-Test calibration (Angelopoulos, Bates, Candès, Jordan, Lei 2021), as CALM
 * uses it to pick an early-exit threshold: for each candidate λ, test the null
 * "expected risk(λ) > δ" with a Hoeffding–Bentkus p-value on n calibration examples
 * (risks in [0, 1]); walk the candidates from the most conservative one (fixed-sequence
 * testing, no multiplicity correction needed) and keep the last λ whose null is rejected
 * at level ε before the first failure. Then P(risk(λ̂) <= δ) >= 1 - ε over calibration draws.
 */
import { UsageError } from '../core/errors';

/** ln C(n, k) via log-gamma-free summation (exact enough for n up to ~1e5). */
function logChoose(n: number, k: number): number {
  let s = 0;
  const m = Math.min(k, n - k);
  for (let i = 1; i <= m; i++) s += Math.log(n - m + i) - Math.log(i);
  return s;
}

/** P(Bin(n, p) <= k). */
export function binomialCdf(k: number, n: number, p: number): number {
  if (k < 0) return 0;
  if (k >= n) return 1;
  if (p <= 0) return 1;
  if (p >= 1) return 0;
  let total = 0;
  for (let i = 0; i <= k; i++) total += Math.exp(logChoose(n, i) + i * Math.log(p) + (n - i) * Math.log(1 - p));
  return Math.min(1, total);
}

/** Bernoulli KL divergence h1(a, b) = a ln(a/b) + (1-a) ln((1-a)/(1-b)), with 0 ln 0 = 0. */
function h1(a: number, b: number): number {
  const t1 = a === 0 ? 0 : a * Math.log(a / b);
  const t2 = a === 1 ? 0 : (1 - a) * Math.log((1 - a) / (1 - b));
  return t1 + t2;
}

/** Hoeffding p-value exp(-2 n (δ - R̂)_+^2). */
export function hoeffdingPValue(riskHat: number, n: number, delta: number): number {
  const gap = Math.max(0, delta - riskHat);
  return Math.exp(-2 * n * gap * gap);
}

/**
 * Hoeffding–Bentkus p-value (Bates et al. 2021, RCPS) for H0: E[risk] > δ given the mean
 * R̂ of n risks in [0, 1]: min(exp(-n h1(min(R̂, δ), δ)), e · P(Bin(n, δ) <= ceil(n R̂))).
 */
export function hoeffdingBentkusPValue(riskHat: number, n: number, delta: number): number {
  if (!(n >= 1)) throw new UsageError(`Learn-then-Test needs at least one calibration example, got ${n}`);
  if (!(delta > 0 && delta < 1)) throw new UsageError(`tolerance δ must be in (0, 1), got ${delta}`);
  const hoeff = Math.exp(-n * h1(Math.min(riskHat, delta), delta));
  // tiny tolerance so that a mean that is an integer count / n does not round up
  const bentkus = Math.E * binomialCdf(Math.ceil(n * riskHat - 1e-9), n, delta);
  return Math.min(1, hoeff, bentkus);
}

/** Fixed-sequence testing: the number of leading p-values <= ε (the hypotheses rejected in order). */
export function fixedSequenceRejections(pValues: number[], epsilon: number): number {
  let i = 0;
  while (i < pValues.length && pValues[i] <= epsilon) i++;
  return i;
}

export interface LttResult {
  /** Index into `lambdas` of the chosen threshold, or -1 when even the most conservative one fails (use the full model). */
  index: number;
  /** The chosen λ, or null (no early exit certified). */
  lambda: number | null;
  /** Mean calibration risk of each candidate. */
  risks: number[];
  pValues: number[];
}

/**
 * Picks λ by Learn-then-Test. `lambdas` must be ordered from the most conservative (least
 * exiting) to the least; `risks[i][j]` is example j's risk in [0, 1] at lambdas[i].
 */
export function learnThenTest(lambdas: number[], risks: number[][], delta: number, epsilon: number): LttResult {
  if (lambdas.length !== risks.length) throw new UsageError(`learnThenTest: ${lambdas.length} thresholds but ${risks.length} risk rows`);
  if (!(epsilon > 0 && epsilon < 1)) throw new UsageError(`ε must be in (0, 1), got ${epsilon}`);
  const means = risks.map((row) => {
    for (const r of row) if (!(r >= 0 && r <= 1)) throw new UsageError(`learnThenTest: risks must lie in [0, 1], got ${r}`);
    return row.reduce((a, b) => a + b, 0) / row.length;
  });
  const pValues = means.map((m, i) => hoeffdingBentkusPValue(m, risks[i].length, delta));
  const k = fixedSequenceRejections(pValues, epsilon);
  return { index: k - 1, lambda: k > 0 ? lambdas[k - 1] : null, risks: means, pValues };
}
