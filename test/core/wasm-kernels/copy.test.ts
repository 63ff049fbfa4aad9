/**
 * The replaced Transpose, GatherV2, Unpack and Identity: bit-identical to tfjs' stock
 * wasm kernels and to the cpu backend (they only move data).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../lib/core/backend';
import { simplifyPermutation } from '../../../lib/core/wasm-kernels/copy';
import { assertBitIdentical, assertCpuParity, on, randn } from './parity';

test('simplifyPermutation drops size-1 axes and merges axes that stay adjacent', () => {
  assert.deepEqual(simplifyPermutation([8, 128, 3, 4, 32], [2, 0, 3, 1, 4]), { shape: [8, 128, 3, 4, 32], perm: [2, 0, 3, 1, 4] });
  assert.deepEqual(simplifyPermutation([2, 3, 5, 7], [0, 1, 3, 2]), { shape: [6, 5, 7], perm: [0, 2, 1] });
  assert.deepEqual(simplifyPermutation([1, 5, 7], [0, 2, 1]), { shape: [5, 7], perm: [1, 0] });
  assert.deepEqual(simplifyPermutation([4, 1, 6], [1, 0, 2]), { shape: [24], perm: [0] });
  assert.deepEqual(simplifyPermutation([2, 3, 4], [2, 1, 0]), { shape: [2, 3, 4], perm: [2, 1, 0] });
});

const PERMS: [number[], number[]][] = [
  [[8, 12, 3, 4, 8], [2, 0, 3, 1, 4]], // attention's head split (runs of 8)
  [[3, 8, 4, 12, 8], [1, 3, 0, 2, 4]], // and its gradient
  [[2, 4, 12, 8], [0, 2, 1, 3]],
  [[37, 29], [1, 0]], // 2-D, edges not multiples of 4
  [[3, 64, 36], [0, 2, 1]], // batched 2-D
  [[5, 6, 7], [2, 1, 0]], // strided gather path
  [[2, 3, 4, 5, 6, 7], [5, 4, 3, 2, 1, 0]], // rank 6
  [[1, 5, 1, 7], [3, 2, 1, 0]],
  [[4, 6], [0, 1]], // identity
];

test('Transpose: every permutation path, float32 and int32, same bits as stock and cpu', async () => {
  for (const [shape, perm] of PERMS) {
    const x = randn(shape, `t${shape.join('x')}`);
    const f = () => tf.transpose(tf.tensor(x, shape), perm);
    await assertBitIdentical(`transpose ${shape} ${perm}`, f, 'all', 'stock');
    await assertCpuParity(`transpose ${shape} ${perm}`, f, Number.MIN_VALUE);
    const ints = () => tf.transpose(tf.tensor(x, shape).mul(1000).toInt(), perm);
    const [a] = await on('wasm', ints);
    const [b] = await on('cpu', ints);
    assert.deepEqual(a, b, `int32 transpose ${shape} ${perm}`);
  }
});

test('GatherV2: axis 0 and inner axes, repeated indices; out-of-range indices throw the stock message', async () => {
  const x = randn([10, 6, 5], 'gx');
  const idx = [3, 0, 9, 3, 3, 7];
  for (const axis of [0, 1, 2]) {
    const n = [10, 6, 5][axis];
    const ids = idx.map((i) => i % n);
    const f = () => tf.gather(tf.tensor(x, [10, 6, 5]), tf.tensor2d(ids, [2, 3], 'int32'), axis);
    await assertBitIdentical(`gather axis ${axis}`, f, 'all', 'stock');
    await assertCpuParity(`gather axis ${axis}`, f, Number.MIN_VALUE);
  }
  await selectBackend('wasm');
  assert.throws(() => tf.gather(tf.tensor(x, [10, 6, 5]), tf.tensor1d([1, 10], 'int32')), /GatherV2: the index value 10 is not in \[0, 9\]/);
  assert.throws(() => tf.gather(tf.tensor(x, [10, 6, 5]), tf.tensor1d([-1], 'int32')), /GatherV2: the index value -1 is not in \[0, 9\]/);
});

test('Unpack on every axis, same bits as stock and cpu', async () => {
  const x = randn([3, 4, 5], 'ux');
  for (const axis of [0, 1, 2]) {
    const f = () => tf.unstack(tf.tensor(x, [3, 4, 5]), axis);
    await assertBitIdentical(`unstack axis ${axis}`, f, 'all', 'stock');
    await assertCpuParity(`unstack axis ${axis}`, f, Number.MIN_VALUE);
  }
});

test('Identity shares the buffer: a clone outlives its source, and nothing leaks', async () => {
  await selectBackend('wasm');
  const dataIds = tf.engine().backend.numDataIds();
  const x = tf.tensor1d([1, 2, 3]);
  const y = tf.clone(x);
  assert.equal(tf.engine().backend.numDataIds(), dataIds + 1, 'one buffer for both');
  x.dispose();
  assert.deepEqual(Array.from(y.dataSync()), [1, 2, 3]);
  const v = tf.variable(y);
  const z = tf.tensor1d([4, 5, 6]);
  v.assign(z);
  assert.deepEqual(Array.from(y.dataSync()), [1, 2, 3], 'assigning the variable leaves the clone');
  tf.dispose([y, v, z]);
  assert.equal(tf.engine().backend.numDataIds(), dataIds);
});
