import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateClaim, formatExpectation, isUnexpectedFailure, meanStd } from '../../lib/harness/verdicts';
import type { Claim } from '../../lib/harness/contract';

type R = { ratio: number; missing?: boolean };
const claim: Claim<R> = {
  id: 'x-ratio',
  paper: 'arXiv:0000.00000',
  source: 'Fig. 1',
  statement: 'ratio is at least 2',
  paperValue: '~3x',
  measures: 'ratio',
  metric: (r) => (r.missing ? { notRun: 'dataset not installed' } : r.ratio),
  expect: { atLeast: 2 },
  toleranceWhy: 'test',
  profiles: ['quick', 'full'],
};
const seeds = (...v: number[]) => v.map((ratio, i) => ({ seed: i + 1, result: { ratio } }));

test('mean and sample std', () => {
  const { mean, std } = meanStd([1, 2, 3]);
  assert.equal(mean, 2);
  assert.equal(std, 1);
  assert.deepEqual(meanStd([4]), { mean: 4, std: 0 });
});

test('judged on the mean over seeds', () => {
  const r = evaluateClaim(claim, seeds(1.5, 3), 'quick');
  assert.equal(r.verdict, 'reproduced');
  assert.equal(r.measured!.mean, 2.25);
  assert.equal(r.measured!.n, 2);
  assert.deepEqual(r.measured!.perSeed.map((p) => p.seed), [1, 2]);
  const f = evaluateClaim(claim, seeds(1.5, 1.9), 'quick');
  assert.equal(f.verdict, 'not-reproduced');
  assert.ok(isUnexpectedFailure(f));
});

test('other profiles and notRun metrics give not-run, NaN fails', () => {
  assert.equal(evaluateClaim(claim, seeds(3), 'smoke').verdict, 'not-run');
  const nr = evaluateClaim(claim, [{ seed: 1, result: { ratio: 0, missing: true } }], 'quick');
  assert.equal(nr.verdict, 'not-run');
  assert.equal(nr.reason, 'dataset not installed');
  assert.equal(evaluateClaim(claim, seeds(NaN), 'quick').verdict, 'not-reproduced');
});

test('a known non-reproduction keeps its verdict but is expected', () => {
  const known: Claim<R> = { ...claim, knownNotReproduced: { profiles: ['quick'], reason: 'too small a model' } };
  const r = evaluateClaim(known, seeds(1), 'quick');
  assert.equal(r.verdict, 'not-reproduced');
  assert.equal(r.expected, true);
  assert.equal(r.reason, 'too small a model');
  assert.equal(isUnexpectedFailure(r), false);
  assert.equal(isUnexpectedFailure(evaluateClaim(known, seeds(1), 'full')), true);
});

test('tolerance text', () => {
  assert.equal(formatExpectation({ atLeast: 2, atMost: 5 }), '>= 2 and <= 5');
});
