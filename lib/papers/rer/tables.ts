/** RER result tables: final errors per method, and the claims' comparison ratios at every horizon. */
import type { ResultTable, SeedResult, TableCell } from '../../harness/contract';
import { mean } from '../../core/stats';
import type { RerConfig } from './config';
import type { LinsysMethod, Num, QMethod, RerResult } from './experiment';
import { ORDER_RATIOS, orderRatio, perSeedCurve, Q_RATIOS, qRatio } from './figures';

const LINSYS: LinsysMethod[] = ['ols', 'sgd-rer', 'sgd', 'sgd-rer-shared', 'sgd-shared', 'sgd-large'];
const Q: QMethod[] = ['q-rex', 'uniform-er', 'online-q'];

/** Mean of the last column over every trial of every seed; null when any trial diverged. */
function finalMean(rows: Num[][]): number | null {
  const last = rows.map((r) => r[r.length - 1]);
  return last.some((v) => v === null) ? null : mean(last as number[]);
}

/** Per grid point: the mean over seeds of a per-seed ratio, and the per-seed values as text. */
function ratioColumns(curves: (number | null)[][], i: number): TableCell[] {
  const v = curves.map((c) => c[i]);
  const ok = v.every((x): x is number => x !== null);
  return [ok ? mean(v) : null, v.map((x) => (x === null ? '—' : x.toFixed(3))).join(' / ')];
}

export function tables(results: SeedResult<RerResult>[], config: RerConfig): ResultTable[] {
  if (results.length === 0) return [];
  const ls = results[0].result.linsys;
  const q = results[0].result.q;
  const linsys = LINSYS.map((m) => [m, finalMean(results.flatMap((s) => s.result.linsys.opError[m]))]);
  const ols = linsys[0][1] as number | null;
  const qRows = Q.map((m) => {
    const rel = (key: 'qError' | 'valueGap') => finalMean(results.flatMap((s) => s.result.q[key][m].map((row, t) => row.map((v) => (v === null ? null : v / s.result.q.qStarMax[t])))));
    return [m, rel('qError'), rel('valueGap')];
  });
  const orderCurves = ORDER_RATIOS.map((c) => perSeedCurve(results, ls.samples.length, (r, i) => orderRatio(r, c, i)));
  const qCurves = Q_RATIOS.map((c) => perSeedCurve(results, q.samples.length, (r, i) => qRatio(r, c, i)));
  const seeds = results.map((s) => s.seed).join(', ');
  return [
    {
      name: 'rer-linsys-final',
      title: `Linear system identification at T = ${ls.samples[ls.samples.length - 1]} samples: operator-norm error per estimator`,
      columns: ['estimator', '||Â − A*||₂', '/ OLS'],
      rows: linsys.map(([m, v]) => [m, v, v === null || ols === null ? null : (v as number) / ols]),
      note: `mean over ${results.length} seed(s) x ${config.trials} trajectories; sgd-rer and sgd at step 1/(8RB), sgd-rer-shared and sgd-shared at 1/(8R), sgd-large at 1/(2R); '—': an estimator diverged in some trial`,
    },
    {
      name: 'rer-order-ratio-by-horizon',
      title: 'Forward SGD / SGD-RER error at every horizon T, per step size (the rer-forward-sgd-worse claims judge the last row, >= 1.25)',
      columns: ['T', ...ORDER_RATIOS.flatMap((c) => [`${c.label}: mean`, `${c.label}: per seed`])],
      rows: ls.samples.map((t, i) => [t, ...orderCurves.flatMap((c) => ratioColumns(c, i))]),
      note: `per seed: mean over ${config.trials} trajectories of the forward SGD error / mean of the SGD-RER error; seeds ${seeds}`,
    },
    {
      name: 'rer-q-final',
      title: `Q-learning on a linear MDP after ${q.samples[q.samples.length - 1]} samples`,
      columns: ['learner', 'max|Q − Q*| / max|Q*|', 'greedy value gap / max|Q*|'],
      rows: qRows,
      note: `mean over ${results.length} seed(s) x ${config.qTrials} MDPs`,
    },
    {
      name: 'rer-q-ratio-by-samples',
      title: "Q-Rex's sup-norm Q error / another learner's at every evaluation (the rer-qrex-beats-* claims judge the last row, <= 1)",
      columns: ['samples', ...Q_RATIOS.flatMap((c) => [`${c.label}: mean`, `${c.label}: per seed`])],
      rows: q.samples.map((t, i) => [t, ...qCurves.flatMap((c) => ratioColumns(c, i))]),
      note: `per seed: mean over ${config.qTrials} MDPs of Q-Rex's error / mean of the other learner's; seeds ${seeds}`,
    },
  ];
}
