import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../lib/core/backend';
import { RunRng } from '../../lib/core/rng';
import {
  Autoencoder,
  autoencoderTransfers,
  datasetLoss,
  DEEP_AUTOENCODER_SIZES,
  disposeForward,
  reconstructionLoss,
} from '../../lib/nn/autoencoder';

const SMALL = [784, 12, 6, 3, 6, 12, 784];

function images(n: number, seed: number): { bytes: Uint8Array; x: tf.Tensor2D } {
  const s = new RunRng(seed).stream('img');
  const bytes = new Uint8Array(n * 784);
  for (let i = 0; i < bytes.length; i++) bytes[i] = s.next() < 0.8 ? 0 : s.int(256);
  const x = tf.tensor2d(Float32Array.from(bytes, (v) => v / 255), [n, 784]);
  return { bytes, x };
}

test('the paper architecture: tanh layers, linear into the 30-d code, sigmoid output; 2.84M parameters', async () => {
  await selectBackend('cpu');
  assert.deepEqual(autoencoderTransfers(DEEP_AUTOENCODER_SIZES, 'tanh'), ['tanh', 'tanh', 'tanh', 'linear', 'tanh', 'tanh', 'tanh', 'sigmoid']);
  const m = new Autoencoder(DEEP_AUTOENCODER_SIZES, 'tanh', new RunRng(3));
  // 784*1000+1000 + 1000*500+500 + 500*250+250 + 250*30+30 + 30*250+250 + 250*500+500 + 500*1000+1000 + 1000*784+784
  assert.equal(m.paramCount(), 2_837_314);
  // biases start Glorot-uniform on (n,): |b| <= sqrt(3/n), not zero
  const b = await m.layers[3].b.data();
  assert.ok(Math.max(...Array.from(b, Math.abs)) <= Math.sqrt(3 / 30) + 1e-6);
  assert.ok(Array.from(b).some((v) => v !== 0));
  m.dispose();
});

test('same seed -> same initial weights; the loss is sigmoid CE summed over pixels, averaged over the batch', async () => {
  await selectBackend('cpu');
  const a = new Autoencoder(SMALL, 'tanh', new RunRng(5));
  const b = new Autoencoder(SMALL, 'tanh', new RunRng(5));
  assert.deepEqual(await a.layers[0].w.data(), await b.layers[0].w.data());
  const logits = tf.tensor2d([[0, 2], [-1, 0.5]]);
  const x = tf.tensor2d([[1, 0], [0.5, 1]]);
  const ce = (l: number, t: number) => -(t * Math.log(1 / (1 + Math.exp(-l))) + (1 - t) * Math.log(1 - 1 / (1 + Math.exp(-l))));
  const want = (ce(0, 1) + ce(2, 0) + ce(-1, 0.5) + ce(0.5, 1)) / 2;
  assert.ok(Math.abs((await reconstructionLoss(logits, x).data())[0] - want) < 1e-5);
  a.dispose();
  b.dispose();
  tf.dispose([logits, x]);
});

test('analytic pre-activation and weight gradients equal tfjs autodiff', async () => {
  await selectBackend('cpu');
  const m = new Autoencoder(SMALL, 'tanh', new RunRng(7));
  const { bytes, x } = images(5, 1);
  const pass = m.forward(x);
  const pre = m.preActivationGradients(pass, x);
  const wg = m.weightGradients(pass, pre);
  const auto = tf.variableGrads(() => m.loss(x), m.variables);
  for (const [i, v] of m.variables.entries()) {
    const got = await wg[i].data();
    const want = await auto.grads[v.name].data();
    for (let k = 0; k < got.length; k++) assert.ok(Math.abs(got[k] - want[k]) < 1e-4 * (1 + Math.abs(want[k])), `variable ${i} element ${k}: ${got[k]} vs ${want[k]}`);
  }
  // dL/da for the layer into the bottleneck (linear) through tf.grad of the loss as a function of a_2
  const l = 2;
  assert.equal(m.layers[l].transfer, 'linear');
  const rest = (a: tf.Tensor) => {
    let h = a;
    for (let j = l + 1; j < m.layers.length; j++) {
      const z = tf.matMul(h as tf.Tensor2D, m.layers[j].w).add(m.layers[j].b);
      h = j === m.layers.length - 1 ? z : tf.tanh(z);
    }
    return reconstructionLoss(h as tf.Tensor2D, x);
  };
  const ga = await tf.grad(rest)(pass.pre[l]).data();
  const gb = await pre[l].data();
  let gmax = 0;
  for (let k = 0; k < ga.length; k++) gmax = Math.max(gmax, Math.abs(ga[k]));
  for (let k = 0; k < ga.length; k++) assert.ok(Math.abs(ga[k] - gb[k]) < 1e-4 * gmax, `dL/da_2 element ${k}: ${ga[k]} vs ${gb[k]}`);
  // dataset loss in chunks equals the loss of one batch
  const whole = (await m.loss(x).data())[0];
  assert.ok(Math.abs((await datasetLoss(m, bytes, 784, 5, 2)) - whole) < 1e-3);
  disposeForward(pass);
  tf.dispose([...pre, ...wg, x, ...Object.values(auto.grads), auto.value]);
  m.dispose();
});
