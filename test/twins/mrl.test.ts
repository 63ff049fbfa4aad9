/**
 * The Matryoshka heads and loss (lib/nn/mrl.ts) against their PyTorch twin (mrl_twin.py,
 * after RAIVNLab/MRL's MRL_Linear_Layer and Matryoshka_CE_Loss), for MRL and MRL-E with
 * non-uniform relative importances: the logits of every nesting size (both our fused
 * [B, S, C] form, used in training, and the per-size form, used at evaluation), the loss
 * (fused and per-head), the gradient for the representation z and every head parameter,
 * and one tf.train.adam step (the Matryoshka experiment trains with tf.train.adam).
 * Tolerance 1e-5 relative: each logit sums at most 16 float32 products.
 */
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../lib/core/backend';
import { RunRng } from '../../lib/core/rng';
import { ParamStore } from '../../lib/nn/layers';
import { createMrlHead, mrlLogitsAll, mrlLogitsAt, mrlLoss, mrlLossPerHead, type MrlKind } from '../../lib/nn/mrl';
import { Agreement, checkGradientsAndAdamStep, cleanName, encode, once, oursAdamStep, runTwin, seededNormal, seededTokens, twinTest, type Encoded } from './harness';

const LR = 0.05;
const TOL = 1e-5;
const SIZES = [2, 4, 8, 16];
const WEIGHTS = [1, 0.5, 2, 1];
const CLASSES = 5;
const KINDS: MrlKind[] = ['mrl', 'mrl-e'];

interface Result {
  logits: Encoded;
  loss: Encoded;
  sizeLosses: Encoded;
  gradZ: Encoded;
  grads: Record<string, Encoded>;
  after: Record<string, Encoded>;
}

function build(kind: MrlKind) {
  const store = new ParamStore(new RunRng(4), 'mrl');
  const head = createMrlHead(store, 'head', kind, SIZES, CLASSES, WEIGHTS);
  const z = seededNormal(4, 'twin/z', [6, 16]) as tf.Tensor2D;
  const labels = tf.tensor1d(seededTokens(4, 'twin/labels', 1, 6, CLASSES)[0], 'int32');
  const fused = mrlLogitsAll(z, head);
  const perSize = tf.stack(head.sizes.map((_, i) => mrlLogitsAt(z, head, i)), 1);
  const lossPerHead = mrlLossPerHead(z, labels, head);
  const gradZ = tf.grad((x: tf.Tensor) => mrlLoss(x as tf.Tensor2D, labels, head))(z);
  const step = oursAdamStep(store.variables, () => mrlLoss(z, labels, head), LR);
  const names = head.classifiers.map((c) => [cleanName(c.w), cleanName(c.b as tf.Variable)]);
  const twinCase = { kind, sizes: SIZES, classes: CLASSES, weights: WEIGHTS, names, params: step.before, z: encode(z), labels: encode(labels), lr: LR };
  return { fused, perSize, lossPerHead, gradZ, step, twinCase };
}

const setup = once(async () => {
  await selectBackend('cpu');
  const ours = KINDS.map(build);
  const twin = runTwin<Result>('mrl_twin', ours.map((o) => o.twinCase));
  return ours.map((o, i) => ({ ours: o, twin: twin.results[i] }));
});

KINDS.forEach((kind, i) => {
  twinTest(`${kind.toUpperCase()}: logits of every size, loss, gradients (z and head) and one Adam step agree with the PyTorch twin`, async (t) => {
    const { ours, twin } = (await setup())[i];
    const a = new Agreement(kind);
    a.check('logits (fused, training)', ours.fused, twin.logits, TOL);
    a.check('logits (per size, evaluation)', ours.perSize, twin.logits, TOL);
    a.check('loss (fused)', ours.step.loss, twin.loss, TOL);
    a.check('loss (per head)', ours.lossPerHead, twin.loss, TOL);
    a.check('grad input z', ours.gradZ, twin.gradZ, TOL);
    checkGradientsAndAdamStep(a, ours.step, twin, LR, TOL);
    a.report(t);
  });
});
