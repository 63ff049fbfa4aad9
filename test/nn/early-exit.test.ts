import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../lib/core/backend';
import { UsageError } from '../../lib/core/errors';
import { RunRng } from '../../lib/core/rng';
import {
  CONFIDENCE_MEASURES,
  EarlyExitLM,
  KVCache,
  cachedBlock,
  checkMeasure,
  decayedThreshold,
  decodeBatch,
  decodeEarlyExit,
  decodeFull,
  depthWeights,
  projectKV,
  softmaxResponse,
  stateSaturation,
  type ConfidenceMeasure,
} from '../../lib/nn/early-exit';

const CFG = { vocab: 32, width: 16, depth: 4, heads: 2, ffnHidden: 24 };

function model(seed = 3): EarlyExitLM {
  return new EarlyExitLM(CFG, new RunRng(seed), 'ee-test');
}

const PROMPTS = [
  [1, 5, 9, 2, 7],
  [3, 3, 8, 1, 0],
  [30, 12, 4, 4, 19],
];

/** Thresholds that make exits happen at mixed layers for this random-init model (checked below). */
const MID: Record<ConfidenceMeasure, number[]> = {
  softmax: [0.004, 0.01, 0.03],
  state: [0.9, 0.97, 0.995],
  classifier: [0.45, 0.5, 0.55],
};

test('depth weights grow with depth and sum to one; decayed threshold starts at λ and falls to 0.9λ + 0.1λe^-4', () => {
  const w = depthWeights(4);
  assert.deepEqual(w, [0.1, 0.2, 0.3, 0.4]);
  assert.equal(decayedThreshold(0.8, 0, 10), 0.8);
  assert.ok(Math.abs(decayedThreshold(0.8, 10, 10) - (0.72 + 0.08 * Math.exp(-4))) < 1e-12);
  assert.ok(decayedThreshold(0.8, 3, 10) < decayedThreshold(0.8, 2, 10));
  assert.throws(() => checkMeasure('entropy'), UsageError);
});

test('confidence measures: softmax top-1 minus top-2, cosine of consecutive states', async () => {
  await selectBackend('cpu');
  const logits = tf.tensor2d([
    [Math.log(0.5), Math.log(0.3), Math.log(0.2)],
    [0, 0, 0],
  ]);
  const sr = await softmaxResponse(logits).data();
  assert.ok(Math.abs(sr[0] - 0.2) < 1e-6);
  assert.ok(Math.abs(sr[1]) < 1e-6);
  const a = tf.tensor2d([
    [1, 0],
    [1, 1],
  ]);
  const b = tf.tensor2d([
    [2, 0],
    [-1, 1],
  ]);
  const cos = await stateSaturation(a, b).data();
  assert.ok(Math.abs(cos[0] - 1) < 1e-6);
  assert.ok(Math.abs(cos[1]) < 1e-6);
  tf.dispose([logits, a, b]);
});

test('KV cache: prefill + cached steps reproduce the parallel causal forward; shapes [B, H, S, dh]; no leak', async () => {
  await selectBackend('cpu');
  const lm = model();
  const seq = [[4, 8, 15, 16, 23, 11, 2]];
  const before = tf.memory().numTensors;
  const seqT = tf.tensor2d(seq, undefined, 'int32');
  const ref = lm.hiddenStates(seqT);
  const refLast = await ref[CFG.depth - 1].array();
  tf.dispose([seqT, ...ref]);
  const cache = new KVCache(CFG.depth);
  lm.prefill([seq[0].slice(0, 4)], cache);
  const got: number[][] = [];
  for (let t = 4; t < seq[0].length; t++) {
    const pos = cache.length(0);
    let x: tf.Tensor = tf.tidy(() => lm.embedding.gather(tf.tensor2d([[seq[0][t]]], [1, 1], 'int32')));
    for (let l = 0; l < CFG.depth; l++) {
      const { out, k, v } = cachedBlock(x, lm.blocks[l], cache.layers[l], pos);
      assert.deepEqual(k.shape, [1, CFG.heads, 1, CFG.width / CFG.heads]);
      cache.append(l, k, v);
      tf.dispose([x, k, v]);
      x = out;
    }
    got.push(Array.from(await x.data()));
    x.dispose();
  }
  for (let l = 0; l < CFG.depth; l++) assert.deepEqual(cache.layers[l]?.k.shape, [1, CFG.heads, seq[0].length, CFG.width / CFG.heads]);
  cache.dispose();
  got.forEach((row, i) => row.forEach((v, j) => assert.ok(Math.abs(v - refLast[0][4 + i][j]) < 1e-4, `position ${4 + i} dim ${j}: ${v} vs ${refLast[0][4 + i][j]}`)));
  // projectKV = the K/V a block computes for the same input
  const x = tf.randomNormal([2, 3, CFG.width], 0, 1, 'float32', 7);
  const a = projectKV(x, lm.blocks[1], 5);
  const b = cachedBlock(x, lm.blocks[1], undefined, 5);
  assert.deepEqual(await a.k.array(), await b.k.array());
  assert.deepEqual(await a.v.array(), await b.v.array());
  tf.dispose([x, a.k, a.v, b.k, b.v, b.out]);
  assert.equal(tf.memory().numTensors, before);
  lm.dispose();
});

test('prefill is causal: changing a later prompt token leaves earlier cache entries unchanged', async () => {
  await selectBackend('cpu');
  const lm = model();
  const c1 = new KVCache(CFG.depth);
  const c2 = new KVCache(CFG.depth);
  lm.prefill([[1, 2, 3, 4]], c1);
  lm.prefill([[1, 2, 3, 30]], c2);
  for (let l = 0; l < CFG.depth; l++) {
    const k1 = (await c1.layers[l]!.k.array())[0].map((h) => h.slice(0, 3));
    const k2 = (await c2.layers[l]!.k.array())[0].map((h) => h.slice(0, 3));
    assert.deepEqual(k1, k2);
    const last1 = (await c1.layers[l]!.k.array())[0][0][3];
    const last2 = (await c2.layers[l]!.k.array())[0][0][3];
    assert.notDeepEqual(last1, last2);
  }
  c1.dispose();
  c2.dispose();
  lm.dispose();
});

test('threshold 0 always exits at layer 1; threshold above 1 never exits and reproduces the full model exactly', async () => {
  await selectBackend('cpu');
  const lm = model();
  const before = tf.memory().numTensors;
  for (const prompt of PROMPTS) {
    const full = await decodeFull(lm, prompt, 8);
    for (const measure of CONFIDENCE_MEASURES) {
      const zero = await decodeEarlyExit(lm, prompt, { measure, threshold: 0, maxNewTokens: 8, decay: true });
      assert.deepEqual(zero.exitLayers, new Array(8).fill(1), measure);
      const never = await decodeEarlyExit(lm, prompt, { measure, threshold: 1.01, maxNewTokens: 8, decay: false });
      assert.deepEqual(never.exitLayers, new Array(8).fill(CFG.depth), measure);
      assert.deepEqual(never.tokens, full.tokens, measure);
    }
  }
  // the batched simulation agrees at both ends too
  for (const measure of CONFIDENCE_MEASURES) {
    const zero = await decodeBatch(lm, PROMPTS, { measure, thresholds: [0, 0, 0], maxNewTokens: 6, decay: false });
    for (const r of zero) assert.deepEqual(r.exitLayers, new Array(6).fill(1));
  }
  const fullBatch = await decodeBatch(lm, PROMPTS, { measure: 'none', maxNewTokens: 8, decay: false });
  for (let i = 0; i < PROMPTS.length; i++) assert.deepEqual(fullBatch[i].tokens, (await decodeFull(lm, PROMPTS[i], 8)).tokens);
  assert.equal(tf.memory().numTensors, before);
  lm.dispose();
});

test('batched simulation makes exactly the decisions of the real early-exit decoder (cpu), with mixed exit layers', async () => {
  await selectBackend('cpu');
  const lm = model();
  // give the exit classifier some signal so its probabilities spread around 0.5
  lm.exitClassifier.w.assign(tf.randomNormal(lm.exitClassifier.w.shape, 0, 0.5, 'float32', 11));
  const before = tf.memory().numTensors;
  for (const measure of CONFIDENCE_MEASURES) {
    const rows: number[][] = [];
    const ths: number[] = [];
    for (const p of PROMPTS) for (const th of MID[measure]) {
      rows.push(p);
      ths.push(th);
    }
    const sim = await decodeBatch(lm, rows, { measure, thresholds: ths, maxNewTokens: 10, decay: true });
    const layers = new Set<number>();
    for (let i = 0; i < rows.length; i++) {
      const real = await decodeEarlyExit(lm, rows[i], { measure, threshold: ths[i], maxNewTokens: 10, decay: true });
      assert.deepEqual(sim[i].tokens, real.tokens, `${measure} row ${i} tokens`);
      assert.deepEqual(sim[i].exitLayers, real.exitLayers, `${measure} row ${i} exit layers`);
      for (const e of real.exitLayers) layers.add(e);
    }
    assert.ok(layers.size >= 2, `${measure}: thresholds should give mixed exit layers, got ${[...layers]}`);
  }
  assert.equal(tf.memory().numTensors, before);
  lm.dispose();
});

test('exit-classifier loss = official loss_fn_meta_cls: class-balanced cross-entropy summed over tokens, over the token count (one normaliser for all layers), averaged over layers', async () => {
  // Regression: the loss divided each layer by its own weight sum 2 pos neg / n, which
  // re-weights the layers by their label balance (the PyTorch twin, test/twins, caught it).
  await selectBackend('cpu');
  const lm = model();
  lm.head.w.assign(lm.head.w.mul(8)); // spread the layers' predictions so label balances differ
  const s = new RunRng(21).stream('tokens');
  const tokens = tf.tensor2d(Array.from({ length: 4 }, () => Array.from({ length: 12 }, () => s.int(CFG.vocab))), undefined, 'int32');
  const hs = lm.hiddenStates(tokens);
  const top = (await lm.logits(hs[CFG.depth - 1]).argMax(-1).data()) as Int32Array;
  let expected = 0;
  let perOwnWeights = 0;
  const positives: number[] = [];
  for (let l = 0; l < CFG.depth - 1; l++) {
    const pred = (await lm.logits(hs[l]).argMax(-1).data()) as Int32Array;
    const p = await lm.classifierProb(hs[l]).data();
    const n = pred.length;
    const labels: number[] = Array.from(pred, (v, i) => (v === top[i] ? 1 : 0));
    const pos = labels.reduce((a, b) => a + b, 0);
    positives.push(pos);
    let sum = 0;
    let wsum = 0;
    labels.forEach((y, i) => {
      const w = y === 1 ? 1 - pos / n : pos / n;
      sum += w * -(y * Math.log(p[i]) + (1 - y) * Math.log(1 - p[i]));
      wsum += w;
    });
    expected += sum / n / (CFG.depth - 1);
    perOwnWeights += sum / wsum / (CFG.depth - 1);
  }
  // The layers differ in label balance, so the two normalisations differ and the test can tell them apart.
  assert.ok(new Set(positives).size > 1, `label counts ${positives}`);
  assert.ok(Math.abs(perOwnWeights - expected) > 0.05 * expected, 'this batch cannot tell the normalisations apart');
  const got = (await lm.classifierLoss(hs).data())[0];
  assert.ok(Math.abs(got - expected) < 1e-5 * expected, `classifier loss ${got}, official ${expected} (per-layer weight sums would give ${perOwnWeights})`);
  tf.dispose([tokens, ...hs]);
  lm.dispose();
});

test('weighted per-layer loss and exit-classifier loss: finite, trainable, no leak; same seed -> same init', async () => {
  await selectBackend('cpu');
  const lm = model();
  const inputs = tf.tensor2d([[1, 2, 3, 4, 5, 6]], undefined, 'int32');
  const targets = tf.tensor2d([[2, 3, 4, 5, 6, 7]], undefined, 'int32');
  const before = tf.memory().numTensors;
  const per = await lm.layerLosses(inputs, targets);
  const total = lm.loss(inputs, targets);
  const w = depthWeights(CFG.depth);
  const expected = per.reduce((s, l, i) => s + w[i] * l, 0);
  assert.ok(Math.abs((await total.data())[0] - expected) < 1e-4);
  total.dispose();
  const hs = lm.hiddenStates(inputs);
  const cl = lm.classifierLoss(hs);
  assert.ok(Number.isFinite((await cl.data())[0]));
  tf.dispose([cl, ...hs]);
  assert.equal(tf.memory().numTensors, before);
  const opt = tf.train.adam(0.01);
  const first = (await lm.loss(inputs, targets).data())[0];
  for (let i = 0; i < 20; i++) opt.minimize(() => lm.loss(inputs, targets), true, lm.store.variables)?.dispose();
  const last = lm.loss(inputs, targets);
  assert.ok((await last.data())[0] < first);
  last.dispose();
  opt.dispose();
  const again = model();
  const fresh = model();
  assert.deepEqual(await again.head.w.array(), await fresh.head.w.array());
  tf.dispose([inputs, targets]);
  lm.dispose();
  again.dispose();
  fresh.dispose();
});
