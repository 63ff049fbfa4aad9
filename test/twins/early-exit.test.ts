/**
 * CALM's early-exit decoder (lib/nn/early-exit.ts) against its PyTorch twin
 * (early_exit_twin.py):
 * - training: the depth-weighted average of the per-layer cross-entropies through the
 *   shared head, every gradient and one tf.train.adam step (tolerance 1e-5 relative, as
 *   for transformer.test.ts: the same blocks, the loss adds L = 4 per-layer terms);
 * - the early-exit classifier's loss (the LM frozen): per-layer agreement labels, the
 *   class-balanced cross-entropy of every layer, their average, the classifier's gradients
 *   and one tf.train.adam step (tolerance 1e-5);
 * - decoding: greedy early-exit decoding (decodeEarlyExit, which really skips layers, and
 *   decodeBatch, which simulates it with masks) for the three confidence measures and
 *   several thresholds, fixed and decayed: the generated tokens and every token's exit
 *   layer must be IDENTICAL to the twin's, whose key/value entries for skipped layers come
 *   from the exit state (state propagation) recomputed from stored states, not cached.
 *
 * At initialisation every softmax response is ~0 (near-uniform predictions), so nothing
 * would exit: the head is scaled by HEAD_SCALE to spread the confidences. Each case
 * asserts that it exercises early exits and a later token going deeper than an earlier
 * one's exit (so that the filled-in K/V entries are read), and that no decision was within
 * float32 reach of flipping (|confidence - threshold| and the argmax's logit gap > 1e-4),
 * so a difference is a real one.
 */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../lib/core/backend';
import { RunRng } from '../../lib/core/rng';
import { decodeBatch, decodeEarlyExit, EarlyExitLM, type ConfidenceMeasure, type EarlyExitTrace } from '../../lib/nn/early-exit';
import { Agreement, checkGradientsAndAdamStep, encode, encodeVariables, once, oursAdamStep, runTwin, seededTokens, twinTest, type Encoded } from './harness';

const CFG = { vocab: 17, width: 16, depth: 4, heads: 2, ffnHidden: 24 };
const LR = 0.05;
const TOL = 1e-5;
const HEAD_SCALE = 8;
const MAX_NEW = 10;
const DECODES: { measure: ConfidenceMeasure; threshold: number; decay: boolean }[] = [
  { measure: 'softmax', threshold: 0.4, decay: false },
  { measure: 'softmax', threshold: 0.9, decay: true },
  { measure: 'softmax', threshold: 0.95, decay: false },
  { measure: 'state', threshold: 0.7, decay: false },
  { measure: 'state', threshold: 0.75, decay: true },
  { measure: 'classifier', threshold: 0.5, decay: false },
  { measure: 'classifier', threshold: 0.6, decay: true },
];

interface TrainResult {
  loss: Encoded;
  layerLosses: Encoded;
  grads: Record<string, Encoded>;
  after: Record<string, Encoded>;
}
interface ClassifierResult {
  loss: Encoded;
  layerLosses: Encoded;
  positives: number[];
  grads: Record<string, Encoded>;
  after: Record<string, Encoded>;
}
interface DecodeResult {
  tokens: number[];
  exitLayers: number[];
  confidenceMargin: number | null;
  argmaxMargin: number;
}

const setup = once(async () => {
  await selectBackend('cpu');
  const lm = new EarlyExitLM(CFG, new RunRng(11), 'calm');
  lm.head.w.assign(lm.head.w.mul(HEAD_SCALE));
  const params = encodeVariables([...lm.store.variables, ...lm.classifierStore.variables]);
  const prompt = seededTokens(11, 'twin/prompt', 1, 5, CFG.vocab)[0];
  const real: EarlyExitTrace[] = [];
  for (const d of DECODES) real.push(await decodeEarlyExit(lm, prompt, { ...d, maxNewTokens: MAX_NEW }));
  const batched: EarlyExitTrace[] = [];
  for (const d of DECODES) batched.push(...(await decodeBatch(lm, [prompt], { measure: d.measure, thresholds: [d.threshold], decay: d.decay, maxNewTokens: MAX_NEW })));
  const tokens = seededTokens(11, 'twin/tokens', 2, 9, CFG.vocab);
  const inputs = tf.tensor2d(tokens.map((r) => r.slice(0, -1)), undefined, 'int32');
  const targets = tf.tensor2d(tokens.map((r) => r.slice(1)), undefined, 'int32');
  // The classifier on the frozen LM (before the LM's own step below changes it).
  const clsTokens = tf.tensor2d(seededTokens(11, 'twin/classifier-tokens', 4, 12, CFG.vocab), undefined, 'int32');
  const hs = lm.hiddenStates(clsTokens);
  const top = lm.logits(hs[CFG.depth - 1]).argMax(-1);
  const positives = hs.slice(0, -1).map((h) => lm.logits(h).argMax(-1).equal(top).sum().dataSync()[0]);
  const clsStep = oursAdamStep(lm.classifierStore.variables, () => lm.classifierLoss(hs), LR);
  const layerLosses = await lm.layerLosses(inputs, targets);
  const step = oursAdamStep(lm.store.variables, () => lm.loss(inputs, targets), LR);
  const cases = [
    { kind: 'training', config: CFG, params: step.before, inputs: encode(inputs), targets: encode(targets), lr: LR },
    { kind: 'classifier', config: CFG, params, inputs: encode(clsTokens), lr: LR },
    ...DECODES.map((d) => ({ kind: 'decode', config: CFG, params, prompt, maxNewTokens: MAX_NEW, ...d })),
  ];
  const twin = runTwin<TrainResult | ClassifierResult | DecodeResult>('early_exit_twin', cases);
  return {
    step,
    layerLosses,
    real,
    batched,
    cls: { step: clsStep, positives, n: clsTokens.size },
    train: twin.results[0] as TrainResult,
    classifier: twin.results[1] as ClassifierResult,
    decodes: twin.results.slice(2) as DecodeResult[],
  };
});

twinTest('CALM training: per-layer losses through the shared head, their weighted average, every gradient and one Adam step agree with the twin', async (t) => {
  const { step, layerLosses, train } = await setup();
  const a = new Agreement('calm training');
  a.check('per-layer losses', layerLosses, train.layerLosses, TOL);
  a.check('loss', step.loss, train.loss, TOL);
  checkGradientsAndAdamStep(a, step, train, LR, TOL);
  a.report(t);
});

twinTest("CALM early-exit classifier: labels, class-balanced per-layer losses, their average (official loss_fn_meta_cls), gradients and one Adam step agree with the twin", async (t) => {
  const { cls, classifier } = await setup();
  const a = new Agreement('calm exit classifier');
  a.same('positive labels per layer', cls.positives, classifier.positives);
  // The layers must differ in label balance, or no per-layer normalisation could show.
  assert.ok(new Set(cls.positives).size > 1 && cls.positives.every((p) => p > 0 && p < cls.n), `label counts ${cls.positives} of ${cls.n}`);
  a.check('loss', cls.step.loss, classifier.loss, TOL);
  checkGradientsAndAdamStep(a, cls.step, classifier, LR, TOL);
  a.report(t);
});

DECODES.forEach((d, i) => {
  twinTest(`CALM decoding (${d.measure}, threshold ${d.threshold}${d.decay ? ', decayed' : ''}): tokens and exit layers equal the twin's, real and simulated`, async (t) => {
    const s = await setup();
    const twin = s.decodes[i];
    // The case must exercise what it claims to test, far from any decision boundary.
    assert.ok(twin.exitLayers.some((l) => l < CFG.depth), 'no token exited early');
    assert.ok(
      twin.exitLayers.some((l, j) => twin.exitLayers.slice(j + 1).some((later) => later > l)),
      'no later token went deeper than an earlier one: the filled-in K/V entries are never read',
    );
    assert.ok((twin.confidenceMargin ?? Infinity) > 1e-4 && twin.argmaxMargin > 1e-4, `a decision was within float32 reach of flipping (${twin.confidenceMargin}, ${twin.argmaxMargin})`);
    const a = new Agreement(`calm decode ${d.measure}`);
    a.same('tokens (decodeEarlyExit)', s.real[i].tokens, twin.tokens);
    a.same('exit layers (decodeEarlyExit)', s.real[i].exitLayers, twin.exitLayers);
    a.same('tokens (decodeBatch)', s.batched[i].tokens, twin.tokens);
    a.same('exit layers (decodeBatch)', s.batched[i].exitLayers, twin.exitLayers);
    a.report(t);
  });
});
