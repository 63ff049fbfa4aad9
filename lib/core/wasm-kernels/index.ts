/**
 * Fixes, replacements and additions to tfjs-backend-wasm's kernels,
 * installed by `selectBackend` when wasm is chosen:
 *
 * - matmul.ts: every product through a fast path (the SIMD GEMM, or XNNPACK when it has
 *   threads); fixes the stock fused-bias bug.
 * - missing.ts: kernels wasm lacks (UnsortedSegmentSum, Einsum, conv gradients).
 * - copy.ts, reduce.ts: faster Transpose, GatherV2, Unpack and Sum (bit-identical).
 * - fused.ts, adam.ts: fused GELU, LayerNorm, RMSNorm, softmax, cross-entropy and the
 *   Adam update (Adam bit-identical to tfjs'; the others within float32 rounding).
 *
 * The SIMD kernels are AssemblyScript (assembly/), compiled by build.ts into binary.ts
 * and run on tfjs' own heap (module.ts).
 *
 * useWasmKernels(level) switches between the stock kernels, the matMul fix alone (this
 * project before the SIMD kernels) and everything, for benchmarks and tests.
 */
import { installFusedAdam } from './adam';
import { installCopyKernels, restoreCopyKernels } from './copy';
import { registerFusedKernels, setFusedOpsEnabled } from './fused';
import { installMatMulFixes, restoreStockWasmMatMul } from './matmul';
import { registerMissingKernels } from './missing';
import { installReduceKernels, restoreReduceKernels } from './reduce';

export { WASM_ADDED_KERNELS, WASM_CPU_DELEGATED_KERNELS } from './missing';
export { WASM_MATMUL_KERNELS, simdGemmActive, installMatMulFixes, restoreStockWasmMatMul, wasmMatMulFixInstalled } from './matmul';
export { WASM_COPY_KERNELS } from './copy';
export { WASM_FUSED_KERNELS, fusedCrossEntropy, fusedGelu, fusedLayerNorm, fusedOpsActive, fusedRmsNorm, fusedSoftmax } from './fused';
export { fusedAdamInstalled } from './adam';

/**
 * 'stock': tfjs' own kernels (plus the missing ones, without which some models cannot run).
 * 'matmul-fix': the matMul fix on XNNPACK (per batch element for batched products), nothing else.
 * 'all': everything (the default).
 */
export type WasmKernelLevel = 'stock' | 'matmul-fix' | 'all';
export const WASM_KERNEL_LEVELS: readonly WasmKernelLevel[] = ['stock', 'matmul-fix', 'all'];

let level: WasmKernelLevel = 'all';

/** Installs every kernel (level 'all'). Idempotent; safe before or after the backend is initialised. */
export function registerWasmKernels(): void {
  registerMissingKernels();
  registerFusedKernels();
  installFusedAdam();
  useWasmKernels(level);
}

export function useWasmKernels(next: WasmKernelLevel): void {
  level = next;
  restoreStockWasmMatMul();
  restoreCopyKernels();
  restoreReduceKernels();
  if (next !== 'stock') installMatMulFixes({ gemm: next === 'all' });
  if (next === 'all') {
    installCopyKernels();
    installReduceKernels();
  }
  setFusedOpsEnabled(next === 'all');
}

export function wasmKernelLevel(): WasmKernelLevel {
  return level;
}
