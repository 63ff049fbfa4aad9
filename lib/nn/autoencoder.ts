/**
 * The deep MNIST autoencoder of the LocoProp paper (784-1000-500-250-30-250-500-1000-784),
 * written with an explicit forward pass that keeps every layer's input, pre-activation
 * and output, and an analytic backward pass: LocoProp needs the gradient of the loss
 * with respect to each pre-activation (not only the weight gradients), and a hand-written
 * backward through dense layers avoids tfjs' autodiff bookkeeping.
 *
 * Conventions follow the reference notebook (google-research locoprop_training.ipynb):
 * weights [in, out], y = x W + b; the layer into the 30-unit bottleneck is linear, the
 * last layer's sigmoid is folded into the loss; the loss is the sigmoid cross-entropy
 * summed over the 784 pixels and averaged over the batch; weights AND biases start
 * Glorot-uniform (keras treats a 1-D shape (n) as fan_in = fan_out = n).
 */
import * as tf from '@tensorflow/tfjs';
import type { RunRng } from '../core/rng';
import { UsageError } from '../core/errors';
import { ParamStore } from './layers';

export type Transfer = 'tanh' | 'relu' | 'linear' | 'sigmoid';

export const DEEP_AUTOENCODER_SIZES: readonly number[] = [784, 1000, 500, 250, 30, 250, 500, 1000, 784];

export interface AutoencoderLayer {
  w: tf.Variable;
  b: tf.Variable;
  transfer: Transfer;
}

/** What one forward pass keeps per layer l: its input h_{l-1}, pre-activation a_l and output h_l = f(a_l). */
export interface ForwardPass {
  inputs: tf.Tensor2D[];
  pre: tf.Tensor2D[];
  post: tf.Tensor2D[];
}

/** Hidden transfer everywhere, linear into the bottleneck (the narrowest layer), sigmoid at the output. */
export function autoencoderTransfers(sizes: readonly number[], hidden: 'tanh' | 'relu'): Transfer[] {
  if (sizes.length < 3) throw new UsageError(`autoencoder sizes must list at least 3 widths, got [${sizes.join(', ')}]`);
  let bottleneck = 1;
  for (let i = 1; i < sizes.length - 1; i++) if (sizes[i] < sizes[bottleneck]) bottleneck = i;
  return sizes.slice(1).map((_, l) => (l === sizes.length - 2 ? 'sigmoid' : l + 1 === bottleneck ? 'linear' : hidden));
}

export function applyTransfer(a: tf.Tensor, t: Transfer): tf.Tensor {
  switch (t) {
    case 'tanh':
      return tf.tanh(a);
    case 'relu':
      return tf.relu(a);
    case 'sigmoid':
      return tf.sigmoid(a);
    case 'linear':
      return a;
  }
}

/** f'(a) written with the layer output h = f(a) where that is cheaper. */
export function transferDerivative(a: tf.Tensor, h: tf.Tensor, t: Transfer): tf.Tensor {
  switch (t) {
    case 'tanh':
      return tf.sub(1, tf.square(h));
    case 'relu':
      return tf.step(a);
    case 'sigmoid':
      return tf.mul(h, tf.sub(1, h));
    case 'linear':
      return tf.onesLike(a);
  }
}

/** Sigmoid cross-entropy with logits, summed over pixels, averaged over the batch (the paper's reconstruction loss). */
export function reconstructionLoss(logits: tf.Tensor2D, x: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => reconstructionLossSum(logits, x).div(logits.shape[0]));
}

/** Sum over the batch and the pixels: max(a,0) - a x + log(1 + exp(-|a|)). */
export function reconstructionLossSum(logits: tf.Tensor2D, x: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.relu(logits).sub(logits.mul(x)).add(tf.log1p(tf.exp(tf.neg(tf.abs(logits))))).sum() as tf.Scalar);
}

export class Autoencoder {
  readonly store: ParamStore;
  readonly layers: AutoencoderLayer[] = [];

  constructor(
    readonly sizes: readonly number[],
    hidden: 'tanh' | 'relu',
    rng: RunRng,
    name = 'autoencoder',
  ) {
    const transfers = autoencoderTransfers(sizes, hidden);
    this.store = new ParamStore(rng, name);
    for (let l = 0; l < sizes.length - 1; l++) {
      const { w } = this.store.dense(`layer${l}`, sizes[l], sizes[l + 1], { bias: false });
      const b = this.store.constant(`layer${l}/b`, [sizes[l + 1]], 0);
      const limit = Math.sqrt(3 / sizes[l + 1]);
      tf.tidy(() => b.assign(tf.randomUniform([sizes[l + 1]], -limit, limit, 'float32', rng.tfSeed(`${name}/layer${l}/b`))));
      this.layers.push({ w, b, transfer: transfers[l] });
    }
  }

  get variables(): tf.Variable[] {
    return this.layers.flatMap((l) => [l.w, l.b]);
  }

  paramCount(): number {
    return this.store.paramCount();
  }

  /** Keeps every intermediate: the caller disposes them (disposeForward) or runs inside tf.tidy. */
  forward(x: tf.Tensor2D): ForwardPass {
    const pass: ForwardPass = { inputs: [], pre: [], post: [] };
    let h = x;
    for (const layer of this.layers) {
      const a = tf.tidy(() => tf.matMul(h, layer.w).add(layer.b)) as tf.Tensor2D;
      const out = layer.transfer === 'linear' ? a : (applyTransfer(a, layer.transfer) as tf.Tensor2D);
      pass.inputs.push(h);
      pass.pre.push(a);
      pass.post.push(out);
      h = out;
    }
    return pass;
  }

  /** Reconstruction logits only. */
  logits(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      let h: tf.Tensor2D = x;
      this.layers.forEach((layer, l) => {
        const a = tf.matMul(h, layer.w).add(layer.b) as tf.Tensor2D;
        h = l === this.layers.length - 1 ? a : (applyTransfer(a, layer.transfer) as tf.Tensor2D);
      });
      return h;
    });
  }

  loss(x: tf.Tensor2D): tf.Scalar {
    return tf.tidy(() => reconstructionLoss(this.logits(x), x));
  }

  /**
   * dLoss/da_l for every layer l (the loss of `reconstructionLoss`, so each row carries 1/B).
   * The output layer's is (sigmoid(a_L) - x) / B; hidden layers chain through W^T and f'.
   */
  preActivationGradients(pass: ForwardPass, x: tf.Tensor2D): tf.Tensor2D[] {
    const L = this.layers.length;
    const grads: tf.Tensor2D[] = new Array(L);
    grads[L - 1] = tf.tidy(() => pass.post[L - 1].sub(x).div(x.shape[0])) as tf.Tensor2D;
    for (let l = L - 2; l >= 0; l--) {
      const next = grads[l + 1];
      const layer = this.layers[l];
      grads[l] = tf.tidy(() => {
        const dh = tf.matMul(next, this.layers[l + 1].w, false, true);
        return layer.transfer === 'linear' ? dh : dh.mul(transferDerivative(pass.pre[l], pass.post[l], layer.transfer));
      }) as tf.Tensor2D;
    }
    return grads;
  }

  /** Back-propagation gradients in `variables` order: [dW_0, db_0, dW_1, db_1, ...]. */
  weightGradients(pass: ForwardPass, preGrads: tf.Tensor2D[]): tf.Tensor[] {
    return tf.tidy(() => preGrads.flatMap((g, l) => [tf.matMul(pass.inputs[l], g, true, false), g.sum(0)]));
  }

  dispose(): void {
    this.store.dispose();
  }
}

/** Disposes a forward pass's tensors except the network input. */
export function disposeForward(pass: ForwardPass): void {
  const seen = new Set<number>();
  const input = pass.inputs[0];
  for (const t of [...pass.pre, ...pass.post, ...pass.inputs]) {
    if (t === input || seen.has(t.id)) continue;
    seen.add(t.id);
    t.dispose();
  }
}

/** Converts images (0..255 bytes, row-major) [from, from+count) to a float tensor in [0, 1]. */
export function imagesToTensor(images: Uint8Array, pixels: number, from: number, count: number): tf.Tensor2D {
  const x = new Float32Array(count * pixels);
  const src = images.subarray(from * pixels, (from + count) * pixels);
  for (let i = 0; i < x.length; i++) x[i] = src[i] / 255;
  return tf.tensor2d(x, [count, pixels]);
}

/** Mean reconstruction loss over the first `count` images, in chunks; one device read at the end. */
export async function datasetLoss(model: Autoencoder, images: Uint8Array, pixels: number, count: number, chunk = 1000): Promise<number> {
  let total: tf.Tensor = tf.scalar(0);
  for (let from = 0; from < count; from += chunk) {
    const n = Math.min(chunk, count - from);
    const next = tf.tidy(() => {
      const x = imagesToTensor(images, pixels, from, n);
      return total.add(reconstructionLossSum(model.logits(x), x));
    });
    total.dispose();
    total = next;
  }
  const value = (await total.data())[0];
  total.dispose();
  return value / count;
}

/** Minimal optimiser interface backpropStep needs (lib/nn/optimizers TensorOptimizer fits). */
export interface GradientApplier {
  apply(vars: readonly tf.Variable[], grads: readonly tf.Tensor[], lr: number): void;
}

/** One back-propagation step with the analytic gradients; returns the batch loss before the update. */
export function backpropStep(model: Autoencoder, optimizer: GradientApplier, x: tf.Tensor2D, lr: number): tf.Scalar {
  const pass = model.forward(x);
  const loss = tf.tidy(() => reconstructionLoss(pass.pre[pass.pre.length - 1], x));
  tf.tidy(() => {
    const grads = model.weightGradients(pass, model.preActivationGradients(pass, x));
    optimizer.apply(model.variables, grads, lr);
  });
  disposeForward(pass);
  return loss;
}
