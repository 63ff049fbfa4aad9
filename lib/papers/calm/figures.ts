/**
 * CALM figures: pure functions of (all seeds' results, config) -> Vega-Lite specs.
 */
import { VEGA_LITE_SCHEMA, type FigureDef, type VegaLiteSpec } from '../../figures/types';
import type { SeedResult } from '../../harness/contract';
import type { CalmConfig } from './config';
import type { CalmResult } from './experiment';

const MEASURE_LABEL: Record<string, string> = {
  softmax: 'softmax response (top-1 − top-2)',
  state: 'hidden-state saturation (cosine)',
  classifier: 'early-exit classifier',
};
const ORDER = Object.values(MEASURE_LABEL);
const colour = { field: 'measure', type: 'nominal' as const, title: null, sort: ORDER, legend: { orient: 'bottom' as const, columns: 1, labelLimit: 320 } };

export function figures(results: SeedResult<CalmResult>[], config: CalmConfig): FigureDef[] {
  if (results.length === 0) return [];
  const depth = results[0].result.depth;
  // Calibrated points: wall-clock speed-up vs consistency on the test prompts, one per (seed, measure, δ).
  const points = results.flatMap((s) =>
    s.result.measures.flatMap((m) =>
      m.calibration.map((p) => ({
        seed: s.seed,
        measure: MEASURE_LABEL[m.measure],
        delta: p.delta,
        consistency: 1 - p.testRisk,
        speedup: p.speedup,
        layers: p.testLayers,
        label: `δ=${p.delta}`,
      })),
    ),
  );
  // The whole threshold grid (first seed): compute-only speed-up depth / mean layers.
  const curve = results[0].result.measures.flatMap((m) =>
    m.grid.map((lambda, i) => ({ measure: MEASURE_LABEL[m.measure], lambda, consistency: 1 - m.testRiskByLambda[i], layerSpeedup: depth / m.testLayersByLambda[i] })),
  );
  const x = { field: 'consistency', type: 'quantitative' as const, title: 'consistency with the full model on test prompts (1 − risk)', scale: { zero: false } };
  const speedSpec: VegaLiteSpec = {
    $schema: VEGA_LITE_SCHEMA,
    title: 'Speed-up vs consistency per confidence measure',
    width: 460,
    height: 300,
    layer: [
      {
        data: { values: curve },
        mark: { type: 'line', strokeDash: [4, 3], opacity: 0.6, point: { size: 12 } },
        encoding: { x, y: { field: 'layerSpeedup', type: 'quantitative', title: 'speed-up vs the full model' }, color: colour },
      },
      {
        data: { values: points },
        mark: { type: 'point', filled: true, size: 80 },
        encoding: {
          x,
          y: { field: 'speedup', type: 'quantitative' },
          color: colour,
          shape: { field: 'measure', type: 'nominal', sort: ORDER, legend: null },
          tooltip: [{ field: 'measure' }, { field: 'seed' }, { field: 'label', title: 'δ' }, { field: 'speedup', title: 'wall-clock speed-up', format: '.3~g' }, { field: 'layers', title: 'mean layers', format: '.3~g' }, { field: 'consistency', format: '.4~g' }],
        },
      },
      {
        data: { values: points.filter((p) => p.seed === results[0].seed) },
        mark: { type: 'text', dx: 8, dy: -6, fontSize: 9, align: 'left' },
        encoding: { x, y: { field: 'speedup', type: 'quantitative' }, text: { field: 'label' }, color: colour },
      },
    ],
  };

  const hist = results.flatMap((s) =>
    s.result.measures.flatMap((m) => {
      const total = m.exitHistogram.reduce((a, b) => a + b, 0);
      return m.exitHistogram.map((n, i) => ({ seed: s.seed, measure: MEASURE_LABEL[m.measure], layer: i + 1, share: total > 0 ? n / total / results.length : 0 }));
    }),
  );
  const histSpec: VegaLiteSpec = {
    $schema: VEGA_LITE_SCHEMA,
    title: `Exit layers at δ = ${config.referenceDelta} (test prompts)`,
    data: { values: hist },
    mark: 'bar',
    width: 140,
    height: 200,
    encoding: {
      column: { field: 'measure', type: 'nominal', title: null, sort: ORDER, header: { labelLimit: 200 } },
      x: { field: 'layer', type: 'ordinal', title: 'exit layer' },
      y: { aggregate: 'sum', field: 'share', type: 'quantitative', title: 'share of generated tokens' },
      color: { field: 'measure', type: 'nominal', sort: ORDER, legend: null },
      tooltip: [{ field: 'measure' }, { field: 'layer' }, { aggregate: 'sum', field: 'share', title: 'share of tokens', format: '.3~g' }],
    },
  };

  const risk = results.flatMap((s) => s.result.measures.flatMap((m) => m.calibration.map((p) => ({ seed: s.seed, measure: MEASURE_LABEL[m.measure], delta: p.delta, testRisk: p.testRisk, guarantee: p.guaranteeRate }))));
  const deltas = [...new Set(risk.map((r) => r.delta))];
  const riskSpec: VegaLiteSpec = {
    $schema: VEGA_LITE_SCHEMA,
    title: `Calibration: test risk vs tolerance δ (ε = ${config.epsilon}); on or below the diagonal = guarantee kept`,
    width: 360,
    height: 260,
    layer: [
      {
        data: { values: deltas.map((d) => ({ delta: d, testRisk: d })) },
        mark: { type: 'line', color: '#888', strokeDash: [2, 2] },
        encoding: { x: { field: 'delta', type: 'quantitative', title: 'tolerance δ' }, y: { field: 'testRisk', type: 'quantitative' } },
      },
      {
        data: { values: risk },
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'delta', type: 'quantitative' },
          y: { field: 'testRisk', type: 'quantitative', title: 'test risk (1 − token agreement)' },
          color: colour,
          detail: { field: 'seed', type: 'nominal' },
          tooltip: [{ field: 'measure' }, { field: 'seed' }, { field: 'delta', title: 'δ' }, { field: 'testRisk', title: 'test risk', format: '.4~g' }, { field: 'guarantee', title: 'share of re-splits with risk ≤ δ', format: '.3~g' }],
        },
      },
    ],
  };

  return [
    { name: 'calm-speedup-vs-consistency', title: `Wall-clock speed-up (points: calibrated λ per δ) and layer-count speed-up over the threshold grid (dashed) vs consistency with the full model, ${depth}-layer decoder`, spec: speedSpec },
    { name: 'calm-exit-layers', title: `Distribution of exit layers on test prompts at δ = ${config.referenceDelta}, per confidence measure`, spec: histSpec },
    { name: 'calm-calibration', title: 'Learn-then-Test calibration: test risk at the calibrated threshold vs the tolerance δ', spec: riskSpec },
  ];
}
