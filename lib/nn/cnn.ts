/**
 * A small seeded CNN feature extractor for 28x28 grey images (MNIST, Fashion-MNIST),
 * built from matMuls only so that it trains at full speed on every tfjs backend.
 *
 * Why not tf.conv2d: on the wasm backend the filter gradient (Conv2DBackpropFilter)
 * runs on the cpu kernel with data copies; one training step of a two-conv net took
 * 16 s here against 38 ms for this version. So:
 * - conv1 (3x3, stride 2, 'same' padding, 1 -> c1 channels): the patches of the input
 *   are cut on the data side (`im2colImages`, plain JS; pixels need no gradient), then
 *   one matMul [B*14*14, 9] x [9, c1];
 * - conv2 (2x2, stride 2, c1 -> c2): conv1's output positions are produced in 2x2-block
 *   order (`blockOrder`), so conv2's non-overlapping patches are a plain reshape — no
 *   transpose (a 6-D transpose and its gradient cost ~40% of a step on wasm) — then one
 *   matMul [B*7*7, 4*c1] x [4*c1, c2];
 * - embedding: dense [7*7*c2] -> D, linear (no activation): the representation z.
 * conv1 and conv2 are followed by ReLU and have biases.
 */
import * as tf from '@tensorflow/tfjs';
import { UsageError } from '../core/errors';
import { applyDense, type Dense, type ParamStore } from './layers';

export interface CnnConfig {
  height: number;
  width: number;
  conv1Channels: number;
  conv2Channels: number;
  /** D: size of the representation z. */
  embeddingDim: number;
}

/** Output side of a 'same'-padded stride-s convolution. */
function sameOut(n: number, stride: number): number {
  return Math.ceil(n / stride);
}

export interface Im2col {
  /** For each output position (row-major) and tap (row-major in the kernel): input pixel index, or -1 for padding. */
  indices: Int32Array;
  outH: number;
  outW: number;
  taps: number;
}

/** Patch indices of a k x k, stride-s convolution with TensorFlow's 'same' padding (extra pad at the bottom/right). */
export function im2colIndices(height: number, width: number, kernel: number, stride: number): Im2col {
  const outH = sameOut(height, stride);
  const outW = sameOut(width, stride);
  const padTop = Math.floor(Math.max((outH - 1) * stride + kernel - height, 0) / 2);
  const padLeft = Math.floor(Math.max((outW - 1) * stride + kernel - width, 0) / 2);
  const taps = kernel * kernel;
  const indices = new Int32Array(outH * outW * taps);
  let n = 0;
  for (let i = 0; i < outH; i++)
    for (let j = 0; j < outW; j++)
      for (let a = 0; a < kernel; a++)
        for (let b = 0; b < kernel; b++) {
          const r = i * stride + a - padTop;
          const c = j * stride + b - padLeft;
          indices[n++] = r >= 0 && r < height && c >= 0 && c < width ? r * width + c : -1;
        }
  return { indices, outH, outW, taps };
}

/**
 * The same patches with output positions reordered block by block: for each 2x2 block
 * (row-major over blocks) its four positions (row-major inside the block). Then rows
 * 4k..4k+3 of conv1's output are exactly conv2's k-th 2x2 patch.
 */
export function blockOrder(cols: Im2col): Im2col {
  if (cols.outH % 2 !== 0 || cols.outW % 2 !== 0) throw new UsageError(`blockOrder: a ${cols.outH}x${cols.outW} map has no 2x2 tiling`);
  const indices = new Int32Array(cols.indices.length);
  let n = 0;
  for (let i = 0; i < cols.outH / 2; i++)
    for (let j = 0; j < cols.outW / 2; j++)
      for (let a = 0; a < 2; a++)
        for (let b = 0; b < 2; b++) {
          const pos = (2 * i + a) * cols.outW + (2 * j + b);
          indices.set(cols.indices.subarray(pos * cols.taps, (pos + 1) * cols.taps), n);
          n += cols.taps;
        }
  return { ...cols, indices };
}

/**
 * Patches of `count` images (count*height*width floats) -> [count*outH*outW, taps] floats,
 * each pixel standardised as (x - mean) / std; padding is 0 (the mean pixel), as when
 * TensorFlow pads a standardised input.
 */
export function im2colImages(x: Float32Array, count: number, height: number, width: number, cols: Im2col, mean = 0, std = 1): Float32Array {
  const px = height * width;
  const per = cols.indices.length;
  const out = new Float32Array(count * per);
  for (let b = 0; b < count; b++) {
    const src = b * px;
    const dst = b * per;
    for (let t = 0; t < per; t++) {
      const i = cols.indices[t];
      out[dst + t] = i < 0 ? 0 : (x[src + i] - mean) / std;
    }
  }
  return out;
}

/** The seeded CNN. Parameters live in the caller's ParamStore (seeded per name). */
export class SmallCnn {
  readonly conv1: Dense;
  readonly conv2: Dense;
  readonly embed: Dense;
  readonly cols: Im2col;
  private readonly h2: number;
  private readonly w2: number;

  /**
   * `input`: pixel mean and std used to standardise images (e.g. of the training set);
   * standardised inputs train markedly faster than raw [0, 1] pixels.
   */
  constructor(
    readonly config: CnnConfig,
    store: ParamStore,
    name = 'cnn',
    readonly input: { mean: number; std: number } = { mean: 0, std: 1 },
  ) {
    const { height, width, conv1Channels: c1, conv2Channels: c2, embeddingDim: d } = config;
    for (const [k, v] of Object.entries(config))
      if (!Number.isInteger(v) || v < 1) throw new UsageError(`cnn config ${k}=${v} must be a positive integer`);
    const cols = im2colIndices(height, width, 3, 2);
    if (cols.outH % 2 !== 0 || cols.outW % 2 !== 0)
      throw new UsageError(`cnn: image ${height}x${width} gives a ${cols.outH}x${cols.outW} map after conv1; the 2x2 stride-2 conv2 needs even sides (e.g. 28x28)`);
    this.cols = blockOrder(cols);
    this.h2 = this.cols.outH / 2;
    this.w2 = this.cols.outW / 2;
    // He-style scale on conv layers (ReLU follows); Glorot on the linear embedding.
    this.conv1 = store.dense(`${name}/conv1`, 9, c1, { bias: true, scale: Math.sqrt((9 + c1) / 9) });
    this.conv2 = store.dense(`${name}/conv2`, 4 * c1, c2, { bias: true, scale: Math.sqrt((4 * c1 + c2) / (4 * c1)) });
    this.embed = store.dense(`${name}/embed`, this.h2 * this.w2 * c2, d, { bias: true });
  }

  /** Data-side patches for conv1 of a batch of images in [0, 1]. */
  patches(x: Float32Array, count: number): tf.Tensor2D {
    const { height, width } = this.config;
    const patches = im2colImages(x, count, height, width, this.cols, this.input.mean, this.input.std);
    return tf.tensor2d(patches, [count * this.cols.outH * this.cols.outW, this.cols.taps]);
  }

  /** [count*outH*outW, 9] patches (block order) -> representation z [count, D]. */
  forward(patches: tf.Tensor2D, count: number): tf.Tensor2D {
    return tf.tidy(() => {
      const { conv1Channels: c1, conv2Channels: c2 } = this.config;
      // Rows of a1 are in 2x2-block order, so each group of 4 rows is one conv2 patch.
      const a1 = tf.relu(applyDense(patches, this.conv1));
      const p2 = a1.reshape([count * this.h2 * this.w2, 4 * c1]);
      const a2 = tf.relu(applyDense(p2, this.conv2)).reshape([count, this.h2 * this.w2 * c2]);
      return applyDense(a2, this.embed) as tf.Tensor2D;
    });
  }

  /** Embeds images in chunks (no gradient); returns [count, D] floats. */
  async embedImages(images: Float32Array, count: number, chunk = 500): Promise<Float32Array> {
    const d = this.config.embeddingDim;
    const out = new Float32Array(count * d);
    const px = this.config.height * this.config.width;
    for (let start = 0; start < count; start += chunk) {
      const n = Math.min(chunk, count - start);
      const z = tf.tidy(() => this.forward(this.patches(images.subarray(start * px, (start + n) * px), n), n));
      out.set(await z.data(), start * d);
      z.dispose();
    }
    return out;
  }
}

/**
 * FLOPs of one image through the CNN up to the first `dims` coordinates of z
 * (a prefix of z needs only that many columns of the embedding matrix).
 * Convention: a k-term dot product plus bias = k multiplies + k adds = 2k FLOPs; ReLU
 * (a max) is not counted.
 */
export function cnnFlops(config: CnnConfig, dims = config.embeddingDim): { trunk: number; embedding: number; total: number } {
  const cols = im2colIndices(config.height, config.width, 3, 2);
  const pos1 = cols.outH * cols.outW;
  const pos2 = pos1 / 4;
  const trunk = 2 * 9 * pos1 * config.conv1Channels + 2 * 4 * config.conv1Channels * pos2 * config.conv2Channels;
  const embedding = 2 * pos2 * config.conv2Channels * dims;
  return { trunk, embedding, total: trunk + embedding };
}
