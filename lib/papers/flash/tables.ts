/** FLASH result tables: step times per context, the training speed-up per context, the PyTorch H100 anchor, and the shapes side by side. */
import type { ResultTable, SeedResult } from '../../harness/contract';
import { mean, tInterval95 } from '../../core/stats';
import { anchorComparison, PYTORCH_H100_ANCHOR } from './anchor';
import { trainingSpeedup, type ContextSpeedup } from './claims';
import { MODEL_IDS, MODEL_LABEL, type FlashConfig } from './config';
import type { FlashResult } from './experiment';

/** Per training context, every seed's speed-up (seeds where it is not computable are left out). */
export function speedupsAt(results: SeedResult<FlashResult>[], context: number): ContextSpeedup[] {
  return results.map((s) => trainingSpeedup(s.result, context)).filter((v): v is ContextSpeedup => !('notRun' in v));
}

/** Mean and 95% interval of the per-round values pooled over seeds (null interval with fewer than two). */
export function pooled(values: number[]): { mean: number; lo: number | null; hi: number | null } {
  const iv = values.length >= 2 ? tInterval95(values) : null;
  return { mean: mean(values), lo: iv ? iv.lo : null, hi: iv ? iv.hi : null };
}

export function tables(results: SeedResult<FlashResult>[], _config: FlashConfig): ResultTable[] {
  if (results.length === 0) return [];
  const first = results[0].result;
  const lat = first.latency;
  const stepMs = (id: (typeof MODEL_IDS)[number], t: number): number | null => {
    const ms = results.flatMap((s) => s.result.latency.timed.find((x) => x.model === id && x.context === t)?.ms ?? []);
    return ms.length ? mean(ms) : null;
  };
  const speedRows = first.train.contexts.map((t) => {
    const sp = speedupsAt(results, t);
    const reached = sp.filter((s) => s.reached);
    const all = pooled(sp.flatMap((s) => s.perRound));
    return [
      t,
      mean(sp.map((s) => s.target)),
      mean(sp.map((s) => s.baselineSteps)),
      reached.length ? mean(reached.map((s) => s.flashSteps as number)) : null,
      `${reached.length} of ${sp.length}`,
      mean(sp.flatMap((s) => s.stepTimeRatio)),
      all.mean,
      all.lo,
      all.hi,
    ];
  });
  return [
    {
      name: 'flash-step-times',
      title: `Ours: training step time (ms) at ${lat.tokensPerBatch} tokens per step`,
      columns: ['context', ...MODEL_IDS.map((id) => `${MODEL_LABEL[id]} (ms)`)],
      rows: lat.contexts.map((t) => [t, ...MODEL_IDS.map((id) => stepMs(id, t))]),
      note: `mean of ${lat.rounds} timed rounds (the contenders interleaved in each, with no other job computing) over ${results.length} seed(s); FLASH-Quad is timed at the longest context only ('—')`,
    },
    {
      name: 'flash-training-speedup',
      title: `Training speed-up of FLASH over Transformer++ to Transformer++'s final validation loss, per context (${first.train.steps} steps of ${lat.tokensPerBatch} tokens)`,
      columns: ['context', 'target loss (nats/byte)', 'Transformer++ steps', 'FLASH steps', 'FLASH reached it', 'step-time ratio T++/FLASH', 'speed-up', '95% lo', '95% hi'],
      rows: speedRows,
      note: "speed-up per timed round = (Transformer++ steps x its step time) / (FLASH steps x its step time); mean and 95% interval over all rounds of all seeds; FLASH steps: mean over the seeds where it reached the target (where it did not, that seed's speed-up is an upper bound computed with all its steps)",
    },
    {
      name: 'flash-h100-anchor',
      title: 'PyTorch H100 anchor: step time (ms) at 32768 tokens per batch, width 512',
      columns: ['context', ...Object.keys(PYTORCH_H100_ANCHOR.ms)],
      rows: PYTORCH_H100_ANCHOR.contexts.map((t, i) => [t, ...Object.values(PYTORCH_H100_ANCHOR.ms).map((v) => v[i])]),
      note: 'lib/papers/flash/anchor.ts: other hardware, sizes and tokens per batch, so only the ratios compare',
    },
    {
      name: 'flash-shapes',
      title: `Shapes side by side (ours: seed ${results[0].seed}, mean of the per-round ratios)`,
      columns: ['ratio', 'PyTorch H100 anchor', 'ours (tfjs)'],
      rows: anchorComparison(first).map((r) => [r.what, r.anchor, r.ours]),
    },
  ];
}
