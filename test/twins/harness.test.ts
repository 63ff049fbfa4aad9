/** The comparison rules the twin tests rely on (no PyTorch needed). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Agreement, relativeError, twinsRequired } from './harness';

test('relativeError is max |a - b| over max |b|: entries near zero do not inflate it', () => {
  assert.equal(relativeError([1, 1e-9], [1, 2e-9]), 1e-9);
  assert.equal(relativeError([2, 0], [1, 0]), 1);
  assert.equal(relativeError([0, 0], [0, 0]), 0);
  assert.equal(relativeError([1e-30], [0]), Infinity);
  assert.equal(relativeError([NaN], [1]), Infinity);
});

test('Agreement.check fails beyond the tolerance and remembers the largest error', () => {
  const a = new Agreement('t');
  a.check('x', [1, 2], { shape: [2], data: [1, 2 + 2e-6] }, 1e-5);
  assert.throws(() => a.check('y', [1, 2], { shape: [2], data: [1, 2.1] }, 1e-5), /relative error/);
  assert.equal(a.largest('outputs')?.name, 'y');
});

test('Adam first-step check: differences explained by the gradients pass, a wrong step fails', () => {
  const lr = 0.1;
  const eps = 1e-7;
  const step = (g: number) => -lr * g / (Math.abs(g) + eps);
  // g ~ eps: a 1e-9 gradient difference moves the step by ~lr/4 * 1e-2, explained by the slope.
  const s = { before: [0, 0], gOurs: [1e-7, 0.5], gTwin: [1.01e-7, 0.5], ours: [step(1e-7), step(0.5)], twin: [step(1.01e-7), step(0.5)] };
  const a = new Agreement('adam');
  assert.ok(a.checkAdamFirstStep('ok', s, lr, eps, 1e-6) < 1e-9);
  // the same gradients but the step of a different epsilon: not explained
  const wrong = { ...s, ours: [step(1e-7), (-lr * 0.5) / (0.5 + 1e-3)] };
  assert.throws(() => a.checkAdamFirstStep('wrong eps', wrong, lr, eps, 1e-6), /beyond what the gradients explain/);
});

test('a missing PyTorch fails the twins exactly when CI=true', () => {
  const saved = process.env.CI;
  try {
    process.env.CI = 'true';
    assert.equal(twinsRequired(), true);
    delete process.env.CI;
    assert.equal(twinsRequired(), false);
  } finally {
    if (saved === undefined) delete process.env.CI;
    else process.env.CI = saved;
  }
});
