/**
 * Wall-clock timing that waits for the device: tfjs ops are asynchronous on GPU
 * backends, so a timer must `await data()` on the result before it stops, or it
 * measures only the dispatch.
 */
import type * as tfTypes from '@tensorflow/tfjs';

/** Times `fn`; if it returns tensors, waits until their values are on the host. */
export async function timeAsync<T>(fn: () => T | Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await fn();
  await syncTensors(value);
  return { value, ms: performance.now() - t0 };
}

async function syncTensors(value: unknown): Promise<void> {
  const tensors: tfTypes.Tensor[] = [];
  collectTensors(value, tensors, 0);
  for (const t of tensors) if (!t.isDisposed) await t.data();
}

function collectTensors(value: unknown, out: tfTypes.Tensor[], depth: number): void {
  if (value === null || value === undefined || depth > 3) return;
  if (isTensor(value)) out.push(value);
  else if (Array.isArray(value)) for (const v of value) collectTensors(v, out, depth + 1);
  else if (typeof value === 'object') for (const v of Object.values(value as object)) collectTensors(v, out, depth + 1);
}

function isTensor(v: unknown): v is tfTypes.Tensor {
  return typeof v === 'object' && v !== null && typeof (v as tfTypes.Tensor).dataId === 'object' && typeof (v as tfTypes.Tensor).data === 'function';
}

/**
 * Median of repeated timings of an async step, after warm-up runs. Tensors the step
 * returns are disposed once timed (a timed trainStep must not leak its loss).
 */
export async function medianMs(step: () => unknown, repeats: number, warmup = 1): Promise<number> {
  const timed = async () => {
    const { value, ms } = await timeAsync(step);
    const tensors: tfTypes.Tensor[] = [];
    collectTensors(value, tensors, 0);
    for (const t of tensors) if (!t.isDisposed) t.dispose();
    return ms;
  };
  for (let i = 0; i < warmup; i++) await timed();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) times.push(await timed());
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}
