/**
 * Parallel runs (--jobs N, reproduce/schedule.ts and reproduce/parallel/): the same files
 * as one job at a time, timed sections that never overlap and run while every other job
 * is paused, and Ctrl-C that stops every worker, leaves nothing half-written and resumes.
 * (Faults across runs sharing an --out: test/integration/faults.integration.ts.)
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { pidAlive } from '../../lib/core/pids';
import { main } from '../../reproduce/main';
import { FAKE_ONLY, FAKE_REGISTRY } from '../fixtures/fake-registry';
import { tempDirFactory } from '../fixtures/temp-dirs';

const tempDir = tempDirFactory();

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { papers: FAKE_ONLY, papersModule: FAKE_REGISTRY, stdout: (t) => (out += t), stderr: (t) => (err += t) });
  return { code, out, err };
}

function listFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath ?? e.path, e.name)))
    .sort();
}

test('--jobs 2 writes the same claims and metrics as --jobs 1, and run.json records each job\'s peak memory', async () => {
  const base = ['--profile', 'full', '--backend', 'cpu', '--set', 'sleepMs=20'];
  const one = path.join(tempDir('jobs-'), 'out');
  const two = path.join(tempDir('jobs-'), 'out');
  const r1 = await cli([...base, '--out', one, '--jobs', '1', '--quiet']);
  const r2 = await cli([...base, '--out', two, '--jobs', '2']);
  assert.equal(r1.code, 0, r1.err);
  assert.equal(r2.code, 0, r2.err);
  assert.match(r2.err, /3 job\(s\) on 2 worker processes \(pids \d+, \d+; --jobs 2\)/);
  assert.match(r2.err, /\[reproduce\] 3\/3 jobs done; elapsed .*, eta /);
  for (const f of ['claims.json', 'metrics.jsonl', 'tables.json']) {
    assert.equal(fs.readFileSync(path.join(two, 'fake', 'full', f), 'utf8'), fs.readFileSync(path.join(one, 'fake', 'full', f), 'utf8'), f);
  }
  const run = JSON.parse(fs.readFileSync(path.join(two, 'fake', 'full', 'run.json'), 'utf8'));
  assert.deepEqual(run.jobs.map((j: { seed: number }) => j.seed), [1, 2, 3]);
  for (const j of run.jobs) assert.ok(j.machine.peakRssMiB > 10, 'peak memory recorded');
  assert.deepEqual(listFiles(two).filter((f) => /\.tmp-|\.lock$/.test(f)), [], 'no temp or lock file left');
});

test("timed sections (ctx.exclusive) never overlap, and no other job computes during one", async () => {
  const dir = tempDir('jobs-trace-');
  const trace = path.join(dir, 'trace');
  const r = await cli(['--profile', 'quick', '--seeds', '1,2', '--backend', 'cpu', '--out', path.join(dir, 'out'), '--jobs', '2', '--quiet', '--set', 'steps=48', '--set', 'busyMs=25', '--set', 'exclusiveMs=25', '--set', `traceFile=${trace}`]);
  assert.equal(r.code, 0, r.err);
  type Rec = { seed: number; kind: 'work' | 'exclusive'; points: bigint[] };
  const recs: Rec[] = [1, 2].flatMap((seed) =>
    fs
      .readFileSync(`${trace}.seed-${seed}`, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { seed: number; kind: Rec['kind']; points: string[] })
      .map((x) => ({ ...x, points: x.points.map(BigInt) })),
  );
  const sections = recs.filter((x) => x.kind === 'exclusive' && x.points.length > 0).map((x) => ({ seed: x.seed, from: x.points[0], to: x.points[x.points.length - 1] }));
  assert.equal(sections.length, 96);
  for (const s of sections) {
    for (const other of recs.filter((x) => x.seed !== s.seed)) {
      const inside = other.points.filter((p) => p > s.from && p < s.to);
      assert.equal(inside.length, 0, `seed ${other.seed} ran (${other.kind}) during a timed section of seed ${s.seed}`);
    }
  }
  // The test has teeth only if the two jobs really ran at the same time. Each job is ~2.4 s
  // long so that one worker starting a second later than the other still overlaps it.
  const span = (seed: number) => {
    const ps = recs.filter((x) => x.seed === seed).flatMap((x) => x.points);
    return { from: ps.reduce((a, b) => (a < b ? a : b)), to: ps.reduce((a, b) => (a > b ? a : b)) };
  };
  const [a, b] = [span(1), span(2)];
  assert.ok(a.from < b.to && b.from < a.to, 'the two jobs overlapped in time');
});

test('Ctrl-C stops every worker, exits 130 with one line, leaves no temp file; a rerun resumes', { timeout: 180_000 }, async () => {
  const out = path.join(tempDir('jobs-int-'), 'out');
  const args = ['--import', 'tsx', path.join('test', 'fixtures', 'fake-cli.ts'), '--only', 'fake', '--profile', 'full', '--seeds', '1,2,3,4', '--out', out, '--backend', 'cpu', '--jobs', '2', '--set', 'sleepMs=300', '--set', 'exclusiveMs=20'];
  const { code, err, pids } = await new Promise<{ code: number | null; err: string; pids: number[] }>((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    let sent = false;
    child.stderr.on('data', (d) => {
      err += d;
      // Once the first job is done and others are running.
      if (!sent && /seed \d: done in/.test(err)) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, err, pids: (/worker processes \(pids (\d+), (\d+)/.exec(err) ?? []).slice(1).map(Number) }));
  });
  assert.equal(code, 130, err);
  const lines = err.trim().split('\n');
  assert.match(lines[lines.length - 1], /^reproduce: interrupted by SIGINT: stopped \d running job\(s\); finished jobs are kept in .*: rerun the same command to resume$/);
  assert.equal(pids.length, 2, err);
  for (const pid of pids) assert.equal(pidAlive(pid), false, `worker ${pid} is gone`);
  const files = listFiles(out);
  assert.deepEqual(files.filter((f) => /\.tmp-|\.lock$/.test(f)), [], 'no temp or lock file');
  for (const f of files.filter((x) => x.endsWith('.json'))) JSON.parse(fs.readFileSync(path.join(out, f), 'utf8'));
  const rerun = spawnSync(process.execPath, args, { encoding: 'utf8' });
  assert.equal(rerun.status, 0, rerun.stderr);
  assert.match(rerun.stderr, /cached result reused/);
  const metrics = fs.readFileSync(path.join(out, 'fake', 'full', 'metrics.jsonl'), 'utf8').trim().split('\n');
  assert.equal(metrics.length, 4 * 8, 'each seed logged its 8 steps exactly once');
});

test('by default, jobs all expected shorter than a worker takes to start run here, one at a time', async () => {
  const quickFake = { ...FAKE_ONLY[0], expectedSeconds: { quick: 1 } };
  let err = '';
  const code = await main(['--profile', 'quick', '--backend', 'cpu', '--out', path.join(tempDir('jobs-short-'), 'out')], { papers: [quickFake], papersModule: FAKE_REGISTRY, stdout: () => {}, stderr: (t) => (err += t) });
  assert.equal(code, 0, err);
  assert.match(err, /\[reproduce\] 2 short jobs \(each expected under 5 s, less than a worker takes to start\): run here one at a time \(--jobs N runs them on workers anyway\)/);
  assert.doesNotMatch(err, /worker processes/);
});

test('papers the workers cannot load (embedded main without MainIO.papersModule) run here, one at a time, and say so', async () => {
  let err = '';
  const code = await main(['--profile', 'quick', '--backend', 'cpu', '--out', path.join(tempDir('jobs-embed-'), 'out')], { papers: FAKE_ONLY, stdout: () => {}, stderr: (t) => (err += t) });
  assert.equal(code, 0, err);
  assert.match(err, /\[reproduce\] worker processes cannot load fake \(not in lib\/papers\/registry\.ts, no MainIO\.papersModule\): the jobs run here, one at a time/);
  assert.doesNotMatch(err, /worker processes \(pids/);
});
