/**
 * RER figures: pure functions of (all seeds' results, config) -> Vega-Lite specs.
 * Each curve is the mean over every trial of every seed; the band spans min..max.
 */
import { spread } from '../../core/stats';
import { lineChart } from '../../figures/charts';
import type { FigureDef, VegaLiteSpec } from '../../figures/types';
import type { SeedResult } from '../../harness/contract';
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
  'sgd-rer': 'SGD-RER (tail avg)',
  sgd: 'forward SGD, same step (tail avg)',
  'sgd-large': 'forward SGD, step 1/(2R) (tail avg)',
};

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
  return [
    {
      name: 'rer-linsys-error',
      title: `Linear system identification (d=${config.dim}, rho=${config.rho}, B=${config.buffer}, u=${config.gap}): ||A_hat - A*||_2 vs samples, mean and min–max over ${nTrials} trajectories`,
      spec: logLogBand('Streaming system identification: error vs samples', '||Â − A*||₂ (operator norm)', 'samples T (one trajectory)', linRows, linMethods.map((m) => LINSYS_LABEL[m] as string)),
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
  ];
}
