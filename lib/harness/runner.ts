/**
 * The runner: plans a paper run, runs (or reuses) its (seed) jobs, and turns their
 * results into claims, tables, figures and run.json. The reproduce CLI, Slurm shards
 * and the notebooks (lib/harness/in-memory.ts) all go through here, so there is one
 * path from config to verdict. File layout and schemas: lib/harness/files.ts.
 * Every file is written atomically, so a killed run leaves nothing a later run trusts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BackendInfo } from '../core/backend';
import { configHash } from '../core/config';
import { UsageError } from '../core/errors';
import { Progress } from '../core/progress';
import { gitInfo, machineInfo, packageVersions, suiteVersion } from '../core/provenance';
import { PACKAGE_NAME } from '../core/paths';
import { RunRng } from '../core/rng';
import { writeFileAtomic } from '../core/atomic-fs';
import { exportFigures } from '../figures/render';
import type { PaperDefinition, ProfileName, ResultTable, RunContext, SeedResult } from './contract';
import {
  claimsSchema,
  figureIndexSchema,
  files,
  jobSchema,
  planSchema,
  readIfValid,
  runSchema,
  tablesSchema,
  writeChecked,
  type ClaimRecord,
  type FigureIndexEntry,
  type JobFile,
  type PlanFile,
  type RunFile,
} from './files';
import { evaluateClaims, notRunClaims } from './verdicts';

export type PaperPlan = PlanFile;

export interface JobOutcome<R> extends SeedResult<R> {
  cached: boolean;
  wallSeconds: number;
}

export interface RunJobsOptions {
  /** Where results go; undefined keeps everything in memory (notebooks). */
  out?: string;
  force?: boolean;
  quiet?: boolean;
  log?: (line: string) => void;
}

export const paperDir = files.paperDir;

/**
 * Validates the config (UsageError, exit 2) and its data (DataError) — before anything
 * is written — and returns the plan.
 */
export function makePlan<C extends object>(paper: PaperDefinition<C, unknown>, profile: ProfileName, config: C, seeds: number[], backend: BackendInfo, command: string): PaperPlan {
  paper.validate(config);
  paper.checkData?.(config);
  return { paper: paper.id, profile, config, seeds, backend: backend.name, planHash: configHash({ paper: paper.id, config, backend: backend.name }), command };
}

function jobHash(plan: PaperPlan, seed: number): string {
  return configHash({ plan: plan.planHash, seed });
}

/** Reads a completed job if it matches the plan; undefined when absent, torn, off-schema or stale. */
export function readJob(dir: string, plan: PaperPlan, seed: number): JobFile | undefined {
  const rec = readIfValid(files.job(dir, seed), jobSchema);
  return rec && rec.jobHash === jobHash(plan, seed) ? rec : undefined;
}

/** Runs (or reuses) one seed of a paper. */
export async function runJob<C extends object, R>(paper: PaperDefinition<C, R>, plan: PaperPlan, seed: number, backend: BackendInfo, opts: RunJobsOptions): Promise<JobOutcome<R>> {
  const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const dir = opts.out ? paperDir(opts.out, paper.id, plan.profile) : undefined;
  if (dir && !opts.force) {
    const cached = readJob(dir, plan, seed);
    if (cached) {
      if (!opts.quiet) log(`[${paper.id}] seed ${seed}: cached result reused (${files.job(dir, seed)}; --force re-runs)`);
      return { seed, result: cached.result as R, cached: true, wallSeconds: cached.wallSeconds };
    }
  }
  const metricsPath = dir ? files.jobMetrics(dir, seed) : undefined;
  if (metricsPath) {
    // A killed earlier attempt may have left part of this seed's metrics: start over.
    fs.mkdirSync(path.dirname(metricsPath), { recursive: true });
    writeFileAtomic(metricsPath, '');
  }
  const ctx: RunContext = {
    seed,
    rng: new RunRng(seed),
    profile: plan.profile,
    backend: backend.name,
    log: (m) => {
      if (!opts.quiet) log(`[${paper.id} seed ${seed}] ${m}`);
    },
    progress: (label, total) => new Progress({ label: `${paper.id} seed ${seed} ${label}`, total, quiet: opts.quiet, write: log }),
    metric: (record) => {
      if (metricsPath) fs.appendFileSync(metricsPath, JSON.stringify({ paper: paper.id, profile: plan.profile, seed, ...record }) + '\n');
    },
  };
  const startedAt = new Date();
  const t0 = performance.now();
  const result = await paper.run(plan.config as C, ctx);
  const wallSeconds = (performance.now() - t0) / 1000;
  if (dir) {
    writeChecked(files.job(dir, seed), jobSchema, {
      paper: paper.id,
      profile: plan.profile,
      seed,
      planHash: plan.planHash,
      jobHash: jobHash(plan, seed),
      backend,
      startedAt: startedAt.toISOString(),
      endedAt: new Date().toISOString(),
      wallSeconds,
      result,
    });
  }
  if (!opts.quiet) log(`[${paper.id}] seed ${seed}: done in ${wallSeconds.toFixed(1)}s`);
  return { seed, result, cached: false, wallSeconds };
}

export function writePlan(out: string, plan: PaperPlan): void {
  writeChecked(files.plan(paperDir(out, plan.paper, plan.profile)), planSchema, plan);
}

export function readPlan(dir: string): PaperPlan | undefined {
  return readIfValid(files.plan(dir), planSchema);
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
  const missing: number[] = [];
  for (const seed of plan.seeds) {
    const j = readJob(dir, plan, seed);
    if (j) jobs.push(j);
    else missing.push(seed);
  }
  if (missing.length > 0) {
    throw new UsageError(`no completed result for ${paper.id} (${plan.profile}) seed(s) ${missing.join(',')} in ${dir}: run the missing shard(s) first`);
  }
  // Shards may run on different machines: name every device that computed a seed.
  const devices = [...new Set(jobs.map((j) => j.backend.device))];
  const backend: BackendInfo = { ...(jobs[0].backend as BackendInfo), device: devices.join('; ') };
  const results: SeedResult<R>[] = jobs.map((j) => ({ seed: j.seed, result: j.result as R }));
  const config = plan.config as C;
  const claims = evaluateClaims(paper.claims, results, plan.profile);
  writeChecked(files.claims(dir), claimsSchema, claims);
  const tables = paper.tables(results, config);
  writeChecked(files.tables(dir), tablesSchema, tables);

  const metrics = plan.seeds.map((s) => {
    const p = files.jobMetrics(dir, s);
    return fs.existsSync(p) ? fs.readFileSync(p, 'utf8') : '';
  });
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
    jobs: jobs.map((j) => ({ seed: j.seed, startedAt: j.startedAt, endedAt: j.endedAt, wallSeconds: j.wallSeconds, backend: j.backend.name, device: j.backend.device })),
  });
  return { paper: paper.id, title: paper.title, profile: plan.profile, claims, tables, figures, dir };
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
  const claims = notRunClaims(paper.claims, plan.profile, reason);
  writeChecked(files.claims(dir), claimsSchema, claims);
  writeChecked(files.tables(dir), tablesSchema, []);
  writeChecked(files.figureIndex(dir), figureIndexSchema, []);
  const now = new Date().toISOString();
  writeRunFile(paper, plan, dir, backend, { startedAt: now, endedAt: now, wallSeconds: 0, unavailable: reason, jobs: [] });
  return { paper: paper.id, title: paper.title, profile: plan.profile, claims, tables: [], figures: [], dir };
}
