import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { medianMs, timeAsync } from '../../lib/core/timer';
import { selectBackend } from '../../lib/core/backend';

test('timeAsync returns the value (tensors synced, not disposed) and a duration', async () => {
  await selectBackend('cpu');
  const a = tf.ones([4, 4]);
  const { value, ms } = await timeAsync(() => ({ out: tf.matMul(a, a), note: 'x' }));
  assert.ok(ms >= 0);
  assert.equal(value.note, 'x');
  assert.deepEqual(Array.from(await value.out.data()).slice(0, 2), [4, 4]);
  value.out.dispose();
  a.dispose();
});

test('medianMs runs warm-up + repeats', async () => {
  let calls = 0;
  const ms = await medianMs(() => calls++, 5, 2);
  assert.equal(calls, 7);
  assert.ok(ms >= 0);
});

test('medianMs disposes the tensors its step returns (a timed training step leaks nothing)', async () => {
  const tf = await import('@tensorflow/tfjs');
  await tf.setBackend('cpu');
  const x = tf.ones([4, 4]);
  const before = tf.memory().numTensors;
  await medianMs(() => ({ y: x.add(1), parts: [x.mul(2)] }), 3, 1);
  assert.equal(tf.memory().numTensors, before);
  x.dispose();
});
