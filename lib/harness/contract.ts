/**
 * The contract every paper implements. A paper is a folder lib/papers/<id>/ whose
 * index.ts exports a `PaperDefinition`; registering it in lib/papers/registry.ts is
 * all the CLI and the notebooks need (ARCHITECTURE.md, "Adding a paper").
 *
 * The life of a run, as the harness drives it:
 *   validate(config) and checkData(config)   before anything is written (bad input: exit 2)
 *   run(config, ctx) once per seed           a pure function of config and seed
 *   claims[i].metric(result) per seed        judged in lib/harness/verdicts.ts
 *   figures(results, config), tables(results, config)   shown by notebooks, REPORT.md, report.html
 */
import type { RunRng } from '../core/rng';
import type { Progress } from '../core/progress';
import type { FigureDef } from '../figures/types';

export type ProfileName = 'smoke' | 'quick' | 'full';
export const PROFILES: readonly ProfileName[] = ['smoke', 'quick', 'full'];

/** What a run gets from the harness. Everything random comes from `rng`. */
export interface RunContext {
  seed: number;
  rng: RunRng;
  profile: ProfileName;
  /** Active tfjs backend name (cpu, wasm, webgpu, tensorflow). */
  backend: string;
  /** One line on stderr (suppressed with --quiet). */
  log(message: string): void;
  /** A progress reporter on stderr with ETA. */
  progress(label: string, total: number): Progress;
  /** Appends one record to metrics.jsonl (the harness adds paper, seed, profile). */
  metric(record: Record<string, unknown>): void;
}

/** A claim cannot be judged on this result (e.g. dataset not installed). */
export interface NotRun {
  notRun: string;
}

export interface Expectation {
  atLeast?: number;
  atMost?: number;
}

export interface Claim<R> {
  /** Stable id, kebab-case, unique across the suite, starting with the paper id (or its short form). */
  id: string;
  /** e.g. 'arXiv:2103.05896' */
  paper: string;
  /** Where in the paper: 'Fig. 2', 'Table 1', 'abstract', 'Theorem 1'. */
  source: string;
  statement: string;
  /** The paper's own number, as text (units, '~', ranges). */
  paperValue: string;
  /** What `metric` measures, with units, e.g. 'error(SGD) / error(SGD-RER) at T=20000'. */
  measures: string;
  /** Computed on one seed's result; aggregated over seeds and judged in lib/harness/verdicts.ts. */
  metric(result: R): number | NotRun;
  expect: Expectation;
  /** Why this tolerance — decided before looking at the result. */
  toleranceWhy: string;
  /** Profiles at which the claim is judged; others report not-run. */
  profiles: ProfileName[];
  /**
   * A claim measured not to reproduce at a profile, with the reason we believe.
   * The verdict stays `not-reproduced`; the CLI only treats it as expected
   * (exit 0) so that CI flags changes, not known outcomes.
   */
  knownNotReproduced?: { profiles: ProfileName[]; reason: string };
}

export interface SeedResult<R> {
  seed: number;
  result: R;
}

/** One cell of a result table: text as is, numbers formatted by the renderer, null shown as '—'. */
export type TableCell = string | number | null;

/**
 * A per-paper result table (e.g. CALM's calibrated thresholds per measure and δ).
 * Data, not HTML: the notebook, REPORT.md and report.html render the same table
 * (lib/report/tables.ts).
 */
export interface ResultTable {
  /** Anchor-safe name: letters, digits and dashes. */
  name: string;
  title: string;
  columns: string[];
  rows: TableCell[][];
  /** One line under the table: units, which seed, what '—' means. */
  note?: string;
}

export interface PaperDefinition<C extends object = object, R = unknown> {
  id: string;
  title: string;
  /** arXiv ids or citations. */
  references: string[];
  /** Typed configs; `--set key=value` is validated against these. */
  profiles: Record<ProfileName, C>;
  /** Seeds run when --seeds is not given. */
  defaultSeeds: Record<ProfileName, number[]>;
  /**
   * Throws UsageError (one line naming the key, the bad value and what is valid) when a
   * config cannot run. Called before anything is written, by the CLI, Slurm and the notebooks.
   */
  validate(config: C): void;
  /**
   * Throws DataError (one line: file, package, install command) when data this
   * config needs is missing or corrupt. Called before anything is written.
   */
  checkData?(config: C): void;
  /** A reason this config cannot run here (optional dataset not installed, ...): its claims report not-run. */
  unavailable?(config: C): string | undefined;
  /** One seed's run: a pure function of config and ctx.seed. Result must be JSON-serialisable. */
  run(config: C, ctx: RunContext): Promise<R>;
  claims: Claim<R>[];
  /** Pure: results of all seeds -> Vega-Lite specs. */
  figures(results: SeedResult<R>[], config: C): FigureDef[];
  /** Pure: results of all seeds -> the paper's own result tables (may be empty). */
  tables(results: SeedResult<R>[], config: C): ResultTable[];
}
