import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../lib/core/backend';
import { RunRng } from '../../lib/core/rng';
import { MlpClassifier, predictLogits } from '../../lib/nn/image-classifier';
import { crossEntropy, trainStep } from '../../lib/nn/training';

test('MLP classifier: shapes, parameter count, batched prediction equals one forward pass', async () => {
  await selectBackend('cpu');
  const m = new MlpClassifier(6, [5, 4], 3, new RunRng(2), 'mlp');
  // (6*5 + 5) + (5*4 + 4) + (4*3 + 3)
  assert.equal(m.paramCount(), 35 + 24 + 15);
  const bytes = Uint8Array.from({ length: 7 * 6 }, (_, i) => (i * 37) % 256);
  const batched = await predictLogits(m, bytes, 7, 3); // batches of 3, 3, 1
  const x = tf.tensor2d(Array.from(bytes, (b) => b / 255), [7, 6]);
  const direct = m.logits(x);
  const d = direct.dataSync();
  assert.equal(batched.length, 21);
  batched.forEach((v, i) => assert.ok(Math.abs(v - d[i]) < 1e-5));
  tf.dispose([x, direct]);
  m.dispose();
});

test('MLP classifier learns a separable toy problem without leaking tensors; same seed -> same init', async () => {
  await selectBackend('cpu');
  const m = new MlpClassifier(2, [8], 2, new RunRng(4), 'toy');
  const x = tf.tensor2d([[0, 0], [0, 1], [1, 0], [1, 1]]);
  const y = tf.tensor1d([0, 1, 1, 1], 'int32');
  const opt = tf.train.adam(0.05);
  const loss = () => crossEntropy(m.logits(x), y);
  const first = tf.tidy(() => loss().dataSync()[0]);
  tf.dispose(trainStep(opt, m.variables, loss));
  const before = tf.memory().numTensors;
  for (let i = 0; i < 100; i++) tf.dispose(trainStep(opt, m.variables, loss));
  assert.equal(tf.memory().numTensors, before);
  const last = tf.tidy(() => loss().dataSync()[0]);
  assert.ok(last < first * 0.5, `loss ${first} -> ${last}`);
  const again = new MlpClassifier(2, [8], 2, new RunRng(4), 'toy');
  assert.deepEqual(Array.from(again.variables[0].dataSync()), Array.from(new MlpClassifier(2, [8], 2, new RunRng(4), 'toy').variables[0].dataSync()));
  tf.dispose([x, y]);
  opt.dispose();
  m.dispose();
});
