/**
 * The distillation losses (lib/nn/distill-losses.ts) against their PyTorch twin
 * (distill_twin.py: torch's kl_div, cross_entropy with probability targets, MSELoss), each
 * behind a linear student scores = x W so that there is a parameter to differentiate and
 * step: the student's scores, the loss, dLoss/dW and one tf.train.adam step.
 * Losses: Hinton's T^2-scaled KL at T = 1 and T = 4 (the experiments' distillation loss),
 * soft-label cross-entropy against softTargets(teacher, T), Margin-MSE, and embedding
 * matching plain and relative to the teacher's norm (as the ranking experiment uses it).
 * Tolerance 1e-5 relative: sums over <= 8 float32 terms per row.
 */
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../lib/core/backend';
import { RunRng } from '../../lib/core/rng';
import { embeddingMatchLoss, klDistillation, marginMse, softLabelCrossEntropy, softTargets } from '../../lib/nn/distill-losses';
import { ParamStore } from '../../lib/nn/layers';
import { Agreement, checkGradientsAndAdamStep, encode, once, oursAdamStep, runTwin, seededNormal, twinTest, type Encoded } from './harness';

const LR = 0.05;
const TOL = 1e-5;

type LossCase = { loss: string; temperature?: number; fn: (student: tf.Tensor, teacher: tf.Tensor) => tf.Scalar };
const CASES: LossCase[] = [
  { loss: 'kl', temperature: 1, fn: (s, t) => klDistillation(s, t, 1) },
  { loss: 'kl', temperature: 4, fn: (s, t) => klDistillation(s, t, 4) },
  { loss: 'soft-ce', temperature: 2, fn: (s, t) => softLabelCrossEntropy(s, softTargets(t, 2)) },
  { loss: 'margin-mse', fn: (s, t) => marginMse(s as tf.Tensor2D, t as tf.Tensor2D) },
  { loss: 'embed', fn: (s, t) => embeddingMatchLoss(s, t) },
  { loss: 'embed-relative', fn: (s, t) => embeddingMatchLoss(s, t, { relative: true }) },
];

interface Result {
  student: Encoded;
  loss: Encoded;
  grads: Record<string, Encoded>;
  after: Record<string, Encoded>;
}

function build(c: LossCase, i: number) {
  const store = new ParamStore(new RunRng(12), `distill${i}`);
  const { w } = store.dense('student', 5, 6);
  const x = seededNormal(12, 'twin/x', [4, 5]);
  const teacher = seededNormal(12, 'twin/teacher', [4, 6], 2);
  const student = tf.matMul(x, w);
  const step = oursAdamStep(store.variables, () => c.fn(tf.matMul(x, w), teacher), LR);
  return { student, step, twinCase: { loss: c.loss, temperature: c.temperature, x: encode(x), teacher: encode(teacher), params: step.before, lr: LR } };
}

const setup = once(async () => {
  await selectBackend('cpu');
  const ours = CASES.map(build);
  const twin = runTwin<Result>('distill_twin', ours.map((o) => o.twinCase));
  return ours.map((o, i) => ({ ours: o, twin: twin.results[i] }));
});

CASES.forEach((c, i) => {
  const label = `${c.loss}${c.temperature !== undefined ? ` T=${c.temperature}` : ''}`;
  twinTest(`distillation loss ${label}: loss, gradient and one Adam step of a linear student agree with the PyTorch twin`, async (t) => {
    const { ours, twin } = (await setup())[i];
    const a = new Agreement(`distill ${label}`);
    a.check('student scores', ours.student, twin.student, TOL);
    a.check('loss', ours.step.loss, twin.loss, TOL);
    checkGradientsAndAdamStep(a, ours.step, twin, LR, TOL);
    a.report(t);
  });
});
