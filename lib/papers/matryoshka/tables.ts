/** Matryoshka result tables: top-1 accuracy per representation size and method, and the adaptive classifier. */
import type { ResultTable, SeedResult } from '../../harness/contract';
import { mean } from '../../core/stats';
import type { MatryoshkaConfig } from './config';
import type { AccuracyTable, MatryoshkaResult } from './experiment';
import { oneNnTop1, SMALL_SIZE_MAX } from './claims';

const ROWS: { key: keyof AccuracyTable; label: string }[] = [
  { key: 'mrl', label: 'MRL' },
  { key: 'mrlE', label: 'MRL-E' },
  { key: 'ff', label: 'fixed-feature (one model per size)' },
  { key: 'slicing', label: 'slicing the FF-D embedding' },
  { key: 'svd', label: 'PCA of the FF-D embedding' },
];

const pct = (x: number) => Number((100 * x).toFixed(2));
const meanPct = (xs: number[]) => pct(mean(xs));

export function tables(results: SeedResult<MatryoshkaResult>[], _config: MatryoshkaConfig): ResultTable[] {
  if (results.length === 0) return [];
  const r0 = results[0].result;
  const accuracy = ROWS.flatMap(({ key, label }) => {
    const per = results.map((s) => s.result.accuracy[key]).filter((row): row is number[] => row !== null);
    if (per.length === 0) return [];
    return [[label, ...r0.sizes.map((_, i) => pct(mean(per.map((row) => row[i]))))]];
  });
  const adaptive = results.map(({ seed, result: r }) => [
    seed,
    r.adaptive.chosenThreshold,
    r.adaptive.chosen.meanSize,
    r.embeddingDim / r.adaptive.chosen.meanSize,
    pct(r.adaptive.chosen.accuracy),
    pct(r.adaptive.testFullAccuracy),
  ]);
  const D = r0.embeddingDim;
  // Slicing evaluated both ways the paper does: a retrained linear probe and 1-NN retrieval, per size.
  const perSize = r0.sizes.map((m, i) => {
    const at = (f: (r: MatryoshkaResult) => number) => meanPct(results.map((s) => f(s.result)));
    const nn = (family: 'mrl' | 'ff' | 'slicing' | 'svd') => at((r) => oneNnTop1(r, family)[i]);
    return [
      m,
      at((r) => r.accuracy.mrl[i]),
      at((r) => r.accuracy.slicing[i]),
      at((r) => r.accuracy.mrl[i] - r.accuracy.slicing[i]),
      at((r) => r.accuracy.ff[i]),
      at((r) => r.accuracy.svd[i]),
      nn('mrl'),
      nn('slicing'),
      at((r) => oneNnTop1(r, 'mrl')[i] - oneNnTop1(r, 'slicing')[i]),
      nn('ff'),
      nn('svd'),
    ];
  });
  // Adaptive classification across thresholds: the size reduction at each accuracy, next to the paper's 14x.
  const sweep = r0.adaptive.testSweep.map((_, k) => {
    const at = (f: (r: MatryoshkaResult) => number) => mean(results.map((s) => f(s.result)));
    return [
      r0.adaptive.testSweep[k].threshold,
      Number(at((r) => r.adaptive.testSweep[k].meanSize).toFixed(2)),
      Number(at((r) => D / r.adaptive.testSweep[k].meanSize).toFixed(2)),
      pct(at((r) => r.adaptive.testSweep[k].accuracy)),
      pct(at((r) => r.adaptive.testSweep[k].accuracy - r.adaptive.testFullAccuracy)),
      pct(at((r) => r.adaptive.holdoutSweep[k].accuracy - r.adaptive.holdoutFullAccuracy)),
      results.filter((s) => s.result.adaptive.chosenThreshold === r0.adaptive.testSweep[k].threshold).length,
    ];
  });
  // Learning curve on held-out images: MRL at each size and FF-m, at each checkpoint.
  const lc = r0.learningCurve;
  const curveRow = (label: string, i: number, model: 'mrl' | 'ff') => {
    const vals = lc.steps.map((_, k) => meanPct(results.map((s) => s.result.learningCurve[model][k][i])));
    const gain = vals.length >= 2 ? Number((vals[vals.length - 1] - vals[vals.length - 2]).toFixed(2)) : null;
    return [label, ...vals, gain];
  };
  const curveRows = r0.sizes.flatMap((m, i) => [curveRow(`MRL at ${m}`, i, 'mrl'), curveRow(`FF-${m}`, i, 'ff')]);
  return [
    {
      name: 'mrl-accuracy',
      title: `Top-1 accuracy (%) on ${r0.dataset} test images per representation size`,
      columns: ['method', ...r0.sizes.map(String)],
      rows: accuracy,
      note: `mean over ${results.length} seed(s); linear heads for MRL/FF, linear probes for slicing and PCA`,
    },
    {
      name: 'mrl-adaptive',
      title: 'Adaptive classification: threshold chosen on the holdout, judged on test images',
      columns: ['seed', 'threshold', 'mean size', `D / mean size (D = ${r0.embeddingDim})`, 'accuracy (%)', 'accuracy at D (%)'],
      rows: adaptive,
      note: "'—': no threshold matched the accuracy at D on the holdout, so every image uses D",
    },
    {
      name: 'mrl-adaptive-curve',
      title: `Adaptive classification across thresholds: size reduction D / mean size (D = ${D}) at each accuracy; the paper: up to 14x at the same accuracy (ImageNet-1K)`,
      columns: ['threshold', 'mean size', 'D / mean size', 'test accuracy (%)', 'test accuracy − at D (pp)', 'holdout accuracy − at D (pp)', 'seeds choosing it'],
      rows: sweep,
      note: `mean over ${results.length} seed(s); the claim takes, per seed, the cheapest threshold whose holdout accuracy matches size D`,
    },
    {
      name: 'mrl-slicing-per-size',
      title: `Slicing the FF-${D} embedding both ways the paper evaluates it, per size: a retrained linear probe and 1-NN retrieval (top-1, %)`,
      columns: ['size', 'MRL (own head)', 'slicing + probe', 'MRL − slicing (probe)', 'FF-m', 'PCA + probe', 'MRL 1-NN', 'slicing 1-NN', 'MRL − slicing (1-NN)', 'FF-m 1-NN', 'PCA 1-NN'],
      rows: perSize,
      note: `mean over ${results.length} seed(s); 1-NN: ${r0.retrieval.queries} test queries against ${r0.retrieval.databaseSize} training images; the slicing claims read sizes <= ${SMALL_SIZE_MAX}`,
    },
    {
      name: 'mrl-learning-curve',
      title: `Held-out accuracy (%) during training, on ${lc.examples} held-out images, after each step shown (the last = end of training)`,
      columns: ['model', ...lc.steps.map((s) => `step ${s}`), 'gain over the last stretch (pp)'],
      rows: curveRows,
      note: `mean over ${results.length} seed(s); MRL through its size-m head, FF-m through its own; the check matryoshka-small-heads-converged reads MRL at sizes <= ${SMALL_SIZE_MAX}`,
    },
  ];
}
