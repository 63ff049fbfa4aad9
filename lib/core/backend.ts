/**
 * Picks the tfjs backend (ARCHITECTURE.md §3) and says why each faster one was skipped.
 *
 * auto: tensorflow (tfjs-node-gpu / tfjs-node, optional, when installed and loadable)
 *    -> webgpu (Dawn over Vulkan, hardware adapters only) -> wasm (SIMD; threads: see
 *    wasmThreadsRequested) -> cpu.
 * A backend named explicitly is loaded or a BackendError says why not.
 *
 * Optional packages are required lazily through createRequire rooted at the repository
 * (this module also runs as CommonJS under tslab, so no import.meta).
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as tfWasm from '@tensorflow/tfjs-backend-wasm';
import { BackendError, listChoices } from './errors';
import { packageDir, repoRoot } from './paths';
import { registerWasmKernels } from './wasm-kernels/index';
import { createThreadedWasmBackend, MAX_WASM_THREADS } from './wasm-threads';
import { probeAdapter, type AdapterInfo } from './webgpu-probe';

export type BackendName = 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';
export const BACKEND_CHOICES: readonly ('auto' | BackendName)[] = ['auto', 'webgpu', 'wasm', 'cpu', 'tensorflow'];
const AUTO_ORDER: readonly BackendName[] = ['tensorflow', 'webgpu', 'wasm', 'cpu'];

export interface BackendInfo {
  name: BackendName;
  /** Human description: CPU model + 'wasm SIMD', GPU adapter name, 'cpu (pure JS)'... */
  device: string;
  /** Backends tried before this one (auto) and why each was not used. */
  skipped: { name: BackendName; reason: string }[];
}

/** A backend that could not be loaded, with a one-line reason. */
class Unavailable extends Error {}

let active: BackendInfo | undefined;

export function activeBackend(): BackendInfo | undefined {
  return active;
}

export async function selectBackend(choice: 'auto' | BackendName | string, log?: (line: string) => void): Promise<BackendInfo> {
  if (!(BACKEND_CHOICES as readonly string[]).includes(choice)) {
    throw new BackendError(`unknown backend '${choice}': valid choices are ${listChoices(BACKEND_CHOICES)}`);
  }
  if (choice !== 'auto') {
    try {
      const device = await load(choice as BackendName, false);
      return (active = { name: choice as BackendName, device, skipped: [] });
    } catch (err) {
      if (!(err instanceof Unavailable)) throw err;
      throw new BackendError(`backend '${choice}' is not available: ${err.message} (choices: ${listChoices(BACKEND_CHOICES)}; 'auto' picks the first that loads)`);
    }
  }
  const skipped: BackendInfo['skipped'] = [];
  for (const name of AUTO_ORDER) {
    try {
      const device = await load(name, true);
      log?.(`backend: ${name} (${device})`);
      return (active = { name, device, skipped });
    } catch (err) {
      if (!(err instanceof Unavailable)) throw err;
      skipped.push({ name, reason: err.message });
      log?.(`backend: skipped ${name}: ${err.message}`);
    }
  }
  throw new BackendError('no tfjs backend could be loaded (not even cpu)');
}

async function load(name: BackendName, auto: boolean): Promise<string> {
  switch (name) {
    case 'tensorflow':
      return loadTensorflow();
    case 'webgpu':
      return loadWebgpu(auto);
    case 'wasm':
      return loadWasm();
    case 'cpu':
      await activate('cpu');
      return `${cpuModel()}, cpu (pure JS)`;
  }
}

async function activate(name: string): Promise<void> {
  let ok = false;
  try {
    ok = await tf.setBackend(name);
    await tf.ready();
  } catch (err) {
    throw new Unavailable(`tfjs backend '${name}' failed to initialise: ${firstLine(err)}`);
  }
  if (!ok || tf.getBackend() !== name) throw new Unavailable(`tfjs backend '${name}' failed to initialise`);
}

function optionalRequire(): NodeRequire {
  return createRequire(path.join(repoRoot(), 'package.json'));
}

// --- tensorflow --------------------------------------------------------------------

async function loadTensorflow(): Promise<string> {
  const req = optionalRequire();
  const reasons: string[] = [];
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      req.resolve(pkg);
    } catch {
      reasons.push(`${pkg} not installed`);
      continue;
    }
    try {
      req(pkg); // registers the 'tensorflow' backend
    } catch (err) {
      reasons.push(`${pkg} failed to load: ${firstLine(err)}`);
      continue;
    }
    await activate('tensorflow');
    return `${pkg.endsWith('-gpu') ? 'libtensorflow (CUDA)' : 'libtensorflow (CPU)'} on ${cpuModel()}`;
  }
  throw new Unavailable(`${reasons.join('; ')} (optional: npm install @tensorflow/tfjs-node-gpu)`);
}

// --- webgpu ------------------------------------------------------------------------

interface GpuAdapterLike {
  info?: { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean };
  isFallbackAdapter?: boolean;
}
interface GpuLike {
  requestAdapter(options?: { powerPreference?: string }): Promise<GpuAdapterLike | null>;
}

let webgpuDevice: string | undefined;

async function loadWebgpu(auto: boolean): Promise<string> {
  if (tf.findBackendFactory('webgpu') && webgpuDevice && (await tf.setBackend('webgpu'))) return webgpuDevice;
  if (process.platform === 'linux' && !vulkanLoaderPresent()) {
    // Checked first: Dawn would print a native warning and return no adapter.
    throw new Unavailable('no Vulkan loader (libvulkan.so.1; Debian: apt-get install libvulkan1)');
  }
  // A bundle has no node_modules: REPRO_DAWN_NODE points at the dawn.node beside it.
  const dawn = process.env.REPRO_DAWN_NODE;
  if (dawn && !fs.existsSync(dawn)) {
    throw new Unavailable(`npm package webgpu (Dawn) failed to load: REPRO_DAWN_NODE=${dawn} does not exist (copy node_modules/webgpu/dist/linux-x64/dawn.node there)`);
  }
  // Asked in a child process first (lib/core/webgpu-probe.ts): what Dawn and a driver it
  // cannot use print from native code stays there; we say why in one line.
  const probe = probeAdapter();
  if (probe.error) throw new Unavailable(`npm package webgpu (Dawn) failed to load: ${probe.error}`);
  if (!probe.adapter) {
    throw new Unavailable(`Dawn found no WebGPU adapter it can use (${probe.said ? `Dawn: ${probe.said}` : 'no GPU, or no Vulkan driver/ICD'})`);
  }
  const probed = describeAdapter(probe.adapter);
  if (probed.software && auto) throw new Unavailable(`only a software adapter (${probed.name}): slower than wasm`);
  const req = optionalRequire();
  let gpu: GpuLike;
  try {
    const { create, globals } = req(dawn ?? 'webgpu') as { create: (flags: string[]) => GpuLike; globals: object };
    Object.assign(globalThis, globals);
    gpu = create([]);
  } catch (err) {
    throw new Unavailable(`npm package webgpu (Dawn) failed to load: ${firstLine(err)}`);
  }
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' }).catch(() => null);
  if (!adapter) throw new Unavailable('Dawn found no WebGPU adapter (no GPU, or no Vulkan driver/ICD)');
  const { name, software } = describeAdapter({ ...(adapter.info ?? {}), isFallbackAdapter: !!(adapter.isFallbackAdapter || adapter.info?.isFallbackAdapter) });
  if (software && auto) throw new Unavailable(`only a software adapter (${name}): slower than wasm`);
  // tfjs-backend-webgpu registers itself only if navigator.gpu exists when it is loaded.
  Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  try {
    // A literal import() so that esbuild inlines it into the bundle (lazily: it must run after navigator.gpu is set).
    await import('@tensorflow/tfjs-backend-webgpu');
  } catch (err) {
    throw new Unavailable(`@tensorflow/tfjs-backend-webgpu failed to load: ${firstLine(err)}`);
  }
  await activate('webgpu');
  return (webgpuDevice = `${name} (WebGPU via Dawn${software ? ', software' : ''})`);
}

function describeAdapter(info: AdapterInfo): { name: string; software: boolean } {
  const name = [info.vendor, info.device || info.description, info.architecture].filter(Boolean).join(' ') || 'unknown adapter';
  const software = info.isFallbackAdapter || /llvmpipe|lavapipe|swiftshader|software/i.test(`${info.device} ${info.description} ${info.architecture}`);
  return { name, software };
}

function vulkanLoaderPresent(): boolean {
  const dirs = [
    ...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean),
    '/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/lib/aarch64-linux-gnu', '/usr/lib/aarch64-linux-gnu',
    '/lib64', '/usr/lib64', '/lib', '/usr/lib', '/usr/local/lib',
  ];
  if (dirs.some((d) => fs.existsSync(path.join(d, 'libvulkan.so.1')))) return true;
  try {
    return fs.readFileSync('/etc/ld.so.cache').includes('libvulkan.so.1');
  } catch {
    return false;
  }
}

// --- wasm --------------------------------------------------------------------------

async function loadWasm(): Promise<string> {
  // REPRO_WASM_DIR: where the bundle unpacked the .wasm binaries it carries.
  const dist = process.env.REPRO_WASM_DIR ?? path.join(packageDir('@tensorflow/tfjs-backend-wasm'), 'dist');
  if (fs.existsSync(path.join(dist, 'tfjs-backend-wasm-simd.wasm'))) {
    // Explicit path, so a bundle that moved the JS still finds the binaries.
    try {
      tfWasm.setWasmPaths(dist + path.sep);
    } catch {
      // already initialised: the path no longer matters
    }
  }
  // tfjs' own loader always takes the single-threaded SIMD build in Node; threads come
  // from wasm-threads.ts instead.
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  registerWasmKernels();
  const threads = wasmThreadsRequested();
  let note = '';
  try {
    useWasmFactory(threads, dist);
    await activate('wasm');
  } catch (err) {
    if (threads === 1) throw err;
    // Threads are a speed-up, never a reason to lose wasm: fall back to one thread.
    note = ` (${threads} threads unavailable: ${firstLine(threadedInitError ?? err)})`;
    useWasmFactory(1, dist);
    await activate('wasm');
  }
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  return `${cpuModel()}, wasm ${simd ? 'SIMD' : 'no SIMD'}, ${activeWasmThreads === 1 ? '1 thread' : `${activeWasmThreads} threads`}${note}`;
}

/**
 * Threads of the wasm backend: REPRO_WASM_THREADS (a count, or 'all': one per core),
 * else DEFAULT_WASM_THREADS; at most MAX_WASM_THREADS. Results are bit-identical for
 * any count (test/core/wasm-threads.test.ts); only speed changes.
 */
export function wasmThreadsRequested(env: NodeJS.ProcessEnv = process.env): number {
  const text = env.REPRO_WASM_THREADS?.trim();
  const cores = os.cpus().length || 1;
  const wanted = !text ? DEFAULT_WASM_THREADS : text === 'all' ? cores : Number(text);
  if (!Number.isInteger(wanted) || wanted < 1) throw new BackendError(`REPRO_WASM_THREADS='${text}': expected a positive integer or 'all'`);
  return Math.min(wanted, MAX_WASM_THREADS);
}

/**
 * One thread by default: on the 2-core machine this was measured on (bench/README.md,
 * "Threads"), 2 threads lost to 1 whenever anything else ran, and the threaded build
 * costs 0.2–0.7 s of start-up per process. Opt in with REPRO_WASM_THREADS.
 */
const DEFAULT_WASM_THREADS = 1;

let activeWasmThreads: number | undefined;
/** Why the threaded factory failed (tf.setBackend only reports that it did). */
let threadedInitError: unknown;
let stockWasmFactory: (() => tf.KernelBackend | Promise<tf.KernelBackend>) | undefined;
const WASM_PRIORITY = 2; // tfjs-backend-wasm's own

/**
 * Registers the 'wasm' backend factory for this thread count: tfjs' own (1 thread) or
 * the threaded build. Changing the count re-creates the backend (its tensors are lost),
 * so choose it before the first wasm tensor.
 */
function useWasmFactory(threads: number, dist: string): void {
  stockWasmFactory ??= tf.findBackendFactory('wasm') ?? undefined;
  if (threads === (activeWasmThreads ?? 1) && tf.findBackendFactory('wasm')) {
    activeWasmThreads = threads;
    return;
  }
  if (!stockWasmFactory) throw new Unavailable('tfjs-backend-wasm did not register its backend');
  const threaded = path.join(dist, 'tfjs-backend-wasm-threaded-simd.wasm');
  if (threads > 1 && !fs.existsSync(threaded)) throw new Unavailable(`no ${threaded}`);
  tf.removeBackend('wasm');
  threadedInitError = undefined;
  const factory = async () => {
    try {
      return await createThreadedWasmBackend(threads, dist);
    } catch (err) {
      threadedInitError = err;
      throw err;
    }
  };
  tf.registerBackend('wasm', threads === 1 ? stockWasmFactory : factory, WASM_PRIORITY);
  activeWasmThreads = threads;
}

// -----------------------------------------------------------------------------------

function cpuModel(): string {
  const cpus = os.cpus();
  const model = cpus[0]?.model?.trim() || os.arch();
  return `${model} (${cpus.length} cores)`;
}

function firstLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0].trim();
}
