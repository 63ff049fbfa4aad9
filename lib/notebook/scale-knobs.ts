/**
 * Each paper's scale knob: what grows from quick to full and could move a claim toward
 * the paper's number. The notebooks' scale section (lib/notebook/scale-trend.ts) plots
 * every claim not reproduced at full against it.
 */
import type { ClaimRecord } from '../harness/files';

export interface ScaleKnob {
  /** Axis title, e.g. 'training steps'. */
  title: string;
  /** The knob's value in a run's config (the config as run.json records it); the claim, for papers whose claims read different knobs. */
  of: (config: Record<string, unknown>, claim: ClaimRecord) => number;
}

/** The value at `dotted` (e.g. 'train.steps') of a config; a clear error when it is not a number. */
export function configNumber(config: Record<string, unknown>, dotted: string): number {
  let v: unknown = config;
  for (const key of dotted.split('.')) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined;
  if (typeof v !== 'number') throw new Error(`scale knob '${dotted}' is not a number in the run's config (got ${JSON.stringify(v)})`);
  return v;
}

const key = (dotted: string, title: string): ScaleKnob => ({ title, of: (config) => configNumber(config, dotted) });

const DISTILLATION_RANKING = new Set(['distill-score-closes-gap', 'distill-embed-beats-score', 'distill-de-converged']);

export const SCALE_KNOBS: Readonly<Record<string, ScaleKnob>> = {
  // The linear-system claims read the longest horizon of their grid, the Q-learning ones theirs.
  rer: {
    title: 'longest horizon (samples)',
    of: (c, claim) => (claim.id.startsWith('rer-q') ? configNumber(c, 'qGridStart') * 2 ** (configNumber(c, 'qGridPoints') - 1) : configNumber(c, 'gridStart') * 2 ** (configNumber(c, 'gridPoints') - 1)),
  },
  flash: key('train.steps', 'training steps per context'),
  'expert-choice': key('steps', 'training steps'),
  calm: { title: 'training bytes', of: (c) => configNumber(c, 'trainSteps') * configNumber(c, 'batchSize') * configNumber(c, 'seqLen') },
  // quick trains on MNIST, full on Fashion-MNIST: a harder dataset at the larger scale.
  matryoshka: key('epochs', 'epochs (quick: MNIST, full: Fashion-MNIST)'),
  // The long-run check reads the first-order runs given firstOrderLongFactor x the steps.
  locoprop: {
    title: 'training steps (the long first-order runs: their own)',
    of: (c, claim) => ((configNumber(c, 'epochs') * configNumber(c, 'trainImages')) / configNumber(c, 'batchSize')) * (claim.id === 'locoprop-bp-long-flattened' ? configNumber(c, 'firstOrderLongFactor') : 1),
  },
  // The ranking claims train the dual encoders, the capacity claims the students: each has its own epochs.
  distillation: { title: 'epochs', of: (c, claim) => configNumber(c, DISTILLATION_RANKING.has(claim.id) ? 'ranking.epochs' : 'capacity.epochs') },
};
