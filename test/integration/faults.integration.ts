/**
 * Fault injection: nothing a run writes is lost, torn or counted twice, whatever happens to
 * it (README "Reliability" lists each fault and the test here that shows it).
 *
 * 1. kill -9 of the CLI at random moments (seeded) across a smoke run of two papers (rer and
 *    the fake paper, whose timed sections pause the other worker) with --jobs 2, each
 *    followed by a rerun: the workers die with the CLI (also a paused one), nothing torn
 *    is left after the kill, and the rerun's claims.json and metrics.jsonl are
 *    byte-identical to an uninterrupted run's, with no temp or lock file left.
 * 2. A full disk (--out on a small tmpfs; needs root, skipped with one line otherwise): one
 *    line naming the disk-full error, exit 2, no torn or temp file; after space is freed a
 *    rerun completes with the same claims.
 * 3. A corrupted cache (truncated or edited job file, metrics file, plan.json): detected by
 *    checksum or schema, said in one line and recomputed, or refused (merge) in one line.
 * 4. Runs sharing an --out: two at once, and a run while a shard holds a job: each job is
 *    computed once, nothing is corrupted or counted twice; another config is refused.
 *
 * Papers at smoke with the cpu or wasm backend: about four minutes on 2 busy cores.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pidAlive, procState } from '../../lib/core/pids';
import { repoRoot } from '../../lib/core/paths';
import { files } from '../../lib/harness/files';
import { readJobChecked, readPlan } from '../../lib/harness/runner';
import { main } from '../../reproduce/main';
import { FAKE_ONLY, FAKE_REGISTRY } from '../fixtures/fake-registry';

const ROOT = repoRoot();
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'repro-faults-'));
after(() => fs.rmSync(work, { recursive: true, force: true }));
let counter = 0;
const freshOut = (name: string) => path.join(work, `${name}-${counter++}`);

/** The smoke run of two papers the kill test interrupts. */
const TWO_PAPERS = ['--only', 'rer,fake', '--profile', 'smoke', '--seeds', '1,2', '--backend', 'wasm', '--jobs', '2', '--set', 'fake.sleepMs=150', '--set', 'fake.exclusiveMs=40'];
const COMPARED = ['rer/smoke/claims.json', 'rer/smoke/metrics.jsonl', 'fake/smoke/claims.json', 'fake/smoke/metrics.jsonl'];

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  err: string;
  out: string;
  /** The worker pids the CLI announced. */
  workers: number[];
}

/** When to kill: `delayMs` after the `afterLine`-th line of stderr (0: after the start). */
interface KillAt {
  afterLine: number;
  delayMs: number;
}

/** The real CLI (with the fake paper registered) in a child process; killed with SIGKILL at `kill` if given. */
function cli(args: string[], opts: { kill?: KillAt; onErr?: (err: string, child: ReturnType<typeof spawn>) => void; lineTimes?: number[] } = {}): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test', 'fixtures', 'fake-cli.ts'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    let out = '';
    let lines = 0;
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      if (opts.kill && !timer && lines >= opts.kill.afterLine) timer = setTimeout(() => child.kill('SIGKILL'), opts.kill.delayMs);
    };
    arm();
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => {
      err += d;
      const now = (err.match(/\n/g) ?? []).length;
      for (; lines < now; lines++) opts.lineTimes?.push(performance.now() - t0);
      arm();
      opts.onErr?.(err, child);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      opts.lineTimes?.push(performance.now() - t0); // the end
      const workers = (/worker processes \(pids ([\d, ]+);/.exec(err)?.[1] ?? '').split(',').filter((s) => s.trim()).map(Number);
      resolve({ code, signal, err, out, workers });
    });
  });
}

function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath ?? e.path, e.name)))
    .sort();
}

/** Nothing torn: every JSON file parses, every job file that exists is whole with its metrics; returns the temp and lock files. */
function assertNothingTorn(out: string): string[] {
  for (const f of listFiles(out)) {
    if (/\.tmp-|\.lock$/.test(f)) continue;
    if (f.endsWith('.json')) assert.doesNotThrow(() => JSON.parse(fs.readFileSync(path.join(out, f), 'utf8')), `torn: ${f}`);
    const job = /^(.+)\/jobs\/seed-(\d+)\.json$/.exec(f);
    if (job) {
      const dir = path.join(out, job[1]);
      const plan = readPlan(dir);
      assert.ok(plan, `a job file without its plan: ${f}`);
      const r = readJobChecked(dir, plan, Number(job[2]));
      assert.ok(r.job, `a job file that is not whole: ${f}: ${r.problem}`);
    }
  }
  return listFiles(out).filter((f) => /\.tmp-|\.lock$/.test(f));
}

async function waitGone(pids: number[]): Promise<number[]> {
  for (let i = 0; i < 300 && pids.some(pidAlive); i++) await new Promise((r) => setTimeout(r, 50));
  return pids.filter(pidAlive);
}

/** mulberry32: the kill moments are random but drawn the same on every run of the test. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The uninterrupted run: its outputs, and when each of its stderr lines came (ms after the start; the last entry: the end). */
const baseline = { out: '', err: '', lineTimes: [] as number[], bytes: new Map<string, Buffer>() };

before(async () => {
  baseline.out = freshOut('baseline');
  const r = await cli([...TWO_PAPERS, '--out', baseline.out], { lineTimes: baseline.lineTimes });
  assert.equal(r.code, 0, r.err);
  baseline.err = r.err;
  for (const f of COMPARED) baseline.bytes.set(f, fs.readFileSync(path.join(baseline.out, f)));
});

function assertSameAsBaseline(out: string): void {
  for (const f of COMPARED) assert.ok(fs.readFileSync(path.join(out, f)).equals(baseline.bytes.get(f)!), `${f} differs from the uninterrupted run's`);
}

describe('kill -9 at random moments', () => {
  /**
   * Kill moments are drawn (seeded) within the phases of the uninterrupted run, anchored to
   * its stderr lines so that they land in the same phase on a slower or faster machine:
   * start-up (before the first line), jobs (between the first job and the last one done,
   * some while a worker is paused for a timed section), and finishing (claims, figures,
   * report: after the last line).
   */
  const PHASES = ['start-up', 'jobs', 'jobs', 'jobs', 'finishing', 'jobs'] as const;
  const draw = rng(21);
  function killAt(phase: (typeof PHASES)[number]): KillAt {
    const lines = baseline.err.split('\n');
    const times = baseline.lineTimes;
    const first = lines.findIndex((l) => /\[reproduce\] job 1\//.test(l));
    const last = lines.length - 1 - [...lines].reverse().findIndex((l) => /: done in /.test(l));
    if (phase === 'start-up') return { afterLine: 0, delayMs: Math.round(draw() * times[0]) };
    if (phase === 'finishing') {
      const n = times.length - 2; // index of the last line; times[n + 1] is the end
      return { afterLine: n + 1, delayMs: Math.round(draw() * (times[n + 1] - times[n])) };
    }
    const k = first + Math.floor(draw() * (last - first + 1));
    return { afterLine: k + 1, delayMs: Math.round(draw() * Math.max(50, times[k + 1] - times[k])) };
  }

  PHASES.forEach((phase, i) => {
    test(`kill ${i + 1}/${PHASES.length} (${phase}), then rerun: byte-identical claims and metrics, nothing torn or left over`, { timeout: 300_000 }, async (t) => {
      const out = freshOut('kill');
      const at = killAt(phase);
      const killed = await cli([...TWO_PAPERS, '--out', out], { kill: at });
      const before = killed.err.trim().split('\n').pop();
      t.diagnostic(`killed ${at.delayMs} ms after stderr line ${at.afterLine} (${killed.signal ?? `it finished first, exit ${killed.code}`}); last line: ${before}; ${listFiles(out).filter((f) => /jobs\/seed-\d+\.json$/.test(f)).length} job file(s) done`);
      assert.deepEqual(await waitGone(killed.workers), [], 'every worker dies with the CLI');
      assertNothingTorn(out);
      const rerun = await cli([...TWO_PAPERS, '--out', out, '--quiet']);
      assert.equal(rerun.code, 0, rerun.err);
      assertSameAsBaseline(out);
      assert.deepEqual(assertNothingTorn(out), [], 'no temp or lock file left');
    });
  });

  test('kill -9 while a worker is paused for the other one\'s timed section: the paused worker dies too; a rerun completes', { timeout: 300_000 }, async () => {
    const out = freshOut('kill-paused');
    const args = ['--only', 'fake', '--profile', 'quick', '--backend', 'cpu', '--jobs', '2', '--out', out, '--set', 'steps=6', '--set', 'exclusiveMs=400', '--set', 'busyMs=50'];
    let paused: number | undefined;
    const killed = await cli(args, {
      onErr: (err, child) => {
        if (paused !== undefined) return;
        const pids = (/worker processes \(pids ([\d, ]+);/.exec(err)?.[1] ?? '').split(',').filter((x) => x.trim()).map(Number);
        if (pids.length < 2) return;
        const poll = setInterval(() => {
          const p = pids.find((pid) => procState(pid) === 'T');
          if (p === undefined || paused !== undefined) return;
          paused = p;
          clearInterval(poll);
          child.kill('SIGKILL');
        }, 10);
        child.once('close', () => clearInterval(poll));
      },
    });
    assert.ok(paused !== undefined, `no worker was seen paused: ${killed.err}`);
    assert.equal(killed.signal, 'SIGKILL');
    assert.deepEqual(await waitGone(killed.workers), [], 'the paused worker (and the other) are gone');
    assertNothingTorn(out);
    const rerun = await cli([...args, '--quiet']);
    assert.equal(rerun.code, 0, rerun.err);
    assert.deepEqual(assertNothingTorn(out), []);
  });
});

describe('a full disk', () => {
  const why = process.getuid?.() !== 0 ? 'needs root to mount a tmpfs' : undefined;
  let mnt = '';
  before(() => {
    if (why) return;
    mnt = path.join(work, 'tmpfs');
    fs.mkdirSync(mnt);
    const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', mnt], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`mount -t tmpfs failed: ${r.stderr.trim()}`);
  });
  after(() => {
    if (mnt) spawnSync('umount', [mnt]);
  });

  /** Leaves about `bytes` free on the tmpfs (a filler file takes the rest); returns the filler. */
  function fillLeaving(bytes: number): string {
    const filler = path.join(mnt, 'filler');
    fs.rmSync(filler, { force: true });
    const st = fs.statfsSync(mnt);
    const free = st.bavail * st.bsize;
    fs.writeFileSync(filler, Buffer.alloc(Math.max(0, free - bytes)));
    return filler;
  }

  /** Bytes the baseline's files that `pick` selects take on the tmpfs (whole pages), times `share`. */
  const bytes = (pick: (f: string) => boolean, share = 1) =>
    Math.round(share * listFiles(baseline.out).filter(pick).reduce((n, f) => n + Math.ceil(fs.statSync(path.join(baseline.out, f)).size / 4096) * 4096, 0));

  for (const [name, room] of [
    // Plans written, then room for about half the job files: a worker's write fails.
    ['while the jobs write their results', () => bytes((f) => f.endsWith('plan.json')) + bytes((f) => f.includes('/jobs/'), 0.6)],
    // Every job done, the disk fills during the figures or the report.
    ['half-way through the run', () => bytes(() => true, 0.5)],
    ['from the first write', () => 0],
  ] as const) {
    test(`--out on a tmpfs that fills ${name}: one line naming ENOSPC, exit 2, nothing torn; a rerun after freeing space completes`, { skip: why && `skipped: ${why}`, timeout: 300_000 }, async (t) => {
      const out = path.join(mnt, `out-${counter++}`);
      const filler = fillLeaving(room());
      const full = await cli([...TWO_PAPERS, '--out', out]);
      assert.equal(full.code, 2, full.err);
      const said = full.err.split('\n').filter((l) => l.startsWith('reproduce:'));
      assert.equal(said.length, 1, full.err);
      t.diagnostic(said[0]);
      assert.match(said[0], /^reproduce: (no space left on device \(ENOSPC\) writing \S+: free some space|cannot write --out '.*' \(ENOSPC\))/);
      assert.deepEqual(await waitGone(full.workers), []);
      assert.deepEqual(assertNothingTorn(out), [], 'no temp or lock file left');
      fs.rmSync(filler);
      const rerun = await cli([...TWO_PAPERS, '--out', out, '--quiet']);
      assert.equal(rerun.code, 0, rerun.err);
      assertSameAsBaseline(out);
      fs.rmSync(out, { recursive: true, force: true });
    });
  }
});

describe('a corrupted cache', () => {
  const FAKE = ['--only', 'fake', '--profile', 'quick', '--backend', 'cpu', '--jobs', '1'];
  async function inProcess(argv: string[]): Promise<{ code: number; err: string }> {
    let err = '';
    const code = await main(argv, { papers: FAKE_ONLY, papersModule: FAKE_REGISTRY, stdout: () => {}, stderr: (t) => (err += t) });
    return { code, err };
  }
  const dirOf = (out: string) => files.paperDir(out, 'fake', 'quick');

  const CASES: [string, (dir: string) => void, RegExp][] = [
    ['a truncated job file', (dir) => fs.truncateSync(files.job(dir, 2), 40), /seed 2: not reusing the cached result: .*seed-2\.json is not valid JSON/],
    [
      'an edited job file (valid JSON)',
      (dir) => {
        const j = JSON.parse(fs.readFileSync(files.job(dir, 2), 'utf8'));
        j.result.value = 1.05;
        fs.writeFileSync(files.job(dir, 2), JSON.stringify(j));
      },
      /seed 2: not reusing the cached result: .*seed-2\.json fails its checksum \(edited or corrupt\)/,
    ],
    ['a truncated metrics file', (dir) => fs.truncateSync(files.jobMetrics(dir, 2), 30), /seed 2: not reusing the cached result: .*seed-2\.metrics\.jsonl does not match the checksum/],
  ];
  for (const [name, corrupt, line] of CASES) {
    test(`${name}: said in one line and recomputed; the claims are those of a clean run`, async () => {
      const out = freshOut('corrupt');
      assert.equal((await inProcess([...FAKE, '--out', out, '--quiet'])).code, 0);
      const claims = fs.readFileSync(path.join(dirOf(out), 'claims.json'));
      const metrics = fs.readFileSync(path.join(dirOf(out), 'metrics.jsonl'));
      corrupt(dirOf(out));
      const r = await inProcess([...FAKE, '--out', out]);
      assert.equal(r.code, 0, r.err);
      assert.equal(r.err.split('\n').filter((l) => line.test(l)).length, 1, r.err);
      assert.match(r.err, /seed 1: cached result reused/);
      assert.ok(fs.readFileSync(path.join(dirOf(out), 'claims.json')).equals(claims));
      assert.ok(fs.readFileSync(path.join(dirOf(out), 'metrics.jsonl')).equals(metrics));
    });
  }

  test('merge refuses, in one line, a corrupt plan.json and a job that fails its checksum', async () => {
    const out = freshOut('corrupt-merge');
    for (const shard of ['0/2', '1/2']) assert.equal((await inProcess([...FAKE, '--out', out, '--quiet', '--shard', shard])).code, 0);
    const plan = files.plan(dirOf(out));
    const text = fs.readFileSync(plan, 'utf8');
    const refuse = async (pattern: RegExp) => {
      const m = await inProcess(['merge', '--out', out]);
      assert.equal(m.code, 2, m.err);
      assert.equal(m.err.trim().split('\n').length, 1, m.err);
      assert.match(m.err, pattern);
      assert.equal(fs.existsSync(path.join(dirOf(out), 'claims.json')), false, 'nothing judged');
    };
    fs.writeFileSync(plan, text.slice(0, 80));
    await refuse(/^reproduce: cannot use .*plan\.json is not valid JSON.*rerun the command that wrote it/);
    const edited = JSON.parse(text);
    edited.seeds = [1];
    fs.writeFileSync(plan, JSON.stringify(edited));
    await refuse(/plan\.json fails its checksum/);
    fs.writeFileSync(plan, text);
    const job = JSON.parse(fs.readFileSync(files.job(dirOf(out), 1), 'utf8'));
    job.wallSeconds /= 2;
    fs.writeFileSync(files.job(dirOf(out), 1), JSON.stringify(job));
    await refuse(/no completed result for fake \(quick\) seed\(s\) 1 \(.*seed-1\.json fails its checksum/);
  });
});

async function mergeInProcess(out: string): Promise<{ code: number; err: string }> {
  let err = '';
  const code = await main(['merge', '--out', out], { papers: FAKE_ONLY, papersModule: FAKE_REGISTRY, stdout: () => {}, stderr: (t) => (err += t) });
  return { code, err };
}

describe('runs sharing an --out', () => {
  const SLOW = ['--only', 'fake', '--profile', 'full', '--seeds', '1,2,3,4', '--backend', 'cpu', '--set', 'sleepMs=250'];
  let reference = '';
  before(async () => {
    reference = freshOut('share-ref');
    const r = await cli([...SLOW, '--out', reference, '--quiet', '--jobs', '2']);
    assert.equal(r.code, 0, r.err);
  });
  const computed = (err: string) => (err.match(/\[fake\] seed \d: done in/g) ?? []).length;
  function assertWhole(out: string): void {
    for (const f of ['claims.json', 'metrics.jsonl']) {
      assert.ok(fs.readFileSync(path.join(out, 'fake', 'full', f)).equals(fs.readFileSync(path.join(reference, 'fake', 'full', f))), `${f} as one run's`);
    }
    assert.equal(fs.readFileSync(path.join(out, 'fake', 'full', 'metrics.jsonl'), 'utf8').trim().split('\n').length, 4 * 8, 'no step counted twice');
    assert.deepEqual(assertNothingTorn(out), []);
  }

  test('two runs started at once: each job is computed once, both finish with the same claims', { timeout: 300_000 }, async () => {
    const out = freshOut('share-two');
    const [a, b] = await Promise.all([cli([...SLOW, '--out', out, '--jobs', '2']), cli([...SLOW, '--out', out, '--jobs', '2'])]);
    assert.equal(a.code, 0, a.err);
    assert.equal(b.code, 0, b.err);
    assert.equal(computed(a.err) + computed(b.err), 4, `each of the 4 jobs computed once:\n${a.err}\n---\n${b.err}`);
    assertWhole(out);
  });

  test('a run while a shard holds a job: the run waits for it, nothing is computed twice; merge agrees', { timeout: 300_000 }, async () => {
    const out = freshOut('share-shard');
    let run: Outcome | undefined;
    let early: { code: number; err: string } | undefined;
    // The shard (seeds 1 and 3) is paused while it holds seed 3's lock; the run starts, finds
    // the lock, says it waits; then the shard continues. No timing decides the order.
    const shard = await cli([...SLOW, '--out', out, '--shard', '0/2'], {
      onErr: (err, child) => {
        if (run || !/job 2\/2: fake seed 3/.test(err) || child.killed) return;
        run = {} as Outcome;
        child.kill('SIGSTOP');
        void cli([...SLOW, '--out', out, '--jobs', '2'], {
          onErr: (runErr) => {
            if (early || !/fake seed 3 is being computed by/.test(runErr)) return;
            // While the shard holds seed 3, merge must refuse; then the shard continues.
            early = { code: -1, err: '' };
            void mergeInProcess(out).then((m) => {
              early = m;
              child.kill('SIGCONT');
            });
          },
        }).then((r) => {
          run = r;
          child.kill('SIGCONT');
        });
      },
    });
    assert.equal(shard.code, 0, shard.err);
    while (run && run.code === undefined) await new Promise((r) => setTimeout(r, 100));
    assert.ok(run, shard.err);
    assert.equal(run.code, 0, run.err);
    assert.match(run.err, /fake seed 3 is being computed by pid \d+ on this host since .*: waiting for its result/);
    assert.equal(early?.code, 2, early?.err);
    assert.match(early!.err, /^reproduce: cannot merge .* yet: a job is still being computed \(.*fake\/full\/jobs\/seed-3\.lock by pid \d+ on this host since .*\); wait for that shard or run to finish, then merge\n$/);
    assert.match(run.err, /seed 3: result computed by another run reused/);
    assert.equal(computed(shard.err) + computed(run.err), 4, `each job computed once:\n${shard.err}\n---\n${run.err}`);
    assertWhole(out);
    const m = await cli(['merge', '--out', out, '--quiet']);
    assert.equal(m.code, 0, m.err);
    assertWhole(out);
  });

  test('a second run with another config is refused while the first computes, in one line', { timeout: 300_000 }, async () => {
    const out = freshOut('share-other');
    let second: Promise<Outcome> | undefined;
    const first = await cli([...SLOW, '--out', out, '--jobs', '1'], {
      onErr: (err, child) => {
        if (second || !/job 1\/4: fake seed/.test(err)) return;
        // Paused while it holds a job, so the second run certainly finds it computing.
        child.kill('SIGSTOP');
        second = cli([...SLOW, '--out', out, '--set', 'steps=5']).finally(() => child.kill('SIGCONT'));
      },
    });
    assert.equal(first.code, 0, first.err);
    const s = await second!;
    assert.equal(s.code, 2, s.err);
    assert.match(s.err.trim(), /^reproduce: --out '.*' is in use: fake \(full\) is being computed there with another config by pid \d+ on this host since \S+; wait for that run or choose another --out$/m);
    assertWhole(out);
  });
});
