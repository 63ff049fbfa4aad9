import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../lib/core/backend';
import { UsageError } from '../../lib/core/errors';
import { distillation } from '../../lib/papers/distillation';
import type { DistillationConfig } from '../../lib/papers/distillation/config';
import { validateConfig, type DistillationResult } from '../../lib/papers/distillation/experiment';
import { gapClosed, RANKING_MODELS } from '../../lib/papers/distillation/ranking';
import { testContext } from '../fixtures/run-context';

const ctx = testContext;

const smoke = distillation.profiles.smoke;
let first: DistillationResult | undefined;

test('smoke run on wasm: same seed twice gives identical results, no leaked tensors, JSON-safe, finite', async () => {
  await selectBackend('wasm');
  const before = tf.memory().numTensors;
  first = await distillation.run(smoke, ctx(1));
  assert.equal(tf.memory().numTensors, before);
  const again = await distillation.run(smoke, ctx(1));
  assert.deepEqual(again, first);
  assert.deepEqual(JSON.parse(JSON.stringify(first)), first);
  for (const m of RANKING_MODELS) {
    const q = first.ranking.models[m];
    for (const v of [q.mrr, q.recallAt1, q.recallAt5, q.finalLoss]) assert.ok(Number.isFinite(v), `${m}: ${JSON.stringify(q)}`);
    assert.ok(q.recallAt1 <= q.recallAt5 && q.mrr > 0 && q.mrr <= 1);
  }
  // the asymmetric student's query tower is smaller than the full dual encoder's
  assert.ok(first.ranking.models['dual-small'].queryParams < first.ranking.models['dual-embed'].queryParams);
  assert.equal(first.capacity.teachers.length, smoke.capacity.teacherWidths.length);
  for (const t of first.capacity.teachers)
    for (const r of ['labels', 'offline', 'online'] as const) {
      const s = t.students[r];
      assert.ok(s.accuracy >= 0 && s.accuracy <= 1 && s.fidelity >= 0 && s.fidelity <= 1, `${r}: ${JSON.stringify(s)}`);
    }
});

test('gap closed = (student - dual) / (cross - dual); undefined without a gap', () => {
  assert.ok(Math.abs((gapClosed(0.5, 0.4, 0.6) as number) - 0.5) < 1e-12);
  assert.equal(gapClosed(0.7, 0.4, 0.4), null);
});

test('bad configs are usage errors naming the key', () => {
  const bad = (patch: (c: DistillationConfig) => void) => () => {
    const c = JSON.parse(JSON.stringify(smoke)) as DistillationConfig;
    patch(c);
    validateConfig(c);
  };
  assert.throws(bad((c) => (c.ranking.width = 15)), (e: unknown) => e instanceof UsageError && /ranking.width=15/.test(e.message));
  assert.throws(bad((c) => (c.capacity.teacherWidths = [64, 32])), (e: unknown) => e instanceof UsageError && /teacherWidths/.test(e.message));
  assert.throws(bad((c) => (c.capacity.dataset = 'cifar' as 'mnist')), UsageError);
  assert.throws(bad((c) => Object.assign(c.ranking, { evalHardNegatives: 1, evalRandomNegatives: 2 })), UsageError);
  for (const p of ['smoke', 'quick', 'full'] as const) validateConfig(distillation.profiles[p]);
});
