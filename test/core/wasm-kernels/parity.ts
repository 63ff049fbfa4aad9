/**
 * Helpers for the wasm kernel tests: seeded data, running a function on a backend (and
 * at a wasm kernel level), and comparing results exactly or within a tolerance.
 */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../lib/core/backend';
import { RunRng } from '../../../lib/core/rng';
import { useWasmKernels, type WasmKernelLevel } from '../../../lib/core/wasm-kernels';

const rng = new RunRng(7);

export function randn(shape: number[], name: string, scale = 1): Float32Array {
  const s = rng.stream(name);
  const out = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < out.length; i++) out[i] = s.normal() * scale;
  return out;
}

/** max |got - want| / max |want|. */
export function relativeError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  assert.equal(got.length, want.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    diff = Math.max(diff, Math.abs(got[i] - want[i]));
    scale = Math.max(scale, Math.abs(want[i]));
  }
  return diff / (scale || 1);
}

/**
 * Runs `f` on a backend (for wasm: at a kernel level, 'all' by default; the level is put
 * back to 'all' afterwards) and returns the values of its outputs.
 */
export async function on(backend: 'cpu' | 'wasm', f: () => tf.Tensor | tf.Tensor[], level: WasmKernelLevel = 'all'): Promise<Float32Array[]> {
  await selectBackend(backend);
  if (backend === 'wasm') useWasmKernels(level);
  try {
    const outs = tf.tidy(f);
    const list = Array.isArray(outs) ? outs : [outs];
    const values = list.map((t) => Float32Array.from(t.dataSync()));
    tf.dispose(list);
    return values;
  } finally {
    if (backend === 'wasm') useWasmKernels('all');
  }
}

/** Every output within `tolerance` relative error of the cpu backend's. */
export async function assertCpuParity(label: string, f: () => tf.Tensor | tf.Tensor[], tolerance: number): Promise<number> {
  const want = await on('cpu', f);
  const got = await on('wasm', f);
  assert.equal(got.length, want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const err = relativeError(got[i], want[i]);
    worst = Math.max(worst, err);
    assert.ok(err < tolerance, `${label} output ${i}: relative error ${err.toExponential(2)} >= ${tolerance}`);
  }
  return worst;
}

/** Same bits: two runs of f on wasm, at levels a and b. */
export async function assertBitIdentical(label: string, f: () => tf.Tensor | tf.Tensor[], a: WasmKernelLevel, b: WasmKernelLevel): Promise<void> {
  const x = await on('wasm', f, a);
  const y = await on('wasm', f, b);
  assert.equal(x.length, y.length);
  for (let i = 0; i < x.length; i++) {
    const u = new Uint32Array(x[i].buffer);
    const v = new Uint32Array(y[i].buffer);
    assert.equal(u.length, v.length, `${label} output ${i}: length`);
    const first = u.findIndex((bits, j) => bits !== v[j]);
    assert.equal(first, -1, `${label} output ${i} (${a} vs ${b}): first differing element ${first}: ${x[i][first]} vs ${y[i][first]}`);
  }
}
