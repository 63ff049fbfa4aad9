/**
 * The cache on disk cannot be silently wrong: a job file that is torn, off-schema or
 * edited (even into valid JSON), or whose metrics file is truncated or edited, is reported
 * in one line and recomputed; a torn or edited plan.json is refused in one line.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import type { BackendInfo } from '../../lib/core/backend';
import { UsageError } from '../../lib/core/errors';
import { files } from '../../lib/harness/files';
import { judgeContext, makePlan, readJobChecked, readPlan, runJob, writePlan } from '../../lib/harness/runner';
import { fakePaper } from '../fixtures/fake-paper';
import { tempDirFactory } from '../fixtures/temp-dirs';

const tempDir = tempDirFactory();
const backend: BackendInfo = { name: 'cpu', device: 'test', skipped: [] };
const plan = makePlan(fakePaper, 'quick', fakePaper.profiles.quick, [1, 2], backend, 'test');

async function ranOnce(): Promise<{ out: string; dir: string }> {
  const out = tempDir('job-files-');
  for (const seed of plan.seeds) await runJob(fakePaper, plan, seed, backend, { out, quiet: true });
  return { out, dir: files.paperDir(out, 'fake', 'quick') };
}

test('a job file carries the checksum of itself and of its metrics; a clean one is reused', async () => {
  const { out, dir } = await ranOnce();
  const job = JSON.parse(fs.readFileSync(files.job(dir, 1), 'utf8'));
  assert.match(job.checksum, /^[0-9a-f]{64}$/);
  assert.match(job.metricsSha256, /^[0-9a-f]{64}$/);
  assert.ok(readJobChecked(dir, plan, 1).job);
  const lines: string[] = [];
  const again = await runJob(fakePaper, plan, 1, backend, { out, log: (l) => lines.push(l) });
  assert.equal(again.cached, true);
  assert.deepEqual(fs.readdirSync(path.join(dir, 'jobs')).sort(), ['seed-1.json', 'seed-1.metrics.jsonl', 'seed-2.json', 'seed-2.metrics.jsonl']);
});

const CORRUPTIONS: [string, (dir: string) => void, RegExp][] = [
  ['a truncated job file', (dir) => fs.truncateSync(files.job(dir, 1), 100), /seed-1\.json is not valid JSON \(a torn or edited file\)/],
  [
    'an edited result (still valid JSON)',
    (dir) => {
      const j = JSON.parse(fs.readFileSync(files.job(dir, 1), 'utf8'));
      j.result.value += 0.5;
      fs.writeFileSync(files.job(dir, 1), JSON.stringify(j, null, 2));
    },
    /seed-1\.json fails its checksum \(edited or corrupt\)/,
  ],
  [
    'an edited wall time (what timing verdicts read)',
    (dir) => {
      const j = JSON.parse(fs.readFileSync(files.job(dir, 1), 'utf8'));
      j.wallSeconds = 0.001;
      fs.writeFileSync(files.job(dir, 1), JSON.stringify(j, null, 2));
    },
    /fails its checksum/,
  ],
  ['a job file off its schema', (dir) => fs.writeFileSync(files.job(dir, 1), '{"paper": "fake"}'), /does not fit its schema: seed-1\.json\.profile: missing/],
  ['a truncated metrics file', (dir) => fs.truncateSync(files.jobMetrics(dir, 1), 10), /seed-1\.metrics\.jsonl does not match the checksum in seed-1\.json \(truncated or edited\)/],
  ['an edited metrics line', (dir) => fs.appendFileSync(files.jobMetrics(dir, 1), '{"step": 99}\n'), /does not match the checksum/],
  ['a missing metrics file', (dir) => fs.rmSync(files.jobMetrics(dir, 1)), /seed-1\.metrics\.jsonl is missing/],
];

for (const [name, corrupt, problem] of CORRUPTIONS) {
  test(`${name} is detected, said in one line and recomputed`, async () => {
    const { out, dir } = await ranOnce();
    const before = fs.readFileSync(files.jobMetrics(dir, 1), 'utf8');
    const beforeResult = JSON.parse(fs.readFileSync(files.job(dir, 1), 'utf8')).result;
    corrupt(dir);
    const r = readJobChecked(dir, plan, 1);
    assert.equal(r.job, undefined);
    assert.match(r.problem ?? '', problem);
    const lines: string[] = [];
    const o = await runJob(fakePaper, plan, 1, backend, { out, log: (l) => lines.push(l), progressLines: false });
    assert.equal(o.cached, false);
    const said = lines.filter((l) => /not reusing the cached result/.test(l));
    assert.equal(said.length, 1, lines.join('\n'));
    assert.match(said[0], problem);
    assert.match(said[0], /recomputing$/);
    assert.equal(fs.readFileSync(files.jobMetrics(dir, 1), 'utf8'), before, 'the same metrics again');
    assert.deepEqual(JSON.parse(fs.readFileSync(files.job(dir, 1), 'utf8')).result, beforeResult);
    assert.ok(readJobChecked(dir, plan, 1).job);
  });
}

test('a job of another config is a plain cache miss (no problem to report)', async () => {
  const { dir } = await ranOnce();
  const other = makePlan(fakePaper, 'quick', { ...fakePaper.profiles.quick, steps: 5 }, [1, 2], backend, 'test');
  assert.deepEqual(readJobChecked(dir, other, 1), {});
});

test('plan.json: absent is undefined; torn, off-schema or edited is refused in one line', () => {
  const out = tempDir('plan-');
  const dir = files.paperDir(out, 'fake', 'quick');
  assert.equal(readPlan(dir), undefined);
  writePlan(out, plan);
  assert.deepEqual(readPlan(dir), plan);
  const text = fs.readFileSync(files.plan(dir), 'utf8');
  const edited = JSON.parse(text);
  edited.seeds = [1];
  for (const [bad, why] of [
    [text.slice(0, 50), /plan\.json is not valid JSON/],
    [JSON.stringify(edited), /plan\.json fails its checksum/],
    ['{"paper": 1}', /plan\.json does not fit its schema/],
  ] as const) {
    fs.writeFileSync(files.plan(dir), bad);
    assert.throws(
      () => readPlan(dir),
      (e: unknown) => e instanceof UsageError && why.test(e.message) && !e.message.includes('\n') && /rerun the command that wrote it/.test(e.message),
    );
  }
});

test('timing verdicts read the CPU other processes used during a section when it was measured, else the load average', () => {
  const machine = (timed: object[]) => ({ cores: 2, loadBefore: 0, loadAfter: 0, peakRssMiB: 1, cpuSeconds: 1, timed: timed as never });
  const ctx = judgeContext(plan, [
    { seed: 1, machine: machine([{ label: 'a', seconds: 1, loadBefore: 2.5, loadAfter: 2.4, othersCores: 0.2 }]) },
    { seed: 2, machine: machine([{ label: 'a', seconds: 1, loadBefore: 0.5, loadAfter: 0.7 }]) },
  ]);
  assert.equal(ctx.machine?.timedLoad[1], 1.2, 'the job itself + 0.2 cores of others, not the lagging 2.5');
  assert.equal(ctx.machine?.timedLoad[2], 0.7);
});
