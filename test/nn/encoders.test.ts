import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../lib/core/backend';
import { RunRng } from '../../lib/core/rng';
import { CrossEncoder, DualEncoder, maskedMeanPool, TextTower, type TowerConfig } from '../../lib/nn/encoders';
import { trainStep } from '../../lib/nn/training';

const cfg: TowerConfig = { vocab: 30, width: 16, depth: 1, heads: 2, ffnHidden: 24, embedDim: 8 };
const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor) => {
  const d = tf.tidy(() => a.sub(b).abs().max());
  const v = d.dataSync()[0];
  d.dispose();
  return v;
};

function dual(seed = 3): DualEncoder {
  const rng = new RunRng(seed);
  return new DualEncoder(new TextTower(cfg, rng, 'q'), new TextTower(cfg, rng, 'd'));
}

// queries [2, 5]; two different candidate sets [2, 3, 6] (0 = padding)
const queries = () => tf.tensor2d([[3, 4, 5, 0, 0], [7, 8, 9, 10, 2]], [2, 5], 'int32');
const docsA = () => tf.tensor3d([[[1, 2, 3, 4, 0, 0], [5, 6, 0, 0, 0, 0], [9, 9, 9, 9, 9, 9]], [[11, 12, 13, 0, 0, 0], [14, 15, 16, 17, 0, 0], [3, 3, 0, 0, 0, 0]]], [2, 3, 6], 'int32');
const docsB = () => tf.tensor3d([[[20, 21, 22, 0, 0, 0], [1, 1, 1, 1, 1, 1], [28, 0, 0, 0, 0, 0]], [[4, 4, 4, 0, 0, 0], [25, 26, 0, 0, 0, 0], [27, 29, 6, 5, 0, 0]]], [2, 3, 6], 'int32');

test('dual encoder: score = dot product of independently computed embeddings; the passage never changes the query embedding', async () => {
  await selectBackend('cpu');
  const m = dual();
  const q = queries();
  const [a, b] = [docsA(), docsB()];
  const ra = m.score(q, a);
  const rb = m.score(q, b);
  assert.equal(maxAbsDiff(ra.queryEmb, rb.queryEmb), 0, 'query embedding changed with the passages');
  assert.ok(maxAbsDiff(ra.scores, rb.scores) > 1e-4, 'different passages should give different scores');
  // the same numbers from separately computed towers
  const qe = m.encodeQueries(q);
  const de = m.encodeDocs(a.reshape([6, 6]));
  const manual = tf.tidy(() => tf.matMul(qe, de, false, true)); // [2, 6]: each query vs all 6 docs
  const own = tf.tidy(() => tf.concat([manual.slice([0, 0], [1, 3]), manual.slice([1, 3], [1, 3])], 0));
  assert.ok(maxAbsDiff(own, ra.scores) < 1e-5);
  // a query's embedding does not depend on the other queries in the batch either
  const single = m.encodeQueries(q.slice([1, 0], [1, 5]) as tf.Tensor2D);
  assert.ok(maxAbsDiff(single, qe.slice([1, 0], [1, 8])) < 1e-6);
  tf.dispose([q, a, b, ra.scores, ra.queryEmb, ra.docEmb, rb.scores, rb.queryEmb, rb.docEmb, qe, de, manual, own, single]);
  m.queryTower.dispose();
  m.docTower.dispose();
});

test('cross-encoder attends across the pair: its pooled query embedding does depend on the passage', async () => {
  await selectBackend('cpu');
  const ce = new CrossEncoder(cfg, new RunRng(5));
  const q = queries();
  const [a, b] = [docsA(), docsB()];
  const ra = ce.score(q, a);
  const rb = ce.score(q, b);
  assert.deepEqual(ra.scores.shape, [2, 3]);
  assert.deepEqual(ra.queryEmb.shape, [2, 3, 8]);
  assert.ok(maxAbsDiff(ra.queryEmb, rb.queryEmb) > 1e-4);
  // score is the dot product of the dual-pooled embeddings
  const dot = tf.tidy(() => ra.queryEmb.mul(ra.docEmb).sum(-1));
  assert.ok(maxAbsDiff(dot, ra.scores) < 1e-5);
  tf.dispose([q, a, b, ra.scores, ra.queryEmb, ra.docEmb, rb.scores, rb.queryEmb, rb.docEmb, dot]);
  ce.dispose();
});

test('towers can share one token table: it is owned and listed by one tower only', async () => {
  await selectBackend('cpu');
  const rng = new RunRng(9);
  const q = new TextTower(cfg, rng, 'sq');
  const d = new TextTower(cfg, rng, 'sd', { sharedEmbedding: q.embedding });
  assert.equal(d.embedding, q.embedding);
  assert.ok(q.variables.includes(q.embedding));
  assert.ok(!d.variables.includes(q.embedding));
  const m = new DualEncoder(q, d);
  assert.equal(new Set(m.trainableVariables()).size, m.trainableVariables().length);
  assert.throws(() => new TextTower({ ...cfg, width: 8, heads: 2 }, rng, 'bad', { sharedEmbedding: q.embedding }), RangeError);
  d.dispose();
  q.dispose();
});

test('masked mean pool ignores padded positions', () => {
  const x = tf.tensor3d([[[1, 1], [3, 5], [100, 100]]]);
  const m = tf.tensor2d([[1, 1, 0]]);
  const p = maskedMeanPool(x, m);
  assert.deepEqual(Array.from(p.dataSync()), [2, 3]);
  tf.dispose([x, m, p]);
});

test('an inherited, frozen document tower is left unchanged by training; no tensors leak per step', async () => {
  await selectBackend('cpu');
  const teacher = dual(7);
  const student = new DualEncoder(new TextTower({ ...cfg, width: 8, heads: 2, ffnHidden: 8 }, new RunRng(8), 'small-q'), teacher.docTower);
  const vars = student.trainableVariables({ freezeDocTower: true });
  assert.equal(vars.length, student.queryTower.variables.length);
  const docBefore = teacher.docTower.variables.map((v) => v.clone());
  const qBefore = student.queryTower.variables.map((v) => v.clone());
  const opt = tf.train.adam(0.01);
  const q = queries();
  const a = docsA();
  const step = () => tf.dispose(tf.tidy(() => trainStep(opt, vars, () => {
    const r = student.score(q, a);
    return tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d([0, 0], 'int32'), 3), r.scores) as tf.Scalar;
  })));
  step();
  const before = tf.memory().numTensors;
  step();
  step();
  assert.equal(tf.memory().numTensors, before);
  teacher.docTower.variables.forEach((v, i) => assert.equal(maxAbsDiff(v, docBefore[i]), 0));
  assert.ok(student.queryTower.variables.some((v, i) => maxAbsDiff(v, qBefore[i]) > 0));
  assert.ok(student.paramCount().query < teacher.paramCount().query);
  tf.dispose([...docBefore, ...qBefore, q, a]);
  opt.dispose();
  student.queryTower.dispose();
  teacher.queryTower.dispose();
  teacher.docTower.dispose();
});

test('same seed -> same initial scores; another seed -> different', async () => {
  await selectBackend('cpu');
  const s = (seed: number) => {
    const m = dual(seed);
    const q = queries();
    const a = docsA();
    const r = m.score(q, a);
    const v = Array.from(r.scores.dataSync());
    tf.dispose([q, a, r.scores, r.queryEmb, r.docEmb]);
    m.queryTower.dispose();
    m.docTower.dispose();
    return v;
  };
  assert.deepEqual(s(11), s(11));
  assert.notDeepEqual(s(11), s(12));
});
