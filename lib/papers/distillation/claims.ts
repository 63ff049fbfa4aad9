/**
 * The distillation claims, as data. Tolerances were written before the first quick run
 * and are not tuned to results (ARCHITECTURE.md §5).
 *
 * The papers' tables could not be read here (stored copies stop after the abstract or
 * the introduction), so the claims cite abstracts and are judged on direction and order
 * of magnitude; EmbedDistill's abstract gives the one number (95-97% retention).
 */
import type { Claim, Outcome } from '../../harness/contract';
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
    profiles: ['quick', 'full'],
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
    profiles: ['quick', 'full'],
    expected: {
      quick: { verdict: 'not-reproduced', reason: 'Measured at quick (seed 1, ranking half): CE 0.778, DE 0.393, DE+scores 0.367, DE+scores+embeddings 0.345, small student 0.194 MRR. The dual encoders are under-trained at quick (3 epochs; label loss 4.9 -> 4.3 -> 3.5, still falling fast): Menon et al. argue distillation helps by curbing DE overfitting, which only shows once the DE is trained to convergence; before that the distillation term competes with the label term. Full (4x the queries, 4 epochs) is where this can be judged; not run here.', hypothesis: true },
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
    profiles: ['quick', 'full'],
    expected: {
      quick: { verdict: 'not-reproduced', reason: 'Measured at quick (seed 1, ranking half): CE 0.778, DE 0.393, DE+scores 0.367, DE+scores+embeddings 0.345, small student 0.194 MRR. Neither distilled DE beats the label-only DE at this under-trained scale (see distill-score-closes-gap), so the comparison between the two recipes is between two small negative numbers.', hypothesis: true },
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
    profiles: ['quick', 'full'],
    expected: {
      quick: { verdict: 'not-reproduced', reason: "Measured at quick (seed 1, ranking half): CE 0.778, DE 0.393, DE+scores 0.367, DE+scores+embeddings 0.345, small student 0.194 MRR. The small query tower (~1/5 of the DE query tower's parameters) trains for only 3 epochs against a frozen document tower (loss 3.8 -> 3.3, still falling) and keeps 56% of dual-embed's MRR; EmbedDistill's students start from pre-trained BERT and train to convergence.", hypothesis: true },
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
    profiles: ['quick', 'full'],
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
    profiles: ['quick', 'full'],
  },
];
