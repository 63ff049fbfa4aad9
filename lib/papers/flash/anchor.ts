/**
 * The PyTorch H100 anchor from PAPERS.md (measured 2026-11-23, PyTorch 2.11, one H100):
 * training step (fwd + bwd + AdamW) in ms, 32768 tokens per batch, width 512, byte
 * vocabulary; FLASH / FLASH-Quad from lucidrains/FLASH-pytorch (8 GAU layers, group 256),
 * Transformer++ 4 layers with materialised ("naive") or fused SDPA attention.
 * Shown beside our tfjs numbers as shape ratios (absolute times are not comparable:
 * other hardware, model size and tokens per batch).
 */
import { MODEL_IDS, MODEL_LABEL } from './config';
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

/** Longest / shortest-context ratios and cross-model ratios at the longest context, ours beside the anchor's. */
export function anchorComparison(r: FlashResult): ShapeRow[] {
  const a = PYTORCH_H100_ANCHOR.ms;
  const last = PYTORCH_H100_ANCHOR.contexts.length - 1;
  const cs = r.latency.contexts;
  const lo = Math.max(0, cs.findIndex((t) => t >= r.latency.chunkSize));
  const hi = cs.length - 1;
  const ms = r.latency.stepMs;
  const f = (x: number) => `${x.toFixed(2)}x`;
  const span = `${cs[lo]} -> ${cs[hi]}`;
  return [
    { what: 'FLASH: longest / shortest context', anchor: `${f(a['FLASH fp32'][last] / a['FLASH fp32'][0])} (512 -> 8192)`, ours: `${f(ms.flash[hi] / ms.flash[lo])} (${span})` },
    { what: 'Transformer++ (materialised attention): longest / shortest', anchor: `${f(a['T++ naive fp32'][last] / a['T++ naive fp32'][0])}`, ours: f(ms.transformer[hi] / ms.transformer[lo]) },
    { what: 'FLASH-Quad: longest / shortest', anchor: f(a['FLASH-Quad fp32'][last] / a['FLASH-Quad fp32'][0]), ours: f(ms['flash-quad'][hi] / ms['flash-quad'][lo]) },
    { what: 'Transformer++ / FLASH at the longest context', anchor: f(a['T++ naive fp32'][last] / a['FLASH fp32'][last]), ours: f(ms.transformer[hi] / ms.flash[hi]) },
    { what: 'Transformer++ / FLASH-Quad at the longest context', anchor: f(a['T++ naive fp32'][last] / a['FLASH-Quad fp32'][last]), ours: f(ms.transformer[hi] / ms['flash-quad'][hi]) },
    { what: 'fused-attention Transformer++ (SDPA fp32) / FLASH at the longest context', anchor: f(a['T++ SDPA fp32'][last] / a['FLASH fp32'][last]), ours: 'not measured (tfjs has no fused attention)' },
  ];
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Our step times per context (ms) and the shape ratios beside the anchor, as an HTML fragment. */
export function anchorComparisonHtml(r: FlashResult): string {
  const head = `<tr><th>context</th>${MODEL_IDS.map((id) => `<th>${esc(MODEL_LABEL[id])} (ms)</th>`).join('')}</tr>`;
  const rows = r.latency.contexts.map((t, i) => `<tr><td>${t}</td>${MODEL_IDS.map((id) => `<td>${r.latency.stepMs[id][i].toFixed(1)}</td>`).join('')}</tr>`).join('');
  const anchorHead = `<tr><th>context</th>${Object.keys(PYTORCH_H100_ANCHOR.ms).map((k) => `<th>${esc(k)}</th>`).join('')}</tr>`;
  const anchorRows = PYTORCH_H100_ANCHOR.contexts.map((t, i) => `<tr><td>${t}</td>${Object.values(PYTORCH_H100_ANCHOR.ms).map((v) => `<td>${v[i]}</td>`).join('')}</tr>`).join('');
  const shape = anchorComparison(r).map((s) => `<tr><td>${esc(s.what)}</td><td>${esc(s.anchor)}</td><td>${esc(s.ours)}</td></tr>`).join('');
  return [
    `<h4>Ours: step time (ms) at ${r.latency.tokensPerBatch} tokens per batch</h4><table>${head}${rows}</table>`,
    `<h4>PyTorch H100 anchor (PAPERS.md): step time (ms) at 32768 tokens per batch, width 512</h4><table>${anchorHead}${anchorRows}</table>`,
    `<h4>Shapes side by side</h4><table><tr><th>ratio</th><th>PyTorch H100 anchor</th><th>ours (tfjs)</th></tr>${shape}</table>`,
  ].join('\n');
}
