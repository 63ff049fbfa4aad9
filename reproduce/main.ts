/**
 * The reproduce CLI: validate everything, pick a backend, run (paper, seed) jobs,
 * judge the claims, write results + REPORT.md, print a summary. `main` returns
 * the exit code so tests can run it in-process with their own paper registry.
 */
import * as path from 'node:path';
import { selectBackend, type BackendInfo } from '../lib/core/backend';
import { applyOverrides, configKeys } from '../lib/core/config';
import { abortOpenAppenders, asDiskFull, assertWritableDir, removeOwnTempFiles, removeStaleTempFiles } from '../lib/core/atomic-fs';
import { UsageError } from '../lib/core/errors';
import { formatHeadline, formatMeasured, headlines, isUnexpected, verdictLabel, type ClaimRecord } from '../lib/harness/verdicts';
import { writeReport } from '../lib/report/write-report';
import { PAPERS, getPaper, paperIds, type AnyPaper } from '../lib/papers/registry';
import { finalizePaper, makePlan, paperDir, readJobChecked, readPlan, writePlan, writeUnavailable, type PaperPlan, type PaperSummary } from '../lib/harness/runner';
import { describeHolder, liveLocks, removeStaleLocks } from '../lib/harness/job-lock';
import { PROFILES } from '../lib/harness/contract';
import { parseCli, USAGE, type CliOptions } from './args';
import { expectedCosts } from './costs';
import { runDoctor } from './doctor';
import { Scheduler, type Job } from './schedule';
import { shellQuote } from './shell';
import * as fs from 'node:fs';

export interface MainIO {
  papers?: readonly AnyPaper[];
  /**
   * A module whose export PAPERS holds `papers`, for the worker processes of a parallel
   * run (they cannot be handed functions); default lib/papers/registry.ts.
   */
  papersModule?: string;
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
}

interface Selected {
  paper: AnyPaper;
  config: object;
  /** The --set overrides that apply to this paper. */
  overrides: string[];
  seeds: number[];
  /** Why this paper cannot run here (its claims report not-run), or undefined. */
  unavailable: string | undefined;
}

/** The --set overrides that apply to `paper`: 'paper.key=value' to that paper, 'key=value' to every selected paper. */
export function overridesFor(paper: AnyPaper, opts: CliOptions, papers: readonly AnyPaper[]): string[] {
  const mine: string[] = [];
  for (const set of opts.sets) {
    const key = set.split('=')[0];
    const dot = key.indexOf('.');
    const prefix = dot > 0 ? key.slice(0, dot) : '';
    if (prefix && papers.some((p) => p.id === prefix)) {
      if (prefix === paper.id) mine.push(set.slice(dot + 1));
    } else {
      mine.push(set);
    }
  }
  return mine;
}

/** The profile config with this paper's --set overrides applied. (Also used by `npm run slurm` to validate before submitting.) */
export function configFor(paper: AnyPaper, opts: CliOptions, papers: readonly AnyPaper[]): object {
  return applyOverrides(paper.profiles[opts.profile], overridesFor(paper, opts, papers), `paper ${paper.id} (profile ${opts.profile})`);
}

function commandLine(opts: CliOptions, paper: AnyPaper, seeds: number[], backend: BackendInfo): string {
  const parts = ['npm run reproduce --', `--only ${paper.id}`, `--profile ${opts.profile}`, `--seeds ${seeds.join(',')}`, `--backend ${backend.name}`];
  for (const s of opts.sets) {
    const key = s.split('=')[0];
    if (!key.includes('.') || key.startsWith(paper.id + '.')) parts.push(`--set ${shellQuote(s)}`);
  }
  return parts.join(' ');
}

function listPapers(papers: readonly AnyPaper[], write: (t: string) => void): void {
  for (const p of papers) {
    write(`${p.id} — ${p.title} (${p.references.join('; ')})\n`);
    for (const prof of PROFILES) write(`  profile ${prof}: seeds ${p.defaultSeeds[prof].join(',')}\n`);
    write(`  config keys: ${configKeys(p.profiles.quick).join(', ')}\n`);
    for (const c of p.claims) write(`  claim ${c.id} [${c.profiles.join('/')}]: ${c.statement} (paper: ${c.paperValue}; ${c.source})\n`);
  }
}

function summaryTable(summaries: PaperSummary[]): string {
  const rows = summaries.flatMap((s) => s.claims.map((c) => [s.paper, s.profile, c.kind, c.id, c.paperValue, formatMeasured(c.measured), c.tolerance, verdictLabel(c)]));
  const head = ['paper', 'profile', 'kind', 'claim', 'paper value', 'measured [95% interval]', 'tolerance', 'verdict'];
  const widths = head.map((h, i) => Math.min(48, Math.max(h.length, ...rows.map((r) => r[i].length))));
  const fmt = (r: string[]) => r.map((c, i) => (c.length > widths[i] ? c.slice(0, widths[i] - 1) + '…' : c.padEnd(widths[i]))).join('  ');
  return [fmt(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt)].join('\n') + '\n';
}

function exitCodeFor(claims: ClaimRecord[]): number {
  return claims.some(isUnexpected) ? 1 : 0;
}

/** Exit codes for a run stopped by a signal: 128 + the signal's number, as a shell reports it. */
const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;

async function merge(opts: CliOptions, papers: readonly AnyPaper[], err: (t: string) => void): Promise<PaperSummary[]> {
  const out = path.resolve(opts.out);
  if (!fs.existsSync(out)) throw new UsageError(`nothing to merge: --out ${opts.out} does not exist`);
  const busy = liveLocks(out);
  if (busy.length > 0) {
    const what = busy.map((b) => `${path.relative(out, b.file)} by ${describeHolder(b.holder)}`).join('; ');
    throw new UsageError(`cannot merge ${opts.out} yet: a job is still being computed (${what}); wait for that shard or run to finish, then merge`);
  }
  // No job is being computed, so a temp file or lock left here is a killed writer's.
  removeStaleTempFiles(out, { foreign: true });
  removeStaleLocks(out, { all: true });
  const found: { paper: AnyPaper; plan: PaperPlan; why: string | undefined }[] = [];
  for (const paper of papers) {
    for (const profile of PROFILES) {
      const plan = readPlan(paperDir(out, paper.id, profile));
      if (plan) found.push({ paper, plan, why: paper.unavailable?.(plan.config) });
    }
  }
  if (found.length === 0) throw new UsageError(`nothing to merge: no plan.json under ${opts.out} (run with --shard i/n first)`);
  // Refuse before writing anything, naming every missing (paper, seed) job at once.
  const missing = found.flatMap(({ paper, plan, why }) => {
    if (why) return [];
    const dir = paperDir(out, paper.id, plan.profile);
    const seeds = plan.seeds.flatMap((seed) => {
      const r = readJobChecked(dir, plan, seed);
      return r.job ? [] : [r.problem ? `${seed} (${r.problem})` : String(seed)];
    });
    return seeds.length ? [`${paper.id} (${plan.profile}) seed(s) ${seeds.join(',')}`] : [];
  });
  if (missing.length > 0) {
    throw new UsageError(`no completed result for ${missing.join('; ')} in ${opts.out}: a shard failed or did not run; re-run the missing shard(s) (same options + --shard i/n), then merge`);
  }
  const summaries: PaperSummary[] = [];
  for (const { paper, plan, why } of found) {
    err(`[merge] ${paper.id} (${plan.profile}): seeds ${plan.seeds.join(',')}\n`);
    const backend = { name: plan.backend, device: 'see shards', skipped: [] } as BackendInfo;
    summaries.push(why ? writeUnavailable(paper, plan, out, why, backend) : finalizePaper(paper, plan, out));
  }
  return summaries;
}

export async function main(argv: string[], io: MainIO = {}): Promise<number> {
  const papers = io.papers ?? PAPERS;
  const out = io.stdout ?? ((t: string) => process.stdout.write(t));
  const err = io.stderr ?? ((t: string) => process.stderr.write(t));
  /** The --out this command writes, once it has begun to (so a failure can remove its temp files there). */
  const writing: { dir?: string } = {};
  try {
    const opts = parseCli(argv, paperIds(papers));
    if (opts.help) {
      out(USAGE + '\n');
      return 0;
    }
    if (opts.data) process.env.REPRO_DATA = opts.data;
    if (opts.command === 'doctor') return await runDoctor(out);
    const selectedPapers = opts.only ? opts.only.map((id) => getPaper(id, papers)) : [...papers];
    if (opts.list) {
      listPapers(selectedPapers, out);
      return 0;
    }
    let summaries: PaperSummary[];
    if (opts.command === 'merge') {
      writing.dir = path.resolve(opts.out);
      summaries = await merge(opts, selectedPapers, err);
    } else {
      summaries = await run(opts, selectedPapers, papers, io.papersModule, err, out, writing);
      if (opts.shard) return 0;
    }
    const report = writeReport(path.resolve(opts.out));
    const claims = summaries.flatMap((s) => s.claims);
    const heads = headlines(claims);
    const unexpected = claims.filter(isUnexpected);
    if (opts.json) out(JSON.stringify({ report: report.path, headlines: heads, unexpected: unexpected.map((c) => c.id), papers: summaries.map((s) => ({ paper: s.paper, profile: s.profile, dir: s.dir, claims: s.claims })) }, null, 2) + '\n');
    else {
      const news = unexpected.map((c) => `  ${c.id} (${c.profile}): ${verdictLabel(c)}${c.reason && c.verdict !== 'not-run' ? ` — ${c.reason}` : ''}\n`).join('');
      out('\n' + summaryTable(summaries) + '\n' + heads.map((h) => formatHeadline(h) + '\n').join('') + (news ? `verdicts that differ from their expectation (exit 1):\n${news}` : '') + `report: ${report.path}\n`);
    }
    return exitCodeFor(claims);
  } catch (caught) {
    // A write that failed half-way may have left a temp file of ours (e.g. a copy that hit
    // a full disk), or of a worker stopped because of it.
    if (writing.dir) {
      removeOwnTempFiles(writing.dir);
      removeStaleTempFiles(writing.dir);
    }
    const e = asDiskFull(caught) ?? caught;
    if (e instanceof UsageError) {
      err(`reproduce: ${e.message}\n`);
      return e.exitCode;
    }
    err(`reproduce: internal error: ${(e as Error).stack ?? e}\n`);
    return 1;
  }
}

async function run(
  opts: CliOptions,
  selectedPapers: AnyPaper[],
  papers: readonly AnyPaper[],
  papersModule: string | undefined,
  err: (t: string) => void,
  out: (t: string) => void,
  writing: { dir?: string },
): Promise<PaperSummary[]> {
  // 1. Everything that can be checked without side effects.
  const selected: Selected[] = selectedPapers.map((paper) => {
    const config = configFor(paper, opts, papers);
    return { paper, config, overrides: overridesFor(paper, opts, papers), seeds: opts.seeds ?? paper.defaultSeeds[opts.profile], unavailable: paper.unavailable?.(config) };
  });
  for (const s of selected) {
    s.paper.validate(s.config);
    s.paper.checkData?.(s.config);
  }
  // 2. The backend (fails with exit 2 if a forced one cannot load).
  const backend = await selectBackend(opts.backend, opts.quiet ? () => {} : (l) => err(l + '\n'));
  // 3. The output directory.
  const outDir = path.resolve(opts.out);
  const problem = assertWritableDir(outDir);
  if (problem) throw new UsageError(`cannot write --out '${opts.out}' (${problem}); choose a writable directory`);
  writing.dir = outDir;
  const plans = new Map<string, PaperPlan>();
  for (const s of selected) {
    const plan = makePlan(s.paper, opts.profile, s.config, s.seeds, backend, commandLine(opts, s.paper, s.seeds, backend), s.overrides);
    assertNotInUse(outDir, opts.out, plan);
    plans.set(s.paper.id, plan);
  }
  // What killed runs left (temp files and locks of dead processes on this host); another
  // run's or shard's in-flight files are left alone.
  removeStaleTempFiles(outDir);
  removeStaleLocks(outDir);
  for (const plan of plans.values()) writePlan(outDir, plan);

  // Jobs in a fixed order; shard i takes every n-th (round robin balances papers).
  const all = selected.flatMap((s) => s.seeds.map((seed) => ({ s, seed })));
  const mine = opts.shard ? all.filter((_, k) => k % opts.shard!.count === opts.shard!.index) : all;
  const costs = expectedCosts(selected.map((s) => s.paper), opts.profile, outDir);
  const jobs: Job[] = mine
    .filter(({ s }) => !s.unavailable)
    .map(({ s, seed }) => ({ paper: s.paper, plan: plans.get(s.paper.id)!, seed, dir: paperDir(outDir, s.paper.id, opts.profile), cost: costs.get(s.paper.id)! }));
  const scheduler = new Scheduler(jobs, { jobs: opts.jobs, jobsGiven: opts.jobsGiven, force: opts.force, quiet: opts.quiet, out: outDir, backend, papersModule, log: (l) => err(l + '\n') });

  // Ctrl-C (or a TERM/HUP): stop every worker, remove what was half-written, keep finished jobs.
  const onSignal = (signal: keyof typeof SIGNAL_EXIT) => {
    const stopped = scheduler.running;
    scheduler.abort();
    abortOpenAppenders();
    removeStaleTempFiles(outDir);
    err(`reproduce: interrupted by ${signal}: stopped ${stopped} running job(s); finished jobs are kept in ${opts.out}: rerun the same command to resume\n`);
    process.exit(SIGNAL_EXIT[signal]);
  };
  const handlers = (Object.keys(SIGNAL_EXIT) as (keyof typeof SIGNAL_EXIT)[]).map((sig) => [sig, () => onSignal(sig)] as const);
  for (const [sig, h] of handlers) process.on(sig, h);
  try {
    await scheduler.run();
    if (opts.shard) {
      out(`shard ${opts.shard.index}/${opts.shard.count}: ${mine.length} job(s) done in ${outDir}; when every shard is done: npm run reproduce -- merge --out ${opts.out}\n`);
      return [];
    }
    return selected.map((s) => {
      const plan = plans.get(s.paper.id)!;
      return s.unavailable ? writeUnavailable(s.paper, plan, outDir, s.unavailable, backend) : finalizePaper(s.paper, plan, outDir);
    });
  } finally {
    for (const [sig, h] of handlers) process.off(sig, h);
  }
}

/**
 * Two runs on one --out with different configs of the same paper and profile would take
 * turns overwriting each other's job files (one file per seed): refuse the second while
 * the first is computing.
 */
function assertNotInUse(outDir: string, outArg: string, plan: PaperPlan): void {
  const dir = paperDir(outDir, plan.paper, plan.profile);
  let existing: PaperPlan | undefined;
  try {
    existing = readPlan(dir);
  } catch {
    return; // a torn plan.json: this run rewrites it
  }
  if (!existing || existing.planHash === plan.planHash) return;
  const busy = liveLocks(path.join(dir, 'jobs'));
  if (busy.length > 0) {
    throw new UsageError(`--out '${outArg}' is in use: ${plan.paper} (${plan.profile}) is being computed there with another config by ${describeHolder(busy[0].holder)}; wait for that run or choose another --out`);
  }
}
