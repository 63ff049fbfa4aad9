import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../lib/core/backend';
import { UsageError } from '../../lib/core/errors';
import { RunRng } from '../../lib/core/rng';
import {
  adaptiveClassify,
  adaptiveHeadFlops,
  createMrlHead,
  mrlLogitsAll,
  mrlLogitsAt,
  mrlLoss,
  mrlLossPerHead,
  nestingSizes,
  prefixAccuracies,
  prefixPredictions,
  type PrefixPredictions,
} from '../../lib/nn/mrl';
import { ParamStore } from '../../lib/nn/layers';
import { crossEntropy } from '../../lib/nn/training';

const close = (a: number, b: number, tol = 1e-5) => assert.ok(Math.abs(a - b) <= tol * (1 + Math.abs(b)), `${a} vs ${b}`);

function data(seed: number, b: number, d: number, classes: number) {
  const z = tf.randomNormal([b, d], 0, 1, 'float32', seed) as tf.Tensor2D;
  const y = tf.tensor1d(Array.from({ length: b }, (_, i) => (i * 7 + seed) % classes), 'int32');
  return { z, y };
}

test('nesting sizes double from the start to D; bad D is a usage error', () => {
  assert.deepEqual(nestingSizes(2, 256), [2, 4, 8, 16, 32, 64, 128, 256]);
  assert.deepEqual(nestingSizes(8, 8), [8]);
  assert.throws(() => nestingSizes(2, 96), UsageError);
  assert.throws(() => nestingSizes(0, 8), UsageError);
});

test('with a single nesting size the MRL loss is plain cross-entropy (MRL and MRL-E)', async () => {
  await selectBackend('cpu');
  for (const kind of ['mrl', 'mrl-e'] as const) {
    const store = new ParamStore(new RunRng(3), `single-${kind}`);
    const head = createMrlHead(store, 'h', kind, [6], 4);
    const { z, y } = data(5, 9, 6, 4);
    const c = head.classifiers[0];
    const mrl = (await mrlLoss(z, y, head).data())[0];
    const plain = (await crossEntropy(tf.matMul(z, c.w).add(c.b as tf.Variable), y).data())[0];
    close(mrl, plain, 1e-6);
    store.dispose();
  }
});

test('fused loss equals the sum of per-size cross-entropies (weights included), for MRL and MRL-E', async () => {
  await selectBackend('cpu');
  for (const kind of ['mrl', 'mrl-e'] as const) {
    const store = new ParamStore(new RunRng(4), `fused-${kind}`);
    const head = createMrlHead(store, 'h', kind, [2, 4, 8], 5, [1, 0.5, 2]);
    const { z, y } = data(6, 11, 8, 5);
    close((await mrlLoss(z, y, head).data())[0], (await mrlLossPerHead(z, y, head).data())[0], 1e-5);
    // and each fused logit block equals the per-size logits
    const all = await mrlLogitsAll(z, head).array();
    for (let i = 0; i < 3; i++) {
      const one = await mrlLogitsAt(z, head, i).array();
      one.forEach((row, b) => row.forEach((v, k) => close(all[b][i][k], v, 1e-5)));
    }
    store.dispose();
  }
});

test('MRL has one [m, C] classifier per size; MRL-E shares one [D, C] classifier whose first m rows serve size m', async () => {
  await selectBackend('cpu');
  const store = new ParamStore(new RunRng(7), 'shapes');
  const mrl = createMrlHead(store, 'mrl', 'mrl', [2, 4, 8], 3);
  assert.deepEqual(mrl.classifiers.map((c) => c.w.shape), [[2, 3], [4, 3], [8, 3]]);
  const e = createMrlHead(store, 'mrle', 'mrl-e', [2, 4, 8], 3);
  assert.equal(e.classifiers.length, 1);
  assert.deepEqual(e.classifiers[0].w.shape, [8, 3]);
  // hand-computed MRL-E logits at m = 4: z[:, :4] W[:4] + b
  const { z } = data(8, 2, 8, 3);
  const zv = await z.array();
  const w = (await e.classifiers[0].w.array()) as number[][];
  const bv = (await (e.classifiers[0].b as tf.Variable).array()) as number[];
  const got = await mrlLogitsAt(z, e, 1).array();
  for (let b = 0; b < 2; b++)
    for (let k = 0; k < 3; k++) {
      let s = bv[k];
      for (let j = 0; j < 4; j++) s += zv[b][j] * w[j][k];
      close(got[b][k], s, 1e-5);
    }
  store.dispose();
});

test('gradients respect nesting: a loss on size 2 only touches z[:, :2] and, for MRL-E, rows 0..1 of the shared W', async () => {
  await selectBackend('cpu');
  for (const kind of ['mrl', 'mrl-e'] as const) {
    const store = new ParamStore(new RunRng(9), `grad-${kind}`);
    const head = createMrlHead(store, 'h', kind, [2, 4], 3, [1, 0]);
    const { z, y } = data(10, 5, 4, 3);
    const gz = (await tf.grad((zz: tf.Tensor) => mrlLoss(zz as tf.Tensor2D, y, head))(z).array()) as number[][];
    for (const row of gz) {
      assert.ok(Math.abs(row[0]) + Math.abs(row[1]) > 0);
      assert.equal(row[2], 0);
      assert.equal(row[3], 0);
    }
    const { grads } = tf.variableGrads(() => mrlLoss(z, y, head), store.variables);
    const names = Object.keys(grads);
    if (kind === 'mrl-e') {
      const gw = (await grads[names.find((n) => n.includes('shared/w'))!].array()) as number[][];
      assert.ok(gw[0].some((v) => v !== 0));
      assert.deepEqual(gw[2], [0, 0, 0]);
      assert.deepEqual(gw[3], [0, 0, 0]);
    } else {
      const g4 = (await grads[names.find((n) => n.includes('m4/w'))!].array()) as number[][];
      assert.ok(g4.every((r) => r.every((v) => v === 0)), 'the size-4 classifier gets no gradient at weight 0');
      const g2 = (await grads[names.find((n) => n.includes('m2/w'))!].array()) as number[][];
      assert.ok(g2.some((r) => r.some((v) => v !== 0)));
    }
    store.dispose();
  }
});

test('adaptive classification stops at the first confident size; FLOPs counted per tried size', () => {
  const pred: PrefixPredictions = {
    sizes: [2, 4, 8],
    predictions: [Int32Array.from([0, 1, 2, 3]), Int32Array.from([0, 2, 2, 3]), Int32Array.from([0, 2, 1, 9])],
    confidences: [Float32Array.from([0.95, 0.5, 0.2, 0.1]), Float32Array.from([0.99, 0.92, 0.3, 0.1]), Float32Array.from([0.99, 0.99, 0.95, 0.2])],
  };
  const labels = [0, 2, 1, 9];
  const o = adaptiveClassify(pred, labels, 0.9, 'mrl', 10);
  // example 0 stops at 2 (right), 1 at 4 (right), 2 at 8 (right), 3 never confident -> 8 (right)
  assert.deepEqual(o.stops, [1, 1, 2]);
  assert.equal(o.accuracy, 1);
  assert.equal(o.meanSize, (2 + 4 + 8 + 8) / 4);
  // head FLOPs: 2mC + 3C per tried size (MRL); MRL-E pays only the new rows
  assert.equal(adaptiveHeadFlops('mrl', [2, 4, 8], 10, 2), 70 + 110 + 190);
  assert.equal(adaptiveHeadFlops('mrl-e', [2, 4, 8], 10, 2), 70 + 70 + 110);
  assert.equal(o.meanHeadFlops, (70 + 180 + 370 + 370) / 4);
  assert.deepEqual(adaptiveClassify(pred, labels, 0, 'mrl', 10).stops, [4, 0, 0]);
  assert.deepEqual(adaptiveClassify(pred, labels, 2, 'mrl', 10).stops, [0, 0, 4]);
  assert.deepEqual(prefixAccuracies(pred, labels), [0.25, 0.5, 1]);
});

test('prefixPredictions: argmax and max probability per size, no leaked tensors', async () => {
  await selectBackend('cpu');
  const store = new ParamStore(new RunRng(11), 'pp');
  const head = createMrlHead(store, 'h', 'mrl', [2, 4], 3);
  const { z } = data(12, 6, 4, 3);
  const labels = tf.tensor1d([0, 1, 2, 0, 1, 2], 'int32');
  const before = tf.memory().numTensors;
  const p = await prefixPredictions(z, head);
  mrlLoss(z, labels, head).dispose();
  assert.equal(tf.memory().numTensors, before);
  const probs = await tf.softmax(mrlLogitsAt(z, head, 1)).array();
  probs.forEach((row, e) => {
    const m = Math.max(...row);
    close(p.confidences[1][e], m, 1e-6);
    assert.equal(p.predictions[1][e], row.indexOf(m));
  });
  store.dispose();
});
