/**
 * What a notebook calls: the same plan, jobs and verdicts as the CLI, for one paper,
 * kept in memory, with figures rendered by the same out-of-process renderer.
 */
import type { BackendInfo } from '../core/backend';
import { applyOverrides } from '../core/config';
import { listChoices, UsageError } from '../core/errors';
import { renderFigures, type RenderedFigure } from '../figures/render';
import { PROFILES, type PaperDefinition, type ProfileName, type ResultTable, type SeedResult } from './contract';
import type { ClaimRecord, JobMachine } from './files';
import { figureProvenance, judgeContext, makePlan, runJob, withHistory, type PaperPlan } from './runner';
import { evaluateClaims, notRunClaims } from './verdicts';

export interface InMemoryRun<R> {
  plan: PaperPlan;
  backend: BackendInfo;
  results: SeedResult<R>[];
  claims: ClaimRecord[];
  tables: ResultTable[];
  figures: RenderedFigure[];
}

/** `backend` must already be selected (selectBackend) so the notebook shows which. */
export async function runPaperInMemory<C extends object, R>(
  paper: PaperDefinition<C, R>,
  opts: { profile: ProfileName; backend: BackendInfo; seeds?: number[]; sets?: string[]; quiet?: boolean },
): Promise<InMemoryRun<R>> {
  const config = applyOverrides(paper.profiles[opts.profile], opts.sets ?? [], `paper ${paper.id} (profile ${opts.profile})`);
  const seeds = opts.seeds ?? paper.defaultSeeds[opts.profile];
  const plan = makePlan(paper, opts.profile, config, seeds, opts.backend, `npm run reproduce -- --only ${paper.id} --profile ${opts.profile} --seeds ${seeds.join(',')} --backend ${opts.backend.name}`, opts.sets ?? []);
  const why = paper.unavailable?.(config);
  if (why) {
    return { plan, backend: opts.backend, results: [], claims: withHistory(notRunClaims(paper.claims, opts.profile, why)), tables: [], figures: [] };
  }
  const results: SeedResult<R>[] = [];
  const jobs: { seed: number; machine: JobMachine }[] = [];
  for (const seed of seeds) {
    const o = await runJob(paper, plan, seed, opts.backend, { quiet: opts.quiet });
    results.push({ seed, result: o.result });
    jobs.push(o);
  }
  return {
    plan,
    backend: opts.backend,
    results,
    claims: withHistory(evaluateClaims(paper.claims, results, judgeContext(plan, jobs))),
    tables: paper.tables(results, config),
    figures: renderFigures(paper.figures(results, config), figureProvenance(plan, opts.backend)),
  };
}

/** The profile a notebook runs: REPRO_NOTEBOOK_PROFILE (set by `npm run notebooks`), else smoke. */
export function notebookProfile(): ProfileName {
  const p = process.env.REPRO_NOTEBOOK_PROFILE ?? 'smoke';
  if (!(PROFILES as readonly string[]).includes(p)) throw new UsageError(`unknown REPRO_NOTEBOOK_PROFILE '${p}'; valid profiles: ${listChoices(PROFILES)}`);
  return p as ProfileName;
}
