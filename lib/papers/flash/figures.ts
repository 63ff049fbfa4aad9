/**
 * FLASH figures: pure functions of (all seeds' results, config) -> Vega-Lite specs:
 * step time vs context, the training speed-up vs context (the paper's Fig. 6(b)-(f) shape,
 * with its two readable end points), and validation loss vs steps per context.
 */
import { lineChart } from '../../figures/charts';
import type { FigureDef } from '../../figures/types';
import type { SeedResult } from '../../harness/contract';
import { mean } from '../../core/stats';
import { MODEL_IDS, MODEL_LABEL, type FlashConfig } from './config';
import type { FlashResult } from './experiment';
import { pooled, speedupsAt } from './tables';

const ORDER = MODEL_IDS.map((id) => MODEL_LABEL[id]);
const OURS = 'ours (band: 95% interval over rounds)';
const PAPER = 'paper, Wiki-40B (2 values read)';

export function figures(results: SeedResult<FlashResult>[], config: FlashConfig): FigureDef[] {
  if (results.length === 0) return [];
  const latencyRows = results.flatMap(({ seed, result }) => result.latency.timed.map((t) => ({ seed, model: MODEL_LABEL[t.model], context: t.context, ms: mean(t.ms) })));
  const curveRows = results.flatMap(({ seed, result }) =>
    result.train.curves.flatMap((c) => c.points.map((p) => ({ seed, model: MODEL_LABEL[c.model], context: `context ${c.context}`, step: p.step, valLoss: p.valLoss }))),
  );
  const speedRows = [
    ...results[0].result.train.contexts.map((t) => {
      const v = pooled(speedupsAt(results, t).flatMap((s) => s.perRound));
      return { series: OURS, context: t, speedup: v.mean, lo: v.lo ?? v.mean, hi: v.hi ?? v.mean };
    }),
    { series: PAPER, context: 512, speedup: 1.2, lo: 1.2, hi: 1.2 },
    { series: PAPER, context: 8192, speedup: 4.9, lo: 4.9, hi: 4.9 },
  ];
  const m = config.model;
  const where = `width ${m.width}; Transformer++ ${m.transformerDepth} layers x ${m.heads} heads; GAU ${m.gauDepth} layers, e=${m.expansion}, s=${m.qkDim}, chunk ${m.chunkSize}`;
  const ctxAxis = { field: 'context', title: 'context length (tokens)', scale: 'log2' as const, ticks: [...new Set([...config.latency.contexts, 8192])] };
  return [
    {
      name: 'flash-step-time',
      title: `Training step time (fwd + bwd + Adam) vs context at ${config.latency.tokensPerBatch} tokens per step, mean of the timed rounds per seed, log-log (${where})`,
      spec: lineChart({ title: 'Step time vs context length', rows: latencyRows, x: ctxAxis, y: { field: 'ms', title: 'step time (ms)', scale: 'log' }, color: { field: 'model', order: ORDER }, detail: 'seed' }),
    },
    {
      name: 'flash-speedup-vs-context',
      title: `Training speed-up to Transformer++'s final validation loss vs context (${config.train.steps} steps of ${config.latency.tokensPerBatch} tokens per context; steps-to-target x per-round step times)`,
      spec: lineChart({ title: 'Training speed-up vs context', rows: speedRows, x: ctxAxis, y: { field: 'speedup', title: 'speed-up (x)' }, color: { field: 'series', order: [OURS, PAPER] }, band: { lo: 'lo', hi: 'hi' } }),
    },
    {
      name: 'flash-loss-vs-steps',
      title: `Validation loss vs training steps per context (Transformer++ and FLASH at ${config.train.contexts.join(', ')}; FLASH-Quad at ${config.train.contexts[0]})`,
      spec: lineChart({
        title: 'Validation loss vs steps',
        rows: curveRows,
        x: { field: 'step', title: 'training step' },
        y: { field: 'valLoss', title: 'validation loss (nats/byte)' },
        color: { field: 'model', order: ORDER },
        dash: { field: 'context' },
        detail: 'seed',
      }),
    },
  ];
}
