/**
 * Experiment 2 — the teacher–student capacity gap and supervision complexity
 * (Harutyunyan et al., ICLR 2023), with fidelity (Stanton et al., NeurIPS 2021).
 *
 * For each teacher width w (MLP, two hidden layers of w units), the teacher trains on
 * labels for E epochs and its logits on the training images are saved after every epoch
 * (a "checkpoint": we keep its predictions, which is all distillation needs). One narrow
 * student architecture then trains for the same E epochs in three ways:
 *   labels   hard labels only (independent of the teacher; trained once);
 *   offline  soft targets of the FINAL teacher (Hinton KD at temperature T);
 *   online   at epoch e, soft targets of the teacher's checkpoint after epoch e+1, so the
 *            targets grow in complexity along the teacher's own trajectory.
 * Every student starts from the same initial weights and sees the same batch order
 * (paired comparison). Reported: test accuracy and fidelity = top-1 agreement with the
 * final teacher on the test images.
 */
import * as tf from '@tensorflow/tfjs';
import type { Stream } from '../../core/rng';
import { imageBatches, takeImages, type ImageDataset, type ImageSet } from '../../data/images';
import { argmaxRows, klDistillation, top1Agreement } from '../../nn/distill-losses';
import { MlpClassifier, predictLogits } from '../../nn/image-classifier';
import { crossEntropy, trainStep } from '../../nn/training';
import type { RunContext } from '../../harness/contract';
import type { CapacityConfig } from './config';

export const STUDENT_RECIPES = ['labels', 'offline', 'online'] as const;
export type StudentRecipe = (typeof STUDENT_RECIPES)[number];

export interface StudentOutcome {
  accuracy: number;
  /** Top-1 agreement with the final teacher on the test set. */
  fidelity: number;
}

export interface TeacherOutcome {
  width: number;
  params: number;
  accuracy: number;
  students: Record<StudentRecipe, StudentOutcome>;
}

export interface CapacityResult {
  dataset: string;
  trainExamples: number;
  testExamples: number;
  studentParams: number;
  /** One entry per teacher width, smallest first. */
  teachers: TeacherOutcome[];
}

function accuracy(pred: Int32Array, labels: Uint8Array): number {
  let ok = 0;
  for (let i = 0; i < pred.length; i++) if (pred[i] === labels[i]) ok++;
  return ok / pred.length;
}

/**
 * E epochs of Adam on `model`. `targets(epoch)` gives soft-target logits [N, classes] for
 * that epoch, or null for hard labels. `afterEpoch` sees the model after each epoch.
 */
async function trainClassifier(
  model: MlpClassifier,
  set: ImageSet,
  cfg: CapacityConfig,
  stream: Stream,
  targets: (epoch: number) => Float32Array | null,
  afterEpoch: (epoch: number) => Promise<void>,
): Promise<void> {
  const opt = tf.train.adam(cfg.learningRate);
  const c = model.classes;
  const d = model.inputDim;
  for (let epoch = 0; epoch < cfg.epochs; epoch++) {
    const soft = targets(epoch);
    for (const batch of imageBatches(set, cfg.batchSize, stream)) {
      const n = batch.y.length;
      let t: Float32Array | null = null;
      if (soft) {
        t = new Float32Array(n * c);
        for (let i = 0; i < n; i++) t.set(soft.subarray(batch.indices[i] * c, (batch.indices[i] + 1) * c), i * c);
      }
      tf.tidy(() => {
        const x = tf.tensor2d(batch.x, [n, d]);
        const lossFn = t
          ? () => klDistillation(model.logits(x), tf.tensor2d(t as Float32Array, [n, c]), cfg.temperature)
          : () => crossEntropy(model.logits(x), tf.tensor1d(batch.y, 'int32'));
        trainStep(opt, model.variables, lossFn);
      });
    }
    await afterEpoch(epoch);
  }
  opt.dispose();
}

export async function runCapacity(cfg: CapacityConfig, data: ImageDataset, ctx: RunContext): Promise<CapacityResult> {
  const train = takeImages(data.train, Math.min(cfg.trainExamples, data.train.count));
  const test = takeImages(data.test, Math.min(cfg.testExamples, data.test.count));
  const inputDim = train.height * train.width;
  const classes = data.classes;
  const progress = ctx.progress('capacity runs', 1 + cfg.teacherWidths.length * 3);
  const newStudent = () => new MlpClassifier(inputDim, [cfg.studentWidth], classes, ctx.rng, 'student');
  const evalStudent = async (m: MlpClassifier, teacherPred: Int32Array | null): Promise<{ accuracy: number; pred: Int32Array; fidelity: number }> => {
    const pred = argmaxRows(await predictLogits(m, test.images, test.count), classes);
    return { accuracy: accuracy(pred, test.labels), pred, fidelity: teacherPred ? top1Agreement(pred, teacherPred) : NaN };
  };
  const noop = async () => {};

  // Students on labels: independent of the teacher, trained once; fidelity is filled in per teacher.
  const labelStudent = newStudent();
  const studentParams = labelStudent.paramCount();
  await trainClassifier(labelStudent, train, cfg, ctx.rng.stream('capacity/student-order'), () => null, noop);
  const labelEval = await evalStudent(labelStudent, null);
  labelStudent.dispose();
  progress.tick();
  ctx.log(`capacity: ${data.name}, ${train.count} train / ${test.count} test; student (${studentParams} params) on labels: ${(labelEval.accuracy * 100).toFixed(2)}%`);

  const teachers: TeacherOutcome[] = [];
  for (const width of cfg.teacherWidths) {
    const teacher = new MlpClassifier(inputDim, [width, width], classes, ctx.rng, `teacher-${width}`);
    const checkpoints: Float32Array[] = [];
    await trainClassifier(teacher, train, cfg, ctx.rng.stream(`capacity/teacher-order/${width}`), () => null, async () => {
      checkpoints.push(await predictLogits(teacher, train.images, train.count));
    });
    const teacherPred = argmaxRows(await predictLogits(teacher, test.images, test.count), classes);
    const teacherAcc = accuracy(teacherPred, test.labels);
    const params = teacher.paramCount();
    teacher.dispose();
    progress.tick();

    const final = checkpoints[checkpoints.length - 1];
    const outcomes = {} as Record<StudentRecipe, StudentOutcome>;
    outcomes.labels = { accuracy: labelEval.accuracy, fidelity: top1Agreement(labelEval.pred, teacherPred) };
    for (const recipe of ['offline', 'online'] as const) {
      const student = newStudent();
      await trainClassifier(student, train, cfg, ctx.rng.stream('capacity/student-order'), (epoch) => (recipe === 'offline' ? final : checkpoints[epoch]), noop);
      const ev = await evalStudent(student, teacherPred);
      student.dispose();
      outcomes[recipe] = { accuracy: ev.accuracy, fidelity: ev.fidelity };
      progress.tick();
    }
    teachers.push({ width, params, accuracy: teacherAcc, students: outcomes });
    ctx.metric({ phase: 'capacity', teacherWidth: width, teacherParams: params, teacherAccuracy: teacherAcc, students: outcomes });
    ctx.log(
      `capacity: teacher ${width} (${params} params) ${(teacherAcc * 100).toFixed(2)}%; student acc/fidelity ` +
        STUDENT_RECIPES.map((r) => `${r} ${(outcomes[r].accuracy * 100).toFixed(2)}/${(outcomes[r].fidelity * 100).toFixed(2)}`).join(', '),
    );
  }
  return { dataset: data.name, trainExamples: train.count, testExamples: test.count, studentParams, teachers };
}
