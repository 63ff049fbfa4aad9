/**
 * Entry point of the self-contained bundle (dist/reproduce.mjs, built by
 * reproduce/bundle/build.mjs). A GPU server has node and the dawn.node binary but no npm
 * and no network, so everything else travels inside this one file: the CLI, the figure
 * renderer (the bundle re-runs itself with REPRO_RENDER_CHILD=1), the job workers of --jobs N
 * (re-runs itself with REPRO_WORKER_CHILD=1), the tfjs wasm binaries and
 * resvg's native addon (both unpacked once into a cache folder, keyed by their hash).
 *
 * Beside the bundle, optionally: dawn.node (WebGPU), data/ (sotu/, mnist/, fashion-mnist/).
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import wasmPlain from '../../node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm';
import wasmSimd from '../../node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm';
import wasmThreaded from '../../node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm';
import resvgAddon from '../../node_modules/@resvg/resvg-js-linux-x64-gnu/resvgjs.linux-x64-gnu.node';

const here = path.dirname(fileURLToPath(import.meta.url));
const env = process.env;

/** Writes the embedded binaries once per content hash; concurrent shards race safely (rename). */
function unpack(files) {
  const hash = crypto.createHash('sha256');
  for (const [name, bytes] of Object.entries(files)) hash.update(name).update(bytes);
  const dir = path.join(env.REPRO_BUNDLE_CACHE ?? path.join(os.tmpdir(), 'ml-efficiency-repro-bundle'), hash.digest('hex').slice(0, 16));
  for (const [name, bytes] of Object.entries(files)) {
    const file = path.join(dir, name);
    if (fs.existsSync(file) && fs.statSync(file).size === bytes.length) continue;
    fs.mkdirSync(dir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, bytes);
    fs.renameSync(tmp, file);
  }
  return dir;
}

const assets = unpack({
  'tfjs-backend-wasm.wasm': wasmPlain,
  'tfjs-backend-wasm-simd.wasm': wasmSimd,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded,
  'resvgjs.linux-x64-gnu.node': resvgAddon,
});
env.REPRO_WASM_DIR ??= assets;
env.REPRO_RESVG_NODE ??= path.join(assets, 'resvgjs.linux-x64-gnu.node');
env.REPRO_RENDER_SCRIPT ??= fileURLToPath(import.meta.url);
env.REPRO_WORKER_SCRIPT ??= fileURLToPath(import.meta.url);
if (!env.REPRO_DAWN_NODE && fs.existsSync(path.join(here, 'dawn.node'))) env.REPRO_DAWN_NODE = path.join(here, 'dawn.node');
if (!env.REPRO_DATA && fs.existsSync(path.join(here, 'data'))) env.REPRO_DATA = path.join(here, 'data');
// Stamped at build time (see build.mjs): there is no .git and no node_modules here.
env.REPRO_GIT_COMMIT ??= __REPRO_GIT_COMMIT__;
env.REPRO_GIT_DIRTY ??= __REPRO_GIT_DIRTY__;
env.REPRO_PACKAGE_VERSIONS ??= __REPRO_PACKAGE_VERSIONS__;
env.REPRO_CODE_FINGERPRINTS ??= __REPRO_CODE_FINGERPRINTS__;

if (env.REPRO_RENDER_CHILD === '1') {
  await import('../../lib/figures/render-figures.mjs');
} else if (env.REPRO_WORKER_CHILD === '1') {
  await import('../parallel/worker');
} else {
  await import('../cli');
}
