import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../lib/core/backend';
import { UsageError } from '../../lib/core/errors';
import { matryoshka } from '../../lib/papers/matryoshka';
import { oneNnTop1, retrievalFlopFactor } from '../../lib/papers/matryoshka/claims';
import type { MatryoshkaConfig } from '../../lib/papers/matryoshka/config';
import { curveSteps, halvingFunnel, paperFunnel, unavailableReason, validateConfig, type MatryoshkaResult } from '../../lib/papers/matryoshka/experiment';
import { testContext } from '../fixtures/run-context';

const ctx = testContext;

const smoke = matryoshka.profiles.smoke;
let cached: MatryoshkaResult | undefined;

async function runWasm(seed = 1): Promise<MatryoshkaResult> {
  await selectBackend('wasm');
  return matryoshka.run(smoke, ctx(seed, 'wasm'));
}

test('smoke run: same seed twice gives identical results, no leaked tensors, JSON-safe, finite', async () => {
  await selectBackend('wasm');
  const before = tf.memory().numTensors;
  const a = await runWasm(1);
  assert.equal(tf.memory().numTensors, before);
  const b = await runWasm(1);
  assert.deepEqual(a, b);
  assert.deepEqual(JSON.parse(JSON.stringify(a)), a);
  cached = a;
  const s = a.sizes.length;
  assert.deepEqual(a.sizes, [4, 8, 16]);
  for (const k of ['mrl', 'mrlE', 'ff', 'slicing', 'svd'] as const) {
    const row = a.accuracy[k] as number[];
    assert.equal(row.length, s, k);
    for (const v of row) assert.ok(v >= 0 && v <= 1);
  }
  // every plan of the MRL family plus FF/slicing/SVD at every size is evaluated
  const fam = (f: string) => a.retrieval.points.filter((p) => p.family === f).length;
  assert.equal(fam('mrl'), s);
  assert.equal(fam('ff'), s);
  assert.equal(fam('slicing'), s);
  assert.equal(fam('svd'), s);
  assert.equal(fam('adaptive'), s - 1);
  assert.equal(fam('paper-funnel'), 1);
  for (const p of a.retrieval.points) assert.ok(Number.isFinite(p.flopsPerQuery) && p.top1 >= 0 && p.top1 <= 1);
  assert.equal(a.adaptive.chosen.stops.reduce((x, y) => x + y, 0), a.testExamples);
  assert.ok(a.adaptive.chosen.meanTotalFlops <= a.adaptive.chosen.fullTotalFlops + 3 * a.sizes.length * a.classes + 2 * a.embeddingDim * a.classes);
  // PCA explains a growing share of the variance, all of it at D
  assert.ok(Math.abs(a.pcaVarianceExplained[s - 1] - 1) < 1e-9);
  // the learning curve: curvePoints checkpoints, the last at the end of training; MRL per size, FF-m per size
  const total = smoke.epochs * Math.floor(smoke.trainExamples / smoke.batchSize);
  assert.deepEqual(a.learningCurve.steps, curveSteps(total, smoke.curvePoints));
  assert.equal(a.learningCurve.steps[a.learningCurve.steps.length - 1], total);
  for (const model of ['mrl', 'ff'] as const) {
    assert.equal(a.learningCurve[model].length, a.learningCurve.steps.length);
    for (const row of a.learningCurve[model]) assert.ok(row.length === s && row.every((v) => v >= 0 && v <= 1), model);
  }
  // 1-NN per size is read from the exhaustive retrieval points of each family
  assert.deepEqual(oneNnTop1(a, 'slicing'), a.sizes.map((m) => a.retrieval.points.find((p) => p.family === 'slicing' && p.dim === m)!.top1));
});

test('learning-curve checkpoints: equal stretches, the last at the end, no duplicates', () => {
  assert.deepEqual(curveSteps(187, 4), [47, 94, 140, 187]);
  assert.deepEqual(curveSteps(3, 8), [1, 2, 3]);
  assert.deepEqual(curveSteps(8, 1), [8]);
});

test('exhaustive search at D always qualifies for the retrieval FLOP claim (the factor is >= 1)', async () => {
  const r = cached ?? (await runWasm(1));
  assert.ok(retrievalFlopFactor(r) >= 1);
});

test('plans: the paper funnel scaled to D, halving funnels end at D with resultSize', () => {
  const q = matryoshka.profiles.quick;
  const p = paperFunnel(q);
  assert.deepEqual(p.stages.map((s) => [s.dim, s.keep]), [[8, 200], [16, 100], [32, 50], [64, 25], [128, 10], [256, 10]]);
  const h = halvingFunnel(2, [2, 4, 8, 16], 200, 10);
  assert.deepEqual(h.stages.map((s) => [s.dim, s.keep]), [[2, 200], [4, 100], [8, 50], [16, 10]]);
});

test('bad configs are usage errors naming the key; Fashion-MNIST reports why it cannot run', () => {
  const bad = (patch: Partial<MatryoshkaConfig>) => () => validateConfig({ ...smoke, ...patch });
  assert.throws(bad({ dataset: 'cifar' }), (e: unknown) => e instanceof UsageError && /dataset='cifar'/.test(e.message));
  assert.throws(bad({ embeddingDim: 24 }), UsageError);
  assert.throws(bad({ retrievalQueries: 100000 }), UsageError);
  assert.throws(bad({ funnelRetrieveDim: 3 }), UsageError);
  assert.throws(bad({ trainExamples: 59999 }), UsageError);
  assert.throws(bad({ curveExamples: 100000 }), (e: unknown) => e instanceof UsageError && /curveExamples=100000 must be at most holdoutExamples/.test(e.message));
  assert.throws(bad({ curvePoints: 0 }), (e: unknown) => e instanceof UsageError && /curvePoints=0/.test(e.message));
  for (const p of ['smoke', 'quick', 'full'] as const) validateConfig(matryoshka.profiles[p]);
  assert.equal(unavailableReason(smoke), undefined);
  const why = unavailableReason({ ...smoke, dataset: 'fashion-mnist' });
  assert.ok(why === undefined || /dataset-fashion-mnist/.test(why));
});
