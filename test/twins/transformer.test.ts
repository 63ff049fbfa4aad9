/**
 * Transformer++ (lib/nn/transformer.ts) against its PyTorch twin (transformer_twin.py):
 * logits, loss, every gradient and the parameters after one tf.train.adam step.
 *
 * Tolerance 1e-5 (relative to each tensor's largest entry, see harness.ts): float32 has a
 * 6e-8 unit roundoff, and a two-layer model at width 16 sums at most a few dozen terms per
 * output, so ~1e-6 is expected; 1e-5 leaves a 10x margin without hiding a wrong formula
 * (a wrong sign, scale or mask moves these tensors by 1e-2 or more).
 * The Adam step is compared as the update w_after - w_before (Agreement.checkAdamFirstStep):
 * a learning rate of 0.05 keeps the update far above the float32 spacing of w.
 */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../lib/core/backend';
import { RunRng } from '../../lib/core/rng';
import { TransformerLM } from '../../lib/nn/transformer';
import { trainStep } from '../../lib/nn/training';
import { Agreement, cleanName, encode, encodeVariables, gradsByCleanName, once, runTwin, seededTokens, twinTest, type Encoded } from './harness';

const CFG = { vocab: 13, width: 16, depth: 2, heads: 2, ffnHidden: 24 };
const LR = 0.05;
const TOL = 1e-5;
/** tf.train.adam's epsilon on a float32 backend. */
const ADAM_EPS = 1e-7;
/**
 * tfjs keeps beta2 = 0.999 as a float32 (0.99900001), so its first-step bias correction
 * 1 - beta2 is 1.3e-5 off and every step 6.4e-6 smaller than torch's; 2e-5 covers that
 * plus the float32 spacing of w relative to the step.
 */
const STEP_TOL = 2e-5;

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
  const vars = lm.store.variables;
  const before = encodeVariables(vars);
  const logits = lm.forward(inputs).logits;
  const loss = lm.loss(inputs, targets);
  const { grads } = tf.variableGrads(() => lm.loss(inputs, targets), vars);
  const opt = tf.train.adam(LR);
  trainStep(opt, vars, () => lm.loss(inputs, targets)).dispose();
  const ours = { logits, loss, grads: gradsByCleanName(vars, grads), after: encodeVariables(vars) };
  const twin = runTwin<Result>('transformer_twin', [{ config: CFG, params: before, inputs: encode(inputs), targets: encode(targets), lr: LR }]);
  return { ours, before, vars: vars.map(cleanName), twin: twin.results[0] };
});

twinTest('Transformer++: logits and loss agree with the PyTorch twin', async (t) => {
  const { ours, twin } = await setup();
  const a = new Agreement('transformer forward');
  a.check('logits', ours.logits, twin.logits, TOL);
  a.check('loss', ours.loss, twin.loss, TOL);
  a.report(t);
});

twinTest('Transformer++: every gradient agrees with the PyTorch twin', async (t) => {
  const { ours, twin, vars } = await setup();
  const a = new Agreement('transformer gradients');
  assert.deepEqual(Object.keys(twin.grads).sort(), [...vars].sort());
  for (const name of vars) a.check(`grad ${name}`, ours.grads[name], twin.grads[name], TOL);
  a.report(t);
});

twinTest('Transformer++: one Adam step (tfjs semantics) agrees with torch.optim.Adam', async (t) => {
  const { ours, twin, vars, before } = await setup();
  const a = new Agreement('transformer adam step');
  for (const name of vars) {
    const s = { before: before[name].data, ours: ours.after[name].data, twin: twin.after[name].data, gOurs: ours.grads[name].dataSync(), gTwin: twin.grads[name].data };
    a.checkAdamFirstStep(`step ${name}`, s, LR, ADAM_EPS, STEP_TOL);
  }
  a.report(t);
});
