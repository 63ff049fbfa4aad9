/**
 * Streaming identification of a linear dynamical system x_{t+1} = A* x_t + eta_t,
 * eta_t ~ N(0, sigma^2 I), from ONE trajectory (Jain, Kowshik, Nagaraj, Netrapalli,
 * NeurIPS 2021, arXiv:2103.05896).
 *
 * Two halves:
 * - float64 JS helpers (the system, its trajectory, OLS, norms): exact, tiny (d ~ 5),
 *   and the reference values the tests compare against;
 * - tfjs estimators batched over independent "lanes" (methods x trials), so one kernel
 *   per step serves every lane and the per-op dispatch cost is paid once per sample.
 *
 * SGD on the loss 1/2 ||A x_t - x_{t+1}||^2 takes A <- A - g (A x - y) x^T, which is
 * the affine map A <- A M + N with M = I - g x x^T and N = g y x^T. The factors are
 * built in float64 on the host (O(d^2) per lane) and the tfjs step is one batched
 * matMul + add (O(d^3) per lane): half the kernels of the gradient form, which halves
 * the wall time on the wasm backend (measured ~100 vs ~220 us/step here).
 */
import * as tf from '@tensorflow/tfjs';
import type { Stream } from '../core/rng';
import { symmetricEigen } from './svd';

/** Row-major d x d matrix in float64. */
export type Mat = Float64Array;

export function identity(d: number): Mat {
  const m = new Float64Array(d * d);
  for (let i = 0; i < d; i++) m[i * d + i] = 1;
  return m;
}

export function matMul(a: Mat, b: Mat, d: number): Mat {
  const c = new Float64Array(d * d);
  for (let i = 0; i < d; i++)
    for (let k = 0; k < d; k++) {
      const aik = a[i * d + k];
      if (aik === 0) continue;
      for (let j = 0; j < d; j++) c[i * d + j] += aik * b[k * d + j];
    }
  return c;
}

export function transpose(a: Mat, d: number): Mat {
  const t = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) t[j * d + i] = a[i * d + j];
  return t;
}

/** Haar-random orthogonal matrix: Gram–Schmidt on the columns of a Gaussian matrix. */
export function randomOrthogonal(d: number, stream: Stream): Mat {
  const g = new Float64Array(d * d);
  for (let i = 0; i < d * d; i++) g[i] = stream.normal();
  const q = new Float64Array(d * d);
  for (let j = 0; j < d; j++) {
    const v = new Float64Array(d);
    for (let i = 0; i < d; i++) v[i] = g[i * d + j];
    // Modified Gram–Schmidt against the columns already accepted (twice, for accuracy).
    for (let pass = 0; pass < 2; pass++)
      for (let k = 0; k < j; k++) {
        let dot = 0;
        for (let i = 0; i < d; i++) dot += q[i * d + k] * v[i];
        for (let i = 0; i < d; i++) v[i] -= dot * q[i * d + k];
      }
    let norm = 0;
    for (let i = 0; i < d; i++) norm += v[i] * v[i];
    norm = Math.sqrt(norm);
    for (let i = 0; i < d; i++) q[i * d + j] = v[i] / norm;
  }
  return q;
}

/**
 * The system of the SGD-RER experiments as found in a public reproduction ("RandBiMod"):
 * A* = U diag(lambda) U^T, U Haar-orthogonal, ceil(d/2) eigenvalues rho and the rest rho/3.
 * Symmetric, spectral radius rho.
 */
export function bimodalSystem(d: number, rho: number, stream: Stream): { A: Mat; eigenvalues: number[] } {
  const eigenvalues = Array.from({ length: d }, (_, i) => (i < Math.ceil(d / 2) ? rho : rho / 3));
  const u = randomOrthogonal(d, stream);
  const ul = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) ul[i * d + j] = u[i * d + j] * eigenvalues[j];
  return { A: matMul(ul, transpose(u, d), d), eigenvalues };
}

/** Stationary covariance sum_k sigma^2 A^k (A^k)^T (needs spectral radius < 1). */
export function stationaryCovariance(a: Mat, d: number, sigma: number): Mat {
  const sum = new Float64Array(d * d);
  let term = identity(d);
  const at = transpose(a, d);
  for (let k = 0; k < 100000; k++) {
    let mag = 0;
    for (let i = 0; i < d * d; i++) {
      sum[i] += sigma * sigma * term[i];
      mag = Math.max(mag, Math.abs(term[i]));
    }
    if (mag < 1e-17) break;
    term = matMul(matMul(a, term, d), at, d);
  }
  return sum;
}

export function trace(a: Mat, d: number): number {
  let t = 0;
  for (let i = 0; i < d; i++) t += a[i * d + i];
  return t;
}

/**
 * One trajectory, generated chunk by chunk in float64 from a seeded stream.
 * `chunk(n)` returns the n+1 states x_t .. x_{t+n} (row-major, (n+1) x d), i.e. the
 * n pairs (x_{t+i}, x_{t+i+1}), and advances the state to x_{t+n}.
 */
export class LinearSystemStream {
  private x: Float64Array;

  constructor(readonly A: Mat, readonly d: number, readonly sigma: number, private readonly noise: Stream, x0?: Float64Array) {
    this.x = x0 ? Float64Array.from(x0) : new Float64Array(d);
  }

  chunk(n: number): Float64Array {
    const d = this.d;
    const out = new Float64Array((n + 1) * d);
    out.set(this.x, 0);
    for (let t = 0; t < n; t++) {
      const prev = t * d;
      const cur = (t + 1) * d;
      for (let i = 0; i < d; i++) {
        let v = this.sigma * this.noise.normal();
        for (let j = 0; j < d; j++) v += this.A[i * d + j] * out[prev + j];
        out[cur + i] = v;
      }
    }
    this.x = out.slice(n * d, (n + 1) * d);
    return out;
  }
}

/** Reference SGD step in float64: A - step * (A x - y) x^T. */
export function sgdStepReference(a: Mat, x: ArrayLike<number>, y: ArrayLike<number>, step: number, d: number): Mat {
  const out = Float64Array.from(a);
  for (let i = 0; i < d; i++) {
    let r = -y[i];
    for (let j = 0; j < d; j++) r += a[i * d + j] * x[j];
    for (let j = 0; j < d; j++) out[i * d + j] -= step * r * x[j];
  }
  return out;
}

/**
 * Writes the affine factors of one SGD step, M = I - step x x^T and N = step y x^T,
 * into `m` and `n` at `offset` (d*d entries each). step = 0 writes the identity step
 * (M = I, N = 0): how a lane sits out a replay gap.
 */
export function writeSgdFactors(
  m: Float32Array,
  n: Float32Array,
  offset: number,
  x: Float64Array,
  xOff: number,
  y: Float64Array,
  yOff: number,
  step: number,
  d: number,
): void {
  for (let i = 0; i < d; i++)
    for (let j = 0; j < d; j++) {
      const k = offset + i * d + j;
      m[k] = (i === j ? 1 : 0) - step * x[xOff + i] * x[xOff + j];
      n[k] = step * y[yOff + i] * x[xOff + j];
    }
}

/**
 * Composes consecutive SGD steps of `lanes` independent iterates into one affine map per
 * lane, in float64: after steps with factors (M_1, N_1), ..., (M_k, N_k) (see
 * writeSgdFactors), A_k = A_0 (M_1 ... M_k) + (N_1 M_2 ... M_k + ... + N_k). Each step
 * is a rank-one update of the composite (X M = X - step (X x) x^T), O(d^2) per lane, so
 * a block of samples costs one tfjs step (BatchedAffineSgd.step) instead of one per
 * sample: the per-sample tfjs dispatch (~50 us) was the whole cost of the experiment.
 */
export class SgdBlockComposer {
  private readonly m: Float64Array;
  private readonly n: Float64Array;

  constructor(readonly lanes: number, readonly d: number) {
    this.m = new Float64Array(lanes * d * d);
    this.n = new Float64Array(lanes * d * d);
    this.reset();
  }

  /** Back to the identity map on every lane. */
  reset(): void {
    const { d } = this;
    this.m.fill(0);
    this.n.fill(0);
    for (let l = 0; l < this.lanes; l++) for (let i = 0; i < d; i++) this.m[l * d * d + i * d + i] = 1;
  }

  /** Appends the SGD step A <- A - step (A x - y) x^T on `lane` (x at xOff, y at yOff); step = 0 is the identity. */
  add(lane: number, x: Float64Array, xOff: number, y: Float64Array, yOff: number, step: number): void {
    if (step === 0) return;
    const { d } = this;
    const o = lane * d * d;
    rightMultiplyStep(this.m, o, d, x, xOff, step);
    rightMultiplyStep(this.n, o, d, x, xOff, step);
    for (let i = 0; i < d; i++) {
      const row = o + i * d;
      const sy = step * y[yOff + i];
      for (let j = 0; j < d; j++) this.n[row + j] += sy * x[xOff + j];
    }
  }

  /** Writes the composite factors (float32, the layout BatchedAffineSgd.step takes) and resets to the identity. */
  flush(m: Float32Array, n: Float32Array): void {
    m.set(this.m);
    n.set(this.n);
    this.reset();
  }
}

/** X <- X (I - step x x^T) for the d x d block of X at offset o. */
function rightMultiplyStep(X: Float64Array, o: number, d: number, x: Float64Array, xOff: number, step: number): void {
  for (let i = 0; i < d; i++) {
    const row = o + i * d;
    let v = 0;
    for (let j = 0; j < d; j++) v += X[row + j] * x[xOff + j];
    const sv = step * v;
    for (let j = 0; j < d; j++) X[row + j] -= sv * x[xOff + j];
  }
}

/** Solves S z = b for a symmetric positive definite S (Gaussian elimination, partial pivoting). */
export function solve(s: ArrayLike<number>, b: ArrayLike<number>, d: number): Float64Array {
  const m = Float64Array.from(s as ArrayLike<number>);
  const z = Float64Array.from(b as ArrayLike<number>);
  for (let c = 0; c < d; c++) {
    let p = c;
    for (let r = c + 1; r < d; r++) if (Math.abs(m[r * d + c]) > Math.abs(m[p * d + c])) p = r;
    if (m[p * d + c] === 0) throw new RangeError('singular system');
    if (p !== c) {
      for (let j = 0; j < d; j++) [m[c * d + j], m[p * d + j]] = [m[p * d + j], m[c * d + j]];
      [z[c], z[p]] = [z[p], z[c]];
    }
    for (let r = c + 1; r < d; r++) {
      const f = m[r * d + c] / m[c * d + c];
      if (f === 0) continue;
      for (let j = c; j < d; j++) m[r * d + j] -= f * m[c * d + j];
      z[r] -= f * z[c];
    }
  }
  for (let c = d - 1; c >= 0; c--) {
    let v = z[c];
    for (let j = c + 1; j < d; j++) v -= m[c * d + j] * z[j];
    z[c] = v / m[c * d + c];
  }
  return z;
}

/**
 * OLS from the sufficient statistics Sxx = sum x_t x_t^T and Syx = sum x_{t+1} x_t^T:
 * A_hat = Syx Sxx^{-1}, computed row by row as Sxx a_i = (Syx row i) (Sxx is symmetric).
 */
export function olsFromMoments(sxx: ArrayLike<number>, syx: ArrayLike<number>, d: number): Mat {
  const a = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    const row = solve(sxx, Array.from({ length: d }, (_, j) => syx[i * d + j]), d);
    a.set(row, i * d);
  }
  return a;
}

export function frobeniusNorm(e: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < e.length; i++) s += e[i] * e[i];
  return Math.sqrt(s);
}

/** Eigenvalues of a symmetric matrix, ascending (cyclic Jacobi, see svd.ts). */
export function symmetricEigenvalues(s: ArrayLike<number>, d: number): number[] {
  return Array.from(symmetricEigen(s, d).values).reverse();
}

/** Operator (spectral) norm: sqrt of the largest eigenvalue of E^T E. */
export function operatorNorm(e: ArrayLike<number>, d: number): number {
  const et = transpose(Float64Array.from(e as ArrayLike<number>), d);
  const ete = matMul(et, Float64Array.from(e as ArrayLike<number>), d);
  const eig = symmetricEigenvalues(ete, d);
  return Math.sqrt(Math.max(0, eig[d - 1]));
}

/**
 * `lanes` independent SGD iterates A in one tfjs tensor [lanes, d, d], started at 0.
 * Each step applies A <- A M + N for per-lane factors (see writeSgdFactors). A tail sum
 * of iterates (added at chosen steps, reset by the caller) gives tail-averaged SGD.
 */
export class BatchedAffineSgd {
  private a: tf.Tensor3D;
  private tail: tf.Tensor3D;
  private tailCount = 0;

  constructor(readonly lanes: number, readonly d: number) {
    this.a = tf.zeros([lanes, d, d]);
    this.tail = tf.zeros([lanes, d, d]);
  }

  step(m: Float32Array, n: Float32Array): void {
    const { lanes, d } = this;
    const next = tf.tidy(() => tf.add(tf.matMul(this.a, tf.tensor3d(m, [lanes, d, d])), tf.tensor3d(n, [lanes, d, d])) as tf.Tensor3D);
    this.a.dispose();
    this.a = next;
  }

  /** Adds the current iterate to the tail sum. */
  accumulateTail(): void {
    const next = tf.tidy(() => tf.add(this.tail, this.a) as tf.Tensor3D);
    this.tail.dispose();
    this.tail = next;
    this.tailCount++;
  }

  resetTail(): void {
    this.tail.dispose();
    this.tail = tf.zeros([this.lanes, this.d, this.d]);
    this.tailCount = 0;
  }

  get tailSize(): number {
    return this.tailCount;
  }

  /** The current iterates, [lanes * d * d] row-major per lane. */
  async readLast(): Promise<Float32Array> {
    return (await this.a.data()) as Float32Array;
  }

  /** The average of the iterates in the tail sum (zeros when empty). */
  async readTailAverage(): Promise<Float32Array> {
    const sum = (await this.tail.data()) as Float32Array;
    const out = new Float32Array(sum.length);
    if (this.tailCount > 0) for (let i = 0; i < sum.length; i++) out[i] = sum[i] / this.tailCount;
    return out;
  }

  dispose(): void {
    this.a.dispose();
    this.tail.dispose();
  }
}

/**
 * Running OLS moments for `trials` trajectories on tfjs: Sxx += X^T X and Syx += Y^T X
 * per chunk of C samples, as batched matMuls [trials, d, C] x [trials, C, d]. The
 * transposed operands are uploaded explicitly: transposeA/B matMul takes a slow path on
 * the wasm backend (ARCHITECTURE.md §3).
 */
export class BatchedMoments {
  private sxx: tf.Tensor3D;
  private syx: tf.Tensor3D;

  constructor(readonly trials: number, readonly d: number) {
    this.sxx = tf.zeros([trials, d, d]);
    this.syx = tf.zeros([trials, d, d]);
  }

  /** xt, yt: [trials, d, C]; x: [trials, C, d] (row-major Float32Arrays). */
  add(xt: Float32Array, x: Float32Array, yt: Float32Array, chunk: number): void {
    const { trials, d } = this;
    const [sxx, syx] = tf.tidy(() => {
      const X = tf.tensor3d(x, [trials, chunk, d]);
      return [
        tf.add(this.sxx, tf.matMul(tf.tensor3d(xt, [trials, d, chunk]), X)) as tf.Tensor3D,
        tf.add(this.syx, tf.matMul(tf.tensor3d(yt, [trials, d, chunk]), X)) as tf.Tensor3D,
      ];
    });
    this.sxx.dispose();
    this.syx.dispose();
    this.sxx = sxx;
    this.syx = syx;
  }

  async read(): Promise<{ sxx: Float32Array; syx: Float32Array }> {
    return { sxx: (await this.sxx.data()) as Float32Array, syx: (await this.syx.data()) as Float32Array };
  }

  dispose(): void {
    this.sxx.dispose();
    this.syx.dispose();
  }
}
