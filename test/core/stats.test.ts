import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mean, sampleStd, spread } from '../../lib/core/stats';

test('mean of nothing is NaN, not 0', () => {
  assert.equal(mean([1, 2, 3]), 2);
  assert.ok(Number.isNaN(mean([])));
});

test('sample std uses n - 1; one value has no spread', () => {
  assert.equal(sampleStd([2, 4, 4, 4, 5, 5, 7, 9]), Math.sqrt(32 / 7));
  assert.equal(sampleStd([3]), 0);
  assert.ok(Number.isNaN(sampleStd([])));
});

test('spread gives mean, min and max', () => {
  assert.deepEqual(spread([3, 1, 2]), { mean: 2, lo: 1, hi: 3 });
});
