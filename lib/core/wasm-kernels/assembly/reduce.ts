// Sums over leading/middle axes (bias gradients, broadcast reductions).

import { loadTail, storeTail } from './vec';

/**
 * x [outer, r, c] -> out [outer, c], out[o, j] = sum over i of x[o, i, j], each column
 * summed in order i = 0, 1, ... from 0: the order tfjs-backend-wasm's Sum uses (it
 * transposes the reduced axis last and adds sequentially), so results are bit-identical
 * to it, only without the transpose.
 */
export function sumMiddle(x: usize, out: usize, outer: i32, r: i32, c: i32): void {
  const c4 = c & ~3;
  const rowBytes = <usize>c << 2;
  for (let o = 0; o < outer; o++) {
    const xo = x + <usize>o * <usize>r * rowBytes;
    const oo = out + <usize>o * rowBytes;
    // Blocks of 16 columns keep 4 accumulators in registers across all r rows.
    let j = 0;
    for (; j + 16 <= c4; j += 16) {
      const jb = <usize>j << 2;
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
      let p = xo + jb;
      for (let i = 0; i < r; i++) {
        a0 = f32x4.add(a0, v128.load(p));
        a1 = f32x4.add(a1, v128.load(p, 16));
        a2 = f32x4.add(a2, v128.load(p, 32));
        a3 = f32x4.add(a3, v128.load(p, 48));
        p += rowBytes;
      }
      v128.store(oo + jb, a0);
      v128.store(oo + jb, a1, 16);
      v128.store(oo + jb, a2, 32);
      v128.store(oo + jb, a3, 48);
    }
    for (; j < c4; j += 4) {
      const jb = <usize>j << 2;
      let a = f32x4.splat(0);
      let p = xo + jb;
      for (let i = 0; i < r; i++) {
        a = f32x4.add(a, v128.load(p));
        p += rowBytes;
      }
      v128.store(oo + jb, a);
    }
    if (c4 < c) {
      const jb = <usize>c4 << 2;
      let a = f32x4.splat(0);
      let p = xo + jb;
      for (let i = 0; i < r; i++) {
        a = f32x4.add(a, loadTail(p, c - c4));
        p += rowBytes;
      }
      storeTail(oo + jb, a, c - c4);
    }
  }
}
