/**
 * One seed of the MRL reproduction: a pure function of (config, ctx.seed).
 *
 * 1. Train, on the same batches in the same order: MRL, MRL-E (losses at every nested
 *    size), and one fixed-feature (FF) model per nested size m (the same CNN with a
 *    D = m embedding and plain cross-entropy).
 * 2. Classification accuracy at each size: MRL/MRL-E through their size-m classifier,
 *    FF-m through its own; slicing = a linear probe on the first m coordinates of FF-D;
 *    SVD = a linear probe on the top-m principal components of FF-D (Jacobi, lib/nn/svd.ts).
 * 3. Adaptive classification with MRL: each test image stops at the smallest size whose
 *    max softmax probability reaches a threshold; the threshold is the one with the
 *    smallest mean size whose accuracy on held-out training images matches size D.
 * 4. Retrieval (database = training images, queries = test images): exhaustive search at
 *    every size for MRL, FF-m, slices and PCA of FF-D; adaptive retrieval (shortlist at
 *    each small MRL size, re-rank at D) and funnels; top-1 / precision@10 vs exact FLOPs.
 */
import * as tf from '@tensorflow/tfjs';
import { UsageError } from '../../core/errors';
import { imageBatches, isFashionMnistInstalled, loadFashionMnist, loadMnist, takeImages, type ImageDataset, type ImageSet } from '../../data/images';
import { cnnFlops, SmallCnn, type CnnConfig } from '../../nn/cnn';
import { adaptiveClassify, createMrlHead, mrlLoss, nestingSizes, prefixAccuracies, prefixPredictions, type AdaptiveOutcome, type MrlHead, type MrlKind } from '../../nn/mrl';
import {
  adaptivePlan,
  exhaustivePlan,
  funnelPlan,
  planFlopsPerQuery,
  precisionAtK,
  RetrievalIndex,
  top1Accuracy,
  validatePlan,
  type RetrievalPlan,
} from '../../nn/retrieval';
import { pca, type Pca } from '../../nn/svd';
import { ParamStore } from '../../nn/layers';
import { cosineRate, setLearningRate, trainStep } from '../../nn/training';
import type { RunContext } from '../../harness/contract';
import { DATASETS, type DatasetName, type MatryoshkaConfig } from './config';
import { linearProbeAccuracy } from './probe';
import { configCheck } from '../../harness/validate';

/** Test accuracy (fraction) per nested size, ascending sizes. */
export interface AccuracyTable {
  mrl: number[];
  mrlE: number[] | null;
  ff: number[];
  slicing: number[];
  svd: number[];
}

export type RetrievalFamily = 'mrl' | 'ff' | 'slicing' | 'svd' | 'adaptive' | 'funnel' | 'paper-funnel';

export interface RetrievalPoint {
  family: RetrievalFamily;
  name: string;
  /** Size of the first (whole-database) stage. */
  dim: number;
  flopsPerQuery: number;
  top1: number;
  precision10: number;
}

export interface AdaptiveChoice extends AdaptiveOutcome {
  /** CNN trunk + embedding columns up to the stopping size + head, per image (mean). */
  meanTotalFlops: number;
  /** The same network always at size D with a plain classifier. */
  fullTotalFlops: number;
}

export interface AdaptiveResult {
  holdoutFullAccuracy: number;
  testFullAccuracy: number;
  holdoutSweep: { threshold: number; accuracy: number; meanSize: number }[];
  testSweep: AdaptiveOutcome[];
  /** Threshold picked on the holdout; null when none matched size D there (then every image uses D). */
  chosenThreshold: number | null;
  chosen: AdaptiveChoice;
}

/**
 * Held-out accuracy during training: after each of `steps` (the last = the end of training),
 * MRL at every nested size and FF-m at its own size m, on `examples` held-out images.
 */
export interface LearningCurve {
  examples: number;
  steps: number[];
  /** [checkpoint][size] */
  mrl: number[][];
  /** [checkpoint][size]: FF-m's accuracy, m = sizes[size] */
  ff: number[][];
}

export interface MatryoshkaResult {
  dataset: DatasetName;
  classes: number;
  sizes: number[];
  embeddingDim: number;
  trainExamples: number;
  testExamples: number;
  accuracy: AccuracyTable;
  /** Mean training loss over the last epoch, per model (mrl, mrl-e, ff-<m>). */
  finalTrainLoss: Record<string, number>;
  /** Fraction of FF-D feature variance in the top-m principal components, per size. */
  pcaVarianceExplained: number[];
  adaptive: AdaptiveResult;
  learningCurve: LearningCurve;
  retrieval: {
    databaseSize: number;
    queries: number;
    /** Top-1 of exhaustive MRL search at D: the accuracy every cheaper plan is judged against. */
    exhaustiveFullTop1: number;
    exhaustiveFullFlops: number;
    points: RetrievalPoint[];
  };
}

export function validateConfig(c: MatryoshkaConfig): void {
  configCheck('matryoshka', c)
    .oneOf('dataset', DATASETS)
    .integers(['trainExamples', 'holdoutExamples', 'testExamples', 'epochs', 'batchSize', 'embeddingDim', 'nestingStart', 'conv1Channels', 'conv2Channels', 'probeExamples', 'probeSteps', 'retrievalDatabase', 'retrievalQueries', 'shortlist', 'resultSize', 'funnelRetrieveDim'])
    .require(c.trainExamples + c.holdoutExamples <= 60000, 'trainExamples', `at most 60000 - holdoutExamples (the training set has 60000 images; holdoutExamples=${c.holdoutExamples})`)
    .integers(['testExamples'], { max: 10000 })
    .require(c.batchSize <= c.trainExamples, 'batchSize', `at most trainExamples=${c.trainExamples}`)
    .require(c.probeExamples <= c.trainExamples, 'probeExamples', `at most trainExamples=${c.trainExamples}`)
    .require(c.retrievalDatabase <= c.trainExamples, 'retrievalDatabase', `at most trainExamples=${c.trainExamples} (the database is the training images)`)
    .require(c.retrievalQueries <= c.testExamples, 'retrievalQueries', `at most testExamples=${c.testExamples}`)
    .numbers(['learningRate', 'probeLearningRate'])
    .require(c.shortlist <= c.retrievalDatabase, 'shortlist', `at most retrievalDatabase=${c.retrievalDatabase}`)
    .require(c.resultSize <= c.shortlist, 'resultSize', `at most shortlist=${c.shortlist}`)
    .integers(['resultSize'], { min: 10 })
    .integers(['curvePoints', 'curveExamples'])
    .require(c.curveExamples <= c.holdoutExamples, 'curveExamples', `at most holdoutExamples=${c.holdoutExamples} (the curve is measured on held-out images)`)
    .list('adaptiveThresholds', { above: 0, max: 1 });
  const sizes = nestingSizes(c.nestingStart, c.embeddingDim);
  validatePlan(paperFunnel(c, sizes), c.embeddingDim, c.retrievalDatabase);
}

/** The paper's funnel with 2048 replaced by D: retrieve at funnelRetrieveDim, re-rank at funnelCascade then D. */
export function paperFunnel(c: MatryoshkaConfig, sizes = nestingSizes(c.nestingStart, c.embeddingDim)): RetrievalPlan {
  const cascade = [...c.funnelCascade.filter((d) => d < c.embeddingDim), c.embeddingDim];
  const shortlists = c.funnelShortlists.slice(0, cascade.length);
  if (shortlists.length !== cascade.length) throw new UsageError(`matryoshka config funnelShortlists needs ${cascade.length} entries (initial shortlist + one per re-rank but the last), got ${c.funnelShortlists.length}`);
  for (const d of [c.funnelRetrieveDim, ...cascade]) if (!sizes.includes(d)) throw new UsageError(`matryoshka config funnel size ${d} is not a nested size (${sizes.join(', ')})`);
  const plan = funnelPlan(c.funnelRetrieveDim, cascade, shortlists);
  // The last re-rank returns resultSize neighbours.
  plan.stages[plan.stages.length - 1] = { dim: c.embeddingDim, keep: c.resultSize };
  return { ...plan, name: `paper funnel ${c.funnelRetrieveDim} -> [${cascade.join(', ')}], shortlists [${shortlists.slice(0, -1).join(', ')}, ${c.resultSize}]` };
}

/** Funnel from `dim` through every larger nested size, halving the shortlist from k (never below resultSize). */
export function halvingFunnel(dim: number, sizes: number[], shortlist: number, resultSize: number): RetrievalPlan {
  const cascade = sizes.filter((m) => m > dim);
  const stages = [{ dim, keep: shortlist }];
  let keep = shortlist;
  cascade.forEach((m, i) => {
    keep = i === cascade.length - 1 ? resultSize : Math.max(resultSize, Math.floor(keep / 2));
    stages.push({ dim: m, keep });
  });
  return { name: `funnel ${dim} -> [${cascade.join(', ')}]`, stages };
}

export function loadDataset(name: string): ImageDataset {
  return name === 'fashion-mnist' ? loadFashionMnist() : loadMnist();
}

export function unavailableReason(c: MatryoshkaConfig): string | undefined {
  if (c.dataset === 'fashion-mnist' && !isFashionMnistInstalled())
    return 'Fashion-MNIST is not installed (Debian package dataset-fashion-mnist: apt-get install dataset-fashion-mnist); run with --set dataset=mnist to use MNIST instead';
  return undefined;
}

/** The last `count` images of a set, as views. */
function tailImages(set: ImageSet, count: number): ImageSet {
  const px = set.height * set.width;
  const start = set.count - count;
  return { ...set, count, images: set.images.subarray(start * px, set.count * px), labels: set.labels.subarray(start, set.count) };
}

function toFloat(set: ImageSet): Float32Array {
  const out = new Float32Array(set.images.length);
  for (let i = 0; i < out.length; i++) out[i] = set.images[i] / 255;
  return out;
}

/** Mean and std of the pixels of a set (in [0, 1]), for input standardisation. */
export function pixelStats(set: ImageSet): { mean: number; std: number } {
  let sum = 0;
  let sq = 0;
  for (let i = 0; i < set.images.length; i++) {
    const v = set.images[i] / 255;
    sum += v;
    sq += v * v;
  }
  const mean = sum / set.images.length;
  return { mean, std: Math.sqrt(Math.max(sq / set.images.length - mean * mean, 1e-12)) };
}


export interface TrainedModel {
  name: string;
  store: ParamStore;
  cnn: SmallCnn;
  head: MrlHead;
  finalLoss: number;
  /** The `curve` evaluation after each checkpoint step (empty without one). */
  curve: number[][];
}

/** Checkpoints of a learning curve: the ends of `points` equal stretches of `totalSteps` (the last = totalSteps). */
export function curveSteps(totalSteps: number, points: number): number[] {
  const out: number[] = [];
  for (let i = 1; i <= points; i++) {
    const s = Math.max(1, Math.round((totalSteps * i) / points));
    if (!out.includes(s)) out.push(s);
  }
  return out;
}

/** Trains one CNN + MRL head (a single size = a fixed-feature model) with Adam and a cosine schedule. */
export async function trainModel(
  name: string,
  kind: MrlKind,
  dim: number,
  sizes: number[],
  train: ImageSet,
  classes: number,
  c: MatryoshkaConfig,
  ctx: RunContext,
  input = pixelStats(train),
  curve?: { steps: number[]; evaluate(cnn: SmallCnn, head: MrlHead): Promise<number[]> },
): Promise<TrainedModel> {
  const store = new ParamStore(ctx.rng, name);
  const cnnConfig: CnnConfig = { height: train.height, width: train.width, conv1Channels: c.conv1Channels, conv2Channels: c.conv2Channels, embeddingDim: dim };
  const cnn = new SmallCnn(cnnConfig, store, 'cnn', input);
  const head = createMrlHead(store, 'head', kind, sizes, classes);
  const opt = tf.train.adam(c.learningRate);
  const stepsPerEpoch = Math.floor(train.count / c.batchSize);
  const totalSteps = c.epochs * stepsPerEpoch;
  let step = 0;
  const progress = ctx.progress(`train ${name}`, totalSteps);
  const t0 = performance.now();
  let finalLoss = NaN;
  const curveValues: number[][] = [];
  for (let e = 0; e < c.epochs; e++) {
    // Every model sees the same batches in the same order (a paired comparison).
    const stream = ctx.rng.stream(`data/epoch-${e}`);
    let lossSum = tf.scalar(0);
    let steps = 0;
    for (const batch of imageBatches(train, c.batchSize, stream, { dropLast: true })) {
      setLearningRate(opt, cosineRate(c.learningRate, step++, totalSteps));
      const next = tf.tidy(() => {
        const patches = cnn.patches(batch.x, c.batchSize);
        const labels = tf.tensor1d(batch.y, 'int32');
        const loss = trainStep(opt, store.variables, () => mrlLoss(cnn.forward(patches, c.batchSize), labels, head));
        return lossSum.add(loss) as tf.Scalar;
      });
      lossSum.dispose();
      lossSum = next;
      steps++;
      progress.tick();
      if (curve && curve.steps.includes(step)) curveValues.push(await curve.evaluate(cnn, head));
    }
    finalLoss = (await lossSum.data())[0] / steps;
    lossSum.dispose();
    ctx.metric({ model: name, epoch: e + 1, trainLoss: finalLoss });
  }
  opt.dispose();
  ctx.metric({ model: name, trainSeconds: (performance.now() - t0) / 1000 });
  return { name, store, cnn, head, finalLoss, curve: curveValues };
}

async function accuracies(model: TrainedModel, z: Float32Array, labels: ArrayLike<number>, count: number) {
  const zt = tf.tensor2d(z, [count, model.cnn.config.embeddingDim]);
  const pred = await prefixPredictions(zt, model.head);
  zt.dispose();
  return { pred, acc: prefixAccuracies(pred, Array.from({ length: count }, (_, i) => labels[i])) };
}

function prefixRows(x: Float32Array, rows: number, dim: number, d: number): Float32Array {
  if (d === dim) return x.subarray(0, rows * dim);
  const out = new Float32Array(rows * d);
  for (let r = 0; r < rows; r++) out.set(x.subarray(r * dim, r * dim + d), r * d);
  return out;
}

/** Coordinates on the top-k principal directions (float32 tfjs matMul). */
async function projectAsync(p: Pca, x: Float32Array, rows: number, k: number): Promise<Float32Array> {
  const t = tf.tidy(() => {
    const comps = tf.tensor2d(Float32Array.from(p.components.subarray(0, k * p.dim)), [k, p.dim]);
    const xc = tf.tensor2d(x.subarray(0, rows * p.dim), [rows, p.dim]).sub(tf.tensor1d(Float32Array.from(p.mean)));
    return tf.matMul(xc, comps.transpose());
  });
  const out = (await t.data()) as Float32Array;
  t.dispose();
  return out;
}
export async function run(c: MatryoshkaConfig, ctx: RunContext): Promise<MatryoshkaResult> {
  const why = unavailableReason(c);
  if (why) throw new UsageError(why);
  const data = loadDataset(c.dataset);
  const classes = data.classes;
  const sizes = nestingSizes(c.nestingStart, c.embeddingDim);
  const D = c.embeddingDim;
  const train = takeImages(data.train, c.trainExamples);
  const holdout = tailImages(data.train, c.holdoutExamples);
  const test = takeImages(data.test, c.testExamples);
  const trainX = toFloat(takeImages(data.train, Math.max(c.retrievalDatabase, c.probeExamples)));
  const trainEmbedCount = Math.max(c.retrievalDatabase, c.probeExamples);
  const testX = toFloat(test);
  const holdoutX = toFloat(holdout);
  const Q = c.retrievalQueries;
  const N = c.retrievalDatabase;
  ctx.log(`${data.name}: train ${train.count}, holdout ${holdout.count}, test ${test.count}; sizes ${sizes.join(', ')}`);

  const input = pixelStats(train); // one standardisation for every model
  const finalTrainLoss: Record<string, number> = {};
  const points: RetrievalPoint[] = [];
  const dbLabels = train.labels.subarray(0, N);
  const qLabels = test.labels.subarray(0, Q);

  const evalPlan = async (index: RetrievalIndex, plan: RetrievalPlan, queries: Float32Array, family: RetrievalFamily, extraFlops = 0) => {
    const nb = await index.run(plan, queries, Q, index.dim);
    const width = plan.stages[plan.stages.length - 1].keep;
    points.push({
      family,
      name: plan.name,
      dim: plan.stages[0].dim,
      flopsPerQuery: planFlopsPerQuery(plan, N) + extraFlops,
      top1: top1Accuracy(nb, width, qLabels, dbLabels),
      precision10: precisionAtK(nb, width, 10, qLabels, dbLabels),
    });
  };

  let t = performance.now();
  const phase = (name: string) => {
    const now = performance.now();
    ctx.metric({ phase: name, seconds: (now - t) / 1000 });
    t = now;
  };
  // The learning curve: held-out images (never trained on), evaluated during training.
  const curveCount = c.curveExamples;
  const curveX = holdoutX.subarray(0, curveCount * train.height * train.width);
  const curveLabels = Array.from(holdout.labels.subarray(0, curveCount));
  const checkpoints = curveSteps(c.epochs * Math.floor(train.count / c.batchSize), c.curvePoints);
  const curve = {
    steps: checkpoints,
    evaluate: async (cnn: SmallCnn, head: MrlHead): Promise<number[]> => {
      const z = tf.tensor2d(await cnn.embedImages(curveX, curveCount), [curveCount, cnn.config.embeddingDim]);
      const pred = await prefixPredictions(z, head);
      z.dispose();
      return prefixAccuracies(pred, curveLabels);
    },
  };

  // --- MRL (with adaptive classification and retrieval) ---
  const mrl = await trainModel('mrl', 'mrl', D, sizes, train, classes, c, ctx, input, curve);
  finalTrainLoss.mrl = mrl.finalLoss;
  phase('train mrl');
  const mrlTest = await mrl.cnn.embedImages(testX, test.count);
  const mrlHold = await mrl.cnn.embedImages(holdoutX, holdout.count);
  const mrlTrain = await mrl.cnn.embedImages(trainX, N);
  const { pred: testPred, acc: mrlAcc } = await accuracies(mrl, mrlTest, test.labels, test.count);
  const { pred: holdPred } = await accuracies(mrl, mrlHold, holdout.labels, holdout.count);
  const adaptive = adaptiveResult(testPred, holdPred, test.labels, holdout.labels, c, classes, mrl.cnn.config);

  const mrlIndex = new RetrievalIndex(mrlTrain, N, D, { firstStageWidth: c.shortlist });
  const mrlQueries = mrlTest.subarray(0, Q * D);
  const exhaustiveFull = exhaustivePlan(D, c.resultSize);
  for (const m of sizes) await evalPlan(mrlIndex, m === D ? exhaustiveFull : exhaustivePlan(m, c.resultSize), mrlQueries, 'mrl');
  for (const m of sizes.filter((s) => s < D)) {
    await evalPlan(mrlIndex, adaptivePlan(m, c.shortlist, D, c.resultSize), mrlQueries, 'adaptive');
    if (sizes.filter((s) => s > m).length > 1) await evalPlan(mrlIndex, halvingFunnel(m, sizes, c.shortlist, c.resultSize), mrlQueries, 'funnel');
  }
  await evalPlan(mrlIndex, paperFunnel(c, sizes), mrlQueries, 'paper-funnel');
  mrl.store.dispose();
  phase('evaluate mrl (classification, adaptive, retrieval)');
  const exhaustiveFullTop1 = points.find((p) => p.family === 'mrl' && p.dim === D)?.top1 ?? NaN;

  // --- MRL-E ---
  let mrlEAcc: number[] | null = null;
  if (c.trainMrlE) {
    const mrlE = await trainModel('mrl-e', 'mrl-e', D, sizes, train, classes, c, ctx, input);
    finalTrainLoss['mrl-e'] = mrlE.finalLoss;
    mrlEAcc = (await accuracies(mrlE, await mrlE.cnn.embedImages(testX, test.count), test.labels, test.count)).acc;
    mrlE.store.dispose();
    phase('train + evaluate mrl-e');
  }

  // --- FF at every size; FF-D also feeds slicing and SVD ---
  const ffAcc: number[] = [];
  const slicingAcc: number[] = [];
  const svdAcc: number[] = [];
  let pcaVarianceExplained: number[] = [];
  const ffCurves: number[][] = []; // [size][checkpoint]
  for (const m of sizes) {
    const ff = await trainModel(`ff-${m}`, 'mrl', m, [m], train, classes, c, ctx, input, curve);
    ffCurves.push(ff.curve.map((row) => row[0]));
    finalTrainLoss[`ff-${m}`] = ff.finalLoss;
    const ffTest = await ff.cnn.embedImages(testX, test.count);
    ffAcc.push((await accuracies(ff, ffTest, test.labels, test.count)).acc[0]);
    const ffTrain = await ff.cnn.embedImages(trainX, trainEmbedCount);
    const ffIndex = new RetrievalIndex(ffTrain.subarray(0, N * m), N, m);
    await evalPlan(ffIndex, exhaustivePlan(m, c.resultSize), ffTest.subarray(0, Q * m), 'ff');
    phase(`train + evaluate ff-${m}`);
    if (m === D) {
      const probeCount = c.probeExamples;
      const probeLabels = train.labels.subarray(0, probeCount);
      for (const k of sizes) {
        const tr = prefixRows(ffTrain, probeCount, D, k);
        const te = prefixRows(ffTest, test.count, D, k);
        slicingAcc.push(await linearProbeAccuracy({ x: tr, labels: probeLabels, count: probeCount }, { x: te, labels: test.labels, count: test.count }, k, classes, c.probeSteps, c.probeLearningRate));
        await evalPlan(new RetrievalIndex(prefixRows(ffTrain, N, D, k), N, k), exhaustivePlan(k, c.resultSize), prefixRows(ffTest, Q, D, k), 'slicing');
      }
      phase('slicing probes + retrieval');
      const p = pca(ffTrain.subarray(0, probeCount * D), probeCount, D);
      const totalVar = p.variances.reduce((a, b) => a + Math.max(b, 0), 0);
      pcaVarianceExplained = sizes.map((k) => p.variances.subarray(0, k).reduce((a, b) => a + Math.max(b, 0), 0) / totalVar);
      phase('pca (covariance + Jacobi)');
      const trP = await projectAsync(p, ffTrain, trainEmbedCount, D);
      const teP = await projectAsync(p, ffTest, test.count, D);
      for (const k of sizes) {
        svdAcc.push(
          await linearProbeAccuracy(
            { x: prefixRows(trP, probeCount, D, k), labels: probeLabels, count: probeCount },
            { x: prefixRows(teP, test.count, D, k), labels: test.labels, count: test.count },
            k,
            classes,
            c.probeSteps,
            c.probeLearningRate,
          ),
        );
        // Projecting a query onto k directions costs k dot products of length D: k (2D - 1) FLOPs.
        await evalPlan(new RetrievalIndex(prefixRows(trP, N, D, k), N, k), exhaustivePlan(k, c.resultSize), prefixRows(teP, Q, D, k), 'svd', k * (2 * D - 1));
      }
      phase('svd probes + retrieval');
    }
    ff.store.dispose();
  }

  return {
    dataset: data.name,
    classes,
    sizes,
    embeddingDim: D,
    trainExamples: train.count,
    testExamples: test.count,
    accuracy: { mrl: mrlAcc, mrlE: mrlEAcc, ff: ffAcc, slicing: slicingAcc, svd: svdAcc },
    finalTrainLoss,
    pcaVarianceExplained,
    adaptive,
    learningCurve: { examples: curveCount, steps: checkpoints, mrl: mrl.curve, ff: checkpoints.map((_, k) => ffCurves.map((row) => row[k])) },
    retrieval: { databaseSize: N, queries: Q, exhaustiveFullTop1, exhaustiveFullFlops: planFlopsPerQuery(exhaustiveFull, N), points },
  };
}

function adaptiveResult(
  testPred: Awaited<ReturnType<typeof prefixPredictions>>,
  holdPred: Awaited<ReturnType<typeof prefixPredictions>>,
  testLabels: ArrayLike<number>,
  holdLabels: ArrayLike<number>,
  c: MatryoshkaConfig,
  classes: number,
  cnnConfig: CnnConfig,
): AdaptiveResult {
  const sizes = testPred.sizes;
  const last = sizes.length - 1;
  const holdAcc = prefixAccuracies(holdPred, holdLabels);
  const testAcc = prefixAccuracies(testPred, testLabels);
  const holdoutSweep = c.adaptiveThresholds.map((t) => {
    const o = adaptiveClassify(holdPred, holdLabels, t, 'mrl', classes);
    return { threshold: t, accuracy: o.accuracy, meanSize: o.meanSize };
  });
  const testSweep = c.adaptiveThresholds.map((t) => adaptiveClassify(testPred, testLabels, t, 'mrl', classes));
  // The cheapest threshold that is as accurate as size D on the holdout (ties: the smaller mean size).
  let chosenThreshold: number | null = null;
  let best = Infinity;
  for (const h of holdoutSweep)
    if (h.accuracy >= holdAcc[last] && h.meanSize < best) {
      best = h.meanSize;
      chosenThreshold = h.threshold;
    }
  // No threshold: every image goes to D (threshold above any probability).
  const outcome = adaptiveClassify(testPred, testLabels, chosenThreshold ?? 2, 'mrl', classes);
  const trunk = cnnFlops(cnnConfig, 0).trunk;
  let embedSum = 0;
  outcome.stops.forEach((n, i) => (embedSum += n * cnnFlops(cnnConfig, sizes[i]).embedding));
  const total = outcome.stops.reduce((a, b) => a + b, 0);
  const chosen: AdaptiveChoice = {
    ...outcome,
    threshold: chosenThreshold ?? 1,
    meanTotalFlops: trunk + embedSum / total + outcome.meanHeadFlops,
    // Plain FF-style inference at D: trunk + embedding + one classifier (no confidence needed).
    fullTotalFlops: cnnFlops(cnnConfig, sizes[last]).total + 2 * sizes[last] * classes,
  };
  return { holdoutFullAccuracy: holdAcc[last], testFullAccuracy: testAcc[last], holdoutSweep, testSweep, chosenThreshold, chosen };
}
