/** Matryoshka result tables: top-1 accuracy per representation size and method, and the adaptive classifier. */
import type { ResultTable, SeedResult } from '../../harness/contract';
import { mean } from '../../core/stats';
import type { MatryoshkaConfig } from './config';
import type { AccuracyTable, MatryoshkaResult } from './experiment';

const ROWS: { key: keyof AccuracyTable; label: string }[] = [
  { key: 'mrl', label: 'MRL' },
  { key: 'mrlE', label: 'MRL-E' },
  { key: 'ff', label: 'fixed-feature (one model per size)' },
  { key: 'slicing', label: 'slicing the FF-D embedding' },
  { key: 'svd', label: 'PCA of the FF-D embedding' },
];

const pct = (x: number) => Number((100 * x).toFixed(2));

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
  ];
}
