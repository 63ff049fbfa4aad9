import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RunRng } from '../../lib/core/rng';
import { solve } from '../../lib/nn/linear-system';
import {
  bellmanOptimality,
  greedyPolicy,
  greedyValueGap,
  linearQ,
  maxAbsDiff,
  policyValue,
  QRex,
  randomLinearMdp,
  tdUpdate,
  valueIteration,
  type LinearMdp,
  type Transition,
} from '../../lib/nn/q-learning';

const spec = { states: 12, actions: 3, features: 4, discount: 0.9 };
const mdp = randomLinearMdp(spec, new RunRng(5).stream('mdp'));

test('the random linear MDP has proper transition distributions', () => {
  for (let sa = 0; sa < spec.states * spec.actions; sa++) {
    let sum = 0;
    for (let s2 = 0; s2 < spec.states; s2++) {
      const p = mdp.transition[sa * spec.states + s2];
      assert.ok(p >= 0);
      sum += p;
    }
    assert.ok(Math.abs(sum - 1) < 1e-12, `row ${sa} sums to ${sum}`);
  }
});

test('Q* from value iteration is a fixed point of the Bellman optimality operator', () => {
  const q = valueIteration(mdp);
  assert.ok(maxAbsDiff(bellmanOptimality(mdp, q), q) < 1e-10);
  // V* = max_a Q*: the greedy policy's exact value equals it
  const v = policyValue(mdp, greedyPolicy(mdp, q));
  for (let s = 0; s < spec.states; s++) {
    const m = Math.max(...Array.from({ length: spec.actions }, (_, a) => q[s * spec.actions + a]));
    assert.ok(Math.abs(v[s] - m) < 1e-9);
  }
  assert.equal(greedyValueGap(mdp, q, q), 0);
});

test('Q* is linear in the features (linear MDP: zero inherent Bellman error)', () => {
  const q = valueIteration(mdp);
  const k = spec.features;
  const n = spec.states * spec.actions;
  const ftf = new Float64Array(k * k);
  const ftq = new Float64Array(k);
  for (let sa = 0; sa < n; sa++)
    for (let i = 0; i < k; i++) {
      ftq[i] += mdp.phi[sa * k + i] * q[sa];
      for (let j = 0; j < k; j++) ftf[i * k + j] += mdp.phi[sa * k + i] * mdp.phi[sa * k + j];
    }
  const w = solve(ftf, ftq, k);
  assert.ok(maxAbsDiff(linearQ(mdp, w), q) < 1e-8);
});

test('one TD update matches the hand-computed value', () => {
  // 2 states, 1 action, 2 features
  const tiny: LinearMdp = {
    states: 2,
    actions: 1,
    features: 2,
    discount: 0.5,
    phi: Float64Array.from([1, 0, 0.5, 0.5]),
    transition: Float64Array.from([0, 1, 1, 0]),
    reward: Float64Array.from([1, 0]),
  };
  const w = Float64Array.from([0.2, 0.4]);
  const target = Float64Array.from([1, 3]);
  // delta = r + 0.5 * phi(1)^T target - phi(0)^T w = 1 + 0.5 * 2 - 0.2 = 1.8
  tdUpdate(tiny, w, target, { s: 0, a: 0, r: 1, s2: 1 }, 0.1);
  assert.ok(maxAbsDiff(w, [0.38, 0.4]) < 1e-12);
});

test('Q-Rex replays each buffer in reverse with the frozen target, then refreshes the target', () => {
  const ts: Transition[] = [
    { s: 0, a: 0, r: 1, s2: 1 },
    { s: 1, a: 1, r: 0, s2: 2 },
    { s: 2, a: 2, r: 0.5, s2: 3 },
    { s: 3, a: 0, r: 0.2, s2: 4 }, // gap: discarded
  ];
  const learner = new QRex(mdp, 0.3, 3, 1, 1);
  for (const t of ts) learner.observe(t);
  const w = new Float64Array(spec.features);
  const zero = new Float64Array(spec.features);
  for (const i of [2, 1, 0]) tdUpdate(mdp, w, zero, ts[i], 0.3);
  assert.deepEqual(Array.from(learner.weights()), Array.from(w));
  // after one buffer (buffersPerPhase = 1) the target equals w: the next buffer bootstraps from it
  const next: Transition[] = [ts[0], ts[1], ts[2], ts[3]];
  for (const t of next) learner.observe(t);
  const target = Float64Array.from(w);
  for (const i of [2, 1, 0]) tdUpdate(mdp, w, target, next[i], 0.3);
  assert.deepEqual(Array.from(learner.weights()), Array.from(w));
});
