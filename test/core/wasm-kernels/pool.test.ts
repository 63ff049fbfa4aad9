/**
 * The kernel worker pool on a shared memory of its own (no tfjs): split products and
 * elementwise kernels give the same bits as one thread, for any share of the work.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KERNELS_WASM_BASE64 } from '../../../lib/core/wasm-kernels/binary';
import { decodeBase64, type KernelModule } from '../../../lib/core/wasm-kernels/module';
import { KernelPool, share } from '../../../lib/core/wasm-kernels/pool';
import { randn } from './parity';

test('share: contiguous, covering, aligned parts', () => {
  for (const [total, parts, align] of [[1024, 2, 4], [1023, 3, 4], [5, 4, 1], [3, 8, 4], [130, 7, 4]]) {
    const cuts = Array.from({ length: parts }, (_, i) => share(total, parts, i, align));
    assert.equal(cuts[0][0], 0);
    assert.equal(cuts[parts - 1][1], total);
    for (let i = 1; i < parts; i++) assert.equal(cuts[i][0], cuts[i - 1][1]);
    for (const [a, b] of cuts.slice(0, -1)) assert.ok(a <= b && (b % align === 0 || b === total), `${total}/${parts}: [${a}, ${b})`);
  }
});

test('a 3-thread pool computes GEMM (row bands and batch runs) and GELU with the bits of one thread', () => {
  const memory = new WebAssembly.Memory({ initial: 256, maximum: 65536, shared: true });
  const module = new WebAssembly.Module(decodeBase64(KERNELS_WASM_BASE64.shared));
  const k = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as KernelModule;
  const pool = new KernelPool(module, memory, 3);
  try {
    const f32 = new Float32Array(memory.buffer);
    let top = 1024;
    const put = (data: Float32Array) => {
      const p = top;
      f32.set(data, p / 4);
      top += 4 * data.length + 64;
      return p;
    };
    const alloc = (n: number) => put(new Float32Array(n));
    const [m, kk, n, batch] = [67, 45, 29, 5];
    const a = put(randn([batch, m, kk], 'pa'));
    const b = put(randn([batch, kk, n], 'pb'));
    const one = alloc(batch * m * n);
    const many = alloc(batch * m * n);
    k.gemm(a, b, one, m, kk, n, batch, m * kk, kk * n, m * n);
    const runs = [share(batch, 3, 0), share(batch, 3, 1), share(batch, 3, 2)];
    pool.run(k, runs.map(([i0, i1]) => ['gemm', a + 4 * i0 * m * kk, b + 4 * i0 * kk * n, many + 4 * i0 * m * n, m, kk, n, i1 - i0, m * kk, kk * n, m * n]));
    assert.deepEqual(f32.subarray(many / 4, many / 4 + batch * m * n), f32.subarray(one / 4, one / 4 + batch * m * n), 'batch runs');
    const bands = alloc(m * n);
    pool.run(k, [0, 1, 2].map((t) => share(m, 3, t, 4)).map(([r0, r1]) => ['gemm', a + 4 * r0 * kk, b, bands + 4 * r0 * n, r1 - r0, kk, n, 1, 0, 0, 0]));
    assert.deepEqual(f32.subarray(bands / 4, bands / 4 + m * n), f32.subarray(one / 4, one / 4 + m * n), 'row bands');
    const count = 1001;
    const x = put(randn([count], 'px', 3));
    const y1 = alloc(count);
    const y3 = alloc(count);
    k.geluForward(x, y1, count);
    pool.run(k, [0, 1, 2].map((t) => share(count, 3, t, 4)).map(([i0, i1]) => ['geluForward', x + 4 * i0, y3 + 4 * i0, i1 - i0]));
    assert.deepEqual(f32.subarray(y3 / 4, y3 / 4 + count), f32.subarray(y1 / 4, y1 / 4 + count), 'gelu');
    assert.ok(f32.subarray(y1 / 4, y1 / 4 + count).some((v) => v !== 0), 'something was computed');
  } finally {
    pool.dispose();
  }
});
