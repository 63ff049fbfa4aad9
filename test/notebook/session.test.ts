/**
 * A notebook opens what the CLI computed: after `reproduce` the same paper, profile and
 * config reuse the cached jobs (checked through the cache: nothing recomputed, the job
 * files untouched), and a bad parameter gets the CLI's own one-line error.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { test } from 'node:test';
import { UsageError } from '../../lib/core/errors';
import { files } from '../../lib/harness/files';
import { describeSource, openPaper } from '../../lib/notebook/session';
import { main } from '../../reproduce/main';
import { fakePaper } from '../fixtures/fake-paper';
import { tempDirFactory } from '../fixtures/temp-dirs';

const tempDir = tempDirFactory();

async function cli(args: string[]): Promise<{ code: number; err: string }> {
  let err = '';
  const code = await main(args, { papers: [fakePaper], stdout: () => {}, stderr: (t) => (err += t) });
  return { code, err };
}

test('after a CLI run the notebook reuses every cached seed and recomputes nothing', async () => {
  const out = tempDir('repro-nb-');
  assert.equal((await cli(['--profile', 'quick', '--backend', 'cpu', '--out', out, '--quiet'])).code, 0);
  const dir = files.paperDir(out, 'fake', 'quick');
  const mtimes = [1, 2].map((s) => fs.statSync(files.job(dir, s)).mtimeMs);
  const s = await openPaper(fakePaper, { profile: 'quick', results: out, backend: 'cpu', quiet: true });
  assert.deepEqual(s.source.reused, [1, 2]);
  assert.deepEqual(s.source.computed, []);
  assert.deepEqual([1, 2].map((seed) => fs.statSync(files.job(dir, seed)).mtimeMs), mtimes, 'job files untouched');
  assert.ok(s.source.cliRun, 'names the CLI run the results come from');
  assert.match(describeSource(s), /reused 2 cached seed\(s\).*reproduce run that ended/);
  const cliClaims = JSON.parse(fs.readFileSync(files.claims(dir), 'utf8')) as { id: string; measured: unknown; verdict: string }[];
  assert.deepEqual(
    s.claims.map((c) => [c.id, c.measured, c.verdict]),
    cliClaims.map((c) => [c.id, c.measured, c.verdict]),
    'the notebook shows the verdicts the CLI wrote',
  );
});

test('missing seeds are computed into the same cache; another config gets a cache of its own and leaves the CLI slot alone', async () => {
  const out = tempDir('repro-nb-');
  assert.equal((await cli(['--profile', 'quick', '--seeds', '1', '--backend', 'cpu', '--out', out, '--quiet'])).code, 0);
  const s = await openPaper(fakePaper, { profile: 'quick', seeds: [1, 2], results: out, backend: 'cpu', quiet: true });
  assert.deepEqual(s.source.reused, [1]);
  assert.deepEqual(s.source.computed, [2]);
  assert.ok(fs.existsSync(files.job(files.paperDir(out, 'fake', 'quick'), 2)), 'written through the CLI cache');
  const other = await openPaper(fakePaper, { profile: 'quick', overrides: ['scale=2'], results: out, backend: 'cpu', quiet: true });
  assert.match(other.source.dir, /notebook-runs[\\/]fake-/);
  assert.deepEqual(other.source.computed, [1, 2]);
});

test("a bad value in the parameters cell gets the CLI's own one-line error", async () => {
  const out = tempDir('repro-nb-');
  const cases: [string[], Parameters<typeof openPaper>[1]][] = [
    [['--profile', 'qick'], { profile: 'qick' }],
    [['--set', 'nope=1'], { profile: 'quick', overrides: ['nope=1'] }],
    [['--set', 'steps=-1'], { profile: 'quick', overrides: ['steps=-1'] }],
  ];
  for (const [args, params] of cases) {
    const r = await cli([...args, '--backend', 'cpu', '--out', out]);
    assert.equal(r.code, 2);
    const line = r.err.trim().replace(/^reproduce: /, '');
    await assert.rejects(openPaper(fakePaper, { ...params, results: out, backend: 'cpu', quiet: true }), (e: unknown) => e instanceof UsageError && e.message === line);
  }
  await assert.rejects(openPaper(fakePaper, { profile: 'quick', seeds: [0], backend: 'cpu', quiet: true }), /bad seeds \[0\]/);
});
