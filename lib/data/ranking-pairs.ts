/**
 * Query -> passage relevance data built from a real corpus (the SOTU addresses, already
 * split by document in lib/data/text.ts), for the ranking half of the distillation paper.
 *
 * Construction: the relevant passage is one sentence of an address. Its query is either
 * - 'previous-sentence': the sentence before it (next-sentence retrieval; hard to learn
 *   from scratch at our scale — a tiny model trained for a minute stays near chance), or
 * - 'keywords': a search-style bag of words, `keywordsFromPassage` content words drawn from
 *   the passage plus `keywordsFromContext` content words drawn from the sentence before it,
 *   shuffled (content word = not among the `stopWords` most frequent words). Part of the
 *   query matches the passage exactly, part only its context, so neither pure lexical
 *   matching nor pure topic matching ranks perfectly.
 * Each query comes with a fixed candidate list:
 *   [positive, `hardNegatives` sentences of the SAME address (not adjacent to the query),
 *    `randomNegatives` "next sentences" of queries from OTHER addresses].
 * Same-address negatives share topic and era with the query (hard); other-address ones
 * mostly do not. Trainers may add in-batch negatives on top (the other queries' candidates).
 *
 * Text is tokenised into lower-cased words with a vocabulary counted on the training
 * split only (id 0 = padding, 1 = unknown word); every query/passage is truncated or
 * padded to a fixed length so batches are plain int32 matrices.
 */
import type { Stream } from '../core/rng';
import { UsageError } from '../core/errors';
import type { TextDocument } from './text';

export const PAD_ID = 0;
export const UNK_ID = 1;

/** Lower-cased words (letters, digits, inner apostrophes); punctuation is dropped. */
export function wordTokens(text: string): string[] {
  return text.toLowerCase().match(/[a-z0-9]+(?:'[a-z]+)?/g) ?? [];
}

/** Sentences: split after . ! ? followed by whitespace (good enough for this prose). */
export function splitSentences(text: string): string[] {
  return text
    .split(/(?<=[.!?])\s+/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

export interface WordVocab {
  /** words[id]; words[0] = '<pad>', words[1] = '<unk>'. */
  words: string[];
  size: number;
  /** Ids of `text`'s first `length` words, padded with PAD_ID. */
  encode(text: string, length: number): Int32Array;
  /** Id of one word (UNK_ID when out of vocabulary). */
  id(word: string): number;
}

/** The `size - 2` most frequent words of `docs` (ties broken alphabetically, so the vocabulary is deterministic). */
export function buildVocab(docs: readonly TextDocument[], size: number): WordVocab {
  if (!Number.isInteger(size) || size < 3) throw new UsageError(`buildVocab: size must be an integer >= 3, got ${size}`);
  const counts = new Map<string, number>();
  for (const d of docs) for (const w of wordTokens(d.text)) counts.set(w, (counts.get(w) ?? 0) + 1);
  const ranked = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const words = ['<pad>', '<unk>', ...ranked.slice(0, size - 2).map(([w]) => w)];
  const index = new Map(words.map((w, i) => [w, i] as [string, number]));
  return {
    words,
    size: words.length,
    id: (w: string) => index.get(w) ?? UNK_ID,
    encode(text: string, length: number): Int32Array {
      const out = new Int32Array(length); // PAD_ID = 0
      const toks = wordTokens(text);
      for (let i = 0; i < Math.min(length, toks.length); i++) out[i] = index.get(toks[i]) ?? UNK_ID;
      return out;
    },
  };
}

export const QUERY_MODES = ['previous-sentence', 'keywords'] as const;
export type QueryMode = (typeof QUERY_MODES)[number];

export interface RankingSetOptions {
  query: QueryMode;
  /** keywords mode: words drawn from the passage / from the sentence before it. */
  keywordsFromPassage: number;
  keywordsFromContext: number;
  /** keywords mode: the most frequent words (ids 2 .. stopWords+1) never serve as keywords. */
  stopWords: number;
  /** How many queries to draw (fewer if the documents do not have that many eligible sentences). */
  queries: number;
  hardNegatives: number;
  randomNegatives: number;
  queryLength: number;
  passageLength: number;
  /** Queries and passages need at least this many words. */
  minWords: number;
}

export interface RankingSet {
  count: number;
  /** Candidates per query: 1 + hardNegatives + randomNegatives; candidate 0 is the relevant passage. */
  candidates: number;
  queryLength: number;
  passageLength: number;
  /** [count, queryLength] word ids. */
  queries: Int32Array;
  /** [count, candidates, passageLength] word ids. */
  passages: Int32Array;
  /** Per query: the document it came from and its sentence index (provenance, tests). */
  source: { doc: string; sentence: number }[];
}

interface Sentence {
  doc: number;
  index: number;
  text: string;
  words: number;
}

/**
 * Draws a ranking set from `docs` (one split). Query sentences are drawn uniformly over
 * every eligible (sentence, next sentence) pair of every document; negatives as in the
 * file comment. Deterministic for a given stream state.
 */
export function buildRankingSet(docs: readonly TextDocument[], vocab: WordVocab, opts: RankingSetOptions, stream: Stream): RankingSet {
  const { queries, hardNegatives, randomNegatives, queryLength, passageLength, minWords } = opts;
  if (opts.query !== 'previous-sentence' && opts.query !== 'keywords') throw new UsageError(`buildRankingSet: query mode '${opts.query as string}'; valid: previous-sentence or keywords`);
  for (const [k, v] of Object.entries(opts)) {
    if (k === 'query') continue;
    if (!Number.isInteger(v) || v < 0) throw new UsageError(`buildRankingSet: ${k} must be a non-negative integer, got ${v}`);
  }
  if (queries < 1 || queryLength < 1 || passageLength < 1) throw new UsageError('buildRankingSet: queries, queryLength and passageLength must be >= 1');
  if (docs.length < 2 && randomNegatives > 0) throw new UsageError(`buildRankingSet: random negatives need at least 2 documents, got ${docs.length}`);

  const perDoc: Sentence[][] = docs.map((d, di) => splitSentences(d.text).map((text, index) => ({ doc: di, index, text, words: wordTokens(text).length })));
  // Eligible query positions: the sentence and its successor are long enough, and the
  // document has enough non-adjacent sentences to serve as hard negatives.
  const eligible: Sentence[] = [];
  for (const sents of perDoc) {
    const longEnough = sents.filter((s) => s.words >= minWords).length;
    if (longEnough < hardNegatives + 4) continue;
    for (let i = 0; i + 1 < sents.length; i++) if (sents[i].words >= minWords && sents[i + 1].words >= minWords) eligible.push(sents[i]);
  }
  if (eligible.length === 0) throw new UsageError('buildRankingSet: no eligible query sentence (documents too short for the requested negatives)');
  const order = stream.permutation(eligible.length);
  const count = Math.min(queries, eligible.length);
  const candidates = 1 + hardNegatives + randomNegatives;
  const q = new Int32Array(count * queryLength);
  const p = new Int32Array(count * candidates * passageLength);
  const source: { doc: string; sentence: number }[] = [];
  for (let n = 0; n < count; n++) {
    const s = eligible[order[n]];
    const sents = perDoc[s.doc];
    q.set(opts.query === 'keywords' ? keywordQuery(s.text, sents[s.index + 1].text, vocab, opts, stream) : vocab.encode(s.text, queryLength), n * queryLength);
    const put = (c: number, text: string) => p.set(vocab.encode(text, passageLength), (n * candidates + c) * passageLength);
    put(0, sents[s.index + 1].text);
    // Hard negatives: long-enough sentences of the same address, at distance >= 2 from the query and the positive.
    const pool = sents.filter((t) => t.words >= minWords && (t.index < s.index - 1 || t.index > s.index + 2));
    const pick = stream.permutation(pool.length);
    for (let h = 0; h < hardNegatives; h++) put(1 + h, pool[pick[h % pool.length]].text);
    for (let r = 0; r < randomNegatives; r++) {
      let other: Sentence;
      do other = eligible[stream.int(eligible.length)];
      while (other.doc === s.doc);
      put(1 + hardNegatives + r, perDoc[other.doc][other.index + 1].text);
    }
    source.push({ doc: docs[s.doc].id, sentence: s.index });
  }
  return { count, candidates, queryLength, passageLength, queries: q, passages: p, source };
}

/** Content-word ids of `text` (in-vocabulary, not a stop word), duplicates removed, in text order. */
function contentIds(text: string, vocab: WordVocab, stopWords: number): number[] {
  const ids = wordTokens(text)
    .map((w) => vocab.id(w))
    .filter((id) => id >= 2 + stopWords);
  return [...new Set(ids)];
}

/** A keyword query: some passage words + some context words, shuffled, padded to queryLength. */
function keywordQuery(context: string, passage: string, vocab: WordVocab, opts: RankingSetOptions, stream: Stream): Int32Array {
  const draw = (ids: number[], n: number) => stream.shuffle([...ids]).slice(0, n);
  const fromPassage = draw(contentIds(passage, vocab, opts.stopWords), opts.keywordsFromPassage);
  const fromContext = draw(
    contentIds(context, vocab, opts.stopWords).filter((id) => !fromPassage.includes(id)),
    opts.keywordsFromContext,
  );
  const words = stream.shuffle([...fromPassage, ...fromContext]).slice(0, opts.queryLength);
  const out = new Int32Array(opts.queryLength);
  out.set(words);
  return out;
}
