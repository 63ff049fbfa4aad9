import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RunRng } from '../../lib/core/rng';

test('same seed and stream name give the same sequence', () => {
  const a = new RunRng(7).stream('data');
  const b = new RunRng(7).stream('data');
  const xs = Array.from({ length: 20 }, () => a.next());
  const ys = Array.from({ length: 20 }, () => b.next());
  assert.deepEqual(xs, ys);
});

test('different names or seeds give different sequences', () => {
  const base = new RunRng(7).stream('data').next();
  assert.notEqual(new RunRng(7).stream('init').next(), base);
  assert.notEqual(new RunRng(8).stream('data').next(), base);
});

test('a new consumer does not shift an existing stream', () => {
  const rng = new RunRng(3);
  const first = rng.stream('a').next();
  rng.stream('b').next();
  assert.equal(new RunRng(3).stream('a').next(), first);
});

test('permutation is a permutation and int stays in range', () => {
  const s = new RunRng(5).stream('p');
  const p = Array.from(s.permutation(100));
  assert.deepEqual([...p].sort((x, y) => x - y), Array.from({ length: 100 }, (_, i) => i));
  for (let i = 0; i < 1000; i++) {
    const k = s.int(7);
    assert.ok(Number.isInteger(k) && k >= 0 && k < 7);
  }
  assert.throws(() => s.int(0), RangeError);
});

test('normal samples have mean ~0 and variance ~1', () => {
  const s = new RunRng(11).stream('n');
  const n = 20000;
  let sum = 0;
  let sq = 0;
  for (let i = 0; i < n; i++) {
    const x = s.normal();
    sum += x;
    sq += x * x;
  }
  const mean = sum / n;
  // 5 standard errors: fails only if the sampler is wrong.
  assert.ok(Math.abs(mean) < 5 / Math.sqrt(n), `mean ${mean}`);
  assert.ok(Math.abs(sq / n - 1) < 5 * Math.sqrt(2 / n), `var ${sq / n}`);
});

test('tf seeds are positive, never 0, and stable per name', () => {
  const rng = new RunRng(1);
  const s = rng.tfSeed('dense1');
  assert.ok(Number.isInteger(s) && s > 0);
  assert.equal(new RunRng(1).tfSeed('dense1'), s);
  assert.notEqual(rng.tfSeed('dense2'), s);
});
