/**
 * The generic building blocks every model here is made of, whatever the paper: a
 * parameter store whose initialisers are all seeded, dense layers, normalisations and
 * GELU. Paper-specific layers (attention variants, GAU, MoE, MRL heads) build on these.
 *
 * On wasm the norms, GELU and softmax run as fused SIMD kernels (lib/core/wasm-kernels/fused.ts):
 * same maths, one pass forward and one backward instead of a chain of tfjs ops; other
 * backends keep the tfjs composition below.
 *
 * tfjs notes that shaped this file:
 * - matMul of a 3-D tensor by a 2-D weight has a wrong gradient in tfjs 4.22, so dense
 *   layers fold the leading dimensions into one before multiplying.
 */
import * as tf from '@tensorflow/tfjs';
import type { RunRng } from '../core/rng';
import { fusedGelu, fusedLayerNorm, fusedOpsActive, fusedRmsNorm, fusedSoftmax } from '../core/wasm-kernels/index';

export interface Dense {
  w: tf.Variable;
  b?: tf.Variable;
}

/**
 * Owns a model's variables. Every initialiser is seeded from (run seed, prefix/name),
 * so adding a parameter never changes the initial values of the others.
 */
export class ParamStore {
  readonly variables: tf.Variable[] = [];
  private readonly names = new Set<string>();

  constructor(
    private readonly rng: RunRng,
    private readonly prefix = 'params',
  ) {}

  private register(name: string, value: tf.Tensor): tf.Variable {
    const full = `${this.prefix}/${name}`;
    if (this.names.has(full)) throw new Error(`ParamStore: parameter '${full}' defined twice`);
    this.names.add(full);
    // Variable names are global in tfjs: make them unique per store instance.
    const v = tf.variable(value, true, `${full}#${nextVariableId++}`);
    value.dispose();
    this.variables.push(v);
    return v;
  }

  /** Glorot-uniform [inDim, outDim] weight (times `scale`), optional zero bias. */
  dense(name: string, inDim: number, outDim: number, opts: { bias?: boolean; scale?: number } = {}): Dense {
    const limit = Math.sqrt(6 / (inDim + outDim)) * (opts.scale ?? 1);
    const w = this.register(`${name}/w`, tf.randomUniform([inDim, outDim], -limit, limit, 'float32', this.rng.tfSeed(`${this.prefix}/${name}/w`)));
    const b = opts.bias ? this.register(`${name}/b`, tf.zeros([outDim])) : undefined;
    return b ? { w, b } : { w };
  }

  /** Normal(0, std) tensor of any shape. */
  normal(name: string, shape: number[], std: number): tf.Variable {
    return this.register(name, tf.randomNormal(shape, 0, std, 'float32', this.rng.tfSeed(`${this.prefix}/${name}`)));
  }

  constant(name: string, shape: number[], value: number): tf.Variable {
    return this.register(name, tf.fill(shape, value));
  }

  paramCount(): number {
    return this.variables.reduce((n, v) => n + v.size, 0);
  }

  dispose(): void {
    for (const v of this.variables) v.dispose();
    this.variables.length = 0;
    this.names.clear();
  }
}
let nextVariableId = 0;

/** [..., in] x [in, out] (+ b) -> [..., out]. */
export function applyDense(x: tf.Tensor, d: Dense): tf.Tensor {
  return tf.tidy(() => {
    const [inDim, outDim] = d.w.shape as [number, number];
    const lead = x.shape.slice(0, -1);
    let y = tf.matMul(x.reshape([-1, inDim]), d.w);
    if (d.b) y = y.add(d.b);
    return y.reshape([...lead, outDim]);
  });
}

/** True when the fused kernels can take x with a [D] parameter over its last axis. */
function fusable(x: tf.Tensor, ...params: tf.Tensor[]): boolean {
  const d = x.shape[x.rank - 1];
  return x.rank >= 1 && x.dtype === 'float32' && x.size > 0 && params.every((p) => p.rank === 1 && p.shape[0] === d && p.dtype === 'float32') && fusedOpsActive();
}

export function rmsNorm(x: tf.Tensor, gain: tf.Variable, eps = 1e-6): tf.Tensor {
  if (fusable(x, gain)) return fusedRmsNorm(x, gain, eps);
  return tf.tidy(() => {
    const ms = x.square().mean(-1, true);
    return x.mul(ms.add(eps).rsqrt()).mul(gain);
  });
}

export function layerNorm(x: tf.Tensor, gain: tf.Variable, bias: tf.Variable, eps = 1e-5): tf.Tensor {
  if (fusable(x, gain, bias)) return fusedLayerNorm(x, gain, bias, eps);
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, -1, true);
    return x.sub(mean).mul(variance.add(eps).rsqrt()).mul(gain).add(bias);
  });
}

/** GELU, tanh approximation (written out so every backend has its gradient). */
export function gelu(x: tf.Tensor): tf.Tensor {
  if (fusable(x)) return fusedGelu(x);
  return tf.tidy(() => {
    const inner = x.add(x.pow(3).mul(0.044715)).mul(Math.sqrt(2 / Math.PI));
    return x.mul(0.5).mul(inner.tanh().add(1));
  });
}

/** Softmax over the last axis (tf.softmax; on wasm one fused kernel each way, the gradient included). */
export function softmax(x: tf.Tensor): tf.Tensor {
  if (fusable(x)) return fusedSoftmax(x);
  return tf.softmax(x, -1);
}
