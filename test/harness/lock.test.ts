/**
 * The pre-registration lock: the registered claims and claims.lock.json must agree (the
 * gate), and the lock records every change with its reason.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import type { Claim } from '../../lib/harness/contract';
import { lockDifferences, lockPath, readLock, updateLock } from '../../lib/harness/lock';
import { PAPERS } from '../../lib/papers/registry';
import { runLock } from '../../reproduce/lock';

const registered = PAPERS.flatMap((p) => p.claims.map((claim) => ({ paper: p.id, claim })));

test('every registered claim agrees with claims.lock.json (change a tolerance, kind or expectation only through `npm run lock -- --why ...`)', () => {
  const diffs = lockDifferences(registered, readLock());
  assert.deepEqual(
    diffs.map((d) => `${d.id}: ${d.field} ${JSON.stringify(d.from)} -> ${JSON.stringify(d.to)}`),
    [],
    'run: npm run lock -- --why "what changed and why" --results-seen yes|no',
  );
  const lock = readLock()!;
  for (const { claim } of registered) assert.ok(lock.claims[claim.id].history.length > 0, `${claim.id} has a history`);
});

const base: Claim<number> = {
  id: 'x-claim',
  kind: 'paper',
  paper: 'arXiv:0000.00000',
  source: 'Fig. 1',
  statement: 's',
  paperValue: '2x',
  measures: 'm',
  falsifiedBy: 'below 2',
  metric: (r) => r,
  expect: { atLeast: 2 },
  toleranceWhy: 'why',
  profiles: ['quick'],
};

test('a changed tolerance, kind or expected verdict is a difference, recorded with its reason; a removed claim is retired, not forgotten', () => {
  const one = [{ paper: 'x', claim: base }];
  const { lock: l1 } = updateLock(one, undefined, 'registered', false, '2026-01-01');
  assert.deepEqual(lockDifferences(one, l1), []);
  const changed = { ...base, expect: { atLeast: 1.5 }, expected: { quick: { verdict: 'not-reproduced' as const, reason: 'r', hypothesis: true as const } } };
  const diffs = lockDifferences([{ paper: 'x', claim: changed }], l1);
  assert.deepEqual(diffs.map((d) => d.field).sort(), ['expected', 'tolerance']);
  const { lock: l2 } = updateLock([{ paper: 'x', claim: changed }], l1, 'loosened after seeing results', true, '2026-01-02');
  const h = l2.claims['x-claim'].history;
  assert.deepEqual(h.map((e) => e.field), ['added', 'tolerance', 'expected']);
  assert.deepEqual(h[1], { date: '2026-01-02', field: 'tolerance', from: { atLeast: 2 }, to: { atLeast: 1.5 }, why: 'loosened after seeing results', resultsSeen: true });
  const { lock: l3 } = updateLock([], l2, 'dropped', true, '2026-01-03');
  assert.equal(l3.claims['x-claim'], undefined);
  assert.equal(l3.retired['x-claim'].history.at(-1)!.field, 'removed');
});

test('npm run lock refuses to record a change without a reason and the results-seen flag', () => {
  const before = fs.readFileSync(lockPath(), 'utf8');
  const out: string[] = [];
  assert.equal(runLock(['--check'], (t) => out.push(t)), 0);
  assert.match(out.join(''), /agree/);
  assert.equal(runLock(['--check', '--only', 'rer'], () => {}), 0, 'one paper at a time');
  assert.equal(runLock(['--check', '--only', 'nope'], () => {}), 2);
  assert.equal(runLock(['--results-seen', 'yes'], () => {}), 2);
  assert.equal(runLock(['--why', 'x', '--results-seen', 'maybe'], () => {}), 2);
  assert.equal(fs.readFileSync(lockPath(), 'utf8'), before, 'nothing written');
  assert.equal(path.basename(lockPath()), 'claims.lock.json');
});
