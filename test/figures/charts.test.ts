import { test } from 'node:test';
import assert from 'node:assert/strict';
import { barChart, lineChart } from '../../lib/figures/charts';

type Tip = { field: string; type?: string; format?: string };

function tooltipOf(spec: object): Tip[] {
  const s = spec as { layer?: { encoding?: { tooltip?: Tip[] } }[]; encoding?: { tooltip?: Tip[] } };
  const enc = s.layer ? s.layer.find((l) => l.encoding?.tooltip)?.encoding : s.encoding;
  return enc?.tooltip ?? [];
}

test('hover fields: numbers get 4 significant digits, names and seeds show as they are (a number format on a name reads NaN)', () => {
  const rows = [{ method: 'OLS', seed: 1, samples: 880, mean: 0.0673456, lo: 0.06, hi: 0.07, note: 'x' }];
  const line = lineChart({ title: 't', rows, x: { field: 'samples', title: 'n' }, y: { field: 'mean', title: 'err' }, color: { field: 'method' }, detail: 'seed', band: { lo: 'lo', hi: 'hi' }, tooltip: ['note'] });
  const tips = Object.fromEntries(tooltipOf(line).map((t) => [t.field, t]));
  assert.deepEqual(tips.method, { field: 'method', type: 'nominal' });
  assert.deepEqual(tips.seed, { field: 'seed', type: 'nominal' });
  assert.deepEqual(tips.note, { field: 'note', type: 'nominal' });
  for (const f of ['samples', 'mean', 'lo', 'hi']) assert.deepEqual(tips[f], { field: f, type: 'quantitative', format: '.4~g' });
  const bars = barChart({ title: 't', rows, x: { field: 'method', title: null }, y: { field: 'mean', title: 'err' } });
  assert.deepEqual(tooltipOf(bars).map((t) => t.type), ['nominal', 'quantitative']);
});
