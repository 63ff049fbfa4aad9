import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { RunRng } from '../../lib/core/rng';
import {
  BatchedAffineSgd,
  BatchedMoments,
  bimodalSystem,
  LinearSystemStream,
  matMul,
  olsFromMoments,
  operatorNorm,
  randomOrthogonal,
  SgdBlockComposer,
  sgdStepReference,
  stationaryCovariance,
  symmetricEigenvalues,
  transpose,
  writeSgdFactors,
} from '../../lib/nn/linear-system';

before(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

function close(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(actual.length, expected.length, what);
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
}

test('OLS from moments equals Syx Sxx^-1 computed by hand (2x2)', () => {
  // pairs (x_t, x_{t+1}) of a made-up 2-d trajectory
  const states = [
    [1, 0],
    [0.5, 1],
    [-1, 2],
    [0.25, -0.5],
  ];
  let sxx = [0, 0, 0, 0];
  let syx = [0, 0, 0, 0];
  for (let t = 0; t + 1 < states.length; t++) {
    const [x0, x1] = states[t];
    const [y0, y1] = states[t + 1];
    sxx = [sxx[0] + x0 * x0, sxx[1] + x0 * x1, sxx[2] + x1 * x0, sxx[3] + x1 * x1];
    syx = [syx[0] + y0 * x0, syx[1] + y0 * x1, syx[2] + y1 * x0, syx[3] + y1 * x1];
  }
  const det = sxx[0] * sxx[3] - sxx[1] * sxx[2];
  const inv = [sxx[3] / det, -sxx[1] / det, -sxx[2] / det, sxx[0] / det];
  const expected = [syx[0] * inv[0] + syx[1] * inv[2], syx[0] * inv[1] + syx[1] * inv[3], syx[2] * inv[0] + syx[3] * inv[2], syx[2] * inv[1] + syx[3] * inv[3]];
  close(olsFromMoments(sxx, syx, 2), expected, 1e-12, 'ols');
});

test('OLS recovers A* exactly from a noise-free trajectory', () => {
  const d = 3;
  // distinct eigenvalues, so the noise-free states span R^3 (a repeated eigenvalue would not)
  const A = Float64Array.from([0.5, 0.2, 0, 0.1, 0.3, 0.4, 0, -0.2, 0.6]);
  const traj = new LinearSystemStream(A, d, 0, new RunRng(3).stream('noise'), Float64Array.from([1, -2, 0.5])).chunk(10);
  const sxx = new Float64Array(d * d);
  const syx = new Float64Array(d * d);
  for (let t = 0; t < 10; t++)
    for (let i = 0; i < d; i++)
      for (let j = 0; j < d; j++) {
        sxx[i * d + j] += traj[t * d + i] * traj[t * d + j];
        syx[i * d + j] += traj[(t + 1) * d + i] * traj[t * d + j];
      }
  close(olsFromMoments(sxx, syx, d), A, 1e-8, 'A');
});

test('tfjs OLS moments match float64 sums', () => {
  const R = 2;
  const d = 2;
  const C = 3;
  const x = [
    [[1, 2], [3, 4], [5, 6]],
    [[-1, 0.5], [2, 2], [0, 1]],
  ];
  const y = [
    [[0, 1], [1, 0], [2, 2]],
    [[1, 1], [0, -1], [3, 0]],
  ];
  const xt = new Float32Array(R * d * C);
  const xs = new Float32Array(R * C * d);
  const yt = new Float32Array(R * d * C);
  for (let r = 0; r < R; r++)
    for (let t = 0; t < C; t++)
      for (let i = 0; i < d; i++) {
        xt[(r * d + i) * C + t] = x[r][t][i];
        xs[(r * C + t) * d + i] = x[r][t][i];
        yt[(r * d + i) * C + t] = y[r][t][i];
      }
  const m = new BatchedMoments(R, d);
  return (async () => {
    m.add(xt, xs, yt, C);
    m.add(xt, xs, yt, C); // twice: the sums accumulate
    const { sxx, syx } = await m.read();
    m.dispose();
    for (let r = 0; r < R; r++)
      for (let i = 0; i < d; i++)
        for (let j = 0; j < d; j++) {
          let ex = 0;
          let ey = 0;
          for (let t = 0; t < C; t++) {
            ex += x[r][t][i] * x[r][t][j];
            ey += y[r][t][i] * x[r][t][j];
          }
          assert.equal(sxx[r * 4 + i * 2 + j], 2 * ex);
          assert.equal(syx[r * 4 + i * 2 + j], 2 * ey);
        }
  })();
});

test('one batched SGD step equals the hand-computed update A - g (A x - y) x^T', async () => {
  const d = 2;
  const sgd = new BatchedAffineSgd(1, d);
  const m = new Float32Array(4);
  const n = new Float32Array(4);
  // from A = 0: A1 = g y x^T with x = (1, 2), y = (3, -1), g = 0.1
  writeSgdFactors(m, n, 0, Float64Array.from([1, 2]), 0, Float64Array.from([3, -1]), 0, 0.1, d);
  sgd.step(m, n);
  close(await sgd.readLast(), [0.3, 0.6, -0.1, -0.2], 1e-7, 'A1');
  // x = (0.5, -1), y = (1, 1): A1 x = (-0.45, 0.15), r = (-1.45, -0.85), A2 = A1 - 0.1 r x^T
  writeSgdFactors(m, n, 0, Float64Array.from([0.5, -1]), 0, Float64Array.from([1, 1]), 0, 0.1, d);
  sgd.step(m, n);
  close(await sgd.readLast(), [0.3725, 0.455, -0.0575, -0.285], 1e-6, 'A2');
  close(sgdStepReference(Float64Array.from([0.3, 0.6, -0.1, -0.2]), [0.5, -1], [1, 1], 0.1, d), [0.3725, 0.455, -0.0575, -0.285], 1e-12, 'reference');
  // step 0 is the identity step (how a lane sits out a gap)
  writeSgdFactors(m, n, 0, Float64Array.from([9, 9]), 0, Float64Array.from([9, 9]), 0, 0, d);
  sgd.step(m, n);
  close(await sgd.readLast(), [0.3725, 0.455, -0.0575, -0.285], 1e-6, 'A3');
  sgd.dispose();
});

test('a block of composed SGD steps equals the per-step float64 reference, lane by lane, from any start', async () => {
  const d = 3;
  const steps = [0.05, 0.01, 0]; // lane 2 sits out every step: the identity map
  const lanes = steps.length;
  const block = 40;
  const traj = new LinearSystemStream(bimodalSystem(d, 0.9, new RunRng(5).stream('a')).A, d, 1, new RunRng(5).stream('noise')).chunk(2 * block);
  const composer = new SgdBlockComposer(lanes, d);
  const sgd = new BatchedAffineSgd(lanes, d);
  const m = new Float32Array(lanes * d * d);
  const n = new Float32Array(lanes * d * d);
  const ref: Float64Array[] = steps.map(() => new Float64Array(d * d));
  for (let b = 0; b < 2; b++) {
    for (let t = b * block; t < (b + 1) * block; t++)
      steps.forEach((g, l) => {
        composer.add(l, traj, t * d, traj, (t + 1) * d, g);
        ref[l] = sgdStepReference(ref[l], traj.subarray(t * d, t * d + d), traj.subarray((t + 1) * d, (t + 2) * d), g, d);
      });
    composer.flush(m, n); // the second block starts from a non-zero iterate
    sgd.step(m, n);
    const last = await sgd.readLast();
    steps.forEach((_, l) => close(last.subarray(l * d * d, (l + 1) * d * d), ref[l], 1e-5, `block ${b} lane ${l}`));
  }
  close(await sgd.readLast().then((a) => a.subarray(2 * d * d)), new Float64Array(d * d), 0, 'identity lane');
  sgd.dispose();
});

test('tail average is the mean of the accumulated iterates', async () => {
  const sgd = new BatchedAffineSgd(1, 1);
  const m = Float32Array.from([1]);
  sgd.step(m, Float32Array.from([2])); // A = 2
  sgd.accumulateTail();
  sgd.step(m, Float32Array.from([4])); // A = 6
  sgd.accumulateTail();
  assert.equal(sgd.tailSize, 2);
  close(await sgd.readTailAverage(), [4], 0, 'avg');
  sgd.resetTail();
  close(await sgd.readTailAverage(), [0], 0, 'reset');
  sgd.dispose();
});

test('tensor count does not grow over many SGD and moment steps', async () => {
  const before0 = tf.memory().numTensors;
  const lanes = 6;
  const d = 5;
  const sgd = new BatchedAffineSgd(lanes, d);
  const mom = new BatchedMoments(2, d);
  const m = new Float32Array(lanes * d * d).fill(0.01);
  const n = new Float32Array(lanes * d * d).fill(0.01);
  sgd.step(m, n);
  const during = tf.memory().numTensors;
  for (let i = 0; i < 300; i++) {
    sgd.step(m, n);
    if (i % 10 === 0) sgd.accumulateTail();
    if (i % 50 === 0) mom.add(new Float32Array(2 * d * 4), new Float32Array(2 * 4 * d), new Float32Array(2 * d * 4), 4);
  }
  await sgd.readLast();
  assert.equal(tf.memory().numTensors, during);
  sgd.dispose();
  mom.dispose();
  assert.equal(tf.memory().numTensors, before0);
});

test('random orthogonal matrix, bimodal system spectrum, stationary covariance, norms', () => {
  const d = 5;
  const s = new RunRng(11).stream('q');
  const q = randomOrthogonal(d, s);
  const qtq = matMul(transpose(q, d), q, d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) assert.ok(Math.abs(qtq[i * d + j] - (i === j ? 1 : 0)) < 1e-12);
  const { A } = bimodalSystem(d, 0.9, s);
  close(symmetricEigenvalues(A, d), [0.3, 0.3, 0.9, 0.9, 0.9], 1e-10, 'eig');
  // scalar system a = 0.5: E x^2 = 1 / (1 - 0.25)
  close(stationaryCovariance(Float64Array.from([0.5]), 1, 1), [4 / 3], 1e-12, 'cov');
  assert.ok(Math.abs(operatorNorm([3, 0, 0, -4], 2) - 4) < 1e-12);
  // rank one u v^T: ||u|| ||v|| = sqrt(5) * sqrt(2)
  assert.ok(Math.abs(operatorNorm([1, 1, 2, 2], 2) - Math.sqrt(10)) < 1e-12);
});
