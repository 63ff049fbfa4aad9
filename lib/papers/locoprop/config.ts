/**
 * LocoProp: Enhancing BackProp via Local Loss Optimization.
 *
 * Paper: Amid, Anil, Warmuth, AISTATS 2022 (PMLR 151:9626-9642), https://arxiv.org/abs/2106.06199
 * Reference code: google-research/google-research, locoprop/locoprop_training.ipynb
 * (TF1; defaults: batch 1000, tanh, learning_rate 1e-5, activation_learning_rate 10,
 * 10 local iterations, RMSprop with momentum 1-0.001 and decay 1-0.1, epsilon 1e-5, inner
 * learning rate max(1 - k/10, 0.25), 100 epochs with 5 of linear warm-up then linear decay).
 *
 * The deep MNIST autoencoder 784-1000-500-250-30-250-500-1000-784 (tanh, linear into
 * the 30-d code, sigmoid cross-entropy summed over pixels) trained by back-propagation
 * with RMSprop and Adam, by LocoProp-S and LocoProp-M, and by Shampoo (blocked,
 * grafted to RMSprop, inverse 4th roots by coupled Newton iteration). All methods of one
 * seed start from the same weights and see the same batches. Every method's learning rate
 * is chosen by one rule: its base rate times each multiplier of `lrMultipliers`, the run
 * with the lowest final training loss represents it.
 *
 * Cost (wasm, one thread on the shared 2-core machine at load ~7, 2026-11-30): at batch 100
 * one back-propagation step ~0.3 s, one LocoProp step with 10 local iterations ~2 s, one
 * Shampoo step ~0.7 s and a preconditioner refresh (blocks of 128) ~36 s; at batch 1000
 * ~1.3 s, ~11.5 s and ~2.2 s. The idle machine is ~3x faster.
 * - smoke: a 200-image subset, batch 100, reduced widths — seconds (tests, notebook CI).
 * - quick: the real architecture on a 1,000-image training subset, batch 100, 3 epochs
 *   (30 steps per method), one learning rate per method (the grid has one point), one
 *   Shampoo refresh (after step 10), then both first-order methods for 10x the steps
 *   (300), 3 seeds. Not long enough for BP's loss to flatten: the checks
 *   locoprop-bp-flattened and locoprop-bp-long-flattened measure that.
 * - full: quick's settings on 2,000 images for 7 epochs (140 steps per method and learning
 *   rate), the 3-point learning-rate grid [0.1, 0.3, 1] for every method, a Shampoo refresh
 *   every 25 steps, then both first-order methods for 10x the steps (1,400) at every grid
 *   rate, 3 seeds — sized for under 60 min wall with --jobs 2 here
 *   (results/reference/full/locoprop/run.json);
 * - paper: all 60,000 training images, batch 1000, the reference's 100 epochs (6,000 steps)
 *   and optimiser settings, a 3-point learning-rate grid for EVERY method, 3 seeds — sized
 *   for one GPU via webgpu (not measured here: no GPU was lent to this task).
 *
 * Run:  npm run reproduce -- --only locoprop --profile quick
 * Override, e.g.: npm run reproduce -- --only locoprop --profile quick --set epochs=3 --set localIterations=5
 */
import type { ProfileName } from '../../harness/contract';

export const METHOD_IDS = ['bp-rmsprop', 'bp-adam', 'locoprop-s', 'locoprop-m', 'shampoo'] as const;
export type MethodId = (typeof METHOD_IDS)[number];

export interface LocopropConfig {
  /** Layer widths, input first (the paper: 784-1000-500-250-30-250-500-1000-784). */
  sizes: number[];
  /** Hidden transfer function (reference flag `activation`: TANH). */
  hidden: string;
  /** Training images used: the first N of MNIST's 60k training set. */
  trainImages: number;
  batchSize: number;
  epochs: number;
  /** Which methods to run (subset of METHOD_IDS). */
  methods: string[];
  /** RMSprop learning rate (BP-RMSprop, the LocoProp inner optimisers, Shampoo's grafting). */
  learningRate: number;
  /** Adam learning rate. */
  adamLearningRate: number;
  /**
   * Learning-rate multipliers tried for EVERY method (one rule for all): each method runs at
   * its base rate times each multiplier and is represented by the run with the lowest final
   * training loss.
   */
  lrMultipliers: number[];
  /** Evaluate the training loss over the whole training subset every this many steps (and after the last). */
  evalEvery: number;
  /** RMSprop momentum = Adam beta1 = 1 - oneMinusBeta1 (reference 0.001). */
  oneMinusBeta1: number;
  /** RMSprop decay = Adam beta2 = 1 - oneMinusBeta2 (reference 0.1). */
  oneMinusBeta2: number;
  epsilon: number;
  /**
   * RMSprop's starting mean square: 1 in TF1 (the reference), 0 in Keras/PyTorch/tfjs. With 1,
   * the first tens of steps are SGD with a tiny rate until the average forgets its start.
   */
  rmsInitialMeanSquare: number;
  /** Fraction of all steps spent in linear warm-up (reference: 5 of 100 epochs). */
  warmupFraction: number;
  /** gamma: local target = output - gamma * dL/d(pre-activation) (reference 10). */
  activationStep: number;
  /** Local iterations per batch (reference 10). */
  localIterations: number;
  /** Inner learning-rate floor: max(1 - k/K, floor) (reference 0.25). */
  innerDecayFloor: number;
  /** lambda of the proximity term (lambda/2)||W - W_t||^2 in each local objective. */
  proximity: number;
  /** Shampoo: blocks of at most this size per dimension. */
  shampooBlockSize: number;
  /** Shampoo: recompute the inverse roots every k steps ... */
  shampooUpdateEvery: number;
  /** ... from this step on (before it, Shampoo is its RMSprop graft); no refresh after the last step. */
  shampooFirstRefresh: number;
  /** Shampoo: EMA decay of the Kronecker statistics. */
  shampooStatisticsDecay: number;
  /** Shampoo: relative ridge added before the inverse root. */
  shampooRidge: number;
  /** Shampoo: cap on coupled-Newton iterations. */
  shampooRootIterations: number;
  /** Timed repetitions (after warm-up) of the interleaved step timing, BP-RMSprop then LocoProp-M in each (at least 5). */
  timingReps: number;
  /** Steps of each method per timed repetition (on the first batch of the training subset). */
  timingStepsPerRep: number;
  /** Untimed warm-up steps of each method before the timed repetitions. */
  timingWarmup: number;
  /**
   * Both first-order methods are trained again for this many times the steps, at every grid
   * rate (0: not at all): does first order flatten, and how many steps does it need to reach
   * LocoProp-M's final loss (the wall-time claim).
   */
  firstOrderLongFactor: number;
  /** The long first-order runs evaluate the training loss every this many steps (and after the last). */
  longEvalEvery: number;
}

/**
 * The reference's optimiser settings were tuned for 6,000 steps with momentum 0.999. The
 * quick and smoke runs are far shorter than that momentum's memory, so they shorten the
 * momentum and keep the effective step lr / (1 - beta1) of the reference
 * (1e-5 / 0.001 = 0.01); Adam's step (no 1/(1 - beta1) gain) is set to the same 0.01.
 */
const base: LocopropConfig = {
  sizes: [784, 1000, 500, 250, 30, 250, 500, 1000, 784],
  hidden: 'tanh',
  trainImages: 60000,
  batchSize: 1000,
  epochs: 100,
  methods: [...METHOD_IDS],
  learningRate: 1e-5,
  adamLearningRate: 1e-2,
  lrMultipliers: [1],
  evalEvery: 300,
  oneMinusBeta1: 0.001,
  oneMinusBeta2: 0.1,
  epsilon: 1e-5,
  rmsInitialMeanSquare: 1,
  warmupFraction: 0.05,
  activationStep: 10,
  localIterations: 10,
  innerDecayFloor: 0.25,
  proximity: 1,
  shampooBlockSize: 256,
  shampooUpdateEvery: 20,
  shampooFirstRefresh: 20,
  shampooStatisticsDecay: 0.99,
  shampooRidge: 1e-4,
  shampooRootIterations: 40,
  timingReps: 10,
  timingStepsPerRep: 1,
  timingWarmup: 1,
  firstOrderLongFactor: 10,
  longEvalEvery: 3000,
};

const quick: LocopropConfig = {
  ...base,
  trainImages: 1000,
  batchSize: 100,
  epochs: 3,
  evalEvery: 5,
  learningRate: 1e-3,
  oneMinusBeta1: 0.1,
  // 30 steps: TF1's mean-square start of 1 would leave BP-RMSprop (and Shampoo, grafted
  // to it) at SGD with a ~1e-3 rate for most of the run; the reference's 6,000 steps wash it out.
  rmsInitialMeanSquare: 0,
  // One preconditioner refresh, after step 10 (statistics of 10 batches): a refresh costs
  // ~36 s of CPU at load 7, more than the 30 BP steps of a method together.
  shampooBlockSize: 128,
  shampooFirstRefresh: 10,
  shampooUpdateEvery: 30,
  timingReps: 6,
  longEvalEvery: 10,
};

export const PROFILES: Record<ProfileName, LocopropConfig> = {
  smoke: {
    ...base,
    sizes: [784, 64, 32, 8, 32, 64, 784],
    trainImages: 200,
    batchSize: 100,
    epochs: 2,
    evalEvery: 1,
    learningRate: 1e-3,
    oneMinusBeta1: 0.1,
    rmsInitialMeanSquare: 0,
    localIterations: 3,
    shampooBlockSize: 32,
    shampooUpdateEvery: 3,
    shampooFirstRefresh: 2,
    timingReps: 5,
    firstOrderLongFactor: 2,
    longEvalEvery: 1,
  },
  quick,
  // Sized for one GPU (webgpu): never run on this CPU; its code path is covered at smoke.
  paper: {
    ...base,
    lrMultipliers: [0.3, 1, 3],
  },
  // The CPU's full: quick's settings on twice the images for 7 epochs (140 steps per method
  // and learning rate), every method on the same 3-point learning-rate grid, a Shampoo
  // refresh every 25 steps, and both first-order methods again for 10x the steps. The
  // grid is [0.1, 0.3, 1]: at the previous full (100 steps, grid [0.3, 1, 3]) its lowest
  // point won for LocoProp-M in every seed and for BP-RMSprop in 2 of 3, and the top point
  // never won, so the grid moved down one point for every method alike.
  full: {
    ...quick,
    trainImages: 2000,
    epochs: 7,
    evalEvery: 10,
    longEvalEvery: 20,
    lrMultipliers: [0.1, 0.3, 1],
    shampooFirstRefresh: 10,
    shampooUpdateEvery: 25,
  },
};

export const DEFAULT_SEEDS: Record<ProfileName, number[]> = {
  smoke: [1],
  quick: [1, 2, 3],
  full: [1, 2, 3],
  paper: [1, 2, 3],
};
