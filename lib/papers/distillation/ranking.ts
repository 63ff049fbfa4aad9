/**
 * Experiment 1 — the cross-encoder / dual-encoder ranking gap and how much of it each
 * distillation recipe closes (Menon et al. 2022; EmbedDistill, Kim et al. 2023).
 *
 * Data (lib/data/ranking-pairs.ts): query = a sentence of a State of the Union address,
 * relevant passage = the next sentence. Training candidates per query: the positive, hard
 * negatives from the same address, a random negative from another address. Dual encoders
 * also see in-batch negatives: every other query's candidates in the batch (a [B, B*K]
 * score matrix); the cross-encoder scores only its own K candidates (it has to run once
 * per pair). Test queries come from the held-out addresses and are ranked against a pool
 * of 1 positive + same-address + other-address passages. Validation queries come from the
 * corpus's validation addresses (neither train nor test) with the test's candidate pool:
 * every model's validation MRR is measured after every epoch (its learning curve), and with
 * `patience` > 0 a model stops once that MRR has not improved for `patience` epochs.
 *
 * Models, in training order:
 *   cross         CE teacher, softmax loss over its candidates;
 *   dual          DE (towers the size of the CE, one shared token table), labels only (in-batch + hard negatives);
 *   dual-score    DE, labels + score distillation (softmax KL to the CE's candidate scores);
 *   dual-embed    DE, as dual-score + embedding matching to the CE's dual-pooled query and
 *                 document embeddings of the same pairs (EmbedDistill's CE->DE recipe;
 *                 squared error relative to the teacher's squared norm);
 *   dual-small    asymmetric student: a small query tower + dual-embed's document tower,
 *                 inherited and frozen; labels + score distillation from the CE + query
 *                 embedding matching to dual-embed's query tower (EmbedDistill's DE->DE recipe).
 */
import * as tf from '@tensorflow/tfjs';
import type { Stream } from '../../core/rng';
import { buildRankingSet, buildVocab, type RankingSet } from '../../data/ranking-pairs';
import type { TextCorpus } from '../../data/text';
import { embeddingMatchLoss, klDistillation, rankingQuality, type RankingQuality } from '../../nn/distill-losses';
import { CrossEncoder, DualEncoder, TextTower, type TowerConfig } from '../../nn/encoders';
import { crossEntropy, trainStep } from '../../nn/training';
import type { RunContext } from '../../harness/contract';
import type { RankingConfig } from './config';

export const RANKING_MODELS = ['cross', 'dual', 'dual-score', 'dual-embed', 'dual-small'] as const;
export type RankingModel = (typeof RANKING_MODELS)[number];
export const DISTILLED_MODELS = ['dual-score', 'dual-embed', 'dual-small'] as const;
export type DistilledModel = (typeof DISTILLED_MODELS)[number];

export interface RankingModelResult extends RankingQuality {
  /** Parameters that run per query at serving time (query tower; the whole CE). */
  queryParams: number;
  /** All parameters (both towers; the CE). */
  totalParams: number;
  /** Mean training loss of the last epoch. */
  finalLoss: number;
  /** Mean training loss of each epoch trained. */
  epochLoss: number[];
  /** Validation MRR after each epoch trained (held-out validation addresses). */
  validationMrr: number[];
}

export interface RankingResult {
  trainQueries: number;
  validationQueries: number;
  testQueries: number;
  trainCandidates: number;
  evalCandidates: number;
  vocabSize: number;
  models: Record<RankingModel, RankingModelResult>;
  /** (metric(student) - metric(dual)) / (metric(cross) - metric(dual)) on MRR; null if the CE does not beat the DE. */
  gapClosedMrr: Record<DistilledModel, number | null>;
  /** MRR(dual-small) / MRR(dual-embed): what the asymmetric student keeps of its DE teacher. */
  smallRetention: number;
}

/** Teacher (CE) outputs on the training candidates, precomputed once: what students distil from. */
interface TeacherTargets {
  scores: Float32Array; // [N, K]
  queryEmb: Float32Array; // [N, E]: the CE's pooled query embedding of (query, positive)
  docEmb: Float32Array; // [N, K, E]
}

interface Batch {
  rows: number[];
  queries: tf.Tensor2D;
  docs: tf.Tensor3D;
}

function makeBatch(set: RankingSet, rows: number[]): Batch {
  const { queryLength: lq, passageLength: lp, candidates: k } = set;
  const q = new Int32Array(rows.length * lq);
  const d = new Int32Array(rows.length * k * lp);
  rows.forEach((r, i) => {
    q.set(set.queries.subarray(r * lq, (r + 1) * lq), i * lq);
    d.set(set.passages.subarray(r * k * lp, (r + 1) * k * lp), i * k * lp);
  });
  return { rows, queries: tf.tensor2d(q, [rows.length, lq], 'int32'), docs: tf.tensor3d(d, [rows.length, k, lp], 'int32') };
}

function disposeBatch(b: Batch): void {
  b.queries.dispose();
  b.docs.dispose();
}

function gatherRows(src: Float32Array, rows: number[], width: number, shape: number[]): tf.Tensor {
  const out = new Float32Array(rows.length * width);
  rows.forEach((r, i) => out.set(src.subarray(r * width, (r + 1) * width), i * width));
  return tf.tensor(out, shape);
}

/** Softmax loss of each query against all B*K passages of the batch (its own positive is the target). */
function inBatchLabelLoss(queryEmb: tf.Tensor2D, docEmb: tf.Tensor3D): tf.Scalar {
  return tf.tidy(() => {
    const [b, k, e] = docEmb.shape;
    const all = tf.matMul(queryEmb, docEmb.reshape([b * k, e]), false, true);
    const targets = tf.tensor1d(
      Array.from({ length: b }, (_, i) => i * k),
      'int32',
    );
    return crossEntropy(all, targets);
  });
}

function ownLabelLoss(scores: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => crossEntropy(scores, tf.zeros([scores.shape[0]], 'int32')));
}

/** What `train` returns: each epoch's mean loss and validation MRR. */
interface TrainCurve {
  epochLoss: number[];
  validationMrr: number[];
}

/**
 * Shuffled epochs of mini-batches; `loss` builds the batch's loss. After every epoch the
 * model is scored on the validation set (`validate`); with cfg.patience > 0, training stops
 * once the validation MRR has not improved on its best for `patience` epochs (a decision on
 * a measured metric, never the clock).
 */
async function train(
  vars: tf.Variable[],
  set: RankingSet,
  cfg: RankingConfig,
  stream: Stream,
  loss: (b: Batch) => tf.Scalar,
  validate: () => Promise<number>,
  report: (epoch: number, meanLoss: number, validationMrr: number) => void,
): Promise<TrainCurve> {
  const opt = tf.train.adam(cfg.learningRate);
  const curve: TrainCurve = { epochLoss: [], validationMrr: [] };
  let best = -Infinity;
  let since = 0;
  for (let epoch = 0; epoch < cfg.epochs; epoch++) {
    const order = stream.permutation(set.count);
    const losses: tf.Scalar[] = [];
    for (let start = 0; start + cfg.batchSize <= set.count; start += cfg.batchSize) {
      const batch = makeBatch(set, Array.from(order.subarray(start, start + cfg.batchSize)));
      losses.push(tf.tidy(() => trainStep(opt, vars, () => loss(batch))));
      disposeBatch(batch);
    }
    // One readback per epoch, not per step.
    const total = tf.tidy(() => tf.addN(losses).div(losses.length));
    const mean = (await total.data())[0];
    total.dispose();
    for (const l of losses) l.dispose();
    const mrr = await validate();
    curve.epochLoss.push(mean);
    curve.validationMrr.push(mrr);
    report(epoch, mean, mrr);
    if (mrr > best) {
      best = mrr;
      since = 0;
    } else if (cfg.patience > 0 && ++since >= cfg.patience) break;
  }
  opt.dispose();
  return curve;
}

type Scorer = { score(q: tf.Tensor2D, d: tf.Tensor3D): { scores: tf.Tensor2D; queryEmb: tf.Tensor; docEmb: tf.Tensor3D } };

/** Runs `model` over every query of `set` (forward only) and returns its [N, K] scores and, if asked, embeddings. */
async function scoreAll(model: Scorer, set: RankingSet, batchSize: number, keepEmb: boolean): Promise<TeacherTargets> {
  const k = set.candidates;
  const scores = new Float32Array(set.count * k);
  let queryEmb = new Float32Array(0);
  let docEmb = new Float32Array(0);
  for (let start = 0; start < set.count; start += batchSize) {
    const rows = Array.from({ length: Math.min(batchSize, set.count - start) }, (_, i) => start + i);
    const batch = makeBatch(set, rows);
    const out = tf.tidy(() => {
      const r = model.score(batch.queries, batch.docs);
      // A CE's query embedding depends on the document: keep the (query, positive) one.
      const q = r.queryEmb.rank === 3 ? tf.squeeze(tf.slice(r.queryEmb, [0, 0, 0], [-1, 1, -1]), [1]) : r.queryEmb;
      return { s: r.scores, q, d: r.docEmb };
    });
    scores.set(await out.s.data(), start * k);
    if (keepEmb) {
      const e = out.q.shape[1] as number;
      if (queryEmb.length === 0) {
        queryEmb = new Float32Array(set.count * e);
        docEmb = new Float32Array(set.count * k * e);
      }
      queryEmb.set(await out.q.data(), start * e);
      docEmb.set(await out.d.data(), start * k * e);
    }
    tf.dispose([out.s, out.q, out.d]);
    disposeBatch(batch);
  }
  return { scores, queryEmb, docEmb };
}

function towerConfig(cfg: RankingConfig, vocab: number, small = false): TowerConfig {
  return small
    ? { vocab, width: cfg.smallWidth, depth: cfg.smallDepth, heads: cfg.smallHeads, ffnHidden: cfg.smallFfnHidden, embedDim: cfg.embedDim }
    : { vocab, width: cfg.width, depth: cfg.depth, heads: cfg.heads, ffnHidden: cfg.ffnHidden, embedDim: cfg.embedDim };
}

export function gapClosed(student: number, dual: number, cross: number): number | null {
  const gap = cross - dual;
  return gap > 0 ? (student - dual) / gap : null;
}

export async function runRanking(cfg: RankingConfig, corpus: TextCorpus, ctx: RunContext): Promise<RankingResult> {
  const vocab = buildVocab(corpus.documents.train, cfg.vocabSize);
  const queryOpts = { query: cfg.query, keywordsFromPassage: cfg.keywordsFromPassage, keywordsFromContext: cfg.keywordsFromContext, stopWords: cfg.stopWords };
  const evalOpts = { ...queryOpts, hardNegatives: cfg.evalHardNegatives, randomNegatives: cfg.evalRandomNegatives, queryLength: cfg.queryLength, passageLength: cfg.passageLength, minWords: cfg.minWords };
  const trainSet = buildRankingSet(
    corpus.documents.train,
    vocab,
    { ...queryOpts, queries: cfg.trainQueries, hardNegatives: cfg.trainHardNegatives, randomNegatives: cfg.trainRandomNegatives, queryLength: cfg.queryLength, passageLength: cfg.passageLength, minWords: cfg.minWords },
    ctx.rng.stream('ranking/train-set'),
  );
  const testSet = buildRankingSet(corpus.documents.test, vocab, { ...evalOpts, queries: cfg.testQueries }, ctx.rng.stream('ranking/test-set'));
  const validationSet = buildRankingSet(corpus.documents.validation, vocab, { ...evalOpts, queries: cfg.validationQueries }, ctx.rng.stream('ranking/validation-set'));
  ctx.log(
    `ranking: ${trainSet.count} train queries x ${trainSet.candidates} candidates, ${validationSet.count} validation and ${testSet.count} test queries x ${testSet.candidates}, vocab ${vocab.size}`,
  );
  const evalBatch = Math.max(1, Math.floor(512 / testSet.candidates));
  const progress = ctx.progress('ranking epochs', RANKING_MODELS.length * cfg.epochs);
  const models = {} as Record<RankingModel, RankingModelResult>;
  const validate = (model: Scorer) => async () => rankingQuality((await scoreAll(model, validationSet, evalBatch, false)).scores, validationSet.candidates).mrr;
  const evaluate = async (name: RankingModel, model: Scorer, queryParams: number, totalParams: number, curve: TrainCurve) => {
    const { scores } = await scoreAll(model, testSet, evalBatch, false);
    const finalLoss = curve.epochLoss[curve.epochLoss.length - 1];
    models[name] = { ...rankingQuality(scores, testSet.candidates), queryParams, totalParams, finalLoss, epochLoss: curve.epochLoss, validationMrr: curve.validationMrr };
    ctx.metric({ phase: 'ranking-eval', model: name, ...models[name] });
    ctx.log(`ranking ${name}: MRR ${models[name].mrr.toFixed(3)}, R@1 ${models[name].recallAt1.toFixed(3)}, R@5 ${models[name].recallAt5.toFixed(3)}; validation MRR by epoch ${curve.validationMrr.map((v) => v.toFixed(3)).join(' ')}`);
    // Epochs a patience stop skipped still count as done for the progress bar.
    for (let e = curve.epochLoss.length; e < cfg.epochs; e++) progress.tick(1, name);
  };
  const report = (name: RankingModel) => (epoch: number, loss: number, validationMrr: number) => {
    ctx.metric({ phase: 'ranking-train', model: name, epoch, loss, validationMrr });
    progress.tick(1, name);
  };

  // 1. Cross-encoder teacher.
  const ce = new CrossEncoder(towerConfig(cfg, vocab.size), ctx.rng, 'ce');
  const ceCurve = await train(ce.variables, trainSet, cfg, ctx.rng.stream('ranking/order/cross'), (b) => ownLabelLoss(ce.score(b.queries, b.docs).scores), validate(ce), report('cross'));
  await evaluate('cross', ce, ce.paramCount(), ce.paramCount(), ceCurve);
  const teacher = await scoreAll(ce, trainSet, evalBatch, true);
  ce.dispose();

  const k = trainSet.candidates;
  const e = cfg.embedDim;
  const targetsOf = (b: Batch) => ({
    scores: gatherRows(teacher.scores, b.rows, k, [b.rows.length, k]),
    queryEmb: gatherRows(teacher.queryEmb, b.rows, e, [b.rows.length, e]),
    docEmb: gatherRows(teacher.docEmb, b.rows, k * e, [b.rows.length, k, e]),
  });
  // Siamese-style input embeddings: both towers read one token table (blocks and projections
  // stay separate), so a word means the same thing on both sides from the first step.
  const newDual = (name: string) => {
    const query = new TextTower(towerConfig(cfg, vocab.size), ctx.rng, `${name}/query`);
    return new DualEncoder(query, new TextTower(towerConfig(cfg, vocab.size), ctx.rng, `${name}/doc`, { sharedEmbedding: query.embedding }));
  };
  const params = (m: DualEncoder) => ({ q: m.paramCount().query, all: m.paramCount().query + m.paramCount().doc });

  // 2. Dual encoder on labels only.
  const de = newDual('de');
  const deCurve = await train(
    de.trainableVariables(),
    trainSet,
    cfg,
    ctx.rng.stream('ranking/order/dual'),
    (b) => {
      const r = de.score(b.queries, b.docs);
      return inBatchLabelLoss(r.queryEmb as tf.Tensor2D, r.docEmb);
    },
    validate(de),
    report('dual'),
  );
  await evaluate('dual', de, params(de).q, params(de).all, deCurve);
  de.queryTower.dispose();
  de.docTower.dispose();

  // 3-4. Distilled dual encoders: scores only, then scores + embedding matching.
  const distilledLoss = (m: DualEncoder, b: Batch, embed: boolean) => {
    const r = m.score(b.queries, b.docs);
    const t = targetsOf(b);
    let loss = inBatchLabelLoss(r.queryEmb as tf.Tensor2D, r.docEmb).mul(cfg.labelWeight).add(klDistillation(r.scores, t.scores, cfg.temperature));
    if (embed) loss = loss.add(embeddingMatchLoss(r.queryEmb, t.queryEmb, { relative: true }).add(embeddingMatchLoss(r.docEmb, t.docEmb, { relative: true })).mul(cfg.embedWeight));
    return loss as tf.Scalar;
  };
  const deScore = newDual('de-score');
  const deScoreCurve = await train(deScore.trainableVariables(), trainSet, cfg, ctx.rng.stream('ranking/order/dual-score'), (b) => distilledLoss(deScore, b, false), validate(deScore), report('dual-score'));
  await evaluate('dual-score', deScore, params(deScore).q, params(deScore).all, deScoreCurve);
  deScore.queryTower.dispose();
  deScore.docTower.dispose();

  const deEmbed = newDual('de-embed');
  const deEmbedCurve = await train(deEmbed.trainableVariables(), trainSet, cfg, ctx.rng.stream('ranking/order/dual-embed'), (b) => distilledLoss(deEmbed, b, true), validate(deEmbed), report('dual-embed'));
  await evaluate('dual-embed', deEmbed, params(deEmbed).q, params(deEmbed).all, deEmbedCurve);

  // 5. Asymmetric small student: new small query tower, dual-embed's document tower frozen.
  // Both frozen parts are fixed for the whole training: dual-embed's document embeddings of
  // every training candidate and its query embedding of every training query are computed
  // once, not per step (the same numbers, without re-running the frozen towers).
  const frozen = await frozenEmbeddings(deEmbed, trainSet, evalBatch);
  const small = new DualEncoder(new TextTower(towerConfig(cfg, vocab.size, true), ctx.rng, 'de-small/query'), deEmbed.docTower);
  const smallCurve = await train(
    small.trainableVariables({ freezeDocTower: true }),
    trainSet,
    cfg,
    ctx.rng.stream('ranking/order/dual-small'),
    (b) => {
      const queryEmb = small.encodeQueries(b.queries);
      const docEmb = gatherRows(frozen.docEmb, b.rows, k * e, [b.rows.length, k, e]) as tf.Tensor3D;
      const scores = docEmb.mul(queryEmb.expandDims(1)).sum(-1) as tf.Tensor2D;
      const t = targetsOf(b);
      const teacherQuery = gatherRows(frozen.queryEmb, b.rows, e, [b.rows.length, e]);
      return inBatchLabelLoss(queryEmb, docEmb)
        .mul(cfg.labelWeight)
        .add(klDistillation(scores, t.scores, cfg.temperature))
        .add(embeddingMatchLoss(queryEmb, teacherQuery, { relative: true }).mul(cfg.embedWeight)) as tf.Scalar;
    },
    validate(small),
    report('dual-small'),
  );
  await evaluate('dual-small', small, params(small).q, params(small).all, smallCurve);
  small.queryTower.dispose();
  deEmbed.queryTower.dispose();
  deEmbed.docTower.dispose();

  const gapClosedMrr = {} as Record<DistilledModel, number | null>;
  for (const m of DISTILLED_MODELS) gapClosedMrr[m] = gapClosed(models[m].mrr, models.dual.mrr, models.cross.mrr);
  return {
    trainQueries: trainSet.count,
    validationQueries: validationSet.count,
    testQueries: testSet.count,
    trainCandidates: trainSet.candidates,
    evalCandidates: testSet.candidates,
    vocabSize: vocab.size,
    models,
    gapClosedMrr,
    smallRetention: models['dual-small'].mrr / models['dual-embed'].mrr,
  };
}

/** A trained dual encoder's query embedding of every query of `set` and document embedding of every candidate, [N, E] and [N, K, E]. */
async function frozenEmbeddings(m: DualEncoder, set: RankingSet, batchSize: number): Promise<{ queryEmb: Float32Array; docEmb: Float32Array }> {
  const out = await scoreAll(m, set, batchSize, true);
  return { queryEmb: out.queryEmb, docEmb: out.docEmb };
}
