/**
 * tf.train.adam's update as one SIMD pass per variable on wasm (assembly/adam.ts),
 * instead of tfjs' ~12 kernels per variable (each a pass over the variable and a
 * temporary). It computes the same float32 operations in the same order, so the
 * weights are bit-identical to tfjs' own AdamOptimizer on wasm
 * (test/core/wasm-kernels/adam.test.ts checks that over several steps).
 *
 * Installed by wrapping AdamOptimizer.prototype.applyGradients: every tf.train.adam in
 * the project gets it without a change at the call site, on wasm only (other backends,
 * and wasm with the fused ops switched off, run the original method).
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { fusedOpsActive } from './fused';
import { ptr, registerIfMissing, simd, size, type KernelArgs } from './util';

const ADAM = 'ReproAdam';
const ORIGINAL = Symbol.for('ml-efficiency-repro.wasm-kernels.adam-original');

/** The fields of tfjs' AdamOptimizer this update reads and writes (not in its typings). */
interface AdamState {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: { originalName: string; variable: tf.Variable }[];
  accumulatedSecondMoment: { originalName: string; variable: tf.Variable }[];
  incrementIterations(): void;
}
type NamedTensor = { name: string; tensor: tf.Tensor };
type ApplyGradients = (this: tf.AdamOptimizer, variableGradients: tf.NamedTensorMap | NamedTensor[]) => void;

export function installFusedAdam(): void {
  registerIfMissing(ADAM, adamKernel as tf.KernelFunc);
  const proto = tf.AdamOptimizer.prototype as unknown as { applyGradients: ApplyGradients & { [ORIGINAL]?: ApplyGradients } };
  if (proto.applyGradients[ORIGINAL]) return;
  const original = proto.applyGradients;
  const replacement: ApplyGradients & { [ORIGINAL]?: ApplyGradients } = function (this: tf.AdamOptimizer, variableGradients) {
    if (!fusedOpsActive() || !allFloat32(variableGradients)) return original.call(this, variableGradients);
    applyFused(this as unknown as AdamState, variableGradients);
  };
  replacement[ORIGINAL] = original;
  proto.applyGradients = replacement;
}

/** True when tf.train.adam updates through the fused kernel (on wasm, fused ops on). */
export function fusedAdamInstalled(): boolean {
  return Boolean((tf.AdamOptimizer.prototype as unknown as { applyGradients: { [ORIGINAL]?: unknown } }).applyGradients[ORIGINAL]);
}

function allFloat32(variableGradients: tf.NamedTensorMap | NamedTensor[]): boolean {
  const entries = Array.isArray(variableGradients) ? variableGradients.map((v) => [v.name, v.tensor] as const) : Object.entries(variableGradients);
  return entries.every(([name, g]) => (g === null || g === undefined || g.dtype === 'float32') && tf.engine().registeredVariables[name]?.dtype === 'float32');
}

/** AdamOptimizer.applyGradients with the per-variable arithmetic in one kernel. */
function applyFused(opt: AdamState, variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
  const names = Array.isArray(variableGradients) ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
  const f = Math.fround;
  tf.tidy(() => {
    // tfjs' scalars: float32 tensors of these JS numbers; 1 - accBeta is a float32 op.
    const c1 = f(1 - opt.accBeta1.dataSync()[0]);
    const c2 = f(1 - opt.accBeta2.dataSync()[0]);
    const attrs = { b1: f(opt.beta1), oneMinusB1: f(1 - opt.beta1), b2: f(opt.beta2), oneMinusB2: f(1 - opt.beta2), c1, c2, eps: f(opt.epsilon), negLr: f(-opt.learningRate) };
    names.forEach((name, i) => {
      const value = tf.engine().registeredVariables[name];
      opt.accumulatedFirstMoment[i] ??= { originalName: `${name}/m`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
      opt.accumulatedSecondMoment[i] ??= { originalName: `${name}/v`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
      const gradient = Array.isArray(variableGradients) ? variableGradients[i].tensor : variableGradients[name];
      if (gradient === null || gradient === undefined) return;
      const m = opt.accumulatedFirstMoment[i].variable;
      const v = opt.accumulatedSecondMoment[i].variable;
      const [w1, m1, v1] = tf.engine().runKernel(ADAM, { w: value, m, v, g: gradient }, attrs) as tf.Tensor[];
      m.assign(m1);
      v.assign(v1);
      value.assign(w1);
    });
    opt.accBeta1.assign(tf.mul(opt.accBeta1, opt.beta1));
    opt.accBeta2.assign(tf.mul(opt.accBeta2, opt.beta2));
  });
  opt.incrementIterations();
}

interface AdamAttrs {
  b1: number;
  oneMinusB1: number;
  b2: number;
  oneMinusB2: number;
  c1: number;
  c2: number;
  eps: number;
  negLr: number;
}

function adamKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] {
  const { w, m, v, g } = inputs as Record<string, tf.TensorInfo>;
  const b = backend as BackendWasm;
  const a = attrs as unknown as AdamAttrs;
  const outs = [w, m, v].map((t) => b.makeOutput(t.shape, 'float32'));
  const [w1, m1, v1] = outs;
  simd(b).adam(ptr(b, w), ptr(b, m), ptr(b, v), ptr(b, g), ptr(b, w1), ptr(b, m1), ptr(b, v1), size(w.shape), a.b1, a.oneMinusB1, a.b2, a.oneMinusB2, a.c1, a.c2, a.eps, a.negLr);
  return outs;
}
