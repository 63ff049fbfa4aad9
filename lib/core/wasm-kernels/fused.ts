/**
 * Fused ops for the wasm backend: GELU, LayerNorm, RMSNorm, softmax and mean softmax
 * cross-entropy, each one SIMD kernel forward and one backward (assembly/), registered
 * as wasm kernels with tfjs gradients.
 *
 * Why: written with tfjs ops, each of these is a chain of 5–12 kernels forward and about
 * twice that backward, each with a temporary tensor, a pass over memory and a kernel
 * dispatch, and some of them slow on wasm (Pow, Tanh, broadcasting Multiply). On the
 * benchmark step they were about half of the time outside matMul.
 *
 * The layers in lib/nn call these when fusedOpsActive() (wasm, kernels installed, not
 * switched off) and keep their tfjs composition otherwise, so the other backends'
 * numbers do not move. Results differ from the composition in the last bits (other
 * summation orders, a polynomial exp); test/core/wasm-kernels/fused.test.ts bounds the
 * difference against the cpu backend. Each kernel is deterministic.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { share } from './pool';
import { ptr, registerIfMissing, simd, simdPool, size, WASM, type KernelArgs } from './util';

const GELU = 'ReproGelu';
const GELU_GRAD = 'ReproGeluGrad';
const LAYER_NORM = 'ReproLayerNorm';
const LAYER_NORM_GRAD = 'ReproLayerNormGrad';
const RMS_NORM = 'ReproRmsNorm';
const RMS_NORM_GRAD = 'ReproRmsNormGrad';
const SOFTMAX = 'ReproSoftmax';
const SOFTMAX_GRAD = 'ReproSoftmaxGrad';
const CROSS_ENTROPY = 'ReproCrossEntropy';
const CROSS_ENTROPY_GRAD = 'ReproCrossEntropyGrad';

export const WASM_FUSED_KERNELS: readonly string[] = [GELU, GELU_GRAD, LAYER_NORM, LAYER_NORM_GRAD, RMS_NORM, RMS_NORM_GRAD, SOFTMAX, SOFTMAX_GRAD, CROSS_ENTROPY, CROSS_ENTROPY_GRAD];

let enabled = true;

/** Switches the fused ops off (true: the layers use their tfjs composition) or on. */
export function setFusedOpsEnabled(on: boolean): void {
  enabled = on;
}

/** True when the layers should call the fused ops: wasm is active and they are installed. */
export function fusedOpsActive(): boolean {
  return enabled && tf.getBackend() === WASM && tf.getKernel(GELU, WASM) !== undefined;
}

export function registerFusedKernels(): void {
  const kernels: [string, (args: KernelArgs) => tf.TensorInfo | tf.TensorInfo[]][] = [
    [GELU, geluKernel],
    [GELU_GRAD, geluGradKernel],
    [LAYER_NORM, layerNormKernel],
    [LAYER_NORM_GRAD, layerNormGradKernel],
    [RMS_NORM, rmsNormKernel],
    [RMS_NORM_GRAD, rmsNormGradKernel],
    [SOFTMAX, softmaxKernel],
    [SOFTMAX_GRAD, softmaxGradKernel],
    [CROSS_ENTROPY, crossEntropyKernel],
    [CROSS_ENTROPY_GRAD, crossEntropyGradKernel],
  ];
  for (const [name, f] of kernels) registerIfMissing(name, f as tf.KernelFunc);
  registerGradientOnce({
    kernelName: GELU,
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => {
      const dx = run(GELU_GRAD, { x: saved[0], dy: dy as tf.Tensor }) as tf.Tensor;
      return { x: () => dx };
    },
  });
  // Multi-input gradients are computed eagerly: tfjs calls each input's gradient in its
  // own tidy, which would dispose the siblings of a lazily shared result.
  registerGradientOnce({
    kernelName: LAYER_NORM,
    inputsToSave: ['x', 'gamma'],
    gradFunc: (dy, saved, attrs) => {
      const [dx, dg, db] = run(LAYER_NORM_GRAD, { x: saved[0], gamma: saved[1], dy: dy as tf.Tensor }, attrs) as tf.Tensor[];
      return { x: () => dx, gamma: () => dg, beta: () => db };
    },
  });
  registerGradientOnce({
    kernelName: RMS_NORM,
    inputsToSave: ['x', 'gamma'],
    gradFunc: (dy, saved, attrs) => {
      const [dx, dg] = run(RMS_NORM_GRAD, { x: saved[0], gamma: saved[1], dy: dy as tf.Tensor }, attrs) as tf.Tensor[];
      return { x: () => dx, gamma: () => dg };
    },
  });
  registerGradientOnce({
    kernelName: SOFTMAX,
    outputsToSave: [true],
    gradFunc: (dy, saved) => {
      const dx = run(SOFTMAX_GRAD, { y: saved[0], dy: dy as tf.Tensor }) as tf.Tensor;
      return { logits: () => dx };
    },
  });
  registerGradientOnce({
    kernelName: CROSS_ENTROPY,
    inputsToSave: ['logits', 'targets'],
    gradFunc: (dy, saved) => {
      const dl = run(CROSS_ENTROPY_GRAD, { logits: saved[0], targets: saved[1], dy: dy as tf.Tensor }) as tf.Tensor;
      return { logits: () => dl, targets: () => tf.zerosLike(saved[1]) };
    },
  });
}

function registerGradientOnce(config: tf.GradConfig): void {
  if (!tf.getGradient(config.kernelName)) tf.registerGradient(config);
}

function run(name: string, inputs: tf.NamedTensorMap, attrs: tf.NamedAttrMap = {}): tf.Tensor | tf.Tensor[] {
  return tf.engine().runKernel(name, inputs, attrs) as tf.Tensor | tf.Tensor[];
}

// --- ops (call only when fusedOpsActive(); inputs float32) ---------------------------

/** GELU (tanh approximation). */
export function fusedGelu(x: tf.Tensor): tf.Tensor {
  return run(GELU, { x }) as tf.Tensor;
}

/** LayerNorm over the last axis; gamma and beta are [D]. */
export function fusedLayerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number): tf.Tensor {
  return run(LAYER_NORM, { x, gamma, beta }, { epsilon }) as tf.Tensor;
}

/** RMSNorm over the last axis; gamma is [D]. */
export function fusedRmsNorm(x: tf.Tensor, gamma: tf.Tensor, epsilon: number): tf.Tensor {
  return run(RMS_NORM, { x, gamma }, { epsilon }) as tf.Tensor;
}

/** Softmax over the last axis. */
export function fusedSoftmax(logits: tf.Tensor): tf.Tensor {
  return run(SOFTMAX, { logits }) as tf.Tensor;
}

/** Mean cross-entropy of logits [N, V] against int32 targets [N] (out-of-range targets count 0). */
export function fusedCrossEntropy(logits: tf.Tensor, targets: tf.Tensor): tf.Scalar {
  return run(CROSS_ENTROPY, { logits, targets }) as tf.Scalar;
}

// --- kernels -----------------------------------------------------------------------

type Infos = Record<string, tf.TensorInfo>;
const lastDim = (x: tf.TensorInfo) => x.shape[x.shape.length - 1];

/** Below this many elements an elementwise kernel stays on one thread (a hand-off costs ~10 µs). */
const MIN_PARALLEL_ELEMENTS = 64 * 1024;

function geluKernel({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const { x } = inputs as Infos;
  const b = backend as BackendWasm;
  const y = b.makeOutput(x.shape, 'float32');
  const [px, py, n] = [ptr(b, x), ptr(b, y), size(x.shape)];
  const pool = simdPool(b);
  if (!pool || n < MIN_PARALLEL_ELEMENTS) simd(b).geluForward(px, py, n);
  else pool.run(simd(b), Array.from({ length: pool.threads }, (_, t) => share(n, pool.threads, t, 4)).map(([i0, i1]) => ['geluForward', px + 4 * i0, py + 4 * i0, i1 - i0]));
  return y;
}

function geluGradKernel({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const { x, dy } = inputs as Infos;
  const b = backend as BackendWasm;
  const dx = b.makeOutput(x.shape, 'float32');
  const [px, pdy, pdx, n] = [ptr(b, x), ptr(b, dy), ptr(b, dx), size(x.shape)];
  const pool = simdPool(b);
  if (!pool || n < MIN_PARALLEL_ELEMENTS) simd(b).geluBackward(px, pdy, pdx, n);
  else pool.run(simd(b), Array.from({ length: pool.threads }, (_, t) => share(n, pool.threads, t, 4)).map(([i0, i1]) => ['geluBackward', px + 4 * i0, pdy + 4 * i0, pdx + 4 * i0, i1 - i0]));
  return dx;
}

function layerNormKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const { x, gamma, beta } = inputs as Infos;
  const b = backend as BackendWasm;
  const d = lastDim(x);
  const y = b.makeOutput(x.shape, 'float32');
  simd(b).layerNormForward(ptr(b, x), ptr(b, gamma), ptr(b, beta), ptr(b, y), size(x.shape) / d, d, (attrs as { epsilon: number }).epsilon);
  return y;
}

function layerNormGradKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] {
  const { x, gamma, dy } = inputs as Infos;
  const b = backend as BackendWasm;
  const d = lastDim(x);
  const dx = b.makeOutput(x.shape, 'float32');
  const dg = b.makeOutput([d], 'float32');
  const db = b.makeOutput([d], 'float32');
  simd(b).layerNormBackward(ptr(b, x), ptr(b, gamma), ptr(b, dy), ptr(b, dx), ptr(b, dg), ptr(b, db), size(x.shape) / d, d, (attrs as { epsilon: number }).epsilon);
  return [dx, dg, db];
}

function rmsNormKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const { x, gamma } = inputs as Infos;
  const b = backend as BackendWasm;
  const d = lastDim(x);
  const y = b.makeOutput(x.shape, 'float32');
  simd(b).rmsNormForward(ptr(b, x), ptr(b, gamma), ptr(b, y), size(x.shape) / d, d, (attrs as { epsilon: number }).epsilon);
  return y;
}

function rmsNormGradKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] {
  const { x, gamma, dy } = inputs as Infos;
  const b = backend as BackendWasm;
  const d = lastDim(x);
  const dx = b.makeOutput(x.shape, 'float32');
  const dg = b.makeOutput([d], 'float32');
  simd(b).rmsNormBackward(ptr(b, x), ptr(b, gamma), ptr(b, dy), ptr(b, dx), ptr(b, dg), size(x.shape) / d, d, (attrs as { epsilon: number }).epsilon);
  return [dx, dg];
}

function softmaxKernel({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const { logits } = inputs as Infos;
  const b = backend as BackendWasm;
  const v = lastDim(logits);
  const y = b.makeOutput(logits.shape, 'float32');
  simd(b).softmaxForward(ptr(b, logits), ptr(b, y), size(logits.shape) / v, v);
  return y;
}

function softmaxGradKernel({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const { y, dy } = inputs as Infos;
  const b = backend as BackendWasm;
  const v = lastDim(y);
  const dx = b.makeOutput(y.shape, 'float32');
  simd(b).softmaxBackward(ptr(b, y), ptr(b, dy), ptr(b, dx), size(y.shape) / v, v);
  return dx;
}

function crossEntropyKernel({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const { logits, targets } = inputs as Infos;
  const b = backend as BackendWasm;
  const [rows, v] = logits.shape;
  const scratch = b.makeOutput([v], 'float32');
  const loss = simd(b).crossEntropyForward(ptr(b, logits), ptr(b, targets), ptr(b, scratch), rows, v);
  b.disposeData(scratch.dataId);
  const out = b.makeOutput([], 'float32');
  (b.typedArrayFromHeap(out) as Float32Array)[0] = loss;
  return out;
}

function crossEntropyGradKernel({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const { logits, targets, dy } = inputs as Infos;
  const b = backend as BackendWasm;
  const [rows, v] = logits.shape;
  const scale = Math.fround((b.readSync(dy.dataId) as Float32Array)[0] / rows);
  const dl = b.makeOutput(logits.shape, 'float32');
  simd(b).crossEntropyBackward(ptr(b, logits), ptr(b, targets), ptr(b, dl), rows, v, scale);
  return dl;
}
