/**
 * The reproduce CLI end to end: bad input (one line, exit 2, nothing written),
 * exit codes from verdicts, caching, sharding + merge, and kill-then-rerun.
 * Uses the fake paper (fast) in-process, and the real entry point in a child process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../reproduce/main';
import { FAKE_ONLY, FAKE_REGISTRY } from '../fixtures/fake-registry';

const papers = FAKE_ONLY;

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { papers, papersModule: FAKE_REGISTRY, stdout: (t) => (out += t), stderr: (t) => (err += t) });
  return { code, out, err };
}

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'repro-cli-'));
}

function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath ?? e.path, e.name))).sort();
}

const BAD: [string, string[], RegExp][] = [
  ['unknown paper', ['--only', 'nope'], /unknown paper 'nope'; valid papers: fake/],
  ['unknown profile', ['--profile', 'huge'], /unknown profile 'huge'; valid profiles: smoke, quick, full or paper/],
  ['unknown --set key', ['--set', 'stepz=3'], /unknown --set key 'stepz'.*valid keys: steps, scale/],
  ['wrong type', ['--set', 'steps=many'], /--set steps='many' has the wrong type.*expected a number/],
  ['bad seeds', ['--seeds', '1,x'], /bad --seeds '1,x'/],
  ['zero seed', ['--seeds', '0'], /bad --seeds '0'/],
  ['bad shard', ['--shard', '4/4'], /bad --shard '4\/4'/],
  ['unknown option', ['--fast'], /Unknown option '--fast'.*valid options/],
  ['unknown backend', ['--backend', 'tpu'], /tpu/],
  ['missing data file', ['--set', 'dataFile=/nonexistent/data.bin'], /missing data file \/nonexistent\/data.bin.*npm install fake-data/],
  ['empty --only', ['--only', ''], /bad --only '': no paper named; .*valid papers: fake/],
  ['--only of commas', ['--only', ' , '], /bad --only ' , ': no paper named/],
  ['negative seed', ['--seeds', '-1'], /bad --seeds '-1': expected a comma-separated list of positive integers/],
  ['negative seed list', ['--seeds', '-1,2'], /bad --seeds '-1,2'/],
  ['option as a value', ['--seeds', '--quiet'], /option --seeds needs a value \(got the option '--quiet'\)/],
  ['zero jobs', ['--jobs', '0'], /bad --jobs '0': expected a positive integer.*default: the number of cores/],
  ['negative jobs', ['--jobs', '-2'], /bad --jobs '-2': expected a positive integer/],
  ['jobs not a number', ['--jobs', 'all'], /bad --jobs 'all': expected a positive integer/],
];

for (const [name, argv, pattern] of BAD) {
  test(`bad input: ${name} -> one-line error, exit 2, nothing written`, async () => {
    const dir = tmpDir();
    const out = path.join(dir, 'out');
    const backend = argv.includes('--backend') ? [] : ['--backend', 'cpu'];
    const r = await cli([...argv, ...backend, '--out', out, '--quiet']);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, pattern);
    assert.equal(r.err.trim().split('\n').length, 1, `more than one line: ${r.err}`);
    assert.doesNotMatch(r.err, /\n\s+at /, 'no stack trace');
    assert.equal(fs.existsSync(out), false, 'nothing written');
  });
}

// /proc: Node's recursive mkdir loops forever there (mkdir fails with ENOENT although /proc exists).
for (const [name, where, pattern] of [
  ['a file as parent', 'FILE/sub', /cannot write --out '.*a-file\/sub' \((ENOTDIR|EEXIST)\)/],
  ['/proc', '/proc/nope', /cannot write --out '\/proc\/nope' \(ENOENT\); choose a writable directory/],
  ['/sys', '/sys/nope', /cannot write --out '\/sys\/nope' \((EPERM|EACCES|ENOENT|EROFS)\)/],
] as const) {
  test(`unwritable --out (${name}) -> one-line error, exit 2, promptly`, { timeout: 60_000 }, async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'a-file');
    fs.writeFileSync(file, 'x');
    const r = await cli(['--out', where.replace('FILE', file), '--backend', 'cpu', '--quiet']);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, pattern);
    assert.equal(r.err.trim().split('\n').length, 1, r.err);
  });
}

test('an out-of-range config value (--set rer.rho=1.5) exits 2 with one line and writes nothing', async () => {
  const out = path.join(tmpDir(), 'out');
  let err = '';
  const code = await main(['--only', 'rer', '--set', 'rer.rho=1.5', '--profile', 'smoke', '--backend', 'cpu', '--out', out, '--quiet'], { stdout: () => {}, stderr: (t) => (err += t) });
  assert.equal(code, 2, err);
  assert.match(err, /^reproduce: .*rho.*1\.5/);
  assert.equal(err.trim().split('\n').length, 1, err);
  assert.equal(fs.existsSync(out), false, 'nothing written');
});

test('a run writes run.json, metrics.jsonl, claims.json, figures and REPORT.md; exit 0', async () => {
  const out = path.join(tmpDir(), 'out');
  const r = await cli(['--profile', 'quick', '--out', out, '--backend', 'cpu', '--quiet']);
  assert.equal(r.code, 0, r.err);
  const dir = path.join(out, 'fake', 'quick');
  const claims = JSON.parse(fs.readFileSync(path.join(dir, 'claims.json'), 'utf8'));
  assert.ok(Array.isArray(claims) && claims.length === 1);
  for (const k of ['id', 'statement', 'source', 'paperValue', 'measured', 'tolerance', 'verdict']) assert.ok(k in claims[0], k);
  assert.equal(claims[0].verdict, 'reproduced');
  assert.equal(claims[0].measured.n, 2);
  const run = JSON.parse(fs.readFileSync(path.join(dir, 'run.json'), 'utf8'));
  assert.deepEqual(run.seeds, [1, 2]);
  assert.equal(run.backend.name, 'cpu');
  assert.ok('commit' in run.git && 'dirty' in run.git);
  assert.ok(run.packages['@tensorflow/tfjs']);
  assert.equal(run.config.steps, 4);
  const metrics = fs.readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(metrics.length, 8);
  assert.deepEqual([...new Set(metrics.map((m) => m.seed))], [1, 2]);
  for (const ext of ['svg', 'png', 'vl.json']) assert.ok(fs.existsSync(path.join(dir, 'figures', `curve.${ext}`)), ext);
  const report = fs.readFileSync(path.join(out, 'REPORT.md'), 'utf8');
  assert.match(report, /fake-value/);
  assert.match(report, /fake\/quick\/figures\/curve\.svg/);
  assert.match(r.out, /fake-value.*reproduced/);
});

test('a claim that fails gives exit 1; --json prints the claims', async () => {
  const out = path.join(tmpDir(), 'out');
  const r = await cli(['--profile', 'smoke', '--set', 'scale=2', '--out', out, '--backend', 'cpu', '--quiet', '--json']);
  assert.equal(r.code, 1);
  const j = JSON.parse(r.out);
  assert.equal(j.papers[0].claims[0].verdict, 'not-reproduced');
});

test('same seed twice gives identical results; a rerun reuses the cache; --force recomputes', async () => {
  const out = path.join(tmpDir(), 'out');
  await cli(['--profile', 'smoke', '--out', out, '--backend', 'cpu', '--quiet']);
  const job = path.join(out, 'fake', 'smoke', 'jobs', 'seed-1.json');
  const first = JSON.parse(fs.readFileSync(job, 'utf8'));
  const r2 = await cli(['--profile', 'smoke', '--out', out, '--backend', 'cpu']);
  assert.match(r2.err, /cached result reused/);
  const r3 = await cli(['--profile', 'smoke', '--out', out, '--backend', 'cpu', '--force']);
  assert.doesNotMatch(r3.err, /cached result reused/);
  const third = JSON.parse(fs.readFileSync(job, 'utf8'));
  assert.deepEqual(third.result, first.result);
  // A different config is a different cache key.
  const r4 = await cli(['--profile', 'smoke', '--set', 'steps=5', '--out', out, '--backend', 'cpu']);
  assert.doesNotMatch(r4.err, /cached result reused/);
});

test('shards run disjoint jobs and merge builds the same claims as one run', async () => {
  const out = path.join(tmpDir(), 'out');
  const args = ['--profile', 'full', '--out', out, '--backend', 'cpu', '--quiet'];
  const s0 = await cli([...args, '--shard', '0/2']);
  const s1 = await cli([...args, '--shard', '1/2']);
  assert.equal(s0.code, 0);
  assert.equal(s1.code, 0);
  const jobs = fs.readdirSync(path.join(out, 'fake', 'full', 'jobs')).filter((f) => f.endsWith('.json')).sort();
  assert.deepEqual(jobs, ['seed-1.json', 'seed-2.json', 'seed-3.json']);
  assert.equal(fs.existsSync(path.join(out, 'fake', 'full', 'claims.json')), false, 'shards do not judge');
  const m = await cli(['merge', '--out', out, '--quiet']);
  assert.equal(m.code, 0, m.err);
  const merged = JSON.parse(fs.readFileSync(path.join(out, 'fake', 'full', 'claims.json'), 'utf8'));
  const whole = path.join(tmpDir(), 'out');
  await cli(['--profile', 'full', '--out', whole, '--backend', 'cpu', '--quiet']);
  const single = JSON.parse(fs.readFileSync(path.join(whole, 'fake', 'full', 'claims.json'), 'utf8'));
  assert.deepEqual(merged, single);
});

test('merge with a shard missing names the missing seeds, exit 2', async () => {
  const out = path.join(tmpDir(), 'out');
  await cli(['--profile', 'full', '--out', out, '--backend', 'cpu', '--quiet', '--shard', '0/3']);
  const m = await cli(['merge', '--out', out]);
  assert.equal(m.code, 2);
  assert.match(m.err, /no completed result for fake \(full\) seed\(s\) 2,3/);
});

const tsxCli = (args: string[]) => ['--import', 'tsx', path.join('test', 'fixtures', 'fake-cli.ts'), ...args];

test('the real entry point: --list names papers and claims; unknown paper exits 2', () => {
  const list = spawnSync(process.execPath, tsxCli(['--list']), { encoding: 'utf8' });
  assert.equal(list.status, 0, list.stderr);
  assert.match(list.stdout, /^rer — /m);
  assert.match(list.stdout, /claim fake-value/);
  const bad = spawnSync(process.execPath, tsxCli(['--only', 'flashy']), { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^reproduce: unknown paper 'flashy'; valid papers: rer, [a-z, -]+ or fake\n$/);
});

test('kill -9 in the middle of a run, then rerun: completes with no corrupt or temp file', async () => {
  const out = path.join(tmpDir(), 'out');
  const args = tsxCli(['--only', 'fake', '--profile', 'full', '--out', out, '--backend', 'cpu', '--set', 'sleepMs=150', '--jobs', '1']);
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
      // Kill once the second seed is under way: seed 1 is complete, seed 2 half-written.
      if (/job 2\/3/.test(err) && !child.killed) setTimeout(() => child.kill('SIGKILL'), 300);
    });
    child.on('exit', () => resolve());
    child.on('error', reject);
  });
  const dir = path.join(out, 'fake', 'full');
  assert.ok(fs.existsSync(path.join(dir, 'jobs', 'seed-1.json')), 'seed 1 finished before the kill');
  assert.equal(fs.existsSync(path.join(dir, 'claims.json')), false, 'killed before judging');
  const rerun = spawnSync(process.execPath, args, { encoding: 'utf8' });
  assert.equal(rerun.status, 0, rerun.stderr);
  assert.match(rerun.stderr, /seed 1: cached result reused/);
  for (const f of listFiles(out)) {
    assert.doesNotMatch(f, /\.tmp-/, `temp file left: ${f}`);
    if (f.endsWith('.json')) JSON.parse(fs.readFileSync(path.join(out, f), 'utf8'));
  }
  const metrics = fs.readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n');
  assert.equal(metrics.length, 3 * 8, 'each seed logged its 8 steps exactly once');
});
