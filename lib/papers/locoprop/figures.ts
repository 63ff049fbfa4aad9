/**
 * LocoProp figures: pure functions of (all seeds' results, config) -> Vega-Lite specs.
 * The paper's figure (training loss vs steps and vs wall time), the interleaved step
 * timing and the memory held during a step, per method. Curves are the mean over seeds of
 * each method's selected run (the best of its learning-rate grid); the band spans
 * min..max over seeds.
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

export function runsOf(results: SeedResult<LocopropResult>[], m: MethodId): MethodRun[] {
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

/**
 * One curve: at each evaluation, the mean and min..max over `runs` (one per seed) of the loss,
 * at x = xAt(evaluation index); it stops at the first evaluation where some seed diverged.
 */
function seriesRows(label: string, evaluations: number, runs: MethodRun[], xAt: (e: number) => number): CurveRow[] {
  const rows: CurveRow[] = [];
  for (let e = 0; e < evaluations && runs.length > 0; e++) {
    const vals = runs.map((r) => r.loss[e]);
    if (vals.some((v) => v === null || v === undefined)) break;
    rows.push({ x: xAt(e), method: label, ...spread(vals as number[]) });
  }
  return rows;
}

/** Loss per evaluation (x = step) or per cumulative training seconds (x = mean seconds over seeds). */
export function lossRows(results: SeedResult<LocopropResult>[], x: 'step' | 'seconds'): CurveRow[] {
  const steps = results[0].result.evalSteps;
  return METHOD_IDS.flatMap((m) => {
    const runs = runsOf(results, m);
    return seriesRows(METHOD_LABEL[m], steps.length, runs, (e) => (x === 'step' ? steps[e] : spread(runs.map((r) => r.trainSeconds[e])).mean));
  });
}

const ORDER = METHOD_IDS.map((m) => METHOD_LABEL[m]);

/**
 * The long first-order runs (one curve per grid rate, mean and min..max over seeds) with
 * LocoProp-M's selected curve: where first order reaches LocoProp-M's final loss, and
 * whether it flattens. Empty when no seed made the long runs.
 */
export function longRows(results: SeedResult<LocopropResult>[]): CurveRow[] {
  const longs = results.flatMap((s) => (s.result.long ? [s.result.long] : []));
  if (longs.length === 0) return [];
  // Every seed runs the same methods and grid in the same order.
  const series: { label: string; steps: number[]; runs: MethodRun[] }[] = longs[0].runs.map((run, i) => ({
    label: `${METHOD_LABEL[run.method]} x${run.lrMultiplier}, ${longs[0].factor}x steps`,
    steps: longs[0].evalSteps,
    runs: longs.map((l) => l.runs[i]),
  }));
  series.push({ label: METHOD_LABEL['locoprop-m'], steps: results[0].result.evalSteps, runs: runsOf(results, 'locoprop-m') });
  return series.flatMap(({ label, steps, runs }) => seriesRows(label, steps.length, runs, (e) => steps[e]));
}

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

interface BarRow {
  method: string;
  value: number;
  lo: number;
  hi: number;
}

function bars(title: string, yTitle: string, rows: BarRow[]): VegaLiteSpec {
  return barChart({
    title,
    rows,
    x: { field: 'method', title: null, order: ORDER, labelAngle: -20 },
    y: { field: 'value', title: yTitle },
    color: { field: 'method', order: ORDER, legend: false },
    errorBar: { lo: 'lo', hi: 'hi' },
  });
}

/** Seconds per step of BP-RMSprop and LocoProp-M from the interleaved timing: mean and min..max over every repetition of every seed. */
export function stepTimeRows(results: SeedResult<LocopropResult>[]): BarRow[] {
  const timed = results.flatMap((s) => (s.result.timing ? [s.result.timing] : []));
  if (timed.length === 0) return [];
  const bp = spread(timed.flatMap((t) => t.bpRmspropSeconds));
  const m = spread(timed.flatMap((t) => t.locopropMSeconds));
  return [
    { method: METHOD_LABEL['bp-rmsprop'], value: bp.mean, lo: bp.lo, hi: bp.hi },
    { method: METHOD_LABEL['locoprop-m'], value: m.mean, lo: m.lo, hi: m.hi },
  ];
}

/** MiB held during a step per method (between-step state + the step's peak), mean and min..max over seeds. */
export function memoryRows(results: SeedResult<LocopropResult>[]): (BarRow & { persistentMiB: number; stepPeakMiB: number })[] {
  return METHOD_IDS.flatMap((m) => {
    const mems = runsOf(results, m).flatMap((r) => (r.memory ? [r.memory] : []));
    if (mems.length === 0) return [];
    const mib = (b: number) => b / 2 ** 20;
    const held = spread(mems.map((x) => mib(x.persistentBytes + x.stepPeakBytes)));
    return [{ method: METHOD_LABEL[m], value: held.mean, lo: held.lo, hi: held.hi, persistentMiB: spread(mems.map((x) => mib(x.persistentBytes))).mean, stepPeakMiB: spread(mems.map((x) => mib(x.stepPeakBytes))).mean }];
  });
}

export function figures(results: SeedResult<LocopropResult>[], config: LocopropConfig): FigureDef[] {
  if (results.length === 0) return [];
  const r0 = results[0].result;
  const setting = `${config.sizes.join('-')} ${config.hidden}, ${r0.trainImages} MNIST training images, batch ${r0.batchSize}, ${r0.totalSteps} steps, K=${config.localIterations} local iterations, ${results.length} seed(s)`;
  const figs: FigureDef[] = [
    {
      name: 'locoprop-loss-vs-steps',
      title: `Training loss vs steps (${setting}); mean and min–max over seeds`,
      spec: curve('Deep autoencoder: training loss vs steps', 'training step', lossRows(results, 'step')),
    },
    {
      name: 'locoprop-loss-vs-seconds',
      title: `Training loss vs training wall time in seconds (evaluation excluded; not timed exclusively, so other jobs may have shared the CPU; ${setting}); mean over seeds`,
      spec: curve('Deep autoencoder: training loss vs wall time', 'training seconds (this machine)', lossRows(results, 'seconds')),
    },
  ];
  const long = longRows(results);
  if (long.length > 0)
    figs.push({
      name: 'locoprop-first-order-long',
      title: `BP-RMSprop and BP-Adam trained ${r0.long?.factor}x the steps at every grid rate (schedule stretched), against LocoProp-M's selected run (${setting}); mean and min–max over seeds. The wall-time claim reads the steps at which first order reaches LocoProp-M's final loss`,
      spec: lineChart({
        title: `First order given ${r0.long?.factor}x the steps vs LocoProp-M`,
        rows: long,
        x: { field: 'x', title: 'training step' },
        y: { field: 'mean', title: 'training loss (sigmoid CE, nats per image)', scale: 'log' },
        color: { field: 'method', columns: 2 },
        band: { lo: 'lo', hi: 'hi' },
      }),
    });
  const times = stepTimeRows(results);
  if (times.length > 0)
    figs.push({
      name: 'locoprop-time-per-step',
      title: `Seconds per training step, BP-RMSprop and LocoProp-M timed interleaved on one batch of ${r0.batchSize} (${r0.timing?.stepsPerRep} step(s) per repetition, ${r0.timing?.ratios.length} repetitions per seed after warm-up); mean and min–max over repetitions and seeds`,
      spec: bars('Time per step (interleaved, exclusive)', 'seconds per step', times),
    });
  figs.push({
    name: 'locoprop-memory',
    title: `Memory held during a training step per method, MiB (tfjs engine bytes: parameters and optimiser state between steps plus the peak a step allocates; Shampoo blocks ≤ ${config.shampooBlockSize}: statistics and inverse roots)`,
    spec: bars('Memory held during a step', 'MiB', memoryRows(results)),
  });
  return figs;
}
