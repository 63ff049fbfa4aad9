import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../lib/core/backend';
import { RunRng } from '../../lib/core/rng';
import { blockCount, fromBlocks, inversePthRootReference, matrixInversePthRoot, Shampoo, toBlocks } from '../../lib/nn/shampoo';
import { RmsProp } from '../../lib/nn/optimizers';

/** A random SPD matrix G G^T / k + shift I with a spread spectrum. */
function spd(d: number, seed: number, shift: number): Float64Array {
  const s = new RunRng(seed).stream('spd');
  const k = d + 2;
  const g = Array.from({ length: d * k }, () => s.normal());
  const a = new Float64Array(d * d);
  for (let i = 0; i < d; i++)
    for (let j = 0; j < d; j++) {
      let v = 0;
      for (let t = 0; t < k; t++) v += g[i * k + t] * g[j * k + t] * (1 + i); // row scaling spreads the eigenvalues
      a[i * d + j] = v / k;
    }
  // symmetrise the row scaling: (D G)(D G)^T
  const b = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) b[i * d + j] = (a[i * d + j] * Math.sqrt(1 + j)) / Math.sqrt(1 + i) + (i === j ? shift : 0);
  for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) b[i * d + j] = b[j * d + i] = (b[i * d + j] + b[j * d + i]) / 2;
  return b;
}

test('Jacobi reference: (A^{-1/4})^4 A = I on a small SPD matrix', () => {
  const d = 4;
  const a = spd(d, 1, 0.5);
  const r = inversePthRootReference(a, d, 4);
  const mul = (x: Float64Array, y: Float64Array) => {
    const o = new Float64Array(d * d);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) for (let k = 0; k < d; k++) o[i * d + j] += x[i * d + k] * y[k * d + j];
    return o;
  };
  const r4a = mul(mul(mul(mul(r, r), r), r), a);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) assert.ok(Math.abs(r4a[i * d + j] - (i === j ? 1 : 0)) < 1e-9);
});

test('coupled Newton inverse 4th and 2nd roots match the eigen-decomposition on small SPD matrices (single and batched)', async () => {
  await selectBackend('cpu');
  for (const [d, p, seed] of [[5, 4, 2], [8, 4, 3], [6, 2, 4]] as const) {
    const a = spd(d, seed, 0.05);
    const want = inversePthRootReference(a, d, p);
    const { root, iterations, error } = await matrixInversePthRoot(tf.tensor2d(Float32Array.from(a), [d, d]), p, { ridge: 0, tolerance: 1e-6 });
    const got = await root.data();
    const scale = Math.max(...Array.from(want, Math.abs));
    for (let i = 0; i < d * d; i++) assert.ok(Math.abs(got[i] - want[i]) < 2e-4 * scale, `d=${d} p=${p} element ${i}: ${got[i]} vs ${want[i]}`);
    assert.ok(iterations > 0 && iterations < 40 && error < 1e-4);
    root.dispose();
  }
  // a batch of two different matrices, each scaled by its own norm
  const d = 5;
  const a1 = spd(d, 7, 0.1);
  const a2 = spd(d, 8, 0.1).map((v) => v * 100);
  const batch = tf.tensor3d([...a1, ...a2], [2, d, d]);
  const { root } = await matrixInversePthRoot(batch, 4, { ridge: 0 });
  const got = await root.data();
  const w1 = inversePthRootReference(a1, d, 4);
  const w2 = inversePthRootReference(a2, d, 4);
  for (let i = 0; i < d * d; i++) {
    assert.ok(Math.abs(got[i] - w1[i]) < 2e-4 * Math.max(...Array.from(w1, Math.abs)));
    assert.ok(Math.abs(got[d * d + i] - w2[i]) < 2e-4 * Math.max(...Array.from(w2, Math.abs)));
  }
  tf.dispose([batch, root]);
});

test('blocks: equal blocks of at most blockSize, and toBlocks/fromBlocks round-trip', async () => {
  assert.equal(blockCount(784, 256), 4); // 196
  assert.equal(blockCount(1000, 256), 4); // 250
  assert.equal(blockCount(30, 256), 1);
  assert.equal(blockCount(7, 3), 7); // prime: falls back to 1-wide blocks
  await selectBackend('cpu');
  const g = tf.tensor2d(Array.from({ length: 24 }, (_, i) => i), [4, 6]);
  const b = toBlocks(g, 2, 3);
  assert.deepEqual(b.shape, [6, 2, 2]);
  // block (0,1) = rows 0-1, cols 2-3
  assert.deepEqual(Array.from(await b.slice([1, 0, 0], [1, 2, 2]).data()), [2, 3, 8, 9]);
  assert.deepEqual(Array.from(await fromBlocks(b, 2, 3).data()), Array.from(await g.data()));
  tf.dispose([g, b]);
});

test('Shampoo: preconditioned, grafted steps lower a quadratic; state holds statistics and roots', async () => {
  await selectBackend('cpu');
  const s = new RunRng(11).stream('q');
  const target = tf.tensor2d(Array.from({ length: 6 * 4 }, () => s.normal()), [6, 4]);
  const w = tf.variable(tf.zeros([6, 4]));
  const b = tf.variable(tf.zeros([4]));
  const opt = new Shampoo({ rmsprop: { decay: 0.9, momentum: 0.5, epsilon: 1e-8, initialMeanSquare: 0 }, blockSize: 3, updateEvery: 2, statisticsDecay: 0.9, root: { ridge: 1e-4 } });
  const loss = () => tf.tidy(() => w.sub(target).square().sum().add(b.sub(1).square().sum()));
  const l0 = (await loss().data())[0];
  for (let i = 0; i < 20; i++) {
    tf.tidy(() => opt.apply([w, b], [w.sub(target).mul(2), b.sub(1).mul(2)], 0.05));
    await opt.refreshIfDue();
  }
  assert.ok((await loss().data())[0] < 0.5 * l0);
  assert.ok(opt.lastRootIterations > 0);
  // 6x4 with blockSize 3 -> 2x2 blocks of 3x2: L 4x3x3, R 4x2x2, same again for the roots; RMSprop ms+mom for w and b
  assert.equal(opt.stateFloats(), 2 * (4 * 9 + 4 * 4) + 2 * 24 + 2 * 4);
  opt.dispose();
  tf.dispose([target, w, b]);
});

test('Shampoo: roots are due after steps f, f+k, f+2k, ... (firstRefresh f, updateEvery k; default f = 1); before f the step is the RMSprop graft', async () => {
  await selectBackend('cpu');
  const due = (firstRefresh: number | undefined, updateEvery: number): number[] => {
    const w = tf.variable(tf.zeros([4, 2]));
    const opt = new Shampoo({ rmsprop: { decay: 0.9, momentum: 0.5, epsilon: 1e-8, initialMeanSquare: 0 }, blockSize: 2, updateEvery, firstRefresh, statisticsDecay: 0.9, root: { ridge: 1e-4 } });
    const out: number[] = [];
    for (let step = 1; step <= 9; step++) {
      tf.tidy(() => opt.apply([w], [tf.onesLike(w)], 0.1));
      if (opt.refreshDue()) out.push(step);
    }
    opt.dispose();
    w.dispose();
    return out;
  };
  assert.deepEqual(due(undefined, 3), [1, 4, 7]);
  assert.deepEqual(due(3, 2), [3, 5, 7, 9]);
  assert.deepEqual(due(5, 100), [5]);
  // without roots yet, a Shampoo step is the RMSprop step it is grafted to (up to float32 rounding: other op order)
  const g = tf.tensor2d([0.5, -1, 2, 0.25, 1, 1, -3, 0.5], [4, 2]);
  const a = tf.variable(tf.ones([4, 2]));
  const b = tf.variable(tf.ones([4, 2]));
  const rms = { decay: 0.9, momentum: 0.5, epsilon: 1e-8, initialMeanSquare: 0 };
  const sh = new Shampoo({ rmsprop: rms, blockSize: 2, updateEvery: 1, firstRefresh: 3, statisticsDecay: 0.9, root: { ridge: 1e-4 } });
  const rp = new RmsProp(rms);
  for (let i = 0; i < 2; i++) {
    sh.apply([a], [g], 0.1);
    rp.apply([b], [g], 0.1);
  }
  const [va, vb] = [await a.data(), await b.data()];
  va.forEach((v, i) => assert.ok(Math.abs(v - vb[i]) < 1e-6, `${i}: ${v} vs ${vb[i]}`));
  sh.dispose();
  rp.dispose();
  tf.dispose([g, a, b]);
});
