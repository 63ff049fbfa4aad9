/**
 * Expert-choice figures: pure functions of (all seeds' results, config) -> Vega-Lite
 * specs. Curves are means over seeds.
 */
import type { RouterKind } from '../../nn/moe';
import { barChart, lineChart } from '../../figures/charts';
import type { FigureDef, VegaLiteSpec } from '../../figures/types';
import type { SeedResult } from '../../harness/contract';
import { spread } from '../../core/stats';
import type { ExpertChoiceConfig } from './config';
import type { ExpertChoiceResult, LoadCurve, RouterRun } from './experiment';
import { convergenceSpeedup, speedupCurve } from './claims';

export const ROUTER_LABEL: Record<RouterKind, string> = {
  'expert-choice': 'expert choice (EC, c=2)',
  top2: 'token choice top-2 (GShard)',
  top1: 'token choice top-1 (Switch)',
};
const THRESHOLD_LABEL = 'expert choice, prefix-safe threshold routing (validation)';
/** The uniform-routing null of a token-choice router, drawn as a constant: its per-step 95th percentile (the claims' bar). */
export const NULL_LABEL: Record<'top1' | 'top2', string> = {
  top1: 'uniform top-1 null (95th pct of steps)',
  top2: 'uniform top-2 null (95th pct of steps)',
};
const ORDER = [...Object.values(ROUTER_LABEL), THRESHOLD_LABEL, NULL_LABEL.top1, NULL_LABEL.top2];
export const BASELINES: ('top2' | 'top1')[] = ['top2', 'top1'];
const SPEEDUP_LABEL: Record<'top2' | 'top1', string> = { top2: 'EC over top-2', top1: 'EC over top-1' };

/**
 * Per seed, the speed-up of EC over `base` after each of the baseline's evaluations; where EC
 * never reached that loss the value is 1, an upper bound, as in the convergence claims
 * (`reached` says where).
 */
export function speedupBySteps(results: SeedResult<ExpertChoiceResult>[], base: 'top2' | 'top1'): { steps: number[]; perSeed: number[][]; reached: boolean[][] } | null {
  const curves = results.map((s) => {
    const ec = s.result.runs['expert-choice'];
    const b = s.result.runs[base];
    return ec && b ? speedupCurve(ec, b) : null;
  });
  if (curves.length === 0 || curves.some((c) => c === null)) return null;
  const ok = curves as { step: number; speedup: number | null }[][];
  return { steps: ok[0].map((p) => p.step), perSeed: ok.map((c) => c.map((p) => p.speedup ?? 1)), reached: ok.map((c) => c.map((p) => p.speedup !== null)) };
}

/** Per expert count (the sweep's and the main run's), the per-seed speed-up of EC over top-2 at the end of training. */
export function speedupByExperts(results: SeedResult<ExpertChoiceResult>[], config: ExpertChoiceConfig): { experts: number; perSeed: number[] }[] {
  const points = new Map<number, number[]>();
  const add = (experts: number, v: unknown) => {
    if (typeof v === 'number') points.set(experts, [...(points.get(experts) ?? []), v]);
  };
  for (const s of results) {
    add(config.experts, convergenceSpeedup(s.result, 'top2'));
    for (const p of s.result.sweep) add(p.experts, convergenceSpeedup({ ...s.result, runs: p.runs }, 'top2'));
  }
  return [...points.entries()].sort((a, b) => a[0] - b[0]).map(([experts, perSeed]) => ({ experts, perSeed }));
}

function runsOf(results: SeedResult<ExpertChoiceResult>[], router: RouterKind): RouterRun[] {
  return results.map((s) => s.result.runs[router]).filter((r): r is RouterRun => r !== undefined);
}

function meanAt(arrays: number[][], i: number): number {
  return arrays.reduce((a, v) => a + v[i], 0) / arrays.length;
}

function lineSpec(title: string, rows: object[], yField: string, yTitle: string, dash?: string): VegaLiteSpec {
  return lineChart({
    title,
    rows,
    x: { field: 'step', title: 'training step' },
    y: { field: yField, title: yTitle },
    color: { field: 'router', order: ORDER },
    dash: dash ? { field: dash } : undefined,
    points: rows.length < 80,
    width: 420,
    height: 240,
  });
}

export function figures(results: SeedResult<ExpertChoiceResult>[], config: ExpertChoiceConfig): FigureDef[] {
  if (results.length === 0) return [];
  const routers = (Object.keys(ROUTER_LABEL) as RouterKind[]).filter((r) => runsOf(results, r).length > 0);
  const loadRows: object[] = [];
  const dropRows: object[] = [];
  const lossRows: object[] = [];
  const histRows: object[] = [];
  const curve = (runs: RouterRun[], key: keyof Omit<LoadCurve, 'step'>) => runs.map((r) => r.load[key]);
  for (const router of routers) {
    const runs = runsOf(results, router);
    const label = ROUTER_LABEL[router];
    const steps = runs[0].load.step;
    const demand = curve(runs, 'demandMaxOverMean');
    const processed = curve(runs, 'processedMaxOverMean');
    const dropped = curve(runs, 'dropped');
    const noExpert = curve(runs, 'noExpert');
    steps.forEach((step, i) => {
      loadRows.push({ step, router: label, load: 'requested (before capacity)', value: meanAt(demand, i) });
      if (router !== 'expert-choice') loadRows.push({ step, router: label, load: 'processed (after capacity)', value: meanAt(processed, i) });
      dropRows.push({ step, router: label, what: 'assignments dropped', value: meanAt(dropped, i) });
      dropRows.push({ step, router: label, what: 'tokens with no expert', value: meanAt(noExpert, i) });
    });
    runs[0].valSteps.forEach((step, i) => lossRows.push({ step, router: label, valLoss: meanAt(runs.map((r) => r.valLoss), i) }));
    runs[0].expertsPerToken.forEach((_, k) => histRows.push({ experts: k, router: label, fraction: meanAt(runs.map((r) => r.expertsPerToken), k) }));
    const th = runs.map((r) => r.thresholdExpertsPerToken).filter((h): h is number[] => h !== null);
    if (th.length > 0) th[0].forEach((_, k) => histRows.push({ experts: k, router: THRESHOLD_LABEL, fraction: meanAt(th, k) }));
  }
  for (const router of ['top1', 'top2'] as const) {
    if (runsOf(results, router).length === 0) continue;
    const steps = runsOf(results, router)[0].load.step;
    const nulls = results.map((s) => s.result.uniformNull[router]);
    const demand = nulls.reduce((a, n) => a + n.demandMaxOverMean.p95, 0) / nulls.length;
    const dropped = nulls.reduce((a, n) => a + n.dropped.p95, 0) / nulls.length;
    for (const step of [steps[0], steps[steps.length - 1]]) {
      loadRows.push({ step, router: NULL_LABEL[router], load: 'requested (before capacity)', value: demand });
      dropRows.push({ step, router: NULL_LABEL[router], what: 'assignments dropped', value: dropped });
    }
  }
  const seeds = results.length;
  const ecRuns = runsOf(results, 'expert-choice');
  const thLoss = ecRuns.map((r) => r.thresholdValLoss).filter((v): v is number => v !== null);
  if (thLoss.length > 0) lossRows.push({ step: config.steps, router: THRESHOLD_LABEL, valLoss: thLoss.reduce((a, b) => a + b, 0) / thLoss.length });
  const setting = `${config.experts} experts, ${config.depth} layers (MoE in every other), width ${config.width}, ${config.batchSize * config.seqLen} tokens/step, groups of ${config.groupSize} tokens, capacity factor ${config.capacityFactor}, ${seeds} seed(s)`;
  const speedRows: object[] = [];
  for (const base of BASELINES) {
    const c = speedupBySteps(results, base);
    if (!c) continue;
    c.steps.forEach((step, i) => speedRows.push({ step, baseline: SPEEDUP_LABEL[base], ...spread(c.perSeed.map((p) => p[i])), notReached: c.reached.filter((r) => !r[i]).length }));
  }
  const expertRows = speedupByExperts(results, config).map((p) => ({ experts: p.experts, baseline: SPEEDUP_LABEL.top2, ...spread(p.perSeed) }));
  const trends = [
    {
      name: 'ec-speedup-vs-steps',
      title: `Convergence speed-up of expert choice vs training length: (baseline steps) / (steps EC needed to reach the baseline's validation loss at that point), after every evaluation; mean and min–max over seeds (where EC never reached the loss, 1, an upper bound, as in the claims: notReached counts those seeds); the claims judge the last point at >= 2 — ${setting}`,
      spec: lineChart({
        title: 'EC speed-up vs training length',
        rows: speedRows,
        x: { field: 'step', title: 'baseline training step' },
        y: { field: 'mean', title: 'speed-up (steps ratio)' },
        color: { field: 'baseline', order: BASELINES.map((b) => SPEEDUP_LABEL[b]) },
        band: { lo: 'lo', hi: 'hi' },
        tooltip: ['notReached'],
      }),
    },
  ];
  if (expertRows.length > 1)
    trends.push({
      name: 'ec-speedup-vs-experts',
      title: `Convergence speed-up of expert choice over top-2 at the end of training vs the number of experts (config.expertsSweep plus the main run; everything else equal); mean and min–max over seeds — ${setting}`,
      spec: lineChart({
        title: 'EC speed-up over top-2 vs number of experts',
        rows: expertRows,
        x: { field: 'experts', title: 'experts per MoE layer', scale: 'log2', ticks: expertRows.map((r) => r.experts) },
        y: { field: 'mean', title: 'speed-up (steps ratio)' },
        color: { field: 'baseline', order: [SPEEDUP_LABEL.top2] },
        band: { lo: 'lo', hi: 'hi' },
      }),
    });
  return [
    {
      name: 'ec-expert-load',
      title: `Expert load over training: max/mean over experts (1 = perfectly balanced), mean over MoE layers — ${setting}`,
      spec: lineSpec('Expert load over training (max / mean over experts)', loadRows, 'value', 'max load / mean load', 'load'),
    },
    {
      name: 'ec-dropped-tokens',
      title: `Fraction of assignments dropped for capacity and of tokens processed by no expert, per router — ${setting}`,
      spec: lineSpec('Dropped assignments and tokens with no expert', dropRows, 'value', 'fraction', 'what'),
    },
    {
      name: 'ec-experts-per-token',
      title: `Histogram of experts per token (MoE layers, last ${Math.round(config.tailFraction * 100)}% of training; threshold routing on validation) — ${setting}`,
      spec: barChart({
        title: 'Experts per token',
        rows: histRows,
        x: { field: 'experts', title: 'experts processing the token', ordinal: true },
        y: { field: 'fraction', title: 'fraction of tokens' },
        color: { field: 'router', order: ORDER },
        group: true,
        width: 420,
        height: 240,
      }),
    },
    {
      name: 'ec-validation-loss',
      title: `Validation loss (bytes, nats) vs training steps, routing over groups in training and evaluation; the lone point is EC with prefix-safe threshold routing — ${setting}`,
      spec: lineSpec('Validation loss vs steps', lossRows, 'valLoss', 'validation cross-entropy (nats/byte)'),
    },
    ...trends,
  ];
}
