/**
 * The replaced Sum: bit-identical to tfjs' stock wasm kernel (it adds in the stock
 * order, without the transpose) and within float32 rounding of the cpu backend.
 */
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { assertBitIdentical, assertCpuParity, randn } from './parity';

test('Sum over leading and middle axes: same bits as the stock kernel, cpu within rounding', async () => {
  const x = randn([6, 70, 9, 13], 'sx');
  for (const axis of [[0], [1], [0, 1], [1, 2], [0, 1, 2], [2], [3], [2, 3], [0, 2]]) {
    for (const keepDims of [false, true]) {
      const f = () => tf.sum(tf.tensor(x, [6, 70, 9, 13]), axis, keepDims);
      await assertBitIdentical(`sum ${axis} ${keepDims}`, f, 'all', 'stock');
      await assertCpuParity(`sum ${axis} ${keepDims}`, f, 1e-5);
    }
  }
  const big = randn([1024, 512], 'sbig');
  await assertBitIdentical('sum [1024,512] axis 0', () => tf.sum(tf.tensor(big, [1024, 512]), 0), 'all', 'stock');
});
