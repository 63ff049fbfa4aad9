import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cosineRate } from '../../lib/nn/training';

test('cosine rate: the base rate at step 0, half of it midway, 0 at the end, never rising', () => {
  assert.equal(cosineRate(3e-3, 0, 100), 3e-3);
  assert.ok(Math.abs(cosineRate(3e-3, 50, 100) - 1.5e-3) < 1e-12);
  assert.ok(Math.abs(cosineRate(3e-3, 100, 100)) < 1e-12);
  for (let s = 1; s <= 100; s++) assert.ok(cosineRate(1, s, 100) <= cosineRate(1, s - 1, 100));
});
