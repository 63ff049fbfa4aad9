/**
 * RER figures: pure functions of (all seeds' results, config) -> Vega-Lite specs.
 * Each curve is the mean over every trial of every seed; the band spans min..max.
 */
import { spread } from '../../core/stats';
import { lineChart } from '../../figures/charts';
import type { FigureDef, VegaLiteSpec } from '../../figures/types';
import type { MetricValue, SeedResult } from '../../harness/contract';
import { ratio } from '../../harness/metrics';
import { linsysMean, qMean } from './claims';
import type { RerConfig } from './config';
import type { LinsysMethod, Num, QMethod, RerResult } from './experiment';

interface Row {
  samples: number;
  method: string;
  mean: number;
  lo: number;
  hi: number;
}

const LINSYS_LABEL: Partial<Record<LinsysMethod, string>> = {
  ols: 'OLS (offline optimum)',
  'sgd-rer': 'SGD-RER, step 1/(8RB) (tail avg)',
  sgd: 'forward SGD, step 1/(8RB) (tail avg)',
  'sgd-rer-shared': 'SGD-RER, step 1/(8R) (tail avg)',
  'sgd-shared': 'forward SGD, step 1/(8R) (tail avg)',
  'sgd-large': 'forward SGD, step 1/(2R) (tail avg)',
};

/** The order comparisons judged by the rer-forward-sgd-worse claims, at every horizon T. */
export const ORDER_RATIOS: { label: string; forward: LinsysMethod; rer: LinsysMethod }[] = [
  { label: 'step 1/(8RB) (the theorem’s)', forward: 'sgd', rer: 'sgd-rer' },
  { label: 'shared step 1/(8R)', forward: 'sgd-shared', rer: 'sgd-rer-shared' },
];

/** The Q-learning comparisons judged by the rer-qrex-beats-* claims, at every evaluation. */
export const Q_RATIOS: { label: string; other: QMethod }[] = [
  { label: 'Q-Rex / online Q-learning', other: 'online-q' },
  { label: 'Q-Rex / target + uniform replay', other: 'uniform-er' },
];

/** Per seed, the claim metric at every grid point (null where a value is not a finite number). */
export function perSeedCurve(results: SeedResult<RerResult>[], points: number, at: (r: RerResult, i: number) => MetricValue): (number | null)[][] {
  return results.map((s) =>
    Array.from({ length: points }, (_, i) => {
      const v = at(s.result, i);
      return typeof v === 'number' && Number.isFinite(v) ? v : null;
    }),
  );
}

export function orderRatio(r: RerResult, c: (typeof ORDER_RATIOS)[number], i: number): MetricValue {
  return ratio(linsysMean(r, c.forward, i), linsysMean(r, c.rer, i));
}

export function qRatio(r: RerResult, c: (typeof Q_RATIOS)[number], i: number): MetricValue {
  return ratio(qMean(r, 'q-rex', 'qError', i), qMean(r, c.other, 'qError', i));
}

const Q_LABEL: Record<QMethod, string> = {
  'q-rex': 'Q-Rex (target + reverse replay)',
  'uniform-er': 'target + uniform replay',
  'online-q': 'online Q-learning',
};

/** Collapses [seed][trial][point] tables into one row per (method, point); points with a non-finite value are dropped. */
function summarise(samples: number[], tables: { label: string; rows: Num[][] }[], allowZero = false): Row[] {
  const out: Row[] = [];
  for (const { label, rows } of tables)
    samples.forEach((t, i) => {
      const vals = rows.map((r) => r[i]);
      if (vals.length === 0 || vals.some((v) => v === null || !(allowZero ? v >= 0 : v > 0))) return;
      const v = vals as number[];
      out.push({ samples: t, method: label, ...spread(v) });
    });
  return out;
}

/** Mean curve with its min–max band per method, log-log (or symlog y where exact zeros are meaningful: an optimal greedy policy). */
function logLogBand(title: string, yTitle: string, xTitle: string, rows: Row[], order: string[], yScale: 'log' | 'symlog' = 'log'): VegaLiteSpec {
  return lineChart({
    title,
    rows,
    x: { field: 'samples', title: xTitle, scale: 'log' },
    y: { field: 'mean', title: yTitle, scale: yScale },
    color: { field: 'method', order, columns: 2 },
    band: { lo: 'lo', hi: 'hi' },
  });
}

export function figures(results: SeedResult<RerResult>[], config: RerConfig): FigureDef[] {
  if (results.length === 0) return [];
  const ls = results[0].result.linsys;
  const linMethods = Object.keys(LINSYS_LABEL) as LinsysMethod[];
  const linRows = summarise(
    ls.samples,
    linMethods.map((m) => ({ label: LINSYS_LABEL[m] as string, rows: results.flatMap((s) => s.result.linsys.opError[m]) })),
  );
  const q = results[0].result.q;
  const qMethods = Object.keys(Q_LABEL) as QMethod[];
  const rel = (s: SeedResult<RerResult>, m: QMethod, key: 'qError' | 'valueGap') =>
    s.result.q[key][m].map((row, t) => row.map((v) => (v === null ? null : v / s.result.q.qStarMax[t])));
  const qRows = summarise(q.samples, qMethods.map((m) => ({ label: Q_LABEL[m], rows: results.flatMap((s) => rel(s, m, 'qError')) })));
  const gapRows = summarise(q.samples, qMethods.map((m) => ({ label: Q_LABEL[m], rows: results.flatMap((s) => rel(s, m, 'valueGap')) })), true);
  const nTrials = results.length * config.trials;
  const nQ = results.length * config.qTrials;
  const orderRows = summarise(
    ls.samples,
    ORDER_RATIOS.map((c) => ({ label: c.label, rows: perSeedCurve(results, ls.samples.length, (r, i) => orderRatio(r, c, i)) })),
  );
  const qRatioRows = summarise(
    q.samples,
    Q_RATIOS.map((c) => ({ label: c.label, rows: perSeedCurve(results, q.samples.length, (r, i) => qRatio(r, c, i)) })),
  );
  return [
    {
      name: 'rer-linsys-error',
      title: `Linear system identification (d=${config.dim}, rho=${config.rho}, B=${config.buffer}, u=${config.gap}): ||A_hat - A*||_2 vs samples, mean and min–max over ${nTrials} trajectories`,
      spec: logLogBand('Streaming system identification: error vs samples', '||Â − A*||₂ (operator norm)', 'samples T (one trajectory)', linRows, linMethods.map((m) => LINSYS_LABEL[m] as string)),
    },
    {
      name: 'rer-order-ratio-vs-horizon',
      title: `Forward SGD / SGD-RER error (same step, same trajectory, tail averages at buffer ends) vs the horizon T, per step size: the metric of the rer-forward-sgd-worse claims (>= 1.25 to reproduce) at every T; mean and min–max over ${results.length} seed(s) of the ratio of the means over ${config.trials} trajectories`,
      spec: lineChart({
        title: 'Forward SGD error / SGD-RER error vs horizon',
        rows: orderRows,
        x: { field: 'samples', title: 'samples T (one trajectory)', scale: 'log' },
        y: { field: 'mean', title: '||Â_sgd − A*||₂ / ||Â_rer − A*||₂', scale: 'log' },
        color: { field: 'method', order: ORDER_RATIOS.map((c) => c.label) },
        band: { lo: 'lo', hi: 'hi' },
      }),
    },
    {
      name: 'rer-q-error',
      title: `Linear MDP (${config.qStates} states, ${config.qActions} actions, k=${config.qFeatures}): max|Q − Q*| / max|Q*| vs samples, mean and min–max over ${nQ} MDPs`,
      spec: logLogBand('Q-learning on a linear MDP: Q error vs samples', 'max |Q − Q*| / max |Q*|', 'samples (behaviour trajectory)', qRows, qMethods.map((m) => Q_LABEL[m])),
    },
    {
      name: 'rer-q-value-gap',
      title: `Linear MDP: value lost by the greedy policy, max_s (V* − V^greedy) / max|Q*|, mean and min–max over ${nQ} MDPs (symlog y: 0 = the greedy policy is optimal)`,
      spec: logLogBand('Q-learning on a linear MDP: greedy-policy value gap', 'max_s (V* − V^π) / max |Q*|', 'samples (behaviour trajectory)', gapRows, qMethods.map((m) => Q_LABEL[m]), 'symlog'),
    },
    {
      name: 'rer-q-ratio-vs-samples',
      title: `Q-Rex's sup-norm Q error over another learner's on the same MDPs and transitions vs samples: the metric of the rer-qrex-beats-* claims (<= 1 to reproduce) at every evaluation; mean and min–max over ${results.length} seed(s) of the ratio of the means over ${config.qTrials} MDPs`,
      spec: lineChart({
        title: 'Q-Rex Q error / other learner’s Q error vs samples',
        rows: qRatioRows,
        x: { field: 'samples', title: 'samples (behaviour trajectory)', scale: 'log' },
        y: { field: 'mean', title: 'max|Q_qrex − Q*| / max|Q_other − Q*|', scale: 'log' },
        color: { field: 'method', order: Q_RATIOS.map((c) => c.label) },
        band: { lo: 'lo', hi: 'hi' },
      }),
    },
  ];
}
