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
  // every model's validation MRR after every epoch (patience 0: all epochs), and its losses per epoch
  const done: DistillationResult = first;
  for (const m of RANKING_MODELS) {
    const q = done.ranking.models[m];
    assert.equal(q.validationMrr.length, smoke.ranking.epochs, m);
    assert.equal(q.epochLoss.length, smoke.ranking.epochs, m);
    assert.equal(q.finalLoss, q.epochLoss[q.epochLoss.length - 1]);
    for (const v of q.validationMrr) assert.ok(v > 0 && v <= 1, `${m}: ${v}`);
  }
  assert.ok(done.ranking.validationQueries > 0);
  // the asymmetric student's query tower is smaller than the full dual encoder's
  assert.ok(first.ranking.models['dual-small'].queryParams < first.ranking.models['dual-embed'].queryParams);
  assert.equal(first.capacity.teachers.length, smoke.capacity.teacherWidths.length);
  for (const t of first.capacity.teachers)
    for (const r of ['labels', 'offline', 'online'] as const) {
      const s = t.students[r];
      assert.ok(s.accuracy >= 0 && s.accuracy <= 1 && s.fidelity >= 0 && s.fidelity <= 1, `${r}: ${JSON.stringify(s)}`);
    }
});

test('patience stops a model once its validation MRR has not improved for that many epochs', async () => {
  await selectBackend('wasm');
  const cfg = JSON.parse(JSON.stringify(smoke)) as DistillationConfig;
  Object.assign(cfg.ranking, { epochs: 4, patience: 1 });
  const r = await distillation.run(cfg, ctx(2));
  for (const m of RANKING_MODELS) {
    const v = r.ranking.models[m].validationMrr;
    assert.ok(v.length >= 1 && v.length <= 4, m);
    // stopped early only right after an epoch that did not beat the best before it
    if (v.length < 4) assert.ok(v[v.length - 1] <= Math.max(...v.slice(0, -1)), `${m}: ${v}`);
    // trained on only while it kept improving
    for (let e = 1; e < v.length - 1; e++) assert.ok(v[e] > Math.max(...v.slice(0, e)), `${m}: ${v}`);
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
  assert.throws(bad((c) => (c.ranking.patience = -1)), (e: unknown) => e instanceof UsageError && /ranking.patience=-1/.test(e.message));
  assert.throws(bad((c) => (c.ranking.validationQueries = 0)), (e: unknown) => e instanceof UsageError && /ranking.validationQueries=0/.test(e.message));
  for (const p of ['smoke', 'quick', 'full'] as const) validateConfig(distillation.profiles[p]);
});
