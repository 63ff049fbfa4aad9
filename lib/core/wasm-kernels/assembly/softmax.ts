// Softmax over the last axis and the mean softmax cross-entropy against integer targets.

import { expv, hmax, hsum, hsumLanes, loadTail, logf, storeTail } from './vec';

@inline function rowMax(p: usize, v: i32): f32 {
  const v4 = v & ~3;
  let m: f32 = -Infinity;
  if (v4 > 0) {
    let acc = v128.load(p);
    for (let j = 4; j < v4; j += 4) acc = f32x4.pmax(acc, v128.load(p + (<usize>j << 2)));
    m = hmax(acc);
  }
  for (let j = v4; j < v; j++) m = max(m, load<f32>(p + (<usize>j << 2)));
  return m;
}

/** Writes e^(x - max) for a row into out (may alias nothing) and returns their sum. */
@inline function rowExp(p: usize, out: usize, v: i32, m: f32): f32 {
  const v4 = v & ~3;
  const mv = f32x4.splat(m);
  let acc = f32x4.splat(0);
  for (let j = 0; j < v4; j += 4) {
    const o = <usize>j << 2;
    const e = expv(f32x4.sub(v128.load(p + o), mv));
    v128.store(out + o, e);
    acc = f32x4.add(acc, e);
  }
  let s = hsum(acc);
  if (v4 < v) {
    const o = <usize>v4 << 2;
    const e = expv(f32x4.sub(loadTail(p + o, v - v4), mv));
    storeTail(out + o, e, v - v4);
    s += hsumLanes(e, v - v4); // only the loaded lanes: the others hold e^(0 - max)
  }
  return s;
}

/** Scales a row in place by s. */
@inline function rowScale(p: usize, v: i32, s: f32): void {
  const v4 = v & ~3;
  const sv = f32x4.splat(s);
  for (let j = 0; j < v4; j += 4) {
    const o = <usize>j << 2;
    v128.store(p + o, f32x4.mul(v128.load(p + o), sv));
  }
  for (let j = v4; j < v; j++) {
    const o = <usize>j << 2;
    store<f32>(p + o, load<f32>(p + o) * s);
  }
}

export function softmaxForward(x: usize, y: usize, rows: i32, v: i32): void {
  const rowBytes = <usize>v << 2;
  for (let r = 0; r < rows; r++) {
    const xr = x + <usize>r * rowBytes;
    const yr = y + <usize>r * rowBytes;
    const s = rowExp(xr, yr, v, rowMax(xr, v));
    rowScale(yr, v, <f32>1 / s);
  }
}

/** dx = y (dy - sum(dy y)) per row. */
export function softmaxBackward(y: usize, dy: usize, dx: usize, rows: i32, v: i32): void {
  const rowBytes = <usize>v << 2;
  const v4 = v & ~3;
  const t = v - v4;
  for (let r = 0; r < rows; r++) {
    const yr = y + <usize>r * rowBytes;
    const dyr = dy + <usize>r * rowBytes;
    const dxr = dx + <usize>r * rowBytes;
    let acc = f32x4.splat(0);
    for (let j = 0; j < v4; j += 4) {
      const o = <usize>j << 2;
      acc = f32x4.add(acc, f32x4.mul(v128.load(yr + o), v128.load(dyr + o)));
    }
    let s = hsum(acc);
    if (t > 0) s += hsum(f32x4.mul(loadTail(yr + (<usize>v4 << 2), t), loadTail(dyr + (<usize>v4 << 2), t)));
    const sv = f32x4.splat(s);
    for (let j = 0; j < v4; j += 4) {
      const o = <usize>j << 2;
      v128.store(dxr + o, f32x4.mul(v128.load(yr + o), f32x4.sub(v128.load(dyr + o), sv)));
    }
    if (t > 0) {
      const o = <usize>v4 << 2;
      storeTail(dxr + o, f32x4.mul(loadTail(yr + o, t), f32x4.sub(loadTail(dyr + o, t), sv)), t);
    }
  }
}

/**
 * Mean over rows of logsumexp(row) - row[target]: the cross-entropy of logits [rows, v]
 * against int32 targets [rows]. A target outside [0, v) contributes 0 (a one-hot row of
 * zeros, as tf.oneHot makes it). `scratch` holds v floats. Row losses are summed in f64
 * in row order.
 */
export function crossEntropyForward(logits: usize, targets: usize, scratch: usize, rows: i32, v: i32): f64 {
  const rowBytes = <usize>v << 2;
  let total: f64 = 0;
  for (let r = 0; r < rows; r++) {
    const t = load<i32>(targets + (<usize>r << 2));
    if (t < 0 || t >= v) continue;
    const xr = logits + <usize>r * rowBytes;
    const m = rowMax(xr, v);
    const lse = m + logf(rowExp(xr, scratch, v, m));
    total += <f64>(lse - load<f32>(xr + (<usize>t << 2)));
  }
  return total / <f64>rows;
}

/** dlogits = (softmax(row) - onehot(target)) * scale, scale = dy / rows (0 rows for bad targets). */
export function crossEntropyBackward(logits: usize, targets: usize, dlogits: usize, rows: i32, v: i32, scale: f32): void {
  const rowBytes = <usize>v << 2;
  for (let r = 0; r < rows; r++) {
    const t = load<i32>(targets + (<usize>r << 2));
    const xr = logits + <usize>r * rowBytes;
    const dr = dlogits + <usize>r * rowBytes;
    if (t < 0 || t >= v) {
      memory.fill(dr, 0, rowBytes);
      continue;
    }
    const s = rowExp(xr, dr, v, rowMax(xr, v));
    rowScale(dr, v, scale / s);
    const o = <usize>t << 2;
    store<f32>(dr + o, load<f32>(dr + o) - scale);
  }
}
