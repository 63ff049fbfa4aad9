/**
 * `npm run slurm`: the reproduce run split into `--shard i/N` jobs of one Slurm array
 * (ARCHITECTURE.md §7). Validates everything first (exit 2, one line), writes the sbatch script
 * from reproduce/slurm.sbatch into <out>/shards/, submits it with
 * `sbatch --wait --array=0-(N-1)`, then names every failed shard (exit 1) or merges the
 * shards' results into one REPORT.md outside Slurm (a merge job with `afterok` on a
 * failed array would hang).
 *
 * A failed shard is named from <out>/shards/<i>.exit, which each array task writes with
 * its exit code: this needs no Slurm accounting (sacct is empty without it), and a task
 * Slurm killed (time limit, node failure, scancel) writes none, which counts as failed.
 */
import { shellQuote } from './shell';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { assertWritableDir, writeFileAtomic } from '../lib/core/atomic-fs';
import { BACKEND_CHOICES } from '../lib/core/backend';
import { listChoices, UsageError } from '../lib/core/errors';
import { repoRoot } from '../lib/core/paths';
import { getPaper, PAPERS, type AnyPaper } from '../lib/papers/registry';
import { parseCli, parseStrict, type CliOptions } from './args';
import { configFor, main } from './main';

export const SLURM_USAGE = `usage: npm run slurm -- --shards N [reproduce options] [--partition P] [--time T] [--dry-run]

  --shards N                   array tasks; task i runs 'reproduce --shard i/N' (1 <= N <= the run's (paper, seed) jobs)
  --partition P                Slurm partition (default: the cluster's default)
  --time T                     time limit per task: MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS
  --dry-run                    print the sbatch script and the command; submit nothing, write nothing
  reproduce options            --profile --only --seeds --backend --out --set --force --quiet --json (as for 'npm run reproduce')

Writes <out>/shards/reproduce.sbatch, runs 'sbatch --wait --array=0-(N-1)' (logs: <out>/shards/<i>.log),
then merges into <out>/REPORT.md. exit: as 'reproduce' (0, 1 a claim failed, 2 bad usage); 1 when a shard failed (named).`;

const OPTIONS = {
  shards: { type: 'string' },
  partition: { type: 'string' },
  time: { type: 'string' },
  'dry-run': { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
  // Passed through to every shard (and validated exactly as `reproduce` would).
  profile: { type: 'string' },
  only: { type: 'string' },
  seeds: { type: 'string' },
  backend: { type: 'string' },
  out: { type: 'string', default: 'results' },
  set: { type: 'string', multiple: true },
  force: { type: 'boolean', default: false },
  quiet: { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
} as const;

export interface SlurmOptions {
  /** The reproduce options every shard gets (with --out absolute), without --shard. */
  reproduceArgs: string[];
  repro: CliOptions;
  /** Absolute --out; shard scripts, logs and exit files go to <out>/shards. */
  out: string;
  shards: number;
  /** (paper, seed) jobs of the whole run. */
  jobs: number;
  partition: string | undefined;
  time: string | undefined;
  dryRun: boolean;
  help: boolean;
}

const SLURM_TIME = /^(\d+|\d+:\d{1,2}|\d+:\d{1,2}:\d{1,2}|\d+-\d+|\d+-\d+:\d{1,2}|\d+-\d+:\d{1,2}:\d{1,2}|UNLIMITED|INFINITE)$/;
const PARTITION = /^[A-Za-z0-9_.-]+(,[A-Za-z0-9_.-]+)*$/;
/** #SBATCH lines are not shell: keep --out free of what Slurm or a shell would reinterpret. */
const SAFE_PATH = /^[A-Za-z0-9_./+@:,=-]+$/;

export function parseSlurmArgs(argv: string[], papers: readonly AnyPaper[] = PAPERS): SlurmOptions {
  const shardFlag = argv.find((a) => a === '--shard' || a.startsWith('--shard='));
  if (shardFlag) throw new UsageError(`${shardFlag.split('=')[0]} is set per array task by Slurm; give the number of tasks with --shards N`);
  const { values, positionals } = parseStrict(argv, OPTIONS);
  const empty = { reproduceArgs: [], repro: parseCli([]), out: '', shards: 0, jobs: 0, partition: undefined, time: undefined, dryRun: false, help: true };
  if (values.help) return empty;
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}': 'npm run slurm' takes options only (see --help)`);

  const out = path.resolve(values.out);
  if (!SAFE_PATH.test(out)) throw new UsageError(`bad --out '${values.out}': under Slurm the path may contain only letters, digits and _ . / + @ : , = - (no spaces, quotes or %)`);
  if (values.backend !== undefined && !(BACKEND_CHOICES as readonly string[]).includes(values.backend)) {
    throw new UsageError(`unknown backend '${values.backend}'; valid backends: ${listChoices(BACKEND_CHOICES)}`);
  }
  // Papers are pinned by name (--only): shards that start later must not see a different registry.
  const selected = values.only !== undefined ? values.only.split(',').map((s) => s.trim()).filter(Boolean).map((id) => getPaper(id, papers)) : [...papers];
  const reproduceArgs = ['--profile', values.profile ?? 'quick', '--only', selected.map((p) => p.id).join(',')];
  if (values.seeds !== undefined) reproduceArgs.push('--seeds', values.seeds);
  if (values.backend !== undefined) reproduceArgs.push('--backend', values.backend);
  for (const s of values.set ?? []) reproduceArgs.push('--set', s);
  if (values.force) reproduceArgs.push('--force');
  if (values.quiet) reproduceArgs.push('--quiet');
  reproduceArgs.push('--out', out);
  // The shards' own parser, so a bad profile/seed/--set fails here and not in N logs.
  const repro = { ...parseCli(reproduceArgs), json: values.json };
  for (const p of selected) configFor(p, repro, papers);
  const jobs = selected.reduce((n, p) => n + (repro.seeds ?? p.defaultSeeds[repro.profile]).length, 0);

  if (values.shards === undefined) throw new UsageError(`missing --shards N: the number of array tasks, 1 to ${jobs} (this run has ${jobs} (paper, seed) jobs)`);
  const shards = /^\d+$/.test(values.shards) ? Number(values.shards) : NaN;
  if (!(shards >= 1 && shards <= jobs)) {
    throw new UsageError(`bad --shards '${values.shards}': expected a whole number from 1 to ${jobs} (this run has ${jobs} (paper, seed) jobs; a task beyond that would have nothing to do)`);
  }
  if (values.partition !== undefined && !PARTITION.test(values.partition)) {
    throw new UsageError(`bad --partition '${values.partition}': expected a Slurm partition name (letters, digits, _ . -), or several separated by commas`);
  }
  if (values.time !== undefined && !SLURM_TIME.test(values.time)) {
    throw new UsageError(`bad --time '${values.time}': expected a Slurm time limit: MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS or UNLIMITED (e.g. 30 or 2:00:00)`);
  }
  return { reproduceArgs, repro, out, shards, jobs, partition: values.partition, time: values.time, dryRun: values['dry-run'], help: false };
}

/** A word for a POSIX shell: bare when safe, else single-quoted. */
export function shardDir(out: string): string {
  return path.join(out, 'shards');
}

export function scriptPath(out: string): string {
  return path.join(shardDir(out), 'reproduce.sbatch');
}

export function sbatchArgv(opts: SlurmOptions): string[] {
  return ['sbatch', '--wait', `--array=0-${opts.shards - 1}`, scriptPath(opts.out)];
}

export function templatePath(): string {
  return path.join(repoRoot(), 'reproduce', 'slurm.sbatch');
}

/** The sbatch script: reproduce/slurm.sbatch with every {{NAME}} filled in. */
export function renderSbatchScript(opts: SlurmOptions, template: string = fs.readFileSync(templatePath(), 'utf8'), repo: string = repoRoot()): string {
  const sbatchOptions = [
    ...(opts.partition ? [`#SBATCH --partition=${opts.partition}`] : []),
    ...(opts.time ? [`#SBATCH --time=${opts.time}`] : []),
  ];
  const values: Record<string, string> = {
    SUBMIT: sbatchArgv(opts).map(shellQuote).join(' '),
    JOB_NAME: `reproduce-${opts.repro.profile}`,
    LAST_SHARD: String(opts.shards - 1),
    SHARDS: String(opts.shards),
    SHARD_DIR: shardDir(opts.out),
    SBATCH_OPTIONS: sbatchOptions.length ? sbatchOptions.join('\n') : "# no --partition/--time given: the cluster's defaults apply",
    REPO: shellQuote(repo),
    REPRODUCE_ARGS: opts.reproduceArgs.map(shellQuote).join(' '),
  };
  return template.replace(/\{\{([A-Z_]+)\}\}/g, (whole, name: string) => {
    if (!(name in values)) throw new Error(`slurm template ${templatePath()}: unknown placeholder ${whole}`);
    return values[name];
  });
}

export interface ShardStatus {
  shard: number;
  /** From <out>/shards/<i>.exit; null when the task wrote none (killed or never started). */
  exitCode: number | null;
  log: string;
}

export function shardStatuses(out: string, shards: number): ShardStatus[] {
  const dir = shardDir(out);
  return Array.from({ length: shards }, (_, shard) => {
    let exitCode: number | null = null;
    try {
      const text = fs.readFileSync(path.join(dir, `${shard}.exit`), 'utf8').trim();
      if (/^\d+$/.test(text)) exitCode = Number(text);
    } catch {
      // no exit file: the task did not get to its end
    }
    return { shard, exitCode, log: path.join(dir, `${shard}.log`) };
  });
}

/** One line naming every failed shard and how it failed; undefined when all exited 0. */
export function describeFailures(statuses: ShardStatus[], jobId: string | undefined): string | undefined {
  const failed = statuses.filter((s) => s.exitCode !== 0);
  if (failed.length === 0) return undefined;
  const what = failed.map((s) =>
    s.exitCode === null ? `shard ${s.shard} wrote no exit status (killed by Slurm: time limit, cancelled or node failure; or never started)` : `shard ${s.shard} exited ${s.exitCode}`,
  );
  const ids = failed.map((s) => s.shard).join(',');
  return `shard(s) ${ids} of ${statuses.length} failed${jobId ? ` (array job ${jobId})` : ''}: ${what.join('; ')}; logs: ${failed.map((s) => s.log).join(' ')}`;
}

function logTail(file: string, lines = 6): string {
  try {
    const all = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim());
    return all.slice(-lines).map((l) => `    ${l}`).join('\n');
  } catch {
    return '    (no log)';
  }
}

function commandExists(cmd: string): boolean {
  if (cmd.includes('/')) return fs.existsSync(cmd);
  return spawnSync('sh', ['-c', `command -v ${shellQuote(cmd)}`], { stdio: 'ignore' }).status === 0;
}

/** Partitions of the cluster (sinfo), or undefined when sinfo cannot tell. */
function clusterPartitions(): string[] | undefined {
  const r = spawnSync('sinfo', ['-h', '-o', '%R'], { encoding: 'utf8' });
  if (r.status !== 0 || !r.stdout) return undefined;
  return [...new Set(r.stdout.split('\n').map((l) => l.trim()).filter(Boolean))];
}

export interface SlurmIO {
  papers?: readonly AnyPaper[];
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
  /** The sbatch executable (default: $REPRO_SBATCH or 'sbatch' on PATH). */
  sbatch?: string;
}

/** Runs sbatch --wait, forwarding its output; resolves with its exit code and the array job id. */
function submit(argv: string[], err: (t: string) => void): Promise<{ code: number; jobId: string | undefined; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let jobId: string | undefined;
    let stderr = '';
    // Ctrl-C leaves the array running on the cluster: cancel it.
    const cancel = () => {
      if (jobId) spawnSync('scancel', [jobId], { stdio: 'ignore' });
      err(`[slurm] interrupted${jobId ? `: cancelled array job ${jobId}` : ''}\n`);
      process.exit(130);
    };
    process.once('SIGINT', cancel);
    process.once('SIGTERM', cancel);
    child.stdout.on('data', (d: Buffer) => {
      const text = d.toString();
      jobId ??= /Submitted batch job (\d+)/.exec(text)?.[1];
      err(`[slurm] ${text.trim()}\n`);
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      err(`[slurm] ${d.toString().trim()}\n`);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      process.removeListener('SIGINT', cancel);
      process.removeListener('SIGTERM', cancel);
      resolve({ code: code ?? (signal ? 128 : 1), jobId, stderr });
    });
  });
}

export async function runSlurm(argv: string[], io: SlurmIO = {}): Promise<number> {
  const papers = io.papers ?? PAPERS;
  const out = io.stdout ?? ((t: string) => process.stdout.write(t));
  const err = io.stderr ?? ((t: string) => process.stderr.write(t));
  try {
    const opts = parseSlurmArgs(argv, papers);
    if (opts.help) {
      out(SLURM_USAGE + '\n');
      return 0;
    }
    const script = renderSbatchScript(opts);
    const command = sbatchArgv(opts);
    const sbatch = io.sbatch ?? process.env.REPRO_SBATCH ?? 'sbatch';
    command[0] = sbatch;
    if (opts.dryRun) {
      out(`# ${scriptPath(opts.out)} (not written: --dry-run)\n${script}\n# submit (then merge: npm run reproduce -- merge --out ${shellQuote(opts.out)}):\n${command.map(shellQuote).join(' ')}\n`);
      return 0;
    }
    if (!commandExists(sbatch)) throw new UsageError(`'${sbatch}' not found: run on a Slurm submit host (Debian: apt-get install slurm-client), or use --dry-run to print the script`);
    if (opts.partition) {
      const known = clusterPartitions();
      const bad = opts.partition.split(',').find((p) => known && !known.includes(p));
      if (known && bad) throw new UsageError(`unknown --partition '${bad}'; partitions of this cluster: ${listChoices(known)}`);
    }
    const problem = assertWritableDir(shardDir(opts.out));
    if (problem) throw new UsageError(`cannot write --out '${opts.out}' (${problem}); choose a writable directory on a filesystem every node sees`);
    // Exit files and logs of an earlier array in this --out would be taken for this one's.
    for (const f of fs.readdirSync(shardDir(opts.out))) if (/^\d+\.(exit|log)$/.test(f)) fs.rmSync(path.join(shardDir(opts.out), f), { force: true });
    writeFileAtomic(scriptPath(opts.out), script);
    fs.chmodSync(scriptPath(opts.out), 0o755);
    err(`[slurm] ${opts.jobs} (paper, seed) job(s) in ${opts.shards} array task(s): ${command.map(shellQuote).join(' ')}\n`);

    const t0 = performance.now();
    const sub = await submit(command, err);
    if (!sub.jobId) {
      err(`slurm: sbatch exited ${sub.code} without submitting: ${sub.stderr.trim().split('\n')[0] ?? ''}\n`);
      return 1;
    }
    const statuses = shardStatuses(opts.out, opts.shards);
    const failure = describeFailures(statuses, sub.jobId);
    if (failure) {
      err(`slurm: ${failure}\n`);
      for (const s of statuses.filter((x) => x.exitCode !== 0)) err(`  end of ${s.log}:\n${logTail(s.log)}\n`);
      return 1;
    }
    if (sub.code !== 0) {
      err(`slurm: sbatch --wait exited ${sub.code} although every shard wrote exit 0 (array job ${sub.jobId}); not merging\n`);
      return 1;
    }
    err(`[slurm] array job ${sub.jobId}: ${opts.shards} shard(s) done in ${((performance.now() - t0) / 1000).toFixed(1)} s; merging\n`);
    const mergeArgs = ['merge', '--out', opts.out];
    if (opts.repro.only) mergeArgs.push('--only', opts.repro.only.join(','));
    if (opts.repro.json) mergeArgs.push('--json');
    if (opts.repro.quiet) mergeArgs.push('--quiet');
    return await main(mergeArgs, { papers, stdout: out, stderr: err });
  } catch (e) {
    if (e instanceof UsageError) {
      err(`slurm: ${e.message}\n`);
      return e.exitCode;
    }
    err(`slurm: internal error: ${(e as Error).stack ?? e}\n`);
    return 1;
  }
}
