/**
 * The runner: plans a paper run, runs (or reuses) its (seed) jobs, and turns their
 * results into claims, tables, figures and run.json. The reproduce CLI, Slurm shards
 * and the notebooks (lib/notebook/session.ts) all go through here, so there is one
 * path from config to verdict. File layout and schemas: lib/harness/files.ts.
 * Every file is written atomically, so a killed run leaves nothing a later run trusts.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BackendInfo } from '../core/backend';
import { configHash } from '../core/config';
import { UsageError } from '../core/errors';
import { Progress } from '../core/progress';
import { codeFingerprint, gitInfo, machineInfo, packageVersions, suiteVersion } from '../core/provenance';
import { PACKAGE_NAME } from '../core/paths';
import { RunRng } from '../core/rng';
import { AtomicAppender, sha256File, writeFileAtomic } from '../core/atomic-fs';
import { othersCpuMeter } from '../core/cpu-load';
import { exportFigures } from '../figures/render';
import type { PaperDefinition, ProfileName, ResultTable, RunContext, SeedResult } from './contract';
import {
  claimsSchema,
  figureIndexSchema,
  files,
  jobSchema,
  planFileSchema,
  readChecked,
  runSchema,
  sealed,
  tablesSchema,
  writeChecked,
  type ClaimRecord,
  type FigureIndexEntry,
  type JobFile,
  type JobMachine,
  type PlanFile,
  type RunFile,
} from './files';
import { historyOf, readLock } from './lock';
import { evaluateClaims, notRunClaims, type JudgeContext } from './verdicts';

export type PaperPlan = PlanFile;

export interface JobOutcome<R> extends SeedResult<R> {
  cached: boolean;
  wallSeconds: number;
  machine: JobMachine;
}

export interface RunJobsOptions {
  /** Where results go; undefined keeps everything in memory (notebooks). */
  out?: string;
  force?: boolean;
  quiet?: boolean;
  log?: (line: string) => void;
  /**
   * Runs a timed section with no other job of the run computing. Parallel runs (--jobs)
   * pass the coordinator's; alone, a section just runs.
   */
  exclusive?: <T>(label: string, section: () => Promise<T>) => Promise<T>;
  /** Called on every progress tick of the job's phases (a parallel run shows them on one status line). */
  onProgress?: (phase: string, done: number, total: number) => void;
  /** False: phases report only through onProgress, not as lines of their own (default true). */
  progressLines?: boolean;
}

export const paperDir = files.paperDir;

/**
 * Validates the config (UsageError, exit 2) and its data (DataError) — before anything
 * is written — and returns the plan.
 */
export function makePlan<C extends object>(
  paper: PaperDefinition<C, unknown>,
  profile: ProfileName,
  config: C,
  seeds: number[],
  backend: BackendInfo,
  command: string,
  overrides: string[] = [],
): PaperPlan {
  paper.validate(config);
  paper.checkData?.(config);
  // The code is part of the key: a cached result computed by other code is never reused.
  const planHash = configHash({ paper: paper.id, config, backend: backend.name, code: codeFingerprint(paper.id) });
  return { paper: paper.id, profile, config, overrides, seeds, backend: backend.name, planHash, command };
}

/** 1-minute load average (0 where the platform has none). */
function load1(): number {
  return os.loadavg()[0];
}

/** Samples the process' resident set size every second until stopped; returns the peak in MiB. */
function rssSampler(): { stop(): number } {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 1000);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage.rss()) / 2 ** 20;
    },
  };
}

function jobHash(plan: PaperPlan, seed: number): string {
  return configHash({ plan: plan.planHash, seed });
}

/**
 * A job's cached result, checked: `job` when it is complete and matches the plan; else
 * `problem` says what is wrong with the file (torn, off-schema, failed checksum, metrics
 * missing or edited) so the caller can say so in one line. Neither: absent, or the result
 * of another config (a plain cache miss).
 */
export function readJobChecked(dir: string, plan: PaperPlan, seed: number): { job?: JobFile; problem?: string } {
  const file = files.job(dir, seed);
  const r = readChecked(file, jobSchema);
  if (!r.ok) return r.problem === 'absent' ? {} : { problem: r.problem };
  if (r.value.jobHash !== jobHash(plan, seed)) return {};
  const metrics = files.jobMetrics(dir, seed);
  const sum = sha256File(metrics);
  if (sum === undefined) return { problem: `${metrics} is missing (its job file ${path.basename(file)} expects it)` };
  if (sum !== r.value.metricsSha256) return { problem: `${metrics} does not match the checksum in ${path.basename(file)} (truncated or edited)` };
  return { job: r.value };
}

/** Reads a completed job if it matches the plan; undefined when absent, torn, off-schema, edited or stale. */
export function readJob(dir: string, plan: PaperPlan, seed: number): JobFile | undefined {
  return readJobChecked(dir, plan, seed).job;
}

/** Runs (or reuses) one seed of a paper. */
export async function runJob<C extends object, R>(paper: PaperDefinition<C, R>, plan: PaperPlan, seed: number, backend: BackendInfo, opts: RunJobsOptions): Promise<JobOutcome<R>> {
  const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const dir = opts.out ? paperDir(opts.out, paper.id, plan.profile) : undefined;
  if (dir && !opts.force) {
    const { job: cached, problem } = readJobChecked(dir, plan, seed);
    if (cached) {
      if (!opts.quiet) log(`[${paper.id}] seed ${seed}: cached result reused (${files.job(dir, seed)}; --force re-runs)`);
      return { seed, result: cached.result as R, cached: true, wallSeconds: cached.wallSeconds, machine: cached.machine };
    }
    if (problem) log(`[${paper.id}] seed ${seed}: not reusing the cached result: ${problem}; recomputing`);
  }
  // The metrics appear whole, beside the job file, only when the job completes: a killed
  // attempt leaves a temp file (removed by the next run), never a half-written log.
  const metricsOut = dir ? new AtomicAppender(files.jobMetrics(dir, seed)) : undefined;
  const timed: JobMachine['timed'] = [];
  const runExclusive = opts.exclusive ?? (<T>(_label: string, section: () => Promise<T>) => section());
  const ctx: RunContext = {
    seed,
    rng: new RunRng(seed),
    profile: plan.profile,
    backend: backend.name,
    log: (m) => {
      if (!opts.quiet) log(`[${paper.id} seed ${seed}] ${m}`);
    },
    progress: (label, total) =>
      new Progress({
        label: `${paper.id} seed ${seed} ${label}`,
        total,
        quiet: opts.quiet || opts.progressLines === false,
        write: log,
        onTick: opts.onProgress && ((done, all) => opts.onProgress!(label, done, all)),
      }),
    metric: (record) => {
      metricsOut?.append(JSON.stringify({ paper: paper.id, profile: plan.profile, seed, ...record }) + '\n');
    },
    exclusive: (label, section) =>
      runExclusive(label, async () => {
        const loadBefore = load1();
        const others = othersCpuMeter();
        const s0 = performance.now();
        try {
          return await section();
        } finally {
          const seconds = (performance.now() - s0) / 1000;
          const othersCores = others.stop();
          timed.push({ label, seconds, loadBefore, loadAfter: load1(), ...(othersCores === undefined ? {} : { othersCores }) });
        }
      }),
  };
  const startedAt = new Date();
  const loadBefore = load1();
  const rss = rssSampler();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let result: R;
  let peakRssMiB = 0;
  try {
    result = await paper.run(plan.config as C, ctx);
  } catch (err) {
    metricsOut?.abort();
    throw err;
  } finally {
    peakRssMiB = rss.stop();
  }
  const wallSeconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const machine: JobMachine = { cores: os.cpus().length, loadBefore, loadAfter: load1(), peakRssMiB, cpuSeconds: (cpu.user + cpu.system) / 1e6, timed };
  if (dir && metricsOut) {
    // Metrics first, then the job file that vouches for them: a kill in between leaves
    // metrics that no job file matches, which the next run recomputes.
    const metricsSha256 = metricsOut.commit();
    writeChecked(files.job(dir, seed), jobSchema, sealed({
      paper: paper.id,
      profile: plan.profile,
      seed,
      planHash: plan.planHash,
      jobHash: jobHash(plan, seed),
      backend,
      startedAt: startedAt.toISOString(),
      endedAt: new Date().toISOString(),
      wallSeconds,
      machine,
      result,
      metricsSha256,
    }));
  }
  if (!opts.quiet) log(`[${paper.id}] seed ${seed}: done in ${wallSeconds.toFixed(1)}s (${machine.cpuSeconds.toFixed(1)} s of CPU, peak memory ${machine.peakRssMiB.toFixed(0)} MiB)`);
  return { seed, result, cached: false, wallSeconds, machine };
}

export function writePlan(out: string, plan: PaperPlan): void {
  writeChecked(files.plan(paperDir(out, plan.paper, plan.profile)), planFileSchema, sealed(plan));
}

/** The plan in `dir`: undefined when there is none; a UsageError (one line) when it is torn, off-schema or edited. */
export function readPlan(dir: string): PaperPlan | undefined {
  const r = readChecked(files.plan(dir), planFileSchema);
  if (r.ok) {
    const { checksum: _checksum, ...plan } = r.value;
    return plan;
  }
  if (r.problem === 'absent') return undefined;
  throw new UsageError(`cannot use ${r.problem}: rerun the command that wrote it (${files.plan(dir)} is rewritten by every run and shard)`);
}

export interface PaperSummary {
  paper: string;
  title: string;
  profile: ProfileName;
  claims: ClaimRecord[];
  tables: ResultTable[];
  figures: FigureIndexEntry[];
  dir: string;
}

/** Provenance stamped on every figure of a paper run: enough to cite it and to regenerate it (`npm run cite`). */
export function figureProvenance(plan: PaperPlan, backend: BackendInfo): Record<string, unknown> {
  const git = gitInfo();
  return {
    suite: PACKAGE_NAME,
    version: suiteVersion(),
    paper: plan.paper,
    profile: plan.profile,
    seeds: plan.seeds,
    configHash: plan.planHash,
    commit: git.commit,
    dirty: git.dirty,
    backend: backend.name,
    device: backend.device,
    command: plan.command,
  };
}

/**
 * Builds run.json, metrics.jsonl, claims.json, tables.json and figures/ from the
 * completed jobs of a plan (all shards' work). Throws UsageError if a seed's job is missing.
 */
export function finalizePaper<C extends object, R>(paper: PaperDefinition<C, R>, plan: PaperPlan, out: string): PaperSummary {
  const dir = paperDir(out, paper.id, plan.profile);
  const jobs: JobFile[] = [];
  const missing: string[] = [];
  for (const seed of plan.seeds) {
    const { job, problem } = readJobChecked(dir, plan, seed);
    if (job) jobs.push(job);
    else missing.push(problem ? `${seed} (${problem})` : String(seed));
  }
  if (missing.length > 0) {
    throw new UsageError(`no completed result for ${paper.id} (${plan.profile}) seed(s) ${missing.join(', ')} in ${dir}: run the missing shard(s) first`);
  }
  // Shards may run on different machines: name every device that computed a seed.
  const devices = [...new Set(jobs.map((j) => j.backend.device))];
  const backend: BackendInfo = { ...(jobs[0].backend as BackendInfo), device: devices.join('; ') };
  const results: SeedResult<R>[] = jobs.map((j) => ({ seed: j.seed, result: j.result as R }));
  const config = plan.config as C;
  const claims = withHistory(evaluateClaims(paper.claims, results, judgeContext(plan, jobs)));
  writeChecked(files.claims(dir), claimsSchema, claims);
  const tables = paper.tables(results, config);
  writeChecked(files.tables(dir), tablesSchema, tables);

  // Each seed's metrics were checked against its job file's sha256 just above.
  const metrics = plan.seeds.map((s) => fs.readFileSync(files.jobMetrics(dir, s), 'utf8'));
  writeFileAtomic(files.metrics(dir), metrics.join(''));

  const provenance = figureProvenance(plan, backend);
  const figures: FigureIndexEntry[] = exportFigures(path.join(dir, 'figures'), paper.figures(results, config), provenance).map((f) => ({
    name: f.name,
    title: f.title,
    files: { vl: `figures/${f.files.vl}`, svg: `figures/${f.files.svg}`, png: `figures/${f.files.png}` },
    provenance,
  }));
  writeChecked(files.figureIndex(dir), figureIndexSchema, figures);

  const starts = jobs.map((j) => j.startedAt).sort();
  const ends = jobs.map((j) => j.endedAt).sort();
  writeRunFile(paper, plan, dir, backend, {
    startedAt: starts[0],
    endedAt: ends[ends.length - 1],
    wallSeconds: jobs.reduce((a, j) => a + j.wallSeconds, 0),
    jobs: jobs.map((j) => ({ seed: j.seed, startedAt: j.startedAt, endedAt: j.endedAt, wallSeconds: j.wallSeconds, backend: j.backend.name, device: j.backend.device, machine: j.machine })),
  });
  return { paper: paper.id, title: paper.title, profile: plan.profile, claims, tables, figures, dir };
}

/** Each claim's pre-registration history from claims.lock.json (none where there is no lock, e.g. a bundle). */
export function withHistory(claims: ClaimRecord[]): ClaimRecord[] {
  const lock = readLock();
  return claims.map((c) => ({ ...c, history: historyOf(lock, c.id) }));
}

/**
 * What the verdicts need from the run: overrides, and per seed how loaded the machine was
 * while its sections were timed, as a count of busy cores comparable with the core count:
 * 1 (the job itself) + the CPU other processes used during the section where that was
 * measured (lib/core/cpu-load.ts), else the 1-minute load average around it. The average
 * is only a fallback: it remembers, for a minute, the parallel jobs that were paused for
 * the section (--jobs), so it would call every section of a parallel run busy.
 */
export function judgeContext(plan: PaperPlan, jobs: { seed: number; machine: JobMachine }[]): JudgeContext {
  const timedLoad: Record<number, number | null> = {};
  const sectionLoad = (t: JobMachine['timed'][number]) => (t.othersCores !== undefined ? [1 + t.othersCores] : [t.loadBefore, t.loadAfter]);
  for (const j of jobs) timedLoad[j.seed] = j.machine.timed.length ? Math.max(...j.machine.timed.flatMap(sectionLoad)) : null;
  return { profile: plan.profile, overridden: plan.overrides.length > 0, machine: { cores: Math.min(...jobs.map((j) => j.machine.cores)), timedLoad } };
}

/** run.json: the provenance of one paper run plus what varies (times, jobs). */
function writeRunFile(
  paper: { id: string; title: string; references: string[] },
  plan: PaperPlan,
  dir: string,
  backend: BackendInfo,
  extra: Pick<RunFile, 'startedAt' | 'endedAt' | 'wallSeconds' | 'jobs' | 'unavailable'>,
): void {
  writeChecked(files.run(dir), runSchema, {
    paper: paper.id,
    title: paper.title,
    references: paper.references,
    profile: plan.profile,
    seeds: plan.seeds,
    config: plan.config,
    configHash: plan.planHash,
    command: plan.command,
    git: gitInfo(),
    packages: packageVersions(),
    backend,
    machine: machineInfo(),
    ...extra,
  });
}

/** A paper that cannot run here (e.g. optional dataset not installed): every claim is not-run with the reason. */
export function writeUnavailable<C extends object, R>(paper: PaperDefinition<C, R>, plan: PaperPlan, out: string, reason: string, backend: BackendInfo): PaperSummary {
  const dir = paperDir(out, paper.id, plan.profile);
  const claims = withHistory(notRunClaims(paper.claims, plan.profile, reason));
  writeChecked(files.claims(dir), claimsSchema, claims);
  writeChecked(files.tables(dir), tablesSchema, []);
  writeChecked(files.figureIndex(dir), figureIndexSchema, []);
  const now = new Date().toISOString();
  writeRunFile(paper, plan, dir, backend, { startedAt: now, endedAt: now, wallSeconds: 0, unavailable: reason, jobs: [] });
  return { paper: paper.id, title: paper.title, profile: plan.profile, claims, tables: [], figures: [], dir };
}
