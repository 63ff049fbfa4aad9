import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../lib/core/backend';
import { UsageError } from '../../lib/core/errors';
import { locoprop } from '../../lib/papers/locoprop';
import { claims } from '../../lib/papers/locoprop/claims';
import { METHOD_IDS } from '../../lib/papers/locoprop/config';
import { evaluationSteps, validateConfig, type LocopropResult } from '../../lib/papers/locoprop/experiment';
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
  assert.deepEqual(figs.map((f) => f.name), ['locoprop-loss-vs-steps', 'locoprop-loss-vs-seconds', 'locoprop-time-per-step', 'locoprop-memory']);
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
