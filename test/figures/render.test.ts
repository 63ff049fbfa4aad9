import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UsageError } from '../../lib/core/errors';
import { repoRoot } from '../../lib/core/paths';
import type { FigureDef } from '../../lib/figures/types';
import { exportFigures, readPngText, readSvgProvenance, renderFigures, type Provenance } from '../../lib/figures/render';
import { addPngText, crc32, isPng, pngCrcsValid, pngSize } from '../../lib/figures/png-text';

const provenance: Provenance = {
  commit: '0123456789abcdef0123456789abcdef01234567',
  dirty: false,
  seeds: [1, 2, 3],
  configHash: 'c0ffee',
  backend: 'wasm',
  // Non-ASCII and XML-special characters must survive every container.
  device: 'CPU “Xeon” <2 cores> & µ-ops',
  command: 'npm run reproduce -- --only rer',
};

const line: FigureDef = {
  name: 'loss-curve',
  title: 'Training loss',
  spec: {
    data: { values: Array.from({ length: 30 }, (_, i) => ({ step: i * 10, loss: 2 / (1 + 0.3 * i), run: i % 2 ? 'sgd' : 'sgd-rer' })) },
    // clip: true makes vega emit a clipPath with a counter id: it must not depend on call history.
    mark: { type: 'line', clip: true },
    encoding: {
      x: { field: 'step', type: 'quantitative', title: 'step' },
      y: { field: 'loss', type: 'quantitative', title: 'training loss' },
      color: { field: 'run', type: 'nominal' },
    },
  },
};

const bar: FigureDef = {
  name: 'step-time',
  title: 'Step time per backend',
  spec: {
    data: { values: [{ backend: 'cpu', ms: 410 }, { backend: 'wasm', ms: 62 }, { backend: 'webgpu', ms: 9 }] },
    mark: 'bar',
    encoding: { x: { field: 'backend', type: 'nominal' }, y: { field: 'ms', type: 'quantitative', title: 'ms per step' } },
  },
};

function pointSpec(yTitle: string): FigureDef['spec'] {
  return {
    data: { values: [{ a: 1, b: 2 }, { a: 2, b: 3 }] },
    mark: 'point',
    encoding: { x: { field: 'a', type: 'quantitative' }, y: { field: 'b', type: 'quantitative', title: yTitle } },
  };
}

test('line and bar charts render to SVG + PNG with axis text and provenance', () => {
  const t0 = performance.now();
  const [l, b] = renderFigures([line, bar], provenance);
  const ms = performance.now() - t0;
  console.log(`renderFigures: 2 figures in ${ms.toFixed(0)} ms (one child process)`);

  assert.equal(l.name, 'loss-curve');
  assert.equal(b.title, 'Step time per backend');
  for (const f of [l, b]) {
    assert.match(f.svg, /^<svg /);
    assert.match(f.svg, /<\/svg>$/);
    assert.ok(isPng(f.png), 'PNG signature');
    assert.ok(pngCrcsValid(f.png), 'every PNG chunk CRC is right');
    // Provenance round-trips from all three containers.
    assert.deepEqual(JSON.parse(readPngText(f.png, 'provenance')!), provenance);
    assert.deepEqual(readSvgProvenance(f.svg), provenance);
    assert.deepEqual((f.spec as { usermeta?: { provenance?: unknown } }).usermeta?.provenance, provenance);
    assert.match(f.svg, /<desc>provenance: commit=0123456789abcdef0123456789abcdef01234567, dirty=false, seeds=1,2,3, /);
  }
  // Axis labels, axis titles and the figure title (taken from FigureDef.title) are real text.
  assert.match(l.svg, /<text[^>]*>training loss<\/text>/);
  assert.match(l.svg, /<text[^>]*>Training loss<\/text>/);
  assert.match(l.svg, /<text[^>]*>sgd-rer<\/text>/);
  assert.match(b.svg, /<text[^>]*>webgpu<\/text>/);
  assert.match(b.svg, /<text[^>]*>ms per step<\/text>/);
  // House defaults: a 480x300 plot area, the PNG at twice the SVG's size.
  assert.match(l.svg, /d="M0\.5,0\.5h480v300h-480Z"/);
  const svgSize = /width="(\d+)" height="(\d+)"/.exec(l.svg)!;
  assert.deepEqual(pngSize(l.png), { width: 2 * Number(svgSize[1]), height: 2 * Number(svgSize[2]) });
  // A spec's own config still wins over the defaults.
  const [narrow] = renderFigures([{ ...bar, spec: { ...bar.spec, config: { view: { continuousHeight: 120 } } } }], provenance);
  assert.match(narrow.svg, /h[\d.]+v120h/);
});

test('the same input gives byte-identical SVG and PNG, whatever else is in the call', () => {
  const first = renderFigures([line, bar], provenance);
  // A clipped figure before `line` would shift vega's clip counter if it were not reset.
  const again = renderFigures([bar, { ...line, name: 'other' }, line], provenance);
  assert.equal(again[2].svg, first[0].svg);
  assert.deepEqual(again[2].png, first[0].png);
  assert.equal(again[0].svg, first[1].svg);
  assert.deepEqual(again[0].png, first[1].png);
  assert.match(first[0].svg, /clip-path="url\(#clip1\)"/);
});

test('text is actually drawn in the PNG (a font is loaded)', () => {
  // Same layout, different glyphs: if resvg dropped the text the two PNGs would be equal.
  const [a, b] = renderFigures(
    [
      { name: 'a', title: '', spec: pointSpec('aaaa') },
      { name: 'b', title: '', spec: pointSpec('bbbb') },
    ],
    {},
  );
  assert.equal(a.svg.replace(/aaaa/g, 'bbbb'), b.svg);
  assert.notDeepEqual(a.png, b.png);
});

test('a spec vega-lite cannot compile fails with one line naming the figure', () => {
  const broken: FigureDef = { name: 'broken-fig', title: 'x', spec: { data: { values: [] }, mark: 'nonsense' } as unknown as FigureDef['spec'] };
  assert.throws(
    () => renderFigures([bar, broken], provenance),
    (e: Error) => e.message.includes("figure 'broken-fig'") && !e.message.includes('\n'),
  );
  const badExpr: FigureDef = {
    name: 'bad-expr',
    title: 'x',
    spec: { data: { values: [{ a: 1 }] }, transform: [{ calculate: 'datum.a +* 2', as: 'b' }], mark: 'point', encoding: { x: { field: 'b', type: 'quantitative' } } },
  };
  assert.throws(() => renderFigures([badExpr], provenance), /figure 'bad-expr': .*Unexpected token/);
});

test('vega-lite warnings reach stderr, once, naming the figure', () => {
  const spec = { ...bar.spec, encoding: { ...(bar.spec as { encoding: object }).encoding, foo: { field: 'ms' } } } as unknown as FigureDef['spec'];
  const written: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string | Uint8Array) => (written.push(String(chunk)), true)) as typeof process.stderr.write;
  try {
    renderFigures([{ name: 'warned', title: 'x', spec }], {});
  } finally {
    process.stderr.write = write;
  }
  assert.deepEqual(written, ["warning: figure 'warned': foo-encoding is dropped as foo is not a valid encoding channel.\n"]);
});

test('bad figure names are usage errors', () => {
  for (const name of ['Loss', 'loss_curve', '-x', '', 'a/b', '../x']) {
    assert.throws(() => renderFigures([{ ...bar, name }], provenance), UsageError, name);
  }
  assert.throws(() => renderFigures([bar, bar], provenance), /duplicate figure name 'step-time'/);
});

test('a missing render script is a clear error', () => {
  const saved = process.env.REPRO_RENDER_SCRIPT;
  process.env.REPRO_RENDER_SCRIPT = path.join(os.tmpdir(), 'no-such-dir', 'render-figures.mjs');
  try {
    assert.throws(() => renderFigures([bar], provenance), (e: Error) => e instanceof UsageError && /figure renderer not found at .*no-such-dir/.test(e.message));
  } finally {
    if (saved === undefined) delete process.env.REPRO_RENDER_SCRIPT;
    else process.env.REPRO_RENDER_SCRIPT = saved;
  }
});

test('a renderer that cannot find vega names the package and the install command', () => {
  // A copy of the script outside the repository has no node_modules to import from.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'figures-nomods-'));
  const saved = process.env.REPRO_RENDER_SCRIPT;
  try {
    const script = path.join(dir, 'render-figures.mjs');
    fs.copyFileSync(path.join(repoRoot(), 'lib', 'figures', 'render-figures.mjs'), script);
    process.env.REPRO_RENDER_SCRIPT = script;
    assert.throws(() => renderFigures([bar], provenance), (e: Error) => e instanceof UsageError && /package 'vega' is not installed: run `npm install`/.test(e.message));
  } finally {
    if (saved === undefined) delete process.env.REPRO_RENDER_SCRIPT;
    else process.env.REPRO_RENDER_SCRIPT = saved;
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('exportFigures writes exactly <name>.vl.json, .svg and .png', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'figures-test-'));
  try {
    const out = exportFigures(path.join(dir, 'figures'), [line, bar], provenance);
    assert.deepEqual(out, [
      { name: 'loss-curve', title: 'Training loss', files: { vl: 'loss-curve.vl.json', svg: 'loss-curve.svg', png: 'loss-curve.png' } },
      { name: 'step-time', title: 'Step time per backend', files: { vl: 'step-time.vl.json', svg: 'step-time.svg', png: 'step-time.png' } },
    ]);
    const fdir = path.join(dir, 'figures');
    assert.deepEqual(fs.readdirSync(fdir).sort(), ['loss-curve.png', 'loss-curve.svg', 'loss-curve.vl.json', 'step-time.png', 'step-time.svg', 'step-time.vl.json']);
    const vl = JSON.parse(fs.readFileSync(path.join(fdir, 'loss-curve.vl.json'), 'utf8'));
    assert.deepEqual(vl.usermeta.provenance, provenance);
    assert.equal(vl.title, 'Training loss');
    assert.match(vl.$schema, /vega-lite\/v6/);
    const png = new Uint8Array(fs.readFileSync(path.join(fdir, 'step-time.png')));
    assert.deepEqual(JSON.parse(readPngText(png, 'provenance')!), provenance);
    assert.deepEqual(readSvgProvenance(fs.readFileSync(path.join(fdir, 'step-time.svg'), 'utf8')), provenance);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('PNG text chunks: CRC, tEXt for Latin-1, iTXt for the rest', () => {
  // The CRC of "IEND" is fixed by the PNG spec.
  assert.equal(crc32(new TextEncoder().encode('IEND')), 0xae426082);
  const [f] = renderFigures([{ name: 'p', title: '', spec: pointSpec('y') }], {});
  const withText = addPngText(addPngText(f.png, 'Comment', 'plain latin-1 ü'), 'Note', 'utf-8 → ok');
  assert.ok(pngCrcsValid(withText));
  assert.equal(readPngText(withText, 'Comment'), 'plain latin-1 ü');
  assert.equal(readPngText(withText, 'Note'), 'utf-8 → ok');
  assert.equal(readPngText(withText, 'absent'), undefined);
  assert.throws(() => addPngText(f.png, '', 'x'), /keyword/);
  assert.throws(() => readPngText(new Uint8Array([1, 2, 3]), 'x'), /not a PNG/);
});
