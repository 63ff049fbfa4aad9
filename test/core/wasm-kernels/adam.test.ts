/**
 * The fused Adam update computes tfjs' AdamOptimizer float32 operations in the same
 * order, so a few training steps give bit-identical weights and moments with and without
 * it (level 'matmul-fix' runs tfjs' own applyGradients); and it matches the cpu backend.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { fusedAdamInstalled } from '../../../lib/core/wasm-kernels';
import { assertBitIdentical, assertCpuParity, on, randn } from './parity';

/** Five Adam steps on a small regression (two weights, one of 4k+3 elements for the tail); returns weights and moments. */
function train(opts: { lr: number; beta1?: number; beta2?: number; epsilon?: number }): () => tf.Tensor[] {
  const x = randn([16, 7], 'ax');
  const y = randn([16, 5], 'ay');
  const w0 = randn([7, 5], 'aw');
  const b0 = randn([5], 'ab');
  return () => {
    const w = tf.variable(tf.tensor(w0, [7, 5]));
    const b = tf.variable(tf.tensor(b0));
    const opt = tf.train.adam(opts.lr, opts.beta1, opts.beta2, opts.epsilon);
    for (let i = 0; i < 5; i++) opt.minimize(() => tf.matMul(tf.tensor(x, [16, 7]), w).add(b).sub(tf.tensor(y, [16, 5])).square().mean() as tf.Scalar, false, [w, b]);
    const state = (opt as unknown as { accumulatedFirstMoment: { variable: tf.Variable }[]; accumulatedSecondMoment: { variable: tf.Variable }[] });
    const out = [w, b, ...state.accumulatedFirstMoment.map((s) => s.variable), ...state.accumulatedSecondMoment.map((s) => s.variable)].map((t) => t.clone());
    opt.dispose();
    w.dispose();
    b.dispose();
    return out;
  };
}

test('Adam: bit-identical to tfjs AdamOptimizer on wasm over five steps', async () => {
  await on('wasm', () => tf.scalar(0));
  assert.ok(fusedAdamInstalled());
  const kernels = (await tf.profile(() => tf.dispose(train({ lr: 0.01 })()))).kernelNames;
  assert.ok(kernels.includes('ReproAdam'), `the fused kernel runs (kernels: ${kernels.join(', ')})`);
  await assertBitIdentical('adam defaults', train({ lr: 0.01 }), 'all', 'matmul-fix');
  await assertBitIdentical('adam custom betas', train({ lr: 0.003, beta1: 0.8, beta2: 0.95, epsilon: 1e-6 }), 'all', 'matmul-fix');
});

test('Adam on wasm matches the cpu backend', async () => {
  await assertCpuParity('adam vs cpu', train({ lr: 0.01 }), 1e-5);
});

test('Adam with a variable that has no gradient leaves it and still updates the others', async () => {
  const run = () => {
    const w = tf.variable(tf.ones([3]));
    const unused = tf.variable(tf.ones([2]));
    const opt = tf.train.adam(0.1);
    opt.applyGradients([{ name: w.name, tensor: tf.ones([3]) }, { name: unused.name, tensor: null as unknown as tf.Tensor }]);
    const out = [w.clone(), unused.clone()];
    tf.dispose([w, unused]);
    opt.dispose();
    return out;
  };
  const fused = await on('wasm', run);
  const plain = await on('wasm', run, 'matmul-fix');
  assert.deepEqual(fused, plain);
  assert.deepEqual(Array.from(fused[1]), [1, 1]);
  assert.ok(fused[0].every((v) => v < 1), 'w was updated');
});
