/**
 * Transformer++ (lib/nn/transformer.ts) against its PyTorch twin (transformer_twin.py):
 * logits, loss, every gradient and the parameters after one tf.train.adam step.
 *
 * Tolerance 1e-5 (relative to each tensor's largest entry, see harness.ts): float32 has a
 * 6e-8 unit roundoff, and a two-layer model at width 16 sums at most a few dozen terms per
 * output, so ~1e-6 is expected; 1e-5 leaves a 10x margin without hiding a wrong formula
 * (a wrong sign, scale or mask moves these tensors by 1e-2 or more).
 * The Adam step is compared as the update w_after - w_before (Agreement.checkAdamFirstStep,
 * TFJS_ADAM_STEP_TOL); a learning rate of 0.05 keeps it far above the float32 spacing of w.
 */
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../lib/core/backend';
import { RunRng } from '../../lib/core/rng';
import { TransformerLM } from '../../lib/nn/transformer';
import { Agreement, checkGradientsAndAdamStep, encode, once, oursAdamStep, runTwin, seededTokens, twinTest, type Encoded } from './harness';

const CFG = { vocab: 13, width: 16, depth: 2, heads: 2, ffnHidden: 24 };
const LR = 0.05;
const TOL = 1e-5;

interface Result {
  logits: Encoded;
  loss: Encoded;
  grads: Record<string, Encoded>;
  after: Record<string, Encoded>;
}

const setup = once(async () => {
  await selectBackend('cpu');
  const lm = new TransformerLM(CFG, new RunRng(7), 'lm');
  const tokens = seededTokens(7, 'twin/tokens', 2, 9, CFG.vocab);
  const inputs = tf.tensor2d(tokens.map((r) => r.slice(0, -1)), undefined, 'int32');
  const targets = tf.tensor2d(tokens.map((r) => r.slice(1)), undefined, 'int32');
  const logits = lm.forward(inputs).logits;
  const step = oursAdamStep(lm.store.variables, () => lm.loss(inputs, targets), LR);
  const twin = runTwin<Result>('transformer_twin', [{ config: CFG, params: step.before, inputs: encode(inputs), targets: encode(targets), lr: LR }]);
  return { logits, step, twin: twin.results[0] };
});

twinTest('Transformer++: logits and loss agree with the PyTorch twin', async (t) => {
  const { logits, step, twin } = await setup();
  const a = new Agreement('transformer forward');
  a.check('logits', logits, twin.logits, TOL);
  a.check('loss', step.loss, twin.loss, TOL);
  a.report(t);
});

twinTest('Transformer++: every gradient and one Adam step (tfjs semantics = torch.optim.Adam) agree with the twin', async (t) => {
  const { step, twin } = await setup();
  const a = new Agreement('transformer gradients and step');
  checkGradientsAndAdamStep(a, step, twin, LR, TOL);
  a.report(t);
});
