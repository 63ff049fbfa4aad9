/**
 * CALM result tables: calibrated thresholds per measure and δ (first seed), the model's
 * quality per layer with the oracle, the oracle against the calibrated decoders per
 * consistency, and the timed decoders (all seeds).
 */
import type { ResultTable, SeedResult } from '../../harness/contract';
import { mean, tInterval95 } from '../../core/stats';
import { oracleDepth, perRoundSpeedup } from './claims';
import type { CalmConfig } from './config';
import { teacherForcedLayers, type CalmResult, type OracleHistogram, type TimedDecoder } from './experiment';

/** Share of bytes whose oracle depth is at most each layer (cumulative). */
export function oracleCumulative(h: OracleHistogram): number[] {
  const n = h.counts.reduce((a, b) => a + b, 0);
  let acc = 0;
  return h.counts.map((k) => ((acc += k), n > 0 ? acc / n : NaN));
}

/** The consistency levels the oracle is read at: 1 and 1 − δ for every δ. */
export function oracleLevels(deltas: number[]): number[] {
  return [1, ...deltas.map((d) => Number((1 - d).toFixed(6)))];
}

/**
 * Cost of one exit test, in layers, estimated from a timed decoder: per token the full
 * model costs L layers, the early-exit decoder m layers plus t exit tests (mean per
 * token), so cost = (L x time ratio − m) / t. It lumps the skipped layers' K/V propagation
 * and the per-layer device read into the test.
 */
export function exitTestCost(r: CalmResult, d: TimedDecoder): number {
  const ratio = mean(d.ms.map((ms, k) => ms / r.timing.fullMs[k]));
  return d.exitTests > 0 ? (r.depth * ratio - d.realLayers) / d.exitTests : NaN;
}

export function tables(results: SeedResult<CalmResult>[], _config: CalmConfig): ResultTable[] {
  if (results.length === 0) return [];
  const { seed, result: first } = results[0];
  const L = first.depth;
  const rs = results.map((s) => s.result);
  const avg = (f: (r: CalmResult) => number) => mean(rs.map(f));
  const deltas = first.measures[0].calibration.map((p) => p.delta);
  const oracleRows = oracleLevels(deltas).map((c) => {
    const d = c === 1 ? null : Number((1 - c).toFixed(6));
    const cal = (pick: (r: CalmResult) => number) => (d === null ? null : avg(pick));
    const at = (r: CalmResult, measure: string) => r.measures.find((m) => m.measure === measure)?.calibration.find((p) => p.delta === d)?.testLayers ?? L;
    const forced = (r: CalmResult, measure: string) => {
      const m = r.measures.find((x) => x.measure === measure);
      return m ? teacherForcedLayers(m.teacherForced, c) : NaN;
    };
    return [
      c,
      avg((r) => oracleDepth(r.oracle.decoding, c)),
      avg((r) => L / oracleDepth(r.oracle.decoding, c)),
      c === 1 ? avg((r) => oracleDepth(r.oracle.validation, 1)) : null,
      avg((r) => forced(r, 'softmax')),
      avg((r) => Math.min(...r.measures.map((m) => forced(r, m.measure)))),
      cal((r) => at(r, 'softmax')),
      cal((r) => Math.min(...r.measures.map((m) => at(r, m.measure)))),
    ];
  });
  const roles = ['reference', 'best'] as const;
  const timingRows = roles.map((role) => {
    const ds = rs.map((r) => ({ r, d: r.timing.decoders.find((x) => x.roles.includes(role)) }));
    const timed = ds.filter((x): x is { r: CalmResult; d: TimedDecoder } => x.d !== undefined);
    const reps = timed.flatMap((x) => perRoundSpeedup(x.r, x.d));
    const iv = reps.length >= 2 ? tInterval95(reps) : null;
    const which = ds.map((x, i) => `${results[i].seed}: ${x.d ? `${x.d.measure} δ=${x.d.delta}` : 'none certified'}`).join('; ');
    const m = (f: (x: { r: CalmResult; d: TimedDecoder }) => number) => (timed.length ? mean(timed.map(f)) : null);
    return [
      role === 'reference' ? `softmax at δ = ${first.referenceDelta}` : 'fewest calibration layers, δ ≤ 0.2',
      which,
      m((x) => x.d.realLayers),
      m((x) => L / x.d.realLayers),
      reps.length ? mean(reps) : null,
      iv ? iv.lo : null,
      iv ? iv.hi : null,
      m((x) => x.d.exitTests),
      m((x) => exitTestCost(x.r, x.d)),
      m((x) => x.d.realMatchesSimulation),
    ];
  });
  const steps = first.trainLoss.map((p) => p.step);
  const trainingRows = steps.map((step, i) => [
    step,
    mean(rs.map((r) => r.trainLoss[i].loss)),
    mean(rs.map((r) => r.trainLoss[i].valLoss)),
    results.map((s) => `${s.seed}: ${s.result.trainLoss[i].valLoss.toFixed(3)}`).join('; '),
  ]);
  return [
    {
      name: 'calm-training',
      title: `Training: batch loss and the last layer's validation loss (nats/byte) per logged step (mean over ${results.length} seed(s))`,
      columns: ['step', 'batch loss', 'validation loss', 'validation loss per seed'],
      rows: trainingRows,
      note: "validation loss: the last layer on the same validation windows at every step (the check calm-lm-converged reads the drop over the last quarter); batch loss: the step's own training batch (noisy)",
    },
    {
      name: 'calm-calibration',
      title: `Calibrated thresholds per confidence measure and δ (seed ${seed})`,
      columns: ['measure', 'δ', 'λ', 'layers', 'layer speed-up', 'test risk', 'ROUGE-L', 're-splits certified', 'guarantee (certified)'],
      rows: first.measures.flatMap((m) =>
        m.calibration.map((p) => [
          m.measure,
          p.delta,
          p.lambda === null ? 'full' : p.lambda.toPrecision(4),
          `${p.testLayers.toFixed(2)} / ${L}`,
          L / p.testLayers,
          p.testRisk,
          p.testRougeL,
          p.certified / p.resplits,
          p.certified > 0 ? p.held / p.certified : null,
        ]),
      ),
      note: "λ: the Learn-then-Test threshold ('full': nothing certified, the full model is used); layers: mean exit layer on test prompts; layer speed-up: depth / layers; risk: 1 − token agreement with the full model; re-splits certified: share of random re-splits whose calibration half certified a threshold; guarantee: of those, the share whose test risk stays ≤ δ ('—': none certified)",
    },
    {
      name: 'calm-layer-quality',
      title: `The model per layer: validation loss, next-byte accuracy, agreement with the last layer, and the oracle (mean over ${results.length} seed(s))`,
      columns: ['layer', 'validation loss (nats/byte)', 'next-byte accuracy', 'agrees with the last layer', 'oracle: decided by this layer (validation text)', 'oracle: decided by this layer (decoding)'],
      rows: Array.from({ length: L }, (_, i) => [
        i + 1,
        avg((r) => r.layerQuality.valLoss[i]),
        avg((r) => r.layerQuality.accuracy[i]),
        avg((r) => r.layerQuality.agreeWithLast[i]),
        avg((r) => oracleCumulative(r.oracle.validation)[i]),
        avg((r) => oracleCumulative(r.oracle.decoding)[i]),
      ]),
      note: `teacher-forced through the shared head; oracle: share of bytes whose shallowest layer predicting the full model's byte is this layer or earlier (validation text, and the full model's greedy continuations of the test prompts); the exit classifier, trained to predict exactly 'this layer agrees with the last', reaches a balanced accuracy of ${avg((r) => r.classifierBalancedAccuracy).toFixed(3)} on validation text (layers 1..${L - 1} pooled; chance 0.5)`,
    },
    {
      name: 'calm-oracle',
      title: `The oracle vs the calibrated decoders: mean layers at a given consistency with the full model (${L} layers, mean over ${results.length} seed(s))`,
      columns: [
        'token consistency',
        'oracle layers (decoding)',
        'oracle layer speed-up',
        'oracle layers (validation text)',
        'softmax layers, teacher-forced',
        'best measure layers, teacher-forced',
        'calibrated softmax layers',
        'calibrated best measure layers',
      ],
      rows: oracleRows,
      note: "oracle: every byte exits at the shallowest layer whose argmax equals the full model's, except the deepest share 1 − consistency, which exit at layer 1 — the fewest layers any confidence measure can use at that consistency (teacher-forced: errors do not change later bytes). Teacher-forced measure: on the same text, each byte exits at the first layer whose confidence reaches a fixed (decayed) threshold; the fewest mean layers over a fine threshold grid that keep this consistency — the measure's own gap to the oracle, without the cascade of free-running decoding or the calibration's margin. Calibrated: LTT at δ = 1 − consistency, mean exit layer on the test prompts of free-running decoding; best measure: the fewest layers over measures",
    },
    {
      name: 'calm-timing',
      title: `Timed decoding: ${first.timing.rounds} rounds per seed of ${first.timing.promptsPerRound} fresh test prompt(s), full model and early-exit decoders interleaved (all seeds)`,
      columns: ['decoder', 'measure per seed', 'real layers', 'layer speed-up', 'wall-clock speed-up', '95% lo', '95% hi', 'exit tests per token', 'exit-test cost (layers)', 'real = simulation'],
      rows: timingRows,
      note: 'wall-clock speed-up: full-model time / early-exit time per round, mean and 95% interval over the rounds of all seeds; layer speed-up: depth / real layers; exit-test cost: (depth x time ratio − layers) / exit tests, the overhead of one exit test (head, top-2, device read, and the skipped layers\' K/V propagation) in units of one layer',
    },
  ];
}
