/**
 * Q-learning with linear function approximation on a small linear MDP, and the exact
 * quantities it is judged against (Q* by value iteration, the value of a greedy policy).
 *
 * Learners (all on ONE behaviour trajectory, a Markovian stream):
 * - Q-Rex (Agarwal et al., ICLR 2022, arXiv:2110.08440): online target learning (the
 *   bootstrap target uses a frozen copy of the weights, refreshed every `buffersPerPhase`
 *   buffers) + reverse experience replay (blocks of buffer + gap transitions, the buffer
 *   part replayed in reverse, the gap discarded);
 * - the DQN habit: the same target schedule, but each step replays one transition drawn
 *   uniformly from the last `capacity` transitions;
 * - plain online Q-learning (no target copy, no replay).
 *
 * Plain float64 JS, not tfjs: the weights have k ~ 6 entries and each update is ~50
 * flops, so a tfjs kernel dispatch (~50 us on wasm) would cost 1000x the arithmetic,
 * and float64 keeps the exact Q* comparison free of float32 noise.
 */
import type { Stream } from '../core/rng';
import { reverseReplaySchedule, UniformReplay } from './replay';

export interface LinearMdp {
  states: number;
  actions: number;
  /** Feature dimension k. */
  features: number;
  discount: number;
  /** phi(s, a) at ((s * actions + a) * features). */
  phi: Float64Array;
  /** P(s' | s, a) at ((s * actions + a) * states + s'). */
  transition: Float64Array;
  /** r(s, a) at (s * actions + a). */
  reward: Float64Array;
}

export interface LinearMdpSpec {
  states: number;
  actions: number;
  features: number;
  discount: number;
}

function normalised(v: Float64Array): Float64Array {
  let s = 0;
  for (const x of v) s += x;
  return v.map((x) => x / s);
}

/**
 * A random linear MDP (our construction; the stored copies of the Q-Rex paper do not
 * describe an experimental MDP): features phi(s,a) ~ Dirichlet(1) on the simplex,
 * k next-state distributions mu_i (peaked: normalised cubes of exponentials),
 * P(.|s,a) = sum_i phi_i(s,a) mu_i, r(s,a) = phi(s,a)^T theta with theta ~ U[0,1]^k.
 * So Q* = Phi w* exactly (zero inherent Bellman error), the class Q-Rex is proved for.
 */
export function randomLinearMdp(spec: LinearMdpSpec, stream: Stream): LinearMdp {
  const { states: S, actions: A, features: k, discount } = spec;
  const expo = () => -Math.log(1 - stream.next());
  const phi = new Float64Array(S * A * k);
  for (let sa = 0; sa < S * A; sa++) phi.set(normalised(Float64Array.from({ length: k }, expo)), sa * k);
  const mu: Float64Array[] = Array.from({ length: k }, () => normalised(Float64Array.from({ length: S }, () => expo() ** 3)));
  const theta = Float64Array.from({ length: k }, () => stream.next());
  const transition = new Float64Array(S * A * S);
  const reward = new Float64Array(S * A);
  for (let sa = 0; sa < S * A; sa++) {
    for (let i = 0; i < k; i++) {
      const f = phi[sa * k + i];
      reward[sa] += f * theta[i];
      for (let s2 = 0; s2 < S; s2++) transition[sa * S + s2] += f * mu[i][s2];
    }
  }
  return { states: S, actions: A, features: k, discount, phi, transition, reward };
}

/** The Bellman optimality operator: (T Q)(s,a) = r(s,a) + discount * E_{s'} max_a' Q(s',a'). */
export function bellmanOptimality(mdp: LinearMdp, q: Float64Array): Float64Array {
  const { states: S, actions: A } = mdp;
  const v = new Float64Array(S);
  for (let s = 0; s < S; s++) {
    let m = -Infinity;
    for (let a = 0; a < A; a++) m = Math.max(m, q[s * A + a]);
    v[s] = m;
  }
  const out = new Float64Array(S * A);
  for (let sa = 0; sa < S * A; sa++) {
    let ev = 0;
    for (let s2 = 0; s2 < S; s2++) ev += mdp.transition[sa * S + s2] * v[s2];
    out[sa] = mdp.reward[sa] + mdp.discount * ev;
  }
  return out;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Q* by value iteration, to a sup-norm change below `tol`. */
export function valueIteration(mdp: LinearMdp, tol = 1e-12): Float64Array {
  let q: Float64Array = new Float64Array(mdp.states * mdp.actions);
  for (let it = 0; it < 100000; it++) {
    const next = bellmanOptimality(mdp, q);
    const delta = maxAbsDiff(next, q);
    q = next;
    if (delta < tol) break;
  }
  return q;
}

export function greedyPolicy(mdp: LinearMdp, q: ArrayLike<number>): Int32Array {
  const { states: S, actions: A } = mdp;
  const pi = new Int32Array(S);
  for (let s = 0; s < S; s++) {
    let best = 0;
    for (let a = 1; a < A; a++) if (q[s * A + a] > q[s * A + best]) best = a;
    pi[s] = best;
  }
  return pi;
}

/** V^pi exactly: solves (I - discount P_pi) V = r_pi by Gaussian elimination. */
export function policyValue(mdp: LinearMdp, pi: Int32Array): Float64Array {
  const { states: S, actions: A } = mdp;
  const m = new Float64Array(S * S);
  const v = new Float64Array(S);
  for (let s = 0; s < S; s++) {
    const sa = s * A + pi[s];
    v[s] = mdp.reward[sa];
    for (let s2 = 0; s2 < S; s2++) m[s * S + s2] = (s === s2 ? 1 : 0) - mdp.discount * mdp.transition[sa * S + s2];
  }
  for (let c = 0; c < S; c++) {
    let p = c;
    for (let r = c + 1; r < S; r++) if (Math.abs(m[r * S + c]) > Math.abs(m[p * S + c])) p = r;
    if (p !== c) {
      for (let j = 0; j < S; j++) [m[c * S + j], m[p * S + j]] = [m[p * S + j], m[c * S + j]];
      [v[c], v[p]] = [v[p], v[c]];
    }
    for (let r = c + 1; r < S; r++) {
      const f = m[r * S + c] / m[c * S + c];
      for (let j = c; j < S; j++) m[r * S + j] -= f * m[c * S + j];
      v[r] -= f * v[c];
    }
  }
  for (let c = S - 1; c >= 0; c--) {
    let x = v[c];
    for (let j = c + 1; j < S; j++) x -= m[c * S + j] * v[j];
    v[c] = x / m[c * S + c];
  }
  return v;
}

/** Q_w(s, a) = phi(s, a)^T w for every (s, a). */
export function linearQ(mdp: LinearMdp, w: ArrayLike<number>): Float64Array {
  const k = mdp.features;
  const q = new Float64Array(mdp.states * mdp.actions);
  for (let sa = 0; sa < q.length; sa++) {
    let x = 0;
    for (let i = 0; i < k; i++) x += mdp.phi[sa * k + i] * w[i];
    q[sa] = x;
  }
  return q;
}

/** max_s (V*(s) - V^pi(s)) for the greedy policy of q: how far from optimal acting on q is. */
export function greedyValueGap(mdp: LinearMdp, qStar: Float64Array, q: ArrayLike<number>): number {
  const vStar = policyValue(mdp, greedyPolicy(mdp, qStar));
  const v = policyValue(mdp, greedyPolicy(mdp, q));
  let gap = 0;
  for (let s = 0; s < mdp.states; s++) gap = Math.max(gap, vStar[s] - v[s]);
  return gap;
}

export interface Transition {
  s: number;
  a: number;
  r: number;
  s2: number;
}

/** Draws s' ~ P(.|s,a). */
export function sampleNext(mdp: LinearMdp, s: number, a: number, stream: Stream): number {
  const base = (s * mdp.actions + a) * mdp.states;
  let u = stream.next();
  for (let s2 = 0; s2 < mdp.states - 1; s2++) {
    u -= mdp.transition[base + s2];
    if (u < 0) return s2;
  }
  return mdp.states - 1;
}

/** A behaviour trajectory under the uniformly random policy. */
export class UniformBehaviour {
  constructor(private readonly mdp: LinearMdp, private readonly stream: Stream, private s = 0) {}

  next(): Transition {
    const a = this.stream.int(this.mdp.actions);
    const s2 = sampleNext(this.mdp, this.s, a, this.stream);
    const t = { s: this.s, a, r: this.mdp.reward[this.s * this.mdp.actions + a], s2 };
    this.s = s2;
    return t;
  }
}

/** w += step * (r + discount * max_a' phi(s',a')^T wTarget - phi(s,a)^T w) * phi(s,a). */
export function tdUpdate(mdp: LinearMdp, w: Float64Array, wTarget: Float64Array, t: Transition, step: number): void {
  const { actions: A, features: k, phi } = mdp;
  let next = -Infinity;
  for (let a = 0; a < A; a++) {
    let x = 0;
    const o = (t.s2 * A + a) * k;
    for (let i = 0; i < k; i++) x += phi[o + i] * wTarget[i];
    next = Math.max(next, x);
  }
  const o = (t.s * A + t.a) * k;
  let cur = 0;
  for (let i = 0; i < k; i++) cur += phi[o + i] * w[i];
  const delta = t.r + mdp.discount * next - cur;
  for (let i = 0; i < k; i++) w[i] += step * delta * phi[o + i];
}

export interface QLearner {
  readonly name: string;
  observe(t: Transition): void;
  weights(): Float64Array;
}

/** Q-Rex: online target learning + reverse experience replay. */
export class QRex implements QLearner {
  readonly name = 'q-rex';
  private readonly w: Float64Array;
  private wTarget: Float64Array;
  private block: Transition[] = [];
  private buffersDone = 0;
  private readonly order: Int32Array;

  constructor(private readonly mdp: LinearMdp, private readonly step: number, readonly buffer: number, readonly gap: number, readonly buffersPerPhase: number) {
    this.w = new Float64Array(mdp.features);
    this.wTarget = new Float64Array(mdp.features);
    this.order = reverseReplaySchedule(buffer + gap, buffer, gap);
  }

  observe(t: Transition): void {
    this.block.push(t);
    if (this.block.length < this.buffer + this.gap) return;
    for (const i of this.order) if (i >= 0) tdUpdate(this.mdp, this.w, this.wTarget, this.block[i], this.step);
    this.block = [];
    if (++this.buffersDone % this.buffersPerPhase === 0) this.wTarget = Float64Array.from(this.w);
  }

  weights(): Float64Array {
    return this.w;
  }
}

/** Q-learning with a target copy refreshed every `targetPeriod` steps and uniform replay. */
export class UniformReplayQ implements QLearner {
  readonly name = 'uniform-er';
  private readonly w: Float64Array;
  private wTarget: Float64Array;
  private readonly memory: UniformReplay<Transition>;
  private steps = 0;

  constructor(private readonly mdp: LinearMdp, private readonly step: number, capacity: number, private readonly targetPeriod: number, private readonly stream: Stream) {
    this.w = new Float64Array(mdp.features);
    this.wTarget = new Float64Array(mdp.features);
    this.memory = new UniformReplay<Transition>(capacity);
  }

  observe(t: Transition): void {
    this.memory.push(t);
    tdUpdate(this.mdp, this.w, this.wTarget, this.memory.sample(this.stream), this.step);
    if (++this.steps % this.targetPeriod === 0) this.wTarget = Float64Array.from(this.w);
  }

  weights(): Float64Array {
    return this.w;
  }
}

/** Plain online Q-learning: bootstraps from its own current weights, no replay. */
export class OnlineQ implements QLearner {
  readonly name = 'online-q';
  private readonly w: Float64Array;

  constructor(private readonly mdp: LinearMdp, private readonly step: number) {
    this.w = new Float64Array(mdp.features);
  }

  observe(t: Transition): void {
    tdUpdate(this.mdp, this.w, this.w, t, this.step);
  }

  weights(): Float64Array {
    return this.w;
  }
}
