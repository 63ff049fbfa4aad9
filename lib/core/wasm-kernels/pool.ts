/**
 * Worker threads for the SIMD kernels, when the wasm heap is shared (tfjs' threaded build,
 * lib/core/wasm-threads.ts).
 *
 * Why not XNNPACK's own threads: the GEMM here is faster than XNNPACK on one thread (see
 * matmul.ts), and split over rows or batch elements it scales the same way. Each worker
 * instantiates this module on the same shared WebAssembly.Memory and waits on a futex
 * (Atomics.wait) for a job: a kernel name and its arguments. The calling thread takes a
 * share itself, then waits for the others. Jobs split the work by output rows, batch
 * elements or element ranges, never along a sum: every output element is computed by the
 * same sequence of operations whatever the thread count, so results are bit-identical
 * per thread count (and equal to one thread's).
 */
import { Worker } from 'node:worker_threads';
import type { WasmMemory, WasmModule } from '../wasm-api';
import type { KernelModule } from './kernel-module';

/** The kernels a worker may run (exports of assembly/index.ts). */
export type PoolKernel = 'gemm' | 'geluForward' | 'geluBackward';
const KERNELS: readonly PoolKernel[] = ['gemm', 'geluForward', 'geluBackward'];
const ARGS = 12;

// Runs in each worker: instantiate, then loop on the futex. ctrl[2i] is worker i's job
// sequence number (negative: exit), ctrl[2i+1] the last sequence it finished.
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, ctrl, args, index, kernels } = workerData;
const k = new WebAssembly.Instance(module, { env: { memory } }).exports;
const c = new Int32Array(ctrl);
const a = new Float64Array(args);
const base = ${ARGS + 1} * index;
let seen = 0;
for (;;) {
  Atomics.wait(c, 2 * index, seen);
  seen = Atomics.load(c, 2 * index);
  if (seen < 0) break;
  const f = k[kernels[a[base]]];
  f(a[base + 1], a[base + 2], a[base + 3], a[base + 4], a[base + 5], a[base + 6], a[base + 7], a[base + 8], a[base + 9], a[base + 10], a[base + 11], a[base + 12]);
  Atomics.store(c, 2 * index + 1, seen);
  Atomics.notify(c, 2 * index + 1);
}
`;

export class KernelPool {
  private readonly workers: Worker[] = [];
  private readonly ctrl: Int32Array;
  private readonly args: Float64Array;
  private seq = 0;

  /** `threads` counts the calling thread: threads - 1 workers. */
  constructor(
    module: WasmModule,
    memory: WasmMemory,
    readonly threads: number,
  ) {
    const helpers = threads - 1;
    const ctrl = new SharedArrayBuffer(8 * Math.max(1, helpers));
    const args = new SharedArrayBuffer(8 * (ARGS + 1) * Math.max(1, helpers));
    this.ctrl = new Int32Array(ctrl);
    this.args = new Float64Array(args);
    for (let index = 0; index < helpers; index++) {
      // execArgv: []: the worker needs no TypeScript loader (it would start one each).
      const w = new Worker(WORKER_SOURCE, { eval: true, execArgv: [], workerData: { module, memory, ctrl, args, index, kernels: KERNELS } });
      w.unref(); // idle workers block on the futex; they must not keep a finished script alive
      this.workers.push(w);
    }
  }

  /**
   * Runs `jobs` (one kernel call each; at most `threads`): jobs[1..] on the workers, jobs[0]
   * on the calling thread with `local`, then waits for all.
   */
  run(local: KernelModule, jobs: [PoolKernel, ...number[]][]): void {
    if (jobs.length > this.threads) throw new Error(`KernelPool: ${jobs.length} jobs for ${this.threads} threads`);
    const seq = ++this.seq;
    for (let j = 1; j < jobs.length; j++) {
      const w = j - 1;
      const [name, ...values] = jobs[j];
      const base = (ARGS + 1) * w;
      this.args[base] = KERNELS.indexOf(name);
      for (let i = 0; i < ARGS; i++) this.args[base + 1 + i] = values[i] ?? 0;
      Atomics.store(this.ctrl, 2 * w, seq);
      Atomics.notify(this.ctrl, 2 * w);
    }
    const [name, ...values] = jobs[0];
    (local[name] as (...a: number[]) => unknown)(...values);
    for (let j = 1; j < jobs.length; j++) {
      const w = j - 1;
      // A short spin first: the workers' shares take as long as ours.
      for (let spin = 0; spin < 2000 && Atomics.load(this.ctrl, 2 * w + 1) !== seq; spin++);
      for (let done = Atomics.load(this.ctrl, 2 * w + 1); done !== seq; done = Atomics.load(this.ctrl, 2 * w + 1)) Atomics.wait(this.ctrl, 2 * w + 1, done);
    }
  }

  dispose(): void {
    for (let w = 0; w < this.workers.length; w++) {
      Atomics.store(this.ctrl, 2 * w, -1);
      Atomics.notify(this.ctrl, 2 * w);
    }
    this.workers.length = 0;
  }
}

/** [start, end) of share `i` of `total` items in `parts` parts, boundaries on multiples of `align`. */
export function share(total: number, parts: number, i: number, align = 1): [number, number] {
  const cut = (j: number) => Math.min(total, Math.round((total * j) / parts / align) * align);
  return [cut(i), i === parts - 1 ? total : cut(i + 1)];
}
