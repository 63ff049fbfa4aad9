import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../lib/core/backend';
import { UsageError } from '../../lib/core/errors';
import { expertChoice } from '../../lib/papers/expert-choice';
import { convergenceSpeedup } from '../../lib/papers/expert-choice/claims';
import type { ExpertChoiceConfig } from '../../lib/papers/expert-choice/config';
import { moeLayerIndices, validateConfig, type ExpertChoiceResult } from '../../lib/papers/expert-choice/experiment';
import { testContext } from '../fixtures/run-context';

const ctx = testContext;

const smoke = expertChoice.profiles.smoke;

async function runOn(backend: 'cpu' | 'wasm', seed = 1): Promise<ExpertChoiceResult> {
  await selectBackend(backend);
  return expertChoice.run(smoke, ctx(seed, backend));
}

test('smoke run on wasm: same seed twice gives identical results, no leaked tensors, JSON-safe', async () => {
  await selectBackend('wasm');
  const before = tf.memory().numTensors;
  const a = await runOn('wasm');
  assert.equal(tf.memory().numTensors, before);
  const b = await runOn('wasm');
  assert.deepEqual(a, b);
  assert.deepEqual(JSON.parse(JSON.stringify(a)), a);
  for (const r of ['expert-choice', 'top2', 'top1'] as const) {
    const run = a.runs[r];
    assert.ok(run, `${r} missing`);
    assert.equal(run.load.step.length, smoke.steps);
    assert.ok(run.valLoss.every((v) => Number.isFinite(v) && v > 0));
    assert.ok(Math.abs(run.expertsPerToken.reduce((s, v) => s + v, 0) - 1) < 1e-9);
  }
  // expert choice: exactly balanced, nothing dropped; it also has a prefix-safe evaluation
  const ec = a.runs['expert-choice']!;
  assert.ok(ec.load.processedMaxOverMean.every((v) => Math.abs(v - 1) < 1e-9));
  assert.ok(ec.load.dropped.every((v) => v === 0));
  assert.ok(ec.thresholdValLoss !== null && Number.isFinite(ec.thresholdValLoss));
  assert.equal(a.runs.top2!.thresholdValLoss, null);
  // identical initial weights and batches: the first evaluation differs only through routing, so losses are close
  const first = (['expert-choice', 'top2', 'top1'] as const).map((r) => a.runs[r]!.valLoss[0]);
  assert.ok(Math.max(...first) - Math.min(...first) < 0.5, `first val losses ${first}`);
  await selectBackend('cpu');
});

test('the convergence speed-up is 1 when the target is never reached', () => {
  const run = (losses: number[]) => ({
    router: 'top2' as const,
    valSteps: [10, 20, 30, 40],
    valLoss: losses,
    trainLoss: losses,
    load: { step: [], demandMaxOverMean: [], processedMaxOverMean: [], demandCv: [], processedCv: [], dropped: [], noExpert: [] },
    expertsPerToken: [1],
    thresholdValLoss: null,
    thresholdExpertsPerToken: null,
    thresholdLoadMaxOverMean: null,
  });
  const result = (ec: number[], base: number[]): ExpertChoiceResult => ({
    tokensPerStep: 1,
    capacity: 1,
    moeLayers: [1],
    params: { total: 1, activePerTokenFfn: 1 },
    runs: { 'expert-choice': { ...run(ec), router: 'expert-choice' }, top2: run(base) },
  });
  assert.equal(convergenceSpeedup(result([4, 2, 1.5, 1], [4, 3, 2.5, 2]), 'top2'), 2); // EC reaches 2.0 at step 20 vs 40
  assert.equal(convergenceSpeedup(result([4, 3.5, 3, 2.8], [4, 3, 2.5, 2]), 'top2'), 1);
  assert.ok('notRun' in (convergenceSpeedup(result([4, 3, 2, 1], [4, 3, 2, 1]), 'top1') as object));
});

test('MoE sits in every other block; bad configs are usage errors naming the key', () => {
  assert.deepEqual(moeLayerIndices(4), [1, 3]);
  assert.deepEqual(moeLayerIndices(2), [1]);
  const bad = (patch: Partial<ExpertChoiceConfig>) => () => validateConfig({ ...smoke, ...patch });
  assert.throws(bad({ groupSize: 48 }), (e: unknown) => e instanceof UsageError && /groupSize=48/.test(e.message));
  assert.throws(bad({ routers: ['top3'] }), (e: unknown) => e instanceof UsageError && /top3/.test(e.message));
  assert.throws(bad({ depth: 1 }), UsageError);
  assert.throws(bad({ capacityFactor: 0 }), UsageError);
  validateConfig(smoke);
  validateConfig(expertChoice.profiles.quick);
  validateConfig(expertChoice.profiles.full);
});
