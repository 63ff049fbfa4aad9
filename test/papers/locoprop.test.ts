import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../lib/core/backend';
import { UsageError } from '../../lib/core/errors';
import { locoprop } from '../../lib/papers/locoprop';
import { claims } from '../../lib/papers/locoprop/claims';
import { METHOD_IDS } from '../../lib/papers/locoprop/config';
import { evaluationSteps, validateConfig, type LocopropResult, type MethodRun } from '../../lib/papers/locoprop/experiment';
import { longSecondHalfDrop, wallTimeToLoss } from '../../lib/papers/locoprop/claims';
import { testContext } from '../fixtures/run-context';

const ctx = testContext;

const smoke = locoprop.profiles.smoke;
/** Everything but the measured seconds: what must be identical for the same seed. */
const lossesOf = (r: LocopropResult) => r.runs.map((x) => ({ method: x.method, loss: x.loss, state: x.stateFloats, roots: x.rootIterations, memory: x.memory }));

test('smoke run on cpu: every method trains, same seed -> identical losses per method, no leaked tensors, claims evaluate', async () => {
  await selectBackend('cpu');
  const before = tf.memory().numTensors;
  const a = await locoprop.run(smoke, ctx(1, 'cpu'));
  assert.equal(tf.memory().numTensors, before);
  // each method's run depends only on (config, seed): re-running two of them alone reproduces them exactly
  const b = await locoprop.run({ ...smoke, methods: ['bp-rmsprop', 'locoprop-s'] }, ctx(1, 'cpu'));
  assert.deepEqual(lossesOf(b), lossesOf(a).filter((r) => r.method === 'bp-rmsprop' || r.method === 'locoprop-s'));
  assert.deepEqual(JSON.parse(JSON.stringify(a)), a);
  assert.deepEqual(Object.keys(a.selected).sort(), [...METHOD_IDS].sort());
  const steps = (smoke.trainImages / smoke.batchSize) * smoke.epochs;
  assert.deepEqual(a.evalSteps, evaluationSteps(steps, smoke.evalEvery));
  for (const r of a.runs) {
    assert.equal(r.loss.length, a.evalSteps.length);
    for (const v of r.loss) assert.ok(v !== null && Number.isFinite(v) && v > 0);
    assert.equal(r.trainSeconds.length, a.evalSteps.length);
    assert.equal(r.steps, steps);
    assert.ok(r.memory && r.memory.persistentBytes > 0 && r.memory.stepPeakBytes > 0, r.method);
  }
  // all methods start from the same weights: identical loss before training
  assert.equal(new Set(a.runs.map((r) => r.loss[0])).size, 1);
  // every method lowers the training loss on the smoke setting
  for (const r of a.runs) assert.ok((r.loss[r.loss.length - 1] as number) < (r.loss[0] as number), r.method);
  // memory: LocoProp keeps one RMSprop state per parameter; Shampoo more (statistics and roots)
  const run = (m: string) => a.runs.find((r) => r.method === m)!;
  assert.equal(run('locoprop-m').stateFloats, 2 * run('locoprop-m').paramFloats);
  assert.ok(run('shampoo').stateFloats > run('bp-rmsprop').stateFloats);
  // what is held between steps is the parameters and the optimiser state, in float32 bytes
  for (const m of ['bp-rmsprop', 'locoprop-m', 'shampoo']) assert.equal(run(m).memory!.persistentBytes, 4 * (run(m).paramFloats + run(m).stateFloats), m);
  // Shampoo's roots are refreshed after smoke.shampooFirstRefresh (2) and not after the last step (4)
  assert.deepEqual(run('shampoo').refreshedAfter, [2]);
  // the interleaved timing: timingReps paired repetitions, ratio = M / BP per repetition
  assert.ok(a.timing);
  assert.equal(a.timing.ratios.length, smoke.timingReps);
  a.timing.ratios.forEach((q, i) => assert.equal(q, a.timing!.locopropMSeconds[i] / a.timing!.bpRmspropSeconds[i]));
  assert.deepEqual(claims.find((c) => c.id === 'locoprop-m-time-per-epoch')!.timing!.reps(a), a.timing.ratios);
  const figs = locoprop.figures([{ seed: 1, result: a }], smoke);
  assert.deepEqual(figs.map((f) => f.name), ['locoprop-loss-vs-steps', 'locoprop-loss-vs-seconds', 'locoprop-first-order-long', 'locoprop-time-per-step', 'locoprop-memory']);
  // the long runs: both first-order methods, every grid rate, factor x the steps, same start
  assert.ok(a.long);
  assert.equal(a.long.totalSteps, smoke.firstOrderLongFactor * steps);
  assert.deepEqual(a.long.evalSteps, evaluationSteps(a.long.totalSteps, smoke.longEvalEvery));
  assert.deepEqual(
    a.long.runs.map((r) => `${r.method} x${r.lrMultiplier}`),
    ['bp-rmsprop', 'bp-adam'].flatMap((m) => smoke.lrMultipliers.map((x) => `${m} x${x}`)),
  );
  for (const r of a.long.runs) {
    assert.equal(r.steps, a.long.totalSteps);
    assert.equal(r.loss[0], a.runs[0].loss[0]);
  }
  // the long schedule is stretched, not the short one continued: after the short run's steps the long run's loss differs
  const shortRms = run('bp-rmsprop');
  assert.notEqual(a.long.runs[0].loss[a.long.evalSteps.indexOf(steps)], shortRms.loss.at(-1));
  assert.ok(locoprop.tables([{ seed: 1, result: a }], smoke).some((t) => t.name === 'locoprop-first-order-long'));
  // BP-RMSprop alone among the first-order methods: its long runs only; none without a first-order method
  assert.deepEqual(b.long?.runs.map((r) => r.method), smoke.lrMultipliers.map(() => 'bp-rmsprop'));
  const noFo = await locoprop.run({ ...smoke, methods: ['locoprop-m'] }, ctx(1, 'cpu'));
  assert.equal(noFo.long, null);
  const longClaims = claims.filter((c) => c.id === 'locoprop-bp-long-flattened' || c.id === 'locoprop-m-wall-time-to-loss');
  assert.equal(longClaims.length, 2);
  for (const cl of longClaims) assert.ok(typeof cl.metric(a) === 'number' || 'outcome' in (cl.metric(a) as object), cl.id);
  const noLong = longClaims[0].metric(noFo);
  assert.ok(typeof noLong === 'object' && 'notRun' in noLong);
  const c = await locoprop.run({ ...smoke, methods: ['bp-rmsprop'] }, ctx(2, 'cpu'));
  assert.notDeepEqual(c.runs[0].loss, a.runs[a.selected['bp-rmsprop']!].loss);
});

test('smoke run on wasm: same seed twice gives identical losses', async () => {
  await selectBackend('wasm');
  const cfg = { ...smoke, methods: ['locoprop-m', 'shampoo'] };
  const a = await locoprop.run(cfg, ctx(3, 'wasm'));
  const b = await locoprop.run(cfg, ctx(3, 'wasm'));
  assert.deepEqual(lossesOf(a), lossesOf(b));
});

test('evaluation steps: 0, every evalEvery, and the last step', () => {
  assert.deepEqual(evaluationSteps(30, 5), [0, 5, 10, 15, 20, 25, 30]);
  assert.deepEqual(evaluationSteps(7, 3), [0, 3, 6, 7]);
  assert.deepEqual(evaluationSteps(4, 10), [0, 4]);
});

test('bad configs are usage errors naming the key', () => {
  assert.throws(() => validateConfig({ ...smoke, methods: ['sgd'] }), (e: unknown) => e instanceof UsageError && /methods=sgd must be a list of .*'sgd' is not one of them/.test(e.message));
  assert.throws(() => validateConfig({ ...smoke, batchSize: 1000 }), (e: unknown) => e instanceof UsageError && /batchSize=1000/.test(e.message));
  assert.throws(() => validateConfig({ ...smoke, hidden: 'gelu' }), (e: unknown) => e instanceof UsageError && /hidden='gelu'/.test(e.message));
  assert.throws(() => validateConfig({ ...smoke, localIterations: 0 }), (e: unknown) => e instanceof UsageError && /localIterations=0/.test(e.message));
  assert.throws(() => validateConfig({ ...smoke, timingReps: 4 }), (e: unknown) => e instanceof UsageError && /timingReps=4 must be an integer >= 5/.test(e.message));
  assert.throws(() => validateConfig({ ...smoke, lrMultipliers: [] }), (e: unknown) => e instanceof UsageError && /lrMultipliers/.test(e.message));
  for (const p of ['smoke', 'quick', 'full'] as const) validateConfig(locoprop.profiles[p]);
});

/** A hand-made result: LocoProp-M reaches 50 at step 20; one long first-order run; timing ratios M/BP per repetition. */
function handMade(longLoss: number[], ratios: number[]): LocopropResult {
  const run = (method: MethodRun['method'], loss: number[]): MethodRun => ({ method, lrMultiplier: 1, loss, trainSeconds: loss.map(() => 0), steps: 0, paramFloats: 1, stateFloats: 1, memory: null });
  return {
    evalSteps: [0, 10, 20],
    trainImages: 100,
    batchSize: 10,
    stepsPerEpoch: 10,
    totalSteps: 20,
    runs: [run('bp-rmsprop', [200, 150, 120]), run('bp-adam', [200, 160, 130]), run('locoprop-m', [200, 100, 50])],
    selected: { 'bp-rmsprop': 0, 'bp-adam': 1, 'locoprop-m': 2 },
    timing: { batchSize: 10, stepsPerRep: 1, warmupSteps: 1, bpRmspropSeconds: ratios.map(() => 1), locopropMSeconds: ratios, ratios },
    long: { factor: 10, totalSteps: 200, evalSteps: [0, 100, 200], runs: [run('bp-rmsprop', longLoss), run('bp-adam', [200, 190, 180])] },
  };
}

test('wall time to LocoProp-M\'s loss: interpolated first-order steps x per-repetition step times; a run that never gets there leaves a bound', () => {
  const claim = claims.find((c) => c.id === 'locoprop-m-wall-time-to-loss')!;
  // first order crosses 50 between step 100 (80) and 200 (40): at 175; LocoProp-M at step 20
  const reached = handMade([200, 80, 40], [5, 10]);
  const w = wallTimeToLoss(reached);
  assert.ok('perRep' in w);
  assert.equal(w.firstOrderSteps, 175);
  assert.equal(w.locopropSteps, 20);
  assert.deepEqual(w.perRep, [175 / 20 / 5, 175 / 20 / 10]);
  assert.deepEqual(claim.timing!.reps(reached), w.perRep);
  assert.equal(claim.metric(reached), (1.75 + 0.875) / 2);
  // never reached within 200 steps: the bound 200/20/q passes (mean 1.5 >= 1) and is the value ...
  const bound = handMade([200, 90, 60], [5, 10]);
  assert.equal(claim.metric(bound), (2 + 1) / 2);
  // ... but a bound below the tolerance decides nothing
  const undecided = claim.metric(handMade([200, 90, 60], [20, 20]));
  assert.ok(typeof undecided === 'object' && 'outcome' in undecided && undecided.outcome === 'inconclusive', JSON.stringify(undecided));
  // the long run's flattening: (L(100) - L(200)) / L(100)
  assert.equal(longSecondHalfDrop(reached), (80 - 40) / 80);
});
