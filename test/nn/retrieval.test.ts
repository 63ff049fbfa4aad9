import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../lib/core/backend';
import { UsageError } from '../../lib/core/errors';
import { RunRng } from '../../lib/core/rng';
import {
  adaptivePlan,
  exhaustivePlan,
  funnelPlan,
  planFlopsPerQuery,
  precisionAtK,
  RetrievalIndex,
  smallestK,
  top1Accuracy,
  validatePlan,
} from '../../lib/nn/retrieval';

function randomRows(rows: number, dim: number, seed: number): Float32Array {
  const s = new RunRng(seed).stream('rows');
  return Float32Array.from({ length: rows * dim }, () => s.normal());
}

/** Brute force in float64: rows ranked by squared L2 distance on the first d coordinates. */
function bruteForce(q: Float32Array, qi: number, db: Float32Array, rows: number, dim: number, d: number, k: number): number[] {
  const dist = Array.from({ length: rows }, (_, r) => {
    let s = 0;
    for (let j = 0; j < d; j++) s += (q[qi * dim + j] - db[r * dim + j]) ** 2;
    return { r, s };
  });
  return dist.sort((a, b) => a.s - b.s || a.r - b.r).slice(0, k).map((x) => x.r);
}

test('smallestK: ascending, ties keep the earlier index, k larger than n', () => {
  assert.deepEqual(Array.from(smallestK([5, 1, 3, 1, 0, 9], 6, 3)), [4, 1, 3]);
  assert.deepEqual(Array.from(smallestK([2, 1], 2, 5)), [1, 0]);
  assert.deepEqual(Array.from(smallestK([7, 7, 7, 3], 4, 2, 0)), [3, 0]);
});

test('FLOPs per query: (2d + 1) per candidate, by hand for exhaustive, adaptive and the paper funnel', () => {
  assert.equal(planFlopsPerQuery(exhaustivePlan(256, 10), 1000), 1000 * 513);
  assert.equal(planFlopsPerQuery(adaptivePlan(8, 200, 256, 10), 1000), 1000 * 17 + 200 * 513);
  const f = funnelPlan(8, [16, 32, 64, 128, 2048], [200, 100, 50, 25, 10]);
  assert.deepEqual(f.stages.map((s) => [s.dim, s.keep]), [[8, 200], [16, 100], [32, 50], [64, 25], [128, 10], [2048, 10]]);
  assert.equal(planFlopsPerQuery(f, 1_281_167), 1_281_167 * 17 + 200 * 33 + 100 * 65 + 50 * 129 + 25 * 257 + 10 * 4097);
  // the paper's ~128x: exhaustive 2048 vs the same funnel retrieving at 16 dims on ImageNet-1K's 1.28M images
  const g = funnelPlan(16, [32, 64, 128, 2048], [200, 100, 50, 25]);
  const ratio = planFlopsPerQuery(exhaustivePlan(2048, 10), 1_281_167) / planFlopsPerQuery(g, 1_281_167);
  assert.ok(ratio > 100 && ratio < 128, String(ratio));
  assert.throws(() => validatePlan(adaptivePlan(8, 200, 16, 10), 16, 100), UsageError);
  assert.throws(() => validatePlan(exhaustivePlan(32, 10), 16, 100), UsageError);
  assert.throws(() => funnelPlan(8, [16, 32], [200]), UsageError);
});

test('exhaustive search matches float64 brute force at every prefix; adaptive with a full shortlist equals exhaustive', async () => {
  await selectBackend('cpu');
  const rows = 300;
  const dim = 8;
  const db = randomRows(rows, dim, 1);
  const q = randomRows(20, dim, 2);
  const index = new RetrievalIndex(db, rows, dim);
  const before = tf.memory().numTensors;
  for (const d of [2, 4, 8]) {
    const got = await index.run(exhaustivePlan(d, 5), q, 20, dim);
    for (let i = 0; i < 20; i++) assert.deepEqual(Array.from(got.subarray(i * 5, i * 5 + 5)), bruteForce(q, i, db, rows, dim, d, 5), `d=${d} query ${i}`);
  }
  const full = await index.run(exhaustivePlan(8, 5), q, 20, dim);
  assert.deepEqual(await index.run(adaptivePlan(2, rows, 8, 5), q, 20, dim), full);
  // a funnel only ever returns rows from its first shortlist
  const first = await index.run(exhaustivePlan(2, 50), q, 20, dim);
  const fun = await index.run(funnelPlan(2, [4, 8], [50, 20]), q, 20, dim);
  for (let i = 0; i < 20; i++) {
    const allowed = new Set(first.subarray(i * 50, i * 50 + 50));
    for (const r of fun.subarray(i * 20, i * 20 + 20)) assert.ok(allowed.has(r));
  }
  // an index that keeps 50 per scan and reuses it gives the same lists
  const cachedIndex = new RetrievalIndex(db, rows, dim, { firstStageWidth: 50 });
  for (const d of [2, 8]) {
    assert.deepEqual(await cachedIndex.run(exhaustivePlan(d, 5), q, 20, dim), await index.run(exhaustivePlan(d, 5), q, 20, dim));
    assert.deepEqual(await cachedIndex.run(adaptivePlan(d, 50, 8, 5), q, 20, dim), await index.run(adaptivePlan(d, 50, 8, 5), q, 20, dim));
  }
  assert.equal(tf.memory().numTensors, before);
});

test('top-1 accuracy and precision@k by hand', () => {
  const nb = Int32Array.from([0, 1, 2, 3, 3, 2]); // two queries, 3 neighbours each
  const dbLabels = [7, 7, 8, 9];
  assert.equal(top1Accuracy(nb, 3, [7, 8], dbLabels), 0.5);
  assert.equal(precisionAtK(nb, 3, 3, [7, 8], dbLabels), (2 / 3 + 1 / 3) / 2);
  assert.throws(() => precisionAtK(nb, 3, 4, [7, 8], dbLabels), UsageError);
});
