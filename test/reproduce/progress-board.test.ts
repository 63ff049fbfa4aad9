/**
 * The status line and its ETA (reproduce/progress-board.ts): weighted by expected cost and
 * laid out on the workers, scaled by how the machine does. Times are passed in: no clock.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { expectedCosts, measuredSeconds } from '../../reproduce/costs';
import { ProgressBoard } from '../../reproduce/progress-board';
import { fakePaper } from '../fixtures/fake-paper';
import { runFile } from '../fixtures/run-file';
import { tempDirFactory } from '../fixtures/temp-dirs';
import { PAPERS } from '../../lib/papers/registry';

const tempDir = tempDirFactory();
const jobs = (costs: number[]) => costs.map((cost, i) => ({ key: `j${i}`, label: `paper${i} seed 1`, cost }));

test('the ETA weights jobs by their expected cost and lays them on the workers', () => {
  // One 100 s job and three 10 s jobs on 2 workers: 100 s, not 4 jobs x the mean.
  const b = new ProgressBoard(jobs([100, 10, 10, 10]), 2, 0);
  assert.equal(b.eta(0), 100);
  const one = new ProgressBoard(jobs([100, 10, 10, 10]), 1, 0);
  assert.equal(one.eta(0), 130);
  // Running: the big job 40 s in, a small one done on time; the rest go to the free worker.
  b.start('j0', 0);
  b.start('j1', 0);
  b.finish('j1', 10);
  b.start('j2', 10);
  assert.equal(b.eta(40), 60);
});

test('the ETA scales expected costs by how this machine does', () => {
  const b = new ProgressBoard(jobs([10, 10, 10]), 1, 0);
  b.start('j0', 0);
  b.finish('j0', 20); // twice as slow as expected
  b.start('j1', 20);
  assert.equal(b.speed(25), 2);
  assert.equal(b.eta(25), 15 + 20);
  // Before any job finished, a running job that overran its estimate raises the scale.
  const c = new ProgressBoard(jobs([10, 10]), 1, 0);
  c.start('j0', 0);
  assert.equal(c.speed(5), 1);
  assert.equal(c.speed(30), 3);
  // Cached jobs cost nothing and do not count as evidence.
  const d = new ProgressBoard(jobs([10, 10]), 1, 0);
  d.finish('j0', undefined);
  assert.equal(d.eta(0), 10);
});

test('the status line shows every running job with its phase, done counts and the ETA', () => {
  const b = new ProgressBoard(jobs([100, 10, 10]), 2, 0);
  b.finish('j2', undefined);
  b.start('j0', 0);
  b.progress('j0', 'train', 3, 4);
  b.start('j1', 5);
  assert.equal(b.line(8), '[reproduce] 1/3 jobs done (1 cached); running: paper0 seed 1 train 75% (8.0s), paper1 seed 1 (3.0s); elapsed 8.0s, eta 1m32s');
});

test('expected costs: an earlier run in --out, else the paper or the registry table, else the median', () => {
  const out = tempDir('costs-');
  const dir = path.join(out, 'fake', 'quick');
  fs.mkdirSync(dir, { recursive: true });
  assert.equal(measuredSeconds(dir), undefined);
  const machine = { cores: 2, loadBefore: 0, loadAfter: 0, peakRssMiB: 1, cpuSeconds: 1, timed: [] };
  const job = (seed: number, wallSeconds: number) => ({ seed, startedAt: '', endedAt: '', wallSeconds, backend: 'cpu', device: 'x', machine });
  fs.writeFileSync(path.join(dir, 'run.json'), JSON.stringify(runFile('fake', { jobs: [job(1, 4), job(2, 6)] })));
  assert.equal(measuredSeconds(dir), 5);
  const rer = PAPERS.find((p) => p.id === 'rer')!;
  const flash = PAPERS.find((p) => p.id === 'flash')!;
  const costs = expectedCosts([rer, flash, fakePaper], 'quick', out);
  assert.equal(costs.get('fake'), 5, 'measured here');
  assert.equal(costs.get('rer'), 10, 'the registry table');
  assert.equal(costs.get('flash'), 143);
  const unknown = expectedCosts([rer, flash, { ...fakePaper, id: 'nobody' }], 'paper', out);
  assert.deepEqual([...unknown.values()], [10, 10, 10], 'nothing known at paper: 10 s each');
  assert.equal(expectedCosts([rer, flash, { ...fakePaper, id: 'new' }], 'quick', out).get('new'), 143, 'the median of the known');
});
