/**
 * Eigendecomposition of a symmetric matrix (cyclic Jacobi, float64 JS) and PCA on top
 * of it. tfjs has no eigendecomposition; the SVD baseline of MRL (project a fixed-feature
 * embedding onto its top-m principal directions) needs one on the D x D covariance.
 *
 * Jacobi is slow-ish (~6 n^3 flops a sweep, 6–10 sweeps) but simple and accurate to
 * machine precision, which is what a test can check; n = 256 takes well under a second.
 */
import { UsageError } from '../core/errors';

export interface SymmetricEigen {
  /** Eigenvalues, descending. */
  values: Float64Array;
  /** Row j (vectors[j*n .. j*n+n)) is the unit eigenvector of values[j]. */
  vectors: Float64Array;
  sweeps: number;
}

/**
 * Cyclic Jacobi: rotate away each off-diagonal entry in turn until the off-diagonal
 * mass is below `tol` times the Frobenius norm. `a` is n x n row-major and symmetric
 * (only checked to 1e-9 relative), and is not modified.
 */
export function symmetricEigen(a: ArrayLike<number>, n: number, opts: { maxSweeps?: number; tol?: number } = {}): SymmetricEigen {
  if (!Number.isInteger(n) || n < 1 || a.length !== n * n) throw new UsageError(`symmetricEigen: need an n x n matrix, got ${a.length} entries for n=${n}`);
  const maxSweeps = opts.maxSweeps ?? 60;
  const tol = opts.tol ?? 1e-14;
  const A = Float64Array.from(a);
  let frob = 0;
  for (let i = 0; i < n * n; i++) frob += A[i] * A[i];
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++)
      if (Math.abs(A[i * n + j] - A[j * n + i]) > 1e-9 * Math.sqrt(frob) + 1e-300) throw new UsageError(`symmetricEigen: matrix is not symmetric at (${i}, ${j})`);
  // Vt holds the eigenvectors as rows, so each rotation updates two contiguous rows.
  const Vt = new Float64Array(n * n);
  for (let i = 0; i < n; i++) Vt[i * n + i] = 1;
  let sweeps = 0;
  for (; sweeps < maxSweeps; sweeps++) {
    let off = 0;
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) off += 2 * A[i * n + j] * A[i * n + j];
    if (off <= tol * tol * frob) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = A[p * n + q];
        if (apq === 0) continue;
        const app = A[p * n + p];
        const aqq = A[q * n + q];
        // Golub & Van Loan, sym.schur2: J = [[c, s], [-s, c]] makes (J^T A J)_pq = 0.
        const tau = (aqq - app) / (2 * apq);
        const t = (tau >= 0 ? 1 : -1) / (Math.abs(tau) + Math.sqrt(1 + tau * tau));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = t * c;
        const rp = p * n;
        const rq = q * n;
        for (let k = 0; k < n; k++) {
          if (k === p || k === q) continue;
          const akp = A[rp + k];
          const akq = A[rq + k];
          const np = c * akp - s * akq;
          const nq = s * akp + c * akq;
          A[rp + k] = np;
          A[k * n + p] = np;
          A[rq + k] = nq;
          A[k * n + q] = nq;
        }
        A[rp + p] = app - t * apq;
        A[rq + q] = aqq + t * apq;
        A[rp + q] = 0;
        A[rq + p] = 0;
        for (let k = 0; k < n; k++) {
          const vp = Vt[rp + k];
          const vq = Vt[rq + k];
          Vt[rp + k] = c * vp - s * vq;
          Vt[rq + k] = s * vp + c * vq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => A[j * n + j] - A[i * n + i]);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  order.forEach((src, dst) => {
    values[dst] = A[src * n + src];
    vectors.set(Vt.subarray(src * n, src * n + n), dst * n);
  });
  return { values, vectors, sweeps };
}

export interface Pca {
  dim: number;
  mean: Float64Array;
  /** Principal variances, descending. */
  variances: Float64Array;
  /** Row j: j-th principal direction (unit). */
  components: Float64Array;
}

/** Mean and (biased, 1/rows) covariance of rows x cols data, in float64. */
export function covariance(x: ArrayLike<number>, rows: number, cols: number): { mean: Float64Array; cov: Float64Array } {
  if (x.length < rows * cols || rows < 1) throw new UsageError(`covariance: need ${rows} x ${cols} values, got ${x.length}`);
  const mean = new Float64Array(cols);
  for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) mean[j] += x[r * cols + j];
  for (let j = 0; j < cols; j++) mean[j] /= rows;
  const cov = new Float64Array(cols * cols);
  const row = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < cols; j++) row[j] = x[r * cols + j] - mean[j];
    for (let i = 0; i < cols; i++) {
      const xi = row[i];
      const base = i * cols;
      for (let j = i; j < cols; j++) cov[base + j] += xi * row[j];
    }
  }
  for (let i = 0; i < cols; i++)
    for (let j = i; j < cols; j++) {
      const v = cov[i * cols + j] / rows;
      cov[i * cols + j] = v;
      cov[j * cols + i] = v;
    }
  return { mean, cov };
}

/** PCA of rows x cols data: eigendecomposition of its covariance. */
export function pca(x: ArrayLike<number>, rows: number, cols: number): Pca {
  const { mean, cov } = covariance(x, rows, cols);
  const eig = symmetricEigen(cov, cols);
  return { dim: cols, mean, variances: eig.values, components: eig.vectors };
}

/** Coordinates of each row on the top-k principal directions: rows x k floats. */
export function pcaProject(p: Pca, x: ArrayLike<number>, rows: number, k: number): Float32Array {
  const d = p.dim;
  if (!Number.isInteger(k) || k < 1 || k > d) throw new UsageError(`pcaProject: k=${k} must be in 1..${d}`);
  const out = new Float32Array(rows * k);
  const centred = new Float64Array(d);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < d; j++) centred[j] = x[r * d + j] - p.mean[j];
    for (let c = 0; c < k; c++) {
      let s = 0;
      const base = c * d;
      for (let j = 0; j < d; j++) s += centred[j] * p.components[base + j];
      out[r * k + c] = s;
    }
  }
  return out;
}
