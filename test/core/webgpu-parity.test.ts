/**
 * Numbers on webgpu agree with the cpu reference. Runs where a hardware WebGPU adapter
 * is found (a GPU server with Vulkan); elsewhere it is skipped with the reason the
 * backend gave. Tolerance: 1e-3 relative on losses after a few Adam steps — fp32 GPU
 * reductions sum in another order than the cpu kernels (a few ULP per op), which Adam's
 * normalised steps amplify slightly; 1e-3 is far below any effect a claim measures.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../lib/core/backend';
import { RunRng } from '../../lib/core/rng';
import { TransformerLM } from '../../lib/nn/transformer';
import { trainStep } from '../../lib/nn/training';

async function webgpuSkipReason(): Promise<string | undefined> {
  try {
    await selectBackend('webgpu');
    return undefined;
  } catch (e) {
    return `no WebGPU here: ${(e as Error).message.split('(choices')[0].trim()}`;
  }
}

async function lossesOn(backend: 'cpu' | 'webgpu'): Promise<number[]> {
  await selectBackend(backend);
  const lm = new TransformerLM({ vocab: 32, width: 32, depth: 2, heads: 4, ffnHidden: 64 }, new RunRng(5));
  const stream = new RunRng(5).stream('tokens');
  const ids = Array.from({ length: 4 * 17 }, () => stream.int(32));
  const x = tf.tensor2d(ids.filter((_, i) => i % 17 !== 16), [4, 16], 'int32');
  const y = tf.tensor2d(ids.filter((_, i) => i % 17 !== 0), [4, 16], 'int32');
  const opt = tf.train.adam(1e-2);
  const losses: number[] = [];
  for (let i = 0; i < 5; i++) {
    const l = trainStep(opt, lm.store.variables, () => lm.loss(x, y));
    losses.push((await l.data())[0]);
    l.dispose();
  }
  lm.dispose();
  opt.dispose();
  tf.dispose([x, y]);
  return losses;
}

test('webgpu matches cpu: matMul and a few Transformer training steps', async (t) => {
  const skip = await webgpuSkipReason();
  if (skip) return t.skip(skip);
  const a = tf.randomUniform([64, 48], -1, 1, 'float32', 3);
  const b = tf.randomUniform([48, 32], -1, 1, 'float32', 4);
  const gpu = await tf.matMul(a, b).data();
  const cpuA = await a.data();
  const cpuB = await b.data();
  await selectBackend('cpu');
  const ref = await tf.matMul(tf.tensor2d(cpuA, [64, 48]), tf.tensor2d(cpuB, [48, 32])).data();
  for (let i = 0; i < ref.length; i++) assert.ok(Math.abs(gpu[i] - ref[i]) <= 1e-4 * (1 + Math.abs(ref[i])), `matMul[${i}]: ${gpu[i]} vs ${ref[i]}`);

  const onCpu = await lossesOn('cpu');
  const onGpu = await lossesOn('webgpu');
  for (let i = 0; i < onCpu.length; i++) assert.ok(Math.abs(onGpu[i] - onCpu[i]) <= 1e-3 * Math.abs(onCpu[i]), `step ${i}: webgpu ${onGpu[i]} vs cpu ${onCpu[i]}`);
});
