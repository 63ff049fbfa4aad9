/**
 * `npm run doctor`: which tfjs backends load on this machine, why the others do
 * not, the device behind each, and a few-second matMul GFLOP/s per backend.
 */
import * as fs from 'node:fs';
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

const LIB_DIRS = ['/usr/lib/x86_64-linux-gnu', '/lib/x86_64-linux-gnu', '/usr/local/cuda/lib64', '/usr/lib64', '/usr/local/nvidia/lib64', ...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean)];
const ICD_DIRS = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/nvidia/share/vulkan/icd.d'];

function findLib(prefix: string): string | undefined {
  for (const dir of LIB_DIRS) {
    try {
      const hit = fs.readdirSync(dir).filter((f) => f.startsWith(prefix)).sort()[0];
      if (hit) {
        const file = `${dir}/${hit}`;
        const real = fs.realpathSync(file);
        return real === file ? file : `${file} -> ${real}`;
      }
    } catch {
      // directory absent
    }
  }
  return undefined;
}

/**
 * What the GPU backends depend on, so a skipped one can be explained: the NVIDIA
 * driver, the CUDA runtime tfjs-node-gpu was built against (11.x), the Vulkan loader
 * and ICDs Dawn needs.
 */
export function gpuEnvironment(): string[] {
  const lines: string[] = [];
  let driver = 'none (no /proc/driver/nvidia/version)';
  try {
    driver = fs.readFileSync('/proc/driver/nvidia/version', 'utf8').split('\n')[0].replace(/\s+/g, ' ').trim();
  } catch {
    // no NVIDIA kernel driver
  }
  lines.push(`NVIDIA driver: ${driver}`);
  const cuda = findLib('libcuda.so');
  lines.push(`libcuda (driver API): ${cuda ?? 'not found'}`);
  const cudart = findLib('libcudart.so');
  const cudartNote = cudart && !/libcudart\.so\.11/.test(cudart) ? ' (tfjs-node-gpu 4.x needs CUDA 11.2 + cuDNN 8.1: a CUDA 12/13 runtime does not satisfy it)' : '';
  lines.push(`libcudart (CUDA runtime): ${cudart ?? 'not found (tfjs-node-gpu needs CUDA 11.2)'}${cudartNote}`);
  lines.push(`Vulkan loader: ${findLib('libvulkan.so.1') ?? 'not found (Debian: apt-get install libvulkan1)'}`);
  const icds = ICD_DIRS.flatMap((d) => {
    try {
      return fs.readdirSync(d).filter((f) => f.endsWith('.json')).map((f) => `${d}/${f}`);
    } catch {
      return [];
    }
  });
  if (process.env.VK_DRIVER_FILES) icds.unshift(`VK_DRIVER_FILES=${process.env.VK_DRIVER_FILES}`);
  lines.push(`Vulkan ICDs: ${icds.length ? icds.join(', ') : 'none (no GPU driver for Vulkan; Mesa lavapipe would be a software adapter)'}`);
  lines.push(`dawn.node: ${process.env.REPRO_DAWN_NODE ?? 'from the npm package webgpu'}`);
  return lines;
}

export async function runDoctor(write: (t: string) => void): Promise<number> {
  write('GPU environment:\n');
  for (const l of gpuEnvironment()) write(`  ${l}\n`);
  write('\n');
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
