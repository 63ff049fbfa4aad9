/**
 * Runs a paper's (seed) jobs and turns their results into claims, figures and
 * run.json. The reproduce CLI and the notebooks both call this, so there is one
 * path from config to verdict.
 *
 * On disk (DESIGN §6), under <out>/<paper>/<profile>/:
 *   plan.json                    what is being run (config, seeds, backend) — shards agree on it
 *   jobs/seed-<n>.json           one seed's result, cached by a hash of (paper, config, seed, backend)
 *   jobs/seed-<n>.metrics.jsonl  that seed's logged metrics, one JSON record per line
 *   run.json, metrics.jsonl, claims.json, figures/   written by `finalizePaper`
 * Every file is written atomically, so a killed run leaves nothing a later run trusts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BackendInfo } from '../core/backend';
import { applyOverrides, configHash } from '../core/config';
import { UsageError } from '../core/errors';
import { Progress } from '../core/progress';
import { gitInfo, machineInfo, packageVersions } from '../core/provenance';
import { PACKAGE_NAME, repoRoot } from '../core/paths';
import { RunRng } from '../core/rng';
import { readJsonIfValid, writeFileAtomic, writeJsonAtomic } from '../core/atomic-fs';
import { evaluateClaims, type ClaimRecord } from './verdicts';
import { exportFigures, renderFigures, type RenderedFigure } from '../figures/render';
import type { Claim, PaperDefinition, ProfileName, RunContext, SeedResult } from './contract';

export interface PaperPlan {
  paper: string;
  profile: ProfileName;
  config: object;
  seeds: number[];
  backend: string;
  /** Hash of (paper, config, backend); a job's cache key adds its seed. */
  planHash: string;
  /** The command line that reproduces this run, for provenance and `cite`. */
  command: string;
}

export interface JobRecord<R = unknown> {
  paper: string;
  profile: ProfileName;
  seed: number;
  planHash: string;
  jobHash: string;
  backend: BackendInfo;
  startedAt: string;
  endedAt: string;
  wallSeconds: number;
  result: R;
}

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

export function paperDir(out: string, paper: string, profile: ProfileName): string {
  return path.join(out, paper, profile);
}

export function makePlan<C extends object>(paper: PaperDefinition<C, unknown>, profile: ProfileName, config: C, seeds: number[], backend: BackendInfo, command: string): PaperPlan {
  return { paper: paper.id, profile, config, seeds, backend: backend.name, planHash: configHash({ paper: paper.id, config, backend: backend.name }), command };
}

function jobFile(dir: string, seed: number): string {
  return path.join(dir, 'jobs', `seed-${seed}.json`);
}

function jobHash(plan: PaperPlan, seed: number): string {
  return configHash({ plan: plan.planHash, seed });
}

/** Reads a completed job if it matches the plan; undefined when absent, torn or stale. */
export function readJob<R>(dir: string, plan: PaperPlan, seed: number): JobRecord<R> | undefined {
  const rec = readJsonIfValid<JobRecord<R>>(jobFile(dir, seed));
  return rec && rec.jobHash === jobHash(plan, seed) ? rec : undefined;
}

/** Runs (or reuses) one seed of a paper. */
export async function runJob<C extends object, R>(
  paper: PaperDefinition<C, R>,
  plan: PaperPlan,
  seed: number,
  backend: BackendInfo,
  opts: RunJobsOptions,
): Promise<JobOutcome<R>> {
  const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const dir = opts.out ? paperDir(opts.out, paper.id, plan.profile) : undefined;
  if (dir && !opts.force) {
    const cached = readJob<R>(dir, plan, seed);
    if (cached) {
      if (!opts.quiet) log(`[${paper.id}] seed ${seed}: cached result reused (${jobFile(dir, seed)}; --force re-runs)`);
      return { seed, result: cached.result, cached: true, wallSeconds: cached.wallSeconds };
    }
  }
  const metricsPath = dir ? path.join(dir, 'jobs', `seed-${seed}.metrics.jsonl`) : undefined;
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
    const rec: JobRecord<R> = {
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
    };
    writeJsonAtomic(jobFile(dir, seed), rec);
  }
  if (!opts.quiet) log(`[${paper.id}] seed ${seed}: done in ${wallSeconds.toFixed(1)}s`);
  return { seed, result, cached: false, wallSeconds };
}

export function writePlan(out: string, plan: PaperPlan): void {
  writeJsonAtomic(path.join(paperDir(out, plan.paper, plan.profile), 'plan.json'), plan);
}

export function readPlan(dir: string): PaperPlan | undefined {
  return readJsonIfValid<PaperPlan>(path.join(dir, 'plan.json'));
}

export interface PaperSummary {
  paper: string;
  title: string;
  profile: ProfileName;
  claims: ClaimRecord[];
  figures: { name: string; title: string; files: { vl: string; svg: string; png: string } }[];
  dir: string;
}

/** The suite's version (package.json), for citing a figure; null where there is no package.json (a bundle). */
function suiteVersion(): string | null {
  const pkg = readJsonIfValid<{ name?: string; version?: string }>(path.join(repoRoot(), 'package.json'));
  return pkg?.name === PACKAGE_NAME && typeof pkg.version === 'string' ? pkg.version : null;
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

/** Claims + figures (in memory) from seed results: what a notebook shows. */
export function summarize<C extends object, R>(paper: PaperDefinition<C, R>, plan: PaperPlan, results: SeedResult<R>[], backend: BackendInfo): { claims: ClaimRecord[]; figures: RenderedFigure[] } {
  const claims = evaluateClaims(paper.claims, results, plan.profile);
  const figures = renderFigures(paper.figures(results, plan.config as C), figureProvenance(plan, backend));
  return { claims, figures };
}

/**
 * Builds run.json, metrics.jsonl, claims.json and figures/ from the completed jobs
 * of a plan (all shards' work). Throws UsageError if a seed's job is missing.
 */
export function finalizePaper<C extends object, R>(paper: PaperDefinition<C, R>, plan: PaperPlan, out: string): PaperSummary {
  const dir = paperDir(out, paper.id, plan.profile);
  const jobs: JobRecord<R>[] = [];
  const missing: number[] = [];
  for (const seed of plan.seeds) {
    const j = readJob<R>(dir, plan, seed);
    if (j) jobs.push(j);
    else missing.push(seed);
  }
  if (missing.length > 0) {
    throw new UsageError(`no completed result for ${paper.id} (${plan.profile}) seed(s) ${missing.join(',')} in ${dir}: run the missing shard(s) first`);
  }
  // Shards may run on different machines: name every device that computed a seed.
  const devices = [...new Set(jobs.map((j) => j.backend.device))];
  const backend: BackendInfo = { ...jobs[0].backend, device: devices.join('; ') };
  const results: SeedResult<R>[] = jobs.map((j) => ({ seed: j.seed, result: j.result }));
  const claims = evaluateClaims(paper.claims, results, plan.profile);
  writeJsonAtomic(path.join(dir, 'claims.json'), claims);

  const metrics = plan.seeds.map((s) => {
    const p = path.join(dir, 'jobs', `seed-${s}.metrics.jsonl`);
    return fs.existsSync(p) ? fs.readFileSync(p, 'utf8') : '';
  });
  writeFileAtomic(path.join(dir, 'metrics.jsonl'), metrics.join(''));

  const figDefs = paper.figures(results, plan.config as C);
  const figures = exportFigures(path.join(dir, 'figures'), figDefs, figureProvenance(plan, backend)).map((f) => ({
    ...f,
    files: { vl: `figures/${f.files.vl}`, svg: `figures/${f.files.svg}`, png: `figures/${f.files.png}` },
  }));
  writeJsonAtomic(path.join(dir, 'figures', 'figures.json'), figures.map((f) => ({ ...f, provenance: figureProvenance(plan, backend) })));

  const starts = jobs.map((j) => j.startedAt).sort();
  const ends = jobs.map((j) => j.endedAt).sort();
  writeRunJson(paper, plan, dir, backend, {
    startedAt: starts[0],
    endedAt: ends[ends.length - 1],
    wallSeconds: jobs.reduce((a, j) => a + j.wallSeconds, 0),
    jobs: jobs.map((j) => ({ seed: j.seed, startedAt: j.startedAt, endedAt: j.endedAt, wallSeconds: j.wallSeconds, backend: j.backend.name, device: j.backend.device })),
  });
  return { paper: paper.id, title: paper.title, profile: plan.profile, claims, figures, dir };
}

/** run.json: the provenance of one paper run (DESIGN §4) plus what varies (times, jobs). */
function writeRunJson(paper: { id: string; title: string; references: string[] }, plan: PaperPlan, dir: string, backend: BackendInfo, extra: Record<string, unknown>): void {
  writeJsonAtomic(path.join(dir, 'run.json'), {
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

/** Every claim of a paper that cannot run here, as not-run with the reason. */
function notRunClaims<R>(claims: Claim<R>[], profile: ProfileName, reason: string): ClaimRecord[] {
  return evaluateClaims(claims, [], profile).map((c) => ({ ...c, verdict: 'not-run', reason, expected: true, measured: null }));
}

/** A paper that cannot run here (e.g. optional dataset not installed): every claim is not-run with the reason. */
export function writeUnavailable<C extends object, R>(paper: PaperDefinition<C, R>, plan: PaperPlan, out: string, reason: string, backend: BackendInfo): PaperSummary {
  const dir = paperDir(out, paper.id, plan.profile);
  const claims = notRunClaims(paper.claims, plan.profile, reason);
  writeJsonAtomic(path.join(dir, 'claims.json'), claims);
  writeJsonAtomic(path.join(dir, 'figures', 'figures.json'), []);
  const now = new Date().toISOString();
  writeRunJson(paper, plan, dir, backend, { startedAt: now, endedAt: now, wallSeconds: 0, unavailable: reason, jobs: [] });
  return { paper: paper.id, title: paper.title, profile: plan.profile, claims, figures: [], dir };
}

export interface InMemoryRun<R> {
  plan: PaperPlan;
  backend: BackendInfo;
  results: SeedResult<R>[];
  claims: ClaimRecord[];
  figures: RenderedFigure[];
}

/**
 * What a notebook calls: the same jobs the CLI runs, for one paper, kept in memory.
 * `backend` must already be selected (selectBackend) so the notebook shows which.
 */
export async function runPaperInMemory<C extends object, R>(
  paper: PaperDefinition<C, R>,
  opts: { profile: ProfileName; backend: BackendInfo; seeds?: number[]; sets?: string[]; quiet?: boolean },
): Promise<InMemoryRun<R>> {
  const config = applyOverrides(paper.profiles[opts.profile], opts.sets ?? [], `paper ${paper.id} (profile ${opts.profile})`);
  paper.checkData?.(config);
  const seeds = opts.seeds ?? paper.defaultSeeds[opts.profile];
  const plan = makePlan(paper, opts.profile, config, seeds, opts.backend, `npm run reproduce -- --only ${paper.id} --profile ${opts.profile} --seeds ${seeds.join(',')} --backend ${opts.backend.name}`);
  const why = paper.unavailable?.(config);
  if (why) {
    return { plan, backend: opts.backend, results: [], claims: notRunClaims(paper.claims, opts.profile, why), figures: [] };
  }
  const results: SeedResult<R>[] = [];
  for (const seed of seeds) {
    const o = await runJob(paper, plan, seed, opts.backend, { quiet: opts.quiet });
    results.push({ seed, result: o.result });
  }
  const { claims, figures } = summarize(paper, plan, results, opts.backend);
  return { plan, backend: opts.backend, results, claims, figures };
}

/** The profile a notebook runs: REPRO_NOTEBOOK_PROFILE (set by `npm run notebooks`), else smoke. */
export function notebookProfile(): ProfileName {
  const p = process.env.REPRO_NOTEBOOK_PROFILE ?? 'smoke';
  if (!(['smoke', 'quick', 'full'] as string[]).includes(p)) throw new UsageError(`unknown REPRO_NOTEBOOK_PROFILE '${p}'; valid profiles: smoke, quick or full`);
  return p as ProfileName;
}
