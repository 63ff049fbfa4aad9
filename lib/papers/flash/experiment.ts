/**
 * One seed of the FLASH reproduction: a pure function of (config, ctx.seed) for every
 * loss; step times and training seconds are measurements, recorded but never used to
 * decide what runs (step counts are fixed in the config).
 */
import * as tf from '@tensorflow/tfjs';
import type { RunRng } from '../../core/rng';
import { loadSotu, sampleTextBatch } from '../../data/text';
import { GauLM } from '../../nn/gau';
import { effectiveChunk } from '../../nn/mixed-chunk-attention';
import { TransformerLM } from '../../nn/transformer';
import { trainStep } from '../../nn/training';
import type { RunContext } from '../../harness/contract';
import { MODEL_IDS, type FlashConfig, type ModelId } from './config';
import { configCheck } from '../../harness/validate';

const VOCAB = 256;

export interface EvalPoint {
  step: number;
  /** Measured training seconds up to this step (evaluation time excluded). */
  seconds: number;
  /** Mean next-byte cross-entropy on the fixed validation windows (nats). */
  valLoss: number;
  /** Training loss of the last step before this evaluation (NaN at step 0). */
  trainLoss: number | null;
}

export interface FlashResult {
  latency: {
    contexts: number[];
    tokensPerBatch: number;
    /** FLASH's chunk length C (contexts <= C run as one chunk). */
    chunkSize: number;
    /** Fastest of the timed steps, in ms, [model][context index]. */
    stepMs: Record<ModelId, number[]>;
  };
  params: Record<ModelId, number>;
  train: {
    context: number;
    curves: Record<ModelId, EvalPoint[]>;
  };
}

interface LM {
  vars: tf.Variable[];
  paramCount: number;
  loss(inputs: tf.Tensor2D, targets: tf.Tensor2D): tf.Scalar;
  dispose(): void;
}

/** The three models of the paper's comparison, at equal width (2 GAU layers per Transformer++ layer). */
export function buildModel(id: ModelId, c: FlashConfig['model'], rng: RunRng): LM {
  if (id === 'transformer') {
    const m = new TransformerLM({ vocab: VOCAB, width: c.width, depth: c.transformerDepth, heads: c.heads, ffnHidden: c.ffnHidden }, rng, 'transformer');
    return { vars: m.store.variables, paramCount: m.store.paramCount(), loss: (i, t) => m.loss(i, t), dispose: () => m.dispose() };
  }
  const m = new GauLM(
    { vocab: VOCAB, width: c.width, depth: c.gauDepth, expansion: c.expansion, qkDim: c.qkDim, attention: id === 'flash' ? 'mixed-chunk' : 'quadratic', chunkSize: c.chunkSize },
    rng,
    id,
  );
  return { vars: m.store.variables, paramCount: m.store.paramCount(), loss: (i, t) => m.loss(i, t), dispose: () => m.dispose() };
}

export function validateConfig(c: FlashConfig): void {
  const m = c.model;
  const check = configCheck('flash', c)
    .integers(Object.keys(m).map((k) => `model.${k}`))
    .evenHeads('model.width', 'model.heads')
    .require(m.qkDim % 2 === 0, 'model.qkDim', 'even (RoPE)')
    .list('latency.contexts', { min: 1 }, { integer: true })
    .integers(['latency.tokensPerBatch', 'latency.timedSteps'])
    .integers(['latency.warmupSteps'], { min: 0 });
  for (const t of c.latency.contexts) {
    check.require(c.latency.tokensPerBatch % t === 0, 'latency.tokensPerBatch', `a multiple of every context (got ${t})`);
    effectiveChunk(t, m.chunkSize);
  }
  check
    .integers(['context', 'batchSize', 'evalEvery', 'evalWindows'].map((k) => `train.${k}`))
    .integers(Object.keys(c.train.steps).map((k) => `train.steps.${k}`))
    .numbers(['train.learningRate']);
  effectiveChunk(c.train.context, m.chunkSize);
}

function tensors(batch: { inputs: Int32Array; targets: Int32Array }, b: number, t: number): { inputs: tf.Tensor2D; targets: tf.Tensor2D } {
  return { inputs: tf.tensor2d(batch.inputs, [b, t], 'int32'), targets: tf.tensor2d(batch.targets, [b, t], 'int32') };
}

/** One timed step: forward + backward + Adam update, waited on until the loss is on the host. */
async function timedStep(opt: tf.Optimizer, model: LM, x: { inputs: tf.Tensor2D; targets: tf.Tensor2D }): Promise<number> {
  const t0 = performance.now();
  const loss = trainStep(opt, model.vars, () => model.loss(x.inputs, x.targets));
  await loss.data();
  const ms = performance.now() - t0;
  loss.dispose();
  return ms;
}

async function runLatency(config: FlashConfig, ctx: RunContext, train: Uint8Array): Promise<FlashResult['latency']> {
  const { contexts, tokensPerBatch, warmupSteps, timedSteps } = config.latency;
  const stepMs = {} as Record<ModelId, number[]>;
  const progress = ctx.progress('flash step time', MODEL_IDS.length * contexts.length);
  for (const id of MODEL_IDS) {
    stepMs[id] = [];
    for (const t of contexts) {
      const b = tokensPerBatch / t;
      const model = buildModel(id, config.model, ctx.rng);
      const opt = tf.train.adam(config.train.learningRate);
      const x = tensors(sampleTextBatch(train, b, t, ctx.rng.stream(`latency/${t}`)), b, t);
      try {
        for (let i = 0; i < warmupSteps; i++) await timedStep(opt, model, x);
        const times: number[] = [];
        for (let i = 0; i < timedSteps; i++) times.push(await timedStep(opt, model, x));
        const fastest = Math.min(...times);
        stepMs[id].push(fastest);
        ctx.metric({ part: 'latency', model: id, context: t, batch: b, stepMs: fastest });
        progress.tick(1, `${id} T=${t}: ${fastest.toFixed(0)} ms`);
      } finally {
        tf.dispose([x.inputs, x.targets]);
        opt.dispose();
        model.dispose();
      }
    }
  }
  return { contexts: contexts.slice(), tokensPerBatch, chunkSize: config.model.chunkSize, stepMs };
}

async function evalLoss(model: LM, windows: { inputs: tf.Tensor2D; targets: tf.Tensor2D }[]): Promise<number> {
  let sum = 0;
  for (const w of windows) {
    const l = tf.tidy(() => model.loss(w.inputs, w.targets));
    sum += (await l.data())[0];
    l.dispose();
  }
  return sum / windows.length;
}

const STEP_KEY: Record<ModelId, keyof FlashConfig['train']['steps']> = { transformer: 'transformer', 'flash-quad': 'flashQuad', flash: 'flash' };

async function runTraining(config: FlashConfig, ctx: RunContext, train: Uint8Array, validation: Uint8Array): Promise<FlashResult['train']> {
  const tr = config.train;
  const t = tr.context;
  // Fixed validation windows, shared by the three models; evaluated batchSize windows at a time.
  const evalStream = ctx.rng.stream('eval-windows');
  const windows: { inputs: tf.Tensor2D; targets: tf.Tensor2D }[] = [];
  for (let left = tr.evalWindows; left > 0; left -= tr.batchSize) {
    const b = Math.min(left, tr.batchSize);
    windows.push(tensors(sampleTextBatch(validation, b, t, evalStream), b, t));
  }
  const curves = {} as Record<ModelId, EvalPoint[]>;
  const total = MODEL_IDS.reduce((n, id) => n + tr.steps[STEP_KEY[id]], 0);
  const progress = ctx.progress(`flash training (context ${t})`, total);
  try {
    for (const id of MODEL_IDS) {
      const steps = tr.steps[STEP_KEY[id]];
      const model = buildModel(id, config.model, ctx.rng);
      const opt = tf.train.adam(tr.learningRate);
      // Every model sees the same batches in the same order.
      const data = ctx.rng.stream('train-batches');
      const curve: EvalPoint[] = [{ step: 0, seconds: 0, valLoss: await evalLoss(model, windows), trainLoss: null }];
      let seconds = 0;
      try {
        let step = 0;
        while (step < steps) {
          const segment = Math.min(tr.evalEvery, steps - step);
          const t0 = performance.now();
          let last: tf.Scalar | undefined;
          for (let i = 0; i < segment; i++) {
            const x = tensors(sampleTextBatch(train, tr.batchSize, t, data), tr.batchSize, t);
            last?.dispose();
            last = trainStep(opt, model.vars, () => model.loss(x.inputs, x.targets));
            tf.dispose([x.inputs, x.targets]);
          }
          const trainLoss = (await last!.data())[0]; // waits for the device: the segment's time is complete
          last!.dispose();
          seconds += (performance.now() - t0) / 1000;
          step += segment;
          const point: EvalPoint = { step, seconds, valLoss: await evalLoss(model, windows), trainLoss };
          curve.push(point);
          ctx.metric({ part: 'train', model: id, ...point });
          progress.tick(segment, `${id} step ${step}: val ${point.valLoss.toFixed(3)}`);
        }
      } finally {
        opt.dispose();
        model.dispose();
      }
      curves[id] = curve;
    }
  } finally {
    for (const w of windows) tf.dispose([w.inputs, w.targets]);
  }
  return { context: t, curves };
}

export async function run(config: FlashConfig, ctx: RunContext): Promise<FlashResult> {
  const corpus = loadSotu();
  const params = {} as Record<ModelId, number>;
  for (const id of MODEL_IDS) {
    const m = buildModel(id, config.model, ctx.rng);
    params[id] = m.paramCount;
    m.dispose();
  }
  ctx.log(`flash: parameters ${MODEL_IDS.map((id) => `${id} ${(params[id] / 1e6).toFixed(2)}M`).join(', ')}`);
  const latency = await runLatency(config, ctx, corpus.train);
  const train = await runTraining(config, ctx, corpus.train, corpus.validation);
  return { latency, params, train };
}
