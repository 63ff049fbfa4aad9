/**
 * The layering of ARCHITECTURE.md, enforced: every relative import in lib/, reproduce/
 * and bench/ points down the stack (or within its own folder), no paper imports another,
 * and there is no import cycle anywhere.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../lib/core/paths';

const root = repoRoot();

/** Lower rank = lower layer. A module may import from its own folder or a lower rank. */
const LAYERS: [string, number][] = [
  ['lib/core', 0],
  ['lib/nn', 1],
  ['lib/data', 1],
  ['lib/figures', 2],
  ['lib/harness', 3],
  ['lib/report', 4],
  ['lib/notebook', 5],
  ['lib/papers', 5],
  ['reproduce', 6],
  ['bench', 6],
];

function layerOf(file: string): { dir: string; rank: number } | undefined {
  for (const [dir, rank] of LAYERS) if (file === dir || file.startsWith(dir + '/')) return { dir, rank };
  return undefined;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(path.join(root, d), { withFileTypes: true })) {
      const rel = path.posix.join(d, e.name);
      if (e.isDirectory()) walk(rel);
      else if (/\.(ts|mjs|cjs)$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(rel);
    }
  };
  walk(dir);
  return out;
}

/** Relative imports of a file, resolved to repo-relative paths (with their extension). */
function importsOf(file: string): string[] {
  const text = fs.readFileSync(path.join(root, file), 'utf8');
  const specs = [...text.matchAll(/(?:^|[\s;])(?:import|export)\b[^'"]*?from\s*['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)|require\(\s*['"](\.[^'"]+)['"]\s*\)/gm)].map((m) => m[1] ?? m[2] ?? m[3]);
  return specs.map((spec) => {
    const base = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec));
    for (const cand of [base, `${base}.ts`, `${base}/index.ts`]) if (fs.existsSync(path.join(root, cand)) && fs.statSync(path.join(root, cand)).isFile()) return cand;
    return base;
  });
}

const FILES = ['lib', 'reproduce', 'bench'].flatMap(sourceFiles);
const GRAPH = new Map(FILES.map((f) => [f, importsOf(f)]));

test('the import scan sees the code (a scan that finds nothing proves nothing)', () => {
  assert.ok(FILES.length > 80, `${FILES.length} files`);
  assert.ok(GRAPH.get('lib/harness/runner.ts')!.includes('lib/harness/files.ts'));
  assert.ok(GRAPH.get('reproduce/main.ts')!.includes('lib/papers/registry.ts'));
});

test('every import points down the layers: core < nn, data < figures < harness < report < notebook, papers < reproduce, bench', () => {
  const bad: string[] = [];
  for (const [file, deps] of GRAPH) {
    const from = layerOf(file);
    if (!from) continue;
    for (const dep of deps) {
      const to = layerOf(dep);
      if (!to) continue;
      if (to.dir === from.dir) continue;
      if (to.rank >= from.rank) bad.push(`${file} -> ${dep} (${from.dir} may not import ${to.dir})`);
    }
  }
  assert.deepEqual(bad, []);
});

test('no paper imports another paper (lib/papers/registry.ts lists them all)', () => {
  const bad: string[] = [];
  for (const [file, deps] of GRAPH) {
    const m = /^lib\/papers\/([^/]+)\//.exec(file);
    if (!m) continue;
    for (const dep of deps) {
      const d = /^lib\/papers\/([^/]+)\//.exec(dep);
      if (d && d[1] !== m[1]) bad.push(`${file} -> ${dep}`);
    }
  }
  assert.deepEqual(bad, []);
});

/** Strongly connected components with more than one file (or a self-import): the cycles. */
function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}

test('no import cycle anywhere', () => {
  assert.deepEqual(cycles(GRAPH), []);
});

test('the cycle finder finds a cycle (so an empty answer means something)', () => {
  const g = new Map([
    ['a', ['b']],
    ['b', ['c']],
    ['c', ['a']],
    ['d', ['a']],
  ]);
  assert.deepEqual(cycles(g), [['a', 'b', 'c']]);
});

test('nothing in the repository points at a design document outside it', () => {
  const bad: string[] = [];
  const texts = [...FILES, ...sourceFiles('test'), 'README.md'];
  for (const f of texts) {
    const t = fs.readFileSync(path.join(root, f), 'utf8');
    if (f === 'test/architecture.test.ts') continue;
    if (/\.\.\/shared|DESIGN(\.md)?\s*§|PAPERS\.md/.test(t)) bad.push(f);
  }
  assert.deepEqual(bad, []);
});
