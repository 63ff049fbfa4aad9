import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../lib/core/backend';
import { UsageError } from '../../lib/core/errors';
import { RunRng } from '../../lib/core/rng';
import {
  createMoe,
  disposeStats,
  expertCapacity,
  moeForward,
  routeExpertChoice,
  routeTokenChoice,
  summarizeLoad,
  uniformExpertChoiceHistogram,
  uniformTokenChoiceStep,
  validateMoeConfig,
  type MoeConfig,
  type RouterKind,
} from '../../lib/nn/moe';
import { gluFeedForward } from '../../lib/nn/transformer';
import { ParamStore } from '../../lib/nn/layers';

const cfg = (patch: Partial<MoeConfig> = {}): MoeConfig => ({ width: 8, hidden: 12, experts: 4, router: 'expert-choice', capacityFactor: 2, groupSize: 16, ...patch });

function randomProbs(seed: number, g: number, n: number, e: number, temperature = 3): tf.Tensor3D {
  return tf.tidy(() => tf.softmax(tf.randomNormal([g, n, e], 0, temperature, 'float32', seed), -1) as tf.Tensor3D);
}

test('capacity: k = n*c/e, clamped to [1, n]', () => {
  assert.equal(expertCapacity(64, 8, 2), 16);
  assert.equal(expertCapacity(64, 8, 1), 8);
  assert.equal(expertCapacity(10, 4, 1), 3); // ceil(2.5)
  assert.equal(expertCapacity(4, 8, 0.5), 1);
  assert.equal(expertCapacity(16, 1, 2), 16);
});

test('expert choice gives every expert exactly C tokens, whatever the input (also skewed routers)', async () => {
  await selectBackend('cpu');
  for (const [seed, temp] of [[11, 0.1], [12, 3], [13, 30]] as const) {
    const probs = randomProbs(seed, 3, 20, 5, temp);
    const cap = expertCapacity(20, 5, 2);
    const plan = routeExpertChoice(probs, cap);
    const perGroupExpert = await plan.dispatch.sum([1, 3]).array() as number[][]; // [g, E]
    for (const row of perGroupExpert) for (const v of row) assert.equal(v, cap);
    // each slot holds exactly one token, and no expert takes a token twice
    const perSlot = await plan.dispatch.sum(1).array() as number[][][];
    for (const a of perSlot) for (const b of a) for (const v of b) assert.equal(v, 1);
    assert.ok((await plan.dispatch.sum(3).max().data())[0] <= 1);
    assert.equal((await plan.auxLoss.data())[0], 0);
    tf.dispose([probs, plan.dispatch, plan.demand, plan.auxLoss, plan.kthProb as tf.Tensor]);
  }
});

/** Reference token-choice routing in plain JS: all first choices (token order) before second choices. */
function referenceTokenChoice(probs: number[][][], k: number, cap: number): { dispatch: number[][][][]; dropped: number } {
  let dropped = 0;
  const dispatch = probs.map((grp) => grp.map((row) => row.map(() => new Array<number>(cap).fill(0))));
  probs.forEach((grp, g) => {
    const choices = grp.map((row) => row.map((p, e) => [p, e]).sort((a, b) => b[0] - a[0]).slice(0, k).map((x) => x[1]));
    const count = new Array<number>(grp[0].length).fill(0);
    for (let c = 0; c < k; c++)
      for (let t = 0; t < grp.length; t++) {
        const e = choices[t][c];
        if (count[e] < cap) dispatch[g][t][e][count[e]++] = 1;
        else dropped++;
      }
  });
  return { dispatch, dropped };
}

test('token choice never exceeds capacity and drops exactly what a reference router drops', async () => {
  await selectBackend('cpu');
  for (const k of [1, 2])
    for (const [seed, capFactor] of [[21, 1], [22, 0.5], [23, 2]] as const) {
      const g = 2;
      const n = 24;
      const e = 4;
      const probs = randomProbs(seed, g, n, e, 2);
      const cap = expertCapacity(n, e, capFactor);
      const plan = routeTokenChoice(probs, k, cap);
      const perGroupExpert = await plan.dispatch.sum([1, 3]).array() as number[][];
      for (const row of perGroupExpert) for (const v of row) assert.ok(v <= cap, `load ${v} > capacity ${cap}`);
      const ref = referenceTokenChoice(await probs.array(), k, cap);
      assert.deepEqual(await plan.dispatch.array(), ref.dispatch, `k=${k} cap=${cap}`);
      const demand = await plan.demand.data();
      const processed = await plan.dispatch.sum([0, 1, 3]).data();
      const hist = await tf.oneHot(plan.dispatch.sum([2, 3]).toInt().reshape([-1]), e + 1).sum(0).data();
      assert.equal(Array.from(demand).reduce((a, b) => a + b, 0), g * n * k);
      const s = summarizeLoad(processed, demand, hist);
      assert.ok(Math.abs(s.droppedAssignments - ref.dropped / (g * n * k)) < 1e-6);
      tf.dispose([probs, plan.dispatch, plan.demand, plan.auxLoss]);
    }
});

test('load-balancing loss is 1 for a perfectly uniform router and larger when skewed', async () => {
  await selectBackend('cpu');
  const uniform = tf.fill([1, 8, 4], 0.25) as tf.Tensor3D;
  // tie-broken top-1 on a uniform router sends every token to expert 0: f = (1,0,0,0), P = 1/4 -> E * 1/4 = 1
  const a = routeTokenChoice(uniform, 1, 8);
  assert.ok(Math.abs((await a.auxLoss.data())[0] - 1) < 1e-6);
  const skew = tf.tensor3d([[[0.97, 0.01, 0.01, 0.01], [0.97, 0.01, 0.01, 0.01]]]);
  const b = routeTokenChoice(skew, 1, 2);
  assert.ok((await b.auxLoss.data())[0] > 3.8); // 4 * 0.97
  tf.dispose([uniform, skew, a.dispatch, a.demand, a.auxLoss, b.dispatch, b.demand, b.auxLoss]);
});

test('with one expert and c = 1 every router equals the dense GLU feed-forward', async () => {
  await selectBackend('cpu');
  for (const router of ['expert-choice', 'top1', 'top2'] as RouterKind[]) {
    const store = new ParamStore(new RunRng(5), 'moe-test');
    const p = createMoe(store, 'moe', cfg({ experts: 1, capacityFactor: 1, router, groupSize: 12 }));
    const x = tf.randomNormal([2, 6, 8], 0, 1, 'float32', 31);
    const out = moeForward(x, p);
    const dense = tf.tidy(() =>
      gluFeedForward(x, {
        gate: { w: tf.variable(p.gate.squeeze([0]), false) },
        up: { w: tf.variable(p.up.squeeze([0]), false) },
        down: { w: tf.variable(p.down.squeeze([0]), false) },
      }),
    );
    const diff = (await out.y.sub(dense).abs().max().data())[0];
    assert.ok(diff < 1e-5, `${router}: max |moe - dense| = ${diff}`);
    const hist = await out.stats.expertsPerToken.data();
    assert.deepEqual(Array.from(hist), [0, 12]); // every token processed once
    tf.dispose([x, out.y, dense, out.auxLoss, out.kthProb as tf.Tensor]);
    disposeStats(out.stats);
    store.dispose();
  }
});

test('gradients reach the router and every expert tensor, for every router; no tensors leak', async () => {
  await selectBackend('cpu');
  for (const router of ['expert-choice', 'top1', 'top2'] as RouterKind[]) {
    const store = new ParamStore(new RunRng(7), 'moe-grad');
    const p = createMoe(store, 'moe', cfg({ router }));
    const x = tf.randomNormal([4, 8, 8], 0, 1, 'float32', 41);
    const target = tf.randomNormal([4, 8, 8], 0, 1, 'float32', 42);
    const before = tf.memory().numTensors;
    const { grads, value } = tf.variableGrads(() => {
      const o = moeForward(x, p);
      return o.y.sub(target).square().mean().add(o.auxLoss.mul(0.01)) as tf.Scalar;
    }, store.variables);
    const norms = tf.tidy(() => store.variables.map((v) => grads[v.name].abs().sum()));
    for (const [i, v] of store.variables.entries()) {
      const norm = (await norms[i].data())[0];
      assert.ok(Number.isFinite(norm) && norm > 0, `${router}: no gradient for ${v.name}`);
    }
    tf.dispose([value, ...Object.values(grads), ...norms]);
    assert.equal(tf.memory().numTensors, before, `${router}: tensors leaked`);
    tf.dispose([x, target]);
    store.dispose();
  }
});

test('expert choice lets tokens use a variable number of experts; threshold routing is per token', async () => {
  await selectBackend('cpu');
  const store = new ParamStore(new RunRng(9), 'moe-var');
  const p = createMoe(store, 'moe', cfg({ experts: 4, capacityFactor: 1, groupSize: 32 }));
  // a sharper router makes the choice uneven across tokens
  p.router.assign(p.router.mul(100));
  const x = tf.randomNormal([1, 32, 8], 0, 1, 'float32', 51);
  const out = moeForward(x, p);
  const hist = Array.from(await out.stats.expertsPerToken.data());
  assert.equal(hist.reduce((a, b) => a + b, 0), 32);
  assert.equal(hist.reduce((a, b, i) => a + b * i, 0), 32); // 4 experts x 8 slots
  assert.ok(hist[0] > 0 && hist.slice(2).some((v) => v > 0), `histogram ${hist}`);
  // threshold routing: the output of one token does not depend on the other tokens
  const th = out.kthProb as tf.Tensor1D;
  const full = moeForward(x, p, { mode: 'threshold', thresholds: th });
  const first = moeForward(x.slice([0, 0, 0], [1, 5, 8]), p, { mode: 'threshold', thresholds: th });
  const diff = (await full.y.slice([0, 0, 0], [1, 5, 8]).sub(first.y).abs().max().data())[0];
  assert.ok(diff < 1e-5);
  tf.dispose([x, out.y, out.auxLoss, th, full.y, full.auxLoss, first.y, first.auxLoss]);
  [out, full, first].forEach((o) => disposeStats(o.stats));
  store.dispose();
});

test('bad configs are usage errors naming the value', () => {
  assert.throws(() => validateMoeConfig(cfg({ experts: 0 })), (e: unknown) => e instanceof UsageError && /experts=0/.test(e.message));
  assert.throws(() => validateMoeConfig(cfg({ router: 'top3' as RouterKind })), (e: unknown) => e instanceof UsageError && /top3/.test(e.message));
  assert.throws(() => validateMoeConfig(cfg({ capacityFactor: 0 })), UsageError);
  const store = new ParamStore(new RunRng(3), 'moe-bad');
  const p = createMoe(store, 'moe', cfg({ groupSize: 5 }));
  assert.throws(() => tf.tidy(() => moeForward(tf.zeros([2, 8, 8]), p).y), (e: unknown) => e instanceof UsageError && /groupSize=5/.test(e.message));
  store.dispose();
});

test('uniform-routing nulls: expert choice is exactly Binomial(E, C/G) per token; token choice drops what the binomial overflow says', () => {
  // Expert choice: the exact histogram sums to 1, has mean E*C/G, and matches a simulation of random C-subsets.
  const [G, E, C] = [16, 4, 8];
  const h = uniformExpertChoiceHistogram(G, E, C);
  assert.ok(Math.abs(h.reduce((a, b) => a + b, 0) - 1) < 1e-12);
  assert.ok(Math.abs(h.reduce((a, p, j) => a + j * p, 0) - (E * C) / G) < 1e-12);
  assert.ok(Math.abs(h[0] - 0.5 ** 4) < 1e-15);
  const s = new RunRng(3).stream('ec-null');
  const counts = new Array<number>(E + 1).fill(0);
  const groups = 4000;
  for (let g = 0; g < groups; g++) {
    const per = new Array<number>(G).fill(0);
    for (let e = 0; e < E; e++) for (const t of s.permutation(G).subarray(0, C)) per[t]++;
    for (const c of per) counts[c]++;
  }
  counts.forEach((c, j) => assert.ok(Math.abs(c / (groups * G) - h[j]) < 0.01, `P(${j}): simulated ${c / (groups * G)} vs exact ${h[j]}`));

  // Token choice top-1: dropped = sum_e E[(X_e - C)+] / G with X_e ~ Binomial(G, 1/E); every dropped token has no expert.
  const [g1, e1, c1] = [32, 4, 9];
  const pmf = uniformExpertChoiceHistogram(e1, g1, 1).slice(0, g1 + 1); // Binomial(g1, 1/e1) via the same formula: n = g1 trials, p = 1/e1
  const overflow = pmf.reduce((a, p, x) => a + p * Math.max(0, x - c1), 0);
  const exactDrop = (e1 * overflow) / g1;
  const st = new RunRng(4).stream('tc-null');
  let dropped = 0;
  let none = 0;
  const steps = 3000;
  for (let i = 0; i < steps; i++) {
    const r = uniformTokenChoiceStep(g1, g1, e1, 1, c1, st);
    dropped += r.droppedAssignments;
    none += r.tokensWithNoExpert;
    assert.equal(r.droppedAssignments, r.tokensWithNoExpert);
    assert.ok(r.demandMaxOverMean >= 1);
  }
  assert.ok(Math.abs(dropped / steps - exactDrop) < 0.004, `top-1 drops: simulated ${dropped / steps} vs exact ${exactDrop}`);
  assert.equal(dropped, none);
  // Top-2 with room for every assignment drops nothing and gives every token two experts.
  const full = uniformTokenChoiceStep(64, 16, 4, 2, 16, st);
  assert.equal(full.droppedAssignments, 0);
  assert.equal(full.tokensWithNoExpert, 0);
  assert.throws(() => uniformTokenChoiceStep(30, 16, 4, 2, 8, st), UsageError);
});
