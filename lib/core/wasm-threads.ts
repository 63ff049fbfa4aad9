/**
 * tfjs-backend-wasm's threaded SIMD build, under Node.
 *
 * tfjs ships the build but never uses it in Node: its WASM_HAS_MULTITHREAD_SUPPORT flag
 * is false there, and its loader hands Emscripten the pthread worker script and the main
 * script as Blob URLs, which Node's worker_threads cannot start. Emscripten's runtime
 * itself supports Node (its workers are worker_threads). So this module creates the
 * backend the way tfjs' loader would, with three changes:
 *
 * 1. The worker script and the main script are written to files (once per content
 *    hash, in the temp directory) and given to Emscripten as paths.
 * 2. The thread count is exact: tfjs sizes XNNPACK's pool as min(requested, logical
 *    cores / 2, 8) (it halves for hyper-threading), which is 1 on a 2-core machine
 *    whatever is asked. Emscripten's instantiateWasm hook lets us answer its
 *    emscripten_num_logical_cores import with 2 x the requested count.
 * 3. Emscripten pre-starts a fixed pool of 8 workers (PTHREAD_POOL_SIZE), each a Node
 *    worker with its own copy of the runtime: about 2 s of start-up on a loaded 2-core
 *    machine. The factory's source (which tfjs already handles as text, for its Blob) is
 *    evaluated with the pool sized to the threads XNNPACK will take (count - 1: the
 *    calling thread works too). The workers start without this process' execArgv (a
 *    TypeScript loader would otherwise start in each), and the XNNPACK threads are
 *    unref'd so that a finished script exits.
 *
 * The SIMD kernels (wasm-kernels/) run on the shared heap unchanged, and split their
 * large products over their own worker pool (wasm-kernels/pool.ts), sized by the
 * KERNEL_THREADS tag this module puts on the backend.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import * as vm from 'node:vm';
import * as tfWasm from '@tensorflow/tfjs-backend-wasm';
import { KERNEL_THREADS } from './wasm-kernels/module';
import { wasmApi, type WasmInstance, type WasmModule } from './wasm-api';

/** Emscripten pthreads tfjs pre-creates (its PTHREAD_POOL_SIZE); tfjs never gives XNNPACK more. */
export const MAX_WASM_THREADS = 8;
/** The pool size in tfjs 4.22's threaded factory source (replaced; see 3. above). */
export const POOL_SIZE_SOURCE = 'var pthreadPoolSize=8;';

type Factory = (config: Record<string, unknown>) => Promise<EmscriptenModule>;
interface EmscriptenModule {
  cwrap(name: string, ret: string | null, args: string[]): (...args: number[]) => number;
  PThread?: { runningWorkers: { unref(): void }[] };
  [key: string]: unknown;
}

/**
 * A BackendWasm on the threaded SIMD build: `threads` (1..8) for the SIMD kernels'
 * pool (wasm-kernels/pool.ts: matMuls, GELU) and `xnnThreads` for XNNPACK (the
 * convolutions and tfjs' other XNNPACK ops). `wasmDir` holds
 * tfjs-backend-wasm-threaded-simd.wasm.
 */
export async function createThreadedWasmBackend(threads: number, wasmDir: string, xnnThreads = threads): Promise<tfWasm.BackendWasm> {
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_WASM_THREADS) throw new Error(`wasm threads must be an integer in 1..${MAX_WASM_THREADS}, got ${threads}`);
  // Literal imports, so that esbuild puts both into the bundle; loaded only when threads are used.
  const mainNs = (await import('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js')) as unknown as { default?: unknown };
  // @ts-ignore -- a CommonJS file without typings that exports one string (ts-expect-error would fail under tslab, whose settings find no error here).
  const workerNs = (await import('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js')) as { wasmWorkerContents?: string; default?: { wasmWorkerContents?: string } };
  const factory = (typeof mainNs === 'function' ? mainNs : mainNs.default) as Factory;
  const workerSource = workerNs.wasmWorkerContents ?? workerNs.default?.wasmWorkerContents;
  if (typeof factory !== 'function' || typeof workerSource !== 'string') throw new Error('tfjs-backend-wasm threaded build: factory or worker script not found');
  // The worker script is a JS template literal whose "\n" escapes became newlines; tfjs
  // escapes them back before making its Blob, and so do we.
  // If a tfjs version ever changes the line, the pool keeps its 8 workers: slower start only.
  // At least 1: Emscripten's start-up waits for the pool's workers to load and never
  // finishes with none.
  const source = factory.toString().replace(POOL_SIZE_SOURCE, `var pthreadPoolSize=${Math.max(1, xnnThreads - 1)};`);
  // esbuild (the bundle) renames the factory's require() calls to __require(): both
  // names are given, in the worker file and to the evaluated copy here.
  const files = writeOnce({
    'worker.cjs': workerSource.replace(/\n/g, '\\n'),
    // What tfjs puts in its main-script Blob: the factory's source under the global
    // name the worker calls.
    'main.cjs': `var __require = require;\nvar WasmBackendModuleThreadedSimd = ${source}`,
  });
  const main = files['main.cjs'];
  const req = createRequire(main);
  const sizedFactory = vm.runInThisContext(`(function (require, __require, __dirname, __filename) { return ${source}; })`, { filename: main })(req, req, path.dirname(main), main) as Factory;
  const wasmFile = path.join(wasmDir, 'tfjs-backend-wasm-threaded-simd.wasm');
  const binary = fs.readFileSync(wasmFile);

  const execArgv = process.execArgv;
  process.execArgv = []; // read by each worker_threads.Worker the factory creates (synchronously)
  let pending: Promise<EmscriptenModule>;
  try {
    pending = sizedFactory({
      locateFile: (file: string) => (file.endsWith('.worker.js') ? files['worker.cjs'] : file.endsWith('.wasm') ? wasmFile : file),
      mainScriptUrlOrBlob: main,
      instantiateWasm: (imports: { env: Record<string, unknown> }, receive: (instance: WasmInstance, module: WasmModule) => void) => {
        const env = { ...imports.env, emscripten_num_logical_cores: () => 2 * xnnThreads };
        wasmApi.instantiate(binary, { ...imports, env }).then((r) => receive(r.instance, r.module));
        return {};
      },
    });
  } finally {
    process.execArgv = execArgv;
  }
  const module = await pending;
  // As tfjs' own init() does.
  module.tfjs = {
    init: module.cwrap('init', null, []),
    initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', null, ['number']),
    dispose: module.cwrap('dispose', null, []),
  };
  tfWasm.setThreadsCount(xnnThreads);
  const backend = new tfWasm.BackendWasm(module as unknown as ConstructorParameters<typeof tfWasm.BackendWasm>[0]);
  const got = tfWasm.getThreadsCount();
  if (got !== xnnThreads) throw new Error(`tfjs-backend-wasm threaded build started ${got} threads, not ${xnnThreads}`);
  (backend as unknown as Record<symbol, number>)[KERNEL_THREADS] = threads;
  // XNNPACK's pool threads are running pthreads, which Emscripten ref()s: without this a
  // script would never exit. They wait on a futex between kernels.
  for (const worker of module.PThread?.runningWorkers ?? []) worker.unref();
  return backend;
}

/** Writes each file once per content hash into the temp directory (atomic renames: concurrent processes are safe). */
function writeOnce(files: Record<string, string>): Record<string, string> {
  const hash = crypto.createHash('sha256');
  for (const [name, text] of Object.entries(files)) hash.update(name).update(text);
  const dir = path.join(os.tmpdir(), 'ml-efficiency-repro-wasm-threads', hash.digest('hex').slice(0, 16));
  const paths: Record<string, string> = {};
  for (const [name, text] of Object.entries(files)) {
    const file = path.join(dir, name);
    paths[name] = file;
    if (fs.existsSync(file) && fs.readFileSync(file, 'utf8') === text) continue;
    fs.mkdirSync(dir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, file);
  }
  return paths;
}
