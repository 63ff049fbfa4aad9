/**
 * Mixture-of-Experts feed-forward layer with three routers that share ONE dispatch /
 * combine path (masked matmuls, as in flaxformer's MaskedRouter family):
 *
 * - 'expert-choice' (Zhou et al. 2022, arXiv:2202.09368; flaxformer
 *   ExpertsChooseMaskedRouter): every expert takes its top-C tokens of the group by
 *   router probability, C = capacityFactor * groupSize / experts. Loads are equal by
 *   construction; a token may go to 0..E experts. No auxiliary loss.
 * - 'top1' (Switch Transformer) and 'top2' (GShard): every token picks its top-K
 *   experts (flaxformer TokensChooseMaskedRouter): first choices of all tokens have
 *   priority over second choices, then token order; an assignment beyond an expert's
 *   capacity C is dropped. Auxiliary load-balancing loss of Switch eq. (4)-(6).
 *
 * Routing happens inside groups of `groupSize` consecutive tokens (flaxformer's
 * num_groups), which bounds the dispatch matrices at groupSize x (E*C) per group.
 *
 * tfjs notes:
 * - tf.topk has no registered gradient, so every routing *decision* (top-k indices,
 *   one-hot masks, priorities) is computed inside `withoutGradient`; gradients reach
 *   the router only through the combine weights = dispatch mask * router probability.
 * - Dispatch and combine are 0/1 (resp. weighted) matrices multiplied with matMul: fast,
 *   differentiable, and no gather (whose gradient, UnsortedSegmentSum, wasm lacks natively).
 * - The experts are one batched GLU: [E, tokens, D] x [E, D, H] (equal-rank batched
 *   matMul; 3-D x 2-D has a wrong gradient in tfjs 4.22).
 */
import * as tf from '@tensorflow/tfjs';
import { UsageError } from '../core/errors';
import type { Stream } from '../core/rng';
import { gelu, type ParamStore } from './layers';

export const ROUTERS = ['expert-choice', 'top1', 'top2'] as const;
export type RouterKind = (typeof ROUTERS)[number];

export interface MoeConfig {
  width: number;
  /** Hidden size of each expert's GLU. */
  hidden: number;
  experts: number;
  router: RouterKind;
  /** C = ceil(capacityFactor * groupSize / experts) slots per expert and group, for every router. */
  capacityFactor: number;
  /** Tokens routed together; must divide the number of tokens of each call. */
  groupSize: number;
}

export interface MoeParams {
  config: MoeConfig;
  /** [D, E] router weights. */
  router: tf.Variable;
  /** Expert GLU weights: gate and up [E, D, H], down [E, H, D]. */
  gate: tf.Variable;
  up: tf.Variable;
  down: tf.Variable;
}

export function validateMoeConfig(c: MoeConfig): void {
  for (const k of ['width', 'hidden', 'experts', 'groupSize'] as const) {
    if (!Number.isInteger(c[k]) || c[k] < 1) throw new UsageError(`moe ${k}=${c[k]} must be a positive integer`);
  }
  if (!(ROUTERS as readonly string[]).includes(c.router)) throw new UsageError(`moe router '${c.router}' is unknown; valid routers: ${ROUTERS.join(', ')}`);
  if (!(c.capacityFactor > 0)) throw new UsageError(`moe capacityFactor=${c.capacityFactor} must be > 0`);
}

/** Experts each token picks under token choice (top-2 clamps to E when there is one expert). */
export function tokenChoiceK(router: RouterKind, experts: number): number {
  return router === 'top2' ? Math.min(2, experts) : 1;
}

/** Slots per expert and group: ceil(c * n / e), at least 1, at most n (expert choice: k = n*c/e). */
export function expertCapacity(groupSize: number, experts: number, capacityFactor: number): number {
  return Math.max(1, Math.min(groupSize, Math.ceil((capacityFactor * groupSize) / experts - 1e-9)));
}

/** Creates the router and the experts; initialisers seeded per (store prefix, name). */
export function createMoe(store: ParamStore, name: string, config: MoeConfig): MoeParams {
  validateMoeConfig(config);
  const { width: d, hidden: h, experts: e } = config;
  // Glorot variance per expert matrix (normal instead of uniform: ParamStore offers normal for any shape).
  const glorot = (fanIn: number, fanOut: number) => Math.sqrt(2 / (fanIn + fanOut));
  return {
    config,
    // Small normal router init (flaxformer default_kernel_init, std 2e-2): near-uniform probabilities at start.
    router: store.normal(`${name}/router`, [d, e], 0.02),
    gate: store.normal(`${name}/experts/gate`, [e, d, h], glorot(d, h)),
    up: store.normal(`${name}/experts/up`, [e, d, h], glorot(d, h)),
    down: store.normal(`${name}/experts/down`, [e, h, d], glorot(h, d)),
  };
}

/** fn(x) with a zero gradient to x: routing decisions are constants for backprop. */
export function withoutGradient(x: tf.Tensor, fn: (x: tf.Tensor) => tf.Tensor): tf.Tensor {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const a = args[0] as tf.Tensor;
    return { value: fn(a), gradFunc: () => tf.zerosLike(a) };
  });
  return f(x);
}

/** Float one-hot over the last axis; indices outside [0, depth) give a zero row (tf.oneHot refuses depth 1). */
export function oneHotF(indices: tf.Tensor, depth: number): tf.Tensor {
  return tf.tidy(() => indices.toInt().expandDims(-1).equal(tf.range(0, depth, 1, 'int32')).toFloat());
}

/** A router's decisions for probs [g, G, E]. */
export interface RoutingPlan {
  /** 0/1 [g, G, E, C]: token t of group g sits in slot c of expert e. Constant (no gradient). */
  dispatch: tf.Tensor4D;
  /** [E]: assignments each expert was asked for (token choice: before capacity; expert choice: = C per group). */
  demand: tf.Tensor1D;
  /** Scalar load-balancing loss (0 for expert choice). */
  auxLoss: tf.Scalar;
  /** [E]: expert choice only: the C-th largest probability of each expert, mean over groups (the threshold a prefix-safe router can reuse). */
  kthProb?: tf.Tensor1D;
}

/** Expert choice: G, I = TopK(S^T, C); dispatch = one-hot(I). */
export function routeExpertChoice(probs: tf.Tensor3D, capacity: number): RoutingPlan {
  return tf.tidy(() => {
    const [g, n, e] = probs.shape;
    if (capacity > n) throw new UsageError(`expert-choice capacity ${capacity} exceeds the ${n} tokens of a group`);
    const probsT = probs.transpose([0, 2, 1]); // [g, E, G]
    const dispatch = withoutGradient(probsT, (p) => {
      const { indices } = tf.topk(p, capacity, true); // [g, E, C]
      return oneHotF(indices, n).transpose([0, 3, 1, 2]); // [g, G, E, C]
    }) as tf.Tensor4D;
    const kth = withoutGradient(probsT, (p) => tf.topk(p, capacity, true).values.min(-1).mean(0)) as tf.Tensor1D; // [E]
    return { dispatch, demand: tf.fill([e], g * capacity) as tf.Tensor1D, auxLoss: tf.scalar(0), kthProb: kth };
  });
}

/**
 * Token choice top-K with capacity (flaxformer TokensChooseMaskedRouter, no batch
 * prioritisation): priority of an assignment = its rank among the assignments to the
 * same expert, ordering all first choices before all second choices, then by token.
 */
export function routeTokenChoice(probs: tf.Tensor3D, topK: number, capacity: number): RoutingPlan {
  return tf.tidy(() => {
    const [g, n, e] = probs.shape;
    // chosen [g, G, E]: 1 where the expert is among the token's top-K.
    const chosen = withoutGradient(probs, (p) => oneHotF(tf.topk(p, topK, true).indices, e).sum(2));
    const dispatch = withoutGradient(probs, (p) => {
      const mask = oneHotF(tf.topk(p, topK, true).indices, e); // [g, G, K, E]
      const ordered = mask.transpose([0, 2, 1, 3]).reshape([g, topK * n, e]); // choice-major
      const priority = ordered.cumsum(1).mul(ordered).sub(1); // slot index where chosen, -1 elsewhere
      const perChoice = priority.reshape([g, topK, n, e]).transpose([0, 2, 1, 3]).max(2); // [g, G, E]
      const inCapacity = perChoice.greaterEqual(0).logicalAnd(perChoice.less(capacity)).toFloat();
      const slot = perChoice.clipByValue(0, capacity - 1).toInt();
      return oneHotF(slot, capacity).mul(inCapacity.expandDims(3)); // [g, G, E, C]
    }) as tf.Tensor4D;
    // Switch eq. (4)-(6): E * sum_e f_e * P_e per group (f: fraction of tokens that chose e), mean over groups.
    const f = chosen.mean(1); // [g, E]
    const pMean = probs.mean(1); // [g, E]
    const auxLoss = f.mul(pMean).sum(-1).mean().mul(e) as tf.Scalar;
    return { dispatch, demand: chosen.sum([0, 1]) as tf.Tensor1D, auxLoss };
  });
}

/** Per-call routing statistics (constants; read them with await .data()). Tracked by the caller's scope like y: tf.keep them to carry them out of a tidy. */
export interface MoeStats {
  /** [E] tokens each expert processed. */
  processed: tf.Tensor1D;
  /** [E] assignments each expert was asked for (token choice: before dropping). */
  demand: tf.Tensor1D;
  /** [E + 1] histogram: how many tokens went to 0, 1, ..., E experts. */
  expertsPerToken: tf.Tensor1D;
}

export interface MoeOutput {
  y: tf.Tensor;
  auxLoss: tf.Scalar;
  stats: MoeStats;
  /** Expert choice (batch routing) only: per-expert C-th largest probability. */
  kthProb?: tf.Tensor1D;
}

/** How a call routes: over groups of the batch (training, and the paper's evaluation) or per token against fixed thresholds. */
export type MoeRouting = { mode: 'batch' } | { mode: 'threshold'; thresholds: tf.Tensor1D };

/** Router probabilities softmax(x W_r), [tokens, E]. */
export function routerProbs(x2d: tf.Tensor2D, p: MoeParams): tf.Tensor2D {
  return tf.tidy(() => tf.softmax(tf.matMul(x2d, p.router), -1) as tf.Tensor2D);
}

/** The experts' GLU on [E, m, D] -> [E, m, D]. */
export function applyExperts(xin: tf.Tensor3D, p: MoeParams): tf.Tensor3D {
  return tf.tidy(() => {
    const a = gelu(tf.matMul(xin, p.gate));
    const b = tf.matMul(xin, p.up);
    return tf.matMul(a.mul(b) as tf.Tensor3D, p.down) as tf.Tensor3D;
  });
}

function histogram(counts: tf.Tensor, bins: number): tf.Tensor1D {
  return oneHotF(counts.round().toInt().reshape([-1]), bins).sum(0) as tf.Tensor1D;
}

/**
 * The MoE feed-forward on x [..., D] (any leading shape; tokens are taken in row-major
 * order and routed in consecutive groups of config.groupSize).
 */
export function moeForward(x: tf.Tensor, p: MoeParams, routing: MoeRouting = { mode: 'batch' }): MoeOutput {
  const { width: d, experts: e, groupSize } = p.config;
  const n = x.size / d;
  if (routing.mode === 'threshold') return thresholdForward(x, p, routing.thresholds);
  if (!Number.isInteger(n / groupSize)) throw new UsageError(`moe groupSize=${groupSize} must divide the ${n} tokens of the batch`);
  const g = n / groupSize;
  const cap = expertCapacity(groupSize, e, p.config.capacityFactor);
  return tf.tidy(() => {
    const probs = routerProbs(x.reshape([n, d]) as tf.Tensor2D, p).reshape([g, groupSize, e]) as tf.Tensor3D;
    const plan = p.config.router === 'expert-choice' ? routeExpertChoice(probs, cap) : routeTokenChoice(probs, tokenChoiceK(p.config.router, e), cap);
    const dispatch = plan.dispatch.reshape([g, groupSize, e * cap]);
    // Combine weight = router probability of (token, expert) on the slots the token occupies.
    const combine = plan.dispatch.mul(probs.expandDims(3)).reshape([g, groupSize, e * cap]);
    const xin = tf.matMul(dispatch as tf.Tensor3D, x.reshape([g, groupSize, d]) as tf.Tensor3D, true, false); // [g, E*C, D]
    const perExpert = xin.reshape([g, e, cap, d]).transpose([1, 0, 2, 3]).reshape([e, g * cap, d]) as tf.Tensor3D;
    const out = applyExperts(perExpert, p).reshape([e, g, cap, d]).transpose([1, 0, 2, 3]).reshape([g, e * cap, d]);
    const yg = tf.matMul(combine as tf.Tensor3D, out as tf.Tensor3D); // [g, G, D]
    const stats: MoeStats = {
      processed: plan.dispatch.sum([0, 1, 3]) as tf.Tensor1D,
      demand: plan.demand,
      expertsPerToken: histogram(plan.dispatch.sum([2, 3]), e + 1),
    };
    const result: MoeOutput = { y: yg.reshape(x.shape), auxLoss: plan.auxLoss, stats };
    if (plan.kthProb) result.kthProb = plan.kthProb;
    return result as unknown as tf.TensorContainer;
  }) as unknown as MoeOutput;
}

/**
 * Prefix-safe expert choice for evaluation: token t uses expert e iff its probability
 * reaches the expert's threshold (e.g. the C-th largest probability seen in training
 * groups). Each token's routing depends on that token alone, so nothing leaks from
 * later positions; loads are balanced only in expectation. Runs every expert on every
 * token (evaluation only).
 */
function thresholdForward(x: tf.Tensor, p: MoeParams, thresholds: tf.Tensor1D): MoeOutput {
  const { width: d, experts: e } = p.config;
  const n = x.size / d;
  return tf.tidy(() => {
    const x2 = x.reshape([n, d]) as tf.Tensor2D;
    const probs = routerProbs(x2, p); // [n, E]
    const use = withoutGradient(probs, (q) => q.greaterEqual(thresholds).toFloat()); // [n, E]
    const w = use.mul(probs); // [n, E]
    const all = applyExperts(tf.broadcastTo(x2, [e, n, d]) as tf.Tensor3D, p); // [E, n, D]
    const out = all.mul(w.transpose().expandDims(2)).sum(0);
    const processed = use.sum(0) as tf.Tensor1D;
    const stats: MoeStats = { processed, demand: processed.clone(), expertsPerToken: histogram(use.sum(1), e + 1) };
    return { y: out.reshape(x.shape), auxLoss: tf.scalar(0), stats } as unknown as tf.TensorContainer;
  }) as unknown as MoeOutput;
}

export function disposeStats(s: MoeStats): void {
  s.processed.dispose();
  s.demand.dispose();
  s.expertsPerToken.dispose();
}

/** Summary numbers of one call's stats (already read back). */
export interface LoadSummary {
  /** max load / mean load over experts (1 = perfectly balanced), on processed tokens. */
  maxOverMean: number;
  /** Coefficient of variation (std / mean) of the load over experts, on demand (what the router asked for). */
  demandCv: number;
  /** Same on processed tokens. */
  processedCv: number;
  /** max / mean of the demand. */
  demandMaxOverMean: number;
  /** Fraction of requested assignments dropped for capacity (token choice), 0 for expert choice. */
  droppedAssignments: number;
  /** Fraction of tokens processed by no expert. */
  tokensWithNoExpert: number;
}

function cv(v: ArrayLike<number>): { mean: number; cv: number; max: number } {
  const a = Array.from(v);
  const mean = a.reduce((s, x) => s + x, 0) / a.length;
  const varr = a.reduce((s, x) => s + (x - mean) ** 2, 0) / a.length;
  return { mean, cv: mean > 0 ? Math.sqrt(varr) / mean : 0, max: Math.max(...a) };
}

export function summarizeLoad(processed: ArrayLike<number>, demand: ArrayLike<number>, expertsPerToken: ArrayLike<number>): LoadSummary {
  const p = cv(processed);
  const q = cv(demand);
  const tokens = Array.from(expertsPerToken).reduce((s, x) => s + x, 0);
  const asked = q.mean * demand.length;
  const done = p.mean * processed.length;
  return {
    maxOverMean: p.mean > 0 ? p.max / p.mean : 0,
    demandCv: q.cv,
    processedCv: p.cv,
    demandMaxOverMean: q.mean > 0 ? q.max / q.mean : 0,
    droppedAssignments: asked > 0 ? Math.max(0, asked - done) / asked : 0,
    tokensWithNoExpert: tokens > 0 ? expertsPerToken[0] / tokens : 0,
  };
}

/**
 * The routing statistics of one step of a router that ignores its tokens: every token
 * picks k distinct experts uniformly at random (top-k of i.i.d. scores), in groups of
 * `groupSize` tokens; per group and expert at most `capacity` assignments are kept, all
 * first choices before all second choices, then in token order (as routeTokenChoice).
 * The numbers are the ones summarizeLoad gives for a learned router on the same step:
 * the null a load-balance claim about token choice has to beat.
 */
export function uniformTokenChoiceStep(tokens: number, groupSize: number, experts: number, k: number, capacity: number, stream: Stream): Pick<LoadSummary, 'demandMaxOverMean' | 'droppedAssignments' | 'tokensWithNoExpert'> {
  if (!Number.isInteger(tokens / groupSize)) throw new UsageError(`uniformTokenChoiceStep: groupSize=${groupSize} must divide tokens=${tokens}`);
  if (!(k >= 1 && k <= experts)) throw new UsageError(`uniformTokenChoiceStep: k=${k} must be in [1, experts=${experts}]`);
  const demand = new Array<number>(experts).fill(0);
  const choice = new Int32Array(groupSize * k);
  const kept = new Int32Array(groupSize);
  const pool = new Int32Array(experts);
  const load = new Int32Array(experts);
  let keptTotal = 0;
  let noExpert = 0;
  for (let g = 0; g < tokens / groupSize; g++) {
    for (let t = 0; t < groupSize; t++) {
      // k distinct experts: a partial Fisher–Yates shuffle of 0..E-1.
      for (let e = 0; e < experts; e++) pool[e] = e;
      for (let c = 0; c < k; c++) {
        const j = c + stream.int(experts - c);
        const tmp = pool[c];
        pool[c] = pool[j];
        pool[j] = tmp;
        choice[t * k + c] = pool[c];
        demand[pool[c]]++;
      }
    }
    load.fill(0);
    kept.fill(0);
    for (let c = 0; c < k; c++)
      for (let t = 0; t < groupSize; t++) {
        const e = choice[t * k + c];
        if (load[e] < capacity) {
          load[e]++;
          kept[t]++;
          keptTotal++;
        }
      }
    for (let t = 0; t < groupSize; t++) if (kept[t] === 0) noExpert++;
  }
  const mean = (k * tokens) / experts;
  return {
    demandMaxOverMean: Math.max(...demand) / mean,
    droppedAssignments: (k * tokens - keptTotal) / (k * tokens),
    tokensWithNoExpert: noExpert / tokens,
  };
}

/**
 * Experts per token under expert choice with a router that ignores its tokens, exactly:
 * each expert takes a uniformly random C-subset of the G tokens of a group, independently
 * of the other experts, so a token is in each expert's subset with probability C/G and
 * its number of experts is Binomial(E, C/G). Returns P(0), ..., P(E).
 */
export function uniformExpertChoiceHistogram(groupSize: number, experts: number, capacity: number): number[] {
  const p = capacity / groupSize;
  const out: number[] = [];
  let binom = 1;
  for (let j = 0; j <= experts; j++) {
    out.push(binom * p ** j * (1 - p) ** (experts - j));
    binom = (binom * (experts - j)) / (j + 1);
  }
  return out;
}
