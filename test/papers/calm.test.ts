import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../lib/core/backend';
import { UsageError } from '../../lib/core/errors';
import { calm, exitLayerHtml } from '../../lib/papers/calm';
import { consistency, rougeL, tokenAgreement } from '../../lib/papers/calm/consistency';
import { validateConfig, type CalmResult } from '../../lib/papers/calm/experiment';
import { testContext } from '../fixtures/run-context';

const ctx = testContext;

const smoke = calm.profiles.smoke;

/** Everything but the wall-clock measurements (which vary run to run by design). */
function withoutTimes(r: CalmResult): unknown {
  return {
    ...r,
    fullWallMs: 0,
    measures: r.measures.map((m) => ({ ...m, calibration: m.calibration.map((p) => ({ ...p, wallMs: 0, speedup: 0 })) })),
  };
}

test('consistency metrics: token agreement and word ROUGE-L by hand', () => {
  assert.equal(tokenAgreement([1, 2, 3, 4], [1, 2, 9, 4]), 0.75);
  assert.equal(tokenAgreement([], []), 1);
  // LCS("the cat sat", "the dog sat") = 2 words: P = R = 2/3
  assert.ok(Math.abs(rougeL('the cat sat', 'the dog sat') - 2 / 3) < 1e-12);
  assert.equal(rougeL('', ''), 1);
  assert.equal(consistency('token-agreement', [5], [5]), 1);
});

test('config validation names the bad key', () => {
  assert.throws(() => validateConfig({ ...smoke, referenceDelta: 0.3 }), UsageError);
  assert.throws(() => validateConfig({ ...smoke, consistency: 'bleu' }), UsageError);
  assert.throws(() => validateConfig({ ...smoke, depth: 1 }), UsageError);
  assert.throws(() => validateConfig({ ...smoke, timingPrompts: 99 }), UsageError);
});

test('smoke run on wasm: same seed twice -> identical tokens, exit layers and calibration; claims, figures and sample HTML', async () => {
  await selectBackend('wasm');
  const before = tf.memory().numTensors;
  const a = await calm.run(smoke, ctx(1, 'wasm'));
  assert.equal(tf.memory().numTensors, before);
  const b = await calm.run(smoke, ctx(1, 'wasm'));
  assert.deepEqual(withoutTimes(a), withoutTimes(b));
  assert.deepEqual(JSON.parse(JSON.stringify(a)), a);
  assert.equal(a.measures.length, 3);
  for (const m of a.measures) {
    assert.equal(m.grid.length, m.testRiskByLambda.length);
    for (let i = 1; i < m.grid.length; i++) assert.ok(m.grid[i] < m.grid[i - 1], 'grid is descending');
    assert.equal(m.exitHistogram.reduce((s, n) => s + n, 0), smoke.testPrompts * smoke.genLen);
    for (const p of m.calibration) {
      assert.ok(p.testRisk >= 0 && p.testRisk <= 1);
      assert.ok(p.testLayers >= 1 && p.testLayers <= smoke.depth);
      assert.ok(p.speedup > 0 && Number.isFinite(p.speedup));
      assert.ok(p.guaranteeRate >= 0 && p.guaranteeRate <= 1);
      // the real decoder makes the simulation's decisions
      assert.equal(p.realMatchesSimulation, 1);
    }
  }
  const html = exitLayerHtml(a.sample, a.depth);
  assert.equal((html.match(/title="layer \d"/g) ?? []).length, smoke.genLen);
  // a different seed trains a different model
  const c = await calm.run(smoke, ctx(2, 'wasm'));
  assert.notDeepEqual(c.layerValLoss, a.layerValLoss);
});
