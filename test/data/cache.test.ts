import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DataError } from '../../lib/core/errors';
import {
  cacheKey,
  decodeCache,
  encodeCache,
  loadWithCache,
  npmOrigin,
  readVerified,
  sha256Hex,
  type CachedPayload,
} from '../../lib/data/cache';

const origin = npmOrigin('toy', 'toy-data', '1.0.0');

const made: string[] = [];
after(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'data-cache-test-'));
  made.push(d);
  return d;
}

function setup() {
  const dir = tempDir();
  const src = path.join(dir, 'src.bin');
  fs.writeFileSync(src, Buffer.from([1, 2, 3, 4, 5]));
  let builds = 0;
  const build = (): CachedPayload<{ n: number }> => {
    builds++;
    const bytes = readVerified(src, sha256Hex(Buffer.from([1, 2, 3, 4, 5])), origin);
    return { meta: { n: bytes.length }, sections: { a: bytes.subarray(0, 2), b: bytes.subarray(2) } };
  };
  const spec = { name: 'toy', key: cacheKey({ v: 1 }), sources: [src], origin, cacheDir: path.join(dir, 'cache') };
  return { dir, src, spec, build, builds: () => builds };
}

test('encode/decode round-trips sections and meta', () => {
  const enc = encodeCache('x', 'k', 'f', { meta: { hello: [1, 2] }, sections: { a: new Uint8Array([9, 8, 7]), b: new Uint8Array(0) } });
  const dec = decodeCache<{ hello: number[] }>(Buffer.from(enc), 'k', 'f');
  assert.ok(dec);
  assert.deepEqual(dec.meta, { hello: [1, 2] });
  assert.deepEqual([...dec.sections.a], [9, 8, 7]);
  assert.equal(dec.sections.b.length, 0);
  assert.equal(decodeCache(Buffer.from(enc), 'other-key', 'f'), undefined, 'a different key is a miss');
  assert.equal(decodeCache(Buffer.from(enc), 'k', 'other-fingerprint'), undefined, 'changed sources are a miss');
  assert.equal(decodeCache(Buffer.from(enc).subarray(0, enc.length - 1), 'k', 'f'), undefined, 'a truncated file is a miss');
});

test('second load reuses the cache; sections come back intact', () => {
  const t = setup();
  const first = loadWithCache(t.spec, t.build);
  assert.equal(first.cache.hit, false);
  assert.ok(fs.existsSync(first.cache.file));
  const second = loadWithCache(t.spec, t.build);
  assert.equal(second.cache.hit, true);
  assert.equal(t.builds(), 1);
  assert.deepEqual(second.meta, { n: 5 });
  assert.deepEqual([...second.sections.a], [1, 2]);
  assert.deepEqual([...second.sections.b], [3, 4, 5]);
});

test('a corrupt cache file is rebuilt, not trusted', () => {
  const t = setup();
  const { cache } = loadWithCache(t.spec, t.build);
  const bytes = fs.readFileSync(cache.file);
  bytes[bytes.length - 1] ^= 0xff; // flip a payload byte: crc32 no longer matches
  fs.writeFileSync(cache.file, bytes);
  const again = loadWithCache(t.spec, t.build);
  assert.equal(again.cache.hit, false);
  assert.equal(t.builds(), 2);
  assert.deepEqual([...again.sections.b], [3, 4, 5]);
  assert.equal(loadWithCache(t.spec, t.build).cache.hit, true, 'the rebuilt cache is valid');
});

test('changed source is re-verified: corruption is reported even when a cache exists', () => {
  const t = setup();
  loadWithCache(t.spec, t.build);
  fs.writeFileSync(t.src, Buffer.from([1, 2, 3, 4, 6]));
  assert.throws(
    () => loadWithCache(t.spec, t.build),
    (e: unknown) => e instanceof DataError && /corrupt/.test(e.message) && e.message.includes(t.src) && e.message.includes('toy-data'),
  );
});

test('missing source -> DataError naming file, package and install command, even with a cache', () => {
  const t = setup();
  loadWithCache(t.spec, t.build);
  fs.rmSync(t.src);
  assert.throws(
    () => loadWithCache(t.spec, t.build),
    (e: unknown) =>
      e instanceof DataError && e.message.includes(t.src) && e.message.includes('toy-data') && e.message.includes('npm install') && !e.message.includes('\n'),
  );
});

test('an unwritable cache location still returns the data', () => {
  const t = setup();
  const blocker = path.join(t.dir, 'not-a-dir');
  fs.writeFileSync(blocker, 'x'); // a file where the cache directory should be
  const r = loadWithCache({ ...t.spec, cacheDir: blocker }, t.build);
  assert.equal(r.cache.hit, false);
  assert.deepEqual([...r.sections.a], [1, 2]);
});
