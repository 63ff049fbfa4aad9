/**
 * One seed of the LocoProp comparison: a pure function of (config, ctx.seed) except the
 * measured seconds. Every method starts from the same initial weights (same store name,
 * same seed) and sees the same batches (a fresh 'batches' stream per run); the training
 * loss over the training subset is evaluated before training, every `evalEvery` steps and
 * after the last step. Training seconds exclude evaluation and end with a device read.
 *
 * Two measurements besides the losses:
 * - memory: the last training step of every run is profiled (tf.profile): the bytes the
 *   method holds between steps (parameters, optimiser state, LocoProp's per-layer states,
 *   Shampoo's statistics and roots) plus the peak of what it allocates during the step
 *   (activations, gradients, local targets, temporaries);
 * - time: inside ctx.exclusive, fresh BP-RMSprop and LocoProp-M trainers take steps on one
 *   fixed batch, interleaved (BP, M, BP, M, ...) over `timingReps` repetitions after a
 *   warm-up; the per-repetition ratios are what the timing claim is judged on.
 * The clock never makes a decision.
 *
 * Then both first-order methods are trained again, at every rate of the grid, for
 * `firstOrderLongFactor` x the steps (the schedule stretched to the longer run, same
 * initial weights, the batch sequence continued): whether first order flattens, and how
 * many steps it needs to reach LocoProp-M's final loss. BP steps are ~9x cheaper than
 * LocoProp's, so giving every method that many steps would not fit the budget; giving the
 * baseline more steps, and its best method and rate for the target, only makes the
 * wall-time claim harder to pass. Both methods, not the one that ended lowest at equal
 * steps: a short run can pick a method that stalls on a plateau later (BP-Adam at quick).
 */
import * as tf from '@tensorflow/tfjs';
import { loadMnist, imageBatches, takeImages, type ImageSet } from '../../data/images';
import { Autoencoder, backpropStep, datasetLoss, imagesToTensor, type GradientApplier } from '../../nn/autoencoder';
import { LocoPropTrainer } from '../../nn/locoprop';
import { Adam, RmsProp, warmupLinearDecay, type RmsPropOptions } from '../../nn/optimizers';
import { Shampoo } from '../../nn/shampoo';
import type { RunContext } from '../../harness/contract';
import { METHOD_IDS, type LocopropConfig, type MethodId } from './config';
import { configCheck } from '../../harness/validate';

/** A JSON-safe number: a diverged loss is stored as null. */
export type Num = number | null;

/** Bytes a method holds during one training step, measured with tf.profile on its run's last step. */
export interface StepMemory {
  /** Held between steps: parameters + optimiser state (+ Shampoo statistics and roots). */
  persistentBytes: number;
  /** Peak of what the step allocates on top of that (activations, gradients, targets, temporaries). */
  stepPeakBytes: number;
}

export interface MethodRun {
  method: MethodId;
  /** Multiplier on the method's base learning rate. */
  lrMultiplier: number;
  /** Mean training loss over the training subset at each of the result's `evalSteps` (nats per image, summed over pixels); null once diverged. */
  loss: Num[];
  /** Cumulative training seconds (evaluation excluded) at each of `evalSteps`. */
  trainSeconds: number[];
  steps: number;
  paramFloats: number;
  /** Optimiser state floats at the end (momenta, second moments, Shampoo statistics and roots). */
  stateFloats: number;
  /** Measured on the last step; null when the run diverged before it. */
  memory: StepMemory | null;
  /** Shampoo only: the steps after which the roots were recomputed, and the last refresh's Newton iterations and residual max|M - I|. */
  refreshedAfter?: number[];
  rootIterations?: number;
  rootError?: number;
}

/** The interleaved step timing (one fixed batch, fresh trainers). */
export interface StepTiming {
  batchSize: number;
  stepsPerRep: number;
  warmupSteps: number;
  /** Seconds per step of each method in each timed repetition. */
  bpRmspropSeconds: number[];
  locopropMSeconds: number[];
  /** Per repetition: LocoProp-M seconds / BP-RMSprop seconds. */
  ratios: number[];
}

export interface LocopropResult {
  /** Steps after which the training loss was evaluated (0 = before training). */
  evalSteps: number[];
  trainImages: number;
  batchSize: number;
  stepsPerEpoch: number;
  totalSteps: number;
  runs: MethodRun[];
  /** Index into `runs` of the run that represents each method (lowest final loss over its learning-rate grid). */
  selected: Partial<Record<MethodId, number>>;
  /** null when BP-RMSprop or LocoProp-M is not among the methods. */
  timing: StepTiming | null;
  /** The long first-order runs; null when firstOrderLongFactor is 0 or no BP method is among the methods. */
  long: LongFirstOrder | null;
}

/** The first-order methods, trained `factor` x the steps at every grid rate. */
export interface LongFirstOrder {
  factor: number;
  totalSteps: number;
  evalSteps: number[];
  /** Per first-order method among config.methods (METHOD_IDS order), one per grid multiplier in grid order. */
  runs: MethodRun[];
}

export function validateConfig(c: LocopropConfig): void {
  configCheck('locoprop', c)
    .integers(['trainImages', 'batchSize', 'epochs', 'evalEvery', 'localIterations', 'shampooBlockSize', 'shampooUpdateEvery', 'shampooFirstRefresh', 'shampooRootIterations', 'timingStepsPerRep'])
    .integers(['timingReps'], { min: 5 })
    .integers(['timingWarmup', 'firstOrderLongFactor'], { min: 0 })
    .integers(['longEvalEvery'])
    .integers(['trainImages'], { max: 60000 })
    .require(c.batchSize <= c.trainImages, 'batchSize', `at most trainImages=${c.trainImages}`)
    .oneOf('hidden', ['tanh', 'relu'])
    .list('sizes', { min: 1 }, { integer: true })
    .require(c.sizes.length >= 3 && c.sizes[0] === 784 && c.sizes[c.sizes.length - 1] === 784, 'sizes', 'at least three layer sizes, starting and ending with 784')
    .oneOf('methods', METHOD_IDS)
    .list('lrMultipliers', { above: 0 })
    .numbers(['learningRate', 'adamLearningRate', 'epsilon', 'activationStep', 'shampooRidge'])
    .numbers(['oneMinusBeta1', 'oneMinusBeta2'], { above: 0, max: 1 })
    .numbers(['warmupFraction'], { min: 0, below: 1 })
    .numbers(['innerDecayFloor'], { min: 0, max: 1 })
    .numbers(['rmsInitialMeanSquare', 'proximity'], { min: 0 })
    .numbers(['shampooStatisticsDecay'], { min: 0, below: 1 });
}

function rmsOptions(c: LocopropConfig): RmsPropOptions {
  return { decay: 1 - c.oneMinusBeta2, momentum: 1 - c.oneMinusBeta1, epsilon: c.epsilon, initialMeanSquare: c.rmsInitialMeanSquare };
}

/** The per-step work of one method, behind one interface. */
interface MethodTrainer {
  /** One step; `last` says it is the run's last (Shampoo skips a refresh nothing would use). */
  step(x: tf.Tensor2D, lr: number, last: boolean): Promise<tf.Scalar>;
  stateFloats(): number;
  dispose(): void;
  shampoo?: Shampoo;
  refreshedAfter?: number[];
}

function makeTrainer(method: MethodId, model: Autoencoder, c: LocopropConfig): MethodTrainer {
  const bp = (opt: GradientApplier & { stateFloats(): number; dispose(): void }): MethodTrainer => ({
    step: async (x, lr) => backpropStep(model, opt, x, lr),
    stateFloats: () => opt.stateFloats(),
    dispose: () => opt.dispose(),
  });
  switch (method) {
    case 'bp-rmsprop':
      return bp(new RmsProp(rmsOptions(c)));
    case 'bp-adam':
      return bp(new Adam({ beta1: 1 - c.oneMinusBeta1, beta2: 1 - c.oneMinusBeta2, epsilon: c.epsilon }));
    case 'locoprop-s':
    case 'locoprop-m': {
      const t = new LocoPropTrainer(
        model,
        { variant: method === 'locoprop-s' ? 'S' : 'M', activationStep: c.activationStep, localIterations: c.localIterations, innerDecayFloor: c.innerDecayFloor, proximity: c.proximity },
        () => new RmsProp(rmsOptions(c)),
      );
      return { step: async (x, lr) => t.step(x, lr), stateFloats: () => t.stateFloats(), dispose: () => t.dispose() };
    }
    case 'shampoo': {
      const s = new Shampoo({
        rmsprop: rmsOptions(c),
        blockSize: c.shampooBlockSize,
        updateEvery: c.shampooUpdateEvery,
        firstRefresh: c.shampooFirstRefresh,
        statisticsDecay: c.shampooStatisticsDecay,
        root: { ridge: c.shampooRidge, maxIterations: c.shampooRootIterations },
      });
      const refreshedAfter: number[] = [];
      let steps = 0;
      return {
        step: async (x, lr, last) => {
          const loss = backpropStep(model, s, x, lr);
          steps++;
          if (!last && s.refreshDue()) {
            await s.refresh();
            refreshedAfter.push(steps);
          }
          return loss;
        },
        stateFloats: () => s.stateFloats(),
        dispose: () => s.dispose(),
        shampoo: s,
        refreshedAfter,
      };
    }
  }
}

function baseLr(method: MethodId, c: LocopropConfig): number {
  return method === 'bp-adam' ? c.adamLearningRate : c.learningRate;
}

/** The steps after which the loss is evaluated: 0, every `evalEvery`, and the last. */
export function evaluationSteps(totalSteps: number, evalEvery: number): number[] {
  const steps = [0];
  for (let s = evalEvery; s < totalSteps; s += evalEvery) steps.push(s);
  if (totalSteps > 0) steps.push(totalSteps);
  return steps;
}

/**
 * Runs `step` under tf.profile: what the method holds before the step (engine bytes now,
 * less `baseBytes` and the batch) and the peak the step adds on top.
 */
async function profiledStep(step: () => Promise<tf.Scalar>, baseBytes: number, batchBytes: number): Promise<{ loss: tf.Scalar; memory: StepMemory }> {
  const flag = 'CHECK_COMPUTATION_FOR_ERRORS';
  const check = tf.env().getBool(flag);
  // The profiler would read every kernel output back to check it: not what a step does.
  tf.env().set(flag, false);
  try {
    const before = tf.memory().numBytes;
    let loss: tf.Scalar | undefined;
    const info = await tf.profile(async () => {
      loss = await step();
    });
    const peak = info.kernels.length > 0 ? info.peakBytes : before;
    return { loss: loss as tf.Scalar, memory: { persistentBytes: before - baseBytes - batchBytes, stepPeakBytes: Math.max(0, peak - before) } };
  } finally {
    tf.env().set(flag, check);
  }
}

async function trainOne(method: MethodId, lrMultiplier: number, set: ImageSet, c: LocopropConfig, ctx: RunContext, tick: () => void, phase: 'grid' | 'long' = 'grid'): Promise<MethodRun> {
  const baseBytes = tf.memory().numBytes;
  const model = new Autoencoder(c.sizes, c.hidden as 'tanh' | 'relu', ctx.rng, 'autoencoder');
  const trainer = makeTrainer(method, model, c);
  const pixels = set.height * set.width;
  const stepsPerEpoch = Math.floor(set.count / c.batchSize);
  const totalSteps = stepsPerEpoch * c.epochs;
  const evalSteps = evaluationSteps(totalSteps, c.evalEvery);
  const warmup = Math.max(1, Math.round(c.warmupFraction * totalSteps));
  const lr0 = baseLr(method, c) * lrMultiplier;
  const batches = ctx.rng.stream('batches'); // the same batch sequence for every method
  const loss: Num[] = [await datasetLoss(model, set.images, pixels, set.count)];
  const trainSeconds: number[] = [0];
  let memory: StepMemory | null = null;
  let seconds = 0;
  let step = 0;
  let diverged = false;
  try {
    for (let e = 0; e < c.epochs && !diverged; e++) {
      let t0 = performance.now();
      let last: tf.Scalar | undefined;
      for (const batch of imageBatches(set, c.batchSize, batches, { dropLast: true })) {
        const x = tf.tensor2d(batch.x, [c.batchSize, pixels]);
        const lr = lr0 * warmupLinearDecay(step, totalSteps, warmup);
        const isLast = step === totalSteps - 1;
        let l: tf.Scalar;
        if (isLast) {
          const p = await profiledStep(() => trainer.step(x, lr, true), baseBytes, x.size * 4 + (last ? 4 : 0));
          l = p.loss;
          memory = p.memory;
        } else l = await trainer.step(x, lr, false);
        x.dispose();
        last?.dispose();
        last = l;
        step++;
        tick();
        if (evalSteps.includes(step)) {
          await last.data(); // waits for the device: the segment's work is done
          seconds += (performance.now() - t0) / 1000;
          const v = await datasetLoss(model, set.images, pixels, set.count);
          loss.push(Number.isFinite(v) ? v : null);
          trainSeconds.push(seconds);
          ctx.metric({ method, lrMultiplier, phase, step, trainLoss: loss[loss.length - 1], trainSeconds: seconds });
          t0 = performance.now();
          if (!Number.isFinite(v)) {
            // Diverged: the remaining evaluations stay null (a loss-based decision, not a clock one).
            diverged = true;
            break;
          }
        }
      }
      if (last) {
        await last.data();
        last.dispose();
      }
    }
    if (diverged) {
      while (loss.length < evalSteps.length) {
        loss.push(null);
        trainSeconds.push(seconds);
      }
      for (; step < totalSteps; step++) tick();
    }
    const run: MethodRun = { method, lrMultiplier, loss, trainSeconds, steps: step, paramFloats: model.paramCount(), stateFloats: trainer.stateFloats(), memory };
    if (trainer.shampoo) {
      run.refreshedAfter = [...(trainer.refreshedAfter ?? [])];
      run.rootIterations = trainer.shampoo.lastRootIterations;
      run.rootError = trainer.shampoo.lastRootError;
    }
    return run;
  } finally {
    trainer.dispose();
    model.dispose();
  }
}

/**
 * Seconds per step of BP-RMSprop and LocoProp-M, interleaved: in each repetition BP takes
 * `timingStepsPerRep` steps, then LocoProp-M does; each segment ends with a device read.
 * Fresh models (their own names, so both can live at once) and one fixed batch: the
 * numbers measure the cost of a step, not the state of training.
 */
async function timeSteps(set: ImageSet, c: LocopropConfig, ctx: RunContext): Promise<StepTiming> {
  const pixels = set.height * set.width;
  const x = imagesToTensor(set.images, pixels, 0, c.batchSize);
  const models = { bp: new Autoencoder(c.sizes, c.hidden as 'tanh' | 'relu', ctx.rng, 'timing-bp'), m: new Autoencoder(c.sizes, c.hidden as 'tanh' | 'relu', ctx.rng, 'timing-m') };
  const trainers = { bp: makeTrainer('bp-rmsprop', models.bp, c), m: makeTrainer('locoprop-m', models.m, c) };
  const lr = c.learningRate;
  const segment = async (which: 'bp' | 'm'): Promise<number> => {
    const t0 = performance.now();
    let last: tf.Scalar | undefined;
    for (let i = 0; i < c.timingStepsPerRep; i++) {
      const l = await trainers[which].step(x, lr, false);
      last?.dispose();
      last = l;
    }
    await last!.data();
    last!.dispose();
    return (performance.now() - t0) / 1000 / c.timingStepsPerRep;
  };
  const progress = ctx.progress('step timing (exclusive)', c.timingWarmup + c.timingReps);
  try {
    for (let w = 0; w < c.timingWarmup; w++) {
      await segment('bp');
      await segment('m');
      progress.tick(1, 'warm-up');
    }
    const bp: number[] = [];
    const m: number[] = [];
    for (let r = 0; r < c.timingReps; r++) {
      bp.push(await segment('bp'));
      m.push(await segment('m'));
      progress.tick(1, `rep ${r + 1}: ratio ${(m[r] / bp[r]).toFixed(2)}`);
    }
    return { batchSize: c.batchSize, stepsPerRep: c.timingStepsPerRep, warmupSteps: c.timingWarmup, bpRmspropSeconds: bp, locopropMSeconds: m, ratios: m.map((v, i) => v / bp[i]) };
  } finally {
    x.dispose();
    trainers.bp.dispose();
    trainers.m.dispose();
    models.bp.dispose();
    models.m.dispose();
  }
}

function finalLoss(r: MethodRun): number {
  const v = r.loss[r.loss.length - 1];
  return v === null ? Infinity : v;
}

export async function run(config: LocopropConfig, ctx: RunContext): Promise<LocopropResult> {
  const mnist = loadMnist();
  const set = takeImages(mnist.train, config.trainImages);
  const methods = config.methods as MethodId[];
  const plan: { method: MethodId; mult: number }[] = [];
  for (const m of METHOD_IDS) {
    if (!methods.includes(m)) continue;
    for (const mult of config.lrMultipliers) plan.push({ method: m, mult });
  }
  const stepsPerEpoch = Math.floor(set.count / config.batchSize);
  const totalSteps = stepsPerEpoch * config.epochs;
  const progress = ctx.progress('locoprop training', plan.length * totalSteps);
  const runs: MethodRun[] = [];
  for (const { method, mult } of plan) {
    ctx.log(`locoprop: ${method} (lr x${mult}), ${config.epochs} epochs of ${stepsPerEpoch} steps`);
    const r = await trainOne(method, mult, set, config, ctx, () => progress.tick(1, method));
    runs.push(r);
  }
  const selected: Partial<Record<MethodId, number>> = {};
  runs.forEach((r, i) => {
    const cur = selected[r.method];
    if (cur === undefined || finalLoss(r) < finalLoss(runs[cur])) selected[r.method] = i;
  });
  const timing = methods.includes('bp-rmsprop') && methods.includes('locoprop-m') ? await ctx.exclusive('locoprop step timing', () => timeSteps(set, config, ctx)) : null;
  const long = await trainFirstOrderLong(set, config, ctx);
  return { evalSteps: evaluationSteps(totalSteps, config.evalEvery), trainImages: set.count, batchSize: config.batchSize, stepsPerEpoch, totalSteps, runs, selected, timing, long };
}

const FIRST_ORDER: MethodId[] = ['bp-rmsprop', 'bp-adam'];

/** Every first-order method among config.methods, at every grid rate, trained factor x the epochs. */
async function trainFirstOrderLong(set: ImageSet, c: LocopropConfig, ctx: RunContext): Promise<LongFirstOrder | null> {
  const methods = FIRST_ORDER.filter((m) => c.methods.includes(m));
  if (c.firstOrderLongFactor === 0 || methods.length === 0) return null;
  const longConfig = { ...c, epochs: c.epochs * c.firstOrderLongFactor, evalEvery: c.longEvalEvery };
  const totalSteps = Math.floor(set.count / c.batchSize) * longConfig.epochs;
  const progress = ctx.progress(`first order, ${c.firstOrderLongFactor}x the steps`, methods.length * c.lrMultipliers.length * totalSteps);
  const runs: MethodRun[] = [];
  for (const method of methods) {
    for (const mult of c.lrMultipliers) {
      ctx.log(`locoprop: ${method} (lr x${mult}) long run, ${longConfig.epochs} epochs`);
      runs.push(await trainOne(method, mult, set, longConfig, ctx, () => progress.tick(1, `${method} x${mult}`), 'long'));
    }
  }
  return { factor: c.firstOrderLongFactor, totalSteps, evalSteps: evaluationSteps(totalSteps, c.longEvalEvery), runs };
}
