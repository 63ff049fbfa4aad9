/**
 * LocoProp (Amid, Anil, Warmuth, AISTATS 2022, arXiv:2106.06199): one forward pass and
 * one backward pass give each layer a local target one gradient step away from its
 * output; every layer then solves its own convex local problem with a few first-order
 * iterations, all layers in parallel (each from the inputs of the same forward pass).
 *
 *   LocoProp-S: target a_hat = a - gamma dL/da, local loss 1/2 ||x W + b - a_hat||^2
 *   LocoProp-M: target y_hat = f(a) - gamma dL/da, local loss = the matching loss of f,
 *               whose gradient w.r.t. the pre-activation is f(x W + b) - y_hat
 *   both:       + (lambda/2) ||W - W_t||^2 + (lambda/2) ||b - b_t||^2 (proximity to the
 *               weights at the start of the batch)
 *
 * The local gradients are written out (x^T delta, sum over the batch) exactly as the
 * reference notebook does; the inner learning rate decays as max(1 - k/K, floor) over
 * the K local iterations (k = 0..K-1). With K = 1 and SGD, W moves by -eta gamma dL/dW:
 * the first local step IS back-propagation with step eta*gamma, for both variants.
 */
import * as tf from '@tensorflow/tfjs';
import { UsageError } from '../core/errors';
import { applyTransfer, disposeForward, reconstructionLoss, type Autoencoder, type Transfer } from './autoencoder';
import type { TensorOptimizer } from './optimizers';

export type LocoPropVariant = 'S' | 'M';

export interface LocoPropOptions {
  variant: LocoPropVariant;
  /** gamma: the step that turns dL/da into a local target (reference: 10). */
  activationStep: number;
  /** K local iterations per batch (reference: 10). */
  localIterations: number;
  /** Inner learning-rate multiplier max(1 - k/K, floor) (reference floor: 0.25). */
  innerDecayFloor: number;
  /** lambda of the proximity term; 0 drops it (the reference notebook's choice). */
  proximity: number;
}

/** S: a - gamma g (pre-activation target); M: f(a) - gamma g (post-activation target). */
export function localTarget(pre: tf.Tensor, post: tf.Tensor, gradPre: tf.Tensor, gamma: number, variant: LocoPropVariant): tf.Tensor {
  return tf.tidy(() => (variant === 'S' ? pre : post).sub(gradPre.mul(gamma)));
}

/** Inner learning-rate multiplier at local iteration k (0-based) of K. */
export function innerDecay(k: number, K: number, floor: number): number {
  return Math.max(1 - k / K, floor);
}

/**
 * Gradient of one layer's local objective at (w, b): [x^T delta + lambda (w - w0), sum(delta) + lambda (b - b0)],
 * delta = (x w + b) - target (S) or f(x w + b) - target (M).
 */
export function localGradients(
  x: tf.Tensor2D,
  w: tf.Tensor2D,
  b: tf.Tensor1D,
  target: tf.Tensor2D,
  transfer: Transfer,
  variant: LocoPropVariant,
  proximity = 0,
  w0?: tf.Tensor2D,
  b0?: tf.Tensor1D,
): [tf.Tensor2D, tf.Tensor1D] {
  return tf.tidy(() => {
    const a = tf.matMul(x, w).add(b);
    const out = variant === 'S' || transfer === 'linear' ? a : applyTransfer(a, transfer);
    const delta = out.sub(target) as tf.Tensor2D;
    let gw = tf.matMul(x, delta, true, false) as tf.Tensor2D;
    let gb = delta.sum(0) as tf.Tensor1D;
    if (proximity > 0) {
      if (!w0 || !b0) throw new UsageError('localGradients: proximity > 0 needs the starting weights w0 and b0');
      gw = gw.add(w.sub(w0).mul(proximity));
      gb = gb.add(b.sub(b0).mul(proximity));
    }
    return [gw, gb];
  });
}

export function validateLocoProp(o: LocoPropOptions): void {
  if (o.variant !== 'S' && o.variant !== 'M') throw new UsageError(`LocoProp variant '${o.variant}' is not one of S, M`);
  if (!Number.isInteger(o.localIterations) || o.localIterations < 1) throw new UsageError(`localIterations=${o.localIterations} must be a positive integer`);
  if (!(o.activationStep > 0)) throw new UsageError(`activationStep=${o.activationStep} must be positive`);
  if (!(o.proximity >= 0)) throw new UsageError(`proximity=${o.proximity} must be >= 0`);
  if (!(o.innerDecayFloor >= 0 && o.innerDecayFloor <= 1)) throw new UsageError(`innerDecayFloor=${o.innerDecayFloor} must be in [0, 1]`);
}

/** LocoProp training of an Autoencoder: one optimiser per layer, as in the reference notebook. */
export class LocoPropTrainer {
  private readonly optimizers: TensorOptimizer[];

  constructor(
    readonly model: Autoencoder,
    readonly opts: LocoPropOptions,
    makeOptimizer: () => TensorOptimizer,
  ) {
    validateLocoProp(opts);
    this.optimizers = model.layers.map(() => makeOptimizer());
  }

  /** One batch: targets from one forward/backward pass, then K local iterations per layer. Returns the batch loss before the update. */
  step(x: tf.Tensor2D, lr: number): tf.Scalar {
    const { variant, activationStep, localIterations: K, innerDecayFloor, proximity } = this.opts;
    const pass = this.model.forward(x);
    const L = this.model.layers.length;
    const loss = tf.tidy(() => reconstructionLoss(pass.pre[L - 1], x));
    const grads = this.model.preActivationGradients(pass, x);
    // The output layer's "post" is sigmoid(a): its matching loss is the sigmoid cross-entropy.
    const targets = grads.map((g, l) => localTarget(pass.pre[l], pass.post[l], g, activationStep, variant) as tf.Tensor2D);
    grads.forEach((g) => g.dispose());
    this.model.layers.forEach((layer, l) => {
      const w0 = proximity > 0 ? (layer.w.clone() as tf.Tensor2D) : undefined;
      const b0 = proximity > 0 ? (layer.b.clone() as tf.Tensor1D) : undefined;
      for (let k = 0; k < K; k++) {
        tf.tidy(() => {
          const [gw, gb] = localGradients(pass.inputs[l], layer.w as tf.Tensor2D, layer.b as tf.Tensor1D, targets[l], layer.transfer, variant, proximity, w0, b0);
          this.optimizers[l].apply([layer.w, layer.b], [gw, gb], lr * innerDecay(k, K, innerDecayFloor));
        });
      }
      w0?.dispose();
      b0?.dispose();
    });
    targets.forEach((t) => t.dispose());
    disposeForward(pass);
    return loss;
  }

  stateFloats(): number {
    return this.optimizers.reduce((n, o) => n + o.stateFloats(), 0);
  }

  dispose(): void {
    for (const o of this.optimizers) o.dispose();
  }
}
