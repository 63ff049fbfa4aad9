/**
 * The MRL claims, as data. Tolerances were fixed before the first quick/full run
 * (ARCHITECTURE.md §5) and are not to be tuned to the results.
 *
 * Paper numbers: ResNet-50 on ImageNet-1K, top-1 (%) from RAIVNLab/MRL
 * `Visualization/Classification Performance Plots/PLOTS - Sheet1.csv` (the data of the
 * paper's Fig. 2), columns R50-FF, R50-NRL (= MRL), R50-NRL-E (= MRL-E), R50-SVD,
 * R50-Rand-LP:
 *   size   8: FF 65.29, MRL 66.63, MRL-E 56.66, SVD  2.34, Rand-LP  4.56
 *   size  16: FF 72.85, MRL 73.53, MRL-E 71.94, SVD  7.17, Rand-LP 11.29
 *   size  64: FF 75.27, MRL 75.82, MRL-E 75.35, SVD 48.10
 *   size 512: FF 76.18, MRL 76.65;  size 2048: FF 76.87, MRL 76.80
 * Abstract (arXiv:2205.13147): "up to 14x smaller embedding size for ImageNet-1K
 * classification at the same level of accuracy; up to 14x real-world speed-ups for
 * large-scale retrieval". Repo retrieval README: shortlist k = 200; funnel retrieve at
 * 8 dims, re-rank cascade [16, 32, 64, 128, 2048], shortlists [200, 100, 50, 25, 10].
 */
import type { Claim, NotRun } from '../../harness/contract';
import type { MatryoshkaResult, RetrievalPoint } from './experiment';

const PAPER = 'arXiv:2205.13147';
const CSV = 'Fig. 2 data (RAIVNLab/MRL Visualization/Classification Performance Plots/PLOTS - Sheet1.csv)';

/** "Same retrieval accuracy": top-1 no more than this below exhaustive search at D (fraction). */
export const SAME_TOP1_TOLERANCE = 0.005;
/** Sizes counted as "small" for the slicing/SVD comparison. */
export const SMALL_SIZE_MAX = 8;

function pp(x: number): number {
  return 100 * x;
}

function minGap(a: number[], b: number[]): number {
  return Math.min(...a.map((v, i) => pp(v - b[i])));
}

function meanGapAtSmallSizes(r: MatryoshkaResult, other: number[]): number | NotRun {
  const idx = r.sizes.map((m, i) => (m <= SMALL_SIZE_MAX ? i : -1)).filter((i) => i >= 0);
  if (idx.length === 0) return { notRun: `no nested size <= ${SMALL_SIZE_MAX}`, precondition: 'config' };
  return idx.reduce((s, i) => s + pp(r.accuracy.mrl[i] - other[i]), 0) / idx.length;
}

function mrlPlans(r: MatryoshkaResult): RetrievalPoint[] {
  return r.retrieval.points.filter((p) => p.family === 'mrl' || p.family === 'adaptive' || p.family === 'funnel' || p.family === 'paper-funnel');
}

/** FLOPs of exhaustive MRL search at D over the cheapest MRL plan whose top-1 is within SAME_TOP1_TOLERANCE of it. */
export function retrievalFlopFactor(r: MatryoshkaResult): number {
  const target = r.retrieval.exhaustiveFullTop1 - SAME_TOP1_TOLERANCE;
  const ok = mrlPlans(r).filter((p) => p.top1 >= target);
  const cheapest = Math.min(...ok.map((p) => p.flopsPerQuery));
  return r.retrieval.exhaustiveFullFlops / cheapest;
}

export const claims: Claim<MatryoshkaResult>[] = [
  {
    id: 'matryoshka-mrl-matches-ff',
    kind: 'paper',
    falsifiedBy: 'MRL more than 1.5 points below the fixed-feature model at any nested size',
    paper: PAPER,
    source: CSV,
    statement: 'MRL is at least as accurate as a fixed-feature model trained separately at each representation size (within noise)',
    paperValue: 'MRL − FF = +1.34 pp at 8 dims (66.63 vs 65.29), +0.68 at 16, +0.55 at 64, +0.47 at 512, −0.07 at 2048: worst size −0.07 pp',
    measures: 'min over nested sizes of (MRL − FF) test accuracy, percentage points',
    metric: (r) => minGap(r.accuracy.mrl, r.accuracy.ff),
    expect: { atLeast: -1.5 },
    toleranceWhy:
      'Each FF size is a separately trained short run: at 2–4 dims its test accuracy moves by ~1 pp between seeds, the difference of two runs by ~1.4 pp, and the minimum over 8–9 sizes picks the worst; −1.5 pp is the largest shortfall we would still call "within noise", and a real deficit at small sizes (MRL sharing its first dims with every other size) would exceed it.',
    profiles: ['quick', 'full'],
    expected: {
      quick: { verdict: 'not-reproduced', reason: 'Measured -24.4 ± 3.2 pp (worst size 4 dims). quick trains each model for one epoch of 12k images (187 Adam steps); the 2–4-dim heads of MRL, which share the trunk with six larger sizes, are far from converged there (seed 1: MRL 42.9/50.2% at 2/4 dims vs FF 48.2/76.8%), while the paper trains 40 epochs. A pilot at 2 epochs (constant rate, seed 1) was much closer (-5.4 pp, worst at 2 dims).', hypothesis: true },
    },
  },
  {
    id: 'matryoshka-mrl-beats-slicing',
    kind: 'paper',
    falsifiedBy: 'MRL less than 10 points above sliced FF-D embeddings at small sizes',
    paper: PAPER,
    source: CSV,
    statement: 'At small sizes MRL is far more accurate than keeping the first m coordinates of the FF-D embedding (with a linear probe retrained on them)',
    paperValue: 'at 8 dims: MRL 66.63 vs 4.56 for the random-feature linear probe of FF-2048 (R50-Rand-LP): +62 pp',
    measures: `mean over nested sizes <= ${SMALL_SIZE_MAX} of (MRL − slicing) test accuracy, percentage points`,
    metric: (r) => meanGapAtSmallSizes(r, r.accuracy.slicing),
    expect: { atLeast: 10 },
    toleranceWhy:
      'With 10 classes a few dimensions already separate much (the paper\'s gap is on 1000 classes), so we expect a far smaller gap than 62 pp; 10 pp averaged over sizes 2–8 is still "far above" (several times the seed noise) and would fail if FF features were already ordered by importance.',
    profiles: ['quick', 'full'],
    expected: {
      quick: { verdict: 'not-reproduced', reason: 'Measured +3.3 ± 4.4 pp. quick trains each model for one epoch of 12k images (187 Adam steps); the 2–4-dim heads of MRL, which share the trunk with six larger sizes, are far from converged there (seed 1: MRL 42.9/50.2% at 2/4 dims vs FF 48.2/76.8%), while the paper trains 40 epochs. A pilot at 2 epochs (constant rate, seed 1) was much closer (+9.9 pp).', hypothesis: true },
    },
  },
  {
    id: 'matryoshka-mrl-beats-svd',
    kind: 'paper',
    falsifiedBy: 'MRL less than 5 points above PCA of the FF-D embedding at small sizes',
    paper: PAPER,
    source: CSV,
    statement: 'At small sizes MRL is more accurate than the top-m principal components of the FF-D embedding (with a linear probe retrained on them)',
    paperValue: 'at 8 dims: MRL 66.63 vs SVD 2.34 (+64 pp); at 16: 73.53 vs 7.17',
    measures: `mean over nested sizes <= ${SMALL_SIZE_MAX} of (MRL − SVD/PCA) test accuracy, percentage points`,
    metric: (r) => meanGapAtSmallSizes(r, r.accuracy.svd),
    expect: { atLeast: 5 },
    toleranceWhy:
      'Our SVD baseline is stronger than the paper\'s (PCA of the features plus a retrained probe, the best linear compression, instead of a low-rank classifier weight), and 10 class means span only 9 dims, so the gap concentrates at 2–4 dims; 5 pp averaged over sizes 2–8 is the smallest gap that clearly exceeds seed noise.',
    profiles: ['quick', 'full'],
    expected: {
      quick: { verdict: 'not-reproduced', reason: 'Measured -17.3 ± 0.1 pp: PCA of the FF-256 features with a retrained probe beats MRL at 4 and 8 dims (84% / 93% vs 50% / 86%, seed 1). With 10 classes the discriminative subspace of a trained embedding has at most 9 dims and PCA captures it, unlike the paper\'s 1000-class low-rank weight; and quick trains each model for one epoch of 12k images (187 Adam steps); the 2–4-dim heads of MRL, which share the trunk with six larger sizes, are far from converged there (seed 1: MRL 42.9/50.2% at 2/4 dims vs FF 48.2/76.8%), while the paper trains 40 epochs. A pilot at 2 epochs (constant rate, seed 1) was much closer (-2.4 pp).', hypothesis: true },
    },
  },
  {
    id: 'matryoshka-adaptive-classification-size',
    kind: 'paper',
    falsifiedBy: 'the adaptive classifier using more than 1/7 of D on average',
    paper: PAPER,
    source: 'abstract; Adaptive Classification experiment',
    statement: 'Adaptive classification (smallest size whose confidence passes a threshold picked on held-out data) needs a many-fold smaller expected representation than D at the same accuracy',
    paperValue: 'up to 14x smaller embedding size at the same level of accuracy',
    measures: 'D / mean representation size used by adaptive MRL on the test set (threshold: cheapest one matching size-D accuracy on the holdout)',
    metric: (r) => r.embeddingDim / r.adaptive.chosen.meanSize,
    expect: { atLeast: 7 },
    toleranceWhy:
      'Half the paper\'s 14x: our sizes span 2..D (7–8 doublings, like the paper\'s 8..2048), but we match the accuracy of MRL at D (the paper matches FF-512, a weaker target) and pick the threshold on only 2k held-out images.',
    profiles: ['quick', 'full'],
    expected: {
      quick: { verdict: 'not-reproduced', reason: 'Measured 3.9 ± 1.2x (mean size ~66 of 256): to match size-D accuracy the threshold must be high, and the under-trained small prefixes rarely reach it. quick trains each model for one epoch of 12k images (187 Adam steps); the 2–4-dim heads of MRL, which share the trunk with six larger sizes, are far from converged there (seed 1: MRL 42.9/50.2% at 2/4 dims vs FF 48.2/76.8%), while the paper trains 40 epochs. A pilot at 2 epochs (constant rate, seed 1) was much closer (7.8x).', hypothesis: true },
    },
  },
  {
    id: 'matryoshka-adaptive-classification-accuracy',
    kind: 'check',
    falsifiedBy: 'hard to fail by design: the threshold is picked on held-out data to match the accuracy at D',
    paper: PAPER,
    source: 'abstract; Adaptive Classification experiment',
    statement: 'The adaptive classifier keeps the accuracy of the full-size representation on unseen test images',
    paperValue: '"at the same level of accuracy"',
    measures: 'test accuracy at size D minus test accuracy of adaptive MRL, percentage points',
    metric: (r) => pp(r.adaptive.testFullAccuracy - r.adaptive.chosen.accuracy),
    expect: { atMost: 0.5 },
    toleranceWhy: 'The threshold is fitted to match on 2k held-out images, whose accuracy has a sampling std of ~0.3 pp at 98%; a drop beyond 0.5 pp on 10k test images is a real loss, not a threshold fluke.',
    profiles: ['quick', 'full'],
  },
  {
    id: 'matryoshka-retrieval-flops',
    kind: 'paper',
    falsifiedBy: 'no MRL plan reaching exhaustive top-1 with fewer than a tenth of its FLOPs',
    paper: PAPER,
    source: 'abstract; Adaptive Retrieval experiment and repo retrieval README (funnel)',
    statement: 'Retrieval with MRL (shortlist at a small prefix, re-rank at larger ones) reaches the top-1 of exhaustive search at D with many-fold fewer FLOPs per query',
    paperValue: 'up to 14x real-world speed-up (abstract); funnel matches 2048-d top-1 with 128x less MFLOPs/query (repo README figure); survey 001: up to 16x lower compute with ScaNN',
    measures: `FLOPs of exhaustive MRL search at D / FLOPs of the cheapest MRL plan (exhaustive at a smaller size, adaptive k=200, funnel) whose top-1 is within ${pp(SAME_TOP1_TOLERANCE)} pp of it`,
    metric: retrievalFlopFactor,
    expect: { atLeast: 10 },
    toleranceWhy:
      'With D = 256 (not 2048) the FLOP saving of shortlisting at d dims is capped near D/d (32x at 8 dims) and the re-rank of 200 candidates weighs more on a 10k database, so the paper\'s 128x is out of reach by construction; 10x is "many-fold" and below the 14x/16x the paper and the survey report.',
    profiles: ['quick', 'full'],
  },
  {
    id: 'matryoshka-paper-funnel-accuracy',
    kind: 'paper',
    falsifiedBy: "the paper's funnel more than 0.5 points below exhaustive search at D",
    paper: PAPER,
    source: 'RAIVNLab/MRL retrieval/README.md (funnel retrieval)',
    statement: "The paper's funnel (retrieve at 8 dims, re-rank at 16, 32, 64, 128, D with shortlists 200, 100, 50, 25, 10) matches exhaustive search at D",
    paperValue: 'funnel top-1 matches 2048-dim exhaustive top-1 (ImageNet-1K)',
    measures: 'paper-funnel top-1 minus exhaustive-D top-1, percentage points',
    metric: (r) => {
      const f = r.retrieval.points.find((p) => p.family === 'paper-funnel');
      return f ? pp(f.top1 - r.retrieval.exhaustiveFullTop1) : { notRun: 'no paper-funnel plan in the result', precondition: 'config' };
    },
    expect: { atLeast: -0.5 },
    toleranceWhy: 'Queries and database are the same for both plans (paired), so a 0.5 pp drop on 1–2k queries is a systematic loss of neighbours, not noise.',
    profiles: ['quick', 'full'],
  },
];
