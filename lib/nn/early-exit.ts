/**
 * CALM's early-exit decoder (Schuster et al., NeurIPS 2022, arXiv:2207.07061), built from
 * the shared Transformer++ pieces in ./transformer.
 *
 * - One output head (final RMSNorm + dense) is shared by every layer, so any layer can
 *   predict the next token. Training minimises a weighted average of the per-layer
 *   cross-entropies with weights w_l = l / sum(1..L) (official t5x `aggregation_weights=1`).
 * - Greedy decoding exits at the first layer whose confidence reaches the threshold.
 *   The layers skipped for that token still get key/value entries: the exit layer's hidden
 *   state is fed to each skipped layer, which computes its own K/V projections from it
 *   (official "state propagation"), so later tokens that go deeper can attend back.
 * - Confidence measures: softmax response (top-1 minus top-2 probability), hidden-state
 *   saturation (cosine between consecutive layers; 0 at the first layer, as the official
 *   code does, since there is no previous state) and a small trained early-exit classifier
 *   (one linear unit on the normalised hidden state, shared by all layers).
 *
 * Two decoders share every op: `decodeEarlyExit` really skips layers (batch 1, one
 * device read per layer: what we time), and `decodeBatch` simulates the same decisions for
 * many (prompt, threshold) rows at once with masks (what calibration needs). Exit decisions
 * never read the clock.
 */
import * as tf from '@tensorflow/tfjs';
import { UsageError, listChoices } from '../core/errors';
import type { RunRng } from '../core/rng';
import { applyRope, embedTokens, gluFeedForward, mergeHeads, softmaxAttention, splitHeads, transformerBlock, TransformerLM, type BlockParams, type TransformerLMConfig } from './transformer';
import { ParamStore, applyDense, rmsNorm, type Dense } from './layers';
import { crossEntropy } from './training';

export type ConfidenceMeasure = 'softmax' | 'state' | 'classifier';
export const CONFIDENCE_MEASURES: readonly ConfidenceMeasure[] = ['softmax', 'state', 'classifier'];

export function checkMeasure(m: string): ConfidenceMeasure {
  if (!(CONFIDENCE_MEASURES as readonly string[]).includes(m)) throw new UsageError(`unknown confidence measure '${m}'; valid measures: ${listChoices(CONFIDENCE_MEASURES)}`);
  return m as ConfidenceMeasure;
}

/** Per-layer loss weights w_l = l / sum_j j, l = 1..depth (grow with depth, sum to 1). */
export function depthWeights(depth: number): number[] {
  const total = (depth * (depth + 1)) / 2;
  return Array.from({ length: depth }, (_, i) => (i + 1) / total);
}

/** CALM's decaying threshold at output position t of maxLen: 0.9 λ + 0.1 λ exp(-temp t / maxLen). */
export function decayedThreshold(lambda: number, t: number, maxLen: number, temp = 4): number {
  return 0.9 * lambda + 0.1 * lambda * Math.exp((-temp * t) / maxLen);
}

/** Softmax response: p_top1 - p_top2 for logits [B, V] -> [B]. */
export function softmaxResponse(logits: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const { values } = tf.topk(tf.softmax(logits, -1), 2);
    const [a, b] = tf.split(values, 2, -1);
    return a.sub(b).reshape([-1]) as tf.Tensor1D;
  });
}

/** Hidden-state saturation: cosine(prev, cur) per row of [B, D] -> [B], clipped to [-1, 1]. */
export function stateSaturation(prev: tf.Tensor2D, cur: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const dot = prev.mul(cur).sum(-1);
    const norms = prev.square().sum(-1).mul(cur.square().sum(-1)).sqrt().add(1e-12);
    return dot.div(norms).clipByValue(-1, 1) as tf.Tensor1D;
  });
}

/** Key/value entries of one layer: [B, H, S, dh]. */
export interface LayerKV {
  k: tf.Tensor4D;
  v: tf.Tensor4D;
}

/** One K/V cache per layer; appending disposes the previous tensors. */
export class KVCache {
  readonly layers: (LayerKV | undefined)[];
  constructor(depth: number) {
    this.layers = new Array(depth).fill(undefined);
  }
  /** Sequence length held by layer `l` (0 when empty). */
  length(l: number): number {
    return this.layers[l]?.k.shape[2] ?? 0;
  }
  append(l: number, k: tf.Tensor4D, v: tf.Tensor4D): void {
    const old = this.layers[l];
    if (!old) {
      this.layers[l] = { k: tf.keep(k.clone()), v: tf.keep(v.clone()) };
      return;
    }
    this.layers[l] = tf.tidy(() => ({ k: tf.keep(tf.concat([old.k, k], 2) as tf.Tensor4D), v: tf.keep(tf.concat([old.v, v], 2) as tf.Tensor4D) }));
    old.k.dispose();
    old.v.dispose();
  }
  dispose(): void {
    for (const kv of this.layers) {
      kv?.k.dispose();
      kv?.v.dispose();
    }
    this.layers.fill(undefined);
  }
}

/** K and V of a block's input x [B, T, D] at positions offset..offset+T-1 (RoPE on K). */
export function projectKV(x: tf.Tensor, p: BlockParams, offset: number): { k: tf.Tensor4D; v: tf.Tensor4D } {
  return tf.tidy(() => {
    const h = rmsNorm(x, p.norm1);
    const k = applyRope(splitHeads(applyDense(h, p.attn.k), p.attn.heads), offset) as tf.Tensor4D;
    const v = splitHeads(applyDense(h, p.attn.v), p.attn.heads) as tf.Tensor4D;
    return { k, v };
  });
}

/**
 * transformerBlock with a K/V cache: x [B, T, D] holds the tokens at positions
 * offset..offset+T-1 and attends causally to `past` (positions 0..offset-1) and to itself.
 * Returns the block output and the new K/V entries (the caller appends them).
 */
export function cachedBlock(x: tf.Tensor, p: BlockParams, past: LayerKV | undefined, offset: number): { out: tf.Tensor3D; k: tf.Tensor4D; v: tf.Tensor4D } {
  return tf.tidy(() => {
    const h = rmsNorm(x, p.norm1);
    const q = applyRope(splitHeads(applyDense(h, p.attn.q), p.attn.heads), offset);
    const k = applyRope(splitHeads(applyDense(h, p.attn.k), p.attn.heads), offset) as tf.Tensor4D;
    const v = splitHeads(applyDense(h, p.attn.v), p.attn.heads) as tf.Tensor4D;
    const kAll = past ? tf.concat([past.k, k], 2) : k;
    const vAll = past ? tf.concat([past.v, v], 2) : v;
    // A single query sits at the end of the keys and sees all of them: no mask needed.
    const att = softmaxAttention(q, kAll, vAll, { causal: (x.shape[1] ?? 1) > 1 });
    const h2 = x.add(applyDense(mergeHeads(att), p.attn.o));
    const out = h2.add(gluFeedForward(rmsNorm(h2, p.norm2), p.ffn)) as tf.Tensor3D;
    return { out, k, v };
  });
}

export interface EarlyExitTrace {
  /** Generated token ids. */
  tokens: number[];
  /** Layers computed for each generated token (1..depth). */
  exitLayers: number[];
}

export interface EarlyExitOptions {
  measure: ConfidenceMeasure;
  /** λ: exit at the first layer whose confidence >= the (decayed) threshold; > 1 never exits early. */
  threshold: number;
  maxNewTokens: number;
  /** Decay the threshold over the output position (official `position_adjusted_threshold`). */
  decay: boolean;
  /** Temperature of the decay (official `position_temp = 4`). */
  positionTemp?: number;
}

/**
 * A decoder LM whose every layer can exit through the shared head: the shared
 * Transformer++ (same parameters, same names) plus an exit classifier.
 */
export class EarlyExitLM extends TransformerLM {
  /** The exit classifier lives in its own store: it is trained after the LM, with the LM frozen. */
  readonly classifierStore: ParamStore;
  readonly exitClassifier: Dense;

  constructor(config: TransformerLMConfig, rng: RunRng, name = 'calm') {
    super(config, rng, name);
    this.classifierStore = new ParamStore(rng, `${name}-exit-classifier`);
    this.exitClassifier = this.classifierStore.dense('exit', config.width, 1, { bias: true });
  }

  get depth(): number {
    return this.config.depth;
  }

  /** Shared head: logits of hidden states [..., D] -> [..., V]. */
  logits(h: tf.Tensor): tf.Tensor {
    return tf.tidy(() => applyDense(rmsNorm(h, this.finalNorm), this.head));
  }

  /** Exit-classifier probability that this layer's prediction already equals the last layer's: [..., D] -> [...]. */
  classifierProb(h: tf.Tensor): tf.Tensor {
    return tf.tidy(() => tf.sigmoid(this.classifierLogit(h)));
  }

  private classifierLogit(h: tf.Tensor): tf.Tensor {
    return tf.tidy(() => applyDense(rmsNorm(h, this.finalNorm), this.exitClassifier).squeeze([-1]));
  }

  /** Teacher-forced hidden state after every block: depth tensors [B, T, D]. */
  hiddenStates(tokens: tf.Tensor2D): tf.Tensor3D[] {
    return tf.tidy(() => {
      const out: tf.Tensor3D[] = [];
      let x = embedTokens(tokens, this.embedding);
      for (const block of this.blocks) {
        x = transformerBlock(x, block, { causal: true, rope: true });
        out.push(x as tf.Tensor3D);
      }
      return out;
    });
  }

  /** Weighted average of the per-layer cross-entropies (weights grow with depth). */
  override loss(inputs: tf.Tensor2D, targets: tf.Tensor2D): tf.Scalar {
    return tf.tidy(() => {
      const w = depthWeights(this.depth);
      const hs = this.hiddenStates(inputs);
      let total: tf.Tensor = tf.scalar(0);
      hs.forEach((h, l) => {
        total = total.add(crossEntropy(this.logits(h), targets).mul(w[l]));
      });
      return total as tf.Scalar;
    });
  }

  /** Cross-entropy of every layer's prediction (nats), teacher-forced (async: webgpu has no dataSync). */
  async layerLosses(inputs: tf.Tensor2D, targets: tf.Tensor2D): Promise<number[]> {
    const losses = tf.tidy(() => tf.stack(this.hiddenStates(inputs).map((h) => crossEntropy(this.logits(h), targets))));
    const v = Array.from(await losses.data());
    losses.dispose();
    return v;
  }

  /**
   * Loss of the exit classifier on frozen hidden states (depth tensors [B, T, D], e.g. from
   * hiddenStates): label 1 where layer l's argmax equals the last layer's, binary
   * cross-entropy balanced between the two labels per layer, averaged over layers 1..L-1
   * (official `loss_fn_meta_cls`). Each layer's weighted sum is divided by the token count,
   * the same for every layer, as the official code divides by its one
   * loss_normalizing_factor; dividing by the layer's own weight sum (2 pos neg / n, as this
   * did before the PyTorch twin caught it) re-weighted the layers by n^2 / (2 pos neg):
   * a layer with a single positive counted ~n/4 times more than a balanced one.
   */
  classifierLoss(hidden: tf.Tensor3D[]): tf.Scalar {
    return tf.tidy(() => {
      const top = this.logits(hidden[hidden.length - 1]).argMax(-1);
      const losses: tf.Tensor[] = [];
      for (let l = 0; l < hidden.length - 1; l++) {
        const labels = this.logits(hidden[l]).argMax(-1).equal(top).toFloat();
        const n = labels.size;
        const pos = labels.sum();
        // weight of a positive = share of negatives and vice versa (so both classes count equally)
        const posW = tf.scalar(n).sub(pos).div(n);
        const negW = pos.div(n);
        const weights = labels.mul(posW).add(tf.scalar(1).sub(labels).mul(negW));
        const logit = this.classifierLogit(hidden[l]);
        const bce = tf.losses.sigmoidCrossEntropy(labels, logit, weights, 0, tf.Reduction.NONE);
        losses.push(bce.sum().div(n));
      }
      return tf.addN(losses).div(losses.length) as tf.Scalar;
    });
  }

  /** Runs equal-length prompts [B][T] through every layer after what `cache` holds, filling it. */
  prefill(prompts: number[][], cache: KVCache): void {
    tf.tidy(() => {
      let x: tf.Tensor = embedTokens(tf.tensor2d(prompts, undefined, 'int32'), this.embedding);
      this.blocks.forEach((block, l) => {
        const { out, k, v } = cachedBlock(x, block, cache.layers[l], cache.length(l));
        cache.append(l, k, v);
        x = out;
      });
    });
  }

  override dispose(): void {
    super.dispose();
    this.classifierStore.dispose();
  }
}

function checkPrompt(prompt: number[], maxNew: number): void {
  if (prompt.length < 1) throw new UsageError('early-exit decoding needs a prompt of at least one token');
  if (!Number.isInteger(maxNew) || maxNew < 1) throw new UsageError(`maxNewTokens must be a positive integer, got ${maxNew}`);
}

/**
 * Greedy decoding of one prompt with real early exit: layers above the exit layer are
 * not computed, only their K/V entries (from the exit layer's hidden state).
 * The prompt (all but its last token) is prefilled by the full model; every generated token
 * is decided by an early-exit step.
 */
export async function decodeEarlyExit(lm: EarlyExitLM, prompt: number[], opts: EarlyExitOptions): Promise<EarlyExitTrace> {
  checkPrompt(prompt, opts.maxNewTokens);
  const depth = lm.depth;
  const cache = new KVCache(depth);
  const tokens: number[] = [];
  const exitLayers: number[] = [];
  try {
    if (prompt.length > 1) lm.prefill([prompt.slice(0, -1)], cache);
    let current = prompt[prompt.length - 1];
    for (let t = 0; t < opts.maxNewTokens; t++) {
      const pos = cache.length(0);
      // Compared in float32, like the batched simulation.
      const lambda = Math.fround(opts.decay ? decayedThreshold(opts.threshold, t, opts.maxNewTokens, opts.positionTemp ?? 4) : opts.threshold);
      let x: tf.Tensor = tf.tidy(() => embedTokens(tf.tensor2d([[current]], [1, 1], 'int32'), lm.embedding));
      let exitLogits: tf.Tensor | undefined;
      let exitLayer = depth;
      for (let l = 0; l < depth; l++) {
        const { out, k, v } = cachedBlock(x, lm.blocks[l], cache.layers[l], pos);
        cache.append(l, k, v);
        k.dispose();
        v.dispose();
        const prev = x;
        x = out;
        if (l === depth - 1) {
          prev.dispose();
          break;
        }
        let conf: tf.Tensor1D;
        if (opts.measure === 'softmax') {
          const h = x;
          exitLogits = tf.tidy(() => lm.logits(h.reshape([1, -1])));
          conf = softmaxResponse(exitLogits as tf.Tensor2D);
        } else if (opts.measure === 'state') {
          const h = x;
          conf = l === 0 ? tf.zeros([1]) : tf.tidy(() => stateSaturation(prev.reshape([1, -1]) as tf.Tensor2D, h.reshape([1, -1]) as tf.Tensor2D));
        } else {
          const h = x;
          conf = tf.tidy(() => lm.classifierProb(h.reshape([1, -1])).reshape([-1]) as tf.Tensor1D);
        }
        prev.dispose();
        const c = (await conf.data())[0];
        conf.dispose();
        if (c >= lambda) {
          exitLayer = l + 1;
          break;
        }
        exitLogits?.dispose();
        exitLogits = undefined;
      }
      // State propagation: the skipped layers compute K/V from the exit layer's hidden state.
      for (let l = exitLayer; l < depth; l++) {
        const { k, v } = projectKV(x, lm.blocks[l], pos);
        cache.append(l, k, v);
        k.dispose();
        v.dispose();
      }
      const h = x;
      const logits = exitLogits ?? tf.tidy(() => lm.logits(h.reshape([1, -1])));
      const next = tf.tidy(() => logits.argMax(-1));
      current = (await next.data())[0];
      next.dispose();
      logits.dispose();
      x.dispose();
      tokens.push(current);
      exitLayers.push(exitLayer);
    }
  } finally {
    cache.dispose();
  }
  return { tokens, exitLayers };
}

/** Plain greedy decoding with a K/V cache and every layer: the fair full-model baseline. */
export async function decodeFull(lm: EarlyExitLM, prompt: number[], maxNewTokens: number): Promise<EarlyExitTrace> {
  checkPrompt(prompt, maxNewTokens);
  const depth = lm.depth;
  const cache = new KVCache(depth);
  const tokens: number[] = [];
  try {
    if (prompt.length > 1) lm.prefill([prompt.slice(0, -1)], cache);
    let current = prompt[prompt.length - 1];
    for (let t = 0; t < maxNewTokens; t++) {
      const pos = cache.length(0);
      const next = tf.tidy(() => {
        let x: tf.Tensor = embedTokens(tf.tensor2d([[current]], [1, 1], 'int32'), lm.embedding);
        for (let l = 0; l < depth; l++) {
          const { out, k, v } = cachedBlock(x, lm.blocks[l], cache.layers[l], pos);
          cache.append(l, k, v);
          x = out;
        }
        return lm.logits(x.reshape([1, -1])).argMax(-1);
      });
      current = (await next.data())[0];
      next.dispose();
      tokens.push(current);
    }
  } finally {
    cache.dispose();
  }
  return { tokens, exitLayers: tokens.map(() => depth) };
}

export interface BatchDecodeOptions {
  /** 'none' runs every layer (the full model). */
  measure: ConfidenceMeasure | 'none';
  /** One λ per row (ignored for 'none'). */
  thresholds?: number[];
  maxNewTokens: number;
  decay: boolean;
  positionTemp?: number;
}

/**
 * The decisions of `decodeEarlyExit` for many rows at once (equal-length prompts, one λ
 * per row), simulated with masks: every layer is computed for every row, but a row that
 * has exited feeds its exit hidden state to the layers above (so their K/V entries are the
 * propagated state, as in the real decoder) and its logits come from the exit layer.
 * Same ops row by row, so the tokens and exit layers match the real decoder (bit-exactly
 * on the cpu backend; see the tests). For calibration, not for timing.
 */
export async function decodeBatch(lm: EarlyExitLM, prompts: number[][], opts: BatchDecodeOptions): Promise<EarlyExitTrace[]> {
  const b = prompts.length;
  if (b === 0) return [];
  const plen = prompts[0].length;
  for (const p of prompts) {
    checkPrompt(p, opts.maxNewTokens);
    if (p.length !== plen) throw new UsageError(`decodeBatch needs prompts of equal length, got ${plen} and ${p.length}`);
  }
  if (opts.measure !== 'none' && (!opts.thresholds || opts.thresholds.length !== b)) {
    throw new UsageError(`decodeBatch: give one threshold per prompt (${b}), got ${opts.thresholds?.length ?? 0}`);
  }
  const depth = lm.depth;
  const d = lm.config.width;
  const cache = new KVCache(depth);
  const tokenSteps: tf.Tensor1D[] = [];
  const layerSteps: tf.Tensor1D[] = [];
  try {
    if (plen > 1) lm.prefill(prompts.map((p) => p.slice(0, -1)), cache);
    let current: tf.Tensor1D = tf.tensor1d(prompts.map((p) => p[p.length - 1]), 'int32');
    for (let t = 0; t < opts.maxNewTokens; t++) {
      const pos = cache.length(0);
      const step = tf.tidy(() => {
        const lambda =
          opts.measure === 'none'
            ? undefined
            : tf.tensor1d((opts.thresholds as number[]).map((th) => (opts.decay ? decayedThreshold(th, t, opts.maxNewTokens, opts.positionTemp ?? 4) : th)));
        let x = embedTokens(current.reshape([b, 1]), lm.embedding) as tf.Tensor3D;
        let frozen = tf.zeros([b], 'bool') as tf.Tensor1D;
        let hExit = tf.zerosLike(x) as tf.Tensor3D;
        let exitLayer = tf.fill([b], depth, 'int32') as tf.Tensor1D;
        for (let l = 0; l < depth; l++) {
          const frozen3 = frozen.reshape([b, 1, 1]).tile([1, 1, d]);
          const xin = tf.where(frozen3, hExit, x);
          const { out, k, v } = cachedBlock(xin, lm.blocks[l], cache.layers[l], pos);
          cache.append(l, k, v);
          if (l === depth - 1 || !lambda) {
            x = out;
            continue;
          }
          let conf: tf.Tensor1D;
          if (opts.measure === 'softmax') conf = softmaxResponse(lm.logits(out.reshape([b, d])) as tf.Tensor2D);
          else if (opts.measure === 'state') conf = l === 0 ? tf.zeros([b]) : stateSaturation(xin.reshape([b, d]) as tf.Tensor2D, out.reshape([b, d]) as tf.Tensor2D);
          else conf = lm.classifierProb(out.reshape([b, d])).reshape([b]) as tf.Tensor1D;
          const exitNow = tf.logicalAnd(tf.logicalNot(frozen), conf.greaterEqual(lambda));
          hExit = tf.where(exitNow.reshape([b, 1, 1]).tile([1, 1, d]), out, hExit) as tf.Tensor3D;
          exitLayer = tf.where(exitNow, tf.fill([b], l + 1, 'int32'), exitLayer) as tf.Tensor1D;
          frozen = tf.logicalOr(frozen, exitNow) as tf.Tensor1D;
          x = out;
        }
        const final = tf.where(frozen.reshape([b, 1, 1]).tile([1, 1, d]), hExit, x);
        const next = lm.logits(final.reshape([b, d])).argMax(-1).toInt() as tf.Tensor1D;
        return { next, exitLayer };
      });
      current.dispose();
      current = step.next;
      tokenSteps.push(tf.keep(step.next.clone()));
      layerSteps.push(step.exitLayer);
    }
    current.dispose();
    const tok = tf.stack(tokenSteps, 1);
    const lay = tf.stack(layerSteps, 1);
    const [tv, lv] = await Promise.all([tok.data(), lay.data()]);
    tok.dispose();
    lay.dispose();
    const n = opts.maxNewTokens;
    return prompts.map((_, r) => ({ tokens: Array.from(tv.subarray(r * n, (r + 1) * n)), exitLayers: Array.from(lv.subarray(r * n, (r + 1) * n)) }));
  } finally {
    cache.dispose();
    for (const t of tokenSteps) t.dispose();
    for (const t of layerSteps) t.dispose();
  }
}
