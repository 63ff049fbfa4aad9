/**
 * One seed of the FLASH reproduction: a pure function of (config, ctx.seed) for every
 * loss; step times are measurements, recorded but never used to decide what runs.
 *
 * One schedule of global steps 1..S drives every model: at each context of
 * latency.contexts a Transformer++ and a FLASH step on the same batch (FLASH-Quad too at
 * the longest context, and at the first training context for the quality claim). Models at
 * the training contexts train all S steps and are evaluated; the others are built only to
 * be timed and take their warm-up and timed steps at the end. The last `timedSteps` steps
 * are timed rounds: each round is one ctx.exclusive section in which every timed
 * contender takes one step, interleaved (context by context: Transformer++, FLASH,
 * FLASH-Quad), so each round gives paired step times measured within seconds of each other.
 */
import * as tf from '@tensorflow/tfjs';
import type { RunRng, Stream } from '../../core/rng';
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
  /** Mean next-byte cross-entropy on the context's fixed validation windows (nats). */
  valLoss: number;
  /** Training loss of this step's batch (before the update). */
  trainLoss: number;
}

/** Per-round step times (ms) of one model at one context, in round order (round k of every contender is paired). */
export interface TimedSteps {
  model: ModelId;
  context: number;
  ms: number[];
}

/** The validation curve of one model trained at one context. */
export interface TrainCurve {
  model: ModelId;
  context: number;
  points: EvalPoint[];
}

export interface FlashResult {
  latency: {
    contexts: number[];
    tokensPerBatch: number;
    /** FLASH's chunk length C (contexts <= C run as one chunk). */
    chunkSize: number;
    /** Timed rounds. */
    rounds: number;
    timed: TimedSteps[];
  };
  params: Record<ModelId, number>;
  train: {
    contexts: number[];
    /** Training steps of Transformer++ and FLASH at every training context. */
    steps: number;
    /** The context at which FLASH-Quad trained (the first training context). */
    flashQuadContext: number;
    curves: TrainCurve[];
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
    const m = new TransformerLM({ vocab: VOCAB, width: c.width, depth: c.transformerDepth, heads: c.heads, ffnHidden: c.ffnHidden }, rng, id);
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
    .list('latency.contexts', { min: 1 }, { integer: true, increasing: true })
    .integers(['latency.tokensPerBatch'])
    .integers(['latency.timedSteps'], { min: 5 })
    .integers(['latency.warmupSteps'], { min: 0 });
  for (const t of c.latency.contexts) {
    check.require(c.latency.tokensPerBatch % t === 0, 'latency.tokensPerBatch', `a multiple of every context (got ${t})`);
    effectiveChunk(t, m.chunkSize);
  }
  check
    .list('train.contexts', { min: 1 }, { integer: true, increasing: true })
    .require(c.train.contexts.every((t) => c.latency.contexts.includes(t)), 'train.contexts', `a subset of latency.contexts (${c.latency.contexts.join(', ')})`)
    .integers(['train.steps', 'train.flashQuadSteps', 'train.evalEvery', 'train.evalTokens'])
    .numbers(['train.learningRate'])
    .require(c.train.steps >= c.latency.warmupSteps + c.latency.timedSteps, 'train.steps', `at least latency.warmupSteps + latency.timedSteps = ${c.latency.warmupSteps + c.latency.timedSteps} (the last steps are the timed ones)`)
    .require(c.train.flashQuadSteps <= c.train.steps, 'train.flashQuadSteps', `at most train.steps=${c.train.steps}`);
  for (const t of c.train.contexts) check.require(c.train.evalTokens % t === 0, 'train.evalTokens', `a multiple of every training context (got ${t})`);
}

function tensors(batch: { inputs: Int32Array; targets: Int32Array }, b: number, t: number): { inputs: tf.Tensor2D; targets: tf.Tensor2D } {
  return { inputs: tf.tensor2d(batch.inputs, [b, t], 'int32'), targets: tf.tensor2d(batch.targets, [b, t], 'int32') };
}

type Batch = { inputs: tf.Tensor2D; targets: tf.Tensor2D };

/** One model at one context in the schedule: trained (evaluated) or only timed. */
interface Runner {
  model: ModelId;
  context: number;
  lm: LM;
  opt: tf.Optimizer;
  /** Global steps at which it steps: first..last. */
  first: number;
  last: number;
  timed: boolean;
  evaluated: boolean;
  ms: number[];
  points: EvalPoint[];
}

async function evalLoss(model: LM, windows: Batch[]): Promise<number> {
  let sum = 0;
  for (const w of windows) {
    const l = tf.tidy(() => model.loss(w.inputs, w.targets));
    sum += (await l.data())[0];
    l.dispose();
  }
  return sum / windows.length;
}

/** One training step, waited on until its loss is on the host; returns the loss and the wall ms. */
async function timedStep(r: Runner, x: Batch): Promise<{ loss: number; ms: number }> {
  const t0 = performance.now();
  const loss = trainStep(r.opt, r.lm.vars, () => r.lm.loss(x.inputs, x.targets));
  const v = (await loss.data())[0];
  const ms = performance.now() - t0;
  loss.dispose();
  return { loss: v, ms };
}

export async function run(config: FlashConfig, ctx: RunContext): Promise<FlashResult> {
  const corpus = loadSotu();
  const { contexts, tokensPerBatch, warmupSteps, timedSteps } = config.latency;
  const tr = config.train;
  const params = {} as Record<ModelId, number>;
  for (const id of MODEL_IDS) {
    const m = buildModel(id, config.model, ctx.rng);
    params[id] = m.paramCount;
    m.dispose();
  }
  ctx.log(`flash: parameters ${MODEL_IDS.map((id) => `${id} ${(params[id] / 1e6).toFixed(2)}M`).join(', ')}`);

  const S = tr.steps;
  const longest = contexts[contexts.length - 1];
  const quadContext = tr.contexts[0];
  const timedFrom = S - timedSteps + 1;
  const runners: Runner[] = [];
  const add = (model: ModelId, context: number, trained: boolean, timed: boolean, last = S) =>
    runners.push({
      model,
      context,
      // Same name, same initial weights: a model starts from the same point at every context.
      lm: buildModel(model, config.model, ctx.rng),
      opt: tf.train.adam(tr.learningRate),
      first: trained ? 1 : timedFrom - warmupSteps,
      last,
      timed,
      evaluated: trained,
      ms: [],
      points: [],
    });
  for (const t of contexts) {
    const trained = tr.contexts.includes(t);
    add('transformer', t, trained, true);
    add('flash', t, trained, true);
    if (t === longest) add('flash-quad', t, false, true);
  }
  add('flash-quad', quadContext, true, false, tr.flashQuadSteps);

  // Fixed validation windows per training context, shared by the models trained there.
  const windows = new Map<number, Batch[]>();
  const batchStreams = new Map<number, Stream>();
  for (const t of contexts) batchStreams.set(t, ctx.rng.stream(`train-batches/${t}`));
  for (const t of tr.contexts) {
    const stream = ctx.rng.stream(`eval-windows/${t}`);
    const ws: Batch[] = [];
    for (let left = tr.evalTokens / t; left > 0; left -= tokensPerBatch / t) {
      const b = Math.min(left, tokensPerBatch / t);
      ws.push(tensors(sampleTextBatch(corpus.validation, b, t, stream), b, t));
    }
    windows.set(t, ws);
  }

  const progress = ctx.progress(`flash: ${S} steps at contexts ${contexts.join('/')} (the last ${timedSteps} timed)`, S);
  try {
    for (let s = 1; s <= S; s++) {
      const active = runners.filter((r) => r.first <= s && s <= r.last);
      // One batch per context, shared by every model stepping at that context.
      const batches = new Map<number, Batch>();
      for (const t of contexts) {
        if (!active.some((r) => r.context === t)) continue;
        const b = tokensPerBatch / t;
        batches.set(t, tensors(sampleTextBatch(corpus.train, b, t, batchStreams.get(t) as Stream), b, t));
      }
      const losses = new Map<Runner, number>();
      const timedNow = s >= timedFrom ? active.filter((r) => r.timed) : [];
      if (timedNow.length > 0) {
        // One round: every timed contender once, interleaved, with no other job computing.
        await ctx.exclusive(`flash timed round ${s - timedFrom + 1}/${timedSteps}`, async () => {
          for (const r of timedNow) {
            const { loss, ms } = await timedStep(r, batches.get(r.context) as Batch);
            r.ms.push(ms);
            losses.set(r, loss);
          }
        });
        ctx.metric({ part: 'timing', round: s - timedFrom + 1, ms: timedNow.map((r) => ({ model: r.model, context: r.context, ms: r.ms[r.ms.length - 1] })) });
      }
      const pending: [Runner, tf.Scalar][] = [];
      for (const r of active) {
        if (losses.has(r)) continue;
        const x = batches.get(r.context) as Batch;
        pending.push([r, trainStep(r.opt, r.lm.vars, () => r.lm.loss(x.inputs, x.targets))]);
      }
      for (const [r, l] of pending) {
        if (r.evaluated && (s % tr.evalEvery === 0 || s === r.last)) losses.set(r, (await l.data())[0]);
        l.dispose();
      }
      for (const b of batches.values()) tf.dispose([b.inputs, b.targets]);
      for (const r of active) {
        if (!r.evaluated || !(s % tr.evalEvery === 0 || s === r.last)) continue;
        const point: EvalPoint = { step: s, valLoss: await evalLoss(r.lm, windows.get(r.context) as Batch[]), trainLoss: losses.get(r) as number };
        r.points.push(point);
        ctx.metric({ part: 'train', model: r.model, context: r.context, ...point });
      }
      const shown = active.filter((r) => r.evaluated && r.points.length > 0 && r.points[r.points.length - 1].step === s);
      progress.tick(1, shown.length ? shown.map((r) => `${r.model}@${r.context} ${r.points[r.points.length - 1].valLoss.toFixed(3)}`).join(', ') : `step ${s}`);
    }
  } finally {
    for (const ws of windows.values()) for (const w of ws) tf.dispose([w.inputs, w.targets]);
    for (const r of runners) {
      r.opt.dispose();
      r.lm.dispose();
    }
  }
  return {
    latency: {
      contexts: contexts.slice(),
      tokensPerBatch,
      chunkSize: config.model.chunkSize,
      rounds: timedSteps,
      timed: runners.filter((r) => r.timed).map((r) => ({ model: r.model, context: r.context, ms: r.ms })),
    },
    params,
    train: {
      contexts: tr.contexts.slice(),
      steps: S,
      flashQuadContext: quadContext,
      curves: runners.filter((r) => r.evaluated).map((r) => ({ model: r.model, context: r.context, points: r.points })),
    },
  };
}
