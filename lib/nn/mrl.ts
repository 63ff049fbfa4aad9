/**
 * Matryoshka Representation Learning heads and loss (Kusupati et al., NeurIPS 2022,
 * arXiv:2205.13147; reference: RAIVNLab/MRL `MRL.py`).
 *
 * A representation z in R^D is trained so that every nested prefix z[:m], m in a set of
 * sizes M (e.g. 2, 4, ..., D), is a good representation on its own:
 *   L = sum_{m in M} c_m * CE(W^(m) z[:m] + b^(m), y).
 * - MRL: one linear classifier per size, W^(m) in R^{m x C} (`MRL_Linear_Layer`, efficient=False).
 * - MRL-E ("efficient"): one classifier W in R^{D x C} whose first m rows serve size m,
 *   W^(m) = W[:m], one shared bias (efficient=True).
 * With a single size M = {D} both are plain softmax cross-entropy: a fixed-feature (FF)
 * model is this head with one size.
 */
import * as tf from '@tensorflow/tfjs';
import { UsageError } from '../core/errors';
import { type Dense, type ParamStore } from './layers';
import { crossEntropy } from './training';

export type MrlKind = 'mrl' | 'mrl-e';

/** Nested sizes start, 2*start, ..., dim (dim must be start * 2^k). */
export function nestingSizes(start: number, dim: number): number[] {
  if (!Number.isInteger(start) || start < 1 || !Number.isInteger(dim) || dim < start)
    throw new UsageError(`nesting sizes need integers 1 <= start <= dim, got start=${start} dim=${dim}`);
  const sizes: number[] = [];
  let m = start;
  while (m < dim) {
    sizes.push(m);
    m *= 2;
  }
  if (m !== dim) throw new UsageError(`embedding dim ${dim} must be nesting start ${start} times a power of two (e.g. ${start * 2 ** Math.round(Math.log2(dim / start))})`);
  sizes.push(dim);
  return sizes;
}

export interface MrlHead {
  kind: MrlKind;
  /** Ascending; the last is the full representation size D. */
  sizes: number[];
  classes: number;
  /** mrl: one [m, C] classifier per size; mrl-e: a single [D, C] classifier. */
  classifiers: Dense[];
  /** Relative importance c_m of each size's loss (1 by default, as in the paper). */
  weights: number[];
}

export function createMrlHead(store: ParamStore, name: string, kind: MrlKind, sizes: number[], classes: number, weights?: number[]): MrlHead {
  if (sizes.length === 0) throw new UsageError('an MRL head needs at least one nesting size');
  for (let i = 1; i < sizes.length; i++)
    if (!(sizes[i] > sizes[i - 1])) throw new UsageError(`MRL nesting sizes must be strictly increasing, got ${sizes.join(',')}`);
  if (weights && weights.length !== sizes.length) throw new UsageError(`MRL head: ${weights.length} loss weights for ${sizes.length} sizes`);
  const dim = sizes[sizes.length - 1];
  const classifiers =
    kind === 'mrl-e' ? [store.dense(`${name}/shared`, dim, classes, { bias: true })] : sizes.map((m) => store.dense(`${name}/m${m}`, m, classes, { bias: true }));
  return { kind, sizes: [...sizes], classes, classifiers, weights: weights ? [...weights] : sizes.map(() => 1) };
}

/** Logits of the classifier at nesting index i, from z [B, >= m]. */
export function mrlLogitsAt(z: tf.Tensor2D, head: MrlHead, i: number): tf.Tensor2D {
  return tf.tidy(() => {
    const m = head.sizes[i];
    const prefix = m === z.shape[1] ? z : z.slice([0, 0], [-1, m]);
    if (head.kind === 'mrl-e') {
      const c = head.classifiers[0];
      const w = m === c.w.shape[0] ? c.w : c.w.slice([0, 0], [m, -1]);
      return tf.matMul(prefix, w).add(c.b as tf.Variable) as tf.Tensor2D;
    }
    const c = head.classifiers[i];
    return tf.matMul(prefix, c.w).add(c.b as tf.Variable) as tf.Tensor2D;
  });
}

/**
 * Logits of every size at once, [B, S, C]: one matMul instead of S small ones (S small
 * heads cost ~30 ms of dispatch per training step on wasm; this costs ~one).
 * MRL: W_all = [pad(W^(m), rows m..D-1 zero) for m in sizes] side by side, so column
 * block m only sees z[:m]; the zero rows are constants (pad), so no gradient leaks.
 * MRL-E: the shared W applied to z masked to its first m coordinates.
 */
export function mrlLogitsAll(z: tf.Tensor2D, head: MrlHead): tf.Tensor3D {
  return tf.tidy(() => {
    const [b, dim] = z.shape;
    const s = head.sizes.length;
    const c = head.classes;
    if (head.kind === 'mrl-e') {
      const mask = new Float32Array(s * dim);
      head.sizes.forEach((m, i) => mask.fill(1, i * dim, i * dim + m));
      const zm = z.reshape([b, 1, dim]).mul(tf.tensor3d(mask, [1, s, dim])).reshape([b * s, dim]);
      const cl = head.classifiers[0];
      return tf.matMul(zm, cl.w).add(cl.b as tf.Variable).reshape([b, s, c]) as tf.Tensor3D;
    }
    const wAll = tf.concat(
      head.classifiers.map((cl, i) => (head.sizes[i] === dim ? cl.w : tf.pad(cl.w, [[0, dim - head.sizes[i]], [0, 0]]))),
      1,
    );
    const bAll = tf.concat(head.classifiers.map((cl) => cl.b as tf.Variable));
    return tf.matMul(z, wAll).add(bAll).reshape([b, s, c]) as tf.Tensor3D;
  });
}

/** sum_m c_m * mean CE at size m (`Matryoshka_CE_Loss`), computed on the fused logits. */
export function mrlLoss(z: tf.Tensor2D, labels: tf.Tensor1D, head: MrlHead): tf.Scalar {
  return tf.tidy(() => {
    const logits = mrlLogitsAll(z, head); // [B, S, C]
    const onehot = tf.oneHot(labels.toInt(), head.classes).expandDims(1); // [B, 1, C]
    const ce = tf.logSoftmax(logits, -1).mul(onehot).sum(-1).neg().mean(0); // [S]: mean CE per size
    return ce.mul(tf.tensor1d(head.weights)).sum() as tf.Scalar;
  });
}

/** Reference form of mrlLoss: one cross-entropy per size, summed (tests compare the two). */
export function mrlLossPerHead(z: tf.Tensor2D, labels: tf.Tensor1D, head: MrlHead): tf.Scalar {
  return tf.tidy(() => {
    let total: tf.Tensor = tf.scalar(0);
    head.sizes.forEach((_, i) => {
      total = total.add(crossEntropy(mrlLogitsAt(z, head, i), labels).mul(head.weights[i]));
    });
    return total as tf.Scalar;
  });
}

/** Per size: argmax class and max softmax probability of every example. */
export interface PrefixPredictions {
  sizes: number[];
  /** [size][example] */
  predictions: Int32Array[];
  confidences: Float32Array[];
}

export async function prefixPredictions(z: tf.Tensor2D, head: MrlHead): Promise<PrefixPredictions> {
  const predictions: Int32Array[] = [];
  const confidences: Float32Array[] = [];
  for (let i = 0; i < head.sizes.length; i++) {
    const [p, c] = tf.tidy(() => {
      const probs = tf.softmax(mrlLogitsAt(z, head, i));
      return [probs.argMax(1), probs.max(1)];
    });
    predictions.push((await p.data()) as Int32Array);
    confidences.push((await c.data()) as Float32Array);
    p.dispose();
    c.dispose();
  }
  return { sizes: [...head.sizes], predictions, confidences };
}

/**
 * FLOPs of the classifier head when an example tries sizes 0..last (inclusive):
 * a logit over m features with bias = 2m FLOPs (m multiplies, m adds); the confidence
 * max softmax = 1 / sum_j exp(l_j - l_max) costs C subtractions, C exps, C-1 adds and
 * one division (3C). MRL evaluates a fresh classifier per size; MRL-E extends the
 * previous size's partial sums by the new rows only (2 (m - m_prev) C).
 */
export function adaptiveHeadFlops(kind: MrlKind, sizes: number[], classes: number, last: number): number {
  let flops = 0;
  for (let i = 0; i <= last; i++) {
    const fresh = kind === 'mrl-e' && i > 0 ? sizes[i] - sizes[i - 1] : sizes[i];
    flops += 2 * fresh * classes + 3 * classes;
  }
  return flops;
}

export interface AdaptiveOutcome {
  threshold: number;
  accuracy: number;
  /** Mean representation size used (the size at which each example stopped). */
  meanSize: number;
  /** Examples stopping at each size (same order as sizes). */
  stops: number[];
  /** Mean head FLOPs per example (adaptiveHeadFlops). */
  meanHeadFlops: number;
}

/**
 * Adaptive classification: each example uses the smallest size whose max softmax
 * probability reaches `threshold` (the full size D when none does).
 */
export function adaptiveClassify(pred: PrefixPredictions, labels: ArrayLike<number>, threshold: number, kind: MrlKind, classes: number): AdaptiveOutcome {
  const n = labels.length;
  const s = pred.sizes.length;
  const stops = new Array<number>(s).fill(0);
  let correct = 0;
  let sizeSum = 0;
  let flopSum = 0;
  const flopsAt = pred.sizes.map((_, i) => adaptiveHeadFlops(kind, pred.sizes, classes, i));
  for (let e = 0; e < n; e++) {
    let i = 0;
    while (i < s - 1 && pred.confidences[i][e] < threshold) i++;
    stops[i]++;
    sizeSum += pred.sizes[i];
    flopSum += flopsAt[i];
    if (pred.predictions[i][e] === labels[e]) correct++;
  }
  return { threshold, accuracy: correct / n, meanSize: sizeSum / n, stops, meanHeadFlops: flopSum / n };
}

/** Accuracy at each size of a prefix-prediction table. */
export function prefixAccuracies(pred: PrefixPredictions, labels: ArrayLike<number>): number[] {
  return pred.predictions.map((p) => {
    let c = 0;
    for (let e = 0; e < labels.length; e++) if (p[e] === labels[e]) c++;
    return c / labels.length;
  });
}
