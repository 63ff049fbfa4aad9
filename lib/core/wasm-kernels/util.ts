/**
 * Plumbing shared by the wasm kernel modules: swapping a registered wasm kernel for ours
 * (and back), calling wasm kernels directly on TensorInfos, and heap offsets.
 *
 * Kernels here work below tfjs' engine: intermediates are made with backend.makeOutput
 * and freed with backend.disposeData, never tracked as tensors.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { kernelModule, kernelPool, type KernelModule } from './module';
import type { KernelPool } from './pool';

export const WASM = 'wasm';
/** Marks our replacement kernelFunc and remembers the stock one, across module copies. */
const ORIGINAL = Symbol.for('ml-efficiency-repro.wasm-kernels.original');

export type KernelFunc = tf.KernelFunc & { [ORIGINAL]?: tf.KernelFunc };
export type KernelArgs = Parameters<tf.KernelFunc>[0];

/**
 * Registers `make(stock)` as the wasm kernel `name`, keeping the stock kernelFunc for
 * fallbacks and restoreKernel. Idempotent. The stock setupFunc is kept: it binds the wasm
 * export that the stock kernelFunc calls, and runs at backend init.
 */
export function replaceKernel(name: string, make: (original: tf.KernelFunc) => tf.KernelFunc): void {
  const config = tf.getKernel(name, WASM);
  if (!config) throw new Error(`wasm kernel ${name} is not registered: import '@tensorflow/tfjs-backend-wasm' first`);
  if ((config.kernelFunc as KernelFunc)[ORIGINAL]) return; // already ours
  const original = config.kernelFunc;
  const replacement = make(original) as KernelFunc;
  replacement[ORIGINAL] = original;
  tf.unregisterKernel(name, WASM);
  tf.registerKernel({ ...config, kernelFunc: replacement });
}

/** Puts the stock kernel `name` back (no-op when it is not replaced). */
export function restoreKernel(name: string): void {
  const config = tf.getKernel(name, WASM);
  const original = (config?.kernelFunc as KernelFunc | undefined)?.[ORIGINAL];
  if (!config || !original) return;
  tf.unregisterKernel(name, WASM);
  tf.registerKernel({ ...config, kernelFunc: original });
}

/** True when our replacement is the registered wasm kernel `name`. */
export function isReplaced(name: string): boolean {
  const config = tf.getKernel(name, WASM);
  return Boolean(config && (config.kernelFunc as KernelFunc)[ORIGINAL]);
}

export function registerIfMissing(name: string, kernelFunc: tf.KernelFunc): void {
  if (tf.getKernel(name, WASM)) return; // a native kernel (or ours) is already there
  tf.registerKernel({ kernelName: name, backendName: WASM, kernelFunc });
}

export function runWasm(name: string, backend: BackendWasm, inputs: tf.NamedTensorInfoMap, attrs: object = {}): tf.TensorInfo {
  const config = tf.getKernel(name, WASM);
  if (!config) throw new Error(`wasm kernel ${name} is not registered`);
  return config.kernelFunc({ inputs, backend, attrs: attrs as tf.NamedAttrMap }) as tf.TensorInfo;
}

export function reshapeInfo(backend: BackendWasm, x: tf.TensorInfo, shape: number[]): tf.TensorInfo {
  return runWasm('Reshape', backend, { x }, { shape });
}

export function dispose(backend: BackendWasm, ...infos: (tf.TensorInfo | undefined)[]): void {
  for (const info of infos) if (info) backend.disposeData(info.dataId);
}

export function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Byte offset of a tensor's data in the wasm heap. */
export function ptr(backend: BackendWasm, info: tf.TensorInfo): number {
  return backend.getMemoryOffset(info.dataId);
}

/** Our SIMD kernels, bound to this backend's heap. */
export function simd(backend: BackendWasm): KernelModule {
  return kernelModule(backend);
}

/** Their worker pool, when the backend has kernel threads (undefined on one thread). */
export function simdPool(backend: BackendWasm): KernelPool | undefined {
  return kernelPool(backend);
}
