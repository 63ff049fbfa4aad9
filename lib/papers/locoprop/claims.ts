/**
 * The LocoProp claims, as data. Tolerances were fixed before the first smoke/quick run
 * and are not to be tuned to the results (ARCHITECTURE.md §5).
 *
 * Sources: the abstract (arXiv:2106.06199 v2 / AISTATS 2022; v1's abstract is more
 * specific), the paper's deep-autoencoder figure (training loss vs epochs and vs wall
 * time for RMSprop, Adam, LocoProp-S, LocoProp-M and the second-order Shampoo/K-FAC), and
 * the authors' Google Research blog post (2022-07-29) that summarises that figure. The
 * stored copies we could read give no loss value from the figure, so every claim is an
 * ordering (or a ratio against our own baseline), as its `paperValue` says.
 */
import type { Claim, NotRun, Outcome } from '../../harness/contract';
import type { MethodId } from './config';
import type { LocopropResult, LongFirstOrder, MethodRun } from './experiment';
import { firstCrossing, ratio } from '../../harness/metrics';
import { mean } from '../../core/stats';

const PAPER = 'arXiv:2106.06199';
const FIG = 'deep-autoencoder figure (train loss vs epochs / vs time); Google Research blog 2022-07-29';

export function selectedRun(r: LocopropResult, m: MethodId): MethodRun | NotRun {
  const i = r.selected[m];
  if (i === undefined) return { notRun: `method ${m} was not run (config.methods)`, precondition: 'config' };
  return r.runs[i];
}

/** Final training loss of a method's selected run. */
export function finalLoss(r: LocopropResult, m: MethodId): number | NotRun | Outcome {
  const run = selectedRun(r, m);
  if ('notRun' in run) return run;
  const v = run.loss[run.loss.length - 1];
  if (v === null) return { outcome: 'not-reproduced', reason: `${m} diverged (non-finite training loss)` };
  return v;
}

/** Bytes a method holds during a step: what it keeps between steps plus the peak the step adds (measured on its run's last step). */
export function heldBytes(r: LocopropResult, m: MethodId): number | NotRun | Outcome {
  const run = selectedRun(r, m);
  if ('notRun' in run) return run;
  if (!run.memory) return { outcome: 'not-reproduced', reason: `${m} diverged before its last step, where memory is measured` };
  return run.memory.persistentBytes + run.memory.stepPeakBytes;
}

/** The selected run of the best first-order method (lowest final loss of BP-RMSprop, BP-Adam). */
export function bestFirstOrderRun(r: LocopropResult): MethodRun | NotRun | Outcome {
  const a = finalLoss(r, 'bp-rmsprop');
  const b = finalLoss(r, 'bp-adam');
  if (typeof a !== 'number') return a;
  if (typeof b !== 'number') return b;
  return selectedRun(r, a <= b ? 'bp-rmsprop' : 'bp-adam');
}

/** Training loss of a run at the last of `evalSteps` at or before `step`. */
export function lossAtStep(evalSteps: number[], run: MethodRun, step: number): number | null {
  let v: number | null = null;
  evalSteps.forEach((s, i) => {
    if (s <= step) v = run.loss[i];
  });
  return v;
}

/** (L(T/2) - L(T)) / L(T/2) of one run evaluated at `evalSteps` over `totalSteps`. */
function runSecondHalfDrop(evalSteps: number[], totalSteps: number, run: MethodRun): number | Outcome {
  const mid = lossAtStep(evalSteps, run, Math.floor(totalSteps / 2));
  const end = run.loss[run.loss.length - 1];
  if (mid === null || end === null) return { outcome: 'not-reproduced', reason: `${run.method} (lr x${run.lrMultiplier}) diverged` };
  return (mid - end) / mid;
}

/** Relative fall of the best first-order method's training loss over the second half of training: (L(T/2) - L(T)) / L(T/2). */
export function secondHalfDrop(r: LocopropResult): number | NotRun | Outcome {
  const run = bestFirstOrderRun(r);
  if ('notRun' in run || 'outcome' in run) return run;
  return runSecondHalfDrop(r.evalSteps, r.totalSteps, run);
}

function longRuns(r: LocopropResult): LongFirstOrder | NotRun {
  return r.long ?? { notRun: 'the long first-order runs were not made (config.firstOrderLongFactor = 0, or neither BP-RMSprop nor BP-Adam among config.methods)', precondition: 'config' };
}

const lastLoss = (run: MethodRun): number => run.loss[run.loss.length - 1] ?? Infinity;

/** The long first-order run with the lowest final loss (over both methods and the grid). */
export function bestLongRun(long: LongFirstOrder): MethodRun {
  return long.runs.reduce((a, b) => (lastLoss(b) < lastLoss(a) ? b : a));
}

/** The same check as secondHalfDrop, on the best long first-order run. */
export function longSecondHalfDrop(r: LocopropResult): number | NotRun | Outcome {
  const long = longRuns(r);
  if ('notRun' in long) return long;
  return runSecondHalfDrop(long.evalSteps, long.totalSteps, bestLongRun(long));
}

/** Steps at which a run's curve first reaches `target` (interpolated between evaluations; a diverged evaluation never does), or null. */
function stepsToLoss(evalSteps: number[], run: MethodRun, target: number): number | null {
  return firstCrossing(evalSteps, run.loss.map((v) => v ?? NaN), target);
}

/** The wall-time comparison to LocoProp-M's final loss, per timed repetition. */
export interface WallTimeToLoss {
  /** LocoProp-M's final training loss (its selected run). */
  target: number;
  /** Steps LocoProp-M took to first reach it. */
  locopropSteps: number;
  /** Fewest steps any long first-order run took to reach it; null when none did. */
  firstOrderSteps: number | null;
  /**
   * Per timed repetition: (firstOrderSteps x BP-RMSprop s/step) / (locopropSteps x LocoProp-M s/step).
   * When no long run reached the target, a lower bound: firstOrderSteps replaced by the long runs' steps.
   */
  perRep: number[];
  reached: boolean;
}

/**
 * How much less wall time LocoProp-M needs than first order to reach LocoProp-M's final
 * loss: step counts (deterministic) x the interleaved per-step times. The fastest long run
 * over the grid stands for first order (its best rate for this target: generous to BP).
 */
export function wallTimeToLoss(r: LocopropResult): WallTimeToLoss | NotRun | Outcome {
  const long = longRuns(r);
  if ('notRun' in long) return long;
  const m = selectedRun(r, 'locoprop-m');
  if ('notRun' in m) return m;
  if (!r.timing) return { notRun: 'bp-rmsprop or locoprop-m was not run (config.methods)', precondition: 'config' };
  const target = m.loss[m.loss.length - 1];
  if (target === null) return { outcome: 'not-reproduced', reason: 'locoprop-m diverged (non-finite training loss)' };
  const locopropSteps = stepsToLoss(r.evalSteps, m, target) as number;
  const reachedAt = long.runs.map((run) => stepsToLoss(long.evalSteps, run, target)).filter((x): x is number => x !== null);
  const reached = reachedAt.length > 0;
  const firstOrderSteps = reached ? Math.min(...reachedAt) : null;
  const steps = firstOrderSteps ?? long.totalSteps;
  // BP-RMSprop's timed step stands for BP-Adam's as well: the same products, one more moment update.
  const perRep = r.timing.ratios.map((q) => steps / locopropSteps / q);
  return { target, locopropSteps, firstOrderSteps, perRep, reached };
}

/** As a metric: a long run that never reached the target leaves a lower bound, inconclusive unless it already passes. */
function wallTimeValue(r: LocopropResult): WallTimeToLoss | NotRun | Outcome {
  const w = wallTimeToLoss(r);
  if ('notRun' in w || 'outcome' in w) return w;
  const v = mean(w.perRep);
  if (!w.reached && v < WALL_TIME_TOLERANCE) {
    return { outcome: 'inconclusive', reason: `no long first-order run reached LocoProp-M's final loss ${w.target.toFixed(1)} within ${r.long!.totalSteps} steps; LocoProp-M's wall-time advantage is only bounded below by ${v.toFixed(2)}x` };
  }
  return w;
}

const WALL_TIME_TOLERANCE = 1;

/** Lowest final training loss of the two first-order methods. */
export function bestFirstOrder(r: LocopropResult): number | NotRun | Outcome {
  const a = finalLoss(r, 'bp-rmsprop');
  const b = finalLoss(r, 'bp-adam');
  if (typeof a !== 'number') return a;
  if (typeof b !== 'number') return b;
  return Math.min(a, b);
}

/** Fraction of the (best first-order -> Shampoo) loss gap that LocoProp-M closes. */
export function gapClosed(r: LocopropResult): number | NotRun | Outcome {
  const fo = bestFirstOrder(r);
  const sh = finalLoss(r, 'shampoo');
  const m = finalLoss(r, 'locoprop-m');
  if (typeof fo !== 'number') return fo;
  if (typeof sh !== 'number') return sh;
  if (typeof m !== 'number') return m;
  if (!(fo > sh)) return { outcome: 'not-reproduced', reason: `our second-order baseline did not work: Shampoo (${sh.toFixed(2)}) did not end below the best first-order method (${fo.toFixed(2)}), so there is no gap to close (see locoprop-shampoo-beats-first-order)` };
  return (fo - m) / (fo - sh);
}

/** The per-repetition ratios LocoProp-M / BP-RMSprop of the interleaved step timing. */
export function timingRatios(r: LocopropResult): number[] {
  return r.timing ? r.timing.ratios : [];
}

/** Applies where the two back-propagation baselines, LocoProp-M and the others named are all in the run. */
export const claims: Claim<LocopropResult>[] = [
  {
    id: 'locoprop-m-beats-first-order',
    kind: 'paper',
    falsifiedBy: "LocoProp-M ending within 2% of, or above, the best first-order method's training loss",
    paper: PAPER,
    source: `abstract; ${FIG}`,
    statement: 'LocoProp-M ends with a lower training loss than back-propagation with RMSprop and with Adam after the same epochs',
    paperValue: 'LocoProp-M curve below RMSprop and Adam at every epoch (ordering; loss values not readable in stored copies)',
    measures: 'final train loss of LocoProp-M / min(final train loss of BP-RMSprop, BP-Adam), same init, same batches',
    metric: (r) => ratio(finalLoss(r, 'locoprop-m'), bestFirstOrder(r)),
    expect: { atMost: 0.98 },
    toleranceWhy:
      'An ordering claim: we ask for a margin of 2%, larger than the seed-to-seed spread of a final loss ratio between methods that share initial weights and batches, so that a tie does not count as "lower".',
    profiles: ['quick', 'full', 'paper'],
  },
  {
    id: 'locoprop-m-beats-s',
    kind: 'paper',
    falsifiedBy: 'LocoProp-M ending at or above LocoProp-S',
    paper: PAPER,
    source: FIG,
    statement: 'LocoProp-M (matching loss of the transfer function) ends below LocoProp-S (squared loss on pre-activations)',
    paperValue: 'LocoProp-M curve below LocoProp-S (ordering; values not readable)',
    measures: 'final train loss of LocoProp-M / final train loss of LocoProp-S',
    metric: (r) => ratio(finalLoss(r, 'locoprop-m'), finalLoss(r, 'locoprop-s')),
    expect: { atMost: 1.0 },
    toleranceWhy: 'Direction only: the paper shows the ordering, not a size we could read, and both variants share everything but the local loss.',
    profiles: ['quick', 'full', 'paper'],
  },
  {
    id: 'locoprop-m-closes-second-order-gap',
    kind: 'paper',
    falsifiedBy: 'LocoProp-M closing less than half of the gap between first order and Shampoo, or Shampoo not beating first order (no second-order baseline to get close to)',
    paper: PAPER,
    source: `abstract ("reducing the gap between first-order and second-order optimizers"); ${FIG}`,
    statement: 'LocoProp-M gets close to the second-order baseline: it closes at least half of the loss gap between the best first-order method and Shampoo',
    paperValue: 'LocoProp-M close to Shampoo/K-FAC, far below RMSprop/Adam (ordering; values not readable)',
    measures: '(L_first-order - L_LocoProp-M) / (L_first-order - L_Shampoo), final train losses; L_first-order = min(BP-RMSprop, BP-Adam)',
    metric: gapClosed,
    expect: { atLeast: 0.5 },
    toleranceWhy:
      '"Close to second order" read as: more than half of the first-to-second-order gap closed (1 = as good as Shampoo, > 1 = better). When our Shampoo does not end below first order there is no gap: the claim is then not reproduced with that reason (our second-order baseline did not work; locoprop-shampoo-beats-first-order measures it).',
    profiles: ['quick', 'full', 'paper'],
    expected: {
      full: {
        verdict: 'not-reproduced',
        reason:
          "Measured at full (2,000 images, 140 steps per method and learning rate, the grid x{0.1, 0.3, 1} for every method): our second-order baseline did not work: Shampoo ended above the best first-order method in every seed (188.9 vs 183.3 in seed 1; ratios 1.03, 1.05, 1.08, check locoprop-shampoo-beats-first-order), so there is no gap to close, an outcome that decides the claim. LocoProp-M itself ends far below every other method (69-70 vs 169-187).",
        evidence: "results/reference/full/locoprop/claims.json and tables.json (npm run reproduce -- --only locoprop --profile full): locoprop-m-closes-second-order-gap",
      },
      quick: {
        verdict: 'not-reproduced',
        reason:
          'Our second-order baseline did not work at quick: Shampoo ended above the best first-order method in every seed (check locoprop-shampoo-beats-first-order). Until its one preconditioner refresh, after step 10, Shampoo is its RMSprop graft and its curve equals BP-RMSprop\'s; right after the refresh its loss rises in every seed while BP-RMSprop\'s keeps falling (table locoprop-curves, steps 10 and 15). That a preconditioner estimated from 10 batches of 100 is the cause, and that more statistics and refreshes let Shampoo beat first order, was our hypothesis; full\'s 6 refreshes in 140 steps did not (Shampoo 3-8% above first order there), the paper\'s every 20 of 6,000 steps is untested.',
        evidence: 'npm run reproduce -- --only locoprop --profile quick: results/reference/quick/locoprop/claims.json (locoprop-shampoo-beats-first-order) and tables.json (locoprop-curves, locoprop-methods)',
        hypothesis: true,
      },
    },
  },
  {
    id: 'locoprop-m-time-per-epoch',
    kind: 'paper',
    falsifiedBy: 'a LocoProp-M step costing more than 10 first-order (BP-RMSprop) steps',
    paper: PAPER,
    source: `${FIG} (loss vs wall time); abstract ("first-order optimizers only")`,
    statement: 'LocoProp-M costs a small, predictable factor of a first-order step (so of an epoch: both take the same steps per epoch): at most the ratio of the matrix products it performs, plus element-wise work',
    paperValue:
      'LocoProp-M competitive with first-order methods in wall time (figure, right panel; no number readable): its extra cost per epoch is repaid by more progress per epoch. Here only the cost factor per step; locoprop-m-wall-time-to-loss judges the wall time to a loss',
    measures: 'seconds per training step of LocoProp-M / of BP-RMSprop on the same batch, timed interleaved (BP, M, BP, M, ...) inside ctx.exclusive after a warm-up; the interval is over the per-repetition ratios of all seeds',
    metric: (r) => (r.timing ? mean(r.timing.ratios) : { notRun: 'bp-rmsprop or locoprop-m was not run (config.methods)', precondition: 'config' }),
    timing: { reps: timingRatios },
    expect: { atMost: 10 },
    toleranceWhy:
      'Counted before running: BP does 3 matrix products per layer per batch (forward, input gradient, weight gradient); LocoProp-M does 2 (forward, pre-activation gradient) + 2 per local iteration, 22 with K = 10: 7.3x. 10 = that ratio plus 35% for the extra element-wise work of the local iterations; a larger ratio would mean overhead beyond the arithmetic.',
    profiles: ['quick', 'full', 'paper'],
  },
  {
    id: 'locoprop-m-wall-time-to-loss',
    kind: 'paper',
    falsifiedBy: "first-order back-propagation, at its best grid rate and given up to firstOrderLongFactor x the steps, reaching LocoProp-M's final training loss in less wall time than LocoProp-M takes to reach it",
    paper: PAPER,
    source: `${FIG} (right panel: training loss vs wall time)`,
    statement: 'LocoProp-M is competitive with first-order methods in wall time: it reaches its final training loss in no more wall time than the best first-order method needs to reach the same loss',
    paperValue: 'LocoProp-M competitive with RMSprop and Adam in wall time (figure, right panel; ordering, no number readable)',
    measures:
      "per timed repetition: (steps the fastest long first-order run, over the grid, takes to reach LocoProp-M's final loss x BP-RMSprop s/step) / (steps LocoProp-M takes to reach it x LocoProp-M s/step); steps interpolated between evaluations, seconds from the interleaved step timing; a long run that never reaches the loss leaves a lower bound (inconclusive unless it already passes)",
    metric: (r) => {
      const w = wallTimeValue(r);
      return 'perRep' in w ? mean(w.perRep) : w;
    },
    timing: {
      reps: (r) => {
        const w = wallTimeValue(r);
        return 'perRep' in w ? w.perRep : [];
      },
    },
    expect: { atLeast: WALL_TIME_TOLERANCE },
    toleranceWhy:
      'Set before any run computed it: "competitive" read as no slower, 1 = the same wall time to the same loss. Below 1, first order gets there first even though it needs more steps; above 1, LocoProp-M\'s extra cost per step is repaid by its progress per step. The best rate of the grid for this very target stands for first order, which is generous to the baseline.',
    profiles: ['quick', 'full', 'paper'],
    expected: {
      full: {
        verdict: 'not-reproduced',
        reason:
          "Measured at full: LocoProp-M reaches its final training loss (69-70) in 140 steps; BP-RMSprop at rate x0.3, given 1,400 steps, reaches the same loss after 527-535 steps (3.8x the steps), while a LocoProp-M step costs 8.7-9.0x a BP step (interleaved timing). So LocoProp-M needs 2.3x first order's wall time to that loss: 0.43 in every seed (interval [0.428, 0.435]) against the bar of 1. At quick (30 steps) first order did not reach LocoProp-M's loss within its 300 steps and the lower bound 1.17 passed: the wall-time verdict turns once first order leaves the mean-image plateau. On one CPU thread the layers' local iterations run one after another; the paper's accelerator can run them in parallel, which this measurement cannot credit.",
        evidence: "results/reference/full/locoprop/claims.json and tables.json (npm run reproduce -- --only locoprop --profile full): locoprop-m-wall-time-to-loss, tables locoprop-first-order-long and locoprop-step-timing",
      },
    },
  },
  {
    id: 'locoprop-m-first-order-memory',
    kind: 'paper',
    falsifiedBy: 'LocoProp-M holding more than 1.25x the bytes BP-RMSprop holds during a step, as a method with second-order statistics does (our Shampoo: see locoprop-shampoo-memory-above-first-order)',
    paper: PAPER,
    source: 'abstract ("large memory requirement" of second-order methods vs "first-order optimizers only")',
    statement: 'LocoProp-M trains with the memory of a first-order method: during a step it holds about what first-order back-propagation holds, far less than a second-order method',
    paperValue: 'LocoProp keeps per-layer first-order (RMSprop) state only; second-order methods keep Kronecker statistics and their roots (qualitative)',
    measures:
      'bytes held during a training step of LocoProp-M / of BP-RMSprop: what the method keeps between steps (parameters, optimiser state) plus the peak the step allocates on top (activations, gradients, local targets, temporaries), tfjs engine bytes under tf.profile on each run\'s last step',
    metric: (r) => ratio(heldBytes(r, 'locoprop-m'), heldBytes(r, 'bp-rmsprop')),
    expect: { atMost: 1.25 },
    toleranceWhy:
      'Counted before measuring: both keep the parameters, one RMSprop state (2 floats per parameter) and one forward pass; BP also holds every weight gradient at once (one more parameter-sized buffer), LocoProp-M the local targets (one activation-sized buffer per layer) and, one layer at a time, its starting weights and local gradient. Either may come out ahead, by the batch-dependent balance of activations against parameters, but by well under 25%; a method with per-layer curvature statistics (Shampoo: two Kronecker factors and two roots per weight block, about twice the parameters) needs more than 1.25x.',
    profiles: ['quick', 'full', 'paper'],
  },
  {
    id: 'locoprop-shampoo-memory-above-first-order',
    kind: 'check',
    falsifiedBy: 'Shampoo holding less than 1.25x what BP-RMSprop holds during a step: then the memory measure could not tell a second-order method from a first-order one and the claim above could not fail',
    paper: PAPER,
    source: 'abstract ("large memory requirement" of second-order methods)',
    statement: 'The memory measure separates second order from first order: our Shampoo holds more than 1.25x what BP-RMSprop holds during a step',
    paperValue: 'second-order methods need more memory than first-order ones (qualitative)',
    measures: 'bytes held during a training step (as in locoprop-m-first-order-memory) of Shampoo / of BP-RMSprop',
    metric: (r) => ratio(heldBytes(r, 'shampoo'), heldBytes(r, 'bp-rmsprop')),
    expect: { atLeast: 1.25 },
    toleranceWhy: 'The threshold of the LocoProp-M memory claim: a second-order baseline must exceed it for that claim to be able to fail.',
    profiles: ['quick', 'full', 'paper'],
  },
  {
    id: 'locoprop-bp-flattened',
    kind: 'check',
    falsifiedBy: "the best first-order method's training loss still falling by more than 5% over the second half of training: the runs stop before first order has flattened, so the loss orderings compare optimisers mid-descent (issue 19)",
    paper: PAPER,
    source: `${FIG} (the paper trains 100 epochs, until the curves flatten)`,
    statement: "The runs are long enough: the best first-order method's training loss has flattened at its selected learning rate",
    paperValue: 'the figure\'s first-order curves flatten well before the last of 100 epochs',
    measures: '(L(T/2) - L(T)) / L(T/2): relative fall of the training loss of the best first-order method (BP-RMSprop or BP-Adam, lowest final loss) over the second half of its steps',
    metric: secondHalfDrop,
    expect: { atMost: 0.05 },
    toleranceWhy: 'Set before the quick run: a curve that still loses more than 5% over its second half (under a schedule that decays the rate to 0) has not reached its plateau; the loss-ordering claims are only meaningful beyond it.',
    profiles: ['quick', 'full', 'paper'],
    expected: {
      full: {
        verdict: 'inconclusive',
        reason:
          "Measured at full (140 steps): the best first-order curve still falls 5.0%, 11.2% and 10.6% over its second half (interval [0.005, 0.17]); at 100 steps it was 8.5%, 9.1% and 13%. The long runs settle what 3 seeds leave open here: with 10x the steps first order still falls 16-17% over its second half (check locoprop-bp-long-flattened), so the equal-steps orderings compare optimisers mid-descent.",
        evidence: "results/reference/full/locoprop/claims.json and tables.json (npm run reproduce -- --only locoprop --profile full): locoprop-bp-flattened, tables locoprop-curves and locoprop-first-order-long",
      },
      quick: {
        verdict: 'not-reproduced',
        reason:
          'quick trains 30 steps of batch 100, against the paper\'s 100 epochs of 60 steps of 1000: the best first-order method still loses about 11% of its training loss over the second half of the run (mean of 3 seeds), so every loss ordering at quick compares optimisers mid-descent. paper trains the reference\'s 6,000 steps; full trains 140, and first order again for 1,400 (check locoprop-bp-long-flattened).',
        evidence: 'npm run reproduce -- --only locoprop --profile quick: results/reference/quick/locoprop/claims.json (locoprop-bp-flattened) and tables.json (locoprop-curves, locoprop-methods)',
      },
    },
  },
  {
    id: 'locoprop-bp-long-flattened',
    kind: 'check',
    falsifiedBy: "the long first-order run's training loss still falling by more than 5% over the second half of its steps: even firstOrderLongFactor x the steps leave first order mid-descent",
    paper: PAPER,
    source: `${FIG} (the paper trains 100 epochs, until the curves flatten)`,
    statement: "Given firstOrderLongFactor x the steps, first order's training loss flattens (the long run, method and grid rate, that ends lowest)",
    paperValue: "the figure's first-order curves flatten well before the last of 100 epochs",
    measures:
      '(L(T/2) - L(T)) / L(T/2) of the long first-order run (BP-RMSprop or BP-Adam at a grid rate, firstOrderLongFactor x the steps, schedule stretched to them) with the lowest final loss',
    metric: longSecondHalfDrop,
    expect: { atMost: 0.05 },
    toleranceWhy: 'The bar of locoprop-bp-flattened, set before that check first ran.',
    profiles: ['quick', 'full', 'paper'],
    expected: {
      full: {
        verdict: 'not-reproduced',
        reason:
          "Measured at full: given 1,400 steps (10x the equal-steps runs) the first-order run that ends lowest (BP-RMSprop x0.3 in every seed, final loss 51.1-51.9) still loses 17%, 16% and 16% of its loss over its second half (interval [0.15, 0.18]); the first-order curve on this autoencoder has not flattened at 1,400 steps of batch 100 on 2,000 images (the reference trains 6,000 steps of batch 1000 on 60,000).",
        evidence: "results/reference/full/locoprop/claims.json and tables.json (npm run reproduce -- --only locoprop --profile full): locoprop-bp-long-flattened, table locoprop-first-order-long",
      },
      quick: {
        verdict: 'inconclusive',
        reason:
          "Measured at quick (both BP methods for 300 steps at the one grid rate): the run that ends lowest still falls 17% and 15% over its second half in seeds 1 and 3 (BP-RMSprop, 132 and 156 at the end), while in seed 2 both methods stall near the mean-image loss (RMSprop 204.5, Adam 203.4) and Adam's plateau falls 7%; three values this spread leave the interval [-0.01, 0.27] across the 5% bar.",
        evidence: "results/reference/quick/locoprop/claims.json and tables.json (npm run reproduce -- --only locoprop --profile quick): locoprop-bp-long-flattened, table locoprop-first-order-long",
      },
    },
  },
  {
    id: 'locoprop-shampoo-beats-first-order',
    kind: 'check',
    falsifiedBy: 'Shampoo ending within 2% of, or above, the best first-order method: our second-order baseline does not work, and "closes the gap to second order" has no gap to measure',
    paper: PAPER,
    source: `${FIG} (Shampoo / K-FAC below RMSprop and Adam)`,
    statement: 'Our second-order baseline works: Shampoo ends with a lower training loss than the best first-order method',
    paperValue: 'second-order curves far below RMSprop and Adam (ordering)',
    measures: 'final train loss of Shampoo / min(final train loss of BP-RMSprop, BP-Adam)',
    metric: (r) => ratio(finalLoss(r, 'shampoo'), bestFirstOrder(r)),
    expect: { atMost: 0.98 },
    toleranceWhy: 'The margin of locoprop-m-beats-first-order: a tie is not "lower".',
    profiles: ['quick', 'full', 'paper'],
    expected: {
      full: {
        verdict: 'not-reproduced',
        reason:
          "Measured at full (140 steps, 6 root refreshes, the same grid as every method): Shampoo ends 3%, 5% and 8% above the best first-order method (interval [0.995, 1.11]); its best rate is the grid's lowest (x0.1) in every seed. Why, as measured in table locoprop-curves and metrics.jsonl: over these 140 steps every back-propagated method is still leaving the mean-image plateau (loss ~225 -> 170-190) while LocoProp-M reaches ~70; Shampoo follows its RMSprop graft up to its first refresh (step 10) and sits 1-6% above BP-RMSprop at the same rate after each refresh. Whether Shampoo separates once first order leaves the plateau (BP-RMSprop needs ~500 steps to reach 70) is not measured: Shampoo for 1,400 steps on the grid would cost ~36 min of CPU per seed in root refreshes alone.",
        evidence: "results/reference/full/locoprop/claims.json and tables.json (npm run reproduce -- --only locoprop --profile full): locoprop-shampoo-beats-first-order, table locoprop-methods",
      },
      quick: {
        verdict: 'inconclusive',
        reason:
          'Shampoo ends above the best first-order method in all three seeds (final-loss ratios about 1.2, 1.3 and 3.4; in seed 3 its loss spikes at the last evaluation), so the mean is far above 0.98 but three ratios this spread leave the interval across it. Measured with it: Shampoo\'s loss rises right after its one preconditioner refresh (step 10) in every seed (table locoprop-curves).',
        evidence: 'npm run reproduce -- --only locoprop --profile quick: results/reference/quick/locoprop/claims.json (locoprop-shampoo-beats-first-order) and tables.json (locoprop-curves, locoprop-methods)',
      },
    },
  },
];
