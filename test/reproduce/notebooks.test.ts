/**
 * The fast parts of the notebook tooling: `npm run notebooks` argument parsing, the
 * kernelspec we register, the Jupyter environment, and notebook stripping. Running a
 * real kernel (seconds) is left to `npm run notebooks` itself.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { UsageError } from '../../lib/core/errors';
import { repoRoot } from '../../lib/core/paths';
import { DEFAULT_CELL_TIMEOUT_S, defaultNotebooks, parseNotebooksArgs } from '../../reproduce/notebook-options';
import { KERNEL_NAME, jupyterDataPath, jupyterEnv, kernelSpec, kernelSpecFile, writeKernelSpecs } from '../../reproduce/jupyter-kernel';
import { injectParameters, NOTEBOOK_KERNELSPEC, notebookProblems, serializeNotebook, stripNotebook, type Notebook } from '../../reproduce/notebook-format';

/** A throwaway root with notebooks/{b,a}.ipynb plus files that are not notebooks to run. */
const tempRoots: string[] = [];
after(() => tempRoots.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function tempRoot(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nb-test-'));
  tempRoots.push(root);
  fs.mkdirSync(path.join(root, 'notebooks'));
  for (const f of ['b.ipynb', 'a.ipynb', '.hidden.ipynb', 'notes.md']) fs.writeFileSync(path.join(root, 'notebooks', f), '{}');
  return root;
}

function usageMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof UsageError, `expected a UsageError, got ${String(e)}`);
    assert.ok(!e.message.includes('\n'), 'usage errors are one line');
    return e.message;
  }
  assert.fail('expected a UsageError');
}

test('defaults: every notebooks/*.ipynb by name, smoke profile, copies under results/notebooks', () => {
  const root = tempRoot();
  const o = parseNotebooksArgs([], root);
  assert.deepEqual(o.notebooks, [path.join(root, 'notebooks', 'a.ipynb'), path.join(root, 'notebooks', 'b.ipynb')]);
  assert.deepEqual(defaultNotebooks(root), o.notebooks);
  assert.equal(o.profile, 'smoke');
  assert.equal(o.timeoutS, DEFAULT_CELL_TIMEOUT_S.smoke);
  assert.equal(o.outDir, path.join(root, 'results', 'notebooks'));
  assert.equal(o.help, false);
});

test('options: profile sets the default timeout, --timeout overrides it, --no-save drops copies', () => {
  const root = tempRoot();
  assert.equal(parseNotebooksArgs(['--profile', 'quick'], root).timeoutS, DEFAULT_CELL_TIMEOUT_S.quick);
  assert.equal(parseNotebooksArgs(['--profile=full', '--timeout', '0'], root).timeoutS, 0);
  assert.equal(parseNotebooksArgs(['--timeout', '42.5'], root).timeoutS, 42.5);
  assert.equal(parseNotebooksArgs(['--no-save'], root).outDir, undefined);
  assert.equal(parseNotebooksArgs(['--out', 'x'], root, '/elsewhere').outDir, path.resolve('/elsewhere', 'x'));
  assert.equal(parseNotebooksArgs(['-h'], root).help, true);
});

test('notebook paths resolve against where the command was typed, in the order given', () => {
  const root = tempRoot();
  const o = parseNotebooksArgs(['b.ipynb', 'a.ipynb'], root, path.join(root, 'notebooks'));
  assert.deepEqual(o.notebooks, [path.join(root, 'notebooks', 'b.ipynb'), path.join(root, 'notebooks', 'a.ipynb')]);
});

test('a notebook of ours can be named without its folder and number', () => {
  const root = tempRoot();
  fs.writeFileSync(path.join(root, 'notebooks', '02-flash.ipynb'), '{}');
  const want = [path.join(root, 'notebooks', '02-flash.ipynb')];
  assert.deepEqual(parseNotebooksArgs(['02-flash'], root, os.tmpdir()).notebooks, want);
  assert.deepEqual(parseNotebooksArgs(['flash'], root, os.tmpdir()).notebooks, want);
});

test('bad usage is a one-line UsageError naming the bad value', () => {
  const root = tempRoot();
  assert.match(usageMessage(() => parseNotebooksArgs(['--profile', 'huge'], root)), /'huge'.*smoke, quick, full or paper/);
  assert.match(usageMessage(() => parseNotebooksArgs(['missing.ipynb'], root)), /'missing\.ipynb' does not exist; ours: a, b \(or a path/);
  assert.match(usageMessage(() => parseNotebooksArgs(['notebooks/notes.md'], root)), /'notebooks\/notes\.md' is not a notebook/);
  assert.match(usageMessage(() => parseNotebooksArgs(['--timeout', 'soon'], root)), /'soon'/);
  assert.match(usageMessage(() => parseNotebooksArgs(['--timeout=-1'], root)), /'-1'/);
  assert.match(usageMessage(() => parseNotebooksArgs(['--bogus'], root)), /--bogus.*--profile/);
  assert.match(usageMessage(() => parseNotebooksArgs(['--out', 'x', '--no-save'], root)), /--out and --no-save/);
  assert.match(usageMessage(() => parseNotebooksArgs(['--out', 'notebooks'], root)), /would overwrite/);
});

test('the kernelspec starts our wrapper with node and the connection file', () => {
  const spec = kernelSpec('/repo', '/opt/node/bin/node');
  assert.deepEqual(spec.argv, ['/opt/node/bin/node', path.join('/repo', 'reproduce', 'tslab-kernel.cjs'), '{connection_file}']);
  assert.equal(spec.language, 'typescript');
  assert.equal(spec.display_name, NOTEBOOK_KERNELSPEC.display_name);
  assert.deepEqual(kernelSpec('/repo', 'node', true).argv.slice(2), ['--js', '{connection_file}']);
  assert.ok(fs.existsSync(kernelSpec(repoRoot(), process.execPath).argv[1]), 'the wrapper the kernelspec names exists');
});

test('writeKernelSpecs writes kernel.json under .jupyter/ and leaves an unchanged one alone', () => {
  const root = tempRoot();
  const file = writeKernelSpecs(root, '/usr/bin/node');
  assert.equal(file, path.join(root, '.jupyter', 'share', 'jupyter', 'kernels', KERNEL_NAME, 'kernel.json'));
  assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')), kernelSpec(root, '/usr/bin/node'));
  assert.deepEqual(JSON.parse(fs.readFileSync(kernelSpecFile(root, 'jslab'), 'utf8')).argv.slice(2), ['--js', '{connection_file}']);
  const inode = fs.statSync(file).ino;
  writeKernelSpecs(root, '/usr/bin/node');
  assert.equal(fs.statSync(file).ino, inode, 'same content: not rewritten');
  writeKernelSpecs(root, '/other/node');
  assert.equal(JSON.parse(fs.readFileSync(file, 'utf8')).argv[0], '/other/node');
});

test('jupyterEnv puts our kernels first on JUPYTER_PATH and keeps runtime files in the tree', () => {
  const root = '/repo';
  const env = jupyterEnv(root, { JUPYTER_PATH: ['/a', jupyterDataPath(root), '/b'].join(path.delimiter), HOME: '/h' });
  assert.equal(env.JUPYTER_PATH, [jupyterDataPath(root), '/a', '/b'].join(path.delimiter));
  assert.equal(env.JUPYTER_RUNTIME_DIR, path.join(root, '.jupyter-runtime'));
  assert.equal(env.HOME, '/h');
  assert.equal(jupyterEnv(root, {}).JUPYTER_PATH, jupyterDataPath(root));
  assert.equal(jupyterEnv(root, { JUPYTER_RUNTIME_DIR: '/run/j' }).JUPYTER_RUNTIME_DIR, '/run/j');
});

test('the kernel wrapper refuses to start without a connection file', () => {
  const r = spawnSync(process.execPath, [path.join(repoRoot(), 'reproduce', 'tslab-kernel.cjs')], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /usage: .*connection_file/);
});

test('stripNotebook clears outputs, counts and transient metadata, keeps the rest', () => {
  const nb: Notebook = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: 'python3', language: 'python' }, widgets: {}, language_info: { name: 'typescript' } },
    cells: [
      { cell_type: 'markdown', source: '# t', metadata: { tags: ['x'] } },
      { cell_type: 'code', source: ['a\n', 'b'], metadata: { execution: { x: 1 }, scrolled: true, tags: ['y'] }, execution_count: 3, outputs: [{}] },
    ],
  };
  assert.equal(notebookProblems(nb).length, 7);
  const s = stripNotebook(nb);
  assert.deepEqual(notebookProblems(s), []);
  assert.deepEqual(s.metadata, { kernelspec: { ...NOTEBOOK_KERNELSPEC }, language_info: { name: 'typescript' } });
  assert.deepEqual(s.cells[1], { cell_type: 'code', source: ['a\n', 'b'], metadata: { tags: ['y'] }, execution_count: null, outputs: [] });
  assert.deepEqual(s.cells[0], nb.cells[0]);
  assert.equal(nb.cells[1].execution_count, 3, 'the input is not modified');
});

test('serializeNotebook writes as nbformat does: sorted keys, one-space indent, final newline', () => {
  const text = serializeNotebook({ nbformat_minor: 5, nbformat: 4, metadata: { z: 1, a: [] }, cells: [] });
  assert.equal(text, '{\n "cells": [],\n "metadata": {\n  "a": [],\n  "z": 1\n },\n "nbformat": 4,\n "nbformat_minor": 5\n}\n');
});

test('parameters are injected papermill-style right after the cell tagged parameters, and a notebook without one is refused', () => {
  const nb = {
    cells: [
      { cell_type: 'markdown', metadata: {}, source: ['# t'] },
      { cell_type: 'code', metadata: { tags: ['parameters'] }, source: ["let profile = 'quick';"], outputs: [], execution_count: null },
      { cell_type: 'code', metadata: {}, source: ['run()'], outputs: [], execution_count: null },
    ],
    metadata: {},
    nbformat: 4,
    nbformat_minor: 5,
  };
  const out = injectParameters(nb, { profile: 'smoke', seeds: [1, 2] }, 'x.ipynb');
  assert.equal(out.cells.length, 4);
  assert.deepEqual(out.cells[2].metadata, { tags: ['injected-parameters'] });
  assert.equal([out.cells[2].source].flat().join(''), '// Injected after the parameters cell (papermill-style).\nprofile = "smoke";\nseeds = [1,2];');
  assert.equal(nb.cells.length, 3, 'the original is not changed');
  assert.throws(() => injectParameters({ ...nb, cells: [nb.cells[0]] }, { profile: 'smoke' }, 'y.ipynb'), /y\.ipynb has no code cell tagged 'parameters'/);
});
