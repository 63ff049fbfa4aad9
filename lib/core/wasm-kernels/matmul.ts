/**
 * Matrix products on tfjs-backend-wasm (ARCHITECTURE.md §3).
 *
 * The stock wasm BatchMatMul/_FusedMatMul reaches XNNPACK only when neither operand is
 * transposed AND both have batch size 1; everything else runs a scalar triple loop at
 * ~1 GFLOP/s (vs 15–30 through XNNPACK). Every matMul gradient uses a transpose flag and
 * every attention product is batched, so a backward pass was 13–18x its forward. The
 * replacement routes every product to a fast path: transpose explicitly first (O(n²)
 * copy vs O(n³) work), fold the batch into rows when the right operand is shared
 * (x @ W, one product), and run the product on the SIMD GEMM of assembly/gemm.ts, on
 * the operands in place.
 *
 * Why our GEMM rather than XNNPACK: on one thread it runs at the SIMD128 arithmetic
 * ceiling (45–48 GFLOP/s on the benchmark machine for the model's shapes, vs 34–36
 * through tfjs' XNNPACK, which packs the right operand on every call: weights change
 * every step), and a batched product is one call instead of one XNNPACK call per batch
 * element with a copy of each operand. Both accumulate each output over k in order with
 * a separate multiply and add, so the numbers are the same bits. With threads
 * (wasm-threads.ts) the GEMM splits products over its own worker pool (pool.ts) by
 * output rows or batch elements; without that pool but with XNNPACK threads, unbatched
 * products go to XNNPACK, which splits them.
 *
 * (Before the GEMM, products ran on XNNPACK, batched ones one element at a time; that
 * path is kept for _FusedMatMul, whose bias XNNPACK adds first, and as the 'matmul-fix'
 * level the benchmark compares against.) The stock slow path also applies a fused bias
 * wrongly (it clamps the index i*N+j to the bias length, so rows after the first get
 * bias[N-1]); routing through XNNPACK fixes that.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { share } from './pool';
import { dispose, isReplaced, ptr, replaceKernel, reshapeInfo, restoreKernel, runWasm, simd, simdPool, size, type KernelArgs } from './util';

/**
 * Below this many multiply-adds per batch element the per-element XNNPACK loop's dispatch
 * overhead (~tens of µs per element) costs more than the stock slow path saves. (The
 * SIMD GEMM has no per-element cost and takes every batched product.)
 */
const MIN_MACS_PER_BATCH_ELEMENT = 32 * 1024;

/** Stock kernels replaced by a faster (and for the fused bias, correct) version. */
export const WASM_MATMUL_KERNELS: readonly string[] = ['BatchMatMul', '_FusedMatMul'];

/** BatchMatMul through assembly/gemm.ts (true) or XNNPACK (false). */
let simdGemm = true;

/** Installs the matMul replacements (idempotent); `gemm` picks the SIMD GEMM for BatchMatMul. */
export function installMatMulFixes(opts: { gemm?: boolean } = {}): void {
  simdGemm = opts.gemm ?? true;
  replaceKernel('BatchMatMul', (original) => (args) => batchMatMul(args, original));
  replaceKernel('_FusedMatMul', (original) => (args) => fusedMatMul(args, original));
}

/** Puts the stock BatchMatMul/_FusedMatMul back (for benchmarks: "wasm without the fix"). */
export function restoreStockWasmMatMul(): void {
  for (const name of WASM_MATMUL_KERNELS) restoreKernel(name);
}

/** True when the replacement BatchMatMul is the registered wasm kernel. */
export function wasmMatMulFixInstalled(): boolean {
  return isReplaced('BatchMatMul');
}

/** True when BatchMatMul runs on the SIMD GEMM (all batched products; the rest too on one thread). */
export function simdGemmActive(): boolean {
  return wasmMatMulFixInstalled() && simdGemm;
}

/** XNNPACK's thread count on this backend (1 on tfjs' single-threaded build). */
function xnnpackThreads(backend: BackendWasm): number {
  const tfjs = (backend.wasm as unknown as { tfjs: { getThreadsCount(): number } }).tfjs;
  return Math.max(1, tfjs.getThreadsCount());
}

/** [batch, r, c] -> [batch, c, r] as a new buffer. */
function transposeLast2(backend: BackendWasm, x: tf.TensorInfo): tf.TensorInfo {
  return runWasm('Transpose', backend, { x }, { perm: [0, 2, 1] });
}

/** Batch element `i` of a [batch, r, c] tensor as a new [1, r, c] buffer. */
function batchElement(backend: BackendWasm, x: tf.TensorInfo, i: number): tf.TensorInfo {
  const [, r, c] = x.shape;
  const out = backend.makeOutput([1, r, c], x.dtype);
  // Views are taken after makeOutput: a heap growth detaches older views.
  const src = backend.typedArrayFromHeap(x);
  backend.typedArrayFromHeap(out).set(src.subarray(i * r * c, (i + 1) * r * c));
  return out;
}

// ---------------------------------------------------------------------------------
// Matrix products.

interface Product {
  /** a as [batchA, M, K] and b as [batchB, K, N], both untransposed; owned here. */
  a: tf.TensorInfo;
  b: tf.TensorInfo;
  /** The operands' batch dimensions before flattening (for broadcasting). */
  aBatch: number[];
  bBatch: number[];
  owned: tf.TensorInfo[];
}

/**
 * Brings a and b to untransposed rank-3 form (the only layout the XNNPACK path takes).
 * Reshapes share data; transposes copy, which is O(n²) against the product's O(n³).
 */
function normalise(backend: BackendWasm, a: tf.TensorInfo, b: tf.TensorInfo, transposeA: boolean, transposeB: boolean): Product {
  const owned: tf.TensorInfo[] = [];
  const to3d = (x: tf.TensorInfo): tf.TensorInfo => {
    const r = x.shape.length;
    const info = reshapeInfo(backend, x, [size(x.shape.slice(0, -2)), x.shape[r - 2], x.shape[r - 1]]);
    owned.push(info);
    return info;
  };
  let a3 = to3d(a);
  let b3 = to3d(b);
  if (transposeA) owned.push((a3 = transposeLast2(backend, a3)));
  if (transposeB) owned.push((b3 = transposeLast2(backend, b3)));
  return { a: a3, b: b3, aBatch: a.shape.slice(0, -2), bBatch: b.shape.slice(0, -2), owned };
}

/**
 * How the product will be split so that each call reaches XNNPACK; undefined: keep the
 * stock kernel (tiny batched products, where the per-element loop costs more than it
 * saves; only allowed when the stock result is right, i.e. not with a fused bias).
 */
function plan(aShape: number[], bShape: number[], transposeA: boolean, transposeB: boolean, allowStock: boolean): 'direct' | 'fold' | 'loop' | undefined {
  const batchA = size(aShape.slice(0, -2));
  const batchB = size(bShape.slice(0, -2));
  const rA = aShape.length;
  const m = transposeA ? aShape[rA - 1] : aShape[rA - 2];
  const k = transposeA ? aShape[rA - 2] : aShape[rA - 1];
  const n = transposeB ? bShape[bShape.length - 2] : bShape[bShape.length - 1];
  if (m * k * n === 0) return undefined;
  if (batchB === 1) return batchA === 1 ? 'direct' : 'fold';
  if (allowStock && batchA === batchB && m * k * n < MIN_MACS_PER_BATCH_ELEMENT) return undefined;
  return 'loop';
}

function batchMatMul(args: KernelArgs, original: tf.KernelFunc): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const { transposeA, transposeB } = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
  const how = plan(a.shape, b.shape, transposeA, transposeB, !simdGemm);
  if (!how || a.dtype !== 'float32' || b.dtype !== 'float32') return original(args) as tf.TensorInfo;

  const outShape = outputShape(a.shape, b.shape, transposeA, transposeB);
  const p = normalise(backend, a, b, transposeA, transposeB);
  const mm = (x: tf.TensorInfo, y: tf.TensorInfo): tf.TensorInfo =>
    original({ inputs: { a: x, b: y }, backend, attrs: { transposeA: false, transposeB: false } }) as tf.TensorInfo;
  try {
    const gemm = simdGemm && (how === 'loop' || xnnpackThreads(backend) === 1 || simdPool(backend) !== undefined);
    const out = gemm ? gemmProduct(backend, p, outShape.slice(0, -2)) : product(backend, p, how, outShape.slice(0, -2), mm);
    return finish(backend, out, outShape);
  } finally {
    dispose(backend, ...p.owned);
  }
}

function fusedMatMul(args: KernelArgs, original: tf.KernelFunc): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { a, b, bias, preluActivationWeights } = args.inputs as {
    a: tf.TensorInfo;
    b: tf.TensorInfo;
    bias?: tf.TensorInfo;
    preluActivationWeights?: tf.TensorInfo;
  };
  const attrs = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
  // The stock slow path mis-indexes the bias, so with a bias every shape goes through XNNPACK.
  let how = plan(a.shape, b.shape, attrs.transposeA, attrs.transposeB, !bias);
  // Per-row PReLU weights would need slicing per batch element: only fold/direct take them.
  if (how === 'loop' && preluActivationWeights && size(preluActivationWeights.shape) !== preluActivationWeights.shape[preluActivationWeights.shape.length - 1]) how = undefined;
  if (!how || a.dtype !== 'float32' || b.dtype !== 'float32') return original(args) as tf.TensorInfo;

  const outShape = outputShape(a.shape, b.shape, attrs.transposeA, attrs.transposeB);
  const p = normalise(backend, a, b, attrs.transposeA, attrs.transposeB);
  const mm = (x: tf.TensorInfo, y: tf.TensorInfo): tf.TensorInfo =>
    original({
      inputs: { a: x, b: y, ...(bias ? { bias } : {}), ...(preluActivationWeights ? { preluActivationWeights } : {}) },
      backend,
      attrs: { ...(args.attrs as tf.NamedAttrMap), transposeA: false, transposeB: false },
    }) as tf.TensorInfo;
  try {
    return finish(backend, product(backend, p, how, outShape.slice(0, -2), mm), outShape);
  } finally {
    dispose(backend, ...p.owned);
  }
}

function outputShape(aShape: number[], bShape: number[], transposeA: boolean, transposeB: boolean): number[] {
  const rA = aShape.length;
  const rB = bShape.length;
  const m = transposeA ? aShape[rA - 1] : aShape[rA - 2];
  const n = transposeB ? bShape[rB - 2] : bShape[rB - 1];
  const batch = tf.broadcast_util.assertAndGetBroadcastShape(aShape.slice(0, -2), bShape.slice(0, -2));
  return [...batch, m, n];
}

/** Runs the product as XNNPACK-eligible calls of `mm` ([1,M,K] x [1,K,N]); returns a fresh buffer. */
function product(
  backend: BackendWasm,
  p: Product,
  how: 'direct' | 'fold' | 'loop',
  outBatch: number[],
  mm: (x: tf.TensorInfo, y: tf.TensorInfo) => tf.TensorInfo,
): tf.TensorInfo {
  const [batchA, m, k] = p.a.shape;
  const [batchB, , n] = p.b.shape;
  if (how === 'direct') return mm(p.a, p.b);
  if (how === 'fold') {
    // x @ W with a shared W: the batch is just more rows.
    const rows = reshapeInfo(backend, p.a, [1, batchA * m, k]);
    try {
      return mm(rows, p.b);
    } finally {
      dispose(backend, rows);
    }
  }
  const batch = size(outBatch);
  const aIndex = broadcastIndex(outBatch, p.aBatch);
  const bIndex = broadcastIndex(outBatch, p.bBatch);
  const out = backend.makeOutput([batch, m, n], 'float32');
  for (let i = 0; i < batch; i++) {
    const ai = batchA === 1 ? undefined : batchElement(backend, p.a, aIndex(i));
    const bi = batchB === 1 ? undefined : batchElement(backend, p.b, bIndex(i));
    const piece = mm(ai ?? p.a, bi ?? p.b);
    backend.typedArrayFromHeap(out).set(backend.typedArrayFromHeap(piece), i * m * n);
    dispose(backend, ai, bi, piece);
  }
  return out;
}

/**
 * A product on the SIMD GEMM, on the operands in place: one call when the right operand
 * is shared (its batch is 1: the left one's batch is just more rows), else one per batch
 * element.
 */
function gemmProduct(backend: BackendWasm, p: Product, outBatch: number[]): tf.TensorInfo {
  const [batchA, m, k] = p.a.shape;
  const [batchB, , n] = p.b.shape;
  const batch = size(outBatch);
  const out = backend.makeOutput([batch, m, n], 'float32');
  const kernels = simd(backend);
  const pool = simdPool(backend);
  const pa = ptr(backend, p.a);
  const pb = ptr(backend, p.b);
  const pc = ptr(backend, out);
  if (batchB === 1 && batchA === batch) {
    const rows = batch * m;
    if (!pool) kernels.gemm(pa, pb, pc, rows, k, n, 1, 0, 0, 0);
    else {
      // Threads take bands of output rows (multiples of 4, the micro-kernel's height).
      const jobs = Array.from({ length: pool.threads }, (_, t) => share(rows, pool.threads, t, 4)).filter(([r0, r1]) => r1 > r0);
      pool.run(kernels, jobs.map(([r0, r1]) => ['gemm', pa + 4 * r0 * k, pb, pc + 4 * r0 * n, r1 - r0, k, n, 1, 0, 0, 0]));
    }
    return out;
  }
  if (pool && (batchA === batch || batchA === 1) && (batchB === batch || batchB === 1)) {
    // Threads take runs of batch elements (a batch of 1 broadcasts with stride 0).
    const [sa, sb] = [batchA === 1 ? 0 : m * k, batchB === 1 ? 0 : k * n];
    const jobs = Array.from({ length: pool.threads }, (_, t) => share(batch, pool.threads, t)).filter(([i0, i1]) => i1 > i0);
    pool.run(kernels, jobs.map(([i0, i1]) => ['gemm', pa + 4 * i0 * sa, pb + 4 * i0 * sb, pc + 4 * i0 * m * n, m, k, n, i1 - i0, sa, sb, m * n]));
    return out;
  }
  const aIndex = broadcastIndex(outBatch, p.aBatch);
  const bIndex = broadcastIndex(outBatch, p.bBatch);
  for (let i = 0; i < batch; i++) kernels.gemm(pa + 4 * aIndex(i) * m * k, pb + 4 * bIndex(i) * k * n, pc + 4 * i * m * n, m, k, n, 1, 0, 0, 0);
  return out;
}

/** Maps a flat index of the broadcast batch shape to the flat batch index of one operand. */
function broadcastIndex(outBatch: number[], inBatch: number[]): (i: number) => number {
  const dims = [...new Array<number>(outBatch.length - inBatch.length).fill(1), ...inBatch];
  return (i) => {
    let index = 0;
    let stride = 1;
    let rest = i;
    for (let d = outBatch.length - 1; d >= 0; d--) {
      const coord = rest % outBatch[d];
      rest = Math.floor(rest / outBatch[d]);
      if (dims[d] !== 1) index += coord * stride;
      stride *= dims[d];
    }
    return index;
  };
}

/** Gives the fresh result buffer its final shape (it is ours, so the shape can be set). */
function finish(backend: BackendWasm, out: tf.TensorInfo, shape: number[]): tf.TensorInfo {
  const result = reshapeInfo(backend, out, shape);
  dispose(backend, out);
  return result;
}

