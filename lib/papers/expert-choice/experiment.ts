/**
 * One seed of the expert-choice paper: a pure function of (config, ctx.seed).
 *
 * For each router: a TransformerLM with an MoE feed-forward in blocks 1, 3, ... is
 * trained from the same initial weights (same seed, same parameter names) on the same
 * batches (same named data stream), so the routers differ only in routing.
 * Routing statistics are kept as tensors every step and read back at evaluations (no
 * per-step readback: webgpu has no dataSync).
 *
 * Causal decoding and expert choice: an expert picks its top-C tokens of a group (here
 * groupSize tokens = whole sequences), so whether a token is processed depends on the
 * router scores of LATER tokens of its sequence — information from the future (the
 * paper's stated limitation; flaxformer: "should not be used in decoder blocks").
 * Training and the main validation loss use this group routing for every router, as
 * the paper does. In addition, expert choice is evaluated with prefix-safe threshold
 * routing: token t uses expert e iff p(t, e) >= theta_e, theta_e = the C-th largest
 * probability of expert e in training groups (mean over the last tailFraction of
 * steps). Each token's routing then depends on itself only; the gap between the two
 * validation losses bounds what the look-ahead was worth.
 */
import * as tf from '@tensorflow/tfjs';
import { loadSotu, sampleTextBatch } from '../../data/text';
import {
  createMoe,
  expertCapacity,
  moeForward,
  ROUTERS,
  summarizeLoad,
  tokenChoiceK,
  uniformExpertChoiceHistogram,
  uniformTokenChoiceStep,
  type MoeParams,
  type MoeRouting,
  type RouterKind,
} from '../../nn/moe';
import { TransformerLM } from '../../nn/transformer';
import { ParamStore } from '../../nn/layers';
import { crossEntropy, setLearningRate, trainStep } from '../../nn/training';
import type { RunContext } from '../../harness/contract';
import type { ExpertChoiceConfig } from './config';
import { configCheck } from '../../harness/validate';

export interface LoadCurve {
  step: number[];
  /** max / mean over experts of the assignments requested (token choice: before capacity), mean over MoE layers. */
  demandMaxOverMean: number[];
  /** max / mean over experts of the tokens processed, mean over MoE layers. */
  processedMaxOverMean: number[];
  /** Coefficient of variation over experts of the requested assignments, mean over MoE layers. */
  demandCv: number[];
  processedCv: number[];
  /** Fraction of requested assignments dropped for capacity. */
  dropped: number[];
  /** Fraction of tokens processed by no expert. */
  noExpert: number[];
}

export interface RouterRun {
  router: RouterKind;
  valSteps: number[];
  valLoss: number[];
  /** Training loss (cross-entropy only) at the evaluation steps. */
  trainLoss: number[];
  load: LoadCurve;
  /** Fractions of tokens processed by 0..E experts (sum 1), over MoE layers and the last tailFraction of steps. */
  expertsPerToken: number[];
  /** Expert choice only: validation loss with prefix-safe threshold routing, and its routing stats. */
  thresholdValLoss: number | null;
  thresholdExpertsPerToken: number[] | null;
  /** max/mean over experts of the tokens processed under threshold routing (balanced only in expectation). */
  thresholdLoadMaxOverMean: number | null;
}

/** A per-step statistic of the uniform-routing null: its mean and 95th percentile over simulated steps. */
export interface NullStat {
  mean: number;
  p95: number;
}

/** Per-step routing statistics of a token-choice router that ignores its tokens (see uniformTokenChoiceStep). */
export interface TokenChoiceNull {
  demandMaxOverMean: NullStat;
  dropped: NullStat;
  noExpert: NullStat;
}

/**
 * Uniform random routing of the same tokens per step, in the same groups, over the same
 * experts, capacity and MoE layers as the trained routers (each statistic a mean over the
 * MoE layers, as the learned routers' are): the null the load claims are judged against.
 */
export interface UniformNull {
  steps: number;
  top1: TokenChoiceNull;
  top2: TokenChoiceNull;
  /** Expert choice: exact P(a token has 0..E experts), Binomial(E, C/G). */
  expertChoiceHistogram: number[];
}

/** Expert choice and top-2 trained again at another number of experts (everything else equal). */
export interface SweepPoint {
  experts: number;
  capacity: number;
  runs: Partial<Record<RouterKind, RouterRun>>;
}

export interface ExpertChoiceResult {
  tokensPerStep: number;
  capacity: number;
  moeLayers: number[];
  params: { total: number; activePerTokenFfn: number };
  runs: Partial<Record<RouterKind, RouterRun>>;
  uniformNull: UniformNull;
  sweep: SweepPoint[];
}

export function validateConfig(c: ExpertChoiceConfig): void {
  const tokens = c.batchSize * c.seqLen;
  configCheck('expert-choice', c)
    .integers(['width', 'depth', 'heads', 'ffnHidden', 'experts', 'groupSize', 'batchSize', 'seqLen', 'steps', 'evalEvery', 'evalBatches'])
    .integers(['depth'], { min: 2 })
    .evenHeads('width', 'heads')
    .oneOf('routers', ROUTERS)
    .require(tokens % c.groupSize === 0 && c.groupSize % c.seqLen === 0, 'groupSize', `a multiple of seqLen=${c.seqLen} that divides batchSize*seqLen=${tokens}`)
    .numbers(['capacityFactor', 'learningRate'])
    .numbers(['auxLossWeight'], { min: 0 })
    .numbers(['tailFraction'], { above: 0, max: 1 })
    .integers(['warmupSteps'], { min: 0 })
    .integers(['nullSteps'], { min: 20 })
    .list('expertsSweep', { min: 2 }, { integer: true, increasing: true, allowEmpty: true });
}

/** Linear-interpolation quantile (type 7) of `values`, q in [0, 1]. */
export function quantile(values: readonly number[], q: number): number {
  const v = [...values].sort((a, b) => a - b);
  const h = (v.length - 1) * q;
  const lo = Math.floor(h);
  return lo + 1 < v.length ? v[lo] + (h - lo) * (v[lo + 1] - v[lo]) : v[lo];
}

/** The uniform-routing null of this config (seeded stream per router; nothing else draws from them). */
export function uniformNull(config: ExpertChoiceConfig, ctx: RunContext): UniformNull {
  const tokens = config.batchSize * config.seqLen;
  const cap = expertCapacity(config.groupSize, config.experts, config.capacityFactor);
  const layers = moeLayerIndices(config.depth).length;
  const progress = ctx.progress('uniform-routing null', 2 * config.nullSteps);
  const simulate = (router: 'top1' | 'top2'): TokenChoiceNull => {
    const stream = ctx.rng.stream(`null/uniform-routing/${router}`);
    const k = tokenChoiceK(router, config.experts);
    const per = { demandMaxOverMean: [] as number[], dropped: [] as number[], noExpert: [] as number[] };
    for (let i = 0; i < config.nullSteps; i++) {
      const steps = Array.from({ length: layers }, () => uniformTokenChoiceStep(tokens, config.groupSize, config.experts, k, cap, stream));
      per.demandMaxOverMean.push(mean(steps.map((x) => x.demandMaxOverMean)));
      per.dropped.push(mean(steps.map((x) => x.droppedAssignments)));
      per.noExpert.push(mean(steps.map((x) => x.tokensWithNoExpert)));
      progress.tick(1);
    }
    const stat = (v: number[]): NullStat => ({ mean: mean(v), p95: quantile(v, 0.95) });
    return { demandMaxOverMean: stat(per.demandMaxOverMean), dropped: stat(per.dropped), noExpert: stat(per.noExpert) };
  };
  return { steps: config.nullSteps, top1: simulate('top1'), top2: simulate('top2'), expertChoiceHistogram: uniformExpertChoiceHistogram(config.groupSize, config.experts, cap) };
}

/** Blocks that hold an MoE feed-forward: every other one, starting at block 1. */
export function moeLayerIndices(depth: number): number[] {
  return Array.from({ length: depth }, (_, i) => i).filter((i) => i % 2 === 1);
}

interface Model {
  lm: TransformerLM;
  moeStore: ParamStore;
  moe: Map<number, MoeParams>;
  trainable: tf.Variable[];
}

function buildModel(config: ExpertChoiceConfig, router: RouterKind, ctx: RunContext): Model {
  const lm = new TransformerLM({ vocab: 256, width: config.width, depth: config.depth, heads: config.heads, ffnHidden: config.ffnHidden }, ctx.rng, 'lm');
  // Same store prefix and names for every router: identical initial experts and router weights.
  const moeStore = new ParamStore(ctx.rng, 'moe');
  const moe = new Map<number, MoeParams>();
  for (const l of moeLayerIndices(config.depth)) {
    moe.set(l, createMoe(moeStore, `block${l}`, { width: config.width, hidden: config.ffnHidden, experts: config.experts, router, capacityFactor: config.capacityFactor, groupSize: config.groupSize }));
  }
  // The dense GLUs of MoE blocks are never used: leave them out of the optimiser.
  const unused = new Set<tf.Variable>();
  for (const l of moe.keys()) for (const d of [lm.blocks[l].ffn.gate, lm.blocks[l].ffn.up, lm.blocks[l].ffn.down]) unused.add(d.w);
  const trainable = [...lm.store.variables.filter((v) => !unused.has(v)), ...moeStore.variables];
  return { lm, moeStore, moe, trainable };
}

/** Per-step routing stats of every MoE layer, concatenated: [layers, 3E + 1 + E] = processed | demand | histogram(E+1) | kthProb. */
function packStats(parts: { processed: tf.Tensor; demand: tf.Tensor; hist: tf.Tensor; kth: tf.Tensor }[]): tf.Tensor2D {
  return tf.stack(parts.map((p) => tf.concat([p.processed, p.demand, p.hist, p.kth]))) as tf.Tensor2D;
}

/** Forward with the MoE hook: logits, summed aux loss and packed stats. */
function forward(model: Model, inputs: tf.Tensor2D, routing: (layer: number) => MoeRouting, experts: number): { logits: tf.Tensor3D; aux: tf.Scalar; stats: tf.Tensor2D } {
  const parts: { processed: tf.Tensor; demand: tf.Tensor; hist: tf.Tensor; kth: tf.Tensor }[] = [];
  const auxes: tf.Scalar[] = [];
  const { logits } = model.lm.forward(inputs, {
    ffn: (layer, h) => {
      const p = model.moe.get(layer);
      if (!p) return undefined;
      const o = moeForward(h, p, routing(layer));
      // Kept so they outlive the forward's tidy; the caller's scope disposes them.
      parts.push({ processed: tf.keep(o.stats.processed), demand: tf.keep(o.stats.demand), hist: tf.keep(o.stats.expertsPerToken), kth: tf.keep(o.kthProb ?? tf.zeros([experts])) });
      auxes.push(tf.keep(o.auxLoss));
      return o.y;
    },
  });
  const stats = packStats(parts);
  const aux = tf.addN(auxes) as tf.Scalar;
  tf.dispose([...parts.flatMap((p) => [p.processed, p.demand, p.hist, p.kth]), ...auxes]);
  return { logits, aux, stats };
}

function mean(a: number[]): number {
  return a.length ? a.reduce((s, x) => s + x, 0) / a.length : NaN;
}

async function trainRouter(config: ExpertChoiceConfig, router: RouterKind, ctx: RunContext, corpus: { train: Uint8Array; validation: Uint8Array }): Promise<RouterRun> {
  const { batchSize: B, seqLen: T, experts: E } = config;
  const model = buildModel(config, router, ctx);
  const layers = model.moe.size;
  const batchRouting = (): MoeRouting => ({ mode: 'batch' });
  const trainStream = ctx.rng.stream('data/train');
  const valStream = ctx.rng.stream('data/validation');
  const valBatches = Array.from({ length: config.evalBatches }, () => sampleTextBatch(corpus.validation, B, T, valStream));
  const optimizer = tf.train.adam(config.learningRate);
  const run: RouterRun = {
    router,
    valSteps: [],
    valLoss: [],
    trainLoss: [],
    load: { step: [], demandMaxOverMean: [], processedMaxOverMean: [], demandCv: [], processedCv: [], dropped: [], noExpert: [] },
    expertsPerToken: new Array<number>(E + 1).fill(0),
    thresholdValLoss: null,
    thresholdExpertsPerToken: null,
    thresholdLoadMaxOverMean: null,
  };
  const tailStart = config.steps - Math.max(1, Math.round(config.tailFraction * config.steps));
  const kthSum = Array.from({ length: layers }, () => new Array<number>(E).fill(0));
  let kthCount = 0;
  const pending: { step: number; stats: tf.Tensor2D }[] = [];
  let lastLoss: tf.Scalar | undefined;
  const progress = ctx.progress(`${router}`, config.steps);

  const evaluate = async (routing: (layer: number) => MoeRouting): Promise<{ loss: number; hist: number[]; processed: number[][] }> => {
    let sum = 0;
    const hist = new Array<number>(E + 1).fill(0);
    const processed = Array.from({ length: layers }, () => new Array<number>(E).fill(0));
    for (const vb of valBatches) {
      const [loss, stats] = tf.tidy(() => {
        const inputs = tf.tensor2d(vb.inputs, [B, T], 'int32');
        const targets = tf.tensor2d(vb.targets, [B, T], 'int32');
        const f = forward(model, inputs, routing, E);
        return [crossEntropy(f.logits, targets), f.stats];
      });
      sum += (await loss.data())[0];
      const s = (await stats.array()) as number[][];
      s.forEach((row, l) => {
        for (let e = 0; e < E; e++) processed[l][e] += row[e];
        for (let i = 0; i <= E; i++) hist[i] += row[2 * E + i];
      });
      tf.dispose([loss, stats]);
    }
    return { loss: sum / valBatches.length, hist, processed };
  };

  const drain = async () => {
    for (const { step, stats } of pending) {
      const rows = (await stats.array()) as number[][];
      stats.dispose();
      const per = rows.map((row) => summarizeLoad(row.slice(0, E), row.slice(E, 2 * E), row.slice(2 * E, 3 * E + 1)));
      const L = run.load;
      L.step.push(step);
      L.demandMaxOverMean.push(mean(per.map((p) => p.demandMaxOverMean)));
      L.processedMaxOverMean.push(mean(per.map((p) => p.maxOverMean)));
      L.demandCv.push(mean(per.map((p) => p.demandCv)));
      L.processedCv.push(mean(per.map((p) => p.processedCv)));
      L.dropped.push(mean(per.map((p) => p.droppedAssignments)));
      L.noExpert.push(mean(per.map((p) => p.tokensWithNoExpert)));
      if (step > tailStart) {
        rows.forEach((row, l) => {
          for (let i = 0; i <= E; i++) run.expertsPerToken[i] += row[2 * E + i];
          for (let e = 0; e < E; e++) kthSum[l][e] += row[3 * E + 1 + e];
        });
        kthCount++;
      }
    }
    pending.length = 0;
  };

  try {
    for (let step = 1; step <= config.steps; step++) {
      const lr = config.warmupSteps > 0 ? config.learningRate * Math.min(1, step / config.warmupSteps) : config.learningRate;
      setLearningRate(optimizer, lr);
      const batch = sampleTextBatch(corpus.train, B, T, trainStream);
      lastLoss?.dispose();
      let stepStats: tf.Tensor2D | undefined;
      let ce: tf.Scalar | undefined;
      const total = tf.tidy(() => {
        const inputs = tf.tensor2d(batch.inputs, [B, T], 'int32');
        const targets = tf.tensor2d(batch.targets, [B, T], 'int32');
        return trainStep(optimizer, model.trainable, () => {
          const f = forward(model, inputs, batchRouting, E);
          stepStats = tf.keep(f.stats);
          const c = crossEntropy(f.logits, targets);
          ce = tf.keep(c.clone());
          return c.add(f.aux.mul(config.auxLossWeight)) as tf.Scalar;
        });
      });
      total.dispose();
      lastLoss = ce;
      pending.push({ step, stats: stepStats as tf.Tensor2D });
      if (step % config.evalEvery === 0 || step === config.steps) {
        await drain();
        const ev = await evaluate(batchRouting);
        const train = (await (lastLoss as tf.Scalar).data())[0];
        run.valSteps.push(step);
        run.valLoss.push(ev.loss);
        run.trainLoss.push(train);
        ctx.metric({ router, step, valLoss: ev.loss, trainLoss: train, demandMaxOverMean: run.load.demandMaxOverMean.at(-1), dropped: run.load.dropped.at(-1) });
        progress.tick(0, `${router} val ${ev.loss.toFixed(3)}`);
      }
      progress.tick(1);
    }
    await drain();
    const totalHist = run.expertsPerToken.reduce((a, b) => a + b, 0);
    run.expertsPerToken = run.expertsPerToken.map((v) => v / totalHist);

    if (router === 'expert-choice' && kthCount > 0) {
      const layerIds = [...model.moe.keys()];
      const thresholds = kthSum.map((row) => tf.tensor1d(row.map((v) => v / kthCount)));
      try {
        const ev = await evaluate((layer) => ({ mode: 'threshold', thresholds: thresholds[layerIds.indexOf(layer)] }));
        const n = ev.hist.reduce((a, b) => a + b, 0);
        run.thresholdValLoss = ev.loss;
        run.thresholdExpertsPerToken = ev.hist.map((v) => v / n);
        run.thresholdLoadMaxOverMean = mean(ev.processed.map((row) => Math.max(...row) / mean(row)));
      } finally {
        tf.dispose(thresholds);
      }
    }
  } finally {
    lastLoss?.dispose();
    for (const p of pending) p.stats.dispose();
    optimizer.dispose();
    model.lm.dispose();
    model.moeStore.dispose();
  }
  return run;
}

/** Trains each router in turn from the same initial weights on the same batches. */
async function trainRouters(config: ExpertChoiceConfig, routers: RouterKind[], ctx: RunContext, corpus: { train: Uint8Array; validation: Uint8Array }): Promise<Partial<Record<RouterKind, RouterRun>>> {
  const runs: Partial<Record<RouterKind, RouterRun>> = {};
  for (const r of routers) {
    const t0 = performance.now();
    runs[r] = await trainRouter(config, r, ctx, corpus);
    // Wall time goes to the log and metrics only: results stay a pure function of (config, seed).
    const seconds = (performance.now() - t0) / 1000;
    ctx.log(`${r} (${config.experts} experts): ${config.steps} steps in ${seconds.toFixed(1)}s, final val loss ${runs[r]?.valLoss.at(-1)?.toFixed(4)}`);
    ctx.metric({ router: r, experts: config.experts, wallSeconds: seconds, stepsPerSecond: config.steps / seconds });
  }
  return runs;
}

export async function run(config: ExpertChoiceConfig, ctx: RunContext): Promise<ExpertChoiceResult> {
  const corpus = loadSotu();
  const lmProbe = buildParamCount(config);
  const runs = await trainRouters(config, config.routers as RouterKind[], ctx, corpus);
  const sweep: SweepPoint[] = [];
  for (const experts of config.expertsSweep) {
    const c = { ...config, experts };
    sweep.push({ experts, capacity: expertCapacity(c.groupSize, experts, c.capacityFactor), runs: await trainRouters(c, ['expert-choice', 'top2'], ctx, corpus) });
  }
  return {
    tokensPerStep: config.batchSize * config.seqLen,
    capacity: expertCapacity(config.groupSize, config.experts, config.capacityFactor),
    moeLayers: moeLayerIndices(config.depth),
    params: lmProbe,
    runs,
    uniformNull: uniformNull(config, ctx),
    sweep,
  };
}

/** Parameter counts without building tensors: total, and FFN parameters active per token in an MoE block (C-weighted). */
function buildParamCount(c: ExpertChoiceConfig): { total: number; activePerTokenFfn: number } {
  const d = c.width;
  const glu = 3 * d * c.ffnHidden;
  const moeLayers = moeLayerIndices(c.depth).length;
  const attn = 4 * d * d + 2 * d;
  const total = 256 * d * 2 + 256 + d + c.depth * attn + (c.depth - moeLayers) * glu + moeLayers * (c.experts * glu + d * c.experts);
  return { total, activePerTokenFfn: c.capacityFactor * glu };
}
