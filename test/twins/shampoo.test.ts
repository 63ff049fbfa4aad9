/**
 * Shampoo's inverse p-th roots (lib/nn/shampoo.ts, matrixInversePthRoot: the coupled Newton
 * iteration, float32, batched) against their PyTorch twin (shampoo_twin.py): the same
 * iteration as google-research's scalable_shampoo ComputePower run in float64 to
 * convergence, and the exact root from an eigendecomposition.
 *
 * Matrices: statistics-like G G^T / n of random G [8, n] for n = 32, 8 (ill-conditioned)
 * and 4 (rank 4: singular, only the ridge makes it invertible), and a diagonal with
 * eigenvalues from 1 down to 1e-3; p = 4 (Shampoo's) and p = 2; ridge 1e-4 as in our
 * LocoProp configs.
 *
 * Tolerance (looser than the other twins', and why): our iteration stops once
 * max |M - I| <= 1e-5 (M = X^p G, so X is then within ~1e-5 / p of G^(-1/p)), and every
 * one of its ~15 steps rounds in float32 products whose error the conditioning of the
 * ridged G amplifies by up to kappa^(1/p), kappa <= 1/ridge = 1e4 here: about
 * 15 x kappa^(1/p) x 6e-8, i.e. 1e-5 for p = 4 and 1e-4 for p = 2 (the singular matrix).
 * Tolerances 1e-4 (p = 4) and 5e-4 (p = 2), relative to the root's largest entry; a wrong
 * iteration (a wrong z, T or power) misses by orders of magnitude or diverges.
 */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../lib/core/backend';
import { RunRng } from '../../lib/core/rng';
import { matrixInversePthRoot } from '../../lib/nn/shampoo';
import { Agreement, encode, once, runTwin, twinTest, type Encoded } from './harness';

const D = 8;
const RIDGE = 1e-4;
const TOL: Record<number, number> = { 4: 1e-4, 2: 5e-4 };
const POWERS = [4, 2];

interface Result {
  newton: Encoded;
  exact: Encoded;
  iterations: number[];
}

function statistics(): tf.Tensor3D {
  const s = new RunRng(8).stream('twin/g');
  const mats: number[][] = [];
  for (const n of [32, 8, 4]) {
    const g = Array.from({ length: D * n }, () => s.normal());
    const a = new Array<number>(D * D).fill(0);
    for (let i = 0; i < D; i++) for (let j = 0; j < D; j++) for (let k = 0; k < n; k++) a[i * D + j] += (g[i * n + k] * g[j * n + k]) / n;
    mats.push(a);
  }
  const diag = new Array<number>(D * D).fill(0);
  for (let i = 0; i < D; i++) diag[i * D + i] = 10 ** (-3 * (i / (D - 1)));
  mats.push(diag);
  return tf.tensor3d(mats.flat(), [mats.length, D, D]);
}

const setup = once(async () => {
  await selectBackend('cpu');
  const a = statistics();
  const ours = [];
  for (const p of POWERS) ours.push(await matrixInversePthRoot(a, p, { ridge: RIDGE, maxIterations: 40 }));
  const twin = runTwin<Result>('shampoo_twin', POWERS.map((p) => ({ a: encode(a), p, ridge: RIDGE })));
  return { n: a.shape[0], ours, twin: twin.results };
});

POWERS.forEach((p, i) => {
  twinTest(`Shampoo inverse ${p === 4 ? '4th' : 'square'} roots (coupled Newton, float32) agree with the official iteration and the exact root in float64`, async (t) => {
    const { n, ours, twin } = await setup();
    const root = ours[i].root.dataSync();
    const a = new Agreement(`shampoo inverse root p=${p}`);
    assert.ok(ours[i].error <= 1e-5, `our iteration stopped at max|M - I| = ${ours[i].error}`);
    for (let m = 0; m < n; m++) {
      const slice = (x: ArrayLike<number>) => Array.prototype.slice.call(x, m * D * D, (m + 1) * D * D) as number[];
      a.check(`matrix ${m} vs official iteration`, slice(root), { shape: [D * D], data: slice(twin[i].newton.data) }, TOL[p]);
      a.check(`matrix ${m} vs exact root`, slice(root), { shape: [D * D], data: slice(twin[i].exact.data) }, TOL[p]);
    }
    t.diagnostic(`our iterations ${ours[i].iterations} (batch), final max|M - I| ${ours[i].error.toExponential(2)}; official float64 iterations ${twin[i].iterations.join(', ')}`);
    a.report(t);
  });
});
