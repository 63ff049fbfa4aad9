// LayerNorm and RMSNorm over the last axis, forward and backward, one row at a time.
// Row statistics are recomputed in the backward pass (one extra read of x) rather than
// saved: that keeps each op single-output for tfjs' tape.

import { hsum, loadTail, storeTail } from './vec';

/** Sum of a row of d floats: 4 lanes in order, then the lanes, then the tail. */
@inline function rowSum(p: usize, d: i32): f32 {
  const d4 = d & ~3;
  let acc = f32x4.splat(0);
  for (let j = 0; j < d4; j += 4) acc = f32x4.add(acc, v128.load(p + (<usize>j << 2)));
  let s = hsum(acc);
  for (let j = d4; j < d; j++) s += load<f32>(p + (<usize>j << 2));
  return s;
}

/** Sum of (x - mean)^2 over a row. */
@inline function rowSqDev(p: usize, d: i32, mean: f32): f32 {
  const d4 = d & ~3;
  const m = f32x4.splat(mean);
  let acc = f32x4.splat(0);
  for (let j = 0; j < d4; j += 4) {
    const t = f32x4.sub(v128.load(p + (<usize>j << 2)), m);
    acc = f32x4.add(acc, f32x4.mul(t, t));
  }
  let s = hsum(acc);
  for (let j = d4; j < d; j++) {
    const t = load<f32>(p + (<usize>j << 2)) - mean;
    s += t * t;
  }
  return s;
}

/** y = (x - mean) rstd g + b, rstd = 1 / sqrt(var + eps), var the biased row variance. */
export function layerNormForward(x: usize, g: usize, b: usize, y: usize, rows: i32, d: i32, eps: f32): void {
  const rowBytes = <usize>d << 2;
  const d4 = d & ~3;
  for (let r = 0; r < rows; r++) {
    const xr = x + <usize>r * rowBytes;
    const yr = y + <usize>r * rowBytes;
    const mean = rowSum(xr, d) / <f32>d;
    const rstd: f32 = 1 / Mathf.sqrt(rowSqDev(xr, d, mean) / <f32>d + eps);
    const mv = f32x4.splat(mean);
    const rv = f32x4.splat(rstd);
    for (let j = 0; j < d4; j += 4) {
      const o = <usize>j << 2;
      const xh = f32x4.mul(f32x4.sub(v128.load(xr + o), mv), rv);
      v128.store(yr + o, f32x4.add(f32x4.mul(xh, v128.load(g + o)), v128.load(b + o)));
    }
    if (d4 < d) {
      const o = <usize>d4 << 2;
      const t = d - d4;
      const xh = f32x4.mul(f32x4.sub(loadTail(xr + o, t), mv), rv);
      storeTail(yr + o, f32x4.add(f32x4.mul(xh, loadTail(g + o, t)), loadTail(b + o, t)), t);
    }
  }
}

/**
 * With xh = (x - mean) rstd and gdy = dy g:
 * dx = rstd (gdy - mean(gdy) - xh mean(gdy xh)); dg = sum over rows of dy xh; db = sum of dy.
 * dg and db are accumulated row by row in order (deterministic).
 */
export function layerNormBackward(x: usize, g: usize, dy: usize, dx: usize, dg: usize, db: usize, rows: i32, d: i32, eps: f32): void {
  const rowBytes = <usize>d << 2;
  const d4 = d & ~3;
  const t = d - d4;
  memory.fill(dg, 0, rowBytes);
  memory.fill(db, 0, rowBytes);
  for (let r = 0; r < rows; r++) {
    const xr = x + <usize>r * rowBytes;
    const dyr = dy + <usize>r * rowBytes;
    const dxr = dx + <usize>r * rowBytes;
    const mean = rowSum(xr, d) / <f32>d;
    const rstd: f32 = 1 / Mathf.sqrt(rowSqDev(xr, d, mean) / <f32>d + eps);
    const mv = f32x4.splat(mean);
    const rv = f32x4.splat(rstd);
    // Pass 1: sums of gdy and gdy * xh; dg, db.
    let s1 = f32x4.splat(0);
    let s2 = f32x4.splat(0);
    for (let j = 0; j < d4; j += 4) {
      const o = <usize>j << 2;
      const xh = f32x4.mul(f32x4.sub(v128.load(xr + o), mv), rv);
      const dyv = v128.load(dyr + o);
      const gdy = f32x4.mul(dyv, v128.load(g + o));
      s1 = f32x4.add(s1, gdy);
      s2 = f32x4.add(s2, f32x4.mul(gdy, xh));
      v128.store(dg + o, f32x4.add(v128.load(dg + o), f32x4.mul(dyv, xh)));
      v128.store(db + o, f32x4.add(v128.load(db + o), dyv));
    }
    let sum1 = hsum(s1);
    let sum2 = hsum(s2);
    if (t > 0) {
      const o = <usize>d4 << 2;
      const xh = f32x4.mul(f32x4.sub(loadTail(xr + o, t), mv), rv);
      const dyv = loadTail(dyr + o, t);
      const gdy = f32x4.mul(dyv, loadTail(g + o, t));
      sum1 += hsum(gdy);
      sum2 += hsum(f32x4.mul(gdy, xh));
      storeTail(dg + o, f32x4.add(loadTail(dg + o, t), f32x4.mul(dyv, xh)), t);
      storeTail(db + o, f32x4.add(loadTail(db + o, t), dyv), t);
    }
    const a = f32x4.splat(sum1 / <f32>d);
    const c = f32x4.splat(sum2 / <f32>d);
    // Pass 2: dx.
    for (let j = 0; j < d4; j += 4) {
      const o = <usize>j << 2;
      const xh = f32x4.mul(f32x4.sub(v128.load(xr + o), mv), rv);
      const gdy = f32x4.mul(v128.load(dyr + o), v128.load(g + o));
      v128.store(dxr + o, f32x4.mul(rv, f32x4.sub(f32x4.sub(gdy, a), f32x4.mul(xh, c))));
    }
    if (t > 0) {
      const o = <usize>d4 << 2;
      const xh = f32x4.mul(f32x4.sub(loadTail(xr + o, t), mv), rv);
      const gdy = f32x4.mul(loadTail(dyr + o, t), loadTail(g + o, t));
      storeTail(dxr + o, f32x4.mul(rv, f32x4.sub(f32x4.sub(gdy, a), f32x4.mul(xh, c))), t);
    }
  }
}

/** Sum of x^2 over a row. */
@inline function rowSumSq(p: usize, d: i32): f32 {
  const d4 = d & ~3;
  let acc = f32x4.splat(0);
  for (let j = 0; j < d4; j += 4) {
    const v = v128.load(p + (<usize>j << 2));
    acc = f32x4.add(acc, f32x4.mul(v, v));
  }
  let s = hsum(acc);
  for (let j = d4; j < d; j++) {
    const v = load<f32>(p + (<usize>j << 2));
    s += v * v;
  }
  return s;
}

/** y = x rstd g, rstd = 1 / sqrt(mean(x^2) + eps). */
export function rmsNormForward(x: usize, g: usize, y: usize, rows: i32, d: i32, eps: f32): void {
  const rowBytes = <usize>d << 2;
  const d4 = d & ~3;
  for (let r = 0; r < rows; r++) {
    const xr = x + <usize>r * rowBytes;
    const yr = y + <usize>r * rowBytes;
    const rv = f32x4.splat(<f32>1 / Mathf.sqrt(rowSumSq(xr, d) / <f32>d + eps));
    for (let j = 0; j < d4; j += 4) {
      const o = <usize>j << 2;
      v128.store(yr + o, f32x4.mul(f32x4.mul(v128.load(xr + o), rv), v128.load(g + o)));
    }
    if (d4 < d) {
      const o = <usize>d4 << 2;
      const t = d - d4;
      storeTail(yr + o, f32x4.mul(f32x4.mul(loadTail(xr + o, t), rv), loadTail(g + o, t)), t);
    }
  }
}

/** With xh = x rstd, gdy = dy g: dx = rstd (gdy - xh mean(gdy xh)); dg = sum of dy xh. */
export function rmsNormBackward(x: usize, g: usize, dy: usize, dx: usize, dg: usize, rows: i32, d: i32, eps: f32): void {
  const rowBytes = <usize>d << 2;
  const d4 = d & ~3;
  const t = d - d4;
  memory.fill(dg, 0, rowBytes);
  for (let r = 0; r < rows; r++) {
    const xr = x + <usize>r * rowBytes;
    const dyr = dy + <usize>r * rowBytes;
    const dxr = dx + <usize>r * rowBytes;
    const rv = f32x4.splat(<f32>1 / Mathf.sqrt(rowSumSq(xr, d) / <f32>d + eps));
    let s = f32x4.splat(0);
    for (let j = 0; j < d4; j += 4) {
      const o = <usize>j << 2;
      const xh = f32x4.mul(v128.load(xr + o), rv);
      const dyv = v128.load(dyr + o);
      s = f32x4.add(s, f32x4.mul(f32x4.mul(dyv, v128.load(g + o)), xh));
      v128.store(dg + o, f32x4.add(v128.load(dg + o), f32x4.mul(dyv, xh)));
    }
    let sum = hsum(s);
    if (t > 0) {
      const o = <usize>d4 << 2;
      const xh = f32x4.mul(loadTail(xr + o, t), rv);
      const dyv = loadTail(dyr + o, t);
      sum += hsum(f32x4.mul(f32x4.mul(dyv, loadTail(g + o, t)), xh));
      storeTail(dg + o, f32x4.add(loadTail(dg + o, t), f32x4.mul(dyv, xh)), t);
    }
    const c = f32x4.splat(sum / <f32>d);
    for (let j = 0; j < d4; j += 4) {
      const o = <usize>j << 2;
      const xh = f32x4.mul(v128.load(xr + o), rv);
      const gdy = f32x4.mul(v128.load(dyr + o), v128.load(g + o));
      v128.store(dxr + o, f32x4.mul(rv, f32x4.sub(gdy, f32x4.mul(xh, c))));
    }
    if (t > 0) {
      const o = <usize>d4 << 2;
      const xh = f32x4.mul(loadTail(xr + o, t), rv);
      const gdy = f32x4.mul(loadTail(dyr + o, t), loadTail(g + o, t));
      storeTail(dxr + o, f32x4.mul(rv, f32x4.sub(gdy, f32x4.mul(xh, c))), t);
    }
  }
}
