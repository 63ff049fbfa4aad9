/**
 * The threaded wasm build under Node (lib/core/wasm-threads.ts): it starts with the
 * requested number of threads, trains with bit-identical results for every thread count
 * and run, falls back to one thread when the threaded binary is missing, and the tfjs
 * source line it resizes is still there.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { wasmThreadsRequested } from '../../lib/core/backend';
import { BackendError } from '../../lib/core/errors';
import { packageDir, repoRoot } from '../../lib/core/paths';
import { MAX_WASM_THREADS, POOL_SIZE_SOURCE } from '../../lib/core/wasm-threads';

interface ChildOut {
  device: string;
  losses: number[];
  hash: number;
}

function train(env: NodeJS.ProcessEnv): ChildOut {
  const stdout = execFileSync(process.execPath, ['--import', 'tsx', path.join(repoRoot(), 'test', 'fixtures', 'wasm-threads-child.ts')], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 120_000,
  });
  return JSON.parse(stdout.trim().split('\n').pop() ?? '') as ChildOut;
}

test('REPRO_WASM_THREADS: a count, or all (one per core), at most 8; anything else is a BackendError', () => {
  assert.equal(wasmThreadsRequested({ REPRO_WASM_THREADS: '3' }), 3);
  assert.equal(wasmThreadsRequested({ REPRO_WASM_THREADS: 'all' }), Math.min(os.cpus().length, MAX_WASM_THREADS));
  assert.equal(wasmThreadsRequested({ REPRO_WASM_THREADS: '64' }), MAX_WASM_THREADS);
  for (const bad of ['0', '-1', '1.5', 'two']) assert.throws(() => wasmThreadsRequested({ REPRO_WASM_THREADS: bad }), BackendError);
  const byDefault = wasmThreadsRequested({});
  assert.ok(byDefault >= 1 && byDefault <= MAX_WASM_THREADS);
});

test('training on 1, 2 and 3 threads gives bit-identical losses and weights, run after run', { timeout: 300_000 }, () => {
  const one = train({ REPRO_WASM_THREADS: '1' });
  assert.match(one.device, /wasm SIMD, 1 thread$/);
  for (const n of [2, 3, 2]) {
    const run = train({ REPRO_WASM_THREADS: String(n) });
    assert.match(run.device, new RegExp(`wasm SIMD, ${n} threads$`));
    assert.deepEqual(run.losses, one.losses, `${n} threads: losses`);
    assert.equal(run.hash, one.hash, `${n} threads: weights`);
  }
  assert.ok(one.losses.every(Number.isFinite) && one.losses[2] < one.losses[0], `it trains: ${one.losses}`);
});

test('without the threaded binary, wasm falls back to one thread and says why', { timeout: 120_000 }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wasm-no-threads-'));
  try {
    for (const f of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm']) fs.copyFileSync(path.join(packageDir('@tensorflow/tfjs-backend-wasm'), 'dist', f), path.join(dir, f));
    const run = train({ REPRO_WASM_THREADS: '2', REPRO_WASM_DIR: dir });
    assert.match(run.device, /wasm SIMD, 1 thread \(2 threads unavailable: .*tfjs-backend-wasm-threaded-simd\.wasm/);
    assert.deepEqual(run.losses, train({ REPRO_WASM_THREADS: '1' }).losses);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("tfjs' threaded factory still sizes its worker pool with the line wasm-threads.ts resizes", () => {
  const source = fs.readFileSync(path.join(packageDir('@tensorflow/tfjs-backend-wasm'), 'wasm-out', 'tfjs-backend-wasm-threaded-simd.js'), 'utf8');
  assert.equal(source.split(POOL_SIZE_SOURCE).length, 2, `exactly one '${POOL_SIZE_SOURCE}'`);
});
