import assert from 'node:assert/strict';
import { test } from 'node:test';
import { difference, firstCrossing, ratio } from '../../lib/harness/metrics';

test('ratio and difference pass the first non-number (not-run or outcome) through', () => {
  assert.equal(ratio(6, 3), 2);
  assert.equal(difference(6, 3), 3);
  const a = { notRun: 'a missing', precondition: 'data' as const };
  const b = { outcome: 'not-reproduced' as const, reason: 'b diverged' };
  assert.equal(ratio(a, b), a);
  assert.equal(ratio(1, b), b);
  assert.equal(difference(a, 2), a);
});

test('firstCrossing interpolates between the last point above the target and the first at or below it', () => {
  assert.equal(firstCrossing([10, 20, 30], [3, 2, 1], 1.5), 25);
  assert.equal(firstCrossing([10, 20, 30], [3, 2, 1], 2), 20);
  assert.equal(firstCrossing([10, 20, 30], [3, 2, 1], 0.5), null);
  // A flat step onto the target: the first x at the target.
  assert.equal(firstCrossing([0, 10, 20], [3, 2, 2], 2), 10);
});

test('firstCrossing at the first measurement returns its x, never an x before the curve was observed', () => {
  // The curve is not observed before x = 10, so the crossing is not at 0.
  assert.equal(firstCrossing([10, 20, 30], [3, 2, 1], 3.5), 10);
  // A curve measured from x = 0 (a training curve's initial evaluation) gives 0.
  assert.equal(firstCrossing([0, 10], [5, 3], 5), 0);
  assert.throws(() => firstCrossing([1, 2], [1], 1), /2 x values but 1 y values/);
});
