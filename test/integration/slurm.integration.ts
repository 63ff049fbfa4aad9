/**
 * `npm run slurm` against a real single-node Slurm cluster brought up inside this
 * machine (reproduce/slurm-cluster.ts): the smoke profile of every registered paper as
 * array shards, merged, must give the claims of an unsharded run; a shard that fails
 * must fail the whole run and be named. Skipped (with the reason) without slurm-wlm +
 * munge or without root.
 *
 * How "same claims" is judged, given that some metrics are wall-clock timings:
 * 1. Exactly: the unsharded CLI run over a copy of the shards' job files reuses every
 *    one of them (so the shards ran precisely the unsharded run's (paper, config, seed,
 *    backend) jobs) and writes a claims.json deep-equal to the merged one.
 * 2. Against an independent unsharded run: every claim (same ids, same order) with the
 *    same measured values and verdict. A claim whose value differs is re-measured by a
 *    second unsharded run of its paper: if the two unsharded runs agree, the value is
 *    deterministic and sharding changed it (failure); if they disagree, the metric is
 *    run-to-run noise (a timing), and only its shape (seeds, finiteness) is compared.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { main } from '../../reproduce/main';
import { slurmClusterUnavailable, startSlurmCluster, type SlurmCluster } from '../../reproduce/slurm-cluster';
import { PAPERS } from '../../lib/papers/registry';
import { repoRoot } from '../../lib/core/paths';
import type { ClaimRecord } from '../../lib/harness/verdicts';

const ROOT = repoRoot();
const unavailable = slurmClusterUnavailable();
// Enough (paper, seed) jobs for 3 shards, and no more: one seed once there are 3 papers.
const SEEDS = PAPERS.length >= 3 ? [1] : [1, 2];
const SHARDS = Math.min(3, PAPERS.length * SEEDS.length);
// Papers named explicitly: every process of the test then runs the same set.
const RUN = ['--profile', 'smoke', '--seeds', SEEDS.join(','), '--only', PAPERS.map((p) => p.id).join(',')];

function slurmCli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; out: string; err: string; seconds: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'reproduce', 'slurm.ts'), ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, out, err, seconds: (performance.now() - t0) / 1000 }));
  });
}

async function reproduce(argv: string[]): Promise<{ code: number; err: string }> {
  let err = '';
  const code = await main(argv, { stdout: () => {}, stderr: (t) => (err += t) });
  return { code, err };
}

/** claims.json of every <paper>/smoke under `out`, keyed by paper id. */
function claimsOf(out: string, ids: readonly string[] = PAPERS.map((p) => p.id)): Map<string, ClaimRecord[]> {
  return new Map(ids.map((id) => [id, JSON.parse(fs.readFileSync(path.join(out, id, 'smoke', 'claims.json'), 'utf8')) as ClaimRecord[]]));
}

describe('npm run slurm on a local Slurm cluster', { skip: unavailable ? `skipped: ${unavailable}` : false }, () => {
  let cluster: SlurmCluster | undefined;
  let work: string;

  before(async () => {
    fs.mkdirSync(path.join(ROOT, '.slurm'), { recursive: true });
    work = fs.mkdtempSync(path.join(ROOT, '.slurm', 'test-'));
    fs.chmodSync(work, 0o755); // munged runs as 'munge' and must reach the cluster folder
    const t0 = performance.now();
    cluster = await startSlurmCluster(path.join(work, 'cluster'));
    process.once('exit', () => cluster?.killNow());
    process.stderr.write(`# slurm cluster up in ${((performance.now() - t0) / 1000).toFixed(1)} s (${cluster.dir})\n`);
  });

  after(async () => {
    await cluster?.stop();
    if (work && !process.env.REPRO_KEEP_SLURM) fs.rmSync(work, { recursive: true, force: true });
  });

  test(`every paper's smoke profile in ${SHARDS} shards merges to the claims of an unsharded run`, { timeout: 600_000 }, async (t) => {
    const out = path.join(work, 'sharded');
    const r = await slurmCli([...RUN, '--shards', String(SHARDS), '--out', out, '--partition', cluster!.partition, '--time', '10'], cluster!.env);
    t.diagnostic(`sharded run + merge: ${r.seconds.toFixed(1)} s`);
    assert.ok(r.code === 0 || r.code === 1, `slurm run failed (exit ${r.code}):\n${r.err}\n${cluster!.logs()}`);
    assert.match(r.err, new RegExp(`${SHARDS} shard\\(s\\) done`));
    for (let i = 0; i < SHARDS; i++) {
      assert.equal(fs.readFileSync(path.join(out, 'shards', `${i}.exit`), 'utf8').trim(), '0', `shard ${i} exit file`);
      assert.match(fs.readFileSync(path.join(out, 'shards', `${i}.log`), 'utf8'), new RegExp(`shard ${i}/${SHARDS}:`), `shard ${i} log`);
    }
    const report = fs.readFileSync(path.join(out, 'REPORT.md'), 'utf8');
    for (const p of PAPERS) assert.match(report, new RegExp(`\\| ${p.id} \\| smoke \\|`), `REPORT.md has ${p.id}`);
    const merged = claimsOf(out);

    // 1. The unsharded run over the shards' job files reuses all of them and judges identically.
    const copy = path.join(work, 'cached');
    for (const p of PAPERS) {
      const jobs = path.join(out, p.id, 'smoke', 'jobs');
      if (fs.existsSync(jobs)) fs.cpSync(jobs, path.join(copy, p.id, 'smoke', 'jobs'), { recursive: true });
    }
    const cached = await reproduce([...RUN, '--out', copy]);
    assert.ok(cached.code === r.code, `unsharded run over the shards' jobs: exit ${cached.code}, sharded ${r.code}\n${cached.err}`);
    // The jobs the shards computed, from their job files; the unsharded run must reuse each
    // and compute none (with --jobs, cached jobs are announced only by their 'reused' line).
    const shardJobs = PAPERS.flatMap((p) => {
      const jobs = path.join(copy, p.id, 'smoke', 'jobs');
      return fs.existsSync(jobs) ? fs.readdirSync(jobs).flatMap((f) => /^seed-(\d+)\.json$/.exec(f)?.slice(1).map((seed) => `${p.id}/${seed}`) ?? []) : [];
    });
    const computed = [...cached.err.matchAll(/\[reproduce\] job \d+\/\d+: (\S+) seed (\d+)/g)].map((m) => `${m[1]}/${m[2]}`);
    const reused = [...cached.err.matchAll(/\[(\S+)\] seed (\d+): cached result reused/g)].map((m) => `${m[1]}/${m[2]}`);
    assert.ok(shardJobs.length > 0, 'the shards wrote job files');
    assert.deepEqual(computed, [], 'the unsharded run computed nothing: every job was a shard\'s');
    assert.deepEqual([...reused].sort(), [...shardJobs].sort(), 'every shard job reused once');
    assert.deepEqual(claimsOf(copy), merged);

    // 2. An independent unsharded run: same claims; values equal unless they are run-to-run noise.
    const single = path.join(work, 'single');
    const u1 = await reproduce([...RUN, '--out', single, '--quiet']);
    assert.equal(u1.code, r.code, u1.err);
    const first = claimsOf(single);
    const differing: { paper: string; id: string }[] = [];
    for (const [paper, claims] of merged) {
      const ref = first.get(paper)!;
      assert.deepEqual(claims.map((c) => c.id), ref.map((c) => c.id), `${paper}: claim ids`);
      claims.forEach((c, i) => {
        if (JSON.stringify(c.measured) === JSON.stringify(ref[i].measured)) assert.equal(c.verdict, ref[i].verdict, `${paper}/${c.id}: verdict`);
        else differing.push({ paper, id: c.id });
      });
    }
    if (differing.length > 0) {
      const papers = [...new Set(differing.map((d) => d.paper))];
      const again = path.join(work, 'single-again');
      await reproduce([...RUN, '--only', papers.join(','), '--out', again, '--quiet']);
      const second = claimsOf(again, papers);
      for (const { paper, id } of differing) {
        const a = first.get(paper)!.find((c) => c.id === id)!;
        const b = second.get(paper)!.find((c) => c.id === id)!;
        const m = merged.get(paper)!.find((c) => c.id === id)!;
        assert.notDeepEqual(a.measured, b.measured, `${paper}/${id} is deterministic (two unsharded runs agree) but the sharded run measured ${JSON.stringify(m.measured)} vs ${JSON.stringify(a.measured)}`);
        assert.ok(m.measured && a.measured, `${paper}/${id}: measured in both`);
        assert.deepEqual(m.measured.perSeed.map((s) => s.seed), a.measured.perSeed.map((s) => s.seed), `${paper}/${id}: seeds`);
        assert.ok(m.measured.perSeed.every((s) => Number.isFinite(s.value)), `${paper}/${id}: finite values`);
      }
      t.diagnostic(`run-to-run noise (timings), compared by shape only: ${differing.map((d) => `${d.paper}/${d.id}`).join(', ')}`);
    }
  });

  test('a failing shard fails the whole run, is named, and merge refuses the missing jobs', { timeout: 300_000 }, async (t) => {
    const out = path.join(work, 'failing');
    const paper = PAPERS[0].id;
    // Shard 1 dies at start-up: a preload module the sbatch job inherits through the environment.
    const inject = path.join(work, 'fail-shard-1.mjs');
    fs.writeFileSync(inject, "if (process.env.SLURM_ARRAY_TASK_ID === '1') throw new Error('injected failure in shard 1');\n");
    const env = { ...cluster!.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${inject}`.trim() };
    const r = await slurmCli(['--profile', 'smoke', '--seeds', '1,2,3', '--only', paper, '--shards', '3', '--out', out], env);
    t.diagnostic(`failing run: ${r.seconds.toFixed(1)} s`);
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, /^slurm: shard\(s\) 1 of 3 failed \(array job \d+\): shard 1 exited 1; logs: \S+\/shards\/1\.log$/m);
    assert.match(r.err, /injected failure in shard 1/, 'the failed shard log tail is shown');
    assert.equal(fs.existsSync(path.join(out, 'REPORT.md')), false, 'no merge after a failed shard');
    // Shard 1 of 3 owns the second (paper, seed) job: seed 2.
    const m = await reproduce(['merge', '--out', out]);
    assert.equal(m.code, 2);
    assert.match(m.err, new RegExp(`^reproduce: no completed result for ${paper} \\(smoke\\) seed\\(s\\) 2 in .*re-run the missing shard`));
    assert.equal(m.err.trim().split('\n').length, 1);
  });
});
