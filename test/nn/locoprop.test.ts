import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../lib/core/backend';
import { RunRng } from '../../lib/core/rng';
import { Autoencoder, backpropStep, disposeForward, reconstructionLoss } from '../../lib/nn/autoencoder';
import { innerDecay, localGradients, localTarget, LocoPropTrainer, type LocoPropVariant } from '../../lib/nn/locoprop';
import { RmsProp, Sgd } from '../../lib/nn/optimizers';

const SIZES = [784, 10, 4, 10, 784];

function batch(n: number, seed: number): tf.Tensor2D {
  const s = new RunRng(seed).stream('x');
  return tf.tensor2d(Float32Array.from({ length: n * 784 }, () => (s.next() < 0.7 ? 0 : s.next())), [n, 784]);
}

async function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  const x = await a.data();
  const y = await b.data();
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  return m;
}

test('local target = layer output - gamma * dLoss/d(pre-activation): pre-activation for S, post-activation for M', async () => {
  await selectBackend('cpu');
  const m = new Autoencoder(SIZES, 'tanh', new RunRng(2));
  const x = batch(6, 1);
  const pass = m.forward(x);
  const L = m.layers.length;
  // output layer: the gradient from tfjs autodiff of the loss as a function of the logits
  const g = tf.grad((a: tf.Tensor) => reconstructionLoss(a as tf.Tensor2D, x))(pass.pre[L - 1]);
  const gamma = 10;
  const tS = localTarget(pass.pre[L - 1], pass.post[L - 1], g, gamma, 'S');
  const tM = localTarget(pass.pre[L - 1], pass.post[L - 1], g, gamma, 'M');
  const wantS = pass.pre[L - 1].sub(g.mul(gamma));
  const wantM = tf.sigmoid(pass.pre[L - 1]).sub(g.mul(gamma));
  assert.ok((await maxAbsDiff(tS, wantS)) < 1e-6);
  assert.ok((await maxAbsDiff(tM, wantM)) < 1e-6);
  // and the targets really are one step away: |target - output| = gamma |g| > 0
  assert.ok((await maxAbsDiff(tS, pass.pre[L - 1])) > 0);
  // at the starting weights, the local gradient (x^T delta) is gamma times the BP weight gradient of that layer
  const [gw] = localGradients(pass.inputs[L - 1], m.layers[L - 1].w as tf.Tensor2D, m.layers[L - 1].b as tf.Tensor1D, tS as tf.Tensor2D, 'sigmoid', 'S');
  const bpW = tf.matMul(pass.inputs[L - 1], g, true, false).mul(gamma);
  assert.ok((await maxAbsDiff(gw, bpW)) < 1e-4);
  disposeForward(pass);
  tf.dispose([x, g, tS, tM, wantS, wantM, gw, bpW]);
  m.dispose();
});

test('inner learning rate decays as max(1 - k/K, 0.25)', () => {
  assert.deepEqual(
    Array.from({ length: 10 }, (_, k) => Number(innerDecay(k, 10, 0.25).toFixed(2))),
    [1, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.25, 0.25],
  );
});

// Paper (arXiv:2106.06199 v1 abstract): "The targets are chosen so that the first gradient
// descent step on the local objectives recovers vanilla BackProp". With GD step eta on the
// local loss and activation step gamma, that is BP with learning rate eta * gamma.
for (const variant of ['S', 'M'] as LocoPropVariant[]) {
  test(`LocoProp-${variant} with one local GD iteration (eta) equals one BP step with learning rate eta * gamma; two iterations do not`, async () => {
    await selectBackend('cpu');
    const eta = 0.003;
    const gamma = 10;
    const x = batch(8, 3);
    const loco = new Autoencoder(SIZES, 'tanh', new RunRng(4));
    const bp = new Autoencoder(SIZES, 'tanh', new RunRng(4));
    const two = new Autoencoder(SIZES, 'tanh', new RunRng(4));
    // proximity > 0 on purpose: its gradient vanishes at the starting weights
    const opts = { variant, activationStep: gamma, localIterations: 1, innerDecayFloor: 0.25, proximity: 5 };
    const t = new LocoPropTrainer(loco, opts, () => new Sgd());
    const t2 = new LocoPropTrainer(two, { ...opts, localIterations: 2 }, () => new Sgd());
    tf.dispose([t.step(x, eta), backpropStep(bp, new Sgd(), x, eta * gamma), t2.step(x, eta)]);
    let moved = 0;
    let twoDiff = 0;
    for (let l = 0; l < loco.layers.length; l++) {
      assert.ok((await maxAbsDiff(loco.layers[l].w, bp.layers[l].w)) < 1e-6, `layer ${l} weights`);
      assert.ok((await maxAbsDiff(loco.layers[l].b, bp.layers[l].b)) < 1e-6, `layer ${l} bias`);
      const init = new Autoencoder(SIZES, 'tanh', new RunRng(4));
      moved = Math.max(moved, await maxAbsDiff(loco.layers[l].w, init.layers[l].w));
      init.dispose();
      twoDiff = Math.max(twoDiff, await maxAbsDiff(two.layers[l].w, bp.layers[l].w));
    }
    assert.ok(moved > 1e-5, 'the step moved the weights');
    assert.ok(twoDiff > 1e-6, 'a second local iteration goes beyond BP');
    [loco, bp, two].forEach((m) => m.dispose());
    x.dispose();
  });
}

test('a LocoProp-M step with RMSprop lowers the batch loss and leaks no tensors', async () => {
  await selectBackend('cpu');
  const m = new Autoencoder(SIZES, 'tanh', new RunRng(9));
  const x = batch(20, 5);
  const t = new LocoPropTrainer(m, { variant: 'M', activationStep: 10, localIterations: 5, innerDecayFloor: 0.25, proximity: 1 }, () => new RmsProp({ decay: 0.9, momentum: 0.9, epsilon: 1e-5, initialMeanSquare: 0 }));
  tf.dispose(t.step(x, 1e-3)); // creates the optimiser slots
  const lossNow = async () => {
    const l = m.loss(x);
    const v = (await l.data())[0];
    l.dispose();
    return v;
  };
  const l0 = await lossNow();
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) tf.dispose(t.step(x, 1e-3));
  assert.equal(tf.memory().numTensors, before);
  assert.ok((await lossNow()) < l0);
  assert.equal(t.stateFloats(), 2 * m.paramCount());
  t.dispose();
  m.dispose();
  x.dispose();
});
