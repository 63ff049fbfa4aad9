/**
 * Distillation losses and the metrics that judge students.
 *
 * - Soft-label cross-entropy / KL at a temperature (Hinton et al. 2015): the student
 *   fits the teacher's softened distribution over classes — or, for ranking, over a
 *   query's candidate passages (score distillation with a softmax loss, Menon et al. 2022).
 * - Margin-MSE (Hofstätter et al. 2020): the student's score margins positive - negative
 *   regress onto the teacher's; the other common score-distillation loss for rankers.
 * - Embedding matching (EmbedDistill, Kim et al. 2023): squared distance between the
 *   student's and the teacher's embeddings of the same query / document.
 * Every loss is a mean over rows, so it does not scale with the batch size.
 */
import * as tf from '@tensorflow/tfjs';

/** softmax(teacherLogits / temperature) along the last axis: the soft targets. */
export function softTargets(teacherLogits: tf.Tensor, temperature: number): tf.Tensor {
  if (!(temperature > 0)) throw new RangeError(`temperature must be > 0, got ${temperature}`);
  return tf.tidy(() => tf.softmax(teacherLogits.div(temperature), -1));
}

/** -sum_k p_k log softmax(studentLogits)_k, mean over rows; `targets` are probabilities [..., K]. */
export function softLabelCrossEntropy(studentLogits: tf.Tensor, targets: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const k = studentLogits.shape[studentLogits.rank - 1];
    const logp = tf.logSoftmax(studentLogits.reshape([-1, k]), -1);
    return targets.reshape([-1, k]).mul(logp).sum(-1).mean().neg() as tf.Scalar;
  });
}

/**
 * Hinton's distillation loss: T^2 * KL(softmax(t/T) || softmax(s/T)), mean over rows.
 * The T^2 keeps gradient magnitudes comparable across temperatures.
 */
export function klDistillation(studentLogits: tf.Tensor, teacherLogits: tf.Tensor, temperature: number): tf.Scalar {
  return tf.tidy(() => {
    const k = studentLogits.shape[studentLogits.rank - 1];
    const t = teacherLogits.reshape([-1, k]).div(temperature);
    const s = studentLogits.reshape([-1, k]).div(temperature);
    const p = tf.softmax(t, -1);
    const kl = p.mul(tf.logSoftmax(t, -1).sub(tf.logSoftmax(s, -1))).sum(-1).mean();
    return kl.mul(temperature * temperature) as tf.Scalar;
  });
}

/**
 * Margin-MSE over candidates [B, K] where candidate 0 is the positive:
 * mean over (row, negative) of ((s_0 - s_j) - (t_0 - t_j))^2.
 */
export function marginMse(studentScores: tf.Tensor2D, teacherScores: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const k = studentScores.shape[1];
    if (k < 2) throw new RangeError(`marginMse needs at least 2 candidates, got ${k}`);
    const margins = (x: tf.Tensor2D) => {
      const [pos, neg] = tf.split(x, [1, k - 1], 1);
      return pos.sub(neg);
    };
    return margins(studentScores).sub(margins(teacherScores)).square().mean() as tf.Scalar;
  });
}

/**
 * Mean over rows of ||a - b||^2 (rows are embeddings [..., D]). `relative`: divided by the
 * teacher's mean ||b||^2, so the loss is ~1 for an uninformed student whatever the
 * teacher's scale (a confident teacher has large embeddings).
 */
export function embeddingMatchLoss(student: tf.Tensor, teacher: tf.Tensor, opts: { relative?: boolean } = {}): tf.Scalar {
  return tf.tidy(() => {
    const sq = student.sub(teacher).square().sum(-1).mean();
    return (opts.relative ? sq.div(teacher.square().sum(-1).mean().add(1e-12)) : sq) as tf.Scalar;
  });
}

/** Row-wise argmax of a row-major [n, k] array. */
export function argmaxRows(values: Float32Array | number[], k: number): Int32Array {
  const n = values.length / k;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (values[i * k + j] > values[i * k + best]) best = j;
    out[i] = best;
  }
  return out;
}

/** Fraction of rows where two predictors pick the same top-1 class (fidelity, Stanton et al. 2021). */
export function top1Agreement(a: Int32Array, b: Int32Array): number {
  if (a.length !== b.length || a.length === 0) throw new RangeError(`top1Agreement: lengths ${a.length} and ${b.length}`);
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return same / a.length;
}

/** Rank (1 = best) of candidate 0 in each row of scores [n, k]; ties count against it (pessimistic). */
export function positiveRanks(scores: Float32Array | number[], k: number): Int32Array {
  const n = scores.length / k;
  const ranks = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const pos = scores[i * k];
    let r = 1;
    for (let j = 1; j < k; j++) if (scores[i * k + j] >= pos) r++;
    ranks[i] = r;
  }
  return ranks;
}

export interface RankingQuality {
  recallAt1: number;
  recallAt5: number;
  mrr: number;
}

/** Recall@1, recall@5 (one relevant passage, so recall@k = hit@k) and mean reciprocal rank. */
export function rankingQuality(scores: Float32Array | number[], k: number): RankingQuality {
  const ranks = positiveRanks(scores, k);
  let r1 = 0;
  let r5 = 0;
  let rr = 0;
  for (const r of ranks) {
    if (r <= 1) r1++;
    if (r <= 5) r5++;
    rr += 1 / r;
  }
  const n = ranks.length;
  return { recallAt1: r1 / n, recallAt5: r5 / n, mrr: rr / n };
}
