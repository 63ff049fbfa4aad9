/**
 * Linear probe (multinomial logistic regression) on fixed features: the classifier for
 * the slicing and SVD baselines, which take a trained FF-D embedding and keep m of its
 * coordinates (the first m, or the top-m principal components) — the paper's baselines
 * likewise reuse the FF-2048 network and only change what the classifier sees.
 *
 * Features are standardised with the training rows' mean and std; the problem is convex
 * and starts from zero weights, so the result does not depend on a seed. Full-batch Adam.
 */
import * as tf from '@tensorflow/tfjs';
import { crossEntropy } from '../../nn/training';

export interface ProbeData {
  x: Float32Array;
  labels: ArrayLike<number>;
  count: number;
}

/** Test accuracy of a logistic regression fitted on `train` (dim features per row). */
export async function linearProbeAccuracy(train: ProbeData, test: ProbeData, dim: number, classes: number, steps: number, learningRate: number): Promise<number> {
  const mean = new Float32Array(dim);
  const std = new Float32Array(dim);
  for (let r = 0; r < train.count; r++) for (let j = 0; j < dim; j++) mean[j] += train.x[r * dim + j];
  for (let j = 0; j < dim; j++) mean[j] /= train.count;
  for (let r = 0; r < train.count; r++)
    for (let j = 0; j < dim; j++) {
      const d = train.x[r * dim + j] - mean[j];
      std[j] += d * d;
    }
  for (let j = 0; j < dim; j++) std[j] = Math.sqrt(std[j] / train.count) || 1;
  // tf.variable keeps its initial tensor alive as a separate tensor: dispose it.
  const zw = tf.zeros([dim, classes]);
  const zb = tf.zeros([classes]);
  const w = tf.variable(zw);
  const b = tf.variable(zb);
  zw.dispose();
  zb.dispose();
  const opt = tf.train.adam(learningRate);
  const mu = tf.tensor1d(mean);
  const sd = tf.tensor1d(std);
  const xTrain = tf.tidy(() => tf.tensor2d(train.x.subarray(0, train.count * dim), [train.count, dim]).sub(mu).div(sd));
  const yTrain = tf.tensor1d(Int32Array.from(Array.from({ length: train.count }, (_, i) => train.labels[i])), 'int32');
  try {
    for (let s = 0; s < steps; s++) tf.tidy(() => {
      opt.minimize(() => crossEntropy(tf.matMul(xTrain, w).add(b), yTrain), false, [w, b]);
    });
    const pred = tf.tidy(() => tf.tensor2d(test.x.subarray(0, test.count * dim), [test.count, dim]).sub(mu).div(sd).matMul(w).add(b).argMax(1));
    const p = await pred.data();
    pred.dispose();
    let correct = 0;
    for (let i = 0; i < test.count; i++) if (p[i] === test.labels[i]) correct++;
    return correct / test.count;
  } finally {
    for (const t of [w, b, mu, sd, xTrain, yTrain]) t.dispose();
    opt.dispose();
  }
}
