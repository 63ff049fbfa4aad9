import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../lib/core/backend';
import { UsageError } from '../../lib/core/errors';
import { flash } from '../../lib/papers/flash';
import { lossRatioAtEqualSteps, speedupOverTransformer, timeToReach } from '../../lib/papers/flash/claims';
import { MODEL_IDS, type FlashConfig } from '../../lib/papers/flash/config';
import { validateConfig, type EvalPoint, type FlashResult } from '../../lib/papers/flash/experiment';
import { testContext } from '../fixtures/run-context';

const ctx = testContext;

const smoke = flash.profiles.smoke;

/** Everything except the measured times, which the clock decides and the seed does not. */
function losses(r: FlashResult) {
  return MODEL_IDS.map((id) => r.train.curves[id].map((p) => [p.step, p.valLoss, p.trainLoss]));
}

test('smoke run: losses identical for the same seed, different for another; no leaked tensors; claims and figures computable', async () => {
  await selectBackend('wasm'); // several times faster than the pure-JS cpu backend; also bit-deterministic
  const before = tf.memory().numTensors;
  const a = await flash.run(smoke, ctx(1));
  assert.equal(tf.memory().numTensors, before);
  const b = await flash.run(smoke, ctx(1));
  assert.deepEqual(losses(a), losses(b));
  assert.deepEqual(a.params, b.params);
  const c = await flash.run(smoke, ctx(2));
  assert.notDeepEqual(losses(c), losses(a));
  assert.deepEqual(JSON.parse(JSON.stringify(a)), a);

  for (const id of MODEL_IDS) {
    assert.equal(a.latency.stepMs[id].length, smoke.latency.contexts.length);
    for (const ms of a.latency.stepMs[id]) assert.ok(Number.isFinite(ms) && ms > 0);
    const curve = a.train.curves[id];
    const steps = id === 'transformer' ? smoke.train.steps.transformer : id === 'flash' ? smoke.train.steps.flash : smoke.train.steps.flashQuad;
    assert.equal(curve[curve.length - 1].step, steps);
    for (let i = 1; i < curve.length; i++) assert.ok(curve[i].seconds > curve[i - 1].seconds);
    // Training lowers the validation loss from its initial value (~ln 256 = 5.55).
    assert.ok(curve[curve.length - 1].valLoss < curve[0].valLoss, `${id} did not learn`);
    assert.ok(Math.abs(curve[0].valLoss - Math.log(256)) < 0.5);
  }
  // GAU models at 2x depth have about the parameters of Transformer++ (within 30% at this tiny size).
  assert.ok(Math.abs(a.params.flash / a.params.transformer - 1) < 0.3);
});

const pt = (step: number, seconds: number, valLoss: number): EvalPoint => ({ step, seconds, valLoss, trainLoss: null });

test('timeToReach interpolates linearly between evaluations', () => {
  const curve = [pt(0, 0, 5), pt(10, 10, 3), pt(20, 20, 2)];
  assert.equal(timeToReach(curve, 5), 0);
  assert.equal(timeToReach(curve, 3), 10);
  assert.equal(timeToReach(curve, 2.5), 15);
  assert.equal(timeToReach(curve, 1.9), null);
});

test('speed-up: same loss in half the time is 2x; never reaching gives an upper bound', () => {
  const base = { latency: { contexts: [8], tokensPerBatch: 8, chunkSize: 8, stepMs: { transformer: [1], 'flash-quad': [1], flash: [1] } }, params: { transformer: 1, 'flash-quad': 1, flash: 1 } };
  const r = {
    ...base,
    train: { context: 8, curves: { transformer: [pt(0, 0, 5), pt(10, 20, 3)], 'flash-quad': [pt(0, 0, 5), pt(10, 30, 3.3)], flash: [pt(0, 0, 5), pt(10, 10, 3), pt(20, 20, 2)] } },
  } as FlashResult;
  const s = speedupOverTransformer(r, 'flash');
  assert.deepEqual([s.target, s.baselineSeconds, s.modelSeconds, s.speedup, s.reached], [3, 20, 10, 2, true]);
  const q = speedupOverTransformer(r, 'flash-quad');
  assert.equal(q.reached, false);
  assert.equal(q.speedup, 20 / 30);
  assert.equal(lossRatioAtEqualSteps(r, 'flash-quad'), 3.3 / 3);
  const claim = flash.claims.find((c) => c.id === 'flash-training-speedup')!;
  assert.equal(claim.metric(r), 2);
});

test('bad configs are usage errors naming the key', () => {
  const bad = (patch: (c: FlashConfig) => void) => () => {
    const c = JSON.parse(JSON.stringify(smoke)) as FlashConfig;
    patch(c);
    validateConfig(c);
  };
  assert.throws(bad((c) => (c.latency.contexts = [24])), (e: unknown) => e instanceof UsageError && /tokensPerBatch=64/.test(e.message));
  assert.throws(bad((c) => (c.train.context = 12)), (e: unknown) => e instanceof UsageError && /chunkSize=8/.test(e.message));
  assert.throws(bad((c) => (c.model.width = 0)), (e: unknown) => e instanceof UsageError && /model.width=0/.test(e.message));
  assert.throws(bad((c) => (c.train.steps.flash = 0)), (e: unknown) => e instanceof UsageError && /train.steps.flash=0/.test(e.message));
  for (const p of ['smoke', 'quick', 'full'] as const) validateConfig(flash.profiles[p]);
});
