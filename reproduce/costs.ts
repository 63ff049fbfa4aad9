/**
 * Expected seconds of one (paper, seed) job, to start the most expensive jobs first and to
 * weight the ETA (./progress-board.ts). Best evidence first:
 *   1. measured here: the jobs of an earlier run in this --out (its run.json, or the job
 *      files a killed run left), whatever config they had at this profile;
 *   2. the paper's `expectedSeconds` for the profile (contract, optional), or the table in
 *      lib/papers/registry.ts (measured on the 2-core CI machine);
 *   3. unknown: the median of the others (10 s when nothing is known).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ProfileName } from '../lib/harness/contract';
import { files, jobSchema, readIfValid, runSchema } from '../lib/harness/files';
import { expectedSecondsOf, type AnyPaper } from '../lib/papers/registry';

const FALLBACK_SECONDS = 10;

function mean(xs: number[]): number | undefined {
  const ok = xs.filter((x) => Number.isFinite(x) && x > 0);
  return ok.length ? ok.reduce((a, b) => a + b, 0) / ok.length : undefined;
}

/** Seconds per job measured by an earlier run in `dir` (<out>/<paper>/<profile>), if any. */
export function measuredSeconds(dir: string): number | undefined {
  const run = readIfValid(files.run(dir), runSchema);
  const fromRun = run && mean(run.jobs.map((j) => j.wallSeconds));
  if (fromRun !== undefined) return fromRun;
  let names: string[] = [];
  try {
    names = fs.readdirSync(path.join(dir, 'jobs')).filter((n) => /^seed-\d+\.json$/.test(n));
  } catch {
    return undefined;
  }
  return mean(names.map((n) => readIfValid(path.join(dir, 'jobs', n), jobSchema)?.wallSeconds ?? NaN));
}

/** Expected seconds per job of each paper at `profile`, keyed by paper id. */
export function expectedCosts(papers: readonly AnyPaper[], profile: ProfileName, out: string): Map<string, number> {
  const known = new Map<string, number>();
  for (const p of papers) {
    const s = measuredSeconds(files.paperDir(out, p.id, profile)) ?? expectedSecondsOf(p, profile);
    if (s !== undefined && s > 0) known.set(p.id, s);
  }
  const values = [...known.values()].sort((a, b) => a - b);
  const median = values.length ? values[Math.floor(values.length / 2)] : FALLBACK_SECONDS;
  return new Map(papers.map((p) => [p.id, known.get(p.id) ?? median]));
}
