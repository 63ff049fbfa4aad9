/**
 * The committed kernel module (binary.ts) is what build.ts makes from assembly/, and it
 * is safe to instantiate on tfjs' heap: its only import is the memory, it has no data
 * segment and no start function (either would write into or run on tfjs' memory).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KERNELS_WASM_BASE64 } from '../../../lib/core/wasm-kernels/binary';
import { compileVariant, renderBinaryModule } from '../../../lib/core/wasm-kernels/build';
import { decodeBase64 } from '../../../lib/core/wasm-kernels/module';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../../../lib/core/paths';

/** Section ids present in a wasm binary. */
function sectionIds(bytes: Uint8Array): number[] {
  assert.deepEqual(Array.from(bytes.subarray(0, 8)), [0, 0x61, 0x73, 0x6d, 1, 0, 0, 0], 'wasm magic and version 1');
  const ids: number[] = [];
  let p = 8;
  while (p < bytes.length) {
    const id = bytes[p++];
    let size = 0;
    for (let shift = 0; ; shift += 7) {
      const b = bytes[p++];
      size |= (b & 0x7f) << shift;
      if (!(b & 0x80)) break;
    }
    ids.push(id);
    p += size;
  }
  return ids;
}

const DATA = 11;
const DATA_COUNT = 12;
const START = 8;

for (const variant of ['plain', 'shared'] as const) {
  test(`the ${variant} module imports only a ${variant === 'shared' ? 'shared ' : ''}memory and has no data segment or start function`, () => {
    const bytes = new Uint8Array(decodeBase64(KERNELS_WASM_BASE64[variant]));
    const ids = sectionIds(bytes);
    for (const id of [DATA, DATA_COUNT, START]) assert.ok(!ids.includes(id), `section ${id} present`);
    const module = new WebAssembly.Module(bytes);
    assert.deepEqual(WebAssembly.Module.imports(module), [{ module: 'env', name: 'memory', kind: 'memory' }]);
    const memory = new WebAssembly.Memory(variant === 'shared' ? { initial: 1, maximum: 65536, shared: true } : { initial: 1 });
    new WebAssembly.Instance(module, { env: { memory } }); // accepts this kind of memory
    const other = new WebAssembly.Memory(variant === 'shared' ? { initial: 1 } : { initial: 1, maximum: 65536, shared: true });
    assert.throws(() => new WebAssembly.Instance(module, { env: { memory: other } }), WebAssembly.LinkError);
  });
}

test('rebuilding the kernel module from assembly/ gives the committed bytes', { timeout: 300_000 }, async () => {
  const builds = { plain: await compileVariant('plain'), shared: await compileVariant('shared') };
  assert.equal(Buffer.from(builds.plain).toString('base64'), KERNELS_WASM_BASE64.plain, 'plain variant: run npm run build:kernels');
  assert.equal(Buffer.from(builds.shared).toString('base64'), KERNELS_WASM_BASE64.shared, 'shared variant: run npm run build:kernels');
  assert.equal(renderBinaryModule(builds), fs.readFileSync(path.join(repoRoot(), 'lib/core/wasm-kernels/binary.ts'), 'utf8'));
});
