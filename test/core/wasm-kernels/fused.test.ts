/**
 * Fused ops on wasm against the tfjs composition on the cpu backend (the same lib/nn
 * functions: they fuse only on wasm): values and gradients.
 *
 * Tolerance 1e-5 relative (max |wasm - cpu| / max |cpu|). Observed on the benchmark
 * machine: 1e-7 to 1.5e-6 (other summation orders, a polynomial exp). Norms over 2 or 3
 * elements of a shifted input cancel badly on both sides (observed up to 4e-5) and get
 * 1e-4. A wrong index, axis or formula gives errors of 1e-2 or more.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../lib/core/backend';
import { fusedOpsActive, fusedSoftmax, useWasmKernels } from '../../../lib/core/wasm-kernels';
import { gelu, layerNorm, rmsNorm, softmax } from '../../../lib/nn/layers';
import { crossEntropy } from '../../../lib/nn/training';
import { assertCpuParity, on, randn, relativeError } from './parity';

const TOLERANCE = 1e-5;
const NARROW_TOLERANCE = 1e-4;

/** Value and gradients of sum(op(inputs) * weights), so every output element has its own dy. */
function valueAndGrads(op: (...xs: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[], weights: tf.Tensor): tf.Tensor[] {
  const y = op(...inputs);
  const { value, grads } = tf.valueAndGrads((...xs: tf.Tensor[]) => op(...xs).mul(weights).sum() as tf.Scalar)(inputs);
  return [y, value, ...grads];
}

// Last axes of 4k (the SIMD path), 4k+1..3 (the tails) and narrow rows. (Width 1 is left
// out of the norms: x / |x| is ill-conditioned, and both sides' gradients are rounding.)
const WIDTHS = [128, 39, 7, 6, 5, 3, 2];
const tolerance = (d: number) => (d < 4 ? NARROW_TOLERANCE : TOLERANCE);

test('fusedOpsActive: on wasm only, and off at the lower kernel levels', async () => {
  await selectBackend('cpu');
  assert.equal(fusedOpsActive(), false);
  await selectBackend('wasm');
  assert.equal(fusedOpsActive(), true);
  useWasmKernels('matmul-fix');
  assert.equal(fusedOpsActive(), false);
  useWasmKernels('all');
});

test('GELU matches cpu, including large |x| where the exp saturates', async () => {
  const x = randn([5, 37], 'gelu', 3);
  x.set([-30, -12, -9.5, 0, 9.5, 12, 30, 1e-30], 0);
  const w = randn([5, 37], 'gelu-w');
  await assertCpuParity('gelu', () => valueAndGrads((t) => gelu(t as tf.Variable), [tf.tensor(x, [5, 37])], tf.tensor(w, [5, 37])), TOLERANCE);
});

test('LayerNorm matches cpu for every tail width, with gain and bias gradients', async () => {
  for (const d of WIDTHS) {
    const x = randn([3, 7, d], `ln${d}`, 2);
    for (let i = 0; i < x.length; i++) x[i] += 5; // a mean far from 0
    const g = randn([d], `lng${d}`);
    const b = randn([d], `lnb${d}`);
    const w = randn([3, 7, d], `lnw${d}`);
    await assertCpuParity(`layerNorm d=${d}`, () =>
      valueAndGrads((t, gg, bb) => layerNorm(t, gg as tf.Variable, bb as tf.Variable), [tf.tensor(x, [3, 7, d]), tf.tensor(g), tf.tensor(b)], tf.tensor(w, [3, 7, d])), tolerance(d));
  }
});

test('RMSNorm matches cpu for every tail width, with the gain gradient', async () => {
  for (const d of WIDTHS) {
    const x = randn([4, 5, d], `rms${d}`, 2);
    const g = randn([d], `rmsg${d}`);
    const w = randn([4, 5, d], `rmsw${d}`);
    await assertCpuParity(`rmsNorm d=${d}`, () => valueAndGrads((t, gg) => rmsNorm(t, gg as tf.Variable), [tf.tensor(x, [4, 5, d]), tf.tensor(g)], tf.tensor(w, [4, 5, d])), tolerance(d));
  }
});

test('softmax matches tf.softmax on cpu, including -1e9 masked entries (exactly 0)', async () => {
  for (const v of [...WIDTHS, 1]) {
    const x = randn([6, v], `sm${v}`, 4);
    if (v > 2) x[1] = -1e9;
    const w = randn([6, v], `smw${v}`);
    const f = (soft: (t: tf.Tensor) => tf.Tensor) => () => valueAndGrads(soft, [tf.tensor(x, [6, v])], tf.tensor(w, [6, v]));
    const want = await on('cpu', f((t) => tf.softmax(t)));
    const got = await on('wasm', f((t) => fusedSoftmax(t)));
    const viaLayer = await on('wasm', f((t) => softmax(t)));
    assert.deepEqual(viaLayer, got, 'lib/nn softmax fuses on wasm');
    for (let i = 0; i < want.length; i++) {
      const err = relativeError(got[i], want[i]);
      assert.ok(err < TOLERANCE, `softmax v=${v} output ${i}: relative error ${err}`);
    }
    if (v > 2) assert.equal(got[0][1], 0, 'a -1e9 logit gets probability 0');
  }
});

test('cross-entropy matches cpu, with out-of-range targets counting 0, and float targets', async () => {
  for (const v of [256, 37, 5]) {
    const logits = randn([3, 11, v], `ce${v}`, 3);
    const targets = Int32Array.from({ length: 33 }, (_, i) => (i * 7 + 2) % v);
    targets[4] = -1;
    targets[9] = v; // out of range: a zero one-hot row
    await assertCpuParity(`crossEntropy v=${v}`, () => {
      const x = tf.tensor(logits, [3, 11, v]);
      const t = tf.tensor(targets, [3, 11], 'int32');
      const { value, grads } = tf.valueAndGrads((l: tf.Tensor) => crossEntropy(l, t))([x]);
      return [value, ...grads];
    }, TOLERANCE);
    await assertCpuParity(`crossEntropy float targets v=${v}`, () => crossEntropy(tf.tensor(logits, [3, 11, v]), tf.tensor(targets, [3, 11], 'float32')), TOLERANCE);
  }
});

test('fused ops are deterministic and leak no tensors or wasm buffers', async () => {
  const x = randn([8, 37], 'det');
  const g = randn([37], 'detg');
  const t = Int32Array.from({ length: 8 }, (_, i) => i * 3);
  const f = () => {
    const { value, grads } = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) =>
      crossEntropy(gelu(layerNorm(rmsNorm(a, b as tf.Variable), b as tf.Variable, b as tf.Variable)).mul(3), tf.tensor(t, [8], 'int32')))([tf.tensor(x, [8, 37]), tf.tensor(g)]);
    return [value, ...grads];
  };
  const first = await on('wasm', f);
  const again = await on('wasm', f);
  assert.deepEqual(again, first);
  await selectBackend('wasm');
  const tensors = tf.memory().numTensors;
  const dataIds = tf.engine().backend.numDataIds();
  tf.dispose(tf.tidy(f));
  assert.equal(tf.memory().numTensors, tensors);
  assert.equal(tf.engine().backend.numDataIds(), dataIds);
});
