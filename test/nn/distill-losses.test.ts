import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../lib/core/backend';
import {
  argmaxRows,
  embeddingMatchLoss,
  klDistillation,
  marginMse,
  positiveRanks,
  rankingQuality,
  softLabelCrossEntropy,
  softTargets,
  top1Agreement,
} from '../../lib/nn/distill-losses';
import { crossEntropy } from '../../lib/nn/training';

const close = (a: number, b: number, tol = 1e-5) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);
const value = (t: tf.Tensor) => {
  const v = t.dataSync()[0];
  t.dispose();
  return v;
};

test('soft-label cross-entropy and KL distillation match hand-computed values', async () => {
  await selectBackend('cpu');
  const ln3 = Math.log(3);
  // student softmax [1/4, 3/4], targets [1/2, 1/2]: -(ln 1/4 + ln 3/4)/2
  close(value(softLabelCrossEntropy(tf.tensor2d([[0, ln3]]), tf.tensor2d([[0.5, 0.5]]))), 0.5 * (Math.log(4) + Math.log(4 / 3)));
  // KL([1/2,1/2] || [1/4,3/4]) at T = 1: 0.5 ln 2 + 0.5 ln(2/3) = 0.143841
  close(value(klDistillation(tf.tensor2d([[0, ln3]]), tf.tensor2d([[0, 0]]), 1)), 0.143841);
  // T = 2: teacher [0, 2 ln 3]/2 -> [1/4, 3/4]; student uniform; T^2 * KL = 4 * 0.130812
  close(value(klDistillation(tf.tensor2d([[0, 0]]), tf.tensor2d([[0, 2 * ln3]]), 2)), 4 * (0.25 * Math.log(0.5) + 0.75 * Math.log(1.5)));
  // KL is zero when student = teacher, and it averages over rows
  close(value(klDistillation(tf.tensor2d([[1, 2, 3], [0, 0, 5]]), tf.tensor2d([[1, 2, 3], [0, 0, 5]]), 3)), 0);
  close(value(klDistillation(tf.tensor2d([[0, ln3], [0, 0]]), tf.tensor2d([[0, 0], [0, 0]]), 1)), 0.143841 / 2);
});

test('margin-MSE and embedding matching match hand-computed values', () => {
  // student margins [3-1, 3-2] = [2, 1]; teacher [1-0, 1-2] = [1, -1]; squared diffs 1, 4
  close(value(marginMse(tf.tensor2d([[3, 1, 2]]), tf.tensor2d([[1, 0, 2]]))), 2.5);
  close(value(embeddingMatchLoss(tf.tensor2d([[1, 2], [0, 0]]), tf.tensor2d([[0, 0], [3, 4]]))), 15);
  // relative: divided by the teacher's mean squared norm (0 + 25) / 2
  close(value(embeddingMatchLoss(tf.tensor2d([[1, 2], [0, 0]]), tf.tensor2d([[0, 0], [3, 4]]), { relative: true })), 15 / 12.5);
  assert.throws(() => marginMse(tf.tensor2d([[1]]), tf.tensor2d([[1]])), RangeError);
});

test('as the teacher temperature goes to 0, the soft-label loss tends to the hard-label loss on the teacher argmax', () => {
  const student = tf.tensor2d([[0.3, -1.2, 2.0, 0.5], [1.5, 0.2, -0.4, 0.9], [-0.7, 0.1, 0.3, 1.1]]);
  const teacher = tf.tensor2d([[0.1, 0.4, 0.2, -0.3], [2.0, 1.9, 0.0, 0.5], [0.0, -1.0, 0.8, 0.79]]);
  const hard = value(crossEntropy(student, tf.tensor1d(Array.from(argmaxRows(teacher.dataSync() as Float32Array, 4)), 'int32')));
  const gaps = [1, 0.1, 0.01, 0.001].map((t) => Math.abs(value(softLabelCrossEntropy(student, softTargets(teacher, t))) - hard));
  for (let i = 1; i < gaps.length; i++) assert.ok(gaps[i] <= gaps[i - 1] + 1e-7, `gap grows at step ${i}: ${gaps}`);
  assert.ok(gaps[0] > 0.01, `the test needs a teacher that is not already one-hot (gap ${gaps[0]})`);
  assert.ok(gaps[gaps.length - 1] < 1e-4, `at T=0.001 the gap is ${gaps[gaps.length - 1]}`);
  assert.throws(() => softTargets(teacher, 0), RangeError);
  tf.dispose([student, teacher]);
});

test('ranking metrics and fidelity on a hand-made example', () => {
  // ranks of candidate 0: 2, 1, 3 (a tie counts against the positive)
  const scores = [1, 0, 2, 5, 1, 1, 0, 1, 0];
  assert.deepEqual(Array.from(positiveRanks(scores, 3)), [2, 1, 3]);
  const q = rankingQuality([1, 0, 2, 5, 1, 1, 0, 1, 1], 3);
  close(q.recallAt1, 1 / 3);
  close(q.recallAt5, 1);
  close(q.mrr, (1 / 2 + 1 + 1 / 3) / 3);
  assert.deepEqual(Array.from(argmaxRows([0, 2, 1, 3, 3, 1], 3)), [1, 0]);
  close(top1Agreement(Int32Array.from([1, 2, 3, 4]), Int32Array.from([1, 0, 3, 0])), 0.5);
  assert.throws(() => top1Agreement(Int32Array.from([1]), Int32Array.from([1, 2])), RangeError);
});

test('losses leak no tensors', () => {
  const before = tf.memory().numTensors;
  const s = tf.tensor2d([[1, 2, 3]]);
  const t = tf.tensor2d([[3, 2, 1]]);
  const p = softTargets(t, 1);
  tf.dispose([klDistillation(s, t, 2), marginMse(s, t), embeddingMatchLoss(s, t), softLabelCrossEntropy(s, p)]);
  tf.dispose([s, t, p]);
  assert.equal(tf.memory().numTensors, before);
});
