import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RunRng } from '../../lib/core/rng';
import { UsageError } from '../../lib/core/errors';
import { buildRankingSet, buildVocab, PAD_ID, splitSentences, UNK_ID, wordTokens, type RankingSetOptions } from '../../lib/data/ranking-pairs';
import type { TextDocument } from '../../lib/data/text';

function doc(id: string, sentences: string[]): TextDocument {
  const text = sentences.join(' ');
  return { id, text, year: 1900, president: 'X', party: 'none', start: 0, end: text.length };
}

// Each sentence has distinct words so a passage can be traced back to its sentence.
const docA = doc('a', Array.from({ length: 10 }, (_, i) => `Alpha${i} beta${i} gamma${i} delta${i} epsilon${i}.`));
const docB = doc('b', Array.from({ length: 10 }, (_, i) => `Zeta${i} eta${i} theta${i} iota${i} kappa${i}!`));

const opts: RankingSetOptions = {
  query: 'previous-sentence',
  keywordsFromPassage: 2,
  keywordsFromContext: 2,
  stopWords: 0,
  queries: 12,
  hardNegatives: 3,
  randomNegatives: 2,
  queryLength: 6,
  passageLength: 6,
  minWords: 3,
};

test('word tokens, sentence split and vocabulary encoding', () => {
  assert.deepEqual(wordTokens("The Nation's 2 ships, sailing."), ['the', "nation's", '2', 'ships', 'sailing']);
  assert.deepEqual(splitSentences('One two. Three four? Five!  Six'), ['One two.', 'Three four?', 'Five!', 'Six']);
  const v = buildVocab([doc('x', ['b a b c b a.'])], 4);
  assert.deepEqual(v.words, ['<pad>', '<unk>', 'b', 'a']); // by count, ties alphabetical; 'c' dropped
  assert.deepEqual(Array.from(v.encode('a c b', 5)), [3, UNK_ID, 2, PAD_ID, PAD_ID]);
  assert.throws(() => buildVocab([], 2), UsageError);
});

test('previous-sentence mode: the positive is the next sentence, hard negatives come from the same address and are not adjacent, random ones from another', () => {
  const docs = [docA, docB];
  const vocab = buildVocab(docs, 200);
  const set = buildRankingSet(docs, vocab, opts, new RunRng(3).stream('t'));
  assert.equal(set.count, 12);
  assert.equal(set.candidates, 6);
  const word = (id: number) => vocab.words[id];
  const sentenceOf = (tokens: Int32Array) => {
    const w = word(tokens[0]);
    return { doc: /^(alpha|beta|gamma|delta|epsilon)/.test(w) ? 'a' : 'b', index: Number(w.replace(/\D/g, '')) };
  };
  for (let n = 0; n < set.count; n++) {
    const src = set.source[n];
    const q = set.queries.subarray(n * 6, n * 6 + 6);
    assert.deepEqual(sentenceOf(q), { doc: src.doc, index: src.sentence });
    const passage = (c: number) => set.passages.subarray((n * 6 + c) * 6, (n * 6 + c + 1) * 6);
    assert.deepEqual(sentenceOf(passage(0)), { doc: src.doc, index: src.sentence + 1 });
    for (let h = 1; h <= 3; h++) {
      const s = sentenceOf(passage(h));
      assert.equal(s.doc, src.doc);
      assert.ok(s.index < src.sentence - 1 || s.index > src.sentence + 2, `hard negative ${s.index} too close to query ${src.sentence}`);
    }
    for (let r = 4; r <= 5; r++) assert.notEqual(sentenceOf(passage(r)).doc, src.doc);
  }
  // deterministic for a given stream; a different stream draws other queries
  assert.deepEqual(buildRankingSet(docs, vocab, opts, new RunRng(3).stream('t')), set);
  assert.notDeepEqual(buildRankingSet(docs, vocab, opts, new RunRng(4).stream('t')).source, set.source);
});

test('keywords mode: words from the passage and from the sentence before it, no stop words, padded', () => {
  const docs = [docA, docB];
  const vocab = buildVocab(docs, 200);
  const set = buildRankingSet(docs, vocab, { ...opts, query: 'keywords' }, new RunRng(5).stream('t'));
  for (let n = 0; n < set.count; n++) {
    const src = set.source[n];
    const ids = Array.from(set.queries.subarray(n * 6, n * 6 + 6));
    assert.deepEqual(ids.slice(4), [PAD_ID, PAD_ID]);
    const idx = ids.slice(0, 4).map((id) => Number(vocab.words[id].replace(/\D/g, '')));
    assert.equal(idx.filter((i) => i === src.sentence + 1).length, 2, `query ${n}: ${idx}`);
    assert.equal(idx.filter((i) => i === src.sentence).length, 2, `query ${n}: ${idx}`);
  }
  // stop words (the most frequent words) never appear as keywords
  const withStops = buildVocab([doc('s', ['the the the of of one two three four.', 'the of five six seven eight.', 'the nine ten eleven twelve.'])], 50);
  const stopIds = [withStops.id('the'), withStops.id('of')];
  assert.deepEqual(stopIds, [2, 3]);
  const kw = buildRankingSet(
    [doc('s', ['the the the of of one two three four.', 'the of five six seven eight.', 'the nine ten eleven twelve.', 'the of a b c d.', 'e f g h the.', 'i j k l of.', 'm n o p q.', 'r s t u v.'])],
    withStops,
    { ...opts, query: 'keywords', stopWords: 2, hardNegatives: 1, randomNegatives: 0, queries: 5 },
    new RunRng(6).stream('t'),
  );
  for (const id of kw.queries) assert.ok(!stopIds.includes(id));
});

test('bad options are usage errors', () => {
  const vocab = buildVocab([docA], 50);
  assert.throws(() => buildRankingSet([docA], vocab, opts, new RunRng(1).stream('t')), UsageError); // random negatives need 2 docs
  assert.throws(() => buildRankingSet([docA, docB], vocab, { ...opts, queries: 0 }, new RunRng(1).stream('t')), UsageError);
  assert.throws(() => buildRankingSet([docA, docB], vocab, { ...opts, query: 'nope' as 'keywords' }, new RunRng(1).stream('t')), UsageError);
});
