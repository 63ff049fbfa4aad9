/**
 * Nearest-neighbour retrieval with nested (Matryoshka) embeddings: exhaustive search at
 * any prefix size, adaptive retrieval (shortlist at a small prefix, re-rank at a larger
 * one) and funnels (a cascade of re-rankings with shrinking shortlists), with the FLOPs
 * of every plan counted exactly (RAIVNLab/MRL `retrieval/`: shortlist k = 200; funnel
 * retrieve at 8 dims, re-rank cascade [16, 32, 64, 128, 2048], shortlists [200, 100, 50, 25, 10]).
 *
 * Distance: squared L2 on the first d coordinates, ranked by ||x||^2 - 2 q.x (||q||^2 is
 * the same for every candidate of a query, so ranking skips it). The database norms of
 * each prefix are computed once when the index is built (not per query).
 * FLOPs per candidate at d dims: the dot product (d multiplies, d - 1 adds), times 2
 * (1), minus from the norm (1) = 2d + 1. Selecting the top k is comparisons, not FLOPs.
 * Exhaustive search scores every database row on tfjs (one matMul per chunk of
 * queries); re-ranking scores shortlists in float64 JS.
 */
import * as tf from '@tensorflow/tfjs';
import { UsageError } from '../core/errors';

/** A stage scores `dim`-prefixes and keeps the best `keep`; stage 0 scans the whole database, later stages re-rank the previous list. */
export interface RetrievalStage {
  dim: number;
  keep: number;
}

export interface RetrievalPlan {
  name: string;
  stages: RetrievalStage[];
}

export function validatePlan(plan: RetrievalPlan, fullDim: number, databaseSize: number): void {
  if (plan.stages.length === 0) throw new UsageError(`retrieval plan ${plan.name}: no stages`);
  plan.stages.forEach((s, i) => {
    if (!Number.isInteger(s.dim) || s.dim < 1 || s.dim > fullDim) throw new UsageError(`retrieval plan ${plan.name}: stage ${i} dim ${s.dim} must be in 1..${fullDim}`);
    const limit = i === 0 ? databaseSize : plan.stages[i - 1].keep;
    if (!Number.isInteger(s.keep) || s.keep < 1 || s.keep > limit) throw new UsageError(`retrieval plan ${plan.name}: stage ${i} keeps ${s.keep}, must be in 1..${limit}`);
  });
}

/** Exact FLOPs per query of a plan on a database of `databaseSize` rows. */
export function planFlopsPerQuery(plan: RetrievalPlan, databaseSize: number): number {
  let flops = 0;
  let candidates = databaseSize;
  for (const s of plan.stages) {
    flops += candidates * (2 * s.dim + 1);
    candidates = s.keep;
  }
  return flops;
}

/** Exhaustive search at one size, returning the best `keep`. */
export function exhaustivePlan(dim: number, keep: number): RetrievalPlan {
  return { name: `exhaustive-${dim}`, stages: [{ dim, keep }] };
}

/** Adaptive retrieval: shortlist `shortlist` at `retrieveDim`, re-rank at `rerankDim`, return `keep`. */
export function adaptivePlan(retrieveDim: number, shortlist: number, rerankDim: number, keep: number): RetrievalPlan {
  return { name: `adaptive-${retrieveDim}-k${shortlist}-to-${rerankDim}`, stages: [{ dim: retrieveDim, keep: shortlist }, { dim: rerankDim, keep }] };
}

/** Funnel: retrieve shortlists[0] at retrieveDim, then re-rank at cascade[i] keeping shortlists[i + 1] (the last re-rank keeps the last shortlist). */
export function funnelPlan(retrieveDim: number, cascade: number[], shortlists: number[]): RetrievalPlan {
  if (shortlists.length !== cascade.length) throw new UsageError(`funnel: ${cascade.length} re-rank sizes need as many shortlists (the first is the initial shortlist), got ${shortlists.length}`);
  const stages: RetrievalStage[] = [{ dim: retrieveDim, keep: shortlists[0] }];
  cascade.forEach((d, i) => stages.push({ dim: d, keep: shortlists[Math.min(i + 1, shortlists.length - 1)] }));
  return { name: `funnel-${retrieveDim}-[${cascade.join(',')}]-[${shortlists.join(',')}]`, stages };
}

/** Indices of the `k` smallest of scores[0..n), ascending by (score, index). */
export function smallestK(scores: ArrayLike<number>, n: number, k: number, offset = 0): Int32Array {
  const kk = Math.min(k, n);
  const idx = new Int32Array(kk);
  const val = new Float64Array(kk);
  let size = 0;
  for (let i = 0; i < n; i++) {
    const v = scores[offset + i];
    if (size === kk && !(v < val[kk - 1])) continue; // ties keep the earlier index
    let j = size < kk ? size++ : kk - 1;
    while (j > 0 && val[j - 1] > v) {
      val[j] = val[j - 1];
      idx[j] = idx[j - 1];
      j--;
    }
    val[j] = v;
    idx[j] = i;
  }
  return idx;
}

/** A database of `rows` embeddings of size `dim` (row-major), searchable at any prefix. */
export class RetrievalIndex {
  private readonly normsByDim = new Map<number, Float64Array>();
  /** Whole-database result lists per query set and prefix size: plans that start at the same size share one scan. */
  private readonly firstStages = new WeakMap<Float32Array, Map<number, { width: number; list: Int32Array }>>();
  private readonly firstStageWidth: number;

  /**
   * `firstStageWidth`: every whole-database scan keeps at least this many rows (e.g. the
   * adaptive shortlist), so exhaustive and shortlist plans at the same size reuse it; the
   * first `keep` of a longer list are exactly the `keep` best (same order and tie rule).
   */
  constructor(
    readonly data: Float32Array,
    readonly rows: number,
    readonly dim: number,
    opts: { firstStageWidth?: number } = {},
  ) {
    if (data.length !== rows * dim) throw new UsageError(`retrieval index: ${data.length} values for ${rows} x ${dim}`);
    this.firstStageWidth = Math.min(opts.firstStageWidth ?? 0, rows);
  }

  private async firstStage(queries: Float32Array, queryCount: number, queryDim: number, d: number, keep: number): Promise<Int32Array> {
    let byDim = this.firstStages.get(queries);
    if (!byDim) this.firstStages.set(queries, (byDim = new Map()));
    let hit = byDim.get(d);
    if (!hit || hit.width < keep) {
      const width = Math.max(keep, this.firstStageWidth);
      hit = { width, list: await this.searchAll(queries, queryCount, queryDim, d, width) };
      byDim.set(d, hit);
    }
    if (hit.width === keep) return hit.list;
    const out = new Int32Array(queryCount * keep);
    for (let q = 0; q < queryCount; q++) out.set(hit.list.subarray(q * hit.width, q * hit.width + keep), q * keep);
    return out;
  }

  /** ||x[:d]||^2 of every row (built once per prefix size: index construction, not query cost). */
  norms(d: number): Float64Array {
    let n = this.normsByDim.get(d);
    if (!n) {
      n = new Float64Array(this.rows);
      for (let r = 0; r < this.rows; r++) {
        let s = 0;
        const base = r * this.dim;
        for (let j = 0; j < d; j++) s += this.data[base + j] * this.data[base + j];
        n[r] = s;
      }
      this.normsByDim.set(d, n);
    }
    return n;
  }

  /** Rows x d prefix copy. */
  prefix(d: number): Float32Array {
    if (d === this.dim) return this.data;
    const out = new Float32Array(this.rows * d);
    for (let r = 0; r < this.rows; r++) out.set(this.data.subarray(r * this.dim, r * this.dim + d), r * d);
    return out;
  }

  /** Best `keep` rows for each query at prefix d, scanning the whole database on tfjs. */
  async searchAll(queries: Float32Array, queryCount: number, queryDim: number, d: number, keep: number, chunk = 250): Promise<Int32Array> {
    const qPrefix = prefixOf(queries, queryCount, queryDim, d);
    const out = new Int32Array(queryCount * keep);
    const dbT = tf.tidy(() => tf.tensor2d(this.prefix(d), [this.rows, d]).transpose());
    const norms = tf.tensor1d(Float32Array.from(this.norms(d)));
    try {
      for (let start = 0; start < queryCount; start += chunk) {
        const n = Math.min(chunk, queryCount - start);
        const scoresT = tf.tidy(() => {
          const q = tf.tensor2d(qPrefix.subarray(start * d, (start + n) * d), [n, d]);
          return norms.sub(tf.matMul(q, dbT).mul(2));
        });
        const scores = await scoresT.data();
        scoresT.dispose();
        for (let i = 0; i < n; i++) out.set(smallestK(scores, this.rows, keep, i * this.rows), (start + i) * keep);
      }
    } finally {
      dbT.dispose();
      norms.dispose();
    }
    return out;
  }

  /** Re-ranks each query's `width` candidates at prefix d (float64 JS) and keeps the best `keep`. */
  rerank(queries: Float32Array, queryCount: number, queryDim: number, candidates: Int32Array, width: number, d: number, keep: number): Int32Array {
    const norms = this.norms(d);
    const out = new Int32Array(queryCount * keep);
    const scores = new Float64Array(width);
    for (let qi = 0; qi < queryCount; qi++) {
      const qb = qi * queryDim;
      for (let c = 0; c < width; c++) {
        const row = candidates[qi * width + c];
        const base = row * this.dim;
        let dot = 0;
        for (let j = 0; j < d; j++) dot += queries[qb + j] * this.data[base + j];
        scores[c] = norms[row] - 2 * dot;
      }
      const best = smallestK(scores, width, keep);
      for (let i = 0; i < best.length; i++) out[qi * keep + i] = candidates[qi * width + best[i]];
    }
    return out;
  }

  /** Runs a plan for every query: [queryCount x lastKeep] database rows, best first. */
  async run(plan: RetrievalPlan, queries: Float32Array, queryCount: number, queryDim: number): Promise<Int32Array> {
    if (queryDim !== this.dim) throw new UsageError(`retrieval: queries have ${queryDim} dims, the index ${this.dim}`);
    validatePlan(plan, this.dim, this.rows);
    let list = await this.firstStage(queries, queryCount, queryDim, plan.stages[0].dim, plan.stages[0].keep);
    for (let i = 1; i < plan.stages.length; i++)
      list = this.rerank(queries, queryCount, queryDim, list, plan.stages[i - 1].keep, plan.stages[i].dim, plan.stages[i].keep);
    return list;
  }
}

function prefixOf(x: Float32Array, rows: number, dim: number, d: number): Float32Array {
  if (d === dim) return x;
  const out = new Float32Array(rows * d);
  for (let r = 0; r < rows; r++) out.set(x.subarray(r * dim, r * dim + d), r * d);
  return out;
}

/** Fraction of queries whose first neighbour has the query's label. */
export function top1Accuracy(neighbours: Int32Array, width: number, queryLabels: ArrayLike<number>, databaseLabels: ArrayLike<number>): number {
  let hit = 0;
  for (let q = 0; q < queryLabels.length; q++) if (databaseLabels[neighbours[q * width]] === queryLabels[q]) hit++;
  return hit / queryLabels.length;
}

/** Mean over queries of the fraction of the first k neighbours sharing the query's label. */
export function precisionAtK(neighbours: Int32Array, width: number, k: number, queryLabels: ArrayLike<number>, databaseLabels: ArrayLike<number>): number {
  if (k > width) throw new UsageError(`precision@${k} needs at least ${k} neighbours per query, have ${width}`);
  let sum = 0;
  for (let q = 0; q < queryLabels.length; q++) {
    let hit = 0;
    for (let i = 0; i < k; i++) if (databaseLabels[neighbours[q * width + i]] === queryLabels[q]) hit++;
    sum += hit / k;
  }
  return sum / queryLabels.length;
}
