/**
 * The distillation claims, as data. Tolerances were written before the first quick run
 * and are not tuned to results (ARCHITECTURE.md §5).
 *
 * The papers' tables could not be read here (stored copies stop after the abstract or
 * the introduction), so the claims cite abstracts and are judged on direction and order
 * of magnitude; EmbedDistill's abstract gives the one number (95-97% retention).
 */
import type { Claim, NotRun, Outcome } from '../../harness/contract';
import type { DistillationResult } from './experiment';

const MENON = 'Menon et al., ICML 2022 (In defense of dual-encoders for neural ranking)';
const EMBED = 'arXiv:2301.12005';
const SUPERVISION = 'arXiv:2301.12245';
const STANTON = 'arXiv:2106.05945';

function largestTeacher(r: DistillationResult) {
  return r.capacity.teachers[r.capacity.teachers.length - 1];
}

function gap(r: DistillationResult, model: 'dual-score' | 'dual-embed'): number | Outcome {
  const g = r.ranking.gapClosedMrr[model];
  return g === null ? { outcome: 'not-reproduced', reason: 'the cross-encoder does not beat the dual encoder on this run, so there is no gap to close' } : g;
}

/** Dual encoders whose training length the check below judges. */
const DUAL_MODELS = ['dual', 'dual-score', 'dual-embed', 'dual-small'] as const;

/** Largest validation-MRR gain of a dual encoder in its last epoch trained. */
export function lastEpochValidationGain(r: DistillationResult): number | NotRun {
  const gains = DUAL_MODELS.flatMap((m) => {
    const v = r.ranking.models[m].validationMrr;
    return v.length >= 2 ? [v[v.length - 1] - v[v.length - 2]] : [];
  });
  if (gains.length === 0) return { notRun: 'every dual encoder trained for a single epoch (ranking.epochs): no learning curve to read', precondition: 'config' };
  return Math.max(...gains);
}

export const claims: Claim<DistillationResult>[] = [
  {
    id: 'distill-cross-beats-dual',
    kind: 'paper',
    falsifiedBy: 'a dual encoder within 0.02 MRR of the cross-encoder, or better',
    paper: MENON,
    source: 'abstract',
    statement: 'A cross-encoder ranks better than a dual encoder of the same size trained on the same labels',
    paperValue: '"Empirically, CA models are often found to be more accurate" (qualitative)',
    measures: 'MRR(cross-encoder) - MRR(dual encoder) on held-out addresses (1 relevant among the eval candidates)',
    metric: (r) => r.ranking.models.cross.mrr - r.ranking.models.dual.mrr,
    expect: { atLeast: 0.02 },
    toleranceWhy:
      'With ~256 test queries the MRR of one model has a sampling std of ~0.02; the two models see the same queries (paired), so a mean difference of 0.02 over seeds is the smallest we would call a gap rather than noise.',
    profiles: ['quick', 'full', 'paper'],
  },
  {
    id: 'distill-score-closes-gap',
    kind: 'paper',
    falsifiedBy: 'score distillation closing less than a quarter of the cross/dual MRR gap',
    paper: MENON,
    source: 'abstract',
    statement: 'Score distillation (softmax over candidates) from the cross-encoder closes a substantial part of the CE-DE gap',
    paperValue: '"we propose a suitable distillation strategy, and confirm its practical efficacy" (qualitative)',
    measures: 'gap closed = (MRR(DE score-distilled) - MRR(DE)) / (MRR(CE) - MRR(DE))',
    metric: (r) => gap(r, 'dual-score'),
    expect: { atLeast: 0.25 },
    toleranceWhy:
      'A quarter of the gap is what we would call "substantial" and still clears the ratio noise: with a gap of ~0.05-0.1 MRR and paired noise of ~0.01-0.02 on each difference, the ratio wobbles by ~0.2.',
    profiles: ['quick', 'full', 'paper'],
    expected: {
      full: {
        verdict: 'not-reproduced',
        reason:
          "Measured at full (each ranking model trained until its MRR on 512 validation queries had not improved for 3 epochs, 6 to 20 epochs): score distillation closes -0.25, -0.12 and -0.12 of the cross/dual MRR gap (interval [-0.35, 0.03], below 0.25): it ends at or below the labels-only dual encoder in every seed, as with patience 2 on 128 queries (-0.21) and at quick (-0.15). Training to convergence did not change the sign.",
        evidence: "results/reference/full/distillation/claims.json and tables.json (npm run reproduce -- --only distillation --profile full): distill-score-closes-gap",
      },
      quick: {
        verdict: 'not-reproduced',
        reason:
          'Score distillation closes a negative share of the gap in every seed (about −0.07, −0.14, −0.20: the score-distilled dual encoder ends below the labels-only one; table distill-ranking). Measured with it: every dual encoder\'s validation MRR is still rising in its last (third) epoch, by up to 0.11 (check distill-de-converged, table distill-validation-curve), so quick compares unfinished models. Menon et al. argue that distillation helps by curbing the overfitting of a converged dual encoder; that this regime, not the recipe, explains the shortfall, and that full (up to 30 epochs, stopping on validation MRR) reverses it, is our hypothesis.',
        evidence: 'npm run reproduce -- --only distillation --profile quick: results/reference/quick/distillation/claims.json and tables.json (distill-ranking, distill-validation-curve)',
        hypothesis: true,
      },
    },
  },
  {
    id: 'distill-embed-beats-score',
    kind: 'paper',
    falsifiedBy: 'embedding matching closing no more of the gap than score distillation alone',
    paper: EMBED,
    source: 'abstract',
    statement: 'Adding embedding matching to score distillation closes more of the gap than score distillation alone',
    paperValue: '"embedding matching tasks ... provide a stronger signal to align the representations of the teacher and student" (qualitative)',
    measures: 'gap closed(DE score + embedding matching) - gap closed(DE score only), MRR-based',
    metric: (r) => {
      const a = gap(r, 'dual-embed');
      const b = gap(r, 'dual-score');
      if (typeof a !== 'number') return a;
      if (typeof b !== 'number') return b;
      return a - b;
    },
    expect: { atLeast: 0 },
    toleranceWhy: 'Direction only: the abstract gives no size for this improvement, so we only check which recipe closes more of the gap on the mean over seeds.',
    profiles: ['quick', 'full', 'paper'],
    expected: {
      full: {
        verdict: 'inconclusive',
        reason:
          "Measured at full (trained to early stopping on 512 validation queries): embedding matching on top of score distillation changes the MRR by +0.05, +0.04 and -0.01 (interval [-0.05, 0.11]); about 9 seeds would decide.",
        evidence: "results/reference/full/distillation/claims.json and tables.json (npm run reproduce -- --only distillation --profile full): distill-embed-beats-score",
      },
      quick: {
        verdict: 'inconclusive',
        reason:
          'Embedding matching closes more of the gap than scores alone in one seed of three (differences about −0.06, +0.03, −0.07), always between two negative shares (see distill-score-closes-gap), so the interval straddles 0; about 16 seeds would decide it at this spread. Both dual encoders are still improving in their last epoch (check distill-de-converged).',
        evidence: 'npm run reproduce -- --only distillation --profile quick: results/reference/quick/distillation/claims.json and tables.json (distill-ranking, distill-validation-curve)',
      },
    },
  },
  {
    id: 'distill-small-student-retains',
    kind: 'paper',
    falsifiedBy: "the small-query-tower student keeping less than 90% of its teacher's MRR",
    paper: EMBED,
    source: 'abstract',
    statement: 'An asymmetric student (small query tower, inherited frozen document tower) keeps most of its dual-encoder teacher\'s quality',
    paperValue: '"1/10th size asymmetric students that can retain 95-97% of the teacher performance" (MSMARCO)',
    measures: 'MRR(small-query-tower student) / MRR(its DE teacher, dual-embed)',
    metric: (r) => r.ranking.smallRetention,
    expect: { atLeast: 0.9 },
    toleranceWhy:
      '5 points under the paper\'s lower end: our towers are trained from scratch (no pre-trained BERT) and ~256 test queries give ~5% relative MRR noise per model; a student under 90% would contradict "retain 95-97%".',
    profiles: ['quick', 'full', 'paper'],
    expected: {
      full: {
        verdict: 'not-reproduced',
        reason:
          "Measured at full: the small asymmetric student (1/4 width query tower over the teacher's document embeddings) retains 0.68, 0.54 and 0.64 of the teacher's MRR (interval [0.43, 0.81]) against the paper's 0.95-0.97; the earlier full read 0.63, quick 0.61: longer training does not move it.",
        evidence: "results/reference/full/distillation/claims.json and tables.json (npm run reproduce -- --only distillation --profile full): distill-small-student-retains",
      },
      quick: {
        verdict: 'not-reproduced',
        reason:
          'The asymmetric student keeps 49–68% of dual-embed\'s MRR in the three seeds (table distill-ranking). Measured: its validation MRR barely moves over its 3 epochs (0.15 to 0.18; falling in the last epoch of seed 3), while its teacher dual-embed still gains up to 0.07 in its last epoch (table distill-validation-curve). Its query tower (~1/5 of the DE query tower\'s parameters) learns from scratch against a frozen document tower; EmbedDistill\'s students start from pre-trained BERT. That this start, not the tower\'s size, causes the shortfall is our hypothesis.',
        evidence: 'npm run reproduce -- --only distillation --profile quick: results/reference/quick/distillation/claims.json and tables.json (distill-ranking, distill-validation-curve)',
        hypothesis: true,
      },
    },
  },
  {
    id: 'distill-online-beats-offline',
    kind: 'paper',
    falsifiedBy: 'an online-distilled student no more accurate than the offline one',
    paper: SUPERVISION,
    source: 'abstract',
    statement: 'With the largest teacher (largest capacity gap), online distillation from the teacher\'s checkpoints gives a more accurate student than offline distillation from the final teacher',
    paperValue: '"We demonstrate efficacy of online distillation" (qualitative; image benchmarks)',
    measures: 'test accuracy(online student) - test accuracy(offline student), largest teacher, fraction of test images',
    metric: (r) => largestTeacher(r).students.online.accuracy - largestTeacher(r).students.offline.accuracy,
    expect: { atLeast: 0 },
    toleranceWhy: 'Direction only: the abstract gives no number, and the students are paired (same initialisation, same batch order), so the sign of the mean difference is what we judge.',
    profiles: ['quick', 'full', 'paper'],
    expected: {
      full: {
        verdict: 'inconclusive',
        reason:
          "Measured at full (24k images, 10 epochs): online minus offline distillation accuracy at the largest teacher is +2.2, -0.1 and -0.5 pt (interval [-3.1, 4.2] pt): no measurable difference at 3 seeds (about 32 would decide).",
        evidence: "results/reference/full/distillation/claims.json and tables.json (npm run reproduce -- --only distillation --profile full): distill-online-beats-offline",
      },
      quick: {
        verdict: 'inconclusive',
        reason:
          'With the largest teacher (512 wide), online minus offline student accuracy is about +0.97, +0.27 and −2.08 pp in the three seeds (table distill-capacity, column online − offline): the sign is not stable and the paired interval straddles 0 (about 128 seeds would decide it at this spread). The previous quick\'s single seed (+1.0 pp) is the first of these.',
        evidence: 'npm run reproduce -- --only distillation --profile quick: results/reference/quick/distillation/claims.json and tables.json (distill-capacity)',
      },
    },
  },
  {
    id: 'distill-fidelity-gap',
    kind: 'paper',
    falsifiedBy: 'student-teacher disagreement within 1 point of what the accuracy gap forces',
    paper: STANTON,
    source: 'abstract',
    statement: 'A distilled student disagrees with its teacher on more test points than the accuracy difference accounts for, even for the teacher closest in size',
    paperValue: '"there often remains a surprisingly large discrepancy between the predictive distributions of the teacher and the student" (qualitative)',
    measures: '(1 - top-1 agreement) - |acc(teacher) - acc(offline student)|, smallest teacher: disagreements beyond those the accuracy gap forces',
    metric: (r) => {
      const t = r.capacity.teachers[0];
      return 1 - t.students.offline.fidelity - Math.abs(t.accuracy - t.students.offline.accuracy);
    },
    expect: { atLeast: 0.01 },
    toleranceWhy:
      'Disagreement can never be below the accuracy gap; 1% of the test set (100 of 10,000 images at quick) beyond it is ~10x the binomial noise of a paired count and is what "fidelity well below 100% while accuracy is close" means at MNIST error rates of a few percent.',
    profiles: ['quick', 'full', 'paper'],
  },
  {
    id: 'distill-de-converged',
    kind: 'check',
    falsifiedBy: "a dual encoder's validation MRR still rising by more than 0.01 in its last epoch: the dual encoders are under-trained, and how much of the gap distillation closes is judged on unfinished models",
    paper: MENON,
    source: 'training setup (the papers train their dual encoders to convergence)',
    statement: 'The dual encoders are trained until their validation MRR stops improving',
    paperValue: 'trained to convergence (MSMARCO / NQ setups; qualitative)',
    measures: "max over the four dual encoders (labels, score-distilled, + embedding matching, small query tower) of the validation MRR gained in the last epoch trained (queries from the validation addresses)",
    metric: lastEpochValidationGain,
    expect: { atMost: 0.01 },
    toleranceWhy: 'Set before the run: the same validation queries after each epoch (paired), so a gain above 0.01 MRR in the last epoch is a curve still rising, not a flip of a few ranks; with ranking.patience > 0 (full) a model stops only after epochs without a gain.',
    profiles: ['quick', 'full', 'paper'],
    expected: {
      full: {
        verdict: 'inconclusive',
        reason:
          "Measured at full (early stopping with patience 3 on 512 validation queries, at most 20 epochs; the encoders trained 10 to 20 epochs, table distill-validation-curve): the largest validation-MRR gain in a dual encoder's last epoch is 1.7, 0.5 and 1.3 pts (interval [-0.4, 2.7] pts) against the 1 pt bound; with patience 2 on 128 queries it was [-3.0, 6.1].",
        evidence: "results/reference/full/distillation/claims.json and tables.json (npm run reproduce -- --only distillation --profile full): distill-de-converged",
      },
      quick: {
        verdict: 'not-reproduced',
        reason:
          'The dual encoders\' validation MRR still rises in their last of quick\'s 3 epochs: the largest last-epoch gain is about 0.11, 0.07 and 0.07 MRR in the three seeds (labels-only or embedding-matched dual encoder; table distill-validation-curve). Longer training, stopped on validation MRR, is full\'s (ranking.epochs 30, patience 3).',
        evidence: 'npm run reproduce -- --only distillation --profile quick: results/reference/quick/distillation/claims.json and tables.json (distill-validation-curve)',
      },
    },
  },
];
