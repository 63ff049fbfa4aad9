import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { activeBackend, BACKEND_CHOICES, selectBackend } from '../../lib/core/backend';
import { BackendError } from '../../lib/core/errors';
import { repoRoot } from '../../lib/core/paths';
import { summariseDawnOutput } from '../../lib/core/webgpu-probe';

function installed(pkg: string): boolean {
  try {
    createRequire(path.join(repoRoot(), 'package.json')).resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

const hasTensorflow = installed('@tensorflow/tfjs-node-gpu') || installed('@tensorflow/tfjs-node');
const hasVulkan = ['/usr/lib/x86_64-linux-gnu', '/usr/lib64', '/usr/lib', ...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean)]
  .some((d) => fs.existsSync(path.join(d, 'libvulkan.so.1')));

test('an unknown backend is a BackendError that lists the choices', async () => {
  await assert.rejects(selectBackend('nonsense'), (e: unknown) => {
    assert.ok(e instanceof BackendError);
    assert.match(e.message, /'nonsense'/);
    for (const c of BACKEND_CHOICES) assert.ok(e.message.includes(c), `message names ${c}`);
    assert.ok(!e.message.includes('\n'), 'one line');
    return true;
  });
});

test('forcing tensorflow when it is not installed is a BackendError naming the package', { skip: hasTensorflow && 'tfjs-node is installed here' }, async () => {
  await assert.rejects(selectBackend('tensorflow'), (e: unknown) => {
    assert.ok(e instanceof BackendError);
    assert.match(e.message, /tensorflow/);
    assert.match(e.message, /@tensorflow\/tfjs-node-gpu not installed/);
    assert.match(e.message, /choices: auto, webgpu, wasm, cpu or tensorflow/);
    assert.ok(!e.message.includes('\n'), 'one line');
    return true;
  });
});

test('forcing webgpu without a Vulkan loader is a BackendError with the reason', { skip: hasVulkan && 'a Vulkan loader is installed here' }, async () => {
  await assert.rejects(selectBackend('webgpu'), (e: unknown) => {
    assert.ok(e instanceof BackendError);
    assert.match(e.message, /webgpu.*libvulkan\.so\.1/);
    return true;
  });
});

test('cpu can be selected, then wasm (twice is safe)', async () => {
  const cpu = await selectBackend('cpu');
  assert.equal(cpu.name, 'cpu');
  assert.equal(tf.getBackend(), 'cpu');
  assert.match(cpu.device, /pure JS/);
  const wasm = await selectBackend('wasm');
  assert.equal(wasm.name, 'wasm');
  assert.equal(tf.getBackend(), 'wasm');
  assert.match(wasm.device, /wasm/);
  assert.deepEqual(activeBackend(), wasm);
  const again = await selectBackend('cpu');
  assert.equal(again.name, 'cpu');
  assert.equal(tf.add(tf.scalar(1), tf.scalar(2)).dataSync()[0], 3);
});

test('auto picks the first backend that loads and logs why each faster one was skipped', async () => {
  const lines: string[] = [];
  const info = await selectBackend('auto', (l) => lines.push(l));
  assert.equal(tf.getBackend(), info.name);
  if (!hasTensorflow) {
    const tfSkip = info.skipped.find((s) => s.name === 'tensorflow');
    assert.ok(tfSkip, 'tensorflow is reported as skipped');
    assert.match(tfSkip.reason, /not installed/);
    assert.ok(lines.some((l) => /skipped tensorflow: .*not installed/.test(l)));
  }
  if (!hasVulkan) {
    // This machine (no GPU, no Vulkan loader): wasm.
    assert.equal(info.name, 'wasm');
    const gpuSkip = info.skipped.find((s) => s.name === 'webgpu');
    assert.ok(gpuSkip);
    assert.match(gpuSkip.reason, /Vulkan/);
    assert.ok(lines.some((l) => /skipped webgpu: .*Vulkan/.test(l)));
  }
  assert.ok(lines.some((l) => l.startsWith(`backend: ${info.name} (`)), 'the choice is logged');
});

test('a Vulkan driver Dawn cannot use (Mesa lavapipe): nothing leaks to stderr, one line says why webgpu was skipped', (t) => {
  // A stand-in dawn.node that prints what Dawn prints on a lavapipe-only machine, from
  // "native code" (fd 2 directly), and finds no adapter; and a Vulkan loader to be found.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-dawn-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'libvulkan.so.1'), '');
  fs.writeFileSync(
    path.join(dir, 'dawn.cjs'),
    `const fs = require('node:fs');
exports.globals = {};
exports.create = () => ({ requestAdapter: async () => {
  fs.writeSync(2, 'error: XDG_RUNTIME_DIR is invalid or not set in the environment.\\nWarning: Vulkan shaderUniform*ArrayDynamicIndexing required.\\n - While initializing adapter (backend=BackendType::Vulkan)\\n    at InitializeImpl (PhysicalDeviceVk.cpp:257)\\n');
  return null;
} });`,
  );
  const script = `const { selectBackend } = await import(${JSON.stringify(path.join(repoRoot(), 'lib', 'core', 'backend.ts'))});
const info = await selectBackend('auto', (l) => console.log(l));
console.log('picked ' + info.name);`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { ...process.env, REPRO_DAWN_NODE: path.join(dir, 'dawn.cjs'), LD_LIBRARY_PATH: dir },
  });
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /shaderUniform|XDG_RUNTIME_DIR|InitializeImpl/, 'nothing from Dawn on our stderr');
  const skip = r.stdout.split('\n').filter((l) => /skipped webgpu/.test(l));
  assert.deepEqual(skip, ['backend: skipped webgpu: Dawn found no WebGPU adapter it can use (Dawn: XDG_RUNTIME_DIR is invalid or not set in the environment; Vulkan shaderUniform*ArrayDynamicIndexing required)']);
  assert.match(r.stdout, /picked (wasm|tensorflow)/);
});

test("Dawn's output is summarised to its distinct messages, without stack lines", () => {
  assert.equal(summariseDawnOutput('Warning: A.\n - While x\n    at F (y:1)\nWarning: A.\nerror: B\n'), 'A; B');
  assert.equal(summariseDawnOutput(''), '');
});
