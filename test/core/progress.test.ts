import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, Progress } from '../../lib/core/progress';

test('durations read naturally', () => {
  assert.equal(formatDuration(3.21), '3.2s');
  assert.equal(formatDuration(42), '42s');
  assert.equal(formatDuration(125), '2m05s');
  assert.equal(formatDuration(7260), '2h01m');
  assert.equal(formatDuration(NaN), '?');
});

test('progress prints label, fraction and ETA, throttled, and always the last tick', () => {
  const lines: string[] = [];
  const p = new Progress({ label: 'rer seed 1', total: 4, everyMs: 60_000, write: (l) => lines.push(l) });
  p.tick(1, 'loss 0.5');
  p.tick(1);
  p.tick(1);
  assert.equal(lines.length, 1, 'throttled after the first line');
  assert.match(lines[0], /^\[rer seed 1\] {2}25% 1\/4 elapsed \S+ eta \S+ loss 0\.5$/);
  p.tick(1);
  assert.equal(lines.length, 2);
  assert.match(lines[1], /100% 4\/4 .* eta 0\.0s$/);
});

test('quiet progress prints nothing', () => {
  const lines: string[] = [];
  const p = new Progress({ label: 'x', total: 2, quiet: true, write: (l) => lines.push(l) });
  p.tick(2);
  assert.deepEqual(lines, []);
});
