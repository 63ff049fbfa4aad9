/**
 * The mixture-of-experts layer (lib/nn/moe.ts) against its PyTorch twin (moe_twin.py), for
 * the three routers: expert choice, and token choice top-1 / top-2 with capacity and drops.
 * Compared: the routing itself (tokens each expert processed, assignments asked for, the
 * histogram of experts per token: exact), the output, the auxiliary loss, the loss
 * mean((y - target)^2) + 0.01 aux, every gradient (router, experts, input) and one
 * tf.train.adam step.
 *
 * Routing decisions are discrete: a top-k whose k-th and (k+1)-th probabilities were within
 * float32 rounding of each other could flip without any bug. The test asserts the seeded
 * batch has no such near-tie (smallest gap > 1e-6), so a routing difference is a real one.
 * The capacity factors make token choice drop assignments (asserted), so drops are tested.
 * Tolerance 1e-5 relative, as for the other feed-forward twins (sums of <= 12 terms).
 */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../lib/core/backend';
import { RunRng } from '../../lib/core/rng';
import { ParamStore } from '../../lib/nn/layers';
import { createMoe, moeForward, tokenChoiceK, type MoeConfig, type RouterKind } from '../../lib/nn/moe';
import { Agreement, checkGradientsAndAdamStep, encode, once, oursAdamStep, runTwin, seededNormal, twinTest, type Encoded } from './harness';

const LR = 0.05;
const TOL = 1e-5;
const AUX = 0.01;
const ROUTERS: { router: RouterKind; capacityFactor: number }[] = [
  { router: 'expert-choice', capacityFactor: 2 },
  { router: 'top1', capacityFactor: 1 },
  { router: 'top2', capacityFactor: 1 },
];

interface Result {
  y: Encoded;
  aux: Encoded;
  loss: Encoded;
  grads: Record<string, Encoded>;
  gradX: Encoded;
  after: Record<string, Encoded>;
  probs: Encoded;
  stats: { processed: Encoded; demand: Encoded; expertsPerToken: Encoded };
}

function build(router: RouterKind, capacityFactor: number) {
  const config: MoeConfig = { width: 8, hidden: 12, experts: 4, router, capacityFactor, groupSize: 8 };
  const store = new ParamStore(new RunRng(3), 'moe');
  const p = createMoe(store, 'block0', config);
  const x = seededNormal(3, 'twin/x', [2, 8, 8]);
  const target = seededNormal(3, 'twin/target', [2, 8, 8], 0.1);
  const lossAt = (xin: tf.Tensor) => tf.tidy(() => {
    const o = moeForward(xin, p);
    return o.y.sub(target).square().mean().add(o.auxLoss.mul(AUX)) as tf.Scalar;
  });
  const forward = moeForward(x, p);
  const stats = { processed: forward.stats.processed, demand: forward.stats.demand, expertsPerToken: forward.stats.expertsPerToken };
  const gradX = tf.grad((xin: tf.Tensor) => lossAt(xin))(x);
  const step = oursAdamStep(store.variables, () => lossAt(x), LR);
  const twinCase = { config, prefix: 'moe/block0', params: step.before, x: encode(x), target: encode(target), auxWeight: AUX, lr: LR };
  return { config, y: forward.y, aux: forward.auxLoss, stats, gradX, step, twinCase };
}

/** Smallest gap between the k-th and (k+1)-th probability in any top-k the router takes. */
function smallestTopKGap(probs: Encoded, router: RouterKind, cap: number): number {
  const [g, n, e] = probs.shape;
  const at = (gi: number, t: number, ei: number) => probs.data[(gi * n + t) * e + ei];
  let gap = Infinity;
  const check = (values: number[], k: number) => {
    const s = [...values].sort((a, b) => b - a);
    if (k < s.length) gap = Math.min(gap, s[k - 1] - s[k]);
  };
  for (let gi = 0; gi < g; gi++) {
    if (router === 'expert-choice') for (let ei = 0; ei < e; ei++) check(Array.from({ length: n }, (_, t) => at(gi, t, ei)), cap);
    else for (let t = 0; t < n; t++) check(Array.from({ length: e }, (_, ei) => at(gi, t, ei)), tokenChoiceK(router, e));
  }
  return gap;
}

const setup = once(async () => {
  await selectBackend('cpu');
  const ours = ROUTERS.map((r) => build(r.router, r.capacityFactor));
  const twin = runTwin<Result>('moe_twin', ours.map((o) => o.twinCase));
  return ours.map((o, i) => ({ ours: o, twin: twin.results[i] }));
});

ROUTERS.forEach(({ router }, i) => {
  twinTest(`MoE ${router}: routing, output, aux loss, every gradient and one Adam step agree with the PyTorch twin`, async (t) => {
    const { ours, twin } = (await setup())[i];
    const cap = Math.ceil((ours.config.capacityFactor * ours.config.groupSize) / ours.config.experts);
    assert.ok(smallestTopKGap(twin.probs, router, cap) > 1e-6, 'the seeded batch has a near-tie in a top-k: pick another seed');
    const a = new Agreement(`moe ${router}`);
    a.same('tokens processed per expert', ours.stats.processed.dataSync(), twin.stats.processed.data);
    a.same('assignments asked per expert', ours.stats.demand.dataSync(), twin.stats.demand.data);
    a.same('experts per token (histogram)', ours.stats.expertsPerToken.dataSync(), twin.stats.expertsPerToken.data);
    const asked = twin.stats.demand.data.reduce((s, v) => s + v, 0);
    const done = twin.stats.processed.data.reduce((s, v) => s + v, 0);
    if (router === 'expert-choice') assert.equal(done, asked);
    else assert.ok(done < asked, `${router} should drop assignments at capacity factor 1 (asked ${asked}, processed ${done})`);
    a.check('output y', ours.y, twin.y, TOL);
    a.check('aux loss', ours.aux, twin.aux, TOL);
    a.check('loss', ours.step.loss, twin.loss, TOL);
    a.check('grad input x', ours.gradX, twin.gradX, TOL);
    checkGradientsAndAdamStep(a, ours.step, twin, LR, TOL);
    a.report(t);
  });
});
