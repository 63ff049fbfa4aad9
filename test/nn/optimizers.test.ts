import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../lib/core/backend';
import { Adam, RmsProp, Sgd, warmupLinearDecay } from '../../lib/nn/optimizers';

async function val(v: tf.Tensor): Promise<number[]> {
  return Array.from(await v.data());
}

test('RMSprop has TF1 semantics: mean square starts at 1, epsilon inside the root, momentum accumulates lr*g/rms', async () => {
  await selectBackend('cpu');
  const w = tf.variable(tf.tensor1d([1, -2]));
  const opt = new RmsProp({ decay: 0.9, momentum: 0.5, epsilon: 1e-5 });
  const g = tf.tensor1d([2, -1]);
  opt.apply([w], [g], 0.1);
  opt.apply([w], [g], 0.1);
  // by hand, element 0: ms1 = 0.9 + 0.1*4 = 1.3; mom1 = 0.1*2/sqrt(1.3+1e-5); ms2 = 0.9*1.3 + 0.4 = 1.57; mom2 = 0.5 mom1 + 0.2/sqrt(1.57+1e-5)
  const mom1 = 0.2 / Math.sqrt(1.3 + 1e-5);
  const mom2 = 0.5 * mom1 + 0.2 / Math.sqrt(1.57 + 1e-5);
  const got = await val(w);
  assert.ok(Math.abs(got[0] - (1 - mom1 - mom2)) < 1e-6);
  assert.equal(opt.stateFloats(), 4);
  // a zero start (Keras/tfjs) gives a ~sqrt(10) larger first step
  const w0 = tf.variable(tf.tensor1d([0]));
  new RmsProp({ decay: 0.9, momentum: 0, epsilon: 0, initialMeanSquare: 0 }).apply([w0], [tf.tensor1d([3])], 0.1);
  assert.ok(Math.abs((await val(w0))[0] + 0.1 * Math.sqrt(10)) < 1e-6);
  opt.dispose();
  tf.dispose([w, g, w0]);
});

test('Adam has TF1 semantics (bias-corrected rate, epsilon outside the root); SGD is w - lr g', async () => {
  await selectBackend('cpu');
  const w = tf.variable(tf.tensor1d([0.5]));
  const opt = new Adam({ beta1: 0.9, beta2: 0.999, epsilon: 1e-8 });
  opt.apply([w], [tf.tensor1d([4])], 0.01);
  // first step: m = 0.4, v = 0.016, lr_t = 0.01 sqrt(0.001)/0.1 -> step = lr_t m/(sqrt v + eps) = 0.01
  assert.ok(Math.abs((await val(w))[0] - 0.49) < 1e-6);
  const s = tf.variable(tf.tensor1d([1, 2]));
  new Sgd().apply([s], [tf.tensor1d([1, -1])], 0.5);
  assert.deepEqual(await val(s), [0.5, 2.5]);
  opt.dispose();
  tf.dispose([w, s]);
});

test('warm-up then linear decay: rises to 1, ends small and positive', () => {
  const T = 100;
  const W = 5;
  assert.equal(warmupLinearDecay(0, T, W), 0.2);
  assert.equal(warmupLinearDecay(4, T, W), 1);
  assert.equal(warmupLinearDecay(5, T, W), 1);
  assert.ok(warmupLinearDecay(50, T, W) < 1 && warmupLinearDecay(50, T, W) > 0.5);
  assert.equal(warmupLinearDecay(99, T, W), 1 / 95);
});
