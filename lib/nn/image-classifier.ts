/**
 * Teacher and student image classifiers for the capacity-gap study: MLPs whose hidden
 * width sets the capacity (ReLU, Glorot init, seeded through ParamStore), plus batched
 * inference that returns plain arrays (logits stay off the tensor heap between phases).
 */
import * as tf from '@tensorflow/tfjs';
import type { RunRng } from '../core/rng';
import { applyDense, ParamStore, type Dense } from './layers';

export class MlpClassifier {
  readonly store: ParamStore;
  private readonly layers: Dense[] = [];

  constructor(
    readonly inputDim: number,
    readonly hidden: readonly number[],
    readonly classes: number,
    rng: RunRng,
    name: string,
  ) {
    this.store = new ParamStore(rng, name);
    const dims = [inputDim, ...hidden, classes];
    for (let i = 0; i + 1 < dims.length; i++) this.layers.push(this.store.dense(`layer${i}`, dims[i], dims[i + 1], { bias: true }));
  }

  /** x [B, inputDim] in [0, 1] -> logits [B, classes]. */
  logits(x: tf.Tensor): tf.Tensor2D {
    return tf.tidy(() => {
      let h = x;
      this.layers.forEach((d, i) => {
        h = applyDense(h, d);
        if (i + 1 < this.layers.length) h = tf.relu(h);
      });
      return h as tf.Tensor2D;
    });
  }

  get variables(): tf.Variable[] {
    return this.store.variables;
  }

  paramCount(): number {
    return this.store.paramCount();
  }

  dispose(): void {
    this.store.dispose();
  }
}

/**
 * Logits of `model` on `count` examples of `images` (count x inputDim bytes, scaled by
 * 1/255), in batches; returns a row-major [count, classes] Float32Array.
 */
export async function predictLogits(model: MlpClassifier, images: Uint8Array, count: number, batchSize = 1000): Promise<Float32Array> {
  const d = model.inputDim;
  const out = new Float32Array(count * model.classes);
  for (let start = 0; start < count; start += batchSize) {
    const n = Math.min(batchSize, count - start);
    const x = new Float32Array(n * d);
    for (let i = 0; i < n * d; i++) x[i] = images[start * d + i] / 255;
    const logits = tf.tidy(() => model.logits(tf.tensor2d(x, [n, d])));
    out.set(await logits.data(), start * model.classes);
    logits.dispose();
  }
  return out;
}
