/**
 * FLASH figures: pure functions of (all seeds' results, config) -> Vega-Lite specs.
 * We measure the training speed-up at one context only, so the third figure is
 * validation loss vs steps (not speed-up vs context).
 */
import { lineChart, type Axis } from '../../figures/charts';
import type { FigureDef, VegaLiteSpec } from '../../figures/types';
import type { SeedResult } from '../../harness/contract';
import { MODEL_IDS, MODEL_LABEL, type FlashConfig } from './config';
import type { FlashResult } from './experiment';

const ORDER = MODEL_IDS.map((id) => MODEL_LABEL[id]);
function perSeedLines(title: string, rows: object[], x: Axis, y: Axis): VegaLiteSpec {
  return lineChart({ title, rows, x, y, color: { field: 'model', order: ORDER }, detail: 'seed' });
}

export function figures(results: SeedResult<FlashResult>[], config: FlashConfig): FigureDef[] {
  if (results.length === 0) return [];
  const latencyRows = results.flatMap(({ seed, result }) =>
    MODEL_IDS.flatMap((id) => result.latency.contexts.map((t, i) => ({ seed, model: MODEL_LABEL[id], context: t, ms: result.latency.stepMs[id][i] }))),
  );
  const curveRows = results.flatMap(({ seed, result }) =>
    MODEL_IDS.flatMap((id) => result.train.curves[id].map((p) => ({ seed, model: MODEL_LABEL[id], step: p.step, seconds: p.seconds, valLoss: p.valLoss }))),
  );
  const m = config.model;
  const where = `width ${m.width}; Transformer++ ${m.transformerDepth} layers x ${m.heads} heads; GAU ${m.gauDepth} layers, e=${m.expansion}, s=${m.qkDim}, chunk ${m.chunkSize}`;
  return [
    {
      name: 'flash-step-time',
      title: `Training step time (fwd + bwd + Adam) vs context at ${config.latency.tokensPerBatch} tokens per batch, log-log (${where})`,
      spec: perSeedLines('Step time vs context length', latencyRows, { field: 'context', title: 'context length (tokens)', scale: 'log' }, { field: 'ms', title: 'step time (ms)', scale: 'log' }),
    },
    {
      name: 'flash-loss-vs-time',
      title: `Validation loss vs measured training seconds at context ${config.train.context} (steps fixed per model: ${config.train.steps.transformer} / ${config.train.steps.flashQuad} / ${config.train.steps.flash})`,
      spec: perSeedLines('Validation loss vs wall time', curveRows.filter((r) => r.step > 0), { field: 'seconds', title: 'training time (s)' }, { field: 'valLoss', title: 'validation loss (nats/byte)' }),
    },
    {
      name: 'flash-loss-vs-steps',
      title: `Validation loss vs training steps at context ${config.train.context} (speed-up measured at this one context, so this replaces the paper's speed-up-vs-context figure)`,
      spec: perSeedLines('Validation loss vs steps', curveRows.filter((r) => r.step > 0), { field: 'step', title: 'training step' }, { field: 'valLoss', title: 'validation loss (nats/byte)' }),
    },
  ];
}
