import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TABLEAU10, vegaLiteToPlotly, type PlotlyFigure, type PlotlyTrace } from '../../lib/report/plotly-figures';

function convert(spec: unknown): PlotlyFigure {
  const r = vegaLiteToPlotly(spec);
  assert.ok(r.ok, r.ok ? '' : r.reason);
  return r.figure;
}

const byName = (f: PlotlyFigure, name: string): PlotlyTrace => {
  const t = f.data.find((d) => d.name === name);
  assert.ok(t, `no trace named '${name}' (have ${f.data.map((d) => d.name).join(', ')})`);
  return t;
};

test('a layered band + line spec (the RER shape): one filled range and one line per method, log axes, colours in sort order', () => {
  const rows = [
    { samples: 100, method: 'b', mean: 2, lo: 1, hi: 3 },
    { samples: 10, method: 'b', mean: 4, lo: 3, hi: 5 },
    { samples: 10, method: 'a', mean: 1, lo: 0.5, hi: 1.5 },
    { samples: 100, method: 'a', mean: 0.5, lo: 0.25, hi: 0.75 },
  ];
  const x = { field: 'samples', type: 'quantitative', scale: { type: 'log' }, title: 'samples T' };
  const color = { field: 'method', type: 'nominal', sort: ['b', 'a'] };
  const f = convert({
    title: 'Error vs samples',
    data: { values: rows },
    layer: [
      { mark: { type: 'area', opacity: 0.2 }, encoding: { x, y: { field: 'lo', type: 'quantitative', scale: { type: 'log' } }, y2: { field: 'hi' }, color } },
      { mark: { type: 'line', point: true }, encoding: { x, y: { field: 'mean', type: 'quantitative', scale: { type: 'log' }, title: 'error' }, color } },
    ],
  });
  assert.equal(f.data.length, 4);
  const lineB = byName(f, 'b');
  assert.equal(lineB.mode, 'lines+markers');
  assert.deepEqual(lineB.x, [10, 100], 'sorted by x');
  assert.deepEqual(lineB.y, [4, 2]);
  assert.equal((lineB.line as { color: string }).color, TABLEAU10[0], "'b' is first in the sort array");
  assert.equal((byName(f, 'a').line as { color: string }).color, TABLEAU10[1]);
  const band = byName(f, 'a (range)');
  assert.equal(band.fill, 'toself');
  assert.deepEqual(band.x, [10, 100, 100, 10]);
  assert.deepEqual(band.y, [1.5, 0.75, 0.25, 0.5], 'upper edge forward, lower edge back');
  assert.equal(band.legendgroup, byName(f, 'a').legendgroup, 'the band toggles with its line');
  assert.equal(band.showlegend, false);
  assert.equal((f.layout.xaxis as { type: string }).type, 'log');
  assert.equal((f.layout.yaxis as { type: string }).type, 'log');
  assert.deepEqual((f.layout.xaxis as { title: unknown }).title, { text: 'samples T' });
  assert.deepEqual(f.layout.title, { text: 'Error vs samples' });
});

test('rows with a seed field: the mean per series plus per-seed traces, hidden until clicked in the legend', () => {
  const values = [];
  for (const seed of [1, 2]) for (const method of ['m1', 'm2']) for (const step of [1, 2, 3]) values.push({ seed, method, step, loss: step * (method === 'm1' ? 1 : 10) + seed });
  const f = convert({ data: { values }, mark: 'line', encoding: { x: { field: 'step', type: 'quantitative' }, y: { field: 'loss', type: 'quantitative' }, color: { field: 'method', type: 'nominal' } } });
  const mean = byName(f, 'm1 (mean over 2 seeds)');
  assert.deepEqual(mean.x, [1, 2, 3]);
  assert.deepEqual(mean.y, [2.5, 3.5, 4.5], 'mean of seeds 1 and 2 at each step');
  assert.equal(mean.visible, undefined, 'the mean is shown');
  const s2 = byName(f, 'm2 · seed 2');
  assert.deepEqual(s2.y, [12, 22, 32]);
  assert.equal(s2.visible, 'legendonly');
  assert.equal(s2.legendgroup, 'seeds:m2');
  assert.equal(byName(f, 'm2 · seed 1').legendgroup, 'seeds:m2', "one legend group per series' seeds");
  assert.equal(f.data.length, 2 + 4);
});

test('a spec that draws each seed itself (detail: seed) keeps them visible next to the mean', () => {
  const values = [1, 2, 3].flatMap((seed) => [16, 32].map((context) => ({ seed, model: 'A', context, ms: context * seed })));
  const f = convert({
    data: { values },
    mark: { type: 'line', point: true },
    encoding: { x: { field: 'context', type: 'quantitative' }, y: { field: 'ms', type: 'quantitative' }, color: { field: 'model', type: 'nominal' }, detail: { field: 'seed', type: 'nominal' } },
  });
  assert.deepEqual(byName(f, 'A (mean over 3 seeds)').y, [32, 64]);
  assert.equal(byName(f, 'A · seed 3').visible, true);
});

test('an aggregate in the encoding is computed per x and series', () => {
  const values = [
    { x: 'p', g: 'u', v: 1 },
    { x: 'p', g: 'u', v: 3 },
    { x: 'q', g: 'u', v: 10 },
  ];
  const f = convert({ data: { values }, mark: 'bar', encoding: { x: { field: 'x', type: 'nominal' }, y: { field: 'v', type: 'quantitative', aggregate: 'mean' } } });
  assert.equal(f.data.length, 1);
  assert.equal(f.data[0].type, 'bar');
  assert.deepEqual(f.data[0].x, ['p', 'q']);
  assert.deepEqual(f.data[0].y, [2, 10]);
  assert.deepEqual((f.layout.yaxis as { title: unknown }).title, { text: 'Mean of v' });
  assert.equal((f.layout.xaxis as { type: string }).type, 'category');
});

test('bars: colour stacks, xOffset groups, a quantitative x over a nominal y lies horizontal', () => {
  const values = [
    { k: 'a', r: 'r1', v: 1 },
    { k: 'a', r: 'r2', v: 2 },
  ];
  const enc = { x: { field: 'k', type: 'ordinal' }, y: { field: 'v', type: 'quantitative' }, color: { field: 'r', type: 'nominal' } };
  assert.equal(convert({ data: { values }, mark: 'bar', encoding: enc }).layout.barmode, 'stack');
  const grouped = convert({ data: { values }, mark: 'bar', encoding: { ...enc, xOffset: { field: 'r' } } });
  assert.equal(grouped.layout.barmode, 'group');
  assert.equal(grouped.data.length, 2);
  const h = convert({ data: { values }, mark: 'bar', encoding: { y: { field: 'k', type: 'nominal' }, x: { field: 'v', type: 'quantitative' } } });
  assert.equal(h.data[0].orientation, 'h');
  assert.deepEqual(h.data[0].x, [1, 2]);
});

test('rules: a y datum becomes a reference line; x + y + y2 fields become error bars', () => {
  const values = [
    { m: 'a', v: 2, lo: 1, hi: 3 },
    { m: 'b', v: 4, lo: 3.5, hi: 4.5 },
  ];
  const f = convert({
    data: { values },
    layer: [
      { mark: 'point', encoding: { x: { field: 'm', type: 'nominal' }, y: { field: 'v', type: 'quantitative' } } },
      { mark: 'rule', encoding: { x: { field: 'm', type: 'nominal' }, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } } },
      { mark: 'rule', encoding: { y: { datum: 3 } } },
    ],
  });
  const bars = byName(f, 'range');
  assert.deepEqual(bars.x, ['a', 'a', null, 'b', 'b', null]);
  assert.deepEqual(bars.y, [1, 3, null, 3.5, 4.5, null]);
  const shapes = f.layout.shapes as { y0: unknown; xref: string }[];
  assert.equal(shapes.length, 1);
  assert.equal(shapes[0].y0, 3);
  assert.equal(shapes[0].xref, 'paper');
});

test('filter and fold transforms, strokeDash series and named datasets', () => {
  const f = convert({
    datasets: { d: [{ t: 1, a: 1, b: 2, keep: true }, { t: 2, a: 3, b: 4, keep: true }, { t: 3, a: 9, b: 9, keep: false }] },
    data: { name: 'd' },
    transform: [{ filter: { field: 'keep', equal: true } }, { fold: ['a', 'b'], as: ['which', 'val'] }],
    mark: 'line',
    encoding: { x: { field: 't', type: 'quantitative' }, y: { field: 'val', type: 'quantitative' }, strokeDash: { field: 'which', type: 'nominal' } },
  });
  assert.deepEqual(byName(f, 'a').y, [1, 3]);
  assert.deepEqual(byName(f, 'b').y, [2, 4]);
  assert.equal((byName(f, 'b').line as { dash: string }).dash, 'dash');
});

test('what is not converted says why, and never throws', () => {
  const values = [{ x: 1, y: 2 }];
  const cases: [unknown, RegExp][] = [
    [{ data: { values }, facet: { field: 'x' }, spec: { mark: 'line' } }, /facet/],
    [{ hconcat: [] }, /hconcat/],
    [{ data: { url: 'data.csv' }, mark: 'line', encoding: {} }, /url/],
    [{ data: { values }, mark: 'line', encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' }, row: { field: 'x' } } }, /row/],
    [{ data: { values }, transform: [{ calculate: 'datum.x * 2', as: 'z' }], mark: 'line' }, /transform/],
    ['not a spec', /object/],
    [{ data: { values }, mark: 'text', encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } } }, /no mark/],
  ];
  for (const [spec, why] of cases) {
    const r = vegaLiteToPlotly(spec);
    assert.equal(r.ok, false, JSON.stringify(spec));
    if (!r.ok) assert.match(r.reason, why);
  }
});

test('non-finite values become gaps (null), and hover text reads the axis titles', () => {
  const f = convert({ data: { values: [{ x: 1, y: NaN }, { x: 2, y: 3 }] }, mark: 'line', encoding: { x: { field: 'x', type: 'quantitative', title: 'step' }, y: { field: 'y', type: 'quantitative', title: 'loss <nats>' } } });
  assert.deepEqual(f.data[0].y, [null, 3]);
  assert.match(String(f.data[0].hovertemplate), /step: %\{x\}<br>loss &lt;nats&gt;: %\{y\}/);
});
