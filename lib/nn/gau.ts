/**
 * Gated Attention Unit (GAU) and the FLASH / FLASH-Quad language models
 * (Hua, Dai, Liu, Le, "Transformer Quality in Linear Time", ICML 2022, arXiv:2202.10447).
 *
 * One GAU layer (pre-norm, residual):
 *   [U, V, Z] = SiLU(x W + b)           U, V: [T, e] (e = expansion, paper 2d), Z: [T, s]
 *   Q_i = Z ⊙ γ_i + β_i                  per-dim scale and offset of the shared Z, RoPE after
 *   O = U ⊙ A(Q, K, V) W_o               A = relu(Q Kᵀ / T)² V (FLASH-Quad), or
 *                                        mixed chunk attention (FLASH), see mixed-chunk-attention.ts
 * Two GAUs cost about one Transformer++ layer (MHSA + GLU), so a FLASH model has twice
 * the layers of the Transformer++ it is compared with.
 *
 * Our choices (the paper's defaults are read only from third-party ports): RMSNorm
 * (shared with Transformer++ in transformer.ts), RoPE only (no extra relative position
 * bias), γ ~ N(0, 0.02), β = 0 as in the paper's pseudo-code.
 */
import * as tf from '@tensorflow/tfjs';
import type { RunRng } from '../core/rng';
import { UsageError } from '../core/errors';
import { applyRope, embedTokens } from './transformer';
import { applyDense, ParamStore, rmsNorm, type Dense } from './layers';
import { crossEntropy } from './training';
import { gauQuadraticAttention, mixedChunkAttention } from './mixed-chunk-attention';

export type GauAttention = 'quadratic' | 'mixed-chunk';

export interface GauOptions {
  /** e: width of U and V (paper: 2 x model width). */
  expansion: number;
  /** s: width of the shared Z (paper port: 128). */
  qkDim: number;
  attention: GauAttention;
  /** C: chunk length of mixed chunk attention (ignored by 'quadratic'). */
  chunkSize: number;
  rope: boolean;
}

export interface GauParams extends GauOptions {
  norm: tf.Variable;
  /** width -> 2e + s, then SiLU; split into U, V, Z. */
  uvz: Dense;
  /** [heads, s]: 2 views of Z (q, k) for 'quadratic', 4 (quadQ, quadK, linQ, linK) for 'mixed-chunk'. */
  gamma: tf.Variable;
  beta: tf.Variable;
  out: Dense;
}

export function createGau(store: ParamStore, name: string, width: number, opts: GauOptions): GauParams {
  if (opts.rope && opts.qkDim % 2 !== 0) throw new UsageError(`GAU qkDim=${opts.qkDim} must be even for RoPE`);
  const heads = opts.attention === 'quadratic' ? 2 : 4;
  return {
    ...opts,
    norm: store.constant(`${name}/norm`, [width], 1),
    uvz: store.dense(`${name}/uvz`, width, 2 * opts.expansion + opts.qkDim, { bias: true }),
    gamma: store.normal(`${name}/gamma`, [heads, opts.qkDim], 0.02),
    beta: store.constant(`${name}/beta`, [heads, opts.qkDim], 0),
    out: store.dense(`${name}/out`, opts.expansion, width),
  };
}

function silu(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => x.mul(tf.sigmoid(x)));
}

/** Z [B, T, s] -> the per-dim scaled and offset views, each [B, T, s] (RoPE applied when asked). */
export function scaleOffsetViews(z: tf.Tensor, gamma: tf.Variable, beta: tf.Variable, rope: boolean): tf.Tensor[] {
  return tf.tidy(() => {
    const [b, t, s] = z.shape as number[];
    const heads = gamma.shape[0];
    let views = z.expandDims(2).mul(gamma).add(beta).transpose([0, 2, 1, 3]); // [B, H, T, s]
    if (rope) views = applyRope(views);
    return tf.split(views, heads, 1).map((v) => v.reshape([b, t, s]));
  });
}

/** One GAU layer: x + W_o(U ⊙ A(Q, K, V)), with a pre-RMSNorm. x: [B, T, width]. */
export function gauLayer(x: tf.Tensor, p: GauParams, opts: { causal: boolean }): tf.Tensor {
  return tf.tidy(() => {
    const h = silu(applyDense(rmsNorm(x, p.norm), p.uvz));
    const [u, v, z] = tf.split(h, [p.expansion, p.expansion, p.qkDim], -1);
    const views = scaleOffsetViews(z, p.gamma, p.beta, p.rope);
    const attended =
      p.attention === 'quadratic'
        ? gauQuadraticAttention(views[0], views[1], v, opts)
        : mixedChunkAttention({ quadQ: views[0], quadK: views[1], linQ: views[2], linK: views[3], v }, { chunkSize: p.chunkSize, causal: opts.causal });
    return x.add(applyDense(u.mul(attended), p.out));
  });
}

export interface GauLMConfig {
  vocab: number;
  width: number;
  /** Number of GAU layers (2 per Transformer++ layer for equal cost). */
  depth: number;
  expansion: number;
  qkDim: number;
  attention: GauAttention;
  chunkSize: number;
}

/** A decoder LM made of GAU layers: FLASH-Quad ('quadratic') or FLASH ('mixed-chunk'). Untied head, final RMSNorm. */
export class GauLM {
  readonly store: ParamStore;
  readonly embedding: tf.Variable;
  readonly layers: GauParams[];
  readonly finalNorm: tf.Variable;
  readonly head: Dense;

  constructor(
    readonly config: GauLMConfig,
    rng: RunRng,
    name = 'gau-lm',
  ) {
    this.store = new ParamStore(rng, name);
    this.embedding = this.store.normal('embedding', [config.vocab, config.width], 0.02);
    const opts: GauOptions = { expansion: config.expansion, qkDim: config.qkDim, attention: config.attention, chunkSize: config.chunkSize, rope: true };
    this.layers = [];
    for (let l = 0; l < config.depth; l++) this.layers.push(createGau(this.store, `gau${l}`, config.width, opts));
    this.finalNorm = this.store.constant('final-norm', [config.width], 1);
    this.head = this.store.dense('head', config.width, config.vocab);
  }

  /** tokens int32 [B, T] -> logits [B, T, vocab]. */
  forward(tokens: tf.Tensor2D, opts: { causal?: boolean } = {}): tf.Tensor3D {
    const causal = opts.causal ?? true;
    return tf.tidy(() => {
      let x = embedTokens(tokens, this.embedding);
      for (const layer of this.layers) x = gauLayer(x, layer, { causal });
      return applyDense(rmsNorm(x, this.finalNorm), this.head) as tf.Tensor3D;
    });
  }

  loss(inputs: tf.Tensor2D, targets: tf.Tensor2D): tf.Scalar {
    return tf.tidy(() => crossEntropy(this.forward(inputs), targets));
  }

  dispose(): void {
    this.store.dispose();
  }
}
