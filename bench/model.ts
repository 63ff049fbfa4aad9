/**
 * The benchmarked training step: a small language model (token embedding, pre-LayerNorm
 * causal self-attention with a fused QKV projection, GELU MLP of width 4D, LM head,
 * cross-entropy, Adam), built from the project's own layers (lib/nn: layerNorm, gelu,
 * softmax, crossEntropy; tf.train.adam), so it runs whatever those run on the active backend —
 * the fused wasm kernels included. bench/torch_step.py is the same model in PyTorch.
 */
import * as tf from '@tensorflow/tfjs';
import { RunRng } from '../lib/core/rng';
import { gelu, layerNorm, softmax } from '../lib/nn/layers';
import { crossEntropy } from '../lib/nn/training';

export interface Shapes {
  B: number;
  T: number;
  D: number;
  heads: number;
  vocab: number;
}

export interface StepModel {
  vars: tf.Variable[];
  loss: () => tf.Scalar;
  /** One Adam step; returns the loss before the update (read back, so the step is complete). */
  step: () => number;
  dispose: () => void;
}

export function buildModel(s: Shapes, seed: number): StepModel {
  const { B, T, D, heads: H, vocab: V } = s;
  const dh = D / H;
  const rng = new RunRng(seed);
  const normal = (name: string, shape: number[]) => tf.variable(tf.randomNormal(shape, 0, 0.02, 'float32', rng.tfSeed(name)), true, `bench/${name}#${nextId++}`);
  const filled = (name: string, shape: number[], v: number) => tf.variable(tf.fill(shape, v), true, `bench/${name}#${nextId++}`);
  const p = {
    emb: normal('emb', [V, D]), wqkv: normal('wqkv', [D, 3 * D]), wo: normal('wo', [D, D]),
    w1: normal('w1', [D, 4 * D]), b1: filled('b1', [4 * D], 0), w2: normal('w2', [4 * D, D]), b2: filled('b2', [D], 0),
    wout: normal('wout', [D, V]),
    ln1g: filled('ln1g', [D], 1), ln1b: filled('ln1b', [D], 0), ln2g: filled('ln2g', [D], 1), ln2b: filled('ln2b', [D], 0),
    lnfg: filled('lnfg', [D], 1), lnfb: filled('lnfb', [D], 0),
  };
  const tokens = rng.stream('tokens');
  const ids = Int32Array.from({ length: B * (T + 1) }, () => tokens.int(V));
  const xIds = tf.tensor2d(ids.filter((_, i) => i % (T + 1) !== T), [B, T], 'int32');
  const yIds = tf.tensor1d(ids.filter((_, i) => i % (T + 1) !== 0), 'int32');
  // Additive causal mask (a large negative rather than -inf keeps every gradient finite).
  const mask = tf.tidy(() => tf.sub(1, tf.linalg.bandPart(tf.ones([T, T]), -1, 0)).mul(-1e9));
  // Projections go through 2-D rows: tfjs 4.22's matMul gradient does not reduce a
  // broadcast batch (3-D x 2-D), and 2-D rows hit one large XNNPACK product anyway.
  const rows = (x: tf.Tensor, w: tf.Tensor) => tf.matMul(x.reshape([B * T, -1]), w);

  const loss = (): tf.Scalar => {
    let x = tf.gather(p.emb, xIds) as tf.Tensor3D; // [B, T, D]
    const qkv = rows(layerNorm(x, p.ln1g, p.ln1b), p.wqkv).reshape([B, T, 3, H, dh]).transpose([2, 0, 3, 1, 4]);
    const [q, k, v] = tf.unstack(qkv) as tf.Tensor4D[]; // each [B, H, T, dh]
    const scores = tf.matMul(q, k, false, true).mul(1 / Math.sqrt(dh)).add(mask);
    const attn = tf.matMul(softmax(scores), v).transpose([0, 2, 1, 3]); // [B, T, H, dh]
    x = x.add(rows(attn, p.wo).reshape([B, T, D]));
    const m = rows(gelu(rows(layerNorm(x, p.ln2g, p.ln2b), p.w1).add(p.b1)), p.w2).add(p.b2);
    x = x.add(m.reshape([B, T, D]));
    return crossEntropy(rows(layerNorm(x, p.lnfg, p.lnfb), p.wout), yIds);
  };
  const vars = Object.values(p);
  const opt = tf.train.adam(1e-3);
  const step = () =>
    tf.tidy(() => {
      const cost = opt.minimize(loss, true, vars);
      return cost ? cost.dataSync()[0] : NaN;
    });
  return { vars, loss, step, dispose: () => (opt.dispose(), tf.dispose([...vars, xIds, yIds, mask])) };
}
let nextId = 0;

/** Multiply-adds x2 of one forward pass (matMuls only; the step is ~3x this). */
export function forwardFlops(s: Shapes): number {
  const N = s.B * s.T;
  const D = s.D;
  return 2 * N * D * (3 * D + D + 8 * D + s.vocab) + 2 * 2 * s.B * s.T * s.T * D;
}
