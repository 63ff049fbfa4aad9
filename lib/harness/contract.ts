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

/**
 * smoke: seconds (tests, notebook CI); quick: minutes on 2 CPU cores, what CI judges; full: the
 * largest setting that runs on the 2-core CI machine within an hour per paper (actually run,
 * its results committed under results/reference/full/); paper: the paper-scale setting one
 * GPU affords (code path covered at smoke, not run here).
 */
export type ProfileName = 'smoke' | 'quick' | 'full' | 'paper';
export const PROFILES: readonly ProfileName[] = ['smoke', 'quick', 'full', 'paper'];

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
  /**
   * Runs `section` with no other job of this run computing (parallel jobs wait), and
   * records the machine's load around it: wrap every section whose wall time a claim judges.
   */
  exclusive<T>(label: string, section: () => Promise<T>): Promise<T>;
}

/**
 * Why a claim cannot be judged on this result: a declared precondition, never an
 * experiment outcome (an outcome gets a verdict: see Outcome).
 * - 'data': an optional dataset is not installed;
 * - 'backend': the claim needs a backend that is not available here;
 * - 'config': the config was overridden (--set) so that the claim has nothing to measure;
 *   with the committed profile config this is a defect and fails the run.
 */
export interface NotRun {
  notRun: string;
  precondition: 'data' | 'backend' | 'config';
}

/**
 * A measured outcome that decides the claim without a number to put in an interval,
 * e.g. "Shampoo did not end below first order, so there is no gap to close" (not
 * reproduced), or "FLASH never reached the target; the speed-up is only bounded by 1.4x"
 * (inconclusive). Any seed's not-reproduced outcome decides the claim.
 */
export interface Outcome {
  outcome: 'not-reproduced' | 'inconclusive';
  reason: string;
}

export type MetricValue = number | NotRun | Outcome;

export interface Expectation {
  atLeast?: number;
  atMost?: number;
}

/** The verdicts a claim can get (lib/harness/verdicts.ts). */
export type Verdict = 'reproduced' | 'not-reproduced' | 'inconclusive' | 'not-run';

/**
 * The verdict we expect at a profile, when it is not 'reproduced'. The run fails (exit 1)
 * when a verdict differs from its expectation in either direction. A reason is backed by a
 * measurement in the repository (`evidence`: the command and the committed result that
 * show it) or labelled a hypothesis.
 */
export interface ExpectedVerdict {
  verdict: 'not-reproduced' | 'inconclusive';
  reason: string;
  evidence?: string;
  hypothesis?: true;
}

export interface Claim<R> {
  /** Stable id, kebab-case, unique across the suite, starting with the paper id (or its short form). */
  id: string;
  /**
   * 'paper': what the paper says; counted in the headline and able to fail against the null
   * in `falsifiedBy`. 'check': true by construction or a sanity bound; shown apart, never
   * counted as a reproduction.
   */
  kind: 'paper' | 'check';
  /** e.g. 'arXiv:2103.05896' */
  paper: string;
  /** Where in the paper: 'Fig. 2', 'Table 1', 'abstract', 'Theorem 1'. */
  source: string;
  statement: string;
  /** The paper's own number, as text (units, '~', ranges). */
  paperValue: string;
  /** What `metric` measures, with units, e.g. 'error(SGD) / error(SGD-RER) at T=20000'. */
  measures: string;
  /** For a paper claim: the null or baseline it beats, i.e. what result would fail it. */
  falsifiedBy: string;
  /** Computed on one seed's result; judged across seeds on a 95% interval (lib/harness/verdicts.ts). */
  metric(result: R): MetricValue;
  expect: Expectation;
  /** Why this tolerance — decided before looking at the result. */
  toleranceWhy: string;
  /** Profiles at which the claim is judged; others report not-run. */
  profiles: ProfileName[];
  /** The expected verdict per profile where it is not 'reproduced' (replaces a "known" list). */
  expected?: Partial<Record<ProfileName, ExpectedVerdict>>;
  /**
   * The metric's standard deviation across seeds, measured in a multi-seed pilot recorded
   * in the repository (`source`: where). Only with it can one seed decide the claim.
   */
  noise?: { sd: number; source: string };
  /**
   * A wall-time claim: its contenders are timed interleaved (A B A B ...) inside
   * ctx.exclusive, `reps` gives the paired per-repetition values (e.g. per-rep ratios) the
   * interval is computed from, and a machine busier than its cores makes it inconclusive.
   */
  timing?: { reps(result: R): number[] };
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
   * Optional: about how many seconds one seed takes per profile (measured; the 2-core CI
   * machine for smoke and quick). Only for scheduling (most expensive first) and the ETA
   * of a parallel run; lib/papers/registry.ts holds a table for papers that do not say.
   */
  expectedSeconds?: Partial<Record<ProfileName, number>>;
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
