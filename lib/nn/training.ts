/**
 * Generic training pieces: the loss every classifier and LM here uses, one optimiser
 * step, and a learning-rate schedule hook.
 */
import * as tf from '@tensorflow/tfjs';
import { fusedCrossEntropy, fusedOpsActive } from '../core/wasm-kernels/index';

/**
 * Mean cross-entropy of logits [..., V] against int32 targets [...]. On wasm one fused
 * kernel each way (lib/core/wasm-kernels/fused.ts) replaces logSoftmax, oneHot, mul,
 * sum and mean.
 */
export function crossEntropy(logits: tf.Tensor, targets: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const v = logits.shape[logits.rank - 1];
    const flat = logits.reshape([-1, v]);
    if (logits.dtype === 'float32' && logits.size > 0 && fusedOpsActive()) return fusedCrossEntropy(flat, targets.toInt().reshape([-1]));
    const logp = tf.logSoftmax(flat, -1);
    const onehot = tf.oneHot(targets.toInt().reshape([-1]), v);
    return logp.mul(onehot).sum(-1).mean().neg() as tf.Scalar;
  });
}

/** One optimiser step on `vars`; returns the loss tensor (read it only when needed: no per-step readback). */
export function trainStep(optimizer: tf.Optimizer, vars: tf.Variable[], loss: () => tf.Scalar): tf.Scalar {
  return optimizer.minimize(loss, true, vars) as tf.Scalar;
}

/**
 * Sets the learning rate of a tfjs optimiser for the next update. tfjs' SGD, Adam and
 * RMSprop read their public `learningRate` field on every update, but the typings do not
 * expose it as writable on the base class: this is the one place that knows.
 */
export function setLearningRate(optimizer: tf.Optimizer, lr: number): void {
  (optimizer as unknown as { learningRate: number }).learningRate = lr;
}

/** Cosine decay from the base rate to 0 over the run (a standard schedule; short runs end far better than at a constant rate). */
export function cosineRate(base: number, step: number, total: number): number {
  return 0.5 * base * (1 + Math.cos((Math.PI * step) / total));
}
