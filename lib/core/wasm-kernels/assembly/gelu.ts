// GELU, tanh approximation, and its derivative in one pass each.
//
// 0.5 x (1 + tanh(u)) = x sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3), so one exp and
// one division per element replace tfjs' chain of pow, mul, add, tanh (about ten kernels
// and as many temporaries forward, twice that backward).

import { expv, loadTail, storeTail } from './vec';

// 2 sqrt(2/pi) and 2 sqrt(2/pi) 0.044715: z = 2u = x (C1 + C2 x^2).
const C1: f32 = 1.5957691216057308;
const C2: f32 = 0.07135481627159;
/** Below this z, sigmoid(z) < 2e-35 is taken as 0 (as tanh(u) = -1 exactly in float32). */
const Z_MIN: f32 = -80;

/**
 * sigmoid(z), exactly 0 below Z_MIN. Clamping first keeps 1 / (1 + e^-z) out of the
 * subnormal range, where x86 arithmetic is ~100x slower (large negative activations,
 * e.g. masked rows, would otherwise crawl).
 */
@inline function sigmoidV(z: v128): v128 {
  const zmin = f32x4.splat(Z_MIN);
  const s = f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), expv(f32x4.neg(f32x4.pmax(z, zmin)))));
  return v128.andnot(s, f32x4.lt(z, zmin));
}

@inline function geluV(x: v128): v128 {
  const z = f32x4.mul(x, f32x4.add(f32x4.splat(C1), f32x4.mul(f32x4.splat(C2), f32x4.mul(x, x))));
  return f32x4.mul(x, sigmoidV(z));
}

/** d/dx [x s(z)] = s + x s (1 - s) dz/dx, dz/dx = C1 + 3 C2 x^2; times dy. */
@inline function geluGradV(x: v128, dy: v128): v128 {
  const x2 = f32x4.mul(x, x);
  const z = f32x4.mul(x, f32x4.add(f32x4.splat(C1), f32x4.mul(f32x4.splat(C2), x2)));
  const s = sigmoidV(z);
  const dz = f32x4.add(f32x4.splat(C1), f32x4.mul(f32x4.splat(3 * C2), x2));
  const g = f32x4.add(s, f32x4.mul(f32x4.mul(x, f32x4.mul(s, f32x4.sub(f32x4.splat(1), s))), dz));
  return f32x4.mul(dy, g);
}

export function geluForward(x: usize, y: usize, n: i32): void {
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, geluV(v128.load(x + o)));
  }
  if (n4 < n) {
    const o = <usize>n4 << 2;
    storeTail(y + o, geluV(loadTail(x + o, n - n4)), n - n4);
  }
}

export function geluBackward(x: usize, dy: usize, dx: usize, n: i32): void {
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) {
    const o = <usize>i << 2;
    v128.store(dx + o, geluGradV(v128.load(x + o), v128.load(dy + o)));
  }
  if (n4 < n) {
    const o = <usize>n4 << 2;
    storeTail(dx + o, geluGradV(loadTail(x + o, n - n4), loadTail(dy + o, n - n4)), n - n4);
  }
}
