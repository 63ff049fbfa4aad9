// Shared SIMD helpers (AssemblyScript, compiled to wasm SIMD128 by build.mjs).
//
// Every kernel reads and writes tfjs-backend-wasm's own heap: pointers are byte offsets
// into the imported memory, counts are in 4-byte elements. Nothing here allocates.
//
// Tails (counts that are not a multiple of 4) go through the same vector code on a
// partially loaded vector, so an element's result never depends on its position.

/** Loads `n` (< 4) floats from p into the low lanes of a vector (other lanes 0). */
@inline export function loadTail(p: usize, n: i32): v128 {
  let v = f32x4.splat(0);
  if (n > 0) v = f32x4.replace_lane(v, 0, load<f32>(p));
  if (n > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
  if (n > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  return v;
}

/** Stores the low `n` (< 4) lanes of v at p. */
@inline export function storeTail(p: usize, v: v128, n: i32): void {
  if (n > 0) store<f32>(p, f32x4.extract_lane(v, 0));
  if (n > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (n > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}

/** Sum of the four lanes in a fixed order ((l0 + l1) + (l2 + l3)). */
@inline export function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

/** Sum of the low n (< 4) lanes, in lane order. */
@inline export function hsumLanes(v: v128, n: i32): f32 {
  let s: f32 = 0;
  if (n > 0) s += f32x4.extract_lane(v, 0);
  if (n > 1) s += f32x4.extract_lane(v, 1);
  if (n > 2) s += f32x4.extract_lane(v, 2);
  return s;
}

/** Largest lane (NaN lanes may be skipped; callers feed the max back into exp, which keeps NaN). */
@inline export function hmax(v: v128): f32 {
  return max(max(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)), max(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
}

/**
 * e^x per lane: Cody-Waite range reduction and a degree-6 polynomial (the Cephes expf
 * scheme, about 1 ulp). Inputs below ln(2^-126) give exactly 0 (as a true underflow
 * would: masked attention scores of -1e9 must weigh nothing); inputs above 88 saturate at
 * e^88 instead of overflowing; NaN stays NaN.
 *
 * Written for V8's x64 code: pmin/pmax are one instruction each (wasm's min/max, with
 * their NaN and -0 rules, are about eight), and n = round(x log2 e) comes from adding
 * 1.5 * 2^23 (which rounds to nearest in the adder and leaves n in the low mantissa
 * bits) instead of nearest + trunc_sat. Same n, same result, fewer instructions.
 */
@inline export function expv(x: v128): v128 {
  const lo = f32x4.splat(-87.33654);
  const underflow = f32x4.lt(x, lo);
  // pmax/pmin keep x when it is NaN (x is their first operand).
  x = f32x4.pmin(f32x4.pmax(x, lo), f32x4.splat(88.0));
  const magic = f32x4.splat(12582912.0); // 1.5 * 2^23
  const t = f32x4.add(f32x4.mul(x, f32x4.splat(1.44269504088896341)), magic);
  const n = f32x4.sub(t, magic);
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  const r2 = f32x4.mul(r, r);
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  p = f32x4.add(f32x4.add(f32x4.mul(p, r2), r), f32x4.splat(1.0));
  // The bits of t are 0x4B400000 + n: (n + 127) << 23 is 2^n as a float.
  const scale = i32x4.shl(i32x4.add(t, i32x4.splat(127 - 0x4b400000)), 23);
  return v128.andnot(f32x4.mul(p, scale), underflow);
}

/**
 * ln(x) for a positive, normal x (the Cephes logf polynomial, about 1 ulp). Written out
 * because AssemblyScript's Mathf.log reads lookup tables from a data segment, and this
 * module must not have one: it shares tfjs' heap and would overwrite it on instantiation.
 */
@inline export function logf(x: f32): f32 {
  const bits = reinterpret<i32>(x);
  let e = <f32>((bits >> 23) - 126);
  let m = reinterpret<f32>((bits & 0x007fffff) | 0x3f000000); // mantissa in [0.5, 1)
  if (m < 0.70710678118654752) {
    e -= 1;
    m = m + m - 1;
  } else {
    m = m - 1;
  }
  const z = m * m;
  let y: f32 = 7.0376836292e-2;
  y = y * m - 1.1514610310e-1;
  y = y * m + 1.1676998740e-1;
  y = y * m - 1.2420140846e-1;
  y = y * m + 1.4249322787e-1;
  y = y * m - 1.6668057665e-1;
  y = y * m + 2.0000714765e-1;
  y = y * m - 2.4999993993e-1;
  y = y * m + 3.3333331174e-1;
  y = y * m * z;
  y += -2.12194440e-4 * e;
  y += -0.5 * z;
  return m + y + 0.693359375 * e;
}
