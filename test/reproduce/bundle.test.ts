import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, test } from 'node:test';
import { repoRoot } from '../../lib/core/paths';
import { tempDirFactory } from '../fixtures/temp-dirs';

// The bundle must run with nothing but node beside it: it is copied alone into an empty
// folder (no node_modules, no package.json, no .git above it) before it is run.
const tempDir = tempDirFactory();
let bundleDir = '';
let lonely = '';

function runBundle(args: string[], env: NodeJS.ProcessEnv = {}) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REPRO_')));
  return spawnSync(process.execPath, [path.join(lonely, 'reproduce.mjs'), ...args], {
    cwd: lonely,
    encoding: 'utf8',
    env: { ...clean, REPRO_BUNDLE_CACHE: path.join(bundleDir, 'cache'), ...env },
  });
}

before(() => {
  bundleDir = tempDir('bundle-build-');
  execFileSync(process.execPath, [path.join(repoRoot(), 'reproduce', 'bundle', 'build.mjs'), '--out', bundleDir], { cwd: repoRoot(), stdio: 'pipe' });
  lonely = tempDir('bundle-run-');
  fs.copyFileSync(path.join(bundleDir, 'reproduce.mjs'), path.join(lonely, 'reproduce.mjs'));
});

test('the bundle alone runs a paper end to end: claims, figures rendered by itself, stamped provenance', () => {
  const r = runBundle(['--only', 'rer', '--profile', 'smoke', '--backend', 'cpu', '--out', 'out', '--quiet']);
  assert.equal(r.status, 0, r.stderr);
  const dir = path.join(lonely, 'out', 'rer', 'smoke');
  const claims = JSON.parse(fs.readFileSync(path.join(dir, 'claims.json'), 'utf8'));
  assert.ok(Array.isArray(claims.claims ?? claims));
  const svg = fs.readFileSync(path.join(dir, 'figures', 'rer-linsys-error.svg'), 'utf8');
  assert.match(svg, /^<svg/);
  assert.ok(fs.statSync(path.join(dir, 'figures', 'rer-linsys-error.png')).size > 1000);
  const run = JSON.parse(fs.readFileSync(path.join(dir, 'run.json'), 'utf8'));
  assert.match(run.git.commit, /^[0-9a-f]{40}$/, 'commit stamped at bundle time');
  assert.equal(run.packages['@tensorflow/tfjs'], '4.22.0', 'package versions stamped at bundle time');
  assert.equal(run.backend.name, 'cpu');
});

test('the bundle runs parallel jobs by re-running itself as a worker (--jobs 2)', () => {
  const r = runBundle(['--only', 'rer', '--profile', 'smoke', '--seeds', '1,2', '--backend', 'cpu', '--out', 'out-jobs', '--jobs', '2']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /2 job\(s\) on 2 worker processes/);
  const run = JSON.parse(fs.readFileSync(path.join(lonely, 'out-jobs', 'rer', 'smoke', 'run.json'), 'utf8'));
  assert.deepEqual(run.jobs.map((j: { seed: number }) => j.seed), [1, 2]);
});

test('the bundle unpacks its wasm binaries and runs on the wasm backend', () => {
  const r = runBundle(['--only', 'rer', '--profile', 'smoke', '--backend', 'wasm', '--out', 'out-wasm', '--quiet']);
  assert.equal(r.status, 0, r.stderr);
  const run = JSON.parse(fs.readFileSync(path.join(lonely, 'out-wasm', 'rer', 'smoke', 'run.json'), 'utf8'));
  assert.equal(run.backend.name, 'wasm');
});

test('the bundle runs the threaded wasm build, with the numbers of one thread', () => {
  const r = runBundle(['--only', 'rer', '--profile', 'smoke', '--backend', 'wasm', '--out', 'out-wasm-2', '--quiet'], { REPRO_WASM_THREADS: '2' });
  assert.equal(r.status, 0, r.stderr);
  const dir = (out: string) => path.join(lonely, out, 'rer', 'smoke');
  const run = JSON.parse(fs.readFileSync(path.join(dir('out-wasm-2'), 'run.json'), 'utf8'));
  assert.match(run.backend.device, /wasm SIMD, 2 threads$/);
  assert.equal(fs.readFileSync(path.join(dir('out-wasm-2'), 'metrics.jsonl'), 'utf8'), fs.readFileSync(path.join(dir('out-wasm'), 'metrics.jsonl'), 'utf8'));
});

test('the bundle reads datasets from --data DIR and rejects a missing one in one line', () => {
  const bad = runBundle(['--data', 'no-such-dir', '--list']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr.trim(), /^reproduce: bad --data 'no-such-dir': not a directory/);
  assert.equal(bad.stderr.trim().split('\n').length, 1);
  const ok = runBundle(['--data', '.', '--list']);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /^rer /m);
});

test('webgpu through the bundle fails with a reason when no adapter or dawn.node is there', () => {
  const r = runBundle(['--only', 'rer', '--profile', 'smoke', '--backend', 'webgpu', '--out', 'out-gpu'], { REPRO_DAWN_NODE: path.join(lonely, 'missing-dawn.node') });
  if (r.status === 0) return; // a machine with a GPU, Vulkan and dawn.node beside the bundle
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /backend 'webgpu' is not available: /);
  assert.ok(!fs.existsSync(path.join(lonely, 'out-gpu', 'rer')), 'no results written for a backend that did not load');
});
