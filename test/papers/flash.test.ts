import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../lib/core/backend';
import { UsageError } from '../../lib/core/errors';
import { flash } from '../../lib/papers/flash';
import { lossRatioAtEqualSteps, stepsToReach, trainingSpeedup } from '../../lib/papers/flash/claims';
import type { FlashConfig } from '../../lib/papers/flash/config';
import { validateConfig, type EvalPoint, type FlashResult } from '../../lib/papers/flash/experiment';
import { testContext } from '../fixtures/run-context';

const ctx = testContext;

const smoke = flash.profiles.smoke;

/** Everything except the measured times, which the clock decides and the seed does not. */
function losses(r: FlashResult) {
  return r.train.curves.map((c) => [c.model, c.context, c.points.map((p) => [p.step, p.valLoss, p.trainLoss])]);
}

test('smoke run: losses identical for the same seed, different for another; every contender timed in every round; no leaked tensors; claims computable', async () => {
  await selectBackend('wasm'); // several times faster than the pure-JS cpu backend; also bit-deterministic
  const before = tf.memory().numTensors;
  const sections: string[] = [];
  const a = await flash.run(smoke, { ...ctx(1), exclusive: (label, section) => (sections.push(label), section()) });
  assert.equal(tf.memory().numTensors, before);
  const b = await flash.run(smoke, ctx(1));
  assert.deepEqual(losses(a), losses(b));
  assert.deepEqual(a.params, b.params);
  const c = await flash.run(smoke, ctx(2));
  assert.notDeepEqual(losses(c), losses(a));
  assert.deepEqual(JSON.parse(JSON.stringify(a)), a);

  // One exclusive section per timed round; Transformer++ and FLASH at every context, FLASH-Quad at the longest.
  const { contexts, timedSteps } = smoke.latency;
  assert.equal(sections.length, timedSteps);
  const longest = contexts[contexts.length - 1];
  assert.deepEqual(
    a.latency.timed.map((t) => `${t.model}@${t.context}`).sort(),
    [...contexts.flatMap((t) => [`transformer@${t}`, `flash@${t}`]), `flash-quad@${longest}`].sort(),
  );
  for (const t of a.latency.timed) {
    assert.equal(t.ms.length, timedSteps);
    for (const ms of t.ms) assert.ok(Number.isFinite(ms) && ms > 0);
  }
  // Trained: Transformer++ and FLASH at every training context, FLASH-Quad at the first.
  const trained = a.train.curves.map((c) => `${c.model}@${c.context}`).sort();
  assert.deepEqual(trained, [...smoke.train.contexts.flatMap((t) => [`transformer@${t}`, `flash@${t}`]), `flash-quad@${smoke.train.contexts[0]}`].sort());
  for (const cv of a.train.curves) {
    const steps = cv.model === 'flash-quad' ? smoke.train.flashQuadSteps : smoke.train.steps;
    assert.equal(cv.points[cv.points.length - 1].step, steps);
    // Training lowers the validation loss below its initial value (~ln 256 = 5.55).
    assert.ok(cv.points[cv.points.length - 1].valLoss < Math.log(256), `${cv.model}@${cv.context} did not learn`);
  }
  for (const cl of flash.claims) {
    const v = cl.metric(a);
    assert.ok(typeof v === 'number' ? Number.isFinite(v) : 'outcome' in v, `${cl.id}: ${JSON.stringify(v)}`);
    if (cl.timing && typeof v === 'number') assert.equal(cl.timing.reps(a).length, timedSteps, `${cl.id}: one value per timed round`);
  }
  // GAU models at 2x depth have about the parameters of Transformer++ (within 30% at this tiny size).
  assert.ok(Math.abs(a.params.flash / a.params.transformer - 1) < 0.3);
});

const pt = (step: number, valLoss: number): EvalPoint => ({ step, valLoss, trainLoss: NaN });

test('stepsToReach interpolates linearly between evaluations', () => {
  const curve = [pt(10, 5), pt(20, 3), pt(30, 2)];
  assert.equal(stepsToReach(curve, 5), 10);
  assert.equal(stepsToReach(curve, 3), 20);
  assert.equal(stepsToReach(curve, 2.5), 25);
  assert.equal(stepsToReach(curve, 1.9), null);
});

/** A hand-made result: Transformer++ and FLASH at 8 and 16, per-round step times given. */
function made(flashCurve16: EvalPoint[], ms: { t8: number[]; f8: number[]; t16: number[]; f16: number[]; q16: number[] }): FlashResult {
  const base = [pt(10, 4), pt(20, 3)];
  return {
    latency: {
      contexts: [8, 16],
      tokensPerBatch: 16,
      chunkSize: 8,
      rounds: 2,
      timed: [
        { model: 'transformer', context: 8, ms: ms.t8 },
        { model: 'flash', context: 8, ms: ms.f8 },
        { model: 'transformer', context: 16, ms: ms.t16 },
        { model: 'flash', context: 16, ms: ms.f16 },
        { model: 'flash-quad', context: 16, ms: ms.q16 },
      ],
    },
    params: { transformer: 1, 'flash-quad': 1, flash: 1 },
    train: {
      contexts: [8, 16],
      steps: 20,
      flashQuadContext: 8,
      curves: [
        { model: 'transformer', context: 8, points: base },
        { model: 'flash', context: 8, points: [pt(10, 3), pt(20, 2)] },
        { model: 'flash-quad', context: 8, points: [pt(10, 4.4), pt(20, 3.3)] },
        { model: 'transformer', context: 16, points: base },
        { model: 'flash', context: 16, points: flashCurve16 },
      ],
    },
  };
}

test('training speed-up = steps ratio x per-round step-time ratio; the trend pairs rounds; never reaching the target gives a bound', () => {
  const ms = { t8: [10, 20], f8: [10, 10], t16: [40, 60], f16: [10, 20], q16: [20, 30] };
  const r = made([pt(10, 3), pt(20, 2)], ms);
  const s8 = trainingSpeedup(r, 8);
  assert.ok(!('notRun' in s8));
  // Transformer++ reaches its final 3 at step 20, FLASH at step 10: 2x fewer steps.
  assert.deepEqual([s8.target, s8.baselineSteps, s8.flashSteps, s8.reached], [3, 20, 10, true]);
  assert.deepEqual(s8.perRound, [2 * 1, 2 * 2]);
  const claim = (id: string) => flash.claims.find((c) => c.id === id)!;
  assert.deepEqual(claim('flash-training-speedup').timing!.reps(r), [2 * 4, 2 * 3]);
  assert.equal(claim('flash-training-speedup').metric(r), 7);
  assert.deepEqual(claim('flash-training-speedup-grows').timing!.reps(r), [8 / 2, 6 / 4]);
  assert.deepEqual(claim('flash-faster-than-tpp-at-longest').timing!.reps(r), [4, 3]);
  assert.deepEqual(claim('flash-quad-faster-than-tpp-at-longest').timing!.reps(r), [2, 2]);
  assert.deepEqual(claim('flash-latency-flat').timing!.reps(r), [1, 2]);
  assert.deepEqual(claim('flash-tpp-latency-grows').timing!.reps(r), [4, 3]);
  assert.equal(lossRatioAtEqualSteps(r, 'flash-quad'), 3.3 / 3);

  // FLASH never reaches 3 at context 16: the speed-up is an upper bound 20/20 x step-time ratio.
  const never = made([pt(10, 3.5), pt(20, 3.2)], ms);
  const s16 = trainingSpeedup(never, 16);
  assert.ok(!('notRun' in s16) && !s16.reached && s16.flashSteps === null);
  const v = claim('flash-training-speedup').metric(never);
  assert.ok(typeof v === 'object' && 'outcome' in v && v.outcome === 'inconclusive' && /bounded above by 3\.50x/.test(v.reason), JSON.stringify(v));
  assert.deepEqual(claim('flash-training-speedup').timing!.reps(never), []);
  // A bound that already fails the tolerance is a number (an upper bound below 1.2).
  const slow = made([pt(10, 3.5), pt(20, 3.2)], { ...ms, t16: [10, 10], f16: [10, 10] });
  assert.equal(claim('flash-training-speedup').metric(slow), 1);
  // The trend with an upper bound at the longest context: decided only when the bound is below 1.
  assert.equal(claim('flash-training-speedup-grows').metric(slow), (0.5 + 0.25) / 2);
  const g = claim('flash-training-speedup-grows').metric(never);
  assert.ok(typeof g === 'object' && 'outcome' in g && g.outcome === 'inconclusive', JSON.stringify(g));
});

test('bad configs are usage errors naming the key', () => {
  const bad = (patch: (c: FlashConfig) => void) => () => {
    const c = JSON.parse(JSON.stringify(smoke)) as FlashConfig;
    patch(c);
    validateConfig(c);
  };
  const names = (key: string) => (e: unknown) => e instanceof UsageError && e.message.includes(`${key}=`);
  assert.throws(bad((c) => (c.latency.contexts = [24])), names('latency.tokensPerBatch'));
  assert.throws(bad((c) => ((c.latency.tokensPerBatch = 48), (c.latency.contexts = [12]))), /chunkSize=8/);
  assert.throws(bad((c) => (c.model.width = 0)), names('model.width'));
  assert.throws(bad((c) => (c.latency.timedSteps = 4)), names('latency.timedSteps'));
  assert.throws(bad((c) => (c.train.contexts = [64])), names('train.contexts'));
  assert.throws(bad((c) => (c.train.steps = 5)), names('train.steps'));
  assert.throws(bad((c) => (c.train.flashQuadSteps = 9)), names('train.flashQuadSteps'));
  assert.throws(bad((c) => (c.train.evalTokens = 40)), names('train.evalTokens'));
  for (const p of ['smoke', 'quick', 'full'] as const) validateConfig(flash.profiles[p]);
});
