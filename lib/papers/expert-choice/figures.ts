/**
 * Expert-choice figures: pure functions of (all seeds' results, config) -> Vega-Lite
 * specs. Curves are means over seeds.
 */
import type { RouterKind } from '../../nn/moe';
import { barChart, lineChart } from '../../figures/charts';
import type { FigureDef, VegaLiteSpec } from '../../figures/types';
import type { SeedResult } from '../../harness/contract';
import type { ExpertChoiceConfig } from './config';
import type { ExpertChoiceResult, LoadCurve, RouterRun } from './experiment';

export const ROUTER_LABEL: Record<RouterKind, string> = {
  'expert-choice': 'expert choice (EC, c=2)',
  top2: 'token choice top-2 (GShard)',
  top1: 'token choice top-1 (Switch)',
};
const THRESHOLD_LABEL = 'expert choice, prefix-safe threshold routing (validation)';
const ORDER = [...Object.values(ROUTER_LABEL), THRESHOLD_LABEL];

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
  const seeds = results.length;
  const ecRuns = runsOf(results, 'expert-choice');
  const thLoss = ecRuns.map((r) => r.thresholdValLoss).filter((v): v is number => v !== null);
  if (thLoss.length > 0) lossRows.push({ step: config.steps, router: THRESHOLD_LABEL, valLoss: thLoss.reduce((a, b) => a + b, 0) / thLoss.length });
  const setting = `${config.experts} experts, ${config.depth} layers (MoE in every other), width ${config.width}, ${config.batchSize * config.seqLen} tokens/step, groups of ${config.groupSize} tokens, capacity factor ${config.capacityFactor}, ${seeds} seed(s)`;
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
  ];
}
