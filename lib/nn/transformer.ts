/**
 * Shared transformer pieces for every paper that trains a sequence model (FLASH's
 * Transformer++, the expert-choice decoder, CALM's early-exit decoder, the ranking
 * encoders): seeded parameters, RMSNorm, RoPE, materialised softmax attention, a GLU
 * feed-forward and a pre-norm decoder LM. Written once here so the papers compare
 * like with like.
 *
 * The generic pieces (ParamStore, dense, norms, GELU, cross-entropy) live in layers.ts
 * and training.ts.
 *
 * tfjs notes that shaped this file:
 * - No op here lacks a gradient on cpu/wasm/webgpu (no Einsum, no StridedSlice, no
 *   cumsum): RoPE splits halves with tf.split, masks are additive constants.
 */
import * as tf from '@tensorflow/tfjs';
import type { RunRng } from '../core/rng';
import { applyDense, gelu, ParamStore, rmsNorm, softmax, type Dense } from './layers';
import { crossEntropy } from './training';

/** cos/sin tables [T, dh/2] for positions offset..offset+T-1 (base 10000). */
export function ropeTables(seqLen: number, dim: number, offset = 0): { cos: tf.Tensor2D; sin: tf.Tensor2D } {
  if (dim % 2 !== 0) throw new Error(`RoPE needs an even dimension, got ${dim}`);
  const half = dim / 2;
  const cos = new Float32Array(seqLen * half);
  const sin = new Float32Array(seqLen * half);
  for (let t = 0; t < seqLen; t++) {
    for (let i = 0; i < half; i++) {
      const angle = (t + offset) * Math.pow(10000, -(2 * i) / dim);
      cos[t * half + i] = Math.cos(angle);
      sin[t * half + i] = Math.sin(angle);
    }
  }
  return { cos: tf.tensor2d(cos, [seqLen, half]), sin: tf.tensor2d(sin, [seqLen, half]) };
}

/**
 * Rotary position embedding, rotate-half convention: the last axis is split into
 * halves (x1, x2) -> (x1 cos - x2 sin, x2 cos + x1 sin). x is [..., T, dh].
 */
export function applyRope(x: tf.Tensor, offset = 0): tf.Tensor {
  return tf.tidy(() => {
    const t = x.shape[x.rank - 2];
    const dh = x.shape[x.rank - 1];
    const { cos, sin } = ropeTables(t, dh, offset);
    const [x1, x2] = tf.split(x, 2, -1);
    return tf.concat([x1.mul(cos).sub(x2.mul(sin)), x2.mul(cos).add(x1.mul(sin))], -1);
  });
}

/**
 * Additive causal mask [queries, keys]: 0 where the key position <= the query position,
 * -1e9 elsewhere. Queries are aligned to the END of the keys (a decoding step's query
 * sees the whole cache).
 */
export function causalMaskBias(queries: number, keys = queries): tf.Tensor2D {
  const m = new Float32Array(queries * keys);
  const shift = keys - queries;
  for (let i = 0; i < queries; i++) for (let j = i + shift + 1; j < keys; j++) m[i * keys + j] = -1e9;
  return tf.tensor2d(m, [queries, keys]);
}

/** softmax(q k^T / sqrt(dh) [+ causal mask]) v, with the [Tq, Tk] matrix materialised. */
export function softmaxAttention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, opts: { causal: boolean }): tf.Tensor {
  return tf.tidy(() => {
    const dh = q.shape[q.rank - 1];
    let scores = tf.matMul(q, k, false, true).mul(1 / Math.sqrt(dh));
    if (opts.causal) scores = scores.add(causalMaskBias(q.shape[q.rank - 2], k.shape[k.rank - 2]));
    return tf.matMul(softmax(scores), v);
  });
}

export interface AttentionParams {
  q: Dense;
  k: Dense;
  v: Dense;
  o: Dense;
  heads: number;
}

export function createAttention(store: ParamStore, name: string, width: number, heads: number): AttentionParams {
  if (width % heads !== 0) throw new Error(`attention width ${width} is not divisible by ${heads} heads`);
  return {
    q: store.dense(`${name}/q`, width, width),
    k: store.dense(`${name}/k`, width, width),
    v: store.dense(`${name}/v`, width, width),
    o: store.dense(`${name}/o`, width, width),
    heads,
  };
}

/** [B, T, D] -> [B, H, T, D/H]. */
export function splitHeads(x: tf.Tensor, heads: number): tf.Tensor {
  const [b, t, d] = x.shape;
  return x.reshape([b, t, heads, d / heads]).transpose([0, 2, 1, 3]);
}

/** [B, H, T, dh] -> [B, T, H*dh]. */
export function mergeHeads(x: tf.Tensor): tf.Tensor {
  const [b, h, t, dh] = x.shape;
  return x.transpose([0, 2, 1, 3]).reshape([b, t, h * dh]);
}

export function multiHeadAttention(x: tf.Tensor, p: AttentionParams, opts: { causal: boolean; rope: boolean }): tf.Tensor {
  return tf.tidy(() => {
    let q = splitHeads(applyDense(x, p.q), p.heads);
    let k = splitHeads(applyDense(x, p.k), p.heads);
    const v = splitHeads(applyDense(x, p.v), p.heads);
    if (opts.rope) {
      q = applyRope(q);
      k = applyRope(k);
    }
    return applyDense(mergeHeads(softmaxAttention(q, k, v, { causal: opts.causal })), p.o);
  });
}

export interface GluParams {
  gate: Dense;
  up: Dense;
  down: Dense;
}

export function createGlu(store: ParamStore, name: string, width: number, hidden: number): GluParams {
  return {
    gate: store.dense(`${name}/gate`, width, hidden),
    up: store.dense(`${name}/up`, width, hidden),
    down: store.dense(`${name}/down`, hidden, width),
  };
}

/** GELU-gated linear unit: down(gelu(gate x) * up x). */
export function gluFeedForward(x: tf.Tensor, p: GluParams): tf.Tensor {
  return tf.tidy(() => applyDense(gelu(applyDense(x, p.gate)).mul(applyDense(x, p.up)), p.down));
}

export interface BlockParams {
  norm1: tf.Variable;
  attn: AttentionParams;
  norm2: tf.Variable;
  ffn: GluParams;
}

export function createBlock(store: ParamStore, name: string, width: number, heads: number, ffnHidden: number): BlockParams {
  return {
    norm1: store.constant(`${name}/norm1`, [width], 1),
    attn: createAttention(store, `${name}/attn`, width, heads),
    norm2: store.constant(`${name}/norm2`, [width], 1),
    ffn: createGlu(store, `${name}/ffn`, width, ffnHidden),
  };
}

/** Pre-RMSNorm residual block; `ffn` replaces the GLU (e.g. an MoE layer). */
export function transformerBlock(
  x: tf.Tensor,
  p: BlockParams,
  opts: { causal: boolean; rope: boolean; ffn?: (h: tf.Tensor) => tf.Tensor },
): tf.Tensor {
  return tf.tidy(() => {
    const h = x.add(multiHeadAttention(rmsNorm(x, p.norm1), p.attn, opts));
    const normed = rmsNorm(h, p.norm2);
    return h.add(opts.ffn ? opts.ffn(normed) : gluFeedForward(normed, p.ffn));
  });
}

/** Rows of `table` for int32 token ids (gather; its gradient is UnsortedSegmentSum, registered on wasm). */
export function embedTokens(tokens: tf.Tensor, table: tf.Variable): tf.Tensor {
  return tf.tidy(() => tf.gather(table, tokens.toInt()));
}

export interface TransformerLMConfig {
  vocab: number;
  width: number;
  depth: number;
  heads: number;
  ffnHidden: number;
}

export interface ForwardOptions {
  /** Default true (a decoder). */
  causal?: boolean;
  /** Replace layer `layer`'s feed-forward; return undefined to keep the GLU. */
  ffn?: (layer: number, h: tf.Tensor) => tf.Tensor | undefined;
  /** Also return every block's output (before the final norm). */
  collectHidden?: boolean;
}

/** Transformer++ as in the FLASH paper: pre-RMSNorm, RoPE, GLU feed-forward, untied output head. */
export class TransformerLM {
  readonly store: ParamStore;
  readonly embedding: tf.Variable;
  readonly blocks: BlockParams[];
  readonly finalNorm: tf.Variable;
  readonly head: Dense;

  constructor(
    readonly config: TransformerLMConfig,
    rng: RunRng,
    name = 'lm',
  ) {
    this.store = new ParamStore(rng, name);
    this.embedding = this.store.normal('embedding', [config.vocab, config.width], 0.02);
    this.blocks = [];
    for (let l = 0; l < config.depth; l++) this.blocks.push(createBlock(this.store, `block${l}`, config.width, config.heads, config.ffnHidden));
    this.finalNorm = this.store.constant('final-norm', [config.width], 1);
    this.head = this.store.dense('head', config.width, config.vocab);
  }

  forward(tokens: tf.Tensor2D, opts: ForwardOptions = {}): { logits: tf.Tensor3D; hidden: tf.Tensor3D[] } {
    const causal = opts.causal ?? true;
    const hidden: tf.Tensor3D[] = [];
    const logits = tf.tidy(() => {
      let x = embedTokens(tokens, this.embedding);
      this.blocks.forEach((block, layer) => {
        const override = opts.ffn ? (h: tf.Tensor) => opts.ffn!(layer, h) ?? gluFeedForward(h, block.ffn) : undefined;
        x = transformerBlock(x, block, { causal, rope: true, ffn: override });
        if (opts.collectHidden) hidden.push(tf.keep(x) as tf.Tensor3D);
      });
      return applyDense(rmsNorm(x, this.finalNorm), this.head) as tf.Tensor3D;
    });
    return { logits, hidden };
  }

  loss(inputs: tf.Tensor2D, targets: tf.Tensor2D): tf.Scalar {
    return tf.tidy(() => crossEntropy(this.forward(inputs).logits, targets));
  }

  dispose(): void {
    this.store.dispose();
  }
}
