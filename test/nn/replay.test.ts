import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RunRng } from '../../lib/core/rng';
import { reverseReplayOrder, reverseReplaySchedule, UniformReplay } from '../../lib/nn/replay';

test('RER replays each buffer in reverse and idles on the gap', () => {
  // blocks of buffer 3 + gap 1: [0,1,2 | 3], [4,5,6 | 7]
  assert.deepEqual(Array.from(reverseReplaySchedule(8, 3, 1)), [2, 1, 0, -1, 6, 5, 4, -1]);
  assert.deepEqual(reverseReplayOrder(8, 3, 1), [2, 1, 0, 6, 5, 4]);
  // no gap: plain reversed blocks
  assert.deepEqual(reverseReplayOrder(6, 3, 0), [2, 1, 0, 5, 4, 3]);
  // an incomplete last block is replayed over what exists of its buffer part
  assert.deepEqual(Array.from(reverseReplaySchedule(6, 3, 1)), [2, 1, 0, -1, 5, 4]);
});

test('RER at the paper setting (B=100, u=10): every buffer sample once, decreasing within a buffer, no gap sample', () => {
  const B = 100;
  const u = 10;
  const n = 2200;
  const order = reverseReplayOrder(n, B, u);
  assert.equal(order.length, (n / (B + u)) * B);
  assert.equal(new Set(order).size, order.length);
  for (const i of order) assert.ok(i % (B + u) < B, `sample ${i} lies in a gap`);
  for (let k = 0; k < order.length; k += B) {
    const buf = order.slice(k, k + B);
    assert.equal(buf[0], Math.floor(buf[0] / (B + u)) * (B + u) + B - 1);
    for (let j = 1; j < B; j++) assert.equal(buf[j], buf[j - 1] - 1);
  }
  // at each block end the schedule has finished exactly that block's buffer
  const sched = reverseReplaySchedule(n, B, u);
  assert.equal(sched[B - 1], 0);
  assert.equal(sched[B], -1);
});

test('bad buffer/gap are rejected', () => {
  assert.throws(() => reverseReplaySchedule(10, 0, 1), RangeError);
  assert.throws(() => reverseReplaySchedule(10, 2, -1), RangeError);
});

test('uniform replay keeps the last `capacity` items and samples only those', () => {
  const mem = new UniformReplay<number>(4);
  for (let i = 0; i < 10; i++) mem.push(i);
  assert.equal(mem.size, 4);
  const s = new RunRng(7).stream('replay');
  const seen = new Set<number>();
  for (let i = 0; i < 200; i++) seen.add(mem.sample(s));
  assert.deepEqual([...seen].sort(), [6, 7, 8, 9]);
  assert.throws(() => new UniformReplay<number>(3).sample(s), RangeError);
});
