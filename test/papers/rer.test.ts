import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../lib/core/backend';
import { UsageError } from '../../lib/core/errors';
import { rer } from '../../lib/papers/rer';
import type { RerConfig } from '../../lib/papers/rer/config';
import { LINSYS_METHODS, validateConfig, type RerResult } from '../../lib/papers/rer/experiment';
import { testContext } from '../fixtures/run-context';

const ctx = testContext;

const smoke = rer.profiles.smoke;

async function runOn(backend: 'cpu' | 'wasm', seed = 1): Promise<RerResult> {
  await selectBackend(backend);
  return rer.run(smoke, ctx(seed, backend));
}

test('smoke run on cpu: same seed twice gives identical results, no leaked tensors, JSON-safe', async () => {
  await selectBackend('cpu');
  const before = tf.memory().numTensors;
  const a = await runOn('cpu');
  assert.equal(tf.memory().numTensors, before);
  const b = await runOn('cpu');
  assert.deepEqual(a, b);
  assert.deepEqual(JSON.parse(JSON.stringify(a)), a);
  const c = await runOn('cpu', 2);
  assert.notDeepEqual(c.linsys.opError.ols, a.linsys.opError.ols);
  // shape: every method has trials x grid points, all finite on the smoke setting
  for (const m of LINSYS_METHODS) {
    assert.equal(a.linsys.opError[m].length, smoke.trials);
    for (const row of a.linsys.opError[m]) {
      assert.equal(row.length, smoke.gridPoints);
      for (const v of row) assert.ok(v !== null && v > 0);
    }
  }
  // OLS error shrinks as samples grow (880 -> 3520), averaged over the trials
  const ols = a.linsys.opError.ols;
  const mean = (i: number) => ols.reduce((s, row) => s + (row[i] as number), 0) / ols.length;
  assert.ok(mean(smoke.gridPoints - 1) < mean(0));
});

test('smoke run on wasm: same seed twice gives identical results, no leaked tensors', async () => {
  await selectBackend('wasm');
  const before = tf.memory().numTensors;
  const a = await runOn('wasm');
  const b = await runOn('wasm');
  assert.equal(tf.memory().numTensors, before);
  assert.deepEqual(a, b);
  await selectBackend('cpu');
});

test('cpu and wasm agree on the smoke run (relative 1e-3 on every error)', async () => {
  const cpu = await runOn('cpu');
  const wasm = await runOn('wasm');
  // float32 on both; only summation order differs, and SGD is contractive, so the
  // few-ULP differences stay tiny. The Q-learning half is float64 JS: identical.
  for (const m of LINSYS_METHODS)
    cpu.linsys.opError[m].forEach((row, r) =>
      row.forEach((v, i) => {
        const w = wasm.linsys.opError[m][r][i] as number;
        assert.ok(Math.abs((v as number) - w) <= 1e-3 * Math.abs(v as number), `${m}[${r}][${i}]: cpu ${v} wasm ${w}`);
      }),
    );
  assert.deepEqual(cpu.q, wasm.q);
  await selectBackend('cpu');
});

test('bad configs are usage errors naming the key', () => {
  const bad = (patch: Partial<RerConfig>) => () => validateConfig({ ...smoke, ...patch });
  assert.throws(bad({ gridStart: 1000 }), (e: unknown) => e instanceof UsageError && /gridStart=1000/.test(e.message));
  assert.throws(bad({ rho: 1.2 }), UsageError);
  assert.throws(bad({ trials: 0 }), UsageError);
  validateConfig(smoke);
  validateConfig(rer.profiles.quick);
  validateConfig(rer.profiles.full);
});
