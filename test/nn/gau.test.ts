import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../lib/core/backend';
import { UsageError } from '../../lib/core/errors';
import { RunRng } from '../../lib/core/rng';
import { GauLM, type GauLMConfig } from '../../lib/nn/gau';
import { effectiveChunk, gauQuadraticAttention, lowerTriangular, mixedChunkAttention } from '../../lib/nn/mixed-chunk-attention';
import { TransformerLM } from '../../lib/nn/transformer';
import { trainStep } from '../../lib/nn/training';

type Mat = number[][]; // [T][d] for one batch row

/**
 * Float64 reference, written from the definition position by position (no chunk reshapes).
 * Causal: quadratic weights inside the chunk (j <= i), linear weights for earlier chunks.
 * Not causal (the paper's pseudo-code): quadratic inside the chunk plus linear weights
 * over every chunk, its own included.
 */
function naiveMixed(qq: Mat, kq: Mat, ql: Mat, kl: Mat, v: Mat, chunk: number, causal: boolean): Mat {
  const t = qq.length;
  const e = v[0].length;
  const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i], 0);
  const out: Mat = [];
  for (let i = 0; i < t; i++) {
    const row = new Array<number>(e).fill(0);
    for (let j = 0; j < t; j++) {
      const sameChunk = Math.floor(i / chunk) === Math.floor(j / chunk);
      let w = 0;
      if (sameChunk && !(causal && j > i)) w += Math.max(0, dot(qq[i], kq[j]) / chunk) ** 2;
      if (causal ? Math.floor(j / chunk) < Math.floor(i / chunk) : true) w += dot(ql[i], kl[j]) / chunk;
      for (let c = 0; c < e; c++) row[c] += w * v[j][c];
    }
    out.push(row);
  }
  return out;
}

function randomMat(stream: ReturnType<RunRng['stream']>, b: number, t: number, d: number): number[][][] {
  return Array.from({ length: b }, () => Array.from({ length: t }, () => Array.from({ length: d }, () => stream.normal())));
}

function assertClose(actual: number[][][], expected: number[][][], tol: number, what: string): void {
  actual.forEach((m, b) =>
    m.forEach((row, i) =>
      row.forEach((x, c) => {
        const y = expected[b][i][c];
        assert.ok(Math.abs(x - y) <= tol * (1 + Math.abs(y)), `${what} [${b},${i},${c}]: ${x} vs ${y}`);
      }),
    ),
  );
}

const B = 2;
const T = 12;
const S = 4;
const E = 6;

function inputs(seed: number) {
  const st = new RunRng(seed).stream('mca');
  return { qq: randomMat(st, B, T, S), kq: randomMat(st, B, T, S), ql: randomMat(st, B, T, S), kl: randomMat(st, B, T, S), v: randomMat(st, B, T, E) };
}

for (const backend of ['cpu', 'wasm'] as const) {
  test(`${backend}: mixed chunk attention equals the position-by-position reference (3 chunks, causal and not)`, async () => {
    await selectBackend(backend);
    const x = inputs(3);
    for (const causal of [true, false]) {
      const got = tf.tidy(() =>
        mixedChunkAttention({ quadQ: tf.tensor3d(x.qq), quadK: tf.tensor3d(x.kq), linQ: tf.tensor3d(x.ql), linK: tf.tensor3d(x.kl), v: tf.tensor3d(x.v) }, { chunkSize: 4, causal }),
      );
      const want = x.qq.map((_, b) => naiveMixed(x.qq[b], x.kq[b], x.ql[b], x.kl[b], x.v[b], 4, causal));
      assertClose((await got.array()) as number[][][], want, 1e-4, `causal=${causal}`);
      got.dispose();
    }
  });

  test(`${backend}: with one chunk, causal mixed chunk attention equals quadratic GAU attention`, async () => {
    await selectBackend(backend);
    const x = inputs(5);
    // Non-causal mixed chunk attention adds a linear term over all chunks (own included), so only the causal form reduces to quadratic.
    for (const causal of [true]) {
      const [mixed, quad] = tf.tidy(() => {
        const [qq, kq, ql, kl, v] = [x.qq, x.kq, x.ql, x.kl, x.v].map((a) => tf.tensor3d(a));
        const m = mixedChunkAttention({ quadQ: qq, quadK: kq, linQ: ql, linK: kl, v }, { chunkSize: T, causal });
        // A chunk longer than the sequence is clamped to one chunk too.
        const m2 = mixedChunkAttention({ quadQ: qq, quadK: kq, linQ: ql, linK: kl, v }, { chunkSize: 4 * T, causal });
        assert.deepEqual(m.arraySync(), m2.arraySync());
        return [m, gauQuadraticAttention(qq, kq, v, { causal })];
      });
      const want = x.qq.map((_, b) => naiveMixed(x.qq[b], x.kq[b], x.ql[b], x.kl[b], x.v[b], T, causal));
      assert.notDeepEqual(x.ql, x.qq); // the linear views differ, so equality is not trivial
      assertClose((await quad.array()) as number[][][], want, 1e-4, `quadratic causal=${causal}`);
      assertClose((await mixed.array()) as number[][][], (await quad.array()) as number[][][], 1e-5, `one chunk causal=${causal}`);
      tf.dispose([mixed, quad]);
    }
    // Quadratic attention, not causal: the reference with the linear views set to zero.
    const zeros = x.ql.map((m) => m.map((r) => r.map(() => 0)));
    const quadFull = tf.tidy(() => gauQuadraticAttention(tf.tensor3d(x.qq), tf.tensor3d(x.kq), tf.tensor3d(x.v), { causal: false }));
    const wantFull = x.qq.map((_, b) => naiveMixed(x.qq[b], x.kq[b], zeros[b], zeros[b], x.v[b], T, false));
    assertClose((await quadFull.array()) as number[][][], wantFull, 1e-4, 'quadratic, not causal');
    quadFull.dispose();
  });
}

test('chunk sizes that do not divide the sequence are usage errors', () => {
  assert.equal(effectiveChunk(512, 256), 256);
  assert.equal(effectiveChunk(128, 256), 128);
  assert.throws(() => effectiveChunk(300, 256), (e: unknown) => e instanceof UsageError && /chunkSize=256/.test(e.message));
  assert.throws(() => effectiveChunk(300, 0), UsageError);
});

test('lowerTriangular: inclusive and strict', async () => {
  await selectBackend('cpu');
  assert.deepEqual(lowerTriangular(3, false).arraySync(), [[1, 0, 0], [1, 1, 0], [1, 1, 1]]);
  assert.deepEqual(lowerTriangular(3, true).arraySync(), [[0, 0, 0], [1, 0, 0], [1, 1, 0]]);
});

const GAU_CFG: GauLMConfig = { vocab: 32, width: 16, depth: 2, expansion: 32, qkDim: 8, attention: 'mixed-chunk', chunkSize: 4 };
const MODELS: { name: string; make: () => { forward: (t: tf.Tensor2D) => tf.Tensor3D; loss: (i: tf.Tensor2D, t: tf.Tensor2D) => tf.Scalar; vars: tf.Variable[]; dispose: () => void } }[] = [
  {
    name: 'FLASH (mixed chunk, 4 chunks)',
    make: () => {
      const m = new GauLM(GAU_CFG, new RunRng(7));
      return { forward: (t) => m.forward(t), loss: (i, t) => m.loss(i, t), vars: m.store.variables, dispose: () => m.dispose() };
    },
  },
  {
    name: 'FLASH-Quad',
    make: () => {
      const m = new GauLM({ ...GAU_CFG, attention: 'quadratic' }, new RunRng(7));
      return { forward: (t) => m.forward(t), loss: (i, t) => m.loss(i, t), vars: m.store.variables, dispose: () => m.dispose() };
    },
  },
  {
    name: 'Transformer++',
    make: () => {
      const m = new TransformerLM({ vocab: 32, width: 16, depth: 1, heads: 2, ffnHidden: 32 }, new RunRng(7));
      return { forward: (t) => m.forward(t).logits, loss: (i, t) => m.loss(i, t), vars: m.store.variables, dispose: () => m.dispose() };
    },
  },
];

function tokens(seed: number, b: number, t: number): number[][] {
  const st = new RunRng(seed).stream('tokens');
  return Array.from({ length: b }, () => Array.from({ length: t }, () => st.int(32)));
}

for (const backend of ['cpu', 'wasm'] as const)
  for (const spec of MODELS) {
    test(`${backend}: ${spec.name} is causal — changing token t+1 never changes outputs up to t`, async () => {
      await selectBackend(backend);
      const model = spec.make();
      const base = tokens(11, 2, 16);
      const ref = tf.tidy(() => model.forward(tf.tensor2d(base, undefined, 'int32')).arraySync()) as number[][][];
      // Positions at chunk edges (3 -> 4, 7 -> 8) and inside chunks.
      for (const t of [0, 3, 5, 7, 14]) {
        const changed = base.map((row) => row.slice());
        for (const row of changed) row[t + 1] = (row[t + 1] + 13) % 32;
        const out = tf.tidy(() => model.forward(tf.tensor2d(changed, undefined, 'int32')).arraySync()) as number[][][];
        for (let b = 0; b < 2; b++) {
          for (let i = 0; i <= t; i++) assert.deepEqual(out[b][i], ref[b][i], `t=${t}: output ${i} changed`);
          assert.notDeepEqual(out[b][t + 1], ref[b][t + 1], `t=${t}: the changed token itself must matter`);
        }
      }
      model.dispose();
    });

    test(`${backend}: ${spec.name} — every variable gets a finite, non-zero gradient; a train step leaks no tensors`, async () => {
      await selectBackend(backend);
      const model = spec.make();
      const toks = tokens(12, 2, 17);
      const inputs = tf.tensor2d(toks.map((r) => r.slice(0, 16)), undefined, 'int32');
      const targets = tf.tensor2d(toks.map((r) => r.slice(1)), undefined, 'int32');
      const { value, grads } = tf.variableGrads(() => model.loss(inputs, targets), model.vars);
      assert.ok(Number.isFinite(value.dataSync()[0]));
      for (const v of model.vars) {
        const g = grads[v.name];
        assert.ok(g, `no gradient for ${v.name}`);
        const norm = g.norm().dataSync()[0];
        assert.ok(Number.isFinite(norm) && norm > 0, `${v.name}: gradient norm ${norm}`);
      }
      tf.dispose([value, ...Object.values(grads)]);
      const opt = tf.train.adam(1e-2);
      const before = tf.memory().numTensors;
      const first = trainStep(opt, model.vars, () => model.loss(inputs, targets));
      first.dispose();
      const afterFirst = tf.memory().numTensors; // Adam creates its slots on the first step
      for (let i = 0; i < 3; i++) trainStep(opt, model.vars, () => model.loss(inputs, targets)).dispose();
      assert.equal(tf.memory().numTensors, afterFirst);
      assert.ok(afterFirst >= before);
      opt.dispose();
      tf.dispose([inputs, targets]);
      model.dispose();
    });
  }

test('GauLM: same seed gives identical logits; a different seed does not', async () => {
  await selectBackend('cpu');
  const toks = tf.tensor2d(tokens(1, 1, 8), undefined, 'int32');
  const run = (seed: number) => {
    const m = new GauLM(GAU_CFG, new RunRng(seed));
    const out = tf.tidy(() => m.forward(toks).arraySync());
    m.dispose();
    return out;
  };
  assert.deepEqual(run(3), run(3));
  assert.notDeepEqual(run(3), run(4));
  toks.dispose();
});
