/**
 * The PyTorch H100 anchor (measured 2026-11-23 with PyTorch 2.11 on one H100, by the project's
 * maintainers; the numbers are recorded here and in lib/papers/flash/README.md):
 * training step (fwd + bwd + AdamW) in ms, 32768 tokens per batch, width 512, byte
 * vocabulary; FLASH / FLASH-Quad from lucidrains/FLASH-pytorch (8 GAU layers, group 256),
 * Transformer++ 4 layers with materialised ("naive") or fused SDPA attention.
 * Shown beside our tfjs numbers as shape ratios (absolute times are not comparable:
 * other hardware, model size and tokens per batch).
 */
import { mean } from '../../core/stats';
import { perRoundRatio, timedMs } from './claims';
import type { ModelId } from './config';
import type { FlashResult } from './experiment';

export const PYTORCH_H100_ANCHOR = {
  contexts: [512, 2048, 8192],
  ms: {
    'T++ naive fp32': [116, 189, 508],
    'T++ SDPA fp32': [98, 119, 204],
    'FLASH-Quad fp32': [98, 200, 967],
    'FLASH fp32': [114, 115, 115],
    'T++ SDPA bf16': [29, 31, 37],
    'FLASH bf16': [62, 61, 60],
  } as Record<string, number[]>,
};

export interface ShapeRow {
  what: string;
  anchor: string;
  ours: string;
}

/** Longest / shortest-context ratios and cross-model ratios at the longest context, ours (mean of the per-round ratios) beside the anchor's. */
export function anchorComparison(r: FlashResult): ShapeRow[] {
  const a = PYTORCH_H100_ANCHOR.ms;
  const last = PYTORCH_H100_ANCHOR.contexts.length - 1;
  const cs = r.latency.contexts;
  const lo = cs.find((t) => t >= r.latency.chunkSize) ?? cs[0];
  const hi = cs[cs.length - 1];
  const f = (x: number) => `${x.toFixed(2)}x`;
  const ours = (num: ModelId, tn: number, den: ModelId, td: number) => {
    const v = perRoundRatio(timedMs(r, num, tn), timedMs(r, den, td));
    return Array.isArray(v) ? f(mean(v)) : 'not timed';
  };
  const span = `${lo} -> ${hi}`;
  return [
    { what: 'FLASH: longest / shortest context', anchor: `${f(a['FLASH fp32'][last] / a['FLASH fp32'][0])} (512 -> 8192)`, ours: `${ours('flash', hi, 'flash', lo)} (${span})` },
    { what: 'Transformer++ (materialised attention): longest / shortest', anchor: `${f(a['T++ naive fp32'][last] / a['T++ naive fp32'][0])}`, ours: ours('transformer', hi, 'transformer', lo) },
    { what: 'Transformer++ / FLASH at the longest context', anchor: f(a['T++ naive fp32'][last] / a['FLASH fp32'][last]), ours: ours('transformer', hi, 'flash', hi) },
    { what: 'Transformer++ / FLASH-Quad at the longest context', anchor: f(a['T++ naive fp32'][last] / a['FLASH-Quad fp32'][last]), ours: ours('transformer', hi, 'flash-quad', hi) },
    { what: 'fused-attention Transformer++ (SDPA fp32) / FLASH at the longest context', anchor: f(a['T++ SDPA fp32'][last] / a['FLASH fp32'][last]), ours: 'not measured (tfjs has no fused attention)' },
    { what: 'fused-attention Transformer++ (SDPA bf16) / FLASH (bf16) at the longest context', anchor: f(a['T++ SDPA bf16'][last] / a['FLASH bf16'][last]), ours: 'not measured (tfjs has no fused attention)' },
  ];
}
