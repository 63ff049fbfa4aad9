/**
 * What a notebook opens: the results `npm run reproduce` already wrote for this paper,
 * profile and config (same results directory, same plan hash, same job cache), with only
 * the missing seeds computed, through the same runner, into the same cache. The
 * notebook then says which run its numbers come from.
 *
 * A notebook whose overrides make a different plan does not evict the CLI's cached jobs
 * (there is one job file per seed): it keeps its own cache beside them, under
 * <results>/notebook-runs/<paper>-<plan hash>/.
 */
import * as path from 'node:path';
import { selectBackend, type BackendInfo } from '../core/backend';
import { applyOverrides } from '../core/config';
import { repoRoot } from '../core/paths';
import { renderFigures, type RenderedFigure } from '../figures/render';
import type { PaperDefinition, ResultTable, SeedResult } from '../harness/contract';
import { files, readIfValid, runSchema, type ClaimRecord, type JobMachine } from '../harness/files';
import { checkOverrides, checkSeeds, parseProfile } from '../harness/params';
import { figureProvenance, judgeContext, makePlan, readJob, readPlan, runJob, withHistory, type PaperPlan } from '../harness/runner';
import { evaluateClaims } from '../harness/verdicts';

/** The values of a notebook's parameters cell. */
export interface NotebookParams {
  /** smoke, quick, full or paper (the CLI's profiles). */
  profile: string;
  /** null: the profile's default seeds. */
  seeds?: number[] | null;
  /** --set style 'key=value' overrides. */
  overrides?: string[];
  /** Where `npm run reproduce` wrote its results (its --out), relative to the repository. */
  results?: string;
  /** auto, wasm, cpu, webgpu or tensorflow. */
  backend?: string;
  quiet?: boolean;
}

export interface RunSource {
  /** The results directory the jobs were read from or written to. */
  dir: string;
  /** Seeds whose results were already in the cache. */
  reused: number[];
  /** Seeds computed now (and written to the cache). */
  computed: number[];
  /** The CLI run that finished these results, when its run.json matches this plan. */
  cliRun?: { commit: string | null; dirty: boolean | null; endedAt: string; backend: string; device: string };
}

export interface PaperSession<R> {
  plan: PaperPlan;
  backend: BackendInfo;
  results: SeedResult<R>[];
  claims: ClaimRecord[];
  tables: ResultTable[];
  figures: RenderedFigure[];
  source: RunSource;
}

/** The CLI's command for this plan (so a notebook and `npm run reproduce` share the plan hash and the provenance). */
function commandFor(id: string, profile: string, seeds: number[], backend: string, overrides: string[]): string {
  return ['npm run reproduce --', `--only ${id}`, `--profile ${profile}`, `--seeds ${seeds.join(',')}`, `--backend ${backend}`, ...overrides.map((s) => `--set '${s}'`)].join(' ');
}

export async function openPaper<C extends object, R>(paper: PaperDefinition<C, R>, params: NotebookParams): Promise<PaperSession<R>> {
  // Checked exactly as the CLI checks its options, so a bad value gets the same one line.
  const profile = parseProfile(params.profile);
  const seeds = checkSeeds(params.seeds ?? paper.defaultSeeds[profile]);
  const overrides = checkOverrides(params.overrides ?? []);
  const config = applyOverrides(paper.profiles[profile], overrides, `paper ${paper.id} (profile ${profile})`);
  const log = params.quiet ? () => {} : (line: string) => console.log(line);
  const backend = await selectBackend(params.backend ?? 'auto', log);
  const plan = makePlan(paper, profile, config, seeds, backend, commandFor(paper.id, profile, seeds, backend.name, overrides), overrides);

  const results = path.resolve(repoRoot(), params.results ?? 'results');
  const cliDir = files.paperDir(results, paper.id, profile);
  const cliPlan = readPlan(cliDir);
  // The CLI's slot when it holds this plan (or nothing yet); otherwise a cache of our own.
  const out = !cliPlan || cliPlan.planHash === plan.planHash ? results : path.join(results, 'notebook-runs', `${paper.id}-${plan.planHash}`);
  const dir = files.paperDir(out, paper.id, profile);

  const source: RunSource = { dir, reused: [], computed: [] };
  const run = readIfValid(files.run(dir), runSchema);
  if (run && run.configHash === plan.planHash) source.cliRun = { commit: run.git.commit, dirty: run.git.dirty, endedAt: run.endedAt, backend: run.backend.name, device: run.backend.device };

  const out2: SeedResult<R>[] = [];
  const jobs: { seed: number; machine: JobMachine }[] = [];
  for (const seed of seeds) {
    const cached = readJob(dir, plan, seed);
    const o = await runJob(paper, plan, seed, backend, { out, quiet: params.quiet, log });
    (cached ? source.reused : source.computed).push(seed);
    out2.push({ seed, result: o.result });
    jobs.push(o);
  }
  return {
    plan,
    backend,
    results: out2,
    claims: withHistory(evaluateClaims(paper.claims, out2, judgeContext(plan, jobs))),
    tables: paper.tables(out2, config),
    figures: renderFigures(paper.figures(out2, config), figureProvenance(plan, backend)),
    source,
  };
}

/** One sentence on where the numbers come from. */
export function describeSource(s: PaperSession<unknown>): string {
  const seeds = `seeds ${s.plan.seeds.join(', ')}`;
  const where = path.relative(repoRoot(), s.source.dir) || s.source.dir;
  const reused = s.source.reused.length ? `reused ${s.source.reused.length} cached seed(s) from ${where}` : `no cached result in ${where}`;
  const computed = s.source.computed.length ? `; computed seed(s) ${s.source.computed.join(', ')} now (${s.backend.name})` : '';
  const cli = s.source.cliRun ? ` The cached results come from the reproduce run that ended ${s.source.cliRun.endedAt} (commit ${s.source.cliRun.commit?.slice(0, 12) ?? 'unknown'}${s.source.cliRun.dirty ? ', dirty' : ''}, ${s.source.cliRun.backend} on ${s.source.cliRun.device}).` : '';
  return `${s.plan.paper}, profile ${s.plan.profile}, ${seeds}, config hash ${s.plan.planHash}: ${reused}${computed}.${cli}`;
}
