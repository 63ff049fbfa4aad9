/**
 * `npm run doctor`: which tfjs backends load on this machine, why the others do
 * not, the device behind each, and a few-second matMul GFLOP/s per backend.
 */
import * as tf from '@tensorflow/tfjs';
import { selectBackend, type BackendName } from '../lib/core/backend';
import { medianMs } from '../lib/core/timer';

const ORDER: BackendName[] = ['tensorflow', 'webgpu', 'wasm', 'cpu'];

async function matmulGflops(n: number): Promise<number> {
  const a = tf.randomUniform([n, n], -1, 1, 'float32', 11);
  const b = tf.randomUniform([n, n], -1, 1, 'float32', 12);
  const ms = await medianMs(() => tf.matMul(a, b), 3, 1);
  a.dispose();
  b.dispose();
  return (2 * n ** 3) / (ms * 1e6);
}

export async function runDoctor(write: (t: string) => void): Promise<number> {
  const auto = await selectBackend('auto', () => {});
  write(`auto would pick: ${auto.name} (${auto.device})\n`);
  for (const s of auto.skipped) write(`  skipped ${s.name}: ${s.reason}\n`);
  write('\nper backend:\n');
  for (const name of ORDER) {
    try {
      const info = await selectBackend(name, () => {});
      const n = name === 'cpu' ? 256 : 512;
      const g = await matmulGflops(n);
      write(`  ${name.padEnd(10)} ok       ${info.device}; matMul ${n}^3: ${g.toFixed(2)} GFLOP/s\n`);
    } catch (e) {
      write(`  ${name.padEnd(10)} missing  ${(e as Error).message}\n`);
    }
  }
  return 0;
}
