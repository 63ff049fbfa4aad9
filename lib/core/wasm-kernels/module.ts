/**
 * Instantiates the SIMD kernel module (assembly/, built into binary.ts) on the heap of a
 * tfjs wasm backend: the module imports tfjs' own WebAssembly.Memory, so kernels read
 * and write tensors in place, with no copies in or out. It has no data segment and
 * allocates nothing (a test checks the binary), so instantiating it cannot disturb the
 * heap. tfjs' threaded build uses a shared memory, which needs the `shared` variant.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { KERNELS_WASM_BASE64 } from './binary';
import { KernelPool } from './pool';

/** Set on a BackendWasm by wasm-threads.ts: how many threads the SIMD kernels may use. */
export const KERNEL_THREADS = Symbol.for('ml-efficiency-repro.wasm-kernels.threads');

/** The exports of assembly/index.ts (pointers are heap byte offsets, counts elements). */
export interface KernelModule {
  permute6(src: number, dst: number, d0: number, d1: number, d2: number, d3: number, d4: number, d5: number, s0: number, s1: number, s2: number, s3: number, s4: number, s5: number): void;
  transpose2d(src: number, dst: number, batch: number, rows: number, cols: number): void;
  gather(params: number, indices: number, out: number, outer: number, axisDim: number, inner: number, n: number): number;
  copy2d(src: number, srcStride: number, dst: number, dstStride: number, count: number, len: number): void;
  sumMiddle(x: number, out: number, outer: number, r: number, c: number): void;
  gemm(a: number, b: number, c: number, m: number, k: number, n: number, batch: number, strideA: number, strideB: number, strideC: number): void;
  peak(iters: number, x: number): number;
  geluForward(x: number, y: number, n: number): void;
  geluBackward(x: number, dy: number, dx: number, n: number): void;
  layerNormForward(x: number, g: number, b: number, y: number, rows: number, d: number, eps: number): void;
  layerNormBackward(x: number, g: number, dy: number, dx: number, dg: number, db: number, rows: number, d: number, eps: number): void;
  rmsNormForward(x: number, g: number, y: number, rows: number, d: number, eps: number): void;
  rmsNormBackward(x: number, g: number, dy: number, dx: number, dg: number, rows: number, d: number, eps: number): void;
  softmaxForward(x: number, y: number, rows: number, v: number): void;
  softmaxBackward(y: number, dy: number, dx: number, rows: number, v: number): void;
  crossEntropyForward(logits: number, targets: number, scratch: number, rows: number, v: number): number;
  crossEntropyBackward(logits: number, targets: number, dlogits: number, rows: number, v: number, scale: number): void;
  adam(w: number, m: number, v: number, g: number, wOut: number, mOut: number, vOut: number, n: number, b1: number, oneMinusB1: number, b2: number, oneMinusB2: number, c1: number, c2: number, eps: number, negLr: number): void;
}

const instances = new WeakMap<object, { kernels: KernelModule; pool?: KernelPool }>();
const compiled: { plain?: WebAssembly.Module; shared?: WebAssembly.Module } = {};

function instance(backend: BackendWasm): { kernels: KernelModule; pool?: KernelPool } {
  let entry = instances.get(backend);
  if (!entry) {
    const memory = heapMemory(backend);
    const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    const variant = shared ? 'shared' : 'plain';
    const module = (compiled[variant] ??= new WebAssembly.Module(decodeBase64(KERNELS_WASM_BASE64[variant])));
    const kernels = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as KernelModule;
    const threads = (backend as unknown as Record<symbol, number | undefined>)[KERNEL_THREADS] ?? 1;
    entry = { kernels, pool: shared && threads > 1 ? new KernelPool(module, memory, threads) : undefined };
    instances.set(backend, entry);
  }
  return entry;
}

export function kernelModule(backend: BackendWasm): KernelModule {
  return instance(backend).kernels;
}

/** The worker pool of this backend's kernels (undefined on one thread). */
export function kernelPool(backend: BackendWasm): KernelPool | undefined {
  return instance(backend).pool;
}

/** tfjs' heap: exported by the SIMD build's instance, created in JS by the threaded build. */
export function heapMemory(backend: BackendWasm): WebAssembly.Memory {
  const m = backend.wasm as unknown as { wasmMemory?: unknown; asm?: Record<string, unknown> };
  const memory = m.wasmMemory ?? m.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory)) throw new Error('tfjs-backend-wasm exposes no WebAssembly.Memory (neither Module.wasmMemory nor asm.memory)');
  return memory;
}

export function decodeBase64(text: string): ArrayBuffer {
  const bytes = typeof Buffer !== 'undefined' ? Buffer.from(text, 'base64') : Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  const out = new ArrayBuffer(bytes.length);
  new Uint8Array(out).set(bytes);
  return out;
}
