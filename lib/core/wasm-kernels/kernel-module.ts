/** The type of the SIMD kernel module's exports, shared by its loader (module.ts) and the thread pool (pool.ts). */

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
