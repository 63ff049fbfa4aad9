/**
 * Instantiates the SIMD kernel module (assembly/, built into binary.ts) on the heap of a
 * tfjs wasm backend: the module imports tfjs' own WebAssembly.Memory, so kernels read
 * and write tensors in place, with no copies in or out. It has no data segment and
 * allocates nothing (a test checks the binary), so instantiating it cannot disturb the
 * heap. tfjs' threaded build uses a shared memory, which needs the `shared` variant.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { KERNELS_WASM_BASE64 } from './binary';
import { wasmApi, type WasmMemory, type WasmModule } from '../wasm-api';
import { KernelPool } from './pool';
import type { KernelModule } from './kernel-module';

export type { KernelModule } from './kernel-module';

/** Set on a BackendWasm by wasm-threads.ts: how many threads the SIMD kernels may use. */
export const KERNEL_THREADS = Symbol.for('ml-efficiency-repro.wasm-kernels.threads');

const instances = new WeakMap<object, { kernels: KernelModule; pool?: KernelPool }>();
const compiled: { plain?: WasmModule; shared?: WasmModule } = {};

function instance(backend: BackendWasm): { kernels: KernelModule; pool?: KernelPool } {
  let entry = instances.get(backend);
  if (!entry) {
    const memory = heapMemory(backend);
    const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    const variant = shared ? 'shared' : 'plain';
    const module = (compiled[variant] ??= new wasmApi.Module(decodeBase64(KERNELS_WASM_BASE64[variant])));
    const kernels = new wasmApi.Instance(module, { env: { memory } }).exports as unknown as KernelModule;
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
export function heapMemory(backend: BackendWasm): WasmMemory {
  const m = backend.wasm as unknown as { wasmMemory?: unknown; asm?: Record<string, unknown> };
  const memory = m.wasmMemory ?? m.asm?.memory;
  if (!(memory instanceof wasmApi.Memory)) throw new Error('tfjs-backend-wasm exposes no WebAssembly.Memory (neither Module.wasmMemory nor asm.memory)');
  return memory;
}

export function decodeBase64(text: string): ArrayBuffer {
  const bytes = typeof Buffer !== 'undefined' ? Buffer.from(text, 'base64') : Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  const out = new ArrayBuffer(bytes.length);
  new Uint8Array(out).set(bytes);
  return out;
}
