/**
 * Text encoders for ranking, built on the shared transformer blocks (bidirectional:
 * causal false, RoPE positions):
 * - `TextTower`: tokens -> one embedding (masked mean pool over non-padding tokens,
 *   then a linear projection).
 * - `DualEncoder`: a query tower and a document tower; score = <q, d>. The two
 *   embeddings are computed independently, so a document can be indexed offline and the
 *   query embedding never depends on the document (tested).
 * - `CrossEncoder`: one transformer over the concatenated pair [query ; document] with a
 *   segment embedding, so every layer attends across the pair. Its scorer is EmbedDistill's
 *   "dual pooling" (Kim et al. 2023, arXiv:2301.12005): pool the query positions and the
 *   document positions separately, project, dot product. The pooled vectors are
 *   contextualised by cross-attention, yet live in a dual-encoder-shaped space that a
 *   student's embeddings can be matched to.
 * Padding (id 0) is attended to like any token (the shared attention has no key mask)
 * but excluded from pooling.
 */
import * as tf from '@tensorflow/tfjs';
import type { RunRng } from '../core/rng';
import { createBlock, embedTokens, transformerBlock, type BlockParams } from './transformer';
import { applyDense, ParamStore, rmsNorm, type Dense } from './layers';

export interface TowerConfig {
  vocab: number;
  width: number;
  depth: number;
  heads: number;
  ffnHidden: number;
  /** Size of the output embedding (the space scores are dot products in). */
  embedDim: number;
}

/** Masked mean over the time axis: x [B, T, D], mask [B, T] (1 = keep) -> [B, D]. */
export function maskedMeanPool(x: tf.Tensor, mask: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const m = mask.expandDims(-1);
    return x.mul(m).sum(1).div(m.sum(1).maximum(1));
  });
}

/** 1 where the token is not padding (id 0). */
export function nonPadMask(tokens: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tokens.notEqual(0).toFloat());
}

/** Embedding table + bidirectional blocks + final norm: the trunk both encoders share in shape. */
class Trunk {
  readonly embedding: tf.Variable;
  readonly blocks: BlockParams[] = [];
  readonly finalNorm: tf.Variable;

  constructor(store: ParamStore, c: TowerConfig, shared?: tf.Variable) {
    if (shared && (shared.shape[0] !== c.vocab || shared.shape[1] !== c.width)) {
      throw new RangeError(`shared embedding is ${shared.shape.join('x')}, the tower needs ${c.vocab}x${c.width}`);
    }
    // std 1/sqrt(width): pre-norm blocks see unit RMS either way, but the residual stream
    // keeps the token identity only if the embedding is not tiny next to block outputs.
    this.embedding = shared ?? store.normal('embedding', [c.vocab, c.width], 1 / Math.sqrt(c.width));
    for (let l = 0; l < c.depth; l++) this.blocks.push(createBlock(store, `block${l}`, c.width, c.heads, c.ffnHidden));
    this.finalNorm = store.constant('final-norm', [c.width], 1);
  }

  /** x [B, T, D] (already embedded) -> normalised hidden states [B, T, D]. */
  run(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      let h = x;
      for (const b of this.blocks) h = transformerBlock(h, b, { causal: false, rope: true });
      return rmsNorm(h, this.finalNorm);
    });
  }
}

export class TextTower {
  readonly store: ParamStore;
  private readonly trunk: Trunk;
  private readonly proj: Dense;

  /**
   * `opts.sharedEmbedding`: use another tower's token table (tied input embeddings, as in
   * Siamese dual encoders) — it stays owned, listed and disposed by that tower.
   */
  constructor(
    readonly config: TowerConfig,
    rng: RunRng,
    name: string,
    opts: { sharedEmbedding?: tf.Variable } = {},
  ) {
    this.store = new ParamStore(rng, name);
    this.trunk = new Trunk(this.store, config, opts.sharedEmbedding);
    this.proj = this.store.dense('proj', config.width, config.embedDim);
  }

  /** tokens int32 [B, T] -> embeddings [B, embedDim]. */
  encode(tokens: tf.Tensor): tf.Tensor2D {
    return tf.tidy(() => {
      const h = this.trunk.run(embedTokens(tokens, this.trunk.embedding));
      return applyDense(maskedMeanPool(h, nonPadMask(tokens)), this.proj) as tf.Tensor2D;
    });
  }

  /** The token table (owned, or shared from another tower). */
  get embedding(): tf.Variable {
    return this.trunk.embedding;
  }

  /** Variables this tower owns (a shared embedding is listed by its owner). */
  get variables(): tf.Variable[] {
    return this.store.variables;
  }

  paramCount(): number {
    return this.store.paramCount();
  }

  dispose(): void {
    this.store.dispose();
  }
}

export interface PairScores {
  /** [B, K] relevance scores. */
  scores: tf.Tensor2D;
  /** Query embeddings: [B, E] for a dual encoder, [B, K, E] for a cross-encoder (they depend on the document). */
  queryEmb: tf.Tensor;
  /** Document embeddings [B, K, E]. */
  docEmb: tf.Tensor3D;
}

/**
 * Two towers, score = dot product. The towers are passed in (not owned) so a student can
 * reuse — inherit and freeze — a teacher's document tower.
 */
export class DualEncoder {
  constructor(
    readonly queryTower: TextTower,
    readonly docTower: TextTower,
  ) {
    if (queryTower.config.embedDim !== docTower.config.embedDim) {
      throw new RangeError(`dual encoder towers disagree on embedDim: ${queryTower.config.embedDim} vs ${docTower.config.embedDim}`);
    }
  }

  encodeQueries(queries: tf.Tensor): tf.Tensor2D {
    return this.queryTower.encode(queries);
  }

  encodeDocs(docs: tf.Tensor): tf.Tensor2D {
    return this.docTower.encode(docs);
  }

  /** queries [B, Lq], docs [B, K, Lp] -> scores [B, K] (each query against its own K candidates). */
  score(queries: tf.Tensor2D, docs: tf.Tensor3D): PairScores {
    const [b, k, lp] = docs.shape;
    const queryEmb = this.encodeQueries(queries);
    const docEmb = tf.tidy(() => this.encodeDocs(docs.reshape([b * k, lp])).reshape([b, k, -1]) as tf.Tensor3D);
    const scores = tf.tidy(() => docEmb.mul(queryEmb.expandDims(1)).sum(-1) as tf.Tensor2D);
    return { scores, queryEmb, docEmb };
  }

  /** Variables a trainer updates; `freezeDocTower` leaves the (inherited) document tower fixed. */
  trainableVariables(opts: { freezeDocTower?: boolean } = {}): tf.Variable[] {
    return opts.freezeDocTower ? [...this.queryTower.variables] : [...this.queryTower.variables, ...this.docTower.variables];
  }

  paramCount(): { query: number; doc: number } {
    return { query: this.queryTower.paramCount(), doc: this.docTower.paramCount() };
  }
}

/** One transformer over [query ; document], with dual pooling (see the file comment). */
export class CrossEncoder {
  readonly store: ParamStore;
  private readonly trunk: Trunk;
  private readonly segment: tf.Variable;
  private readonly projQuery: Dense;
  private readonly projDoc: Dense;

  constructor(
    readonly config: TowerConfig,
    rng: RunRng,
    name = 'cross-encoder',
  ) {
    this.store = new ParamStore(rng, name);
    this.trunk = new Trunk(this.store, config);
    this.segment = this.store.normal('segment', [2, config.width], 1 / Math.sqrt(config.width));
    this.projQuery = this.store.dense('proj-query', config.width, config.embedDim);
    this.projDoc = this.store.dense('proj-doc', config.width, config.embedDim);
  }

  /** queries [B, Lq], docs [B, K, Lp] -> scores [B, K] and the pooled pair embeddings [B, K, E]. */
  score(queries: tf.Tensor2D, docs: tf.Tensor3D): PairScores {
    const [b, k, lp] = docs.shape;
    const lq = queries.shape[1];
    const [queryEmb, docEmb] = tf.tidy(() => {
      const q = queries.expandDims(1).tile([1, k, 1]).reshape([b * k, lq]);
      const d = docs.reshape([b * k, lp]);
      const tokens = tf.concat([q, d], 1);
      const seg = tf.concat([tf.zeros([1, lq], 'int32'), tf.ones([1, lp], 'int32')], 1);
      const x = embedTokens(tokens, this.trunk.embedding).add(embedTokens(seg, this.segment));
      const h = this.trunk.run(x);
      const [hq, hd] = tf.split(h, [lq, lp], 1);
      const eq = applyDense(maskedMeanPool(hq, nonPadMask(q)), this.projQuery).reshape([b, k, -1]);
      const ed = applyDense(maskedMeanPool(hd, nonPadMask(d)), this.projDoc).reshape([b, k, -1]);
      return [eq, ed];
    });
    const scores = tf.tidy(() => queryEmb.mul(docEmb).sum(-1) as tf.Tensor2D);
    return { scores, queryEmb, docEmb: docEmb as tf.Tensor3D };
  }

  get variables(): tf.Variable[] {
    return this.store.variables;
  }

  paramCount(): number {
    return this.store.paramCount();
  }

  dispose(): void {
    this.store.dispose();
  }
}
