// Data movement on 4-byte elements (float32 or int32): transposes, gathers, strided
// copies. Exact: these only move bits.

/** Copies n elements from src to dst (non-overlapping). */
@inline function copyRun(src: usize, dst: usize, n: i32): void {
  memory.copy(dst, src, <usize>n << 2);
}

/**
 * dst = src permuted, as a 6-D loop over the OUTPUT shape d0..d5 (pad leading dims with
 * 1) where s0..s5 are the input strides (in elements) of each output dim. The innermost
 * dim is a plain copy when s5 == 1 (the common case: the last axis stays last) and a
 * strided gather otherwise.
 */
export function permute6(
  src: usize, dst: usize,
  d0: i32, d1: i32, d2: i32, d3: i32, d4: i32, d5: i32,
  s0: i32, s1: i32, s2: i32, s3: i32, s4: i32, s5: i32,
): void {
  let out = dst;
  const run = <usize>d5 << 2;
  for (let i0 = 0; i0 < d0; i0++) {
    for (let i1 = 0; i1 < d1; i1++) {
      for (let i2 = 0; i2 < d2; i2++) {
        for (let i3 = 0; i3 < d3; i3++) {
          for (let i4 = 0; i4 < d4; i4++) {
            const base = src + (<usize>(i0 * s0 + i1 * s1 + i2 * s2 + i3 * s3 + i4 * s4) << 2);
            if (s5 == 1) {
              copyRun(base, out, d5);
            } else {
              const step = <usize>s5 << 2;
              let p = base;
              for (let i5 = 0; i5 < d5; i5++) {
                store<u32>(out + (<usize>i5 << 2), load<u32>(p));
                p += step;
              }
            }
            out += run;
          }
        }
      }
    }
  }
}

/**
 * Batched 2-D transpose: src [batch, rows, cols] -> dst [batch, cols, rows], in 4x4 SIMD
 * blocks inside 32x32 tiles (so both sides stay in cache), scalar at the edges.
 */
export function transpose2d(src: usize, dst: usize, batch: i32, rows: i32, cols: i32): void {
  const rows4 = rows & ~3;
  const cols4 = cols & ~3;
  const plane = <usize>(rows * cols) << 2;
  for (let b = 0; b < batch; b++) {
    const s = src + <usize>b * plane;
    const d = dst + <usize>b * plane;
    for (let i0 = 0; i0 < rows4; i0 += 32) {
      const i1 = min(i0 + 32, rows4);
      for (let j0 = 0; j0 < cols4; j0 += 32) {
        const j1 = min(j0 + 32, cols4);
        for (let i = i0; i < i1; i += 4) {
          for (let j = j0; j < j1; j += 4) {
            const p = s + (<usize>(i * cols + j) << 2);
            const rs = <usize>cols << 2;
            const r0 = v128.load(p);
            const r1 = v128.load(p + rs);
            const r2 = v128.load(p + 2 * rs);
            const r3 = v128.load(p + 3 * rs);
            const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5);
            const t1 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
            const t2 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
            const t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
            const q = d + (<usize>(j * rows + i) << 2);
            const rd = <usize>rows << 2;
            v128.store(q, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
            v128.store(q + rd, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
            v128.store(q + 2 * rd, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5));
            v128.store(q + 3 * rd, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7));
          }
        }
      }
    }
    // Right strip (columns >= cols4) for the blocked rows, then the bottom rows whole.
    for (let i = 0; i < rows4; i++) {
      for (let j = cols4; j < cols; j++) store<u32>(d + (<usize>(j * rows + i) << 2), load<u32>(s + (<usize>(i * cols + j) << 2)));
    }
    for (let i = rows4; i < rows; i++) {
      for (let j = 0; j < cols; j++) store<u32>(d + (<usize>(j * rows + i) << 2), load<u32>(s + (<usize>(i * cols + j) << 2)));
    }
  }
}

/**
 * Gather along one axis: params viewed as [outer, axisDim, inner], indices [n];
 * out[o, i, :] = params[o, indices[i], :]. Returns -1, or the position of the first
 * index outside [0, axisDim) (then nothing is written).
 */
export function gather(params: usize, indices: usize, out: usize, outer: i32, axisDim: i32, inner: i32, n: i32): i32 {
  for (let i = 0; i < n; i++) {
    const idx = load<i32>(indices + (<usize>i << 2));
    if (idx < 0 || idx >= axisDim) return i;
  }
  const row = <usize>inner << 2;
  let q = out;
  for (let o = 0; o < outer; o++) {
    const base = params + <usize>o * <usize>axisDim * row;
    for (let i = 0; i < n; i++) {
      memory.copy(q, base + <usize>load<i32>(indices + (<usize>i << 2)) * row, row);
      q += row;
    }
  }
  return -1;
}

/** count runs of len elements: dst[c * dstStride + :len] = src[c * srcStride + :len]. */
export function copy2d(src: usize, srcStride: i32, dst: usize, dstStride: i32, count: i32, len: i32): void {
  const bytes = <usize>len << 2;
  for (let c = 0; c < count; c++) {
    memory.copy(dst + (<usize>(c * dstStride) << 2), src + (<usize>(c * srcStride) << 2), bytes);
  }
}
