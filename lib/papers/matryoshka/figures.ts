/**
 * MRL figures: pure functions of (all seeds' results, config) -> Vega-Lite specs.
 * Lines are means over seeds; bands span min..max over seeds.
 */
import { spread } from '../../core/stats';
import { barChart, lineChart } from '../../figures/charts';
import { VEGA_LITE_SCHEMA, type FigureDef, type VegaLiteSpec } from '../../figures/types';
import type { SeedResult } from '../../harness/contract';
import type { MatryoshkaConfig } from './config';
import type { AccuracyTable, MatryoshkaResult, RetrievalFamily } from './experiment';
import { oneNnTop1, SMALL_SIZE_MAX } from './claims';

/** The paper's adaptive-classification anchor: up to 14x smaller at the same accuracy (abstract). */
const PAPER_REDUCTION = 14;
/** The claim's tolerance (claims.ts, matryoshka-adaptive-classification-size). */
const CLAIM_REDUCTION = 7;
const REDUCTION_SERIES = ['MRL adaptive, threshold sweep', 'threshold chosen on the holdout', `paper: up to ${PAPER_REDUCTION}x`, `our tolerance: ${CLAIM_REDUCTION}x`] as const;


const METHOD_LABEL: Record<keyof AccuracyTable, string> = {
  mrl: 'MRL',
  mrlE: 'MRL-E (shared classifier)',
  ff: 'FF (trained at each size)',
  slicing: 'slicing of FF-D (first m dims) + probe',
  svd: 'SVD/PCA of FF-D (top m) + probe',
};

const FAMILY_LABEL: Record<RetrievalFamily, string> = {
  mrl: 'MRL exhaustive at size m',
  ff: 'FF-m exhaustive',
  slicing: 'FF-D sliced to m, exhaustive',
  svd: 'PCA of FF-D to m, exhaustive (+ query projection)',
  adaptive: 'MRL adaptive: k=200 at m, re-rank at D',
  funnel: 'MRL funnel from m (halving shortlists)',
  'paper-funnel': "MRL, the paper's funnel",
};

interface Band {
  x: number;
  series: string;
  mean: number;
  lo: number;
  hi: number;
}

function accuracyRows(results: SeedResult<MatryoshkaResult>[]): Band[] {
  const r0 = results[0].result;
  const rows: Band[] = [];
  for (const key of Object.keys(METHOD_LABEL) as (keyof AccuracyTable)[]) {
    if (results.some((s) => !s.result.accuracy[key])) continue;
    r0.sizes.forEach((m, i) => rows.push({ x: m, series: METHOD_LABEL[key], ...spread(results.map((s) => 100 * (s.result.accuracy[key] as number[])[i])) }));
  }
  return rows;
}

function bandLines(title: string, rows: Band[], order: string[], xTitle: string, yTitle: string, xLog2: boolean): VegaLiteSpec {
  return lineChart({
    title,
    rows,
    x: xLog2 ? { field: 'x', title: xTitle, scale: 'log2', ticks: [...new Set(rows.map((r) => r.x))] } : { field: 'x', title: xTitle, scale: 'log' },
    y: { field: 'mean', title: yTitle },
    color: { field: 'series', order, columns: 2 },
    band: { lo: 'lo', hi: 'hi' },
    width: 520,
    height: 320,
  });
}

function retrievalRows(results: SeedResult<MatryoshkaResult>[]) {
  // Plans are identical across seeds (same names); average their top-1.
  const byKey = new Map<string, { family: RetrievalFamily; name: string; flops: number; top1: number[] }>();
  for (const s of results)
    for (const p of s.result.retrieval.points) {
      const key = `${p.family}|${p.name}`;
      const e = byKey.get(key) ?? { family: p.family, name: p.name, flops: p.flopsPerQuery, top1: [] };
      e.top1.push(100 * p.top1);
      byKey.set(key, e);
    }
  return [...byKey.values()].map((e) => ({ series: FAMILY_LABEL[e.family], family: e.family, plan: e.name, mflops: e.flops / 1e6, ...spread(e.top1) }));
}

export function figures(results: SeedResult<MatryoshkaResult>[], config: MatryoshkaConfig): FigureDef[] {
  if (results.length === 0) return [];
  const r0 = results[0].result;
  const D = r0.embeddingDim;
  const n = results.length;
  const accRows = accuracyRows(results);

  const rRows = retrievalRows(results);
  const lineFamilies: RetrievalFamily[] = ['mrl', 'ff', 'slicing', 'svd'];
  const pointFamilies: RetrievalFamily[] = ['adaptive', 'funnel', 'paper-funnel'];
  const allOrder = [...lineFamilies, ...pointFamilies].map((f) => FAMILY_LABEL[f]);
  const exhaustiveTop1 = spread(results.map((s) => 100 * s.result.retrieval.exhaustiveFullTop1)).mean;
  const color = { field: 'series', type: 'nominal' as const, title: null, sort: allOrder, legend: { orient: 'bottom' as const, columns: 2, labelLimit: 360 } };
  const x = { field: 'mflops', type: 'quantitative' as const, title: 'MFLOPs per query (exact count)', scale: { type: 'log' as const } };
  const y = { field: 'mean', type: 'quantitative' as const, title: 'top-1 accuracy of the nearest neighbour (%)', scale: { zero: false } };
  const tooltip = [{ field: 'series' }, { field: 'plan' }, { field: 'mean', title: 'top-1 (%)', format: '.3~g' }, { field: 'mflops', title: 'MFLOPs', format: '.3~g' }];
  const retrievalSpec: VegaLiteSpec = {
    $schema: VEGA_LITE_SCHEMA,
    title: 'Retrieval: top-1 vs FLOPs per query',
    width: 520,
    height: 340,
    layer: [
      {
        data: { values: rRows.filter((r) => lineFamilies.includes(r.family)) },
        params: [{ name: 'pick', select: { type: 'point', fields: ['series'] }, bind: 'legend' }],
        mark: { type: 'line', point: true },
        encoding: { x, y, color, opacity: { condition: { param: 'pick', value: 1 }, value: 0.12 }, tooltip },
      },
      {
        data: { values: rRows.filter((r) => pointFamilies.includes(r.family)) },
        mark: { type: 'point', filled: true, size: 70 },
        encoding: { x, y, color, shape: { field: 'series', type: 'nominal', legend: null }, tooltip },
      },
      { data: { values: [{ y: exhaustiveTop1 - 0.5 }] }, mark: { type: 'rule', strokeDash: [4, 4], color: 'grey' }, encoding: { y: { field: 'y', type: 'quantitative' } } },
    ],
  };

  // Adaptive classification: where test images stop (chosen threshold), mean over seeds.
  const stopRows = r0.sizes.map((m, i) => {
    const fr = results.map((s) => (100 * s.result.adaptive.chosen.stops[i]) / s.result.testExamples);
    return { size: String(m), order: i, ...spread(fr) };
  });
  const thresholds = results.map((s) => s.result.adaptive.chosenThreshold);
  const meanSize = spread(results.map((s) => s.result.adaptive.chosen.meanSize)).mean;
  const sizeSpec = barChart({
    title: `Adaptive classification: size each test image stops at (mean size ${meanSize.toFixed(1)} of D = ${D})`,
    rows: stopRows,
    x: { field: 'size', title: 'representation size used', order: r0.sizes.map(String), ordinal: true },
    y: { field: 'mean', title: '% of test images' },
    errorBar: { lo: 'lo', hi: 'hi' },
    width: 520,
    height: 280,
  });

  // Adaptive trade-off: accuracy vs mean size over the threshold sweep, with the fixed sizes.
  const sweepRows: Band[] = [];
  config.adaptiveThresholds.forEach((_, i) => {
    const sizes = results.map((s) => s.result.adaptive.testSweep[i].meanSize);
    sweepRows.push({ x: spread(sizes).mean, series: 'MRL adaptive (threshold sweep)', ...spread(results.map((s) => 100 * s.result.adaptive.testSweep[i].accuracy)) });
  });
  const tradeRows = [...sweepRows, ...accRows.filter((r) => r.series === METHOD_LABEL.mrl || r.series === METHOD_LABEL.ff)];

  // Size reduction across thresholds, against the accuracy given up: the curve behind the adaptive claim.
  const reductionRows: Band[] = [];
  config.adaptiveThresholds.forEach((_, i) => {
    const drop = spread(results.map((s) => 100 * (s.result.adaptive.testSweep[i].accuracy - s.result.adaptive.testFullAccuracy)));
    reductionRows.push({ x: drop.mean, series: REDUCTION_SERIES[0], ...spread(results.map((s) => D / s.result.adaptive.testSweep[i].meanSize)) });
  });
  const xs = reductionRows.map((r) => r.x);
  const [x0, x1] = [Math.min(...xs, 0), Math.max(...xs, 0)];
  for (const [series, y] of [
    [REDUCTION_SERIES[2], PAPER_REDUCTION],
    [REDUCTION_SERIES[3], CLAIM_REDUCTION],
  ] as const)
    for (const x of [x0, x1]) reductionRows.push({ x, series, mean: y, lo: y, hi: y });
  const chosen = spread(results.map((s) => D / s.result.adaptive.chosen.meanSize));
  const chosenDrop = spread(results.map((s) => 100 * (s.result.adaptive.chosen.accuracy - s.result.adaptive.testFullAccuracy)));
  reductionRows.push({ x: chosenDrop.mean, series: REDUCTION_SERIES[1], ...chosen });

  // Learning curve on held-out images: MRL and FF at the small sizes and at D.
  const lc = r0.learningCurve;
  const curveSizes = r0.sizes.map((m, i) => ({ m, i })).filter(({ m }) => m <= SMALL_SIZE_MAX || m === D);
  const curveRows: (Band & { model: string; size: string })[] = [];
  for (const { m, i } of curveSizes)
    for (const [model, key] of [
      ['MRL', 'mrl'],
      ['FF', 'ff'],
    ] as const)
      lc.steps.forEach((step, k) => curveRows.push({ x: step, series: `${model} at ${m}`, model, size: String(m), ...spread(results.map((s) => 100 * s.result.learningCurve[key][k][i])) }));

  // 1-NN accuracy per size: MRL against FF, slicing and PCA of FF-D.
  const nnRows: Band[] = [];
  for (const family of ['mrl', 'ff', 'slicing', 'svd'] as const) r0.sizes.forEach((m, i) => nnRows.push({ x: m, series: FAMILY_LABEL[family], ...spread(results.map((s) => 100 * oneNnTop1(s.result, family)[i])) }));

  return [
    {
      name: 'matryoshka-accuracy-vs-size',
      title: `${r0.dataset} test accuracy vs representation size (D = ${D}; ${n} seed(s), band min–max): MRL vs FF, MRL-E, slicing and SVD of FF-D`,
      spec: bandLines('Classification accuracy vs representation size', accRows, Object.values(METHOD_LABEL), 'representation size m (log2)', 'top-1 accuracy (%)', true),
    },
    {
      name: 'matryoshka-retrieval-flops',
      title: `${r0.dataset} retrieval (${r0.retrieval.databaseSize} training images, ${r0.retrieval.queries} test queries): top-1 vs exact MFLOPs per query; dashed: exhaustive MRL at D − 0.5 pp`,
      spec: retrievalSpec,
    },
    {
      name: 'matryoshka-adaptive-sizes',
      title: `Adaptive classification with MRL: share of test images per stopping size (threshold picked on the holdout: ${thresholds.map((t) => (t === null ? 'none' : String(t))).join(', ')})`,
      spec: sizeSpec,
    },
    {
      name: 'matryoshka-adaptive-tradeoff',
      title: 'Adaptive classification: test accuracy vs mean representation size over the threshold sweep, next to MRL and FF at fixed sizes',
      spec: bandLines('Adaptive classification trade-off', tradeRows, ['MRL adaptive (threshold sweep)', METHOD_LABEL.mrl, METHOD_LABEL.ff], 'mean representation size (log)', 'top-1 accuracy (%)', false),
    },
    {
      name: 'matryoshka-adaptive-reduction',
      title: `Adaptive classification: size reduction D / mean size (D = ${D}) against the test accuracy given up relative to size D, over the threshold sweep (mean, band min–max over ${n} seed(s)); the paper's 14x as the anchor`,
      spec: lineChart({
        title: 'Size reduction at (nearly) matched accuracy',
        rows: reductionRows,
        x: { field: 'x', title: 'test accuracy − accuracy at D (pp)' },
        y: { field: 'mean', title: 'D / mean representation size', scale: 'log' },
        color: { field: 'series', order: [...REDUCTION_SERIES], columns: 2 },
        band: { lo: 'lo', hi: 'hi' },
        width: 520,
        height: 320,
      }),
    },
    {
      name: 'matryoshka-learning-curve',
      title: `Held-out accuracy during training (${lc.examples} held-out images; mean, band min–max over ${n} seed(s)): MRL through its size-m head and FF-m, at sizes <= ${SMALL_SIZE_MAX} and D`,
      spec: lineChart({
        title: 'Learning curve: are the small heads trained?',
        rows: curveRows,
        x: { field: 'x', title: 'training step' },
        y: { field: 'mean', title: 'held-out top-1 accuracy (%)' },
        color: { field: 'size', order: curveSizes.map(({ m }) => String(m)), columns: 4 },
        dash: { field: 'model', order: ['MRL', 'FF'] },
        band: { lo: 'lo', hi: 'hi' },
        detail: 'series',
        tooltip: ['series'],
        width: 520,
        height: 320,
      }),
    },
    {
      name: 'matryoshka-1nn-vs-size',
      title: `${r0.dataset} 1-NN accuracy vs representation size (${r0.retrieval.queries} test queries, ${r0.retrieval.databaseSize} training images; ${n} seed(s), band min–max): MRL vs FF, slicing and PCA of FF-D`,
      spec: bandLines('1-NN accuracy vs representation size', nnRows, (['mrl', 'ff', 'slicing', 'svd'] as const).map((f) => FAMILY_LABEL[f]), 'representation size m (log2)', '1-NN top-1 accuracy (%)', true),
    },
  ];
}
