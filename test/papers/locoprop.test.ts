import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../lib/core/backend';
import { UsageError } from '../../lib/core/errors';
import { locoprop } from '../../lib/papers/locoprop';
import { claims } from '../../lib/papers/locoprop/claims';
import { METHOD_IDS } from '../../lib/papers/locoprop/config';
import { validateConfig, type LocopropResult } from '../../lib/papers/locoprop/experiment';
import { testContext } from '../fixtures/run-context';

const ctx = testContext;

const smoke = locoprop.profiles.smoke;
/** Everything but the measured seconds: what must be identical for the same seed. */
const lossesOf = (r: LocopropResult) => r.runs.map((x) => ({ method: x.method, loss: x.loss, state: x.stateFloats, roots: x.rootIterations }));

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
  for (const r of a.runs) {
    assert.equal(r.loss.length, smoke.epochs + 1);
    for (const v of r.loss) assert.ok(v !== null && Number.isFinite(v) && v > 0);
    assert.equal(r.epochSeconds.length, smoke.epochs);
    assert.equal(r.steps, (smoke.trainImages / smoke.batchSize) * smoke.epochs);
  }
  // all methods start from the same weights: identical loss before training
  assert.equal(new Set(a.runs.map((r) => r.loss[0])).size, 1);
  // every method lowers the training loss on the smoke setting
  for (const r of a.runs) assert.ok((r.loss[smoke.epochs] as number) < (r.loss[0] as number), r.method);
  // memory: LocoProp keeps one RMSprop state per parameter; Shampoo more
  const mem = (m: string) => a.runs.find((r) => r.method === m)!;
  assert.equal(mem('locoprop-m').stateFloats, 2 * mem('locoprop-m').paramFloats);
  assert.ok(mem('shampoo').stateFloats > mem('bp-rmsprop').stateFloats);
  assert.equal(claims.find((c) => c.id === 'locoprop-m-first-order-memory')!.metric(a), 1);
  const figs = locoprop.figures([{ seed: 1, result: a }], smoke);
  assert.deepEqual(figs.map((f) => f.name), ['locoprop-loss-vs-epochs', 'locoprop-loss-vs-seconds', 'locoprop-time-per-epoch', 'locoprop-memory']);
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

test('bad configs are usage errors naming the key', () => {
  assert.throws(() => validateConfig({ ...smoke, methods: ['sgd'] }), (e: unknown) => e instanceof UsageError && /methods=sgd must be a list of .*'sgd' is not one of them/.test(e.message));
  assert.throws(() => validateConfig({ ...smoke, batchSize: 1000 }), (e: unknown) => e instanceof UsageError && /batchSize=1000/.test(e.message));
  assert.throws(() => validateConfig({ ...smoke, hidden: 'gelu' }), (e: unknown) => e instanceof UsageError && /hidden='gelu'/.test(e.message));
  assert.throws(() => validateConfig({ ...smoke, localIterations: 0 }), (e: unknown) => e instanceof UsageError && /localIterations=0/.test(e.message));
  for (const p of ['smoke', 'quick', 'full'] as const) validateConfig(locoprop.profiles[p]);
});
