/**
 * The expert-choice claims, as data. Tolerances are not tuned to the results
 * (ARCHITECTURE.md §5); every change and whether results had been seen is in
 * claims.lock.json.
 *
 * The stored copies of the paper stop after the abstract (the step-to-perplexity figure
 * for 8B/64E could not be read here), so the convergence claims cite the abstract's
 * "more than 2x" and are judged at that threshold. The token-choice load claims are
 * judged against uniform random routing of the same tokens (result.uniformNull); EC's
 * balance and experts-per-token properties follow from the method's definition
 * (abstract + Sec. 3: k = n·c/e) and are checks.
 */
import type { RouterKind } from '../../nn/moe';
import type { Claim, MetricValue, NotRun } from '../../harness/contract';
import { firstCrossing, ratio } from '../../harness/metrics';
import type { ExpertChoiceResult, LoadCurve, RouterRun, TokenChoiceNull } from './experiment';

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
  return speedupAt(ec, base, base.valLoss.length - 1) ?? 1;
}

/**
 * The speed-up after the baseline's i-th evaluation: (its step) / (steps expert choice
 * needed to reach its validation loss there); null when expert choice never reaches it.
 */
export function speedupAt(ec: RouterRun, base: RouterRun, i: number): number | null {
  const ecSteps = firstCrossing(ec.valSteps, ec.valLoss, base.valLoss[i]);
  return ecSteps === null ? null : base.valSteps[i] / Math.max(ecSteps, 1);
}

/** The speed-up as a function of training length: at every evaluation of the baseline. */
export function speedupCurve(ec: RouterRun, base: RouterRun): { step: number; speedup: number | null }[] {
  return base.valSteps.map((step, i) => ({ step, speedup: speedupAt(ec, base, i) }));
}

/**
 * A learned token-choice router's mean (over training steps) of a per-step load statistic,
 * over the 95th percentile of the same per-step statistic under uniform random routing of
 * the same tokens (ExpertChoiceResult.uniformNull).
 */
function overUniformNull(r: ExpertChoiceResult, router: 'top1' | 'top2', key: 'demandMaxOverMean' | 'dropped'): MetricValue {
  const nullStats: TokenChoiceNull = r.uniformNull[router];
  return ratio(meanLoad(r, router, key), nullStats[key].p95);
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
    profiles: ['quick', 'full', 'paper'],
  },
  {
    id: 'ec-top2-drops-tokens',
    kind: 'paper',
    falsifiedBy:
      'learned top-2 dropping, on average over training, no more assignments than uniform random top-2 routing of the same tokens drops in 95% of its steps (ratio below 1)',
    paper: PAPER,
    source: 'abstract ("a poor expert routing strategy (e.g. one resulting in load imbalance)"); Sec. 2 (token choice drops tokens over capacity)',
    statement: 'Learned token-choice top-2 at the same buffer size (capacity = 2·n/e) drops more of its assignments than routing the same tokens uniformly at random would',
    paperValue: 'qualitative: token choice leaves tokens unprocessed under load imbalance (no number in the abstract)',
    measures:
      'top-2: fraction of requested (token, expert) assignments dropped for capacity, mean over MoE layers and training steps, / the 95th percentile over simulated steps of the same per-step fraction under uniform random top-2 routing (same tokens per step, groups, experts, capacity and MoE layers; result.uniformNull)',
    metric: (r) => overUniformNull(r, 'top2', 'dropped'),
    expect: { atLeast: 1.0 },
    toleranceWhy:
      'Uniform routing already drops assignments at capacity = mean demand (binomial counts per group overflow), so the earlier bar of 1% was met by a router that ignores its tokens (issue 19). The bar is now that null: the learned mean over training must exceed what uniform routing exceeds in only 5% of single steps, a conservative comparison (the null\'s own mean over steps sits below its per-step 95th percentile).',
    profiles: ['quick', 'full', 'paper'],
  },
  {
    id: 'ec-top1-load-imbalance',
    kind: 'paper',
    falsifiedBy:
      "learned top-1's busiest-expert load (max/mean, before capacity), on average over training, no higher than what uniform random top-1 routing of the same tokens reaches in 95% of its steps (ratio below 1)",
    paper: PAPER,
    source: 'abstract (load imbalance of top-k token choice)',
    statement: 'Token-choice top-1 (Switch, with its load-balancing loss) asks its busiest expert for more tokens than routing the same tokens uniformly at random would',
    paperValue: 'qualitative: imbalance under token choice (expert choice: exactly 1.0)',
    measures:
      'top-1: max/mean over experts of the tokens that chose each expert (before capacity), mean over MoE layers and training steps, / the 95th percentile over simulated steps of the same per-step statistic under uniform random top-1 routing (result.uniformNull)',
    metric: (r) => overUniformNull(r, 'top1', 'demandMaxOverMean'),
    expect: { atLeast: 1.0 },
    toleranceWhy:
      'For a few hundred tokens over 8 experts the busiest of the multinomial counts is above the mean even for a uniform router, so the earlier fixed bar of 1.1 was met by a router that ignores its tokens (issue 19). The bar is now that null, as for ec-top2-drops-tokens: the learned mean over training must exceed the uniform router\'s per-step 95th percentile.',
    profiles: ['quick', 'full', 'paper'],
  },
  {
    id: 'ec-some-tokens-get-no-expert',
    kind: 'check',
    falsifiedBy:
      'a sanity bound, not a result: expert choice with a router that ignores its tokens gives a token no expert with probability (1 - C/G)^E (result.uniformNull.expertChoiceHistogram), far above the bar; it fails only if the implementation gave every token a fixed number of experts',
    paper: PAPER,
    source: 'abstract ("each token can be routed to a variable number of experts"); flaxformer ExpertsChooseMaskedRouter ("processed by multiple experts or none at all")',
    statement: 'Under expert choice some tokens are processed by no expert',
    paperValue: '> 0 (variable number of experts per token, including none)',
    measures: 'expert choice: fraction of tokens with 0 experts, MoE layers and the last 25% of training steps',
    metric: (r) => histFraction(r, (h) => h[0]),
    expect: { atLeast: 0.01 },
    toleranceWhy:
      'The paper states a capability of the method (a variable number of experts, including none), not a measured effect: uniform routing meets the 1% bar (exactly Binomial(E, C/G) experts per token), so this is a check of the mechanism, shown apart and not counted.',
    profiles: ['quick', 'full', 'paper'],
    expected: {
      full: {
        verdict: 'not-reproduced',
        reason:
          "Measured at full (1,600 steps): in the last quarter of training EC's learned routing leaves 0.00%, 0.00% and 0.10% of tokens without an expert (uniform routing: 10%), far below the 1% bar; at 600 steps it was 0.41%, 0.03% and 0.03%, at quick's 150 steps 1.2%. The longer the router trains, the more completely it covers every token at our scale.",
        evidence: "results/reference/full/expert-choice/claims.json and tables.json (npm run reproduce -- --only expert-choice --profile full): ec-some-tokens-get-no-expert",
      },
      quick: {
        verdict: 'inconclusive',
        reason:
          "The learned router leaves almost every token with at least one expert: the share with none sits at the 1% bar (one seed above it, two below; the 3-seed interval straddles it), about a tenth of what uniform routing gives (table ec-uniform-null). The bar was set against a Poisson(2) reference before any run and is kept, not moved after seeing the number; the mechanism itself (tokens with 0 or many experts) is also covered by test/nn/moe.test.ts.",
        evidence: 'npm run reproduce -- --only expert-choice --profile quick: results/reference/quick/expert-choice/claims.json (this claim, per seed), tables.json (table ec-uniform-null)',
      },
    },
  },
  {
    id: 'ec-some-tokens-get-many-experts',
    kind: 'check',
    falsifiedBy:
      'a sanity bound, not a result: expert choice with a router that ignores its tokens gives a token three or more experts with the Binomial(E, C/G) tail (result.uniformNull.expertChoiceHistogram), far above the bar; it fails only if the implementation capped tokens at two experts',
    paper: PAPER,
    source: 'abstract ("each token can be routed to a variable number of experts")',
    statement: 'Under expert choice some tokens are processed by 3 or more experts (more than the 2 a top-2 token gets)',
    paperValue: '> 0 (heterogeneous: important tokens get more experts)',
    measures: 'expert choice: fraction of tokens with >= 3 experts, MoE layers and the last 25% of training steps',
    metric: (r) => histFraction(r, (h) => h.slice(3).reduce((a, b) => a + b, 0)),
    expect: { atLeast: 0.05 },
    toleranceWhy:
      'As ec-some-tokens-get-no-expert: the paper states that a token can get more experts than top-2 gives, a capability of the method; uniform routing meets the 5% bar, so this is a check of the mechanism, shown apart and not counted.',
    profiles: ['quick', 'full', 'paper'],
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
    profiles: ['quick', 'full', 'paper'],
    expected: {
      full: {
        verdict: 'not-reproduced',
        reason:
          "Measured at full (1,600 steps, 8 experts): EC reaches top-2's final validation loss 1.09x sooner (per seed 1.06, 1.19, 1.02, interval [0.87, 1.31]), against 1.08 at 600 steps and 1.00 at quick's 150; the speed-up vs training-length table hovers at 1.00-1.02 up to step 480 and at 1.05-1.12 from step 560 to 1,600, with no rise toward 2; at 16 experts it is 1.21 (1.27, 1.25, 1.11), above 8 experts' 1.09. So the advantage grows with the number of experts and barely with training length here. That the paper's >2x needs its scale (64 experts, 8B activated parameters, far more tokens) is a hypothesis.",
        evidence: "results/reference/full/expert-choice/claims.json and tables.json (npm run reproduce -- --only expert-choice --profile full): ec-converges-2x-faster-than-top2",
        hypothesis: true,
      },
      quick: {
        verdict: 'not-reproduced',
        reason:
          "At quick the speed-up over top-2 is about 1, its 3-seed interval far below 2, and on one seed EC never reaches top-2's final loss (counted as 1). Its trend with training length is flat: after every evaluation the ratio stays within a few percent of 1, with no rise toward 2 as training goes on (table ec-speedup-by-steps). Why the paper's 2x does not appear here (two MoE layers of 8 small experts on a byte LM for 150 steps, against 100M-8B parameters, 64 experts and long training) is a hypothesis; the trend with the number of experts is measured only at full, which has not been run.",
        evidence: 'npm run reproduce -- --only expert-choice --profile quick: results/reference/quick/expert-choice/claims.json (this claim, 3 seeds), tables.json (table ec-speedup-by-steps: the speed-up after every evaluation, per seed), figures/ec-speedup-vs-steps',
      },
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
    profiles: ['quick', 'full', 'paper'],
    expected: {
      full: {
        verdict: 'not-reproduced',
        reason:
          "Measured at full (1,600 steps, 8 experts): EC reaches top-1's final validation loss 1.21x sooner (per seed 1.24, 1.32, 1.09, interval [0.93, 1.50]), against 1.13 at 600 steps and 1.01 at quick; the speed-up over top-1 rises slowly with training length (1.00 at step 80, about 1.06 at 400, 1.15-1.26 after 1,200; table ec-speedup-by-steps). That the paper's >2x needs its scale is a hypothesis (see ec-converges-2x-faster-than-top2).",
        evidence: "results/reference/full/expert-choice/claims.json and tables.json (npm run reproduce -- --only expert-choice --profile full): ec-converges-2x-faster-than-top1",
        hypothesis: true,
      },
      quick: {
        verdict: 'not-reproduced',
        reason:
          "As ec-converges-2x-faster-than-top2: the speed-up over top-1 is about 1 at quick, its 3-seed interval far below 2, and flat in training length (table ec-speedup-by-steps); on one seed EC never reaches top-1's final loss (counted as 1).",
        evidence: 'npm run reproduce -- --only expert-choice --profile quick: results/reference/quick/expert-choice/claims.json (this claim, 3 seeds), tables.json (table ec-speedup-by-steps: the speed-up after every evaluation, per seed), figures/ec-speedup-vs-steps',
      },
    },
  },
];
