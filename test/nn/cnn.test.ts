import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../lib/core/backend';
import { UsageError } from '../../lib/core/errors';
import { RunRng } from '../../lib/core/rng';
import { cnnFlops, im2colImages, im2colIndices, SmallCnn, type CnnConfig } from '../../lib/nn/cnn';
import { ParamStore } from '../../lib/nn/layers';

const cfg: CnnConfig = { height: 28, width: 28, conv1Channels: 4, conv2Channels: 6, embeddingDim: 8 };

function images(count: number, seed: number): Float32Array {
  const s = new RunRng(seed).stream('img');
  return Float32Array.from({ length: count * 784 }, () => s.next());
}

async function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  return (await a.sub(b).abs().max().data())[0];
}

test('im2col conv1 equals tf.conv2d (3x3, stride 2, same padding)', async () => {
  await selectBackend('cpu');
  const cols = im2colIndices(28, 28, 3, 2);
  assert.equal(cols.outH, 14);
  const x = images(2, 1);
  const k = tf.randomNormal([9, 4], 0, 1, 'float32', 3);
  const viaPatches = tf.matMul(tf.tensor2d(im2colImages(x, 2, 28, 28, cols), [2 * 196, 9]), k).reshape([2, 14, 14, 4]);
  const viaConv = tf.conv2d(tf.tensor4d(x, [2, 28, 28, 1]), k.reshape([3, 3, 1, 4]) as tf.Tensor4D, 2, 'same');
  assert.ok((await maxAbsDiff(viaPatches, viaConv)) < 1e-5);
  // 28 -> 14 pads one row/column at the bottom/right only (TensorFlow puts the odd pad there)
  assert.deepEqual(Array.from(cols.indices.subarray(0, 9)), [0, 1, 2, 28, 29, 30, 56, 57, 58]);
  // 5 -> 3 pads one on each side: the first patch starts at (-1, -1)
  const odd = im2colIndices(5, 5, 3, 2);
  assert.equal(odd.outH, 3);
  assert.deepEqual(Array.from(odd.indices.subarray(0, 9)), [-1, -1, -1, -1, 0, 1, -1, 5, 6]);
});

test('the whole forward pass equals tf.conv2d layers + dense (conv2 = 2x2 stride 2)', async () => {
  await selectBackend('cpu');
  const store = new ParamStore(new RunRng(2), 'cnn-eq');
  const cnn = new SmallCnn(cfg, store);
  const x = images(3, 4);
  const z = cnn.forward(cnn.patches(x, 3), 3);
  assert.deepEqual(z.shape, [3, 8]);
  const ref = tf.tidy(() => {
    const a1 = tf.relu(tf.conv2d(tf.tensor4d(x, [3, 28, 28, 1]), cnn.conv1.w.reshape([3, 3, 1, 4]) as tf.Tensor4D, 2, 'same').add(cnn.conv1.b as tf.Variable));
    const a2 = tf.relu(tf.conv2d(a1 as tf.Tensor4D, cnn.conv2.w.reshape([2, 2, 4, 6]) as tf.Tensor4D, 2, 'valid').add(cnn.conv2.b as tf.Variable));
    return tf.matMul(a2.reshape([3, 7 * 7 * 6]), cnn.embed.w).add(cnn.embed.b as tf.Variable);
  });
  assert.ok((await maxAbsDiff(z, ref)) < 1e-4);
  // embedImages (chunked, no gradient) gives the same numbers
  const e = await cnn.embedImages(x, 3, 2);
  const zz = await z.data();
  e.forEach((v, i) => assert.ok(Math.abs(v - zz[i]) < 1e-5));
  store.dispose();
});

test('seeded: same seed and name -> same embedding, another seed -> different; no leaked tensors', async () => {
  await selectBackend('cpu');
  const x = images(2, 5);
  const run = async (seed: number) => {
    const store = new ParamStore(new RunRng(seed), 'cnn-seed');
    const cnn = new SmallCnn(cfg, store);
    const out = await cnn.embedImages(x, 2);
    store.dispose();
    return Array.from(out);
  };
  const before = tf.memory().numTensors;
  const a = await run(1);
  assert.deepEqual(await run(1), a);
  assert.notDeepEqual(await run(2), a);
  assert.equal(tf.memory().numTensors, before);
});

test('FLOPs by hand; an odd conv1 map is a usage error', () => {
  const f = cnnFlops({ height: 28, width: 28, conv1Channels: 16, conv2Channels: 32, embeddingDim: 256 });
  assert.equal(f.trunk, 2 * 9 * 196 * 16 + 2 * 64 * 49 * 32);
  assert.equal(f.embedding, 2 * 1568 * 256);
  assert.equal(cnnFlops({ height: 28, width: 28, conv1Channels: 16, conv2Channels: 32, embeddingDim: 256 }, 8).embedding, 2 * 1568 * 8);
  assert.throws(() => new SmallCnn({ ...cfg, height: 26, width: 26 }, new ParamStore(new RunRng(1), 'odd')), UsageError);
});
