/**
 * Distillation figures: pure functions of (all seeds' results, config) -> Vega-Lite specs.
 * Bars/lines show the mean over seeds; ticks/points show each seed.
 */
import { mean, spread } from '../../core/stats';
import { lineChart } from '../../figures/charts';
import { VEGA_LITE_SCHEMA, type FigureDef, type VegaLiteSpec } from '../../figures/types';
import type { SeedResult } from '../../harness/contract';
import { STUDENT_RECIPES } from './capacity';
import type { DistillationConfig } from './config';
import type { DistillationResult } from './experiment';
import { RANKING_MODELS, type RankingModel } from './ranking';

const MODEL_LABEL: Record<RankingModel, string> = {
  cross: 'cross-encoder (teacher)',
  dual: 'dual encoder, labels',
  'dual-score': 'DE + score distillation',
  'dual-embed': 'DE + score + embedding matching',
  'dual-small': 'small query tower, inherited docs',
};

const RECIPE_LABEL: Record<string, string> = {
  teacher: 'teacher',
  labels: 'student: labels',
  offline: 'student: offline KD (final teacher)',
  online: 'student: online KD (teacher checkpoints)',
};

function rankingFigure(results: SeedResult<DistillationResult>[], config: DistillationConfig): FigureDef {
  const rows: { model: string; metric: string; value: number; seed: number }[] = [];
  const order: string[] = [];
  for (const m of RANKING_MODELS) {
    const gaps = results.map((s) => (m === 'cross' || m === 'dual' ? null : s.result.ranking.gapClosedMrr[m])).filter((g): g is number => g !== null);
    const label = gaps.length > 0 ? `${MODEL_LABEL[m]} (gap closed ${(mean(gaps) * 100).toFixed(0)}%)` : MODEL_LABEL[m];
    order.push(label);
    for (const s of results) {
      const q = s.result.ranking.models[m];
      rows.push({ model: label, metric: 'MRR', value: q.mrr, seed: s.seed }, { model: label, metric: 'recall@1', value: q.recallAt1, seed: s.seed }, { model: label, metric: 'recall@5', value: q.recallAt5, seed: s.seed });
    }
  }
  const r0 = results[0].result.ranking;
  const x = { field: 'model', type: 'nominal' as const, sort: order, title: null, axis: { labelAngle: -35, labelLimit: 480 } };
  const spec: VegaLiteSpec = {
    $schema: VEGA_LITE_SCHEMA,
    title: `Ranking (${config.ranking.query === 'keywords' ? 'keyword query -> sentence' : 'sentence -> next sentence'}), ${r0.testQueries} held-out queries x ${r0.evalCandidates} candidates (mean over ${results.length} seed(s))`,
    data: { values: rows },
    facet: { column: { field: 'metric', type: 'nominal', title: null } },
    spec: {
      width: 170,
      height: 220,
      layer: [
        { mark: { type: 'bar', opacity: 0.8 }, encoding: { x, y: { aggregate: 'mean', field: 'value', type: 'quantitative', title: 'quality (higher is better)' }, color: { field: 'model', type: 'nominal', sort: order, legend: null }, tooltip: [{ field: 'model' }, { field: 'metric' }, { aggregate: 'mean', field: 'value', title: 'mean over seeds', format: '.3~g' }] } },
        { mark: { type: 'tick', color: 'black' }, encoding: { x, y: { field: 'value', type: 'quantitative' }, tooltip: [{ field: 'model' }, { field: 'seed' }, { field: 'metric' }, { field: 'value', format: '.3~g' }] } },
      ],
    },
  };
  return { name: 'ranking-gap', title: 'Ranking quality of each model, with the share of the cross/dual gap each distilled student closes', spec };
}

function capacityFigure(results: SeedResult<DistillationResult>[], config: DistillationConfig): FigureDef {
  const rows: { params: number; width: number; recipe: string; measure: string; value: number; seed: number }[] = [];
  for (const s of results)
    for (const t of s.result.capacity.teachers) {
      rows.push({ params: t.params, width: t.width, recipe: RECIPE_LABEL.teacher, measure: 'test accuracy', value: t.accuracy, seed: s.seed });
      for (const r of STUDENT_RECIPES) {
        rows.push({ params: t.params, width: t.width, recipe: RECIPE_LABEL[r], measure: 'test accuracy', value: t.students[r].accuracy, seed: s.seed });
        rows.push({ params: t.params, width: t.width, recipe: RECIPE_LABEL[r], measure: 'fidelity (top-1 agreement with teacher)', value: t.students[r].fidelity, seed: s.seed });
      }
    }
  const c0 = results[0].result.capacity;
  const order = ['teacher', ...STUDENT_RECIPES].map((r) => RECIPE_LABEL[r]);
  const x = { field: 'params', type: 'quantitative' as const, scale: { type: 'log' as const }, title: 'teacher parameters' };
  const color = { field: 'recipe', type: 'nominal' as const, sort: order, title: null, legend: { orient: 'bottom' as const, columns: 2, labelLimit: 320 } };
  const spec: VegaLiteSpec = {
    $schema: VEGA_LITE_SCHEMA,
    title: `Capacity gap on ${c0.dataset}: student of ${c0.studentParams} params (width ${config.capacity.studentWidth}), ${c0.trainExamples} training images`,
    data: { values: rows },
    facet: { column: { field: 'measure', type: 'nominal', title: null } },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 260,
      height: 220,
      layer: [
        { mark: { type: 'line', point: true }, encoding: { x, y: { aggregate: 'mean', field: 'value', type: 'quantitative', scale: { zero: false }, title: null }, color } },
        { mark: { type: 'point', opacity: 0.35, size: 20 }, encoding: { x, y: { field: 'value', type: 'quantitative' }, color, tooltip: [{ field: 'recipe' }, { field: 'seed' }, { field: 'width', title: 'teacher width' }, { field: 'params', title: 'teacher params' }, { field: 'value', format: '.4~g' }] } },
      ],
    },
  };
  return { name: 'capacity-gap', title: 'Accuracy and fidelity vs teacher size for the three student recipes', spec };
}

/** Validation MRR per epoch and model: mean and min..max over the seeds that trained the epoch. */
function validationFigure(results: SeedResult<DistillationResult>[]): FigureDef {
  const rows: { epoch: number; model: string; mean: number; lo: number; hi: number }[] = [];
  for (const m of RANKING_MODELS) {
    const per = results.map((s) => s.result.ranking.models[m].validationMrr);
    const epochs = Math.max(...per.map((v) => v.length));
    for (let e = 0; e < epochs; e++) {
      const vals = per.filter((v) => v.length > e).map((v) => v[e]);
      rows.push({ epoch: e + 1, model: MODEL_LABEL[m], ...spread(vals) });
    }
  }
  const r0 = results[0].result.ranking;
  const epochs = [...new Set(rows.map((r) => r.epoch))];
  return {
    name: 'ranking-validation-curve',
    title: `Validation MRR after each epoch (${r0.validationQueries} queries from the validation addresses x ${r0.evalCandidates} candidates; mean, band min–max over ${results.length} seed(s)): is each model still improving?`,
    spec: lineChart({
      title: 'Ranking models: validation MRR per epoch',
      rows,
      x: { field: 'epoch', title: 'epoch', ticks: epochs },
      y: { field: 'mean', title: 'validation MRR', zero: false },
      color: { field: 'model', order: RANKING_MODELS.map((m) => MODEL_LABEL[m]), columns: 2 },
      band: { lo: 'lo', hi: 'hi' },
    }),
  };
}

export function figures(results: SeedResult<DistillationResult>[], config: DistillationConfig): FigureDef[] {
  if (results.length === 0) return [];
  return [rankingFigure(results, config), validationFigure(results), capacityFigure(results, config)];
}
