import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyOverrides, canonicalJson, configHash, configKeys } from '../../lib/core/config';
import { UsageError } from '../../lib/core/errors';

const base = { steps: 100, lr: 0.05, reverse: true, name: 'x', grid: [1, 2, 3], model: { width: 8 } };

test('configKeys lists dotted leaves', () => {
  assert.deepEqual(configKeys(base), ['steps', 'lr', 'reverse', 'name', 'grid', 'model.width']);
});

test('overrides parse by the type of the default and do not mutate it', () => {
  const c = applyOverrides(base, ['steps=5', 'lr=1e-3', 'reverse=false', 'name=y', 'grid=4,5', 'model.width=16'], 'test');
  assert.deepEqual(c, { steps: 5, lr: 0.001, reverse: false, name: 'y', grid: [4, 5], model: { width: 16 } });
  assert.equal(base.steps, 100);
});

test('unknown key is a UsageError that lists the valid keys', () => {
  assert.throws(() => applyOverrides(base, ['stepz=5'], 'paper rer'), (e: unknown) => {
    assert.ok(e instanceof UsageError);
    assert.match(e.message, /unknown --set key 'stepz'.*valid keys: steps, lr/);
    return true;
  });
});

test('wrong types are rejected', () => {
  for (const bad of ['steps=abc', 'steps=', 'lr=NaN', 'lr=Infinity', 'reverse=yes', 'grid=1,x', 'nokey']) {
    assert.throws(() => applyOverrides(base, [bad], 't'), UsageError, bad);
  }
});

test('config hash ignores key order and changes with values', () => {
  assert.equal(canonicalJson({ b: 1, a: [2, { d: 1, c: 2 }] }), '{"a":[2,{"c":2,"d":1}],"b":1}');
  assert.equal(configHash({ a: 1, b: 2 }), configHash({ b: 2, a: 1 }));
  assert.notEqual(configHash({ a: 1 }), configHash({ a: 2 }));
});
