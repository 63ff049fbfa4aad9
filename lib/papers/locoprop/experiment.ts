/**
 * One seed of the LocoProp comparison: a pure function of (config, ctx.seed) except the
 * measured seconds. Every method starts from the same initial weights (same store name,
 * same seed) and sees the same batches (a fresh 'batches' stream per run); the training
 * loss over the training subset is evaluated before training and after every epoch.
 * Wall time per epoch counts training only (evaluation excluded) and ends with a device
 * read, so GPU backends are timed honestly. The clock never makes a decision.
 */
import * as tf from '@tensorflow/tfjs';
import { loadMnist, imageBatches, takeImages, type ImageSet } from '../../data/images';
import { Autoencoder, backpropStep, datasetLoss, type GradientApplier } from '../../nn/autoencoder';
import { LocoPropTrainer } from '../../nn/locoprop';
import { Adam, RmsProp, warmupLinearDecay, type RmsPropOptions } from '../../nn/optimizers';
import { Shampoo } from '../../nn/shampoo';
import type { RunContext } from '../../harness/contract';
import { METHOD_IDS, type LocopropConfig, type MethodId } from './config';
import { configCheck } from '../../harness/validate';

/** A JSON-safe number: a diverged loss is stored as null. */
export type Num = number | null;

export interface MethodRun {
  method: MethodId;
  /** Multiplier on the method's base learning rate. */
  lrMultiplier: number;
  /** Mean training loss over the training subset after e epochs, e = 0..epochs (nats per image, summed over pixels). */
  loss: Num[];
  /** Training seconds of each epoch (evaluation excluded). */
  epochSeconds: number[];
  steps: number;
  paramFloats: number;
  /** Optimiser state floats at the end (momenta, second moments, Shampoo statistics and roots). */
  stateFloats: number;
  /** Shampoo only: coupled-Newton iterations of the last preconditioner refresh, and its residual max|M - I|. */
  rootIterations?: number;
  rootError?: number;
}

export interface LocopropResult {
  epochs: number[];
  trainImages: number;
  stepsPerEpoch: number;
  runs: MethodRun[];
  /** Index into `runs` of the run that represents each method (lowest final loss over its learning-rate grid). */
  selected: Partial<Record<MethodId, number>>;
}

export function validateConfig(c: LocopropConfig): void {
  configCheck('locoprop', c)
    .integers(['trainImages', 'batchSize', 'epochs', 'localIterations', 'shampooBlockSize', 'shampooUpdateEvery', 'shampooRootIterations'])
    .integers(['trainImages'], { max: 60000 })
    .require(c.batchSize <= c.trainImages, 'batchSize', `at most trainImages=${c.trainImages}`)
    .oneOf('hidden', ['tanh', 'relu'])
    .list('sizes', { min: 1 }, { integer: true })
    .require(c.sizes.length >= 3 && c.sizes[0] === 784 && c.sizes[c.sizes.length - 1] === 784, 'sizes', 'at least three layer sizes, starting and ending with 784')
    .oneOf('methods', METHOD_IDS)
    .list('bpLrMultipliers', { above: 0 })
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
  step(x: tf.Tensor2D, lr: number): Promise<tf.Scalar>;
  stateFloats(): number;
  dispose(): void;
  rootStats?(): { iterations: number; error: number };
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
        statisticsDecay: c.shampooStatisticsDecay,
        root: { ridge: c.shampooRidge, maxIterations: c.shampooRootIterations },
      });
      return {
        step: async (x, lr) => {
          const loss = backpropStep(model, s, x, lr);
          await s.refreshIfDue();
          return loss;
        },
        stateFloats: () => s.stateFloats(),
        dispose: () => s.dispose(),
        rootStats: () => ({ iterations: s.lastRootIterations, error: s.lastRootError }),
      };
    }
  }
}

function baseLr(method: MethodId, c: LocopropConfig): number {
  return method === 'bp-adam' ? c.adamLearningRate : c.learningRate;
}

async function trainOne(method: MethodId, lrMultiplier: number, set: ImageSet, c: LocopropConfig, ctx: RunContext, tick: () => void): Promise<MethodRun> {
  const model = new Autoencoder(c.sizes, c.hidden as 'tanh' | 'relu', ctx.rng, 'autoencoder');
  const trainer = makeTrainer(method, model, c);
  const pixels = set.height * set.width;
  const stepsPerEpoch = Math.floor(set.count / c.batchSize);
  const totalSteps = stepsPerEpoch * c.epochs;
  const warmup = Math.max(1, Math.round(c.warmupFraction * totalSteps));
  const lr0 = baseLr(method, c) * lrMultiplier;
  const batches = ctx.rng.stream('batches'); // the same batch sequence for every method
  const loss: Num[] = [await datasetLoss(model, set.images, pixels, set.count)];
  const epochSeconds: number[] = [];
  let step = 0;
  try {
    for (let e = 0; e < c.epochs; e++) {
      const t0 = performance.now();
      let last: tf.Scalar | undefined;
      for (const batch of imageBatches(set, c.batchSize, batches, { dropLast: true })) {
        const x = tf.tensor2d(batch.x, [c.batchSize, pixels]);
        const l = await trainer.step(x, lr0 * warmupLinearDecay(step, totalSteps, warmup));
        x.dispose();
        last?.dispose();
        last = l;
        step++;
        tick();
      }
      if (last) {
        await last.data(); // waits for the device: the epoch's work is done
        last.dispose();
      }
      epochSeconds.push((performance.now() - t0) / 1000);
      const v = await datasetLoss(model, set.images, pixels, set.count);
      loss.push(Number.isFinite(v) ? v : null);
      ctx.metric({ method, lrMultiplier, epoch: e + 1, trainLoss: loss[loss.length - 1], epochSeconds: epochSeconds[e] });
      if (!Number.isFinite(v)) {
        // Diverged: the remaining epochs stay null (a loss-based decision, not a clock one).
        for (let r = e + 1; r < c.epochs; r++) {
          loss.push(null);
          epochSeconds.push(epochSeconds[e]);
          for (let s = 0; s < stepsPerEpoch; s++) tick();
        }
        break;
      }
    }
    const run: MethodRun = { method, lrMultiplier, loss, epochSeconds, steps: step, paramFloats: model.paramCount(), stateFloats: trainer.stateFloats() };
    const roots = trainer.rootStats?.();
    if (roots) {
      run.rootIterations = roots.iterations;
      run.rootError = roots.error;
    }
    return run;
  } finally {
    trainer.dispose();
    model.dispose();
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
    const grid = m === 'bp-rmsprop' || m === 'bp-adam' ? config.bpLrMultipliers : [1];
    for (const mult of grid) plan.push({ method: m, mult });
  }
  const stepsPerEpoch = Math.floor(set.count / config.batchSize);
  const progress = ctx.progress('locoprop', plan.length * stepsPerEpoch * config.epochs);
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
  return { epochs: Array.from({ length: config.epochs + 1 }, (_, e) => e), trainImages: set.count, stepsPerEpoch, runs, selected };
}
