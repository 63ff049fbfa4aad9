/**
 * The attention of FLASH's Gated Attention Unit (Hua et al., ICML 2022, arXiv:2202.10447):
 * one head, no softmax, kernel relu(q·k / n)², and its linear-time approximation,
 * mixed chunk attention.
 *
 * Mixed chunk attention cuts the sequence into G chunks of C tokens. Inside a chunk,
 * exact quadratic attention relu(q_quad·k_quad / C)² (causal within the chunk); across
 * chunks, linear attention q_lin · (Σ_{h<g} K_lin,hᵀ V_h) / C, where the sum runs over
 * the chunks before g when causal (an exclusive cumulative sum) and over all chunks
 * otherwise. Cost: O(T·C·(s+e)) + O(T·s·e), linear in T for a fixed C.
 *
 * tfjs notes: no Einsum, no StridedSlice, no cumsum on a non-last axis (their gradients
 * are wrong or missing). Chunks are folded into the batch axis with reshape; the
 * exclusive cumulative sum over chunks is a matMul with a strictly lower-triangular
 * [G, G] matrix of ones; every matMul is 2-D or a plain batched 3-D one.
 */
import * as tf from '@tensorflow/tfjs';
import { UsageError } from '../core/errors';

/** [n, n] 0/1 constant: 1 where column <= row (inclusive) or column < row (strict). */
export function lowerTriangular(n: number, strict: boolean): tf.Tensor2D {
  const m = new Float32Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= (strict ? i - 1 : i); j++) m[i * n + j] = 1;
  return tf.tensor2d(m, [n, n]);
}

/** relu(x)² — the GAU's attention kernel (written with ops that all have gradients). */
export function squaredRelu(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.relu(x).square());
}

/**
 * Quadratic GAU attention: relu(q kᵀ / T)² [· causal mask] v.
 * q, k: [B, T, s]; v: [B, T, e] -> [B, T, e]. The [T, T] kernel is materialised.
 */
export function gauQuadraticAttention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, opts: { causal: boolean }): tf.Tensor {
  return tf.tidy(() => {
    const t = q.shape[1] as number;
    let kernel = squaredRelu(tf.matMul(q, k, false, true).div(t));
    if (opts.causal) kernel = kernel.mul(lowerTriangular(t, false));
    return tf.matMul(kernel, v);
  });
}

export interface MixedChunkInputs {
  /** [B, T, s] each: the four per-dim scaled/offset views of the shared z. */
  quadQ: tf.Tensor;
  quadK: tf.Tensor;
  linQ: tf.Tensor;
  linK: tf.Tensor;
  /** [B, T, e] */
  v: tf.Tensor;
}

/** The chunk length actually used: C, or T when the sequence is shorter than one chunk. */
export function effectiveChunk(seqLen: number, chunkSize: number): number {
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new UsageError(`chunkSize=${chunkSize} must be a positive integer`);
  const c = Math.min(chunkSize, seqLen);
  if (seqLen % c !== 0) throw new UsageError(`sequence length ${seqLen} is not a multiple of chunkSize=${chunkSize}; choose a chunk size that divides every context`);
  return c;
}

/**
 * Mixed chunk attention -> [B, T, e]: quadratic inside chunks of `chunkSize` tokens,
 * linear across chunks. With one chunk (chunkSize >= T) it equals gauQuadraticAttention
 * on (quadQ, quadK, v): the causal linear term is then empty.
 */
export function mixedChunkAttention(x: MixedChunkInputs, opts: { chunkSize: number; causal: boolean }): tf.Tensor {
  return tf.tidy(() => {
    const [b, t, s] = x.quadQ.shape as number[];
    const e = x.v.shape[2] as number;
    const c = effectiveChunk(t, opts.chunkSize);
    const g = t / c;
    // [B, T, d] -> [B*G, C, d]: every chunk becomes a batch row.
    const chunks = (y: tf.Tensor, d: number) => y.reshape([b * g, c, d]);
    const qq = chunks(x.quadQ, s);
    const kq = chunks(x.quadK, s);
    const ql = chunks(x.linQ, s);
    const kl = chunks(x.linK, s);
    const v = chunks(x.v, e);

    // Local: exact quadratic attention inside each chunk.
    let kernel = squaredRelu(tf.matMul(qq, kq, false, true).div(c));
    if (opts.causal) kernel = kernel.mul(lowerTriangular(c, false));
    const local = tf.matMul(kernel, v); // [B*G, C, e]

    // Global: linear attention over chunk summaries K_hᵀ V_h / C, [B*G, s, e].
    const kv = tf.matMul(kl, v, true, false).div(c);
    let context: tf.Tensor;
    if (opts.causal) {
      // Exclusive prefix sum over chunks: [G, G] strict lower-triangular x [G, B*s*e].
      const byChunk = kv.reshape([b, g, s * e]).transpose([1, 0, 2]).reshape([g, b * s * e]);
      const prefix = tf.matMul(lowerTriangular(g, true), byChunk);
      context = prefix.reshape([g, b, s * e]).transpose([1, 0, 2]).reshape([b * g, s, e]);
    } else {
      // Every chunk sees the sum over all chunks.
      const total = kv.reshape([b, g, s * e]).sum(1, true);
      context = tf.broadcastTo(total, [b, g, s * e]).reshape([b * g, s, e]);
    }
    const global = tf.matMul(ql, context); // [B*G, C, e]
    return local.add(global).reshape([b, t, e]);
  });
}
