/**
 * Kernels tfjs-backend-wasm lacks. UnsortedSegmentSum (the gradient of gather, e.g. an
 * embedding lookup) runs on the wasm ScatterNd kernel; Einsum, Conv2DBackpropFilter and
 * the depthwise-conv gradients run on the cpu backend's kernel with data copies (correct,
 * not fast). tfjs has no Einsum gradient on any backend: do not train through tf.einsum,
 * write the product with matMul.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { dispose, registerIfMissing, reshapeInfo, runWasm, type KernelArgs } from './util';

/** Kernels run on the cpu backend with data copies (no wasm implementation exists). */
export const WASM_CPU_DELEGATED_KERNELS: readonly string[] = [
  'Einsum',
  'Conv2DBackpropFilter',
  'DepthwiseConv2dNativeBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
];
/** Kernels implemented here on top of other wasm kernels. */
export const WASM_ADDED_KERNELS: readonly string[] = ['UnsortedSegmentSum', ...WASM_CPU_DELEGATED_KERNELS];

export function registerMissingKernels(): void {
  registerIfMissing('UnsortedSegmentSum', unsortedSegmentSum);
  for (const name of WASM_CPU_DELEGATED_KERNELS) registerIfMissing(name, delegateToCpu(name));
}

// ---------------------------------------------------------------------------------
// UnsortedSegmentSum on ScatterNd (which sums duplicate indices, like TensorFlow).

function unsortedSegmentSum(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x, segmentIds } = args.inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  const { numSegments } = args.attrs as unknown as { numSegments: number };
  const ids = backend.readSync(segmentIds.dataId) as Int32Array;
  const idRank = segmentIds.shape.length;
  const prefixMatches = segmentIds.shape.every((d, i) => x.shape[i] === d);
  const inRange = ids.every((v) => v >= 0 && v < numSegments);
  // TensorFlow drops out-of-range ids; ScatterNd would not: let the cpu kernel handle those.
  if (x.dtype !== 'float32' || !prefixMatches || !inRange || ids.length === 0) return delegateToCpu('UnsortedSegmentSum')(args) as tf.TensorInfo;
  const rest = x.shape.slice(idRank);
  const indices = reshapeInfo(backend, segmentIds, [ids.length, 1]);
  const updates = reshapeInfo(backend, x, [ids.length, ...rest]);
  try {
    return runWasm('ScatterNd', backend, { indices, updates }, { shape: [numSegments, ...rest] });
  } finally {
    dispose(backend, indices, updates);
  }
}

// ---------------------------------------------------------------------------------
// Kernels wasm lacks, run by the cpu backend on copies of the data.

function delegateToCpu(name: string): tf.KernelFunc {
  return (args: KernelArgs) => {
    const wasm = args.backend as BackendWasm;
    const cpu = tf.findBackend('cpu');
    const cpuKernel = tf.getKernel(name, 'cpu');
    if (!cpu || !cpuKernel) throw new Error(`wasm kernel ${name} needs the cpu backend's kernel, which is not registered`);
    const copies: tf.TensorInfo[] = [];
    const toCpu = (t: tf.TensorInfo): tf.TensorInfo => {
      const info = { dataId: cpu.write(wasm.readSync(t.dataId), t.shape, t.dtype), shape: t.shape, dtype: t.dtype };
      copies.push(info);
      return info;
    };
    // Most kernels take named inputs; a few (Einsum) take an array.
    const inputs = args.inputs as unknown as Record<string, tf.TensorInfo | null> | tf.TensorInfo[];
    let cpuInputs: unknown;
    if (Array.isArray(inputs)) cpuInputs = inputs.map(toCpu);
    else {
      const named: Record<string, tf.TensorInfo> = {};
      for (const [key, value] of Object.entries(inputs)) if (value !== null && value !== undefined) named[key] = toCpu(value);
      cpuInputs = named;
    }
    try {
      const result = cpuKernel.kernelFunc({ inputs: cpuInputs as unknown as tf.NamedTensorInfoMap, backend: cpu, attrs: args.attrs });
      const outs = Array.isArray(result) ? result : [result];
      const back = outs.map((o) => {
        const values = cpu.readSync(o.dataId) as tf.TypedArray;
        const out = wasm.makeOutput(o.shape, o.dtype);
        wasm.typedArrayFromHeap(out).set(values);
        cpu.disposeData(o.dataId);
        return out;
      });
      return Array.isArray(result) ? back : back[0];
    } finally {
      for (const c of copies) cpu.disposeData(c.dataId);
    }
  };
}
