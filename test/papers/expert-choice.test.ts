import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../lib/core/backend';
import { UsageError } from '../../lib/core/errors';
import { expertChoice } from '../../lib/papers/expert-choice';
import { convergenceSpeedup, speedupCurve } from '../../lib/papers/expert-choice/claims';
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
  // the uniform-routing null and the experts sweep (smoke: one extra expert count, EC and top-2)
  assert.equal(a.uniformNull.steps, smoke.nullSteps);
  assert.ok(Math.abs(a.uniformNull.expertChoiceHistogram.reduce((x, y) => x + y, 0) - 1) < 1e-12);
  assert.ok(a.uniformNull.top2.dropped.p95 >= a.uniformNull.top2.dropped.mean);
  assert.deepEqual(a.sweep.map((p) => [p.experts, Object.keys(p.runs).sort()]), smoke.expertsSweep.map((e) => [e, ['expert-choice', 'top2']]));
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
  const stat = { mean: 1, p95: 1 };
  const nullStats = { demandMaxOverMean: stat, dropped: stat, noExpert: stat };
  const result = (ec: number[], base: number[]): ExpertChoiceResult => ({
    tokensPerStep: 1,
    capacity: 1,
    moeLayers: [1],
    params: { total: 1, activePerTokenFfn: 1 },
    runs: { 'expert-choice': { ...run(ec), router: 'expert-choice' }, top2: run(base) },
    uniformNull: { steps: 1, top1: nullStats, top2: nullStats, expertChoiceHistogram: [1] },
    sweep: [],
  });
  assert.equal(convergenceSpeedup(result([4, 2, 1.5, 1], [4, 3, 2.5, 2]), 'top2'), 2); // EC reaches 2.0 at step 20 vs 40
  assert.equal(convergenceSpeedup(result([4, 3.5, 3, 2.8], [4, 3, 2.5, 2]), 'top2'), 1);
  assert.ok('notRun' in (convergenceSpeedup(result([4, 3, 2, 1], [4, 3, 2, 1]), 'top1') as object));
  // the trend with training length: the speed-up after every evaluation of the baseline
  const r = result([4, 2, 1.5, 1], [4, 3, 2.5, 2]);
  const curve = speedupCurve(r.runs['expert-choice']!, r.runs.top2!).map((p) => p.speedup);
  [1, 20 / 15, 30 / 17.5, 2].forEach((v, i) => assert.ok(Math.abs((curve[i] as number) - v) < 1e-12, `speed-up after evaluation ${i}: ${curve[i]} vs ${v}`));
  assert.equal(speedupCurve(result([5, 5, 5, 5], [4, 3, 2, 1]).runs['expert-choice']!, run([4, 3, 2, 1]))[0].speedup, null);
});

test('token-choice load claims are judged against the uniform-routing null: learned mean / null per-step 95th percentile', () => {
  const claim = (id: string) => expertChoice.claims.find((c) => c.id === id)!;
  const learned = (dropped: number[], demand: number[]) => ({
    router: 'top2' as const,
    valSteps: [1],
    valLoss: [1],
    trainLoss: [1],
    load: { step: [1, 2], demandMaxOverMean: demand, processedMaxOverMean: [1, 1], demandCv: [0, 0], processedCv: [0, 0], dropped, noExpert: [0, 0] },
    expertsPerToken: [1],
    thresholdValLoss: null,
    thresholdExpertsPerToken: null,
    thresholdLoadMaxOverMean: null,
  });
  const nul = (p95: number) => ({ demandMaxOverMean: { mean: 1, p95 }, dropped: { mean: 0.05, p95 }, noExpert: { mean: 0, p95: 0 } });
  const result: ExpertChoiceResult = {
    tokensPerStep: 1,
    capacity: 1,
    moeLayers: [1],
    params: { total: 1, activePerTokenFfn: 1 },
    runs: { top2: learned([0.1, 0.3], [2, 2]), top1: { ...learned([0, 0], [1.5, 2.5]), router: 'top1' } },
    uniformNull: { steps: 1, top1: nul(1.25), top2: nul(0.1), expertChoiceHistogram: [1] },
    sweep: [],
  };
  assert.equal(claim('ec-top2-drops-tokens').metric(result), 2); // mean 0.2 over the null's 0.1
  assert.equal(claim('ec-top1-load-imbalance').metric(result), 1.6); // mean 2.0 over the null's 1.25
  assert.equal(claim('ec-some-tokens-get-no-expert').kind, 'check');
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
