/**
 * LocoProp figures: pure functions of (all seeds' results, config) -> Vega-Lite specs.
 * The paper's figure (training loss vs epochs and vs wall time), time per epoch and
 * memory per method. Curves are the mean over seeds of each method's selected run
 * (the best of its learning-rate grid); the band spans min..max over seeds.
 */
import { barChart, lineChart } from '../../figures/charts';
import { spread } from '../../core/stats';
import type { FigureDef, VegaLiteSpec } from '../../figures/types';
import type { SeedResult } from '../../harness/contract';
import { METHOD_IDS, type LocopropConfig, type MethodId } from './config';
import type { LocopropResult, MethodRun } from './experiment';

export const METHOD_LABEL: Record<MethodId, string> = {
  'bp-rmsprop': 'BP + RMSprop',
  'bp-adam': 'BP + Adam',
  'locoprop-s': 'LocoProp-S',
  'locoprop-m': 'LocoProp-M',
  shampoo: 'Shampoo (2nd order)',
};

function runsOf(results: SeedResult<LocopropResult>[], m: MethodId): MethodRun[] {
  return results.flatMap((s) => {
    const i = s.result.selected[m];
    return i === undefined ? [] : [s.result.runs[i]];
  });
}

interface CurveRow {
  x: number;
  method: string;
  mean: number;
  lo: number;
  hi: number;
}

/** Loss per epoch (x = epoch) or per cumulative training seconds (x = mean seconds over seeds). */
export function lossRows(results: SeedResult<LocopropResult>[], x: 'epoch' | 'seconds'): CurveRow[] {
  const rows: CurveRow[] = [];
  for (const m of METHOD_IDS) {
    const runs = runsOf(results, m);
    if (runs.length === 0) continue;
    const points = Math.min(...runs.map((r) => r.loss.length));
    for (let e = 0; e < points; e++) {
      const vals = runs.map((r) => r.loss[e]);
      if (vals.some((v) => v === null)) break;
      const cum = runs.map((r) => r.epochSeconds.slice(0, e).reduce((a, b) => a + b, 0));
      rows.push({ x: x === 'epoch' ? e : spread(cum).mean, method: METHOD_LABEL[m], ...spread(vals as number[]) });
    }
  }
  return rows;
}

const ORDER = METHOD_IDS.map((m) => METHOD_LABEL[m]);

function curve(title: string, xTitle: string, rows: CurveRow[]): VegaLiteSpec {
  return lineChart({
    title,
    rows,
    x: { field: 'x', title: xTitle },
    y: { field: 'mean', title: 'training loss (sigmoid CE, nats per image)', scale: 'log' },
    color: { field: 'method', order: ORDER, columns: 3 },
    band: { lo: 'lo', hi: 'hi' },
  });
}

function bars(title: string, yTitle: string, rows: { method: string; value: number; lo: number; hi: number }[]): VegaLiteSpec {
  return barChart({
    title,
    rows,
    x: { field: 'method', title: null, order: ORDER, labelAngle: -20 },
    y: { field: 'value', title: yTitle },
    color: { field: 'method', order: ORDER, legend: false },
    errorBar: { lo: 'lo', hi: 'hi' },
  });
}

/** Median seconds per training epoch, per method: mean and min..max over seeds. */
export function epochTimeRows(results: SeedResult<LocopropResult>[]): { method: string; value: number; lo: number; hi: number }[] {
  return METHOD_IDS.flatMap((m) => {
    const runs = runsOf(results, m);
    if (runs.length === 0) return [];
    const med = runs.map((r) => [...r.epochSeconds].sort((a, b) => a - b)[Math.floor(r.epochSeconds.length / 2)]);
    const s = spread(med);
    return [{ method: METHOD_LABEL[m], value: s.mean, lo: s.lo, hi: s.hi }];
  });
}

/** Parameters + optimiser state in MB (float32), per method. */
export function memoryRows(results: SeedResult<LocopropResult>[]): { method: string; value: number; lo: number; hi: number; params: number; state: number }[] {
  return METHOD_IDS.flatMap((m) => {
    const runs = runsOf(results, m);
    if (runs.length === 0) return [];
    const r = runs[0];
    const mb = ((r.paramFloats + r.stateFloats) * 4) / 2 ** 20;
    return [{ method: METHOD_LABEL[m], value: mb, lo: mb, hi: mb, params: r.paramFloats, state: r.stateFloats }];
  });
}

export function figures(results: SeedResult<LocopropResult>[], config: LocopropConfig): FigureDef[] {
  if (results.length === 0) return [];
  const r0 = results[0].result;
  const setting = `${config.sizes.join('-')} ${config.hidden}, ${r0.trainImages} MNIST training images, batch ${config.batchSize}, ${config.epochs} epochs, K=${config.localIterations} local iterations, ${results.length} seed(s)`;
  return [
    {
      name: 'locoprop-loss-vs-epochs',
      title: `Training loss vs epochs (${setting}); mean and min–max over seeds`,
      spec: curve('Deep autoencoder: training loss vs epochs', 'epoch', lossRows(results, 'epoch')),
    },
    {
      name: 'locoprop-loss-vs-seconds',
      title: `Training loss vs training wall time in seconds (evaluation excluded; ${setting}); mean over seeds`,
      spec: curve('Deep autoencoder: training loss vs wall time', 'training seconds (this machine)', lossRows(results, 'seconds')),
    },
    {
      name: 'locoprop-time-per-epoch',
      title: `Median training seconds per epoch per method (${r0.stepsPerEpoch} steps of batch ${config.batchSize}); mean and min–max over seeds`,
      spec: bars('Time per epoch', 'seconds per epoch', epochTimeRows(results)),
    },
    {
      name: 'locoprop-memory',
      title: `Parameters + optimiser state per method, MB of float32 (Shampoo blocks ≤ ${config.shampooBlockSize}: statistics and inverse roots)`,
      spec: bars('Memory: parameters + optimiser state', 'MB (float32)', memoryRows(results)),
    },
  ];
}
