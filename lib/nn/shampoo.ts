/**
 * Shampoo (Gupta, Koren, Singer 2018; the blocked, grafted form of Anil et al.,
 * arXiv:2002.09018) — the second-order baseline of the LocoProp comparison.
 *
 * tfjs has no eigen-decomposition, so inverse p-th roots use the coupled Newton
 * iteration (Guo & Higham 2006; the iteration of Shampoo's reference implementation):
 *   M_0 = z A, H_0 = z^{1/p} I, z = (1+p) / (2 ||A||);
 *   T_k = ((p+1) I - M_k) / p;  M_{k+1} = T_k^p M_k;  H_{k+1} = H_k T_k   ->  H = A^{-1/p}.
 * Only matrix products: it runs batched on every backend.
 *
 * The optimiser, per weight matrix G [in, out]:
 * - blocks: each dimension is split into equal blocks of at most `blockSize` (the
 *   smallest divisor count that fits), so 784x1000 with blockSize 256 gives 4x4 blocks of
 *   196x250; the statistics of one block are L = EMA(G_b G_b^T), R = EMA(G_b^T G_b);
 * - preconditioners P_L = (L/||L||_F + eps I)^{-1/4}, P_R likewise, recomputed every
 *   `updateEvery` steps (the standard amortisation; the statistics update every step);
 * - direction P_L G_b P_R rescaled per block to the norm of the RMSprop direction
 *   (layer-wise grafting), then RMSprop's momentum and step; biases use RMSprop alone.
 *   Until the first preconditioners exist the step is plain RMSprop.
 */
import * as tf from '@tensorflow/tfjs';
import { UsageError } from '../core/errors';
import { RmsProp, type RmsPropOptions, type TensorOptimizer } from './optimizers';
import { symmetricEigen } from './svd';

export interface InverseRootOptions {
  /** Iteration cap. */
  maxIterations?: number;
  /** Stop once max |M - I| is below this. */
  tolerance?: number;
  /** Ridge added after scaling A to unit Frobenius norm (relative ridge). */
  ridge?: number;
}

export interface InverseRootResult {
  /** A^{-1/p} (of A + ridge ||A||_F I), same shape as A ([d, d] or [n, d, d]). */
  root: tf.Tensor;
  iterations: number;
  /** Final max |M - I| over the batch. */
  error: number;
}

function eye(d: number, batch?: number): tf.Tensor {
  return batch === undefined ? tf.eye(d) : tf.eye(d, d, [batch]);
}

/** Matrix power by repeated squaring (p a positive integer). */
function matPow(t: tf.Tensor, p: number): tf.Tensor {
  return tf.tidy(() => {
    let result: tf.Tensor | undefined;
    let base = t;
    let e = p;
    while (e > 0) {
      if (e & 1) result = result ? tf.matMul(result as tf.Tensor3D, base as tf.Tensor3D) : base;
      e >>= 1;
      if (e > 0) base = tf.matMul(base as tf.Tensor3D, base as tf.Tensor3D);
    }
    return result as tf.Tensor;
  });
}

/**
 * Inverse p-th root of symmetric positive semi-definite matrices (one [d, d] or a batch
 * [n, d, d]) by the coupled Newton iteration. Each matrix is scaled to unit Frobenius
 * norm (an upper bound of its spectral norm, so the iteration's convergence condition
 * holds) and given a relative ridge; the result is scaled back.
 */
export async function matrixInversePthRoot(a: tf.Tensor, p: number, opts: InverseRootOptions = {}): Promise<InverseRootResult> {
  if (!Number.isInteger(p) || p < 1) throw new UsageError(`matrixInversePthRoot: p=${p} must be a positive integer`);
  const rank = a.rank;
  if ((rank !== 2 && rank !== 3) || a.shape[rank - 1] !== a.shape[rank - 2]) throw new UsageError(`matrixInversePthRoot: expected [d, d] or [n, d, d], got [${a.shape.join(', ')}]`);
  const d = a.shape[rank - 1];
  const batch = rank === 3 ? a.shape[0] : undefined;
  const maxIterations = opts.maxIterations ?? 40;
  const tolerance = opts.tolerance ?? 1e-5;
  const ridge = opts.ridge ?? 1e-6;
  const bshape = rank === 3 ? [a.shape[0], 1, 1] : [1, 1];
  // Frobenius norm per matrix (guarded against an all-zero matrix).
  const norm = tf.tidy(() => tf.maximum(a.square().sum([rank - 2, rank - 1]).sqrt(), 1e-30).reshape(bshape));
  const z = (1 + p) / (2 * (1 + ridge));
  let m = tf.tidy(() => a.div(norm).add(eye(d, batch).mul(ridge)).mul(z));
  let h = tf.tidy(() => eye(d, batch).mul(z ** (1 / p)));
  let error = await maxAbsOffIdentity(m, d, batch);
  let iterations = 0;
  while (iterations < maxIterations && error > tolerance) {
    const [m2, h2] = tf.tidy(() => {
      const t = eye(d, batch).mul(p + 1).sub(m).div(p);
      return [tf.matMul(matPow(t, p) as tf.Tensor3D, m as tf.Tensor3D), tf.matMul(h as tf.Tensor3D, t as tf.Tensor3D)];
    });
    const e2 = await maxAbsOffIdentity(m2, d, batch);
    // Rounding can make the iteration drift once converged: keep the last improving iterate.
    if (!(e2 < error * 1.2)) {
      m2.dispose();
      h2.dispose();
      break;
    }
    m.dispose();
    h.dispose();
    m = m2;
    h = h2;
    error = e2;
    iterations++;
  }
  m.dispose();
  const root = tf.tidy(() => h.mul(norm.pow(-1 / p)));
  h.dispose();
  norm.dispose();
  return { root, iterations, error };
}

async function maxAbsOffIdentity(m: tf.Tensor, d: number, batch: number | undefined): Promise<number> {
  const e = tf.tidy(() => m.sub(eye(d, batch)).abs().max());
  const v = (await e.data())[0];
  e.dispose();
  return v;
}

/** Reference A^{-1/p} of a small symmetric matrix by Jacobi eigen-decomposition in float64 (tests, checks). */
export function inversePthRootReference(a: ArrayLike<number>, d: number, p: number): Float64Array {
  const { values, vectors } = symmetricEigen(a, d);
  const out = new Float64Array(d * d);
  for (let k = 0; k < d; k++) {
    const lam = values[k];
    if (!(lam > 0)) throw new RangeError(`inversePthRootReference: matrix is not positive definite (eigenvalue ${lam})`);
    const f = lam ** (-1 / p);
    // Row k of `vectors` is the eigenvector of values[k].
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) out[i * d + j] += f * vectors[k * d + i] * vectors[k * d + j];
  }
  return out;
}

/** Smallest block count n >= ceil(dim / blockSize) that divides dim: equal blocks of at most blockSize. */
export function blockCount(dim: number, blockSize: number): number {
  for (let n = Math.ceil(dim / blockSize); n <= dim; n++) if (dim % n === 0) return n;
  return dim;
}

/** [rows, cols] -> [nr*nc, rows/nr, cols/nc] (block (i, j) at index i*nc + j). */
export function toBlocks(g: tf.Tensor2D, nr: number, nc: number): tf.Tensor3D {
  const [rows, cols] = g.shape;
  return tf.tidy(() => g.reshape([nr, rows / nr, nc, cols / nc]).transpose([0, 2, 1, 3]).reshape([nr * nc, rows / nr, cols / nc]) as tf.Tensor3D);
}

export function fromBlocks(b: tf.Tensor3D, nr: number, nc: number): tf.Tensor2D {
  const [, r, c] = b.shape;
  return tf.tidy(() => b.reshape([nr, nc, r, c]).transpose([0, 2, 1, 3]).reshape([nr * r, nc * c]) as tf.Tensor2D);
}

export interface ShampooOptions {
  /** The grafting optimiser's settings (its momentum is the update's momentum too). */
  rmsprop: RmsPropOptions;
  blockSize: number;
  /** Recompute the inverse roots every this many steps. */
  updateEvery: number;
  /**
   * Step after which the roots are first computed (default 1); until then the update is the
   * grafted RMSprop step itself (no preconditioner yet), as Shampoo implementations that
   * start preconditioning late do.
   */
  firstRefresh?: number;
  /** EMA decay of the statistics L and R. */
  statisticsDecay: number;
  root: InverseRootOptions;
}

interface MatrixState {
  nr: number;
  nc: number;
  l: tf.Variable;
  r: tf.Variable;
  pl?: tf.Tensor;
  pr?: tf.Tensor;
}

export class Shampoo implements TensorOptimizer {
  readonly name = 'shampoo';
  private readonly graft: RmsProp;
  private readonly states = new Map<string, MatrixState>();
  private step = 0;
  /** Newton iterations used by the last preconditioner refresh (max over matrices). */
  lastRootIterations = 0;
  lastRootError = 0;

  constructor(readonly opts: ShampooOptions) {
    if (!Number.isInteger(opts.blockSize) || opts.blockSize < 1) throw new UsageError(`Shampoo blockSize=${opts.blockSize} must be a positive integer`);
    if (!Number.isInteger(opts.updateEvery) || opts.updateEvery < 1) throw new UsageError(`Shampoo updateEvery=${opts.updateEvery} must be a positive integer`);
    const first = opts.firstRefresh ?? 1;
    if (!Number.isInteger(first) || first < 1) throw new UsageError(`Shampoo firstRefresh=${first} must be a positive integer`);
    this.graft = new RmsProp(opts.rmsprop);
  }

  private state(v: tf.Variable): MatrixState {
    let s = this.states.get(v.name);
    if (!s) {
      const [rows, cols] = v.shape;
      const nr = blockCount(rows, this.opts.blockSize);
      const nc = blockCount(cols, this.opts.blockSize);
      s = {
        nr,
        nc,
        l: tf.variable(tf.zeros([nr * nc, rows / nr, rows / nr]), false),
        r: tf.variable(tf.zeros([nr * nc, cols / nc, cols / nc]), false),
      };
      this.states.set(v.name, s);
    }
    return s;
  }

  /** Synchronous part of a step; call `refreshIfDue` after it (it awaits the Newton iterations' checks). */
  apply(vars: readonly tf.Variable[], grads: readonly tf.Tensor[], lr: number): void {
    const beta = this.opts.statisticsDecay;
    vars.forEach((v, i) => {
      const g = grads[i];
      if (v.rank !== 2) {
        this.graft.apply([v], [g], lr);
        return;
      }
      const s = this.state(v);
      tf.tidy(() => {
        const gb = toBlocks(g as tf.Tensor2D, s.nr, s.nc);
        s.l.assign(s.l.mul(beta).add(tf.matMul(gb, gb, false, true).mul(1 - beta)));
        s.r.assign(s.r.mul(beta).add(tf.matMul(gb, gb, true, false).mul(1 - beta)));
        const u = this.graft.normalised(v, g);
        let dir: tf.Tensor = u;
        if (s.pl && s.pr) {
          const pre = tf.matMul(tf.matMul(s.pl as tf.Tensor3D, gb), s.pr as tf.Tensor3D);
          const ub = toBlocks(u as tf.Tensor2D, s.nr, s.nc);
          const scale = ub.square().sum([1, 2], true).sqrt().div(tf.maximum(pre.square().sum([1, 2], true).sqrt(), 1e-30));
          dir = fromBlocks(pre.mul(scale) as tf.Tensor3D, s.nr, s.nc);
        }
        this.graft.applyDirection(v, dir, lr);
      });
    });
    this.step++;
  }

  /** True when the roots are due after this step (after steps f, f+k, f+2k, ... with f = firstRefresh, default 1). */
  refreshDue(): boolean {
    const first = this.opts.firstRefresh ?? 1;
    return this.step >= first && (this.step - first) % this.opts.updateEvery === 0;
  }

  /** Recomputes every inverse fourth root from the current statistics. */
  async refresh(): Promise<void> {
    let iters = 0;
    let err = 0;
    for (const s of this.states.values()) {
      for (const side of ['l', 'r'] as const) {
        const res = await matrixInversePthRoot(s[side], 4, this.opts.root);
        const key = side === 'l' ? 'pl' : 'pr';
        s[key]?.dispose();
        s[key] = res.root;
        iters = Math.max(iters, res.iterations);
        err = Math.max(err, res.error);
      }
    }
    this.lastRootIterations = iters;
    this.lastRootError = err;
  }

  async refreshIfDue(): Promise<void> {
    if (this.refreshDue()) await this.refresh();
  }

  stateFloats(): number {
    let n = this.graft.stateFloats();
    for (const s of this.states.values()) n += s.l.size + s.r.size + (s.pl?.size ?? 0) + (s.pr?.size ?? 0);
    return n;
  }

  dispose(): void {
    this.graft.dispose();
    for (const s of this.states.values()) {
      s.l.dispose();
      s.r.dispose();
      s.pl?.dispose();
      s.pr?.dispose();
    }
    this.states.clear();
  }
}
