/**
 * The verdict logic on constructed inputs: intervals, the four verdicts, expected verdicts
 * in both directions, declared and undeclared not-runs, outcomes, timing claims on a busy
 * machine, and the headline.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateClaim, formatExpectation, parseExpectation, formatHeadline, headlines, isUnexpected, placeInterval, samplesToDecide, verdictLabel, type JudgeContext } from '../../lib/harness/verdicts';
import type { Claim, MetricValue } from '../../lib/harness/contract';
import { tInterval95, tQuantile975 } from '../../lib/core/stats';

type R = { v: MetricValue; reps?: number[] };
const claim: Claim<R> = {
  id: 'x-ratio',
  kind: 'paper',
  paper: 'arXiv:0000.00000',
  source: 'Fig. 1',
  statement: 'ratio is at least 2',
  paperValue: '~3x',
  measures: 'ratio',
  falsifiedBy: 'a ratio below 2',
  metric: (r) => r.v,
  expect: { atLeast: 2 },
  toleranceWhy: 'test',
  profiles: ['quick', 'full'],
};
const QUICK: JudgeContext = { profile: 'quick' };
const seeds = (...v: MetricValue[]) => v.map((x, i) => ({ seed: i + 1, result: { v: x } }));

test('t quantiles: table values and the expansion beyond', () => {
  assert.equal(tQuantile975(2), 4.303);
  assert.ok(Math.abs(tQuantile975(60) - 2.0003) < 1e-3);
  const iv = tInterval95([1, 2, 3]);
  assert.ok(Math.abs(iv.lo - (2 - 4.303 / Math.sqrt(3))) < 1e-12 && Math.abs(iv.hi - (2 + 4.303 / Math.sqrt(3))) < 1e-12);
});

test('reproduced only when the whole 95% interval lies inside the tolerance', () => {
  const r = evaluateClaim(claim, seeds(3.0, 3.1, 2.9), QUICK);
  assert.equal(r.verdict, 'reproduced');
  assert.equal(r.measured!.intervalFrom, 'seeds');
  assert.ok(r.measured!.interval!.lo > 2);
  assert.equal(r.asExpected, true);
});

test('a mean just past the bar with a wide spread is inconclusive, not reproduced, with the seeds that would decide it', () => {
  const r = evaluateClaim(claim, seeds(1.0, 3.2, 2.4), QUICK);
  assert.ok(r.measured!.mean > 2, 'the mean alone would have passed');
  assert.equal(r.verdict, 'inconclusive');
  assert.match(r.reason!, /straddles the tolerance; about \d+ seeds would decide it/);
  assert.ok((r.seedsNeeded as number) > 3);
  assert.equal(isUnexpected(r), true, 'expected reproduced, got inconclusive: the run fails');
});

test('entirely outside the tolerance is not reproduced', () => {
  const r = evaluateClaim(claim, seeds(1.5, 1.6, 1.4), QUICK);
  assert.equal(r.verdict, 'not-reproduced');
  assert.match(r.reason!, /lies outside the tolerance/);
});

test('one seed decides nothing without a recorded noise scale; with one it does', () => {
  const one = evaluateClaim(claim, seeds(3), QUICK);
  assert.equal(one.verdict, 'inconclusive');
  assert.match(one.reason!, /one seed and no noise scale/);
  assert.equal(one.measured!.interval, null);
  const withNoise = evaluateClaim({ ...claim, noise: { sd: 0.2, source: 'pilot' } }, seeds(3), QUICK);
  assert.equal(withNoise.verdict, 'reproduced');
  assert.equal(withNoise.measured!.intervalFrom, 'noise');
  const tooNoisy = evaluateClaim({ ...claim, noise: { sd: 1, source: 'pilot' } }, seeds(3), QUICK);
  assert.equal(tooNoisy.verdict, 'inconclusive');
});

test('expected verdicts: a claim that starts reproducing is news too', () => {
  const known: Claim<R> = { ...claim, expected: { quick: { verdict: 'not-reproduced', reason: 'too small a model', evidence: 'results/reference/quick/x/claims.json' } } };
  const still = evaluateClaim(known, seeds(1.5, 1.6, 1.4), QUICK);
  assert.equal(still.verdict, 'not-reproduced');
  assert.equal(still.asExpected, true);
  assert.equal(still.expected.reason, 'too small a model');
  const news = evaluateClaim(known, seeds(3.0, 3.1, 2.9), QUICK);
  assert.equal(news.verdict, 'reproduced');
  assert.equal(news.asExpected, false, 'reproducing where not-reproduced was expected fails the run');
  assert.equal(evaluateClaim(known, seeds(1.5, 1.6, 1.4), { profile: 'full' }).asExpected, false, 'the expectation is per profile');
});

test('not-run only for a declared precondition; an outcome gets a verdict', () => {
  assert.equal(evaluateClaim(claim, seeds(3), { profile: 'smoke' }).verdict, 'not-run');
  assert.equal(evaluateClaim(claim, seeds(3), { profile: 'smoke' }).asExpected, true);
  const data = evaluateClaim(claim, seeds({ notRun: 'Fashion-MNIST is not installed', precondition: 'data' }), QUICK);
  assert.equal(data.verdict, 'not-run');
  assert.equal(data.asExpected, true);
  const config = seeds({ notRun: 'method shampoo was not run', precondition: 'config' });
  assert.equal(evaluateClaim(claim, config, { profile: 'quick', overridden: true }).asExpected, true, 'declared when --set removed what it needs');
  const defect = evaluateClaim(claim, config, QUICK);
  assert.equal(defect.verdict, 'not-run');
  assert.equal(defect.asExpected, false, 'with the committed config it is a defect and fails the run');
  const failed = evaluateClaim(claim, seeds(3, { outcome: 'not-reproduced', reason: 'Shampoo did not beat first order' }, 3), QUICK);
  assert.equal(failed.verdict, 'not-reproduced');
  assert.equal(failed.reason, 'seed 2: Shampoo did not beat first order');
  const bounded = evaluateClaim(claim, seeds({ outcome: 'inconclusive', reason: 'never reached; bounded by 1.4x' }), QUICK);
  assert.equal(bounded.verdict, 'inconclusive');
  assert.equal(evaluateClaim(claim, [], QUICK).asExpected, false, 'no result at all is undeclared');
  const thrower: Claim<R> = { ...claim, metric: () => { throw new Error('boom'); } };
  assert.equal(evaluateClaim(thrower, seeds(3), QUICK).asExpected, false);
});

test('a non-finite metric is not reproduced and kept out of claims.json', () => {
  const r = evaluateClaim(claim, seeds(3, NaN), QUICK);
  assert.equal(r.verdict, 'not-reproduced');
  assert.equal(r.measured, null);
  assert.match(r.reason!, /seed 2/);
});

test('timing claims: the interval comes from the paired repetitions (per-seed means across seeds); a busy machine makes them inconclusive and does not fail the run', () => {
  const timed: Claim<R> = { ...claim, timing: { reps: (r) => r.reps ?? [] } };
  const results = [
    { seed: 1, result: { v: 3, reps: [2.9, 3.1, 3.0, 3.05, 2.95] } },
    { seed: 2, result: { v: 3, reps: [3.0, 3.0, 3.1, 2.9, 3.0] } },
  ];
  const idle = evaluateClaim(timed, results, { profile: 'quick', machine: { cores: 2, timedLoad: { 1: 1.1, 2: 1.0 } } });
  assert.equal(idle.verdict, 'reproduced');
  assert.equal(idle.measured!.intervalFrom, 'seeds', 'two seeds: the interval is over their means of paired repetitions');
  const oneSeed = evaluateClaim(timed, results.slice(0, 1), { profile: 'quick' });
  assert.equal(oneSeed.measured!.intervalFrom, 'repetitions');
  assert.equal(oneSeed.verdict, 'reproduced');
  // A per-seed factor shared by a seed's repetitions widens the interval (as it should).
  const skewed = [
    { seed: 1, result: { v: 2.4, reps: [2.4, 2.41, 2.39, 2.4, 2.4] } },
    { seed: 2, result: { v: 3.6, reps: [3.6, 3.61, 3.59, 3.6, 3.6] } },
  ];
  assert.equal(evaluateClaim(timed, skewed, { profile: 'quick' }).verdict, 'inconclusive', 'pooling the 10 repetitions would have called it reproduced');
  const busy = evaluateClaim(timed, results, { profile: 'quick', machine: { cores: 2, timedLoad: { 1: 1.1, 2: 3.4 } } });
  assert.equal(busy.verdict, 'inconclusive');
  assert.equal(busy.busy, true);
  assert.match(busy.reason!, /machine busy: load 3\.40 on 2 cores/);
  assert.equal(isUnexpected(busy), false);
});

test('interval placement and the seeds that would decide', () => {
  assert.equal(placeInterval({ lo: 2.1, hi: 3 }, { atLeast: 2 }), 'inside');
  assert.equal(placeInterval({ lo: 1, hi: 1.9 }, { atLeast: 2 }), 'outside');
  assert.equal(placeInterval({ lo: 1.9, hi: 2.1 }, { atLeast: 2 }), 'straddles');
  assert.equal(placeInterval({ lo: 4, hi: 6 }, { atLeast: 2, atMost: 5 }), 'straddles');
  assert.equal(samplesToDecide(2, 1, { atLeast: 2 }), null, 'a mean on the boundary is never decided');
  const n = samplesToDecide(3, 1, { atLeast: 2 })!;
  assert.ok((tQuantile975(n - 1) * 1) / Math.sqrt(n) < 1 && (tQuantile975(n - 2) * 1) / Math.sqrt(n - 1) >= 1, `n=${n} is the first that clears`);
});

test('the headline counts paper claims and checks apart', () => {
  const check: Claim<R> = { ...claim, id: 'x-check', kind: 'check' };
  const records = [
    evaluateClaim(claim, seeds(3.0, 3.1, 2.9), QUICK),
    evaluateClaim({ ...claim, id: 'x-2' }, seeds(1.0, 3.2, 2.4), QUICK),
    evaluateClaim({ ...claim, id: 'x-3' }, seeds(1.5, 1.6, 1.4), QUICK),
    evaluateClaim(check, seeds(3.0, 3.1, 2.9), QUICK),
  ];
  const [h] = headlines(records);
  assert.equal(formatHeadline(h), '1 of 3 paper claims reproduced, 1 inconclusive, 1 not reproduced at profile quick; 1 of 1 checks pass');
});

test('tolerance text', () => {
  assert.equal(formatExpectation({ atLeast: 2, atMost: 5 }), '>= 2 and <= 5');
  for (const e of [{ atLeast: 2, atMost: 5 }, { atLeast: -0.25 }, { atMost: 1e-5 }, {}]) assert.deepEqual(parseExpectation(formatExpectation(e)), e);
});

test('timing claims: a move to or from inconclusive is machine noise and does not fail the run; reproduced <-> not-reproduced does; other claims get no such leeway', () => {
  const timed: Claim<R> = { ...claim, timing: { reps: (r) => r.reps ?? [] } };
  const at = (...means: number[]) => means.map((m, i) => ({ seed: i + 1, result: { v: m, reps: [m - 0.01, m, m + 0.01, m, m] } }));
  const straddles = at(1.0, 3.2, 2.4);
  const noisy = evaluateClaim(timed, straddles, QUICK);
  assert.equal(noisy.verdict, 'inconclusive');
  assert.equal(isUnexpected(noisy), false, 'expected reproduced, inconclusive on this machine: tolerated');
  assert.match(verdictLabel(noisy), /inconclusive \(timing; expected reproduced: a move to or from inconclusive is tolerated\)/);
  assert.equal(isUnexpected(evaluateClaim(timed, at(1.5, 1.6, 1.4), QUICK)), true, 'expected reproduced, not reproduced: fails');
  const expectedUnsure: Claim<R> = { ...timed, expected: { quick: { verdict: 'inconclusive', reason: 'noisy' } } };
  assert.equal(isUnexpected(evaluateClaim(expectedUnsure, at(3.0, 3.1, 2.9), QUICK)), false, 'expected inconclusive, reproduced on a quieter machine: tolerated');
  assert.equal(isUnexpected(evaluateClaim(expectedUnsure, at(1.5, 1.6, 1.4), QUICK)), false, 'expected inconclusive, not reproduced: tolerated too');
  const expectedFail: Claim<R> = { ...timed, expected: { quick: { verdict: 'not-reproduced', reason: 'slow' } } };
  assert.equal(isUnexpected(evaluateClaim(expectedFail, at(3.0, 3.1, 2.9), QUICK)), true, 'not-reproduced -> reproduced is news');
  assert.equal(isUnexpected(evaluateClaim(claim, seeds(1.0, 3.2, 2.4), QUICK)), true, 'an untimed claim has no noise leeway');
});
