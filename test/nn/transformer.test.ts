import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../lib/core/backend';
import { RunRng } from '../../lib/core/rng';
import { applyRope, causalMaskBias, multiHeadAttention, createAttention, softmaxAttention, TransformerLM } from '../../lib/nn/transformer';
import { applyDense, ParamStore } from '../../lib/nn/layers';
import { crossEntropy, trainStep } from '../../lib/nn/training';

before(async () => {
  await selectBackend('cpu');
});

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol, `${what}[${i}]: ${a[i]} vs ${b[i]}`);
}

/** Naive attention for one head: loops over positions, float64. */
function naiveAttention(q: number[][], k: number[][], v: number[][], causal: boolean): number[][] {
  const dh = q[0].length;
  return q.map((qi, i) => {
    const shift = k.length - q.length;
    const scores = k.map((kj, j) => (causal && j > i + shift ? -Infinity : qi.reduce((s, x, d) => s + x * kj[d], 0) / Math.sqrt(dh)));
    const m = Math.max(...scores);
    const e = scores.map((s) => Math.exp(s - m));
    const z = e.reduce((a, b) => a + b, 0);
    return v[0].map((_, d) => e.reduce((s, w, j) => s + (w / z) * v[j][d], 0));
  });
}

test('softmaxAttention equals naive attention, causal and not, including queries aligned to the end of the keys', () => {
  const rng = new RunRng(3).stream('x');
  const mk = (t: number, d: number) => Array.from({ length: t }, () => Array.from({ length: d }, () => rng.normal()));
  const q = mk(3, 4);
  const k = mk(5, 4);
  const v = mk(5, 2);
  for (const causal of [false, true]) {
    const got = tf.tidy(() => softmaxAttention(tf.tensor([q]), tf.tensor([k]), tf.tensor([v]), { causal }).arraySync()) as number[][][];
    close(got[0].flat(), naiveAttention(q, k, v, causal).flat(), 1e-5, `causal=${causal}`);
  }
});

test('causalMaskBias hides exactly the future keys', () => {
  const m = causalMaskBias(2, 4).arraySync();
  assert.deepEqual(
    m.map((r) => r.map((x) => (x < 0 ? 1 : 0))),
    [
      [0, 0, 0, 1],
      [0, 0, 0, 0],
    ],
  );
});

test('RoPE keeps norms and makes q.k depend only on the position difference', () => {
  const q = tf.tensor([[[1, 2, 3, 4]]]); // [1, T=1, 4]
  const k = tf.tensor([[[0.5, -1, 2, 0.25]]]);
  const dot = (a: number, b: number) => tf.tidy(() => applyRope(q, a).mul(applyRope(k, b)).sum().arraySync() as number);
  assert.ok(Math.abs(dot(3, 1) - dot(7, 5)) < 1e-4);
  assert.ok(Math.abs(dot(3, 1) - dot(3, 2)) > 1e-3, 'different offsets must differ');
  const n = tf.tidy(() => applyRope(q, 11).norm().arraySync() as number);
  assert.ok(Math.abs(n - Math.sqrt(30)) < 1e-4);
});

test('applyDense works on any rank and matches a 2-D matMul', () => {
  const store = new ParamStore(new RunRng(5), 't');
  const d = store.dense('d', 3, 2, { bias: true });
  const x = tf.tensor3d([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [2, 2, 3]);
  const got = applyDense(x, d);
  assert.deepEqual(got.shape, [2, 2, 2]);
  close(got.dataSync(), tf.matMul(x.reshape([4, 3]), d.w).add(d.b!).dataSync(), 1e-6, 'dense');
  store.dispose();
});

test('ParamStore is seeded per name: same seed same values, a new parameter does not shift the others', () => {
  const a = new ParamStore(new RunRng(9), 'm');
  const b = new ParamStore(new RunRng(9), 'm');
  b.dense('extra', 4, 4);
  const wa = a.dense('w', 4, 3).w.dataSync();
  const wb = b.dense('w', 4, 3).w.dataSync();
  assert.deepEqual(Array.from(wa), Array.from(wb));
  const c = new ParamStore(new RunRng(10), 'm');
  assert.notDeepEqual(Array.from(c.dense('w', 4, 3).w.dataSync()), Array.from(wa));
  assert.throws(() => a.dense('w', 4, 3), /defined twice/);
  assert.equal(a.paramCount(), 12);
  for (const s of [a, b, c]) s.dispose();
});

test('causal multi-head attention leaks nothing from the future', () => {
  const store = new ParamStore(new RunRng(4), 'a');
  const p = createAttention(store, 'attn', 8, 2);
  const stream = new RunRng(4).stream('x');
  const vals = Array.from({ length: 6 * 8 }, () => stream.normal());
  const x1 = tf.tensor3d(vals, [1, 6, 8]);
  const changed = vals.slice();
  for (let i = 4 * 8; i < 6 * 8; i++) changed[i] += 1; // positions 4 and 5
  const y1 = multiHeadAttention(x1, p, { causal: true, rope: true }).arraySync() as number[][][];
  const y2 = multiHeadAttention(tf.tensor3d(changed, [1, 6, 8]), p, { causal: true, rope: true }).arraySync() as number[][][];
  close(y1[0].slice(0, 4).flat(), y2[0].slice(0, 4).flat(), 1e-6, 'past outputs');
  assert.ok(Math.abs(y1[0][5][0] - y2[0][5][0]) > 1e-6, 'the changed position itself must change');
  store.dispose();
});

test('crossEntropy matches a hand computation', () => {
  const logits = tf.tensor2d([
    [0, 0],
    [Math.log(3), 0],
  ]);
  const got = crossEntropy(logits, tf.tensor1d([1, 0], 'int32')).arraySync() as number;
  const want = (Math.log(2) + -Math.log(3 / 4)) / 2;
  assert.ok(Math.abs(got - want) < 1e-6, `${got} vs ${want}`);
});

test('TransformerLM: causal, every parameter gets a gradient, training lowers the loss, no tensor leak', () => {
  const lm = new TransformerLM({ vocab: 16, width: 16, depth: 2, heads: 2, ffnHidden: 32 }, new RunRng(2));
  const inputs = tf.tensor2d([[1, 2, 3, 4, 5, 6, 7, 8]], [1, 8], 'int32');
  const targets = tf.tensor2d([[2, 3, 4, 5, 6, 7, 8, 9]], [1, 8], 'int32');

  const a = lm.forward(inputs).logits.arraySync()[0];
  const b = lm.forward(tf.tensor2d([[1, 2, 3, 4, 5, 6, 7, 0]], [1, 8], 'int32')).logits.arraySync()[0];
  close(a.slice(0, 7).flat(), b.slice(0, 7).flat(), 1e-5, 'logits before the changed token');

  const { grads } = tf.variableGrads(() => lm.loss(inputs, targets), lm.store.variables);
  for (const v of lm.store.variables) {
    const g = grads[v.name];
    assert.ok(g, `no gradient for ${v.name}`);
    assert.ok((g.abs().sum().arraySync() as number) > 0, `zero gradient for ${v.name}`);
  }
  tf.dispose(grads);

  const opt = tf.train.adam(1e-2);
  const first = lm.loss(inputs, targets).arraySync() as number;
  trainStep(opt, lm.store.variables, () => lm.loss(inputs, targets)).dispose(); // warm the optimiser's slots
  const before = tf.memory().numTensors;
  for (let i = 0; i < 20; i++) trainStep(opt, lm.store.variables, () => lm.loss(inputs, targets)).dispose();
  assert.equal(tf.memory().numTensors, before, 'training steps leak tensors');
  const last = lm.loss(inputs, targets).arraySync() as number;
  assert.ok(last < first * 0.5, `loss ${first} -> ${last}`);
  lm.dispose();
  opt.dispose();
});

test('TransformerLM collects hidden states and accepts an ffn override per layer', () => {
  const lm = new TransformerLM({ vocab: 8, width: 8, depth: 3, heads: 2, ffnHidden: 8 }, new RunRng(7));
  const tokens = tf.tensor2d([[1, 2, 3]], [1, 3], 'int32');
  const base = lm.forward(tokens, { collectHidden: true });
  assert.equal(base.hidden.length, 3);
  assert.deepEqual(base.hidden[0].shape, [1, 3, 8]);
  let calls = 0;
  const same = lm.forward(tokens, { ffn: () => (calls++, undefined) });
  assert.equal(calls, 3);
  close(same.logits.dataSync(), base.logits.dataSync(), 1e-6, 'override returning undefined keeps the GLU');
  const zeroed = lm.forward(tokens, { ffn: (layer, h) => (layer === 1 ? tf.zerosLike(h) : undefined) });
  assert.ok(Math.abs(zeroed.logits.dataSync()[0] - base.logits.dataSync()[0]) > 1e-7);
  lm.dispose();
});
