/**
 * One seed of CALM: a pure function of (config, ctx.seed) except the wall-clock times,
 * which are measurements only (no decision reads the clock).
 *
 * 1. Train the early-exit LM on SOTU train bytes (depth-weighted per-layer losses), then
 *    the exit classifier on the frozen LM.
 * 2. Candidate thresholds per measure: quantiles of the measure's confidences on training
 *    text (so the grid does not look at calibration data).
 * 3. Prompts: byte windows of validation documents (calibration) and test documents (test).
 *    The full model's greedy continuation is the reference; for every (measure, λ, prompt)
 *    the early-exit continuation gives a risk 1 - consistency and a mean exit layer
 *    (batched masked simulation: same decisions as the real decoder).
 * 4. Learn-then-Test per (measure, δ) on the calibration prompts; risk and layers on the
 *    test prompts; the guarantee re-checked over random re-splits of all prompts (counting
 *    only the re-splits that certified a threshold).
 * 5. Model quality and the oracle: every layer's validation loss, next-byte accuracy and
 *    agreement with the last layer, and for each byte the shallowest layer whose prediction
 *    already equals the full model's (on validation text and on the full model's own
 *    continuations of the test prompts): the best any confidence measure could do.
 * 6. Real early-exit decoding vs the full model (K/V cache, batch 1, same process), timed
 *    in rounds: each round one ctx.exclusive section in which the full model and each timed
 *    early-exit decoder decode the same fresh test prompts, interleaved; per-round paired
 *    speed-ups. Timed decoders: softmax response at the reference δ, and the calibrated
 *    decoder with the fewest layers on the calibration prompts among all measures at δ ≤ 0.2.
 */
import * as tf from '@tensorflow/tfjs';
import { UsageError } from '../../core/errors';
import type { Stream } from '../../core/rng';
import { decodeBytes, loadSotu, sampleTextBatch, type TextCorpus, type TextSplit } from '../../data/text';
import {
  CONFIDENCE_MEASURES,
  decayedThreshold,
  EarlyExitLM,
  decodeBatch,
  decodeEarlyExit,
  decodeFull,
  softmaxResponse,
  stateSaturation,
  type ConfidenceMeasure,
  type EarlyExitTrace,
} from '../../nn/early-exit';
import { learnThenTest } from '../../nn/learn-then-test';
import { cosineRate, setLearningRate, trainStep } from '../../nn/training';
import type { RunContext } from '../../harness/contract';
import { LR_SCHEDULES, type CalmConfig } from './config';
import { checkConsistencyMetric, CONSISTENCY_METRICS, consistency, rougeL, tokenAgreement } from './consistency';
import { configCheck } from '../../harness/validate';

export interface CalibrationPoint {
  delta: number;
  /** Calibrated threshold (null: nothing certified, the full model is used). */
  lambda: number | null;
  /** Its index in the measure's grid (-1: full model). */
  lambdaIndex: number;
  /** Mean risk on the calibration prompts at λ̂ (0 for the full model). */
  calRisk: number;
  /** Mean exit layer over calibration tokens at λ̂ (depth for the full model): how the timed 'best' decoder is chosen. */
  calLayers: number;
  /** Mean risk on the test prompts at λ̂. */
  testRisk: number;
  /** Mean exit layer over test tokens at λ̂ (depth for the full model). */
  testLayers: number;
  testTokenAgreement: number;
  testRougeL: number;
  /** Random calibration/test re-splits of all prompts: how many certified a threshold, and of those how many kept test risk <= δ. */
  resplits: number;
  certified: number;
  held: number;
}

export interface MeasureResult {
  measure: ConfidenceMeasure;
  /** Candidate thresholds, most conservative first. */
  grid: number[];
  /** Per λ: mean risk and mean exit layer over calibration and test prompts. */
  calRiskByLambda: number[];
  testRiskByLambda: number[];
  testLayersByLambda: number[];
  calibration: CalibrationPoint[];
  /** Test tokens exiting at layer 1..depth at the reference δ. */
  exitHistogram: number[];
  /** The measure without the cascade (teacher-forced on the full model's continuations), over a fine grid of λ. */
  teacherForced: TeacherForcedCurve;
}

/**
 * A confidence measure judged like the oracle: teacher-forced on the full model's greedy
 * continuations of the test prompts, each byte exits at the first layer whose confidence
 * reaches the (decayed) threshold λ, so a wrong early byte does not change later ones.
 * Per λ of a fine grid (most permissive first, the last one never exits): the share of
 * bytes equal to the full model's and the mean exit layer. Its gap to the oracle is the
 * measure's; the calibrated decoder's further gap is the cascade's (free-running: one early
 * wrong byte shifts every later one) and the calibration's.
 */
export interface TeacherForcedCurve {
  consistency: number[];
  layers: number[];
}

/** The fewest mean layers on a teacher-forced curve that keep at least `target` consistency (the never-exit point always does). */
export function teacherForcedLayers(curve: TeacherForcedCurve, target: number): number {
  let best = Infinity;
  curve.consistency.forEach((c, i) => {
    if (c >= target - 1e-9) best = Math.min(best, curve.layers[i]);
  });
  return best;
}

export interface CalmSample {
  measure: ConfidenceMeasure;
  delta: number;
  lambda: number | null;
  prompt: string;
  /** Generated bytes and the layer each one exited at. */
  tokens: number[];
  exitLayers: number[];
  fullText: string;
}

/** A timed early-exit decoder: per-round wall ms on the round's prompts (paired with the full model's). */
export interface TimedDecoder {
  measure: ConfidenceMeasure;
  delta: number;
  lambda: number;
  /** 'reference': softmax at the reference δ; 'best': fewest calibration layers among all measures at δ <= 0.2. */
  roles: ('reference' | 'best')[];
  ms: number[];
  /** Mean layers per generated token in the real decoder, and mean exit tests per token (layers 1..depth-1 evaluated). */
  realLayers: number;
  exitTests: number;
  /** Fraction of tokens the real decoder shares with the batched simulation (1 = same decisions). */
  realMatchesSimulation: number;
}

export interface CalmTiming {
  rounds: number;
  promptsPerRound: number;
  tokensPerRound: number;
  /** Full model: wall ms per round. */
  fullMs: number[];
  decoders: TimedDecoder[];
}

/** Per layer, teacher-forced on validation text. */
export interface LayerQuality {
  /** Cross-entropy of the layer's prediction through the shared head (nats/byte). */
  valLoss: number[];
  /** Next-byte accuracy of the layer's argmax. */
  accuracy: number[];
  /** Share of positions where the layer's argmax equals the last layer's. */
  agreeWithLast: number[];
}

/**
 * The oracle: for each byte, the shallowest layer whose argmax already equals the last
 * layer's (teacher-forced, every layer computed). counts[l - 1] = bytes with oracle depth l.
 */
export interface OracleHistogram {
  counts: number[];
  /** Positions where the teacher-forced last layer disagrees with the byte the full decoder generated (float noise; ~0). */
  lastLayerMismatch: number;
}

export interface TrainPoint {
  step: number;
  loss: number;
  valLoss: number;
}

export interface CalmResult {
  depth: number;
  paramCount: number;
  /** Batch loss and the last layer's validation loss (nats/byte) along training. */
  trainLoss: TrainPoint[];
  /** Validation loss, next-byte accuracy and agreement with the last layer, per layer. */
  layerQuality: LayerQuality;
  /** Exit classifier: balanced accuracy at 0.5 on validation text, layers 1..L-1 pooled. */
  classifierBalancedAccuracy: number;
  /** The oracle on validation text and on the full model's greedy continuations of the test prompts (the decoding setting). */
  oracle: { validation: OracleHistogram; decoding: OracleHistogram };
  calPrompts: number;
  testPrompts: number;
  genLen: number;
  referenceDelta: number;
  epsilon: number;
  timing: CalmTiming;
  measures: MeasureResult[];
  sample: CalmSample;
}

export function validateConfig(c: CalmConfig): void {
  configCheck('calm', c)
    .integers(['depth', 'width', 'heads', 'ffnHidden', 'trainSteps', 'batchSize', 'seqLen', 'classifierSteps', 'evalBatches', 'promptLen', 'genLen', 'calPrompts', 'testPrompts', 'resplits', 'timingPrompts', 'decodeChunk'])
    .integers(['depth'], { min: 2 })
    .integers(['timingRounds'], { min: 5 })
    .evenHeads('width', 'heads')
    .require(c.timingPrompts * c.timingRounds <= c.testPrompts, 'timingPrompts', `at most testPrompts / timingRounds = ${c.testPrompts} / ${c.timingRounds} (every round decodes fresh test prompts)`)
    .list('deltas', { above: 0, below: 1 })
    .require(c.deltas.includes(c.referenceDelta), 'referenceDelta', `one of deltas (${c.deltas.join(', ')})`)
    .numbers(['epsilon'], { above: 0, below: 1 })
    .numbers(['learningRate', 'positionTemp'])
    .list('gridLevels', { above: 0, below: 1 })
    .oneOf('consistency', CONSISTENCY_METRICS)
    .oneOf('lrSchedule', LR_SCHEDULES);
}

const round = (x: number, digits = 6) => Number(x.toFixed(digits));
const mean = (xs: number[]) => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);

/** `count` prompts of `len` bytes from random positions of random documents of a split. */
export function samplePrompts(corpus: TextCorpus, split: TextSplit, count: number, len: number, stream: Stream): number[][] {
  const bytes = corpus[split];
  const docs = corpus.documents[split].filter((d) => d.end - d.start > len + 1);
  if (docs.length === 0) throw new UsageError(`calm: no ${split} document is longer than promptLen ${len}`);
  const out: number[][] = [];
  for (let i = 0; i < count; i++) {
    const d = docs[stream.int(docs.length)];
    const s = d.start + stream.int(d.end - d.start - len);
    out.push(Array.from(bytes.subarray(s, s + len)));
  }
  return out;
}

/**
 * Trains the LM; every `trainSteps / 20` steps logs the batch loss and the last layer's loss
 * on fixed validation windows (the curve the convergence check reads: a batch loss is too
 * noisy to say whether training has flattened).
 */
async function train(lm: EarlyExitLM, corpus: TextCorpus, c: CalmConfig, ctx: RunContext): Promise<TrainPoint[]> {
  const stream = ctx.rng.stream('calm-train-batches');
  const valStream = ctx.rng.stream('calm-val-curve');
  const valBatches = Array.from({ length: c.evalBatches }, () => sampleTextBatch(corpus.validation, c.batchSize, c.seqLen, valStream));
  const valLoss = async () => {
    let sum = 0;
    for (const b of valBatches) {
      const x = tf.tensor2d(b.inputs, [c.batchSize, c.seqLen], 'int32');
      const y = tf.tensor2d(b.targets, [c.batchSize, c.seqLen], 'int32');
      sum += (await lm.layerLosses(x, y))[c.depth - 1];
      tf.dispose([x, y]);
    }
    return sum / valBatches.length;
  };
  const opt = tf.train.adam(c.learningRate);
  const log: TrainPoint[] = [];
  const every = Math.max(1, Math.floor(c.trainSteps / 20));
  const progress = ctx.progress('train', c.trainSteps);
  for (let step = 1; step <= c.trainSteps; step++) {
    if (c.lrSchedule === 'cosine') setLearningRate(opt, cosineRate(c.learningRate, step - 1, c.trainSteps));
    const { inputs, targets } = sampleTextBatch(corpus.train, c.batchSize, c.seqLen, stream);
    const loss = tf.tidy(() => {
      const x = tf.tensor2d(inputs, [c.batchSize, c.seqLen], 'int32');
      const y = tf.tensor2d(targets, [c.batchSize, c.seqLen], 'int32');
      return trainStep(opt, lm.store.variables, () => lm.loss(x, y));
    });
    if (step % every === 0 || step === c.trainSteps) {
      const v = (await loss.data())[0];
      const val = await valLoss();
      log.push({ step, loss: round(v), valLoss: round(val) });
      ctx.metric({ phase: 'train', step, loss: v, valLoss: val });
    }
    loss.dispose();
    progress.tick();
  }
  opt.dispose();
  return log;
}

async function trainClassifier(lm: EarlyExitLM, corpus: TextCorpus, c: CalmConfig, ctx: RunContext): Promise<void> {
  const stream = ctx.rng.stream('calm-classifier-batches');
  const opt = tf.train.adam(1e-2);
  const progress = ctx.progress('exit classifier', c.classifierSteps);
  for (let step = 1; step <= c.classifierSteps; step++) {
    const { inputs } = sampleTextBatch(corpus.train, c.batchSize, c.seqLen, stream);
    const x = tf.tensor2d(inputs, [c.batchSize, c.seqLen], 'int32');
    const hs = lm.hiddenStates(x);
    const loss = trainStep(opt, lm.classifierStore.variables, () => lm.classifierLoss(hs));
    if (step === c.classifierSteps) ctx.metric({ phase: 'classifier', step, loss: (await loss.data())[0] });
    tf.dispose([x, loss, ...hs]);
    progress.tick();
  }
  opt.dispose();
}

/**
 * Teacher-forced per-layer argmax [depth, B, T] of `tokens` [B, T] (int32, on the host):
 * what every layer would emit through the shared head.
 */
async function layerArgmax(lm: EarlyExitLM, tokens: tf.Tensor2D): Promise<Int32Array> {
  const am = tf.tidy(() => tf.stack(lm.hiddenStates(tokens).map((h) => lm.logits(h).argMax(-1))));
  const v = (await am.data()) as Int32Array;
  am.dispose();
  return v;
}

/** Adds the oracle depth of each position (the shallowest layer whose argmax equals the last layer's) to `counts`. */
function addOracle(counts: number[], argmax: Int32Array, depth: number, positions: number[]): void {
  const n = argmax.length / depth;
  for (const i of positions) {
    const last = argmax[(depth - 1) * n + i];
    let l = 0;
    while (argmax[l * n + i] !== last) l++;
    counts[l]++;
  }
}

/** Per-layer validation loss, accuracy and agreement with the last layer; the validation oracle; the classifier's balanced accuracy. */
async function evaluate(lm: EarlyExitLM, corpus: TextCorpus, c: CalmConfig, ctx: RunContext): Promise<{ quality: LayerQuality; oracle: OracleHistogram; balancedAccuracy: number }> {
  const stream = ctx.rng.stream('calm-eval-batches');
  const sums = new Array(c.depth).fill(0);
  const correct = new Array(c.depth).fill(0);
  const agree = new Array(c.depth).fill(0);
  const counts = new Array(c.depth).fill(0);
  const n = c.batchSize * c.seqLen;
  let tp = 0;
  let pos = 0;
  let tn = 0;
  let neg = 0;
  for (let i = 0; i < c.evalBatches; i++) {
    const { inputs, targets } = sampleTextBatch(corpus.validation, c.batchSize, c.seqLen, stream);
    const x = tf.tensor2d(inputs, [c.batchSize, c.seqLen], 'int32');
    const y = tf.tensor2d(targets, [c.batchSize, c.seqLen], 'int32');
    (await lm.layerLosses(x, y)).forEach((l, j) => (sums[j] += l / c.evalBatches));
    const am = await layerArgmax(lm, x);
    for (let l = 0; l < c.depth; l++) {
      for (let k = 0; k < n; k++) {
        if (am[l * n + k] === targets[k]) correct[l]++;
        if (am[l * n + k] === am[(c.depth - 1) * n + k]) agree[l]++;
      }
    }
    addOracle(counts, am, c.depth, Array.from({ length: n }, (_, k) => k));
    const cls = tf.tidy(() => {
      const hs = lm.hiddenStates(x);
      const top = lm.logits(hs[c.depth - 1]).argMax(-1);
      const rows: tf.Tensor[] = [];
      for (let l = 0; l < c.depth - 1; l++) {
        const label = lm.logits(hs[l]).argMax(-1).equal(top);
        const pred = lm.classifierProb(hs[l]).greaterEqual(0.5);
        rows.push(tf.stack([label.logicalAnd(pred).sum(), label.sum(), label.logicalNot().logicalAnd(pred.logicalNot()).sum(), label.logicalNot().sum()]));
      }
      return tf.stack(rows).sum(0);
    });
    const [a, b, d, e] = Array.from(await cls.data());
    tp += a;
    pos += b;
    tn += d;
    neg += e;
    tf.dispose([x, y, cls]);
  }
  const total = n * c.evalBatches;
  const bal = 0.5 * (pos > 0 ? tp / pos : 1) + 0.5 * (neg > 0 ? tn / neg : 1);
  return {
    quality: { valLoss: sums.map((s) => round(s)), accuracy: correct.map((k) => round(k / total)), agreeWithLast: agree.map((k) => round(k / total)) },
    oracle: { counts, lastLayerMismatch: 0 },
    balancedAccuracy: round(bal),
  };
}

/**
 * A measure's confidence at layer `l` for every row of the hidden states `hs` ([N, D] per
 * layer); null for saturation at the first layer, which has no previous state to compare.
 */
function layerConfidence(lm: EarlyExitLM, measure: ConfidenceMeasure, hs: tf.Tensor2D[], l: number): tf.Tensor | null {
  if (measure === 'softmax') return softmaxResponse(lm.logits(hs[l]) as tf.Tensor2D);
  if (measure === 'state') return l === 0 ? null : stateSaturation(hs[l - 1], hs[l]);
  return lm.classifierProb(hs[l]).reshape([-1]);
}

/** The value at quantile level `q` of ascending `sorted` (the lower one, as a threshold grid reads it). */
function atLevel(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** Quantile levels of the teacher-forced λ grid: fine where the confidences are high (where thresholds land). */
const TEACHER_FORCED_LEVELS = [...Array.from({ length: 40 }, (_, i) => i / 40), ...Array.from({ length: 20 }, (_, i) => 0.99 + i * 0.0005)];

/**
 * The decoding setting, teacher-forced: the prompts followed by the full model's greedy
 * continuation, read at the positions that predict generated bytes. Gives the oracle there
 * and each measure's teacher-forced curve (see TeacherForcedCurve).
 */
async function teacherForcedDecoding(
  lm: EarlyExitLM,
  prompts: number[][],
  full: EarlyExitTrace[],
  c: CalmConfig,
): Promise<{ oracle: OracleHistogram; curves: Record<ConfidenceMeasure, TeacherForcedCurve> }> {
  const L = c.depth;
  const len = c.promptLen + c.genLen - 1;
  // Per generated byte: every layer's argmax, and every measure's confidence at layers 1..L-1.
  const argmax: number[][] = Array.from({ length: L }, () => []);
  const conf: Record<ConfidenceMeasure, number[][]> = Object.fromEntries(CONFIDENCE_MEASURES.map((m) => [m, Array.from({ length: L - 1 }, () => [])])) as unknown as Record<ConfidenceMeasure, number[][]>;
  const position: number[] = [];
  const counts = new Array(L).fill(0);
  let mismatch = 0;
  for (let i = 0; i < prompts.length; i += c.decodeChunk) {
    const rows = prompts.slice(i, i + c.decodeChunk).map((p, r) => [...p, ...full[i + r].tokens.slice(0, -1)]);
    const x = tf.tensor2d(rows, [rows.length, len], 'int32');
    const out = tf.tidy(() => {
      const hs = lm.hiddenStates(x).map((h) => h.reshape([-1, c.width]) as tf.Tensor2D);
      const am = tf.stack(hs.map((h) => lm.logits(h).argMax(-1)));
      // Saturation has no value at the first layer: it never exits there (confidence 0, as in decoding).
      const per = (m: ConfidenceMeasure) => tf.stack(Array.from({ length: L - 1 }, (_, l) => layerConfidence(lm, m, hs, l) ?? tf.zeros([hs[0].shape[0]])));
      return [am, ...CONFIDENCE_MEASURES.map(per)];
    });
    x.dispose();
    const [am, ...confs] = await Promise.all(out.map((t) => t.data()));
    tf.dispose(out);
    const n = rows.length * len;
    const positions: number[] = [];
    rows.forEach((_, r) => {
      for (let t = 0; t < c.genLen; t++) {
        const k = r * len + c.promptLen - 1 + t;
        positions.push(k);
        if (am[(L - 1) * n + k] !== full[i + r].tokens[t]) mismatch++;
        position.push(t);
        for (let l = 0; l < L; l++) argmax[l].push(am[l * n + k]);
        CONFIDENCE_MEASURES.forEach((m, q) => {
          for (let l = 0; l < L - 1; l++) conf[m][l].push(confs[q][l * n + k]);
        });
      }
    });
    addOracle(counts, am as Int32Array, L, positions);
  }
  const curves = {} as Record<ConfidenceMeasure, TeacherForcedCurve>;
  for (const m of CONFIDENCE_MEASURES) {
    const pooled = conf[m].flat().sort((a, b) => a - b);
    const grid = [...new Set(TEACHER_FORCED_LEVELS.map((q) => atLevel(pooled, q))), Infinity];
    const curve: TeacherForcedCurve = { consistency: [], layers: [] };
    for (const lambda of grid) {
      let agree = 0;
      let layers = 0;
      position.forEach((t, k) => {
        const th = c.decayThreshold ? decayedThreshold(lambda, t, c.genLen, c.positionTemp) : lambda;
        let l = 0;
        while (l < L - 1 && !(conf[m][l][k] >= th)) l++;
        layers += l + 1;
        if (argmax[l][k] === argmax[L - 1][k]) agree++;
      });
      curve.consistency.push(round(agree / position.length));
      curve.layers.push(round(layers / position.length));
    }
    curves[m] = curve;
  }
  return { oracle: { counts, lastLayerMismatch: mismatch }, curves };
}

/** Candidate thresholds: quantiles (at `levels`) of the measure's layer 1..L-1 confidences on training text, descending, unique. */
async function thresholdGrid(lm: EarlyExitLM, corpus: TextCorpus, c: CalmConfig, measure: ConfidenceMeasure, ctx: RunContext): Promise<number[]> {
  const stream = ctx.rng.stream(`calm-grid-${measure}`);
  const { inputs } = sampleTextBatch(corpus.train, c.batchSize, c.seqLen, stream);
  const values = tf.tidy(() => {
    const x = tf.tensor2d(inputs, [c.batchSize, c.seqLen], 'int32');
    const hs = lm.hiddenStates(x).map((h) => h.reshape([-1, c.width]) as tf.Tensor2D);
    // Layers without a value (saturation at the first) do not enter the grid.
    const confs = Array.from({ length: c.depth - 1 }, (_, l) => layerConfidence(lm, measure, hs, l)).filter((t): t is tf.Tensor => t !== null);
    return tf.concat(confs);
  });
  const v = Array.from(await values.data()).sort((a, b) => a - b);
  values.dispose();
  const grid = c.gridLevels.map((q) => atLevel(v, q));
  const uniq = [...new Set(grid.map((g) => Math.fround(g)))].sort((a, b) => b - a);
  return uniq;
}

async function decodeChunked(lm: EarlyExitLM, prompts: number[][], thresholds: number[] | undefined, measure: ConfidenceMeasure | 'none', c: CalmConfig): Promise<EarlyExitTrace[]> {
  const out: EarlyExitTrace[] = [];
  for (let i = 0; i < prompts.length; i += c.decodeChunk) {
    const rows = prompts.slice(i, i + c.decodeChunk);
    const ths = thresholds?.slice(i, i + c.decodeChunk);
    out.push(...(await decodeBatch(lm, rows, { measure, thresholds: ths, maxNewTokens: c.genLen, decay: c.decayThreshold, positionTemp: c.positionTemp })));
  }
  return out;
}

/** LTT on the prompts `cal`, evaluated on `test`; risk[λ][prompt]. Returns λ index (-1 = nothing certified: the full model) and test risk. */
function calibrate(risk: number[][], cal: number[], test: number[], delta: number, eps: number): { index: number; calRisk: number; testRisk: number } {
  const res = learnThenTest(
    risk.map((_, i) => i),
    risk.map((row) => cal.map((j) => row[j])),
    delta,
    eps,
  );
  if (res.index < 0) return { index: -1, calRisk: 0, testRisk: 0 };
  return { index: res.index, calRisk: res.risks[res.index], testRisk: mean(test.map((j) => risk[res.index][j])) };
}

/** The decoders to time: softmax at the reference δ, and the fewest calibration layers among all measures at δ <= 0.2 (both only when certified). */
function timedConfigs(measures: MeasureResult[], referenceDelta: number): { measure: ConfidenceMeasure; point: CalibrationPoint; roles: ('reference' | 'best')[] }[] {
  const out: { measure: ConfidenceMeasure; point: CalibrationPoint; roles: ('reference' | 'best')[] }[] = [];
  const ref = measures.find((m) => m.measure === 'softmax')?.calibration.find((p) => p.delta === referenceDelta);
  if (ref && ref.lambda !== null) out.push({ measure: 'softmax', point: ref, roles: ['reference'] });
  let best: { measure: ConfidenceMeasure; point: CalibrationPoint } | undefined;
  for (const m of measures) for (const p of m.calibration) {
    if (p.delta > BEST_MAX_DELTA || p.lambda === null) continue;
    if (!best || p.calLayers < best.point.calLayers) best = { measure: m.measure, point: p };
  }
  if (best) {
    const same = out.find((o) => o.measure === best!.measure && o.point.lambdaIndex === best!.point.lambdaIndex);
    if (same) same.roles.push('best');
    else out.push({ ...best, roles: ['best'] });
  }
  return out;
}

/** Largest δ at which the 'up to 3x' claim reads the best decoder. */
export const BEST_MAX_DELTA = 0.2;

export async function run(c: CalmConfig, ctx: RunContext): Promise<CalmResult> {
  const metric = checkConsistencyMetric(c.consistency);
  const corpus = loadSotu();
  const lm = new EarlyExitLM({ vocab: 256, width: c.width, depth: c.depth, heads: c.heads, ffnHidden: c.ffnHidden }, ctx.rng, 'calm');
  try {
    const trainLoss = await train(lm, corpus, c, ctx);
    await trainClassifier(lm, corpus, c, ctx);
    const ev = await evaluate(lm, corpus, c, ctx);
    ctx.log(`per-layer validation loss (nats/byte): ${ev.quality.valLoss.map((v) => v.toFixed(3)).join(' ')}; next-byte accuracy ${ev.quality.accuracy.map((v) => v.toFixed(3)).join(' ')}; exit classifier balanced accuracy ${ev.balancedAccuracy.toFixed(3)}`);

    const promptStream = ctx.rng.stream('calm-prompts');
    const prompts = [...samplePrompts(corpus, 'validation', c.calPrompts, c.promptLen, promptStream), ...samplePrompts(corpus, 'test', c.testPrompts, c.promptLen, promptStream)];
    const calIdx = Array.from({ length: c.calPrompts }, (_, i) => i);
    const testIdx = Array.from({ length: c.testPrompts }, (_, i) => c.calPrompts + i);
    const full = await decodeChunked(lm, prompts, undefined, 'none', c);
    const fullTexts = full.map((f) => decodeBytes(Uint8Array.from(f.tokens)));
    const decoding = await teacherForcedDecoding(
      lm,
      testIdx.map((j) => prompts[j]),
      testIdx.map((j) => full[j]),
      c,
    );

    const splitStream = ctx.rng.stream('calm-resplits');
    const resplits = Array.from({ length: c.resplits }, () => {
      const perm = Array.from(splitStream.permutation(prompts.length));
      const half = Math.floor(prompts.length / 2);
      return { cal: perm.slice(0, half), test: perm.slice(half) };
    });

    const measures: MeasureResult[] = [];
    const sims: Record<string, EarlyExitTrace[][]> = {};
    const progress = ctx.progress('calibration (batched early-exit decoding per measure)', CONFIDENCE_MEASURES.length);
    for (const measure of CONFIDENCE_MEASURES) {
      const grid = await thresholdGrid(lm, corpus, c, measure, ctx);
      const rows: number[][] = [];
      const ths: number[] = [];
      for (const th of grid) for (const p of prompts) {
        rows.push(p);
        ths.push(th);
      }
      const traces = await decodeChunked(lm, rows, ths, measure, c);
      const byLambda = grid.map((_, i) => traces.slice(i * prompts.length, (i + 1) * prompts.length));
      sims[measure] = byLambda;
      const risk = byLambda.map((tr) => tr.map((t, j) => 1 - consistency(metric, t.tokens, full[j].tokens)));
      const layers = byLambda.map((tr) => tr.map((t) => mean(t.exitLayers)));
      const calibration: CalibrationPoint[] = c.deltas.map((delta) => {
        const cal = calibrate(risk, calIdx, testIdx, delta, c.epsilon);
        // A re-split counts for the guarantee only when it certified a threshold (the full model's risk 0 would hold trivially).
        const splits = resplits.map((s) => calibrate(risk, s.cal, s.test, delta, c.epsilon));
        const certified = splits.filter((x) => x.index >= 0);
        const tr = cal.index >= 0 ? byLambda[cal.index] : undefined;
        return {
          delta,
          lambda: cal.index >= 0 ? grid[cal.index] : null,
          lambdaIndex: cal.index,
          calRisk: round(cal.calRisk),
          calLayers: round(tr ? mean(calIdx.map((j) => layers[cal.index][j])) : c.depth),
          testRisk: round(cal.testRisk),
          testLayers: round(tr ? mean(testIdx.map((j) => layers[cal.index][j])) : c.depth),
          testTokenAgreement: round(tr ? mean(testIdx.map((j) => tokenAgreement(tr[j].tokens, full[j].tokens))) : 1),
          testRougeL: round(tr ? mean(testIdx.map((j) => rougeL(decodeBytes(Uint8Array.from(tr[j].tokens)), fullTexts[j]))) : 1),
          resplits: splits.length,
          certified: certified.length,
          held: certified.filter((x) => x.testRisk <= delta).length,
        };
      });
      const ref = calibration.find((p) => p.delta === c.referenceDelta) as CalibrationPoint;
      const refIndex = ref.lambdaIndex;
      const hist = new Array(c.depth).fill(0);
      for (const j of testIdx) for (const e of refIndex >= 0 ? byLambda[refIndex][j].exitLayers : full[j].exitLayers) hist[e - 1]++;
      measures.push({
        measure,
        grid: grid.map((g) => round(g, 7)),
        calRiskByLambda: risk.map((r) => round(mean(calIdx.map((j) => r[j])))),
        testRiskByLambda: risk.map((r) => round(mean(testIdx.map((j) => r[j])))),
        testLayersByLambda: layers.map((r) => round(mean(testIdx.map((j) => r[j])))),
        calibration,
        exitHistogram: hist,
        teacherForced: decoding.curves[measure],
      });
      progress.tick(1, `${measure}: ` + calibration.map((p) => `δ=${p.delta} λ=${p.lambda === null ? 'full' : p.lambda.toPrecision(4)} layers ${p.testLayers.toFixed(2)} test risk ${p.testRisk.toFixed(3)}`).join('; '));
    }

    // --- timing: real decoding, batch 1, in rounds of fresh test prompts, every decoder on the same prompts ---
    const configs = timedConfigs(measures, c.referenceDelta);
    const opts = (measure: ConfidenceMeasure, threshold: number) => ({ measure, threshold, maxNewTokens: c.genLen, decay: c.decayThreshold, positionTemp: c.positionTemp });
    // Warm-up (kernel setup) outside the timed rounds, on the first test prompt.
    await decodeFull(lm, prompts[testIdx[0]], c.genLen);
    for (const cf of configs) await decodeEarlyExit(lm, prompts[testIdx[0]], opts(cf.measure, cf.point.lambda as number));
    const fullMs: number[] = [];
    const decoders: TimedDecoder[] = configs.map((cf) => ({ measure: cf.measure, delta: cf.point.delta, lambda: cf.point.lambda as number, roles: cf.roles, ms: [], realLayers: 0, exitTests: 0, realMatchesSimulation: 0 }));
    const real: { layers: number[]; tests: number[]; match: number[] }[] = configs.map(() => ({ layers: [], tests: [], match: [] }));
    const timingProgress = ctx.progress(`timed decoding (${configs.length} early-exit decoder(s) and the full model, ${c.timingPrompts} prompt(s) per round)`, c.timingRounds);
    for (let r = 0; r < c.timingRounds; r++) {
      const idx = testIdx.slice(r * c.timingPrompts, (r + 1) * c.timingPrompts);
      await ctx.exclusive(`calm timed round ${r + 1}/${c.timingRounds}`, async () => {
        const t0 = performance.now();
        for (const j of idx) await decodeFull(lm, prompts[j], c.genLen);
        fullMs.push(round(performance.now() - t0, 3));
        for (const [k, cf] of configs.entries()) {
          const t1 = performance.now();
          const traces: EarlyExitTrace[] = [];
          for (const j of idx) traces.push(await decodeEarlyExit(lm, prompts[j], opts(cf.measure, cf.point.lambda as number)));
          decoders[k].ms.push(round(performance.now() - t1, 3));
          const sim = sims[cf.measure][cf.point.lambdaIndex];
          traces.forEach((t, q) => {
            real[k].layers.push(...t.exitLayers);
            real[k].tests.push(...t.exitLayers.map((e) => Math.min(e, c.depth - 1)));
            real[k].match.push(tokenAgreement(t.tokens, sim[idx[q]].tokens));
          });
        }
      });
      timingProgress.tick(1, `round ${r + 1}: speed-up ${decoders.map((d) => (fullMs[r] / d.ms[r]).toFixed(2)).join(' / ') || '(nothing certified)'}`);
    }
    decoders.forEach((d, k) => {
      d.realLayers = round(mean(real[k].layers));
      d.exitTests = round(mean(real[k].tests));
      d.realMatchesSimulation = round(mean(real[k].match));
    });
    const timing: CalmTiming = { rounds: c.timingRounds, promptsPerRound: c.timingPrompts, tokensPerRound: c.timingPrompts * c.genLen, fullMs, decoders };
    for (const d of decoders) ctx.metric({ phase: 'timing', measure: d.measure, delta: d.delta, roles: d.roles, fullMs, ms: d.ms });

    // --- one coloured sample: softmax measure at the reference δ ---
    const soft = measures[0];
    const refPoint = soft.calibration.find((p) => p.delta === c.referenceDelta) as CalibrationPoint;
    const j = testIdx[0];
    const trace = refPoint.lambdaIndex < 0 ? full[j] : sims.softmax[refPoint.lambdaIndex][j];
    const sample: CalmSample = {
      measure: 'softmax',
      delta: c.referenceDelta,
      lambda: refPoint.lambda,
      prompt: decodeBytes(Uint8Array.from(prompts[j])),
      tokens: trace.tokens,
      exitLayers: trace.exitLayers,
      fullText: fullTexts[j],
    };
    for (const m of measures) for (const p of m.calibration) ctx.metric({ phase: 'calibration', measure: m.measure, ...p });

    return {
      depth: c.depth,
      paramCount: lm.store.paramCount(),
      trainLoss,
      layerQuality: ev.quality,
      classifierBalancedAccuracy: ev.balancedAccuracy,
      oracle: { validation: ev.oracle, decoding: decoding.oracle },
      calPrompts: c.calPrompts,
      testPrompts: c.testPrompts,
      genLen: c.genLen,
      referenceDelta: c.referenceDelta,
      epsilon: c.epsilon,
      timing,
      measures,
      sample,
    };
  } finally {
    lm.dispose();
  }
}
