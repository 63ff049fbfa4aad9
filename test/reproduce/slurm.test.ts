/**
 * `npm run slurm` without a cluster: strict options, the generated sbatch script, and
 * the whole submit -> name failures / merge path through a fake `sbatch` that runs the
 * generated script's array tasks one after another (the real cluster is exercised by
 * test/integration/slurm.integration.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { main } from '../../reproduce/main';
import { describeFailures, parseSlurmArgs, runSlurm, type SlurmIO } from '../../reproduce/slurm-array';
import { shellQuote } from '../../reproduce/shell';
import { fakePaper } from '../fixtures/fake-paper';
import { FAKE_REGISTRY } from '../fixtures/fake-registry';
import { tempDirFactory } from '../fixtures/temp-dirs';

const papers = [fakePaper];
const tmp = tempDirFactory();

async function slurm(argv: string[], io: SlurmIO = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runSlurm(argv, { papers, stdout: (t) => (out += t), stderr: (t) => (err += t), ...io });
  return { code, out, err };
}

const BAD: [string, string[], RegExp][] = [
  ['missing --shards', [], /^slurm: missing --shards N: the number of array tasks, 1 to 2 \(this run has 2 \(paper, seed\) jobs\)$/m],
  ['--shards 0', ['--shards', '0'], /bad --shards '0': expected a whole number from 1 to 2/],
  ['--shards above the jobs', ['--shards', '3'], /bad --shards '3': expected a whole number from 1 to 2/],
  ['--shards not a number', ['--shards', 'two'], /bad --shards 'two'/],
  ['--shard (singular)', ['--shards', '2', '--shard', '0/2'], /--shard is set per array task by Slurm; give the number of tasks with --shards N/],
  ['bad --time', ['--shards', '2', '--time', '2h'], /bad --time '2h': expected a Slurm time limit: MM, MM:SS, HH:MM:SS, D-HH/],
  ['bad --partition', ['--shards', '2', '--partition', 'gpu;rm'], /bad --partition 'gpu;rm'/],
  ['unknown paper', ['--shards', '2', '--only', 'nope'], /unknown paper 'nope'; valid papers: fake/],
  ['unknown profile', ['--shards', '2', '--profile', 'huge'], /unknown profile 'huge'; valid profiles: smoke, quick, full or paper/],
  ['unknown --set key', ['--shards', '2', '--set', 'stepz=1'], /unknown --set key 'stepz'.*valid keys: steps, scale/],
  ['wrong --set type', ['--shards', '2', '--set', 'steps=many'], /--set steps='many' has the wrong type/],
  ['bad seeds', ['--shards', '2', '--seeds', '1,x'], /bad --seeds '1,x'/],
  ['unknown backend', ['--shards', '2', '--backend', 'tpu'], /unknown backend 'tpu'; valid backends: auto, webgpu, wasm, cpu or tensorflow/],
  ['unknown option', ['--shards', '2', '--nodes', '4'], /Unknown option '--nodes'.*valid options: --shards --partition --time --dry-run/],
  ['positional', ['merge', '--shards', '2'], /unexpected argument 'merge'/],
  ['--out with a space', ['--shards', '2', '--out', '/tmp/a b'], /bad --out '\/tmp\/a b': under Slurm the path may contain only/],
];

for (const [name, argv, pattern] of BAD) {
  test(`bad input: ${name} -> one-line error, exit 2, nothing written`, async () => {
    const out = path.join(tmp('slurm-bad-'), 'out');
    const r = await slurm([...argv, ...(argv.includes('--out') ? [] : ['--out', out])]);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, pattern);
    assert.equal(r.err.trim().split('\n').length, 1, r.err);
    assert.equal(fs.existsSync(out), false);
  });
}

test('--dry-run prints the script (SLURM_ARRAY_TASK_ID -> --shard i/N, logs per shard) and the command; writes nothing', async () => {
  const out = path.join(tmp('slurm-dry-'), 'out');
  const r = await slurm(['--profile', 'full', '--shards', '3', '--partition', 'gpu', '--time', '1:30:00', '--set', 'steps=5', '--out', out, '--dry-run']);
  assert.equal(r.code, 0, r.err);
  assert.equal(fs.existsSync(out), false, 'dry run writes nothing');
  assert.match(r.out, /^#!\/bin\/bash$/m);
  assert.match(r.out, /^#SBATCH --array=0-2$/m);
  assert.match(r.out, new RegExp(`^#SBATCH --output=${out}/shards/%a\\.log$`, 'm'));
  assert.match(r.out, /^#SBATCH --partition=gpu$/m);
  assert.match(r.out, /^#SBATCH --time=1:30:00$/m);
  assert.match(r.out, new RegExp(`reproduce/cli\\.ts --profile full --only fake --set steps=5 --out ${out} --shard "\\$shard/3"`));
  assert.match(r.out, /shard=\$\{SLURM_ARRAY_TASK_ID:\?/);
  assert.match(r.out, new RegExp(`^sbatch --wait --array=0-2 ${out}/shards/reproduce\\.sbatch$`, 'm'));
  assert.doesNotMatch(r.out, /\{\{[A-Z_]+\}\}/, 'every placeholder filled');
});

test('shellQuote leaves plain words bare and single-quotes the rest', () => {
  assert.equal(shellQuote('--set'), '--set');
  assert.equal(shellQuote('a=1,2'), 'a=1,2');
  assert.equal(shellQuote("it's a b"), `'it'\\''s a b'`);
});

test('parseSlurmArgs pins the papers by name and counts (paper, seed) jobs', () => {
  const o = parseSlurmArgs(['--profile', 'full', '--seeds', '1,2,3,4', '--shards', '4', '--out', 'x'], papers);
  assert.equal(o.jobs, 4);
  assert.deepEqual(o.reproduceArgs, ['--profile', 'full', '--only', 'fake', '--seeds', '1,2,3,4', '--out', path.resolve('x')]);
});

test('describeFailures names non-zero and missing exit statuses', () => {
  const s = (shard: number, exitCode: number | null) => ({ shard, exitCode, log: `/o/shards/${shard}.log` });
  assert.equal(describeFailures([s(0, 0), s(1, 0)], '7'), undefined);
  assert.equal(
    describeFailures([s(0, 0), s(1, 3), s(2, null)], '7'),
    'shard(s) 1,2 of 3 failed (array job 7): shard 1 exited 3; shard 2 wrote no exit status (killed by Slurm: time limit, cancelled or node failure; or never started); logs: /o/shards/1.log /o/shards/2.log',
  );
});

test('no sbatch on this machine -> one-line error that suggests --dry-run, exit 2', async () => {
  const out = path.join(tmp('slurm-nosbatch-'), 'out');
  const r = await slurm(['--shards', '1', '--out', out], { sbatch: '/nonexistent/sbatch' });
  assert.equal(r.code, 2);
  assert.match(r.err, /^slurm: '\/nonexistent\/sbatch' not found: run on a Slurm submit host .*--dry-run/);
});

/**
 * A fake sbatch: runs each array task of the submitted script in turn, the log where
 * #SBATCH --output says; FAKE_SKIP_TASK is a task Slurm "killed" (it never runs).
 * A fake node (REPRO_NODE) runs the fake-paper CLI instead of reproduce/cli.ts, or fails
 * in task FAKE_FAIL_TASK, or does nothing when FAKE_NOOP is set.
 */
function fakeSlurm(dir: string): { sbatch: string; node: string } {
  const sbatch = path.join(dir, 'sbatch');
  fs.writeFileSync(
    sbatch,
    `#!/bin/bash
for a in "$@"; do case $a in --array=0-*) last=\${a#--array=0-};; --*) ;; *) script=$a;; esac; done
echo "Submitted batch job 42"
worst=0
for i in $(seq 0 $last); do
  [ "\${FAKE_SKIP_TASK:-}" = "$i" ] && { worst=143; continue; }
  SLURM_ARRAY_TASK_ID=$i SLURM_ARRAY_JOB_ID=42 bash "$script" > "$(dirname "$script")/$i.log" 2>&1 || { c=$?; [ $c -gt $worst ] && worst=$c; }
done
exit $worst
`,
    { mode: 0o755 },
  );
  const node = path.join(dir, 'node');
  fs.writeFileSync(
    node,
    `#!/bin/bash
[ "\${FAKE_FAIL_TASK:-}" = "$SLURM_ARRAY_TASK_ID" ] && { echo "injected failure in task $SLURM_ARRAY_TASK_ID" >&2; exit 5; }
[ -n "\${FAKE_NOOP:-}" ] && exit 0
args=(); for a in "$@"; do [ "$a" = reproduce/cli.ts ] && a=test/fixtures/fake-cli.ts; args+=("$a"); done
exec ${shellQuote(process.execPath)} "\${args[@]}"
`,
    { mode: 0o755 },
  );
  return { sbatch, node };
}

async function withEnv<T>(env: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

test('all shards succeed -> merged REPORT.md whose claims equal an unsharded run', async () => {
  const dir = tmp('slurm-ok-');
  const fake = fakeSlurm(dir);
  const out = path.join(dir, 'out');
  const args = ['--profile', 'full', '--backend', 'cpu', '--out', out];
  const r = await withEnv({ REPRO_NODE: fake.node }, () => slurm([...args, '--shards', '2', '--quiet'], { sbatch: fake.sbatch }));
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /array job 42: 2 shard\(s\) done/);
  for (const i of [0, 1]) {
    assert.equal(fs.readFileSync(path.join(out, 'shards', `${i}.exit`), 'utf8').trim(), '0');
    assert.match(fs.readFileSync(path.join(out, 'shards', `${i}.log`), 'utf8'), new RegExp(`shard ${i}/2: \\d job\\(s\\) done`));
  }
  assert.ok(fs.existsSync(path.join(out, 'REPORT.md')));
  const merged = fs.readFileSync(path.join(out, 'fake', 'full', 'claims.json'), 'utf8');
  const single = path.join(dir, 'single');
  const u = await main(['--profile', 'full', '--backend', 'cpu', '--out', single, '--quiet'], { papers, papersModule: FAKE_REGISTRY, stdout: () => {}, stderr: () => {} });
  assert.equal(u, 0);
  assert.equal(merged, fs.readFileSync(path.join(single, 'fake', 'full', 'claims.json'), 'utf8'));
});

test('a shard that fails or is killed -> exit 1 naming it (with its log tail), no merge', async () => {
  const dir = tmp('slurm-fail-');
  const fake = fakeSlurm(dir);
  const out = path.join(dir, 'out');
  const argv = ['--profile', 'full', '--backend', 'cpu', '--out', out, '--shards', '3'];
  const failed = await withEnv({ REPRO_NODE: fake.node, FAKE_NOOP: '1', FAKE_FAIL_TASK: '1' }, () => slurm(argv, { sbatch: fake.sbatch }));
  assert.equal(failed.code, 1);
  assert.match(failed.err, /^slurm: shard\(s\) 1 of 3 failed \(array job 42\): shard 1 exited 5; logs: \S+\/shards\/1\.log$/m);
  assert.match(failed.err, /injected failure in task 1/);
  assert.equal(fs.existsSync(path.join(out, 'REPORT.md')), false);
  // A rerun clears the earlier exit files: a task that never runs cannot pass for done.
  const killed = await withEnv({ REPRO_NODE: fake.node, FAKE_NOOP: '1', FAKE_SKIP_TASK: '2' }, () => slurm(argv, { sbatch: fake.sbatch }));
  assert.equal(killed.code, 1);
  assert.match(killed.err, /^slurm: shard\(s\) 2 of 3 failed \(array job 42\): shard 2 wrote no exit status \(killed by Slurm/m);
});

test('shards that exit 0 but leave jobs missing -> merge refuses naming them, exit 2', async () => {
  const dir = tmp('slurm-missing-');
  const fake = fakeSlurm(dir);
  const out = path.join(dir, 'out');
  // Shard 0 ran for real earlier; the array's tasks then "succeed" without running anything.
  await main(['--profile', 'full', '--backend', 'cpu', '--out', out, '--quiet', '--shard', '0/2'], { papers, stdout: () => {}, stderr: () => {} });
  const r = await withEnv({ REPRO_NODE: fake.node, FAKE_NOOP: '1' }, () => slurm(['--profile', 'full', '--backend', 'cpu', '--out', out, '--shards', '2'], { sbatch: fake.sbatch }));
  assert.equal(r.code, 2);
  assert.match(r.err, /^reproduce: no completed result for fake \(full\) seed\(s\) 2 in .*re-run the missing shard/m);
});
