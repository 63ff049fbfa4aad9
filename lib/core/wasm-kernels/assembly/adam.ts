// The Adam update of tf.train.adam, one pass per variable instead of about twelve
// kernels and as many temporaries.

/**
 * The same float32 operations, in the same order, as tfjs-core's AdamOptimizer:
 *   m' = m b1 + g (1 - b1)            v' = v b2 + (g g) (1 - b2)
 *   w' = ((m' / c1) / (sqrt(v' / c2) + eps)) (-lr) + w
 * with c1 = 1 - b1^t and c2 = 1 - b2^t as float32 scalars. Every step is a correctly
 * rounded IEEE operation in both, so the result is bit-identical to tfjs' Adam on wasm.
 */
export function adam(
  w: usize, m: usize, v: usize, g: usize, wOut: usize, mOut: usize, vOut: usize, n: i32,
  b1: f32, oneMinusB1: f32, b2: f32, oneMinusB2: f32, c1: f32, c2: f32, eps: f32, negLr: f32,
): void {
  const vb1 = f32x4.splat(b1), vomb1 = f32x4.splat(oneMinusB1);
  const vb2 = f32x4.splat(b2), vomb2 = f32x4.splat(oneMinusB2);
  const vc1 = f32x4.splat(c1), vc2 = f32x4.splat(c2);
  const veps = f32x4.splat(eps), vlr = f32x4.splat(negLr);
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) {
    const o = <usize>i << 2;
    const gv = v128.load(g + o);
    const m1 = f32x4.add(f32x4.mul(v128.load(m + o), vb1), f32x4.mul(gv, vomb1));
    const v1 = f32x4.add(f32x4.mul(v128.load(v + o), vb2), f32x4.mul(f32x4.mul(gv, gv), vomb2));
    const step = f32x4.mul(f32x4.div(f32x4.div(m1, vc1), f32x4.add(f32x4.sqrt(f32x4.div(v1, vc2)), veps)), vlr);
    v128.store(mOut + o, m1);
    v128.store(vOut + o, v1);
    v128.store(wOut + o, f32x4.add(step, v128.load(w + o)));
  }
  for (let i = n4; i < n; i++) {
    const o = <usize>i << 2;
    const gs = load<f32>(g + o);
    const m1 = load<f32>(m + o) * b1 + gs * oneMinusB1;
    const v1 = load<f32>(v + o) * b2 + (gs * gs) * oneMinusB2;
    const step = ((m1 / c1) / (Mathf.sqrt(v1 / c2) + eps)) * negLr;
    store<f32>(mOut + o, m1);
    store<f32>(vOut + o, v1);
    store<f32>(wOut + o, step + load<f32>(w + o));
  }
}
