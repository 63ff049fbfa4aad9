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
import type { LocopropResult, MethodRun } from './experiment';
import { ratio } from '../../harness/metrics';

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

/** Median training seconds per epoch (the first epoch includes kernel compilation on GPU backends). */
export function secondsPerEpoch(r: LocopropResult, m: MethodId): number | NotRun {
  const run = selectedRun(r, m);
  if ('notRun' in run) return run;
  const s = [...run.epochSeconds].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export function memoryFloats(r: LocopropResult, m: MethodId): number | NotRun {
  const run = selectedRun(r, m);
  if ('notRun' in run) return run;
  return run.paramFloats + run.stateFloats;
}


function bestFirstOrder(r: LocopropResult): number | NotRun | Outcome {
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
  if (!(fo > sh)) return { outcome: 'not-reproduced', reason: `our second-order baseline did not work: Shampoo (${sh.toFixed(2)}) did not end below the best first-order method (${fo.toFixed(2)}), so there is no gap to close` };
  return (fo - m) / (fo - sh);
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
    profiles: ['quick', 'full'],
    expected: {
      quick: { verdict: 'not-reproduced', reason: 'Measured 1.21 at quick (6 steps, seed 1; 1.05 with 8 steps): BP-RMSprop and Adam jump in 2-3 steps to the "mean image" plateau (loss ~250-260, RMSprop with a zero-started mean square takes ~3x-lr steps) while LocoProp-M descends steadily (497, 354, 314). The paper\'s ordering concerns the descent below that plateau over tens of epochs, which only the full profile reaches.', hypothesis: true },
    },
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
    profiles: ['quick', 'full'],
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
      '"Close to second order" read as: more than half of the first-to-second-order gap closed (1 = as good as Shampoo, > 1 = better). Not judged when our Shampoo does not beat first order (no gap).',
    profiles: ['quick', 'full'],
  },
  {
    id: 'locoprop-m-time-per-epoch',
    kind: 'paper',
    falsifiedBy: 'a LocoProp-M epoch costing more than 10 first-order epochs',
    paper: PAPER,
    source: `${FIG} (loss vs wall time); abstract ("first-order optimizers only")`,
    statement: 'LocoProp-M costs a small, predictable factor of a first-order epoch: its time per epoch stays within the ratio of matrix products it performs',
    paperValue: 'LocoProp-M competitive with first-order methods in wall time (figure, right panel; no number readable)',
    measures: 'median training seconds per epoch of LocoProp-M / of BP-RMSprop, same machine, same run',
    metric: (r) => ratio(secondsPerEpoch(r, 'locoprop-m'), secondsPerEpoch(r, 'bp-rmsprop')),
    expect: { atMost: 10 },
    toleranceWhy:
      'Counted before running: BP does 3 matrix products per layer per batch (forward, input gradient, weight gradient); LocoProp-M does 2 (forward, pre-activation gradient) + 2 per local iteration, 22 with K = 10: 7.3x. 10 = that ratio plus 35% for the extra element-wise work of the local iterations; a larger ratio would mean overhead beyond the arithmetic.',
    profiles: ['quick', 'full'],
    expected: {
      quick: { verdict: 'not-reproduced', reason: 'measured 10.3x on the idle 2-core CI machine (2026-11-23; 6.9x to 13x on a loaded one): on single-threaded wasm the 10 local iterations run one layer after another, so LocoProp-M pays for its ~7x more matrix products in full; the paper\'s small overhead relies on updating the layers in parallel on an accelerator (judged at full, on the GPU).', hypothesis: true },
    },
  },
  {
    id: 'locoprop-m-first-order-memory',
    kind: 'check',
    falsifiedBy: 'cannot fail as measured: parameters + optimiser state are equal by construction (activations are not counted)',
    paper: PAPER,
    source: 'abstract ("large memory requirement" of second-order methods vs "first-order optimizers only")',
    statement: 'LocoProp-M needs the memory of a first-order method (parameters + optimiser state), less than the second-order baseline',
    paperValue: 'same optimiser state as RMSprop (per-layer RMSprop); second-order keeps Kronecker statistics and roots',
    measures: '(parameters + optimiser state floats) of LocoProp-M / of BP-RMSprop',
    metric: (r) => ratio(memoryFloats(r, 'locoprop-m'), memoryFloats(r, 'bp-rmsprop')),
    expect: { atMost: 1.05 },
    toleranceWhy: 'Both keep one RMSprop state (mean square + momentum) per parameter, so the ratio is 1 by construction; 5% allows for bookkeeping only. Shampoo\'s ratio is shown in the memory table for contrast.',
    profiles: ['quick', 'full'],
  },
];
