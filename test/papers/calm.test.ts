import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../lib/core/backend';
import { UsageError } from '../../lib/core/errors';
import { calm, exitLayerHtml } from '../../lib/papers/calm';
import { consistency, rougeL, tokenAgreement } from '../../lib/papers/calm/consistency';
import { guaranteeCounts, oracleDepth } from '../../lib/papers/calm/claims';
import { teacherForcedLayers, validateConfig, type CalmResult } from '../../lib/papers/calm/experiment';
import { testContext } from '../fixtures/run-context';

const ctx = testContext;

const smoke = calm.profiles.smoke;

/** Everything but the wall-clock measurements (which vary run to run by design). */
function withoutTimes(r: CalmResult): unknown {
  return { ...r, timing: { ...r.timing, fullMs: [], decoders: r.timing.decoders.map((d) => ({ ...d, ms: [] })) } };
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
  assert.throws(() => validateConfig({ ...smoke, lrSchedule: 'linear' as never }), (e: unknown) => e instanceof UsageError && /lrSchedule/.test(e.message) && /cosine/.test(e.message));
  assert.throws(() => validateConfig({ ...smoke, depth: 1 }), UsageError);
  assert.throws(() => validateConfig({ ...smoke, timingPrompts: 2 }), (e: unknown) => e instanceof UsageError && /timingPrompts=2/.test(e.message));
  assert.throws(() => validateConfig({ ...smoke, timingRounds: 4 }), (e: unknown) => e instanceof UsageError && /timingRounds=4/.test(e.message));
});

test('teacher-forced layers at a consistency: the fewest mean layers among the curve points that keep it', () => {
  const curve = { consistency: [0.5, 0.8, 0.92, 1], layers: [1, 2.5, 4, 8] };
  assert.equal(teacherForcedLayers(curve, 0.9), 4);
  assert.equal(teacherForcedLayers(curve, 0.8), 2.5);
  assert.equal(teacherForcedLayers(curve, 1), 8);
});

test('the oracle at a consistency: the deepest bytes exit wrongly at layer 1, the rest at their oracle depth', () => {
  // 4 bytes at depths 1, 2, 4, 4 (of 4 layers)
  const h = { counts: [1, 1, 0, 2], lastLayerMismatch: 0 };
  assert.equal(oracleDepth(h, 1), 11 / 4);
  assert.equal(oracleDepth(h, 0.75), (1 + 2 + 4 + 1) / 4);
  assert.equal(oracleDepth(h, 0.5), (1 + 2 + 1 + 1) / 4);
  assert.equal(oracleDepth(h, 0), 1);
});

test('the guarantee counts only re-splits that certified a threshold, and is inconclusive when none did', () => {
  const point = (certified: number, held: number) => ({ delta: 0.1, lambda: null, lambdaIndex: -1, calRisk: 0, calLayers: 4, testRisk: 0, testLayers: 4, testTokenAgreement: 1, testRougeL: 1, resplits: 10, certified, held });
  const result = (ps: ReturnType<typeof point>[]) => ({ measures: [{ calibration: ps }] }) as unknown as CalmResult;
  const claim = calm.claims.find((c) => c.id === 'calm-guarantee-holds')!;
  // 10 uncertified re-splits count for nothing: 7 of 8 certified held.
  assert.deepEqual(guaranteeCounts(result([point(0, 0), point(8, 7)])), { resplits: 20, certified: 8, held: 7 });
  assert.equal(claim.metric(result([point(0, 0), point(8, 7)])), 7 / 8);
  const none = claim.metric(result([point(0, 0), point(0, 0)]));
  assert.ok(typeof none === 'object' && 'outcome' in none && none.outcome === 'inconclusive');
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
      assert.ok(p.held <= p.certified && p.certified <= p.resplits && p.resplits === smoke.resplits);
    }
  }
  // Timed in rounds, every decoder paired with the full model; the real decoder makes the simulation's decisions.
  assert.equal(a.timing.fullMs.length, smoke.timingRounds);
  for (const d of a.timing.decoders) {
    assert.equal(d.ms.length, smoke.timingRounds);
    assert.equal(d.realMatchesSimulation, 1);
  }
  // Per-layer quality and the oracle: one count per test byte; the last layer reproduces the decoded bytes.
  assert.equal(a.layerQuality.accuracy.length, smoke.depth);
  assert.equal(a.oracle.decoding.counts.reduce((x, y) => x + y, 0), smoke.testPrompts * smoke.genLen);
  assert.equal(a.oracle.decoding.lastLayerMismatch, 0);
  assert.equal(a.layerQuality.agreeWithLast[smoke.depth - 1], 1);
  // Teacher-forced measures: never exiting keeps every byte (consistency 1 at the full depth), and no measure
  // beats the oracle at any consistency, since a byte that exits before its oracle depth is inconsistent.
  for (const m of a.measures) {
    const curve = m.teacherForced;
    assert.equal(curve.consistency.length, curve.layers.length);
    assert.deepEqual([curve.consistency.at(-1), curve.layers.at(-1)], [1, smoke.depth]);
    for (const level of [1, 0.95, 0.9, 0.8, 0.5]) assert.ok(teacherForcedLayers(curve, level) >= oracleDepth(a.oracle.decoding, level) - 1e-6, `${m.measure} at ${level}`);
  }
  const html = exitLayerHtml(a.sample, a.depth);
  assert.equal((html.match(/title="layer \d"/g) ?? []).length, smoke.genLen);
  // a different seed trains a different model
  const c = await calm.run(smoke, ctx(2, 'wasm'));
  assert.notDeepEqual(c.layerQuality.valLoss, a.layerQuality.valLoss);
});
