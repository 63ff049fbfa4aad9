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

/** 1-NN top-1 (exhaustive search at size m) of a retrieval family, per nested size; NaN where absent. */
export function oneNnTop1(r: MatryoshkaResult, family: 'mrl' | 'ff' | 'slicing' | 'svd'): number[] {
  return r.sizes.map((m) => r.retrieval.points.find((p) => p.family === family && p.dim === m)?.top1 ?? NaN);
}

/** min over nested sizes <= SMALL_SIZE_MAX of (MRL - sliced FF-D) 1-NN top-1, percentage points. */
export function minOneNnGapAtSmallSizes(r: MatryoshkaResult): number | NotRun {
  const mrl = oneNnTop1(r, 'mrl');
  const sliced = oneNnTop1(r, 'slicing');
  const gaps = r.sizes.flatMap((m, i) => (m <= SMALL_SIZE_MAX ? [pp(mrl[i] - sliced[i])] : []));
  if (gaps.length === 0) return { notRun: `no nested size <= ${SMALL_SIZE_MAX}`, precondition: 'config' };
  return Math.min(...gaps);
}

/** Largest held-out accuracy gain (pp) of MRL at a size <= SMALL_SIZE_MAX over the last stretch of its learning curve. */
export function lastStretchGain(r: MatryoshkaResult, model: 'mrl' | 'ff' = 'mrl'): number | NotRun {
  const rows = r.learningCurve[model];
  if (rows.length < 2) return { notRun: 'the learning curve has fewer than 2 points (curvePoints)', precondition: 'config' };
  const last = rows[rows.length - 1];
  const before = rows[rows.length - 2];
  const gains = r.sizes.flatMap((m, i) => (m <= SMALL_SIZE_MAX ? [pp(last[i] - before[i])] : []));
  if (gains.length === 0) return { notRun: `no nested size <= ${SMALL_SIZE_MAX}`, precondition: 'config' };
  return Math.max(...gains);
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
    profiles: ['quick', 'full', 'paper'],
    expected: {
      full: {
        verdict: 'inconclusive',
        reason:
          "Measured at full (Fashion-MNIST, 48k images x 6 epochs, 5 seeds): MRL's worst size is 0.65, 1.12, 3.76, 1.40 and 2.45 pp below the fixed-feature model of that size (interval [-3.4, -0.3]); with 24k images x 3 epochs it was 2.9, 3.2 and 7.9 pp below (3 seeds), at quick (1 epoch of MNIST) 22.7. The gap closes as training grows; at full three seeds are inside the -1.5 pp bound and two outside it (3.8 and 2.5 pp), so the interval straddles it.",
        evidence: "results/reference/full/matryoshka/claims.json and tables.json (npm run reproduce -- --only matryoshka --profile full): matryoshka-mrl-matches-ff",
      },
      quick: {
        verdict: 'not-reproduced',
        reason:
          'At quick (one epoch of 12k images, 187 Adam steps with a cosine rate) MRL ends far below FF at 2–8 dims, the worst size differing by seed (4 dims in seeds 1 and 3, 2 dims in seed 2), while from 16 dims up the two agree within 2.5 pp in every seed (table mrl-slicing-per-size). Measured: the learning curve shows MRL\'s 2–8-dim heads below FF-m\'s at every checkpoint and gaining at most ~1.6 pp in the last quarter of the steps, about as flat as FF\'s under the decaying rate (table mrl-learning-curve, check matryoshka-small-heads-converged): the small heads settle low rather than merely stopping early. That longer training (the paper\'s 40 epochs; full: 10, with a per-epoch curve) closes the gap is our hypothesis.',
        evidence: 'npm run reproduce -- --only matryoshka --profile quick: results/reference/quick/matryoshka/claims.json and tables.json (mrl-learning-curve, mrl-slicing-per-size)',
        hypothesis: true,
      },
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
    profiles: ['quick', 'full', 'paper'],
    expected: {
      quick: {
        verdict: 'inconclusive',
        reason:
          'The mean over sizes 2–8 hides opposite signs: per size (table mrl-slicing-per-size) a retrained probe on 2 sliced FF-256 coordinates is about as accurate as MRL\'s 2-dim head (MRL below it in two seeds of three), while at 8 dims MRL is ~12 pp ahead; across seeds the 4-dim gap swings from −11 to +14 pp with MRL\'s erratic small heads (see matryoshka-mrl-matches-ff), so three seeds leave the interval across 10 pp. 1-NN on the same slices separates clearly (claim matryoshka-mrl-beats-slicing-1nn).',
        evidence: 'npm run reproduce -- --only matryoshka --profile quick: results/reference/quick/matryoshka/claims.json and tables.json (mrl-slicing-per-size, mrl-learning-curve)',
      },
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
    profiles: ['quick', 'full', 'paper'],
    expected: {
      quick: {
        verdict: 'not-reproduced',
        reason:
          'PCA of the FF-256 features with a retrained probe beats MRL at every size up to 16 on the mean over seeds (table mrl-slicing-per-size): with 10 classes the discriminative subspace of a trained embedding has at most 9 dimensions and its top principal components capture it, unlike the paper\'s 1000-class rank-m classifier weight. Measured with it: MRL\'s own 2–8-dim heads sit below FF-m\'s throughout training (table mrl-learning-curve). That the 10-class setting, not MRL, is what PCA exploits is our hypothesis (full, on Fashion-MNIST, keeps 10 classes and cannot test it).',
        evidence: 'npm run reproduce -- --only matryoshka --profile quick: results/reference/quick/matryoshka/claims.json and tables.json (mrl-slicing-per-size, mrl-learning-curve)',
        hypothesis: true,
      },
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
    profiles: ['quick', 'full', 'paper'],
    expected: {
      full: {
        verdict: 'not-reproduced',
        reason:
          "Measured at full (48k x 6 epochs, 5 seeds): adaptive classification matches the accuracy of D with an embedding 4.3, 2.1, 2.5, 4.3 and 4.2 times smaller (interval [2.1, 4.9], below 7; the paper's 14x is on ImageNet); with 24k x 3 epochs 3.3, 2.2 and 5.2. On Fashion-MNIST the confidence thresholds that keep D's accuracy leave the mean size near a third of D (table mrl-adaptive-curve): more training made the full-size model better without making the small heads confident enough to stop earlier.",
        evidence: "results/reference/full/matryoshka/claims.json and tables.json (npm run reproduce -- --only matryoshka --profile full): matryoshka-adaptive-classification-size",
      },
      quick: {
        verdict: 'not-reproduced',
        reason:
          'The size reduction across thresholds (table mrl-adaptive-curve, figure matryoshka-adaptive-reduction): matching size-D accuracy on the holdout takes thresholds of 0.9–0.97, where the mean size is 54–84 of 256 (3–4.7x); 7x needs a threshold near 0.8, which costs ~0.7 pp of test accuracy, because MRL\'s 2–8-dim heads are far less accurate than FF\'s (matryoshka-mrl-matches-ff) and rarely confident enough to stop early.',
        evidence: 'npm run reproduce -- --only matryoshka --profile quick: results/reference/quick/matryoshka/claims.json and tables.json (mrl-adaptive-curve, mrl-slicing-per-size)',
      },
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
    profiles: ['quick', 'full', 'paper'],
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
    profiles: ['quick', 'full', 'paper'],
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
    profiles: ['quick', 'full', 'paper'],
    expected: {
      quick: {
        verdict: 'inconclusive',
        reason:
          'Three seeds: the paper\'s funnel loses 0.27 pp of top-1 against exhaustive search at D on average, and the spread between seeds leaves the interval across −0.5 pp (about 4 seeds would decide it at this spread).',
        evidence: 'npm run reproduce -- --only matryoshka --profile quick: results/reference/quick/matryoshka/claims.json and tables.json (the retrieval points of each seed, jobs/seed-*.json)',
      },
    },
  },
  {
    id: 'matryoshka-mrl-beats-slicing-1nn',
    kind: 'paper',
    falsifiedBy: 'MRL less than 5 points above the sliced FF-D embedding in 1-NN accuracy at any nested size <= 8',
    paper: PAPER,
    source: 'Fig. 3 data (RAIVNLab/MRL Visualization/Classification KNN performance PLot/PLOTS - Sheet14.csv: 1-NN accuracy, columns R50-NRL = MRL, R50-Rand = random features of FF-2048)',
    statement: 'At every small size, 1-nearest-neighbour classification with MRL\'s first m coordinates is far more accurate than with m coordinates kept from the FF-D embedding',
    paperValue: '1-NN top-1 at 8 dims: MRL 62.19 vs 2.36 for random features of FF-2048 (+59.8 pp); at 16: 67.91 vs 12.06; at 32: 69.46 vs 32.91',
    measures: `min over nested sizes <= ${SMALL_SIZE_MAX} of (MRL − sliced FF-D) 1-NN top-1 (exhaustive search at size m over the training images, test queries), percentage points`,
    metric: minOneNnGapAtSmallSizes,
    expect: { atLeast: 5 },
    toleranceWhy:
      'Judged per size (the minimum), not on an average that could hide a gap at 2 dims and none at 8. Ten classes leave far less room than the paper\'s 1000 (chance is 10%, not 0.1%), so we ask for 5 pp at every size: about three times the binomial std (~1.6 pp) of a top-1 on 1k queries, which a paired difference on the same queries only undercuts.',
    expected: {
      full: {
        verdict: 'inconclusive',
        reason:
          "Measured at full (48k x 6 epochs, 5 seeds): in 1-NN retrieval MRL beats the sliced fixed-feature embedding by 2.3, 6.1, 6.9, 10.2 and 14.1 pp at <= 8 dims (interval [2.4, 13.4] across the 5 pp bar); 24k x 3 epochs: 7.8 (3 seeds), quick (MNIST): 17.3. The seeds spread from 2 to 14 pp: the fixed-feature model's small slices are good for 1-NN in some seeds and not in others.",
        evidence: "results/reference/full/matryoshka/claims.json and tables.json (npm run reproduce -- --only matryoshka --profile full): matryoshka-mrl-beats-slicing-1nn",
      },
    },
    profiles: ['quick', 'full', 'paper'],
  },
  {
    id: 'matryoshka-small-heads-converged',
    kind: 'check',
    falsifiedBy: 'MRL still gaining more than 1 point of held-out accuracy at a size <= 8 over the last stretch of its training: its small heads are under-trained, and the comparisons at small sizes judge an unfinished model',
    paper: PAPER,
    source: 'training setup (the paper trains ResNet-50 for 40 epochs on ImageNet-1K)',
    statement: 'Training is long enough for MRL\'s small heads: their held-out accuracy has stopped rising by the end of training',
    paperValue: 'trained to convergence (40 epochs)',
    measures: `max over nested sizes <= ${SMALL_SIZE_MAX} of MRL's held-out accuracy gain over the last of the learning curve's stretches (the last quarter of the steps at quick), percentage points`,
    metric: (r) => lastStretchGain(r, 'mrl'),
    expect: { atMost: 1 },
    toleranceWhy: 'Set before the run: the same 1000 held-out images at both checkpoints (paired), so 1 pp is ~10 images more right, beyond the flips of a converged model; under a cosine schedule the last stretch runs at small rates, so a converged model gains far less.',
    profiles: ['quick', 'full', 'paper'],
    expected: {
      quick: {
        verdict: 'inconclusive',
        reason:
          'MRL\'s largest last-quarter gain at 2–8 dims is 1.2, 1.6 and 1.0 pp in the three seeds (table mrl-learning-curve), so the interval of their mean straddles the 1 pp bound: at the end of quick\'s one cosine-decayed epoch the small heads have nearly, not clearly, stopped rising.',
        evidence: 'npm run reproduce -- --only matryoshka --profile quick: results/reference/quick/matryoshka/claims.json and tables.json (mrl-learning-curve)',
      },
    },
  },
];
