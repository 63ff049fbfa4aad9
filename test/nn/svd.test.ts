import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../../lib/core/errors';
import { RunRng } from '../../lib/core/rng';
import { covariance, pca, pcaProject, symmetricEigen } from '../../lib/nn/svd';

function randomSymmetric(n: number, seed: number): Float64Array {
  const s = new RunRng(seed).stream('sym');
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = i; j < n; j++) {
      const v = s.normal();
      a[i * n + j] = v;
      a[j * n + i] = v;
    }
  return a;
}

test('2x2 by hand: [[2,1],[1,2]] has eigenvalues 3 and 1 with vectors (1,1)/sqrt2 and (1,-1)/sqrt2', () => {
  const e = symmetricEigen([2, 1, 1, 2], 2);
  assert.ok(Math.abs(e.values[0] - 3) < 1e-14 && Math.abs(e.values[1] - 1) < 1e-14);
  const r = Math.SQRT1_2;
  assert.ok(Math.abs(Math.abs(e.vectors[0]) - r) < 1e-14 && Math.abs(e.vectors[0] - e.vectors[1]) < 1e-14);
  assert.ok(Math.abs(e.vectors[2] + e.vectors[3]) < 1e-14);
});

test('random symmetric 24x24: A v = lambda v, orthonormal vectors, descending values, trace preserved', () => {
  const n = 24;
  const a = randomSymmetric(n, 5);
  const e = symmetricEigen(a, n);
  let trace = 0;
  for (let i = 0; i < n; i++) trace += a[i * n + i];
  assert.ok(Math.abs(e.values.reduce((s, v) => s + v, 0) - trace) < 1e-10);
  for (let j = 0; j < n; j++) {
    if (j > 0) assert.ok(e.values[j] <= e.values[j - 1]);
    const v = e.vectors.subarray(j * n, j * n + n);
    for (let i = 0; i < n; i++) {
      let av = 0;
      for (let k = 0; k < n; k++) av += a[i * n + k] * v[k];
      assert.ok(Math.abs(av - e.values[j] * v[i]) < 1e-10, `residual at (${i}, ${j})`);
    }
    for (let k = 0; k < n; k++) {
      let dot = 0;
      for (let i = 0; i < n; i++) dot += v[i] * e.vectors[k * n + i];
      assert.ok(Math.abs(dot - (j === k ? 1 : 0)) < 1e-12);
    }
  }
  assert.ok(e.sweeps > 1 && e.sweeps < 20);
});

test('a diagonal matrix needs no rotation; a non-symmetric one is refused', () => {
  const e = symmetricEigen([1, 0, 0, 0, 5, 0, 0, 0, 3], 3);
  assert.deepEqual(Array.from(e.values), [5, 3, 1]);
  assert.equal(e.sweeps, 0);
  assert.throws(() => symmetricEigen([1, 2, 3, 4], 2), UsageError);
  assert.throws(() => symmetricEigen([1, 2, 3], 2), UsageError);
});

test('covariance by hand and PCA recovers the direction of a stretched cloud', () => {
  const { mean, cov } = covariance([1, 2, 3, 6], 2, 2); // rows (1,2), (3,6)
  assert.deepEqual(Array.from(mean), [2, 4]);
  assert.deepEqual(Array.from(cov), [1, 2, 2, 4]);
  // points along (3, 4)/5 with small noise across it
  const s = new RunRng(9).stream('cloud');
  const rows = 2000;
  const x = new Float64Array(rows * 2);
  for (let r = 0; r < rows; r++) {
    const t = 10 * s.normal();
    const u = 0.5 * s.normal();
    x[r * 2] = 1 + 0.6 * t - 0.8 * u;
    x[r * 2 + 1] = -2 + 0.8 * t + 0.6 * u;
  }
  const p = pca(x, rows, 2);
  assert.ok(Math.abs(Math.abs(p.components[0]) - 0.6) < 0.01 && Math.abs(Math.abs(p.components[1]) - 0.8) < 0.01);
  assert.ok(Math.abs(p.variances[0] / 100 - 1) < 0.1 && Math.abs(p.variances[1] / 0.25 - 1) < 0.15);
  // projected coordinates: variance of each equals its eigenvalue, and they are uncorrelated
  const z = pcaProject(p, x, rows, 2);
  const c = covariance(z, rows, 2);
  assert.ok(Math.abs(c.cov[0] / p.variances[0] - 1) < 1e-5 && Math.abs(c.cov[3] / p.variances[1] - 1) < 1e-4);
  assert.ok(Math.abs(c.cov[1]) < 1e-3 * Math.sqrt(c.cov[0] * c.cov[3]));
  assert.throws(() => pcaProject(p, x, rows, 3), UsageError);
});
