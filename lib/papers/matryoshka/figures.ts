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
  ];
}
