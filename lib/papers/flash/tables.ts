/** FLASH result tables: our step times per context, the PyTorch H100 anchor, and the shapes side by side. */
import type { ResultTable, SeedResult } from '../../harness/contract';
import { mean } from '../../core/stats';
import { anchorComparison, PYTORCH_H100_ANCHOR } from './anchor';
import { MODEL_IDS, MODEL_LABEL, type FlashConfig } from './config';
import type { FlashResult } from './experiment';

export function tables(results: SeedResult<FlashResult>[], config: FlashConfig): ResultTable[] {
  if (results.length === 0) return [];
  const first = results[0].result;
  const lat = first.latency;
  return [
    {
      name: 'flash-step-times',
      title: `Ours: training step time (ms) at ${lat.tokensPerBatch} tokens per batch`,
      columns: ['context', ...MODEL_IDS.map((id) => `${MODEL_LABEL[id]} (ms)`)],
      rows: lat.contexts.map((t, i) => [t, ...MODEL_IDS.map((id) => mean(results.map((s) => s.result.latency.stepMs[id][i])))]),
      note: `median of ${config.latency.timedSteps} timed steps per context, mean over ${results.length} seed(s)`,
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
      title: `Shapes side by side (ours: seed ${results[0].seed})`,
      columns: ['ratio', 'PyTorch H100 anchor', 'ours (tfjs)'],
      rows: anchorComparison(first).map((r) => [r.what, r.anchor, r.ours]),
    },
  ];
}
