/**
 * The expert-choice claims, as data. Tolerances were fixed before the first quick run
 * and are not to be tuned to the results (ARCHITECTURE.md §5).
 *
 * The stored copies of the paper stop after the abstract (the step-to-perplexity figure
 * for 8B/64E could not be read here), so the convergence claims cite the abstract's
 * "more than 2x" and are judged at that threshold; the balance and experts-per-token
 * claims follow from the method's definition (abstract + Sec. 3: k = n·c/e) and the
 * flaxformer reference router.
 */
import type { RouterKind } from '../../nn/moe';
import type { Claim, NotRun } from '../../harness/contract';
import { firstCrossing } from '../../harness/metrics';
import type { ExpertChoiceResult, LoadCurve, RouterRun } from './experiment';

const PAPER = 'arXiv:2202.09368';

function runOf(r: ExpertChoiceResult, router: RouterKind): RouterRun | NotRun {
  return r.runs[router] ?? { notRun: `router ${router} was not trained (config routers)`, precondition: 'config' };
}

function meanLoad(r: ExpertChoiceResult, router: RouterKind, key: keyof Omit<LoadCurve, 'step'>): number | NotRun {
  const run = runOf(r, router);
  if ('notRun' in run) return run;
  const v = run.load[key];
  if (v.length === 0) return { notRun: 'no training steps recorded', precondition: 'config' };
  return v.reduce((a, b) => a + b, 0) / v.length;
}

/**
 * Convergence speed-up of expert choice over a baseline: (steps the baseline took to
 * reach its final validation loss) / (steps expert choice took to reach that loss).
 * If expert choice never reaches it, the value is the upper bound steps/steps = 1.
 */
export function convergenceSpeedup(r: ExpertChoiceResult, baseline: RouterKind): number | NotRun {
  const ec = runOf(r, 'expert-choice');
  const base = runOf(r, baseline);
  if ('notRun' in ec) return ec;
  if ('notRun' in base) return base;
  const target = base.valLoss[base.valLoss.length - 1];
  const baseSteps = base.valSteps[base.valSteps.length - 1];
  const ecSteps = firstCrossing(ec.valSteps, ec.valLoss, target);
  return ecSteps === null ? 1 : baseSteps / Math.max(ecSteps, 1);
}

function histFraction(r: ExpertChoiceResult, pick: (h: number[]) => number): number | NotRun {
  const run = runOf(r, 'expert-choice');
  if ('notRun' in run) return run;
  return pick(run.expertsPerToken);
}

export const claims: Claim<ExpertChoiceResult>[] = [
  {
    id: 'ec-load-perfectly-balanced',
    kind: 'check',
    falsifiedBy: 'cannot fail: expert choice assigns exactly k tokens per expert by construction (a check of the implementation)',
    paper: PAPER,
    source: 'abstract ("each expert can have a fixed bucket size"); Sec. 3 (k = n·c/e)',
    statement: 'Expert choice gives every expert exactly k tokens at every step: max/mean load over experts is 1',
    paperValue: '1.0 (by construction)',
    measures: 'expert choice: max/mean over experts of tokens processed, mean over MoE layers and training steps',
    metric: (r) => meanLoad(r, 'expert-choice', 'processedMaxOverMean'),
    expect: { atLeast: 0.999999, atMost: 1.000001 },
    toleranceWhy: 'An exact property of the top-k over tokens (each expert fills its C slots with distinct tokens); only float rounding of the mean may move it.',
    profiles: ['quick', 'full'],
  },
  {
    id: 'ec-top2-drops-tokens',
    kind: 'paper',
    falsifiedBy: 'top-2 dropping fewer than 1% of its assignments',
    paper: PAPER,
    source: 'abstract ("a poor expert routing strategy (e.g. one resulting in load imbalance)"); Sec. 2 (token choice drops tokens over capacity)',
    statement: 'Token-choice top-2 at the same buffer size (capacity = 2·n/e) drops a measurable share of its assignments; expert choice drops none',
    paperValue: 'qualitative: token choice leaves tokens unprocessed under imbalance (no number in the abstract)',
    measures: 'top-2: fraction of requested (token, expert) assignments dropped for capacity, mean over MoE layers and training steps',
    metric: (r) => meanLoad(r, 'top2', 'dropped'),
    expect: { atLeast: 0.01 },
    toleranceWhy:
      'With capacity equal to the mean demand, any per-group imbalance overflows; even a perfectly uniform router has binomial counts (std ~ sqrt(2n/e) of a mean 2n/e per group), which alone drops a few percent, so 1% is a conservative floor that the load-balancing loss cannot remove.',
    profiles: ['quick', 'full'],
  },
  {
    id: 'ec-top1-load-imbalance',
    kind: 'paper',
    falsifiedBy: "top-1's most-requested expert within 10% of the mean load",
    paper: PAPER,
    source: 'abstract (load imbalance of top-k token choice)',
    statement: 'Token-choice top-1 (Switch, with its load-balancing loss) asks some experts for clearly more tokens than the mean',
    paperValue: 'qualitative: imbalance under token choice (expert choice: exactly 1.0)',
    measures: 'top-1: max/mean over experts of the tokens that chose each expert (before capacity), mean over MoE layers and training steps',
    metric: (r) => meanLoad(r, 'top1', 'demandMaxOverMean'),
    expect: { atLeast: 1.1 },
    toleranceWhy:
      'Part of token-choice imbalance is sampling: for 1024 tokens over 8 experts the busiest of 8 binomial counts is ~1.1x the mean even for a uniform router; 1.1 is the smallest max/mean we call imbalanced, and expert choice sits at exactly 1.0.',
    profiles: ['quick', 'full'],
  },
  {
    id: 'ec-some-tokens-get-no-expert',
    kind: 'paper',
    falsifiedBy: 'fewer than 1% of tokens processed by no expert',
    paper: PAPER,
    source: 'abstract ("each token can be routed to a variable number of experts"); flaxformer ExpertsChooseMaskedRouter ("processed by multiple experts or none at all")',
    statement: 'Under expert choice some tokens are processed by no expert',
    paperValue: '> 0 (variable number of experts per token, including none)',
    measures: 'expert choice: fraction of tokens with 0 experts, MoE layers and the last 25% of training steps',
    metric: (r) => histFraction(r, (h) => h[0]),
    expect: { atLeast: 0.01 },
    toleranceWhy: 'If experts picked tokens independently at c = 2 the count per token would be ~Poisson(2), P(0) ~ 13%; router correlation only widens the spread, so 1% is a safe floor that still proves "some get none".',
    profiles: ['quick', 'full'],
  },
  {
    id: 'ec-some-tokens-get-many-experts',
    kind: 'paper',
    falsifiedBy: 'fewer than 5% of tokens processed by three or more experts',
    paper: PAPER,
    source: 'abstract ("each token can be routed to a variable number of experts")',
    statement: 'Under expert choice some tokens are processed by 3 or more experts (more than the 2 a top-2 token gets)',
    paperValue: '> 0 (heterogeneous: important tokens get more experts)',
    measures: 'expert choice: fraction of tokens with >= 3 experts, MoE layers and the last 25% of training steps',
    metric: (r) => histFraction(r, (h) => h.slice(3).reduce((a, b) => a + b, 0)),
    expect: { atLeast: 0.05 },
    toleranceWhy: 'A Poisson(2) count puts ~32% of tokens at >= 3 experts; 5% leaves room for a router that concentrates on fewer tokens while still showing a variable number.',
    profiles: ['quick', 'full'],
  },
  {
    id: 'ec-converges-2x-faster-than-top2',
    kind: 'paper',
    falsifiedBy: "expert choice needing more than half of top-2's steps to reach its final validation loss",
    paper: PAPER,
    source: 'abstract ("improves training convergence time by more than 2x" vs Switch top-1 and GShard top-2 at the same computational resources)',
    statement: 'Expert choice (c = 2) reaches the final validation loss of top-2 in at most half the steps',
    paperValue: '> 2x (abstract; 8B/64E step-to-perplexity figure not readable here)',
    measures: 'steps top-2 trained / steps expert choice needed to reach top-2\'s final validation loss (linear interpolation between evaluations; 1 if never reached)',
    metric: (r) => convergenceSpeedup(r, 'top2'),
    expect: { atLeast: 2.0 },
    toleranceWhy: 'The paper states a lower bound ("more than 2x"), so we judge at that bound with no slack; our models are ~10^4x smaller and train for hundreds of steps, which is why the full profile is where magnitude counts.',
    profiles: ['quick', 'full'],
    expected: {
      quick: { verdict: 'not-reproduced', reason: 'Measured 1.01 at quick (seed 1; final val loss EC 2.2945 vs top-2 2.2997 nats/byte after 150 steps): EC is ahead only by a hair. With 2 MoE layers of 8 experts (each the size of the dense GLU) on a byte LM for 150 steps, routing quality moves the loss little; the paper\'s 2x is at 100M–8B parameters, 64 experts and long training. With prefix-safe routing EC is not ahead at all (2.3026).', hypothesis: true },
    },
  },
  {
    id: 'ec-converges-2x-faster-than-top1',
    kind: 'paper',
    falsifiedBy: "expert choice needing more than half of top-1's steps to reach its final validation loss",
    paper: PAPER,
    source: 'abstract ("improves training convergence time by more than 2x")',
    statement: 'Expert choice (c = 2) reaches the final validation loss of top-1 in at most half the steps',
    paperValue: '> 2x (abstract)',
    measures: 'steps top-1 trained / steps expert choice needed to reach top-1\'s final validation loss (1 if never reached)',
    metric: (r) => convergenceSpeedup(r, 'top1'),
    expect: { atLeast: 2.0 },
    toleranceWhy: 'Same lower bound as the paper states; note top-1 also does half of the expert compute of EC-CF2 in our equal-buffer setting, as in the paper\'s comparison.',
    profiles: ['quick', 'full'],
    expected: {
      quick: { verdict: 'not-reproduced', reason: 'Measured 1.03 at quick (seed 1; final val loss EC 2.2945 vs top-1 2.3078 nats/byte after 150 steps): the right direction, far from 2x at this scale (see ec-converges-2x-faster-than-top2).', hypothesis: true },
    },
  },
];
