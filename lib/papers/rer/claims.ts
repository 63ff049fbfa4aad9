/**
 * The RER claims, as data. Tolerances were fixed before the first quick/full run and
 * are not to be tuned to the results (ARCHITECTURE.md §5).
 *
 * The stored copies of both papers stop after the abstract, so no figure or table
 * number could be read: every claim cites the abstract's (or theorem's) statement and
 * is judged on direction and order of magnitude, as its `paperValue` says.
 */
import type { Claim, MetricValue, Outcome } from '../../harness/contract';
import type { LinsysMethod, Num, QMethod, RerResult } from './experiment';
import { ratio } from '../../harness/metrics';

const LINSYS = 'arXiv:2103.05896';
const QREX = 'arXiv:2110.08440';

function meanOf(values: Num[]): number | Outcome {
  if (values.some((v) => v === null)) return { outcome: 'not-reproduced', reason: 'an estimator diverged (non-finite error) in some trial' };
  const v = values as number[];
  return v.reduce((a, b) => a + b, 0) / v.length;
}

/** Mean over trials of the operator-norm error of `method` at grid point `index` (negative: from the end). */
export function linsysMean(r: RerResult, method: LinsysMethod, index = -1): MetricValue {
  const rows = r.linsys.opError[method];
  const i = index < 0 ? r.linsys.samples.length + index : index;
  return meanOf(rows.map((row) => row[i]));
}


/** Least-squares slope of log(mean error) against log(samples) over the last `k` grid points. */
export function logLogSlope(r: RerResult, method: LinsysMethod, k = 3): MetricValue {
  const n = r.linsys.samples.length;
  if (n < k) return { notRun: `needs at least ${k} grid points, the config has ${n}`, precondition: 'config' };
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = n - k; i < n; i++) {
    const m = linsysMean(r, method, i);
    if (typeof m !== 'number') return m;
    xs.push(Math.log(r.linsys.samples[i]));
    ys.push(Math.log(m));
  }
  const mx = xs.reduce((a, b) => a + b, 0) / k;
  const my = ys.reduce((a, b) => a + b, 0) / k;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < k; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
  }
  return sxy / sxx;
}

/** Mean over trials of the Q error (or the greedy value gap relative to max|Q*|) of `method` at evaluation `index` (negative: from the end). */
export function qMean(r: RerResult, method: QMethod, what: 'qError' | 'valueGapRel', index = -1): MetricValue {
  const i = index < 0 ? r.q.samples.length + index : index;
  if (what === 'qError') return meanOf(r.q.qError[method].map((row) => row[i]));
  return meanOf(r.q.valueGap[method].map((row, t) => (row[i] === null ? null : (row[i] as number) / r.q.qStarMax[t])));
}

export const claims: Claim<RerResult>[] = [
  {
    id: 'rer-sgd-rer-near-ols',
    kind: 'paper',
    falsifiedBy: "SGD-RER ending more than 2x above OLS's error",
    paper: LINSYS,
    source: 'abstract; main theorem (parameter error of SGD-RER)',
    statement: 'SGD-RER (tail-averaged) reaches an operator-norm error within a small constant of OLS at the largest horizon',
    paperValue: '"information theoretically optimal guarantees" — same rate as OLS up to constants/log factors (no plotted number readable)',
    measures: 'mean over trials ||A_sgdrer - A*||_2 / mean ||A_ols - A*||_2 at the largest T',
    metric: (r) => ratio(linsysMean(r, 'sgd-rer'), linsysMean(r, 'ols')),
    expect: { atMost: 2.0 },
    toleranceWhy:
      'The tail average covers only the last half of the samples and the gaps drop 1/11 of them, so even a bias-free SGD-RER sits ~sqrt(2 x 1.1) = 1.48x above OLS; 2.0 leaves ~35% for the residual initial-condition bias at our horizon and for seed noise.',
    profiles: ['quick', 'full', 'paper'],
  },
  {
    id: 'rer-forward-sgd-worse',
    kind: 'paper',
    falsifiedBy: "forward SGD at the same step within 25% of SGD-RER's error, or better",
    paper: LINSYS,
    source: 'abstract',
    statement: 'Forward SGD on the Markovian stream, same step size, ends with a larger error than SGD-RER',
    paperValue: '"SGD ... unlikely to work since streaming points can be highly correlated" (qualitative)',
    measures: 'mean over trials ||A_sgd - A*||_2 / mean ||A_sgdrer - A*||_2 at the largest T (both tail-averaged, same step 1/(8RB))',
    metric: (r) => ratio(linsysMean(r, 'sgd'), linsysMean(r, 'sgd-rer')),
    expect: { atLeast: 1.25 },
    toleranceWhy:
      'Both runs see the same trajectory (paired), so seed noise on the ratio is small; forward SGD keeps a bias of order step x mixing time that does not average out, and a 25% gap is the smallest difference we would call "worse" rather than noise.',
    profiles: ['quick', 'full', 'paper'],
    expected: {
      full: {
        verdict: 'inconclusive',
        reason:
          "Measured at full (901K samples, 16 trials, 3 seeds): at the theorem's shared step 1/(8RB) forward SGD's error is 1.12x SGD-RER's, per seed 1.19, 1.10, 1.06, interval [0.955, 1.28]: the gap grows with the horizon (0.99 at quick's 225K samples) but 3 seeds do not place it against 1.25 (about 4 would). At the shared larger step 1/(8R) forward SGD is 27.9x worse (rer-forward-sgd-worse-shared-step, reproduced).",
        evidence: "results/reference/full/rer/claims.json and tables.json (npm run reproduce -- --only rer --profile full): rer-forward-sgd-worse",
      },
      quick: {
        verdict: 'not-reproduced',
        reason:
          "At the theorem's step 1/(8RB) forward SGD is not worse than SGD-RER at any horizon of the quick grid: from T = 880 to the largest T the ratio stays at about 1 or below (its mean over seeds never exceeds 1), with no rise toward 1.25 (that it sits slightly below 1 may come from forward SGD also using the gap samples RER drops: a hypothesis). At the shared larger step 1/(8R) the same paired comparison reproduces by a wide margin and grows with T (rer-forward-sgd-worse-shared-step): the order of the updates matters once the step is large enough for forward SGD's correlation bias, which tail averaging does not remove, to exceed the noise; at 1/(8RB) it does not at our horizons. The paper's own contrast, plain SGD at its usual step, is rer-sgd-large-step-plateaus.",
        evidence:
          'npm run reproduce -- --only rer --profile quick: results/reference/quick/rer/tables.json (table rer-order-ratio-by-horizon: the ratio at every T for both steps), figures/rer-order-ratio-vs-horizon, claims.json (rer-forward-sgd-worse-shared-step)',
      },
    },
  },
  {
    id: 'rer-forward-sgd-worse-shared-step',
    kind: 'paper',
    falsifiedBy: "forward SGD at the shared step 1/(8R) within 25% of SGD-RER's error at that step, or better",
    paper: LINSYS,
    source: 'abstract',
    statement: 'At a shared step 1/(8R), larger than the theorem\'s 1/(8RB), forward SGD on the Markovian stream ends with a larger error than SGD-RER',
    paperValue: '"SGD ... unlikely to work since streaming points can be highly correlated" (qualitative)',
    measures: 'mean over trials ||A_sgd - A*||_2 / mean ||A_sgdrer - A*||_2 at the largest T (both tail-averaged at buffer ends, same step 1/(8R))',
    metric: (r) => ratio(linsysMean(r, 'sgd-shared'), linsysMean(r, 'sgd-rer-shared')),
    expect: { atLeast: 1.25 },
    toleranceWhy:
      'Pre-registered before any run of these two lanes, with the same threshold as rer-forward-sgd-worse: both see the same trajectory and are averaged at the same points (paired), and a 25% gap is the smallest difference we call "worse" rather than noise. The step 1/(8R) is shared so that only the order of the updates differs, at a step where forward SGD\'s correlation bias (of order step x mixing time) is not made negligible by the 1/B factor of the theorem\'s step.',
    profiles: ['quick', 'full', 'paper'],
  },
  {
    id: 'rer-sgd-rer-rate',
    kind: 'paper',
    falsifiedBy: 'a log-log slope outside [-1.2, -0.35], e.g. a plateau (slope ~0)',
    paper: LINSYS,
    source: 'main theorem (error ~ sqrt(d / T) up to log factors)',
    statement: 'SGD-RER error decays like T^(-1/2) over the last doublings of the horizon',
    paperValue: 'slope -0.5 in log-log (theorem rate)',
    measures: 'least-squares slope of log(mean ||A_sgdrer - A*||_2) vs log T over the last 3 grid points',
    metric: (r) => logLogSlope(r, 'sgd-rer', 3),
    expect: { atLeast: -1.2, atMost: -0.35 },
    toleranceWhy:
      'Decaying bias from A_0 = 0 can steepen the slope below -0.5 before the variance term dominates, and 3 points over 4x in T give a noisy slope; [-1.2, -0.35] still separates a T^(-1/2) decay from a plateau (slope ~0).',
    profiles: ['quick', 'full', 'paper'],
  },
  {
    id: 'rer-sgd-large-step-plateaus',
    kind: 'paper',
    falsifiedBy: 'forward SGD at step 1/(2R) within 3x of OLS',
    paper: LINSYS,
    source: 'abstract',
    statement: 'Forward SGD at the usual constant step 1/(2R) stays far above OLS on the Markovian stream',
    paperValue: '"SGD ... unlikely to work" (qualitative)',
    measures: 'mean over trials ||A_sgd(1/(2R)) - A*||_2 / mean ||A_ols - A*||_2 at the largest T',
    metric: (r) => ratio(linsysMean(r, 'sgd-large'), linsysMean(r, 'ols')),
    expect: { atLeast: 3 },
    toleranceWhy:
      'A constant-step SGD keeps a noise floor of order step x tr(Sigma) that tail averaging cannot remove on correlated data, while OLS keeps decreasing; 3x is well beyond the ~1.5x any averaged estimator pays for its window.',
    profiles: ['quick', 'full', 'paper'],
  },
  {
    id: 'rer-qrex-beats-uniform-er',
    kind: 'paper',
    falsifiedBy: 'Q-Rex ending with a larger sup-norm Q error than the same learner with uniform replay',
    paper: QREX,
    source: 'abstract',
    statement: 'Q-Rex (online target + reverse replay) ends with a smaller sup-norm Q error than the same learner with uniform replay',
    paperValue: 'Q-Rex "efficiently finds the optimal policy for linear MDPs" where Q-learning with linear approximation can fail (qualitative; no experimental number)',
    measures: 'mean over trials max|Q_qrex - Q*| / mean max|Q_uniform - Q*| at the last evaluation',
    metric: (r) => ratio(qMean(r, 'q-rex', 'qError'), qMean(r, 'uniform-er', 'qError')),
    expect: { atMost: 1.0 },
    toleranceWhy: 'A direction-only claim: the paper gives no number to compare against, so we only check which learner is ahead after the same samples.',
    profiles: ['quick', 'full', 'paper'],
    expected: {
      full: {
        verdict: 'inconclusive',
        reason:
          "Measured at full: Q-Rex's sup-norm Q error is below uniform replay's on every seed (ratios 0.98, 0.73, 0.84) but the 3-seed interval [0.53, 1.16] reaches past 1 (about 6 seeds would decide); quick reads the same (0.76 [0.39, 1.13]).",
        evidence: "results/reference/full/rer/claims.json and tables.json (npm run reproduce -- --only rer --profile full): rer-qrex-beats-uniform-er",
      },
      quick: {
        verdict: 'inconclusive',
        reason:
          'Q-Rex and uniform replay track each other until the last two evaluations; at the last one Q-Rex is ahead on average but not on every seed, and the 95% interval across 3 seeds straddles 1 (the verdict says about how many seeds would decide it).',
        evidence: 'npm run reproduce -- --only rer --profile quick: results/reference/quick/rer/claims.json, tables.json (table rer-q-ratio-by-samples), figures/rer-q-ratio-vs-samples',
      },
    },
  },
  {
    id: 'rer-qrex-beats-online-q',
    kind: 'paper',
    falsifiedBy: 'Q-Rex ending with a larger sup-norm Q error than plain online Q-learning on the same MDPs and the same behaviour trajectory',
    paper: QREX,
    source: 'abstract',
    statement: 'Q-Rex (online target + reverse replay) ends with a smaller sup-norm Q error than plain online Q-learning after the same samples',
    paperValue: 'Q-Rex "efficiently finds the optimal policy for linear MDPs", with the first non-asymptotic bound for Q-learning in this class, where plain Q-learning with linear function approximation has none (qualitative; no experimental number)',
    measures: 'mean over trials max|Q_qrex - Q*| / mean max|Q_online - Q*| at the last evaluation (same MDPs and transitions: paired within a seed)',
    metric: (r) => ratio(qMean(r, 'q-rex', 'qError'), qMean(r, 'online-q', 'qError')),
    expect: { atMost: 1.0 },
    toleranceWhy:
      'A direction-only claim, as rer-qrex-beats-uniform-er: the paper gives no number, so we only check which learner is ahead after the same samples; the interval across seeds decides whether the difference is more than noise.',
    profiles: ['quick', 'full', 'paper'],
    expected: {
      full: {
        verdict: 'inconclusive',
        reason:
          "Measured at full: Q-Rex's error is below online Q-learning's on every seed (0.91, 0.68, 0.70) but the 3-seed interval [0.45, 1.08] reaches past 1 (about 4 seeds would decide).",
        evidence: "results/reference/full/rer/claims.json and tables.json (npm run reproduce -- --only rer --profile full): rer-qrex-beats-online-q",
      },
      quick: {
        verdict: 'inconclusive',
        reason:
          'On this fast-mixing MDP online Q-learning (no target lag) is far ahead of Q-Rex for most of the run; Q-Rex overtakes it on average only at the last evaluation, and the 95% interval across 3 seeds straddles 1 (the verdict says about how many seeds would decide it).',
        evidence: 'npm run reproduce -- --only rer --profile quick: results/reference/quick/rer/claims.json, tables.json (table rer-q-ratio-by-samples), figures/rer-q-ratio-vs-samples',
      },
    },
  },
  {
    id: 'rer-qrex-near-optimal-policy',
    kind: 'check',
    falsifiedBy: 'a sanity bound: every learner we run (uniform replay, online Q) also meets it, so it does not single out Q-Rex',
    paper: QREX,
    source: 'abstract',
    statement: 'Acting greedily on the Q-Rex estimate is near-optimal at the end of the run',
    paperValue: '"efficiently finds the optimal policy" (qualitative)',
    measures: 'mean over trials of max_s (V*(s) - V^greedy(s)) / max|Q*| at the last evaluation',
    metric: (r) => qMean(r, 'q-rex', 'valueGapRel'),
    expect: { atMost: 0.05 },
    toleranceWhy: 'A 5% value loss relative to the scale of Q* is what we would still call "finds the optimal policy" with a constant step size and a finite sample.',
    profiles: ['quick', 'full', 'paper'],
  },
];
