/**
 * The distillation gaps (survey 001, §Distillation).
 *
 * Papers:
 * - Menon, Jayasumana, Rawat, Kim, Reddi, Kumar, "In defense of dual-encoders for neural
 *   ranking", ICML 2022 — score distillation from a cross-encoder (CE) into a dual encoder (DE).
 * - Kim, Rawat, Zaheer, Jayasumana, Sadhanala, Jitkrittum, Menon, Fergus, Kumar,
 *   "EmbedDistill: A Geometric Knowledge Distillation for Information Retrieval", 2023,
 *   https://arxiv.org/abs/2301.12005 — embedding matching, dual-pooling CE scorer,
 *   asymmetric students that inherit the teacher's (frozen) document tower.
 * - Harutyunyan, Rawat, Menon, Kim, Kumar, "Supervision Complexity and its Role in
 *   Knowledge Distillation", ICLR 2023, https://arxiv.org/abs/2301.12245 — online
 *   distillation from the teacher's training checkpoints.
 * - Stanton, Izmailov, Kirichenko, Alemi, Wilson, "Does Knowledge Distillation Really
 *   Work?", NeurIPS 2021, https://arxiv.org/abs/2106.05945 — fidelity vs accuracy.
 *
 * Experiment 1 (ranking gap): sentence -> next-sentence retrieval on the State of the
 * Union addresses (train/test split by address). CE teacher, DE baseline, DE distilled
 * by scores (softmax KL over candidates), DE distilled by scores + embedding matching,
 * and a small-query-tower DE that inherits the distilled DE's document tower, frozen.
 * Experiment 2 (capacity gap): MLP teachers of growing width and one narrow MLP student
 * on MNIST (quick) / Fashion-MNIST (full, when installed); the student learns from
 * labels, from the final teacher (offline) or from the teacher's per-epoch checkpoints
 * (online).
 *
 * Every ranking model's validation MRR (queries from the validation addresses) is measured
 * after every epoch; with `ranking.patience` > 0 (full) a model stops once it has not
 * improved for that many epochs.
 *
 * Cost (wasm, one thread, measured with ps on the shared 2-core machine, 2026-11-30):
 * - smoke: ~7 s (tests and notebook CI run it);
 * - quick: 3 seeds, 140 s of CPU per seed at load ~4 (150 s wall), 180-190 s at load 5-14
 *   (contention inflates CPU time too); the ranking half is ~85% of it: 5 models x 3
 *   epochs, whose time goes to the transformer kernels, BatchMatMul about half of it;
 *   the previous quick took ~236 s of CPU per seed. The small student no longer re-runs
 *   its frozen document tower (and its teacher's query tower) every step: both are
 *   computed once; the per-epoch validation costs ~1 s per model and epoch.
 * - full: 3 seeds, quick's models, up to 20 epochs per ranking model with patience 3 on 512
 *   validation queries (128 made early stopping fire on noise: the earlier full stopped after
 *   6-8 epochs with MRR still moving by ±0.02), the capacity models on 24k images for 10
 *   epochs — about 5 min of CPU a seed, ~15 min wall with --jobs 2 here (measured time in
 *   results/reference/full/distillation/run.json);
 * - paper: 3 seeds, up to 30 epochs per ranking model with patience 3 — meant for one GPU
 *   via webgpu; not timed (no GPU was lent to this task), far too slow for this CPU.
 *
 * Run:  npm run reproduce -- --only distillation --profile quick
 * Override, e.g.: npm run reproduce -- --only distillation --profile quick --set ranking.epochs=3 --set capacity.teacherWidths=64,1024
 */
import type { QueryMode } from '../../data/ranking-pairs';
import type { ProfileName } from '../../harness/contract';

export type ImageDatasetChoice = 'mnist' | 'fashion-mnist' | 'auto';

export interface RankingConfig {
  /** How a query is made from the text (lib/data/ranking-pairs.ts): 'keywords' or 'previous-sentence'. */
  query: QueryMode;
  keywordsFromPassage: number;
  keywordsFromContext: number;
  stopWords: number;
  /** Words in the vocabulary (counted on the training addresses), including <pad> and <unk>. */
  vocabSize: number;
  queryLength: number;
  passageLength: number;
  minWords: number;
  trainQueries: number;
  /** Queries from the validation addresses, with the test's candidate pool: every model's validation MRR after every epoch. */
  validationQueries: number;
  testQueries: number;
  /** Training candidates per query: 1 positive + hard (same address) + random (other addresses). */
  trainHardNegatives: number;
  trainRandomNegatives: number;
  /** Evaluation candidate pool per query. */
  evalHardNegatives: number;
  evalRandomNegatives: number;
  /** Teacher cross-encoder and the (same-size) dual-encoder towers. */
  width: number;
  depth: number;
  heads: number;
  ffnHidden: number;
  embedDim: number;
  /** The asymmetric student's query tower (its document tower is inherited, frozen). */
  smallWidth: number;
  smallDepth: number;
  smallHeads: number;
  smallFfnHidden: number;
  /** Maximum epochs per ranking model. */
  epochs: number;
  /** Stop a model once its validation MRR has not improved for this many epochs (0: train every epoch). */
  patience: number;
  batchSize: number;
  learningRate: number;
  /** Softmax temperature of score distillation. */
  temperature: number;
  /** Weight of the label loss next to the distillation loss in distilled students. */
  labelWeight: number;
  /** Weight of the embedding-matching loss (EmbedDistill). */
  embedWeight: number;
}

export interface CapacityConfig {
  /** 'auto' = Fashion-MNIST when installed, else MNIST. */
  dataset: ImageDatasetChoice;
  trainExamples: number;
  testExamples: number;
  /** Hidden widths of the teachers (two hidden layers each), smallest first. */
  teacherWidths: number[];
  /** Hidden width of the student (one hidden layer). */
  studentWidth: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Distillation temperature (same for offline and online). */
  temperature: number;
}

export interface DistillationConfig {
  ranking: RankingConfig;
  capacity: CapacityConfig;
}

const ranking: RankingConfig = {
  query: 'keywords',
  keywordsFromPassage: 3,
  keywordsFromContext: 3,
  stopWords: 50,
  vocabSize: 1000,
  queryLength: 8,
  passageLength: 20,
  minWords: 5,
  trainQueries: 4096,
  validationQueries: 128,
  testQueries: 256,
  trainHardNegatives: 2,
  trainRandomNegatives: 1,
  evalHardNegatives: 7,
  evalRandomNegatives: 24,
  width: 32,
  depth: 1,
  heads: 2,
  ffnHidden: 64,
  embedDim: 32,
  smallWidth: 8,
  smallDepth: 1,
  smallHeads: 2,
  smallFfnHidden: 16,
  epochs: 3,
  patience: 0,
  batchSize: 32,
  learningRate: 5e-3,
  temperature: 1,
  labelWeight: 0.5,
  embedWeight: 0.1,
};

const capacity: CapacityConfig = {
  dataset: 'mnist',
  trainExamples: 6000,
  testExamples: 10000,
  teacherWidths: [32, 128, 512],
  studentWidth: 8,
  epochs: 6,
  batchSize: 128,
  learningRate: 2e-3,
  temperature: 4,
};

export const PROFILES: Record<ProfileName, DistillationConfig> = {
  smoke: {
    ranking: { ...ranking, vocabSize: 500, trainQueries: 64, validationQueries: 16, testQueries: 16, width: 16, heads: 2, ffnHidden: 32, embedDim: 8, smallWidth: 8, smallFfnHidden: 16, depth: 1, stopWords: 20, epochs: 2, batchSize: 16, evalRandomNegatives: 8 },
    capacity: { ...capacity, trainExamples: 512, testExamples: 256, teacherWidths: [16, 32], studentWidth: 4, epochs: 2 },
  },
  quick: { ranking, capacity },
  // Sized for one GPU (webgpu): never run on this CPU; its code path is covered at smoke.
  paper: {
    // Up to 30 epochs, each model stopping once its validation MRR has not improved for 3.
    ranking: { ...ranking, vocabSize: 4000, stopWords: 100, trainQueries: 16384, validationQueries: 512, testQueries: 1024, width: 96, depth: 2, ffnHidden: 192, embedDim: 64, smallWidth: 24, smallFfnHidden: 48, epochs: 30, patience: 3 },
    capacity: { ...capacity, dataset: 'auto', trainExamples: 60000, teacherWidths: [32, 128, 512, 2048], epochs: 15 },
  },
  // The CPU's full: quick's data and models, each ranking model trained until its validation
  // MRR (512 queries) has not improved for 3 epochs (at most 20), the capacity models on 4x
  // the images for 10 epochs.
  full: {
    ranking: { ...ranking, validationQueries: 512, epochs: 20, patience: 3 },
    capacity: { ...capacity, trainExamples: 24000, epochs: 10 },
  },

};

export const DEFAULT_SEEDS: Record<ProfileName, number[]> = {
  smoke: [1],
  // Three seeds: every claim compares models within a seed, judged on the paired interval across seeds.
  quick: [1, 2, 3],
  full: [1, 2, 3],
  paper: [1, 2, 3],
};
