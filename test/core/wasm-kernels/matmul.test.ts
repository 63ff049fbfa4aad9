/**
 * Parity of the wasm matMul fixes against the cpu backend (the reference, ARCHITECTURE.md §3).
 *
 * Tolerance: relative error (max |wasm - cpu| / max |cpu|) below 1e-4. Both compute in
 * float32 with different summation orders (XNNPACK blocks and SIMD-accumulates, cpu sums
 * in order), which moves results by ~1e-6 relative at these sizes; 1e-4 leaves room
 * for that and still catches any wrong index or transpose (errors of order 1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../lib/core/backend';
import { restoreStockWasmMatMul, installMatMulFixes, wasmMatMulFixInstalled } from '../../../lib/core/wasm-kernels';
import { assertBitIdentical, on, randn, relativeError } from './parity';

const TOLERANCE = 1e-4;
async function assertParity(label: string, f: () => tf.Tensor | tf.Tensor[]): Promise<void> {
  const want = await on('cpu', f);
  const got = await on('wasm', f);
  assert.ok(wasmMatMulFixInstalled(), 'selecting wasm installs the matMul fix');
  assert.equal(got.length, want.length);
  for (let i = 0; i < want.length; i++) {
    const err = relativeError(got[i], want[i]);
    assert.ok(err < TOLERANCE, `${label} output ${i}: relative error ${err.toExponential(2)} >= ${TOLERANCE}`);
  }
}

test('matMul: all four transpose combinations, 2-D', async () => {
  const a = randn([48, 40], 'a2');
  const b = randn([48, 40], 'b2');
  for (const [ta, tb] of [[false, true], [true, false], [false, false], [true, true]] as const) {
    // Shapes chosen so each combination is a valid product: (48x40)·(40x48) etc.
    const aShape = ta ? [40, 48] : [48, 40];
    const bShape = tb ? [48, 40] : [40, 48];
    await assertParity(`2-D ta=${ta} tb=${tb}`, () => tf.matMul(tf.tensor(a, aShape), tf.tensor(b, bShape), ta, tb));
  }
});

test('matMul: batched 3-D (per-element path), shared right operand (fold) and shared left operand', async () => {
  const a = randn([6, 40, 36], 'a3');
  const b = randn([6, 36, 40], 'b3');
  for (const [ta, tb] of [[false, false], [false, true], [true, false], [true, true]] as const) {
    const aShape = ta ? [6, 36, 40] : [6, 40, 36];
    const bShape = tb ? [6, 40, 36] : [6, 36, 40];
    await assertParity(`3-D ta=${ta} tb=${tb}`, () => tf.matMul(tf.tensor(a, aShape), tf.tensor(b, bShape), ta, tb));
  }
  const w = randn([36, 40], 'w');
  await assertParity('3-D x 2-D weights', () => tf.matMul(tf.tensor(a, [6, 40, 36]), tf.tensor(w, [36, 40])));
  await assertParity('2-D x 3-D', () => tf.matMul(tf.tensor(w, [40, 36]), tf.tensor(b, [6, 36, 40])));
  // Broadcast over leading batch dimensions ([2,3] with [1,3]).
  await assertParity('broadcast batch', () => tf.matMul(tf.tensor(a, [2, 3, 40, 36]), tf.tensor(b.subarray(0, 3 * 36 * 40), [1, 3, 36, 40])));
  // Rank 4 (batch x heads), as attention uses it.
  await assertParity('4-D', () => tf.matMul(tf.tensor(a, [2, 3, 40, 36]), tf.tensor(b, [2, 3, 40, 36]), false, true));
});

test('fused matMul with bias and relu on batched input matches cpu', async () => {
  // The stock wasm slow path indexes the bias by i*N+j (clamped), so this also guards
  // that batched fused products never fall back to it.
  const a = randn([4, 40, 36], 'fa');
  const b = randn([4, 36, 40], 'fb');
  const bias = randn([40], 'fbias');
  await assertParity('fused batched', () =>
    tf.fused.matMul({ a: tf.tensor(a, [4, 40, 36]), b: tf.tensor(b, [4, 36, 40]), bias: tf.tensor(bias), activation: 'relu' }),
  );
  // Tiny shapes (below the per-element-loop threshold) must not fall back either.
  await assertParity('fused batched tiny', () =>
    tf.fused.matMul({ a: tf.tensor(a.subarray(0, 24), [2, 3, 4]), b: tf.tensor(b.subarray(0, 24), [2, 4, 3]), bias: tf.tensor(bias.subarray(0, 3)) }),
  );
  await assertParity('fused transposeB', () =>
    tf.fused.matMul({ a: tf.tensor(a, [160, 36]), b: tf.tensor(b, [144, 40]).slice([0, 0], [40, 36]), transposeB: true, bias: tf.tensor(bias) }),
  );
});

test('gradient of a small attention + MLP model matches cpu', async () => {
  const [B, T, D, V] = [2, 40, 32, 17];
  const ids = Int32Array.from({ length: B * T }, (_, i) => (i * 7 + 3) % V);
  const emb = randn([V, D], 'emb');
  const wq = randn([D, D], 'wq');
  const wk = randn([D, D], 'wk');
  const wv = randn([D, D], 'wv');
  const w1 = randn([D, 2 * D], 'w1');
  const w2 = randn([2 * D, V], 'w2');
  const targets = Int32Array.from({ length: B * T }, (_, i) => (i * 5 + 1) % V);
  await assertParity('model gradient', () => {
    const params = [emb, wq, wk, wv, w1, w2].map((p, i) => tf.tensor(p, [[V, D], [D, D], [D, D], [D, D], [D, 2 * D], [2 * D, V]][i]));
    const loss = (e: tf.Tensor, q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, a: tf.Tensor, b: tf.Tensor): tf.Scalar => {
      const x = tf.gather(e, tf.tensor(ids, [B, T], 'int32')).mul(0.2) as tf.Tensor3D; // [B,T,D]; gather grad = UnsortedSegmentSum
      // Projections on 2-D rows: tfjs 4.22's matMul gradient does not reduce a broadcast batch (3-D x 2-D).
      const proj = (w: tf.Tensor) => tf.matMul(x.reshape([B * T, D]), w).reshape([B, T, D]) as tf.Tensor3D;
      const s = tf.matMul(proj(q), proj(k), false, true).div(Math.sqrt(D) * 25);
      const h = x.add(tf.matMul(tf.softmax(s), proj(v)).mul(0.2));
      const logits = tf.matMul(tf.relu(tf.matMul(h.reshape([B * T, D]), a.mul(0.2))), b.mul(0.2));
      return tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d(targets, 'int32'), V), logits);
    };
    const { value, grads } = tf.valueAndGrads(loss as (...args: tf.Tensor[]) => tf.Scalar)(params);
    return [value, ...grads];
  });
});

test('UnsortedSegmentSum (gather gradient) matches cpu, with repeated and absent ids', async () => {
  const x = randn([12, 5], 'segx');
  const ids = [3, 0, 3, 3, 7, 0, 1, 1, 7, 3, 0, 2]; // segments 4, 5, 6 get nothing
  await assertParity('unsortedSegmentSum', () => tf.unsortedSegmentSum(tf.tensor(x, [12, 5]), tf.tensor1d(ids, 'int32'), 8));
  // Out-of-range ids are dropped (TensorFlow semantics) through the cpu fallback.
  await assertParity('unsortedSegmentSum out of range', () => tf.unsortedSegmentSum(tf.tensor(x, [12, 5]), tf.tensor1d(ids.map((i) => i - 1), 'int32'), 8));
});

test('Einsum and conv2d filter gradient run on wasm (cpu delegation) and match cpu', async () => {
  const a = randn([3, 4, 5], 'ea');
  const b = randn([3, 5, 6], 'eb');
  await assertParity('einsum', () => tf.einsum('bij,bjk->bik', tf.tensor(a, [3, 4, 5]), tf.tensor(b, [3, 5, 6])));
  const img = randn([2, 7, 7, 3], 'img');
  const filt = randn([3, 3, 3, 4], 'filt');
  await assertParity('conv2d grads', () => {
    const f = (x: tf.Tensor4D, w: tf.Tensor4D) => tf.conv2d(x, w, 2, 'same').square().sum() as tf.Scalar;
    return tf.grads(f as (...args: tf.Tensor[]) => tf.Scalar)([tf.tensor4d(img, [2, 7, 7, 3]), tf.tensor4d(filt, [3, 3, 3, 4])]);
  });
});

test('the fixed kernels leak neither tensors nor wasm buffers', async () => {
  await selectBackend('wasm');
  const a = tf.tensor(randn([4, 40, 36], 'la'), [4, 40, 36]);
  const b = tf.tensor(randn([4, 40, 36], 'lb'), [4, 40, 36]);
  const step = () => tf.tidy(() => {
    tf.matMul(a, b, false, true).dataSync();
    tf.matMul(a, b, true, false).dataSync();
    tf.matMul(a.reshape([160, 36]), b.reshape([160, 36]), true, false).dataSync();
    tf.unsortedSegmentSum(a.reshape([160, 36]), tf.tensor1d(Array.from({ length: 160 }, (_, i) => i % 7), 'int32'), 7).dataSync();
  });
  step();
  const tensors = tf.memory().numTensors;
  const dataIds = tf.engine().backend.numDataIds();
  for (let i = 0; i < 3; i++) step();
  assert.equal(tf.memory().numTensors, tensors);
  assert.equal(tf.engine().backend.numDataIds(), dataIds);
  tf.dispose([a, b]);
});

test('stock kernels can be restored and the fix re-installed (both give the same numbers)', async () => {
  await selectBackend('wasm');
  const a = tf.tensor(randn([40, 36], 'ra'), [40, 36]);
  const b = tf.tensor(randn([40, 36], 'rb'), [40, 36]);
  const fixed = tf.matMul(a, b, true, false);
  restoreStockWasmMatMul();
  assert.equal(wasmMatMulFixInstalled(), false);
  const stock = tf.matMul(a, b, true, false);
  installMatMulFixes();
  installMatMulFixes(); // idempotent
  assert.equal(wasmMatMulFixInstalled(), true);
  assert.ok(relativeError(fixed.dataSync(), stock.dataSync()) < TOLERANCE);
  tf.dispose([a, b, fixed, stock]);
});

test('products on the SIMD GEMM are bit-identical to XNNPACK (2-D, folded and batched)', async () => {
  // Both accumulate each output over k in order with separate multiply and add, so the
  // GEMM changes no number that XNNPACK computed (level 'matmul-fix' runs XNNPACK one
  // batch element at a time, for products of at least 32K multiply-adds per element;
  // below that it kept tfjs' stock loop, which sums k in blocks of 48: for k > 48 the
  // GEMM differs from it in the last bits, within the cpu parity above).
  for (const [m, k, n] of [[40, 36, 40], [128, 32, 128], [33, 64, 24], [65, 130, 9]]) {
    const a = randn([6, m, k], `ga${m}`);
    const b = randn([6, k, n], `gb${m}`);
    await assertBitIdentical(`gemm ${m}x${k}x${n}`, () => tf.matMul(tf.tensor(a, [6, m, k]), tf.tensor(b, [6, k, n])), 'all', 'matmul-fix');
    await assertBitIdentical(`gemm ${m}x${k}x${n} transposed`, () => tf.matMul(tf.tensor(a, [6, k, m]), tf.tensor(b, [6, n, k]), true, true), 'all', 'matmul-fix');
  }
  for (const [m, k, n] of [[512, 128, 384], [37, 130, 45], [1, 300, 7]]) {
    const a = randn([m, k], `g2a${m}`);
    const b = randn([k, n], `g2b${m}`);
    await assertBitIdentical(`gemm 2-D ${m}x${k}x${n}`, () => tf.matMul(tf.tensor(a, [m, k]), tf.tensor(b, [k, n])), 'all', 'matmul-fix');
    await assertBitIdentical(`gemm 2-D ${m}x${k}x${n} transposed`, () => tf.matMul(tf.tensor(a, [k, m]), tf.tensor(b, [n, k]), true, true), 'all', 'matmul-fix');
  }
  const w = randn([36, 40], 'gw');
  const x = randn([6, 40, 36], 'gx');
  await assertBitIdentical('gemm folded x @ W', () => tf.matMul(tf.tensor(x, [6, 40, 36]), tf.tensor(w, [36, 40])), 'all', 'matmul-fix');
  const a = randn([2, 3, 40, 36], 'gba');
  const b = randn([1, 3, 36, 40], 'gbb');
  await assertBitIdentical('gemm broadcast batch', () => tf.matMul(tf.tensor(a, [2, 3, 40, 36]), tf.tensor(b, [1, 3, 36, 40])), 'all', 'matmul-fix');
});
