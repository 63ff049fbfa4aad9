// Small batched matrix products (attention's per-head products), where calling XNNPACK
// once per batch element costs more in copies and weight packing than the product.

/**
 * c[t] = a[t] @ b[t] for t < batch; a [m, k], b [k, n], c [m, n], row-major, the batch
 * strides in elements (0 broadcasts an operand). Every output is accumulated over k in
 * order from 0, one multiply and one add per step (no FMA in wasm SIMD128), which is
 * how XNNPACK's f32 GEMM microkernels accumulate too.
 */
export function gemm(a: usize, b: usize, c: usize, m: i32, k: i32, n: i32, batch: i32, strideA: i32, strideB: i32, strideC: i32): void {
  for (let t = 0; t < batch; t++) {
    gemm1(a + (<usize>(t * strideA) << 2), b + (<usize>(t * strideB) << 2), c + (<usize>(t * strideC) << 2), m, k, n);
  }
}

function gemm1(a: usize, b: usize, c: usize, m: i32, k: i32, n: i32): void {
  const lda = <usize>k << 2;
  const ldb = <usize>n << 2;
  let i = 0;
  for (; i + 4 <= m; i += 4) {
    const a0 = a + <usize>i * lda;
    const c0 = c + <usize>i * ldb;
    let j = 0;
    for (; j + 8 <= n; j += 8) rows4cols8(a0, lda, b + (<usize>j << 2), ldb, c0 + (<usize>j << 2), k);
    for (; j + 4 <= n; j += 4) rows4cols4(a0, lda, b + (<usize>j << 2), ldb, c0 + (<usize>j << 2), k);
    for (; j < n; j++) {
      for (let r = 0; r < 4; r++) scalarDot(a0 + <usize>r * lda, b + (<usize>j << 2), ldb, c0 + <usize>r * ldb + (<usize>j << 2), k);
    }
  }
  for (; i < m; i++) {
    const ai = a + <usize>i * lda;
    const ci = c + <usize>i * ldb;
    let j = 0;
    for (; j + 4 <= n; j += 4) {
      let acc = f32x4.splat(0);
      let bp = b + (<usize>j << 2);
      for (let p = 0; p < k; p++) {
        acc = f32x4.add(acc, f32x4.mul(v128.load32_splat(ai + (<usize>p << 2)), v128.load(bp)));
        bp += ldb;
      }
      v128.store(ci + (<usize>j << 2), acc);
    }
    for (; j < n; j++) scalarDot(ai, b + (<usize>j << 2), ldb, ci + (<usize>j << 2), k);
  }
}

@inline function rows4cols8(a0: usize, lda: usize, b: usize, ldb: usize, c: usize, k: i32): void {
  const a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda;
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let bp = b;
  for (let p = 0; p < k; p++) {
    const o = <usize>p << 2;
    const b0 = v128.load(bp);
    const b1 = v128.load(bp, 16);
    const x0 = v128.load32_splat(a0 + o);
    c00 = f32x4.add(c00, f32x4.mul(x0, b0));
    c01 = f32x4.add(c01, f32x4.mul(x0, b1));
    const x1 = v128.load32_splat(a1 + o);
    c10 = f32x4.add(c10, f32x4.mul(x1, b0));
    c11 = f32x4.add(c11, f32x4.mul(x1, b1));
    const x2 = v128.load32_splat(a2 + o);
    c20 = f32x4.add(c20, f32x4.mul(x2, b0));
    c21 = f32x4.add(c21, f32x4.mul(x2, b1));
    const x3 = v128.load32_splat(a3 + o);
    c30 = f32x4.add(c30, f32x4.mul(x3, b0));
    c31 = f32x4.add(c31, f32x4.mul(x3, b1));
    bp += ldb;
  }
  v128.store(c, c00);
  v128.store(c, c01, 16);
  v128.store(c + ldb, c10);
  v128.store(c + ldb, c11, 16);
  v128.store(c + 2 * ldb, c20);
  v128.store(c + 2 * ldb, c21, 16);
  v128.store(c + 3 * ldb, c30);
  v128.store(c + 3 * ldb, c31, 16);
}

@inline function rows4cols4(a0: usize, lda: usize, b: usize, ldb: usize, c: usize, k: i32): void {
  const a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda;
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
  let bp = b;
  for (let p = 0; p < k; p++) {
    const o = <usize>p << 2;
    const b0 = v128.load(bp);
    c0 = f32x4.add(c0, f32x4.mul(v128.load32_splat(a0 + o), b0));
    c1 = f32x4.add(c1, f32x4.mul(v128.load32_splat(a1 + o), b0));
    c2 = f32x4.add(c2, f32x4.mul(v128.load32_splat(a2 + o), b0));
    c3 = f32x4.add(c3, f32x4.mul(v128.load32_splat(a3 + o), b0));
    bp += ldb;
  }
  v128.store(c, c0);
  v128.store(c + ldb, c1);
  v128.store(c + 2 * ldb, c2);
  v128.store(c + 3 * ldb, c3);
}

@inline function scalarDot(a: usize, b: usize, ldb: usize, c: usize, k: i32): void {
  let acc: f32 = 0;
  let bp = b;
  for (let p = 0; p < k; p++) {
    acc += load<f32>(a + (<usize>p << 2)) * load<f32>(bp);
    bp += ldb;
  }
  store<f32>(c, acc);
}

/**
 * The SIMD128 arithmetic ceiling: `iters` rounds of 8 independent f32x4 multiply-add
 * pairs (the instruction mix of a GEMM inner loop, without its loads). Returns a value
 * that depends on every lane, so nothing is optimised away. FLOPs = iters * 8 * 4 * 2.
 */
export function peak(iters: i32, x: f32): f32 {
  const m = f32x4.splat(x);
  let a0 = f32x4.splat(1), a1 = f32x4.splat(2), a2 = f32x4.splat(3), a3 = f32x4.splat(4);
  let a4 = f32x4.splat(5), a5 = f32x4.splat(6), a6 = f32x4.splat(7), a7 = f32x4.splat(8);
  const b0 = f32x4.splat(0.5), b1 = f32x4.splat(0.25), b2 = f32x4.splat(0.125), b3 = f32x4.splat(0.0625);
  for (let i = 0; i < iters; i++) {
    a0 = f32x4.add(a0, f32x4.mul(b0, m));
    a1 = f32x4.add(a1, f32x4.mul(b1, m));
    a2 = f32x4.add(a2, f32x4.mul(b2, m));
    a3 = f32x4.add(a3, f32x4.mul(b3, m));
    a4 = f32x4.add(a4, f32x4.mul(b0, a3));
    a5 = f32x4.add(a5, f32x4.mul(b1, a2));
    a6 = f32x4.add(a6, f32x4.mul(b2, a1));
    a7 = f32x4.add(a7, f32x4.mul(b3, a0));
  }
  const s = f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), f32x4.add(f32x4.add(a4, a5), f32x4.add(a6, a7)));
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 3);
}
