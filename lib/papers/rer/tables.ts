/** RER result tables: final errors per method, mean over seeds and trials. */
import type { ResultTable, SeedResult } from '../../harness/contract';
import { mean } from '../../core/stats';
import type { RerConfig } from './config';
import type { LinsysMethod, Num, QMethod, RerResult } from './experiment';

const LINSYS: LinsysMethod[] = ['ols', 'sgd-rer', 'sgd', 'sgd-large'];
const Q: QMethod[] = ['q-rex', 'uniform-er', 'online-q'];

/** Mean of the last column over every trial of every seed; null when any trial diverged. */
function finalMean(rows: Num[][]): number | null {
  const last = rows.map((r) => r[r.length - 1]);
  return last.some((v) => v === null) ? null : mean(last as number[]);
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
  return [
    {
      name: 'rer-linsys-final',
      title: `Linear system identification at T = ${ls.samples[ls.samples.length - 1]} samples: operator-norm error per estimator`,
      columns: ['estimator', '||Â − A*||₂', '/ OLS'],
      rows: linsys.map(([m, v]) => [m, v, v === null || ols === null ? null : (v as number) / ols]),
      note: `mean over ${results.length} seed(s) x ${config.trials} trajectories; '—': an estimator diverged in some trial`,
    },
    {
      name: 'rer-q-final',
      title: `Q-learning on a linear MDP after ${q.samples[q.samples.length - 1]} samples`,
      columns: ['learner', 'max|Q − Q*| / max|Q*|', 'greedy value gap / max|Q*|'],
      rows: qRows,
      note: `mean over ${results.length} seed(s) x ${config.qTrials} MDPs`,
    },
  ];
}
