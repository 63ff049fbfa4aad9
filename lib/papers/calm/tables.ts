/** CALM result table: calibrated thresholds per confidence measure and δ (first seed). */
import type { ResultTable, SeedResult } from '../../harness/contract';
import type { CalmConfig } from './config';
import type { CalmResult } from './experiment';

export function tables(results: SeedResult<CalmResult>[], _config: CalmConfig): ResultTable[] {
  if (results.length === 0) return [];
  const { seed, result: first } = results[0];
  return [
    {
      name: 'calm-calibration',
      title: `Calibrated thresholds per confidence measure and δ (seed ${seed})`,
      columns: ['measure', 'δ', 'λ', 'layers', 'test risk', 'ROUGE-L', 'guarantee', 'speed-up'],
      rows: first.measures.flatMap((m) =>
        m.calibration.map((p) => [m.measure, p.delta, p.lambda === null ? 'full' : p.lambda.toPrecision(4), `${p.testLayers.toFixed(2)} / ${first.depth}`, p.testRisk, p.testRougeL, p.guaranteeRate, `${p.speedup.toFixed(2)}x`]),
      ),
      note: "λ: the Learn-then-Test threshold ('full': nothing certified, the full model is used); layers: mean exit layer on test prompts; risk: 1 − token agreement with the full model; guarantee: share of random re-splits whose test risk stays ≤ δ; speed-up: measured wall clock",
    },
    {
      name: 'calm-layer-loss',
      title: `Validation loss of every layer's prediction through the shared head (seed ${seed})`,
      columns: ['layer', 'validation loss (nats/byte)'],
      rows: first.layerValLoss.map((v, i) => [i + 1, v]),
    },
  ];
}
