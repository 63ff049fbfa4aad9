/**
 * CALM figures: pure functions of (all seeds' results, config) -> Vega-Lite specs.
 */
import { lineChart } from '../../figures/charts';
import { VEGA_LITE_SCHEMA, type FigureDef, type VegaLiteSpec } from '../../figures/types';
import type { SeedResult } from '../../harness/contract';
import { mean } from '../../core/stats';
import { oracleDepth, perRoundSpeedup } from './claims';
import type { CalmConfig } from './config';
import type { CalmResult } from './experiment';
import { oracleCumulative } from './tables';

const MEASURE_LABEL: Record<string, string> = {
  softmax: 'softmax response (top-1 − top-2)',
  state: 'hidden-state saturation (cosine)',
  classifier: 'early-exit classifier',
};
const ORACLE = 'oracle (shallowest layer equal to the full model)';
const FORCED = 'softmax response, teacher-forced (no cascade)';
const ORDER = [...Object.values(MEASURE_LABEL), FORCED, ORACLE];
const colour = { field: 'measure', type: 'nominal' as const, title: null, sort: ORDER, legend: { orient: 'bottom' as const, columns: 1, labelLimit: 480 } };

export function figures(results: SeedResult<CalmResult>[], config: CalmConfig): FigureDef[] {
  if (results.length === 0) return [];
  const depth = results[0].result.depth;
  // Calibrated points: layer-count speed-up vs consistency on the test prompts, one per (seed, measure, δ).
  const points = results.flatMap((s) =>
    s.result.measures.flatMap((m) =>
      m.calibration.map((p) => ({
        seed: s.seed,
        measure: MEASURE_LABEL[m.measure],
        delta: p.delta,
        consistency: 1 - p.testRisk,
        speedup: depth / p.testLayers,
        layers: p.testLayers,
        label: `δ=${p.delta}`,
      })),
    ),
  );
  // Timed decoders: wall-clock speed-up (mean of the rounds) at their test consistency.
  const wall = results.flatMap((s) =>
    s.result.timing.decoders.map((d) => {
      const p = s.result.measures.find((m) => m.measure === d.measure)?.calibration.find((x) => x.delta === d.delta);
      return { seed: s.seed, measure: MEASURE_LABEL[d.measure], delta: d.delta, consistency: p ? 1 - p.testRisk : 1, wallSpeedup: mean(perRoundSpeedup(s.result, d)), label: `δ=${d.delta}` };
    }),
  );
  // The whole threshold grid (first seed): compute-only speed-up depth / mean layers; and the oracle.
  const curve = results[0].result.measures.flatMap((m) =>
    m.grid.map((lambda, i) => ({ measure: MEASURE_LABEL[m.measure], lambda, consistency: 1 - m.testRiskByLambda[i], layerSpeedup: depth / m.testLayersByLambda[i] })),
  );
  // Softmax on the full model's continuations, teacher-forced (first seed): the measure between the oracle and free-running decoding.
  const forced = results[0].result.measures.find((m) => m.measure === 'softmax')?.teacherForced;
  const forcedCurve = forced ? forced.consistency.map((c, i) => ({ measure: FORCED, consistency: c, layerSpeedup: depth / forced.layers[i] })) : [];
  const oracle = Array.from({ length: 21 }, (_, i) => 1 - i * 0.025).map((c) => ({
    measure: ORACLE,
    consistency: c,
    layerSpeedup: mean(results.map((s) => depth / oracleDepth(s.result.oracle.decoding, c))),
  }));
  const x = { field: 'consistency', type: 'quantitative' as const, title: 'consistency with the full model on test prompts (1 − risk)', scale: { zero: false } };
  const speedSpec: VegaLiteSpec = {
    $schema: VEGA_LITE_SCHEMA,
    title: 'Speed-up vs consistency per confidence measure, with the oracle',
    width: 460,
    height: 300,
    layer: [
      {
        data: { values: [...curve, ...forcedCurve, ...oracle] },
        mark: { type: 'line', strokeDash: [4, 3], opacity: 0.6, point: { size: 12 } },
        encoding: { x, y: { field: 'layerSpeedup', type: 'quantitative', title: 'speed-up vs the full model' }, color: colour },
      },
      {
        data: { values: points },
        mark: { type: 'point', filled: false, size: 70 },
        encoding: {
          x,
          y: { field: 'speedup', type: 'quantitative' },
          color: colour,
          shape: { field: 'measure', type: 'nominal', sort: ORDER, legend: null },
          tooltip: [{ field: 'measure' }, { field: 'seed' }, { field: 'label', title: 'δ' }, { field: 'speedup', title: 'layer speed-up', format: '.3~g' }, { field: 'layers', title: 'mean layers', format: '.3~g' }, { field: 'consistency', format: '.4~g' }],
        },
      },
      {
        data: { values: wall },
        mark: { type: 'point', filled: true, size: 110, shape: 'diamond' },
        encoding: {
          x,
          y: { field: 'wallSpeedup', type: 'quantitative' },
          color: colour,
          tooltip: [{ field: 'measure' }, { field: 'seed' }, { field: 'label', title: 'δ' }, { field: 'wallSpeedup', title: 'wall-clock speed-up (mean of rounds)', format: '.3~g' }, { field: 'consistency', format: '.4~g' }],
        },
      },
      {
        data: { values: points.filter((p) => p.seed === results[0].seed) },
        mark: { type: 'text', dx: 8, dy: -6, fontSize: 9, align: 'left' },
        encoding: { x, y: { field: 'speedup', type: 'quantitative' }, text: { field: 'label' }, color: colour },
      },
    ],
  };

  const hist = results.flatMap((s) => [
    ...s.result.measures.map((m) => ({ measure: MEASURE_LABEL[m.measure], counts: m.exitHistogram })),
    { measure: ORACLE, counts: s.result.oracle.decoding.counts },
  ].flatMap(({ measure, counts }) => {
    const total = counts.reduce((a, b) => a + b, 0);
    return counts.map((n, i) => ({ seed: s.seed, measure, layer: i + 1, share: total > 0 ? n / total / results.length : 0 }));
  }));
  const histSpec: VegaLiteSpec = {
    $schema: VEGA_LITE_SCHEMA,
    title: `Exit layers at δ = ${config.referenceDelta} (test prompts), and the oracle's at consistency 1`,
    data: { values: hist },
    mark: 'bar',
    width: 120,
    height: 200,
    encoding: {
      column: { field: 'measure', type: 'nominal', title: null, sort: ORDER, header: { labelLimit: 200 } },
      x: { field: 'layer', type: 'ordinal', title: 'exit layer' },
      y: { aggregate: 'sum', field: 'share', type: 'quantitative', title: 'share of generated tokens' },
      color: { field: 'measure', type: 'nominal', sort: ORDER, legend: null },
      tooltip: [{ field: 'measure' }, { field: 'layer' }, { aggregate: 'sum', field: 'share', title: 'share of tokens', format: '.3~g' }],
    },
  };

  const risk = results.flatMap((s) =>
    s.result.measures.flatMap((m) =>
      m.calibration.map((p) => ({ seed: s.seed, measure: MEASURE_LABEL[m.measure], delta: p.delta, testRisk: p.testRisk, certified: p.certified / p.resplits, guarantee: p.certified > 0 ? p.held / p.certified : null })),
    ),
  );
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
          tooltip: [
            { field: 'measure' },
            { field: 'seed' },
            { field: 'delta', title: 'δ' },
            { field: 'testRisk', title: 'test risk', format: '.4~g' },
            { field: 'certified', title: 'share of re-splits that certified a threshold', format: '.3~g' },
            { field: 'guarantee', title: 'of those, share with risk ≤ δ', format: '.3~g' },
          ],
        },
      },
    ],
  };

  const quality = results.flatMap((s) => {
    const q = s.result.layerQuality;
    const cum = oracleCumulative(s.result.oracle.validation);
    return q.accuracy.flatMap((acc, i) => [
      { seed: s.seed, what: 'next-byte accuracy', layer: i + 1, value: acc },
      { seed: s.seed, what: 'agrees with the last layer', layer: i + 1, value: q.agreeWithLast[i] },
      { seed: s.seed, what: 'oracle: decided by this layer or earlier', layer: i + 1, value: cum[i] },
    ]);
  });
  const qualitySpec = lineChart({
    title: 'The model per layer (validation text, teacher-forced)',
    rows: quality,
    x: { field: 'layer', title: 'layer', ticks: Array.from({ length: depth }, (_, i) => i + 1) },
    y: { field: 'value', title: 'share of bytes', zero: true },
    color: { field: 'what', order: ['next-byte accuracy', 'agrees with the last layer', 'oracle: decided by this layer or earlier'] },
    detail: 'seed',
  });

  // Training curves: the batch loss is noisy, the validation loss (fixed windows) is what the convergence check reads.
  const training = results.flatMap((s) =>
    s.result.trainLoss.flatMap((p) => [
      { seed: s.seed, what: 'validation loss (last layer)', step: p.step, value: p.valLoss },
      { seed: s.seed, what: 'training batch loss', step: p.step, value: p.loss },
    ]),
  );
  const trainingSpec = lineChart({
    title: 'Training: loss (nats/byte) per step',
    rows: training,
    x: { field: 'step', title: 'training step' },
    y: { field: 'value', title: 'loss (nats/byte)' },
    color: { field: 'what', order: ['validation loss (last layer)', 'training batch loss'] },
    detail: 'seed',
  });

  return [
    { name: 'calm-training', title: "Training curves per seed: the last layer's validation loss on fixed windows, and the batch loss", spec: trainingSpec },
    {
      name: 'calm-speedup-vs-consistency',
      title: `Layer-count speed-up over the threshold grid (dashed) and at the calibrated λ per δ (hollow), the oracle's (the best any measure could reach), and the measured wall-clock speed-up of the timed decoders (diamonds) vs consistency with the full model, ${depth}-layer decoder`,
      spec: speedSpec,
    },
    { name: 'calm-exit-layers', title: `Distribution of exit layers on test prompts at δ = ${config.referenceDelta}, per confidence measure, beside the oracle's`, spec: histSpec },
    { name: 'calm-calibration', title: 'Learn-then-Test calibration: test risk at the calibrated threshold vs the tolerance δ', spec: riskSpec },
    { name: 'calm-layer-quality', title: 'Per layer: next-byte accuracy, agreement with the last layer, and the share of bytes the oracle has decided by that layer (validation text)', spec: qualitySpec },
  ];
}
