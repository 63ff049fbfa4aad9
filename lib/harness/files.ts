/**
 * Every file the suite writes under --out, as one typed schema per file. The writer
 * fills in the inferred type and the reader checks the same schema, so a file from a
 * killed writer, an older version or a hand edit is rejected (and recomputed or
 * refused), never silently used. The files a later run trusts as a cache (plan.json, the
 * job files) also carry a sha256 of their own content (`checksum`), and a job file the
 * sha256 of its metrics file: an edit that keeps the schema is caught too.
 *
 *   <out>/<paper>/<profile>/plan.json                    PlanFile: what is being run; shards agree on it
 *   <out>/<paper>/<profile>/jobs/seed-<n>.json           JobFile: one seed's result, cached by job hash
 *   <out>/<paper>/<profile>/jobs/seed-<n>.metrics.jsonl  that seed's logged metrics, one JSON record per line
 *   <out>/<paper>/<profile>/jobs/seed-<n>.lock           while a process computes that seed (lib/harness/job-lock.ts)
 *   <out>/<paper>/<profile>/run.json                     RunFile: provenance, times, jobs
 *   <out>/<paper>/<profile>/metrics.jsonl                every seed's metrics, in seed order
 *   <out>/<paper>/<profile>/claims.json                  ClaimRecord[]: the verdicts
 *   <out>/<paper>/<profile>/tables.json                  ResultTable[]: the paper's own tables
 *   <out>/<paper>/<profile>/figures/figures.json         FigureIndexEntry[]: the exported figures
 *   <out>/REPORT.md, <out>/report.html                   built from the files above (lib/report)
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeJsonAtomic } from '../core/atomic-fs';
import * as s from '../core/schema';
import type { Infer, Schema } from '../core/schema';
import { PROFILES, type ProfileName } from './contract';

const profile: Schema<ProfileName> = s.literal(...PROFILES);
const backendInfo = s.object({
  name: s.string,
  device: s.string,
  skipped: s.optional(s.array(s.object({ name: s.string, reason: s.string }))),
});
const git = s.object({ commit: s.nullable(s.string), dirty: s.nullable(s.boolean) });
const machine = s.object({ node: s.string, platform: s.string, arch: s.string, cpu: s.string, cpus: s.number, memoryGiB: s.number, hostname: s.string });

export const planSchema = s.object({
  paper: s.string,
  profile,
  config: s.anyObject,
  /** The --set overrides applied to this paper's profile config (empty: the committed config). */
  overrides: s.array(s.string),
  seeds: s.array(s.number),
  backend: s.string,
  /** Hash of (paper, config, backend); a job's cache key adds its seed. */
  planHash: s.string,
  /** The command line that reproduces this run, for provenance and `cite`. */
  command: s.string,
});
export type PlanFile = Infer<typeof planSchema>;
/** plan.json on disk: the plan and the sha256 of its canonical JSON. */
export const planFileSchema = s.object({ ...planSchema.props, checksum: s.string });

/**
 * A section a claim times (ctx.exclusive): how long, the 1-minute load average around it,
 * and (Linux) the CPU that other processes used during it, in cores (lib/core/cpu-load.ts).
 */
const timedSection = s.object({ label: s.string, seconds: s.number, loadBefore: s.number, loadAfter: s.number, othersCores: s.optional(s.number) });
/** What the job measured about the machine while it ran. */
const jobMachine = s.object({
  cores: s.number,
  /** 1-minute load average when the job started and ended. */
  loadBefore: s.number,
  loadAfter: s.number,
  /** Highest resident set size seen (MiB), sampled every second: tfjs' wasm heap included. */
  peakRssMiB: s.number,
  /** CPU seconds the job's process used (user + system): on a shared machine, the comparable cost. */
  cpuSeconds: s.number,
  timed: s.array(timedSection),
});
export type JobMachine = Infer<typeof jobMachine>;

export const jobSchema = s.object({
  paper: s.string,
  profile,
  seed: s.number,
  planHash: s.string,
  jobHash: s.string,
  backend: backendInfo,
  startedAt: s.string,
  endedAt: s.string,
  wallSeconds: s.number,
  machine: jobMachine,
  result: s.unknown,
  /** sha256 of jobs/seed-<n>.metrics.jsonl as this job wrote it. */
  metricsSha256: s.string,
  /** sha256 of this record's canonical JSON without this field (checksumOf). */
  checksum: s.string,
});
export type JobFile = Infer<typeof jobSchema>;

const runJob = s.object({ seed: s.number, startedAt: s.string, endedAt: s.string, wallSeconds: s.number, backend: s.string, device: s.string, machine: jobMachine });

export const runSchema = s.object({
  paper: s.string,
  title: s.string,
  references: s.array(s.string),
  profile,
  seeds: s.array(s.number),
  config: s.anyObject,
  configHash: s.string,
  command: s.string,
  git,
  packages: s.record(s.nullable(s.string)),
  backend: backendInfo,
  machine,
  startedAt: s.string,
  endedAt: s.string,
  /** Compute seconds summed over the jobs (their wall times). */
  wallSeconds: s.number,
  jobs: s.array(runJob),
  /** Why the paper could not run here (every claim not-run), if so. */
  unavailable: s.optional(s.string),
});
export type RunFile = Infer<typeof runSchema>;

const interval = s.object({ lo: s.number, hi: s.number });
const measured = s.object({
  mean: s.number,
  std: s.number,
  n: s.number,
  perSeed: s.array(s.object({ seed: s.number, value: s.number })),
  /** The 95% interval of the mean the verdict was judged on; null when there was none (one seed, no noise scale). */
  interval: s.nullable(interval),
  intervalFrom: s.nullable(s.literal('seeds', 'repetitions', 'noise')),
});
export type Measured = Infer<typeof measured>;

const verdict = s.literal('reproduced', 'not-reproduced', 'inconclusive', 'not-run');
const historyEntry = s.object({ date: s.string, field: s.string, from: s.unknown, to: s.unknown, why: s.string, resultsSeen: s.boolean });
export type LockHistoryEntry = Infer<typeof historyEntry>;

export const claimRecordSchema = s.object({
  id: s.string,
  kind: s.literal('paper', 'check'),
  paper: s.string,
  statement: s.string,
  source: s.string,
  paperValue: s.string,
  measures: s.string,
  falsifiedBy: s.string,
  measured: s.nullable(measured),
  tolerance: s.string,
  toleranceWhy: s.string,
  verdict,
  /** Why not run, why inconclusive (and what would decide it), or where the interval lies. */
  reason: s.optional(s.string),
  /** Inconclusive: roughly how many seeds (or timed repetitions) would decide it; null: none would. */
  seedsNeeded: s.optional(s.nullable(s.number)),
  /** A timing claim measured while the machine was busier than its cores. */
  busy: s.optional(s.boolean),
  /** The verdict claims.ts expects at this profile, with its reason and evidence. */
  expected: s.object({ verdict, reason: s.optional(s.string), evidence: s.optional(s.string), hypothesis: s.optional(s.literal(true)) }),
  /** False fails the run: the verdict differs from the expected one (either direction), or a not-run was not declared. */
  asExpected: s.boolean,
  profile,
  /** The claim's pre-registration history from claims.lock.json, oldest first. */
  history: s.optional(s.array(historyEntry)),
});
/** One entry of claims.json. */
export type ClaimRecord = Infer<typeof claimRecordSchema>;
export const claimsSchema = s.array(claimRecordSchema);

export const tableSchema = s.object({
  name: s.string,
  title: s.string,
  columns: s.array(s.string),
  rows: s.array(s.array(s.nullable(s.union<string | number>(s.string, s.number)))),
  note: s.optional(s.string),
});
export const tablesSchema = s.array(tableSchema);

const figureFiles = s.object({ vl: s.string, svg: s.string, png: s.string });
export const figureIndexEntrySchema = s.object({
  name: s.string,
  title: s.string,
  /** Paths relative to the <paper>/<profile> folder. */
  files: figureFiles,
  provenance: s.record(s.unknown),
});
export type FigureIndexEntry = Infer<typeof figureIndexEntrySchema>;
export const figureIndexSchema = s.array(figureIndexEntrySchema);

/** Where each file of a paper run lives. */
export const files = {
  paperDir: (out: string, paper: string, prof: ProfileName) => path.join(out, paper, prof),
  plan: (dir: string) => path.join(dir, 'plan.json'),
  job: (dir: string, seed: number) => path.join(dir, 'jobs', `seed-${seed}.json`),
  jobMetrics: (dir: string, seed: number) => path.join(dir, 'jobs', `seed-${seed}.metrics.jsonl`),
  jobLock: (dir: string, seed: number) => path.join(dir, 'jobs', `seed-${seed}.lock`),
  run: (dir: string) => path.join(dir, 'run.json'),
  metrics: (dir: string) => path.join(dir, 'metrics.jsonl'),
  claims: (dir: string) => path.join(dir, 'claims.json'),
  tables: (dir: string) => path.join(dir, 'tables.json'),
  figureIndex: (dir: string) => path.join(dir, 'figures', 'figures.json'),
};

/** Writes `value` atomically; the schema parameter ties the value's type to the file. */
export function writeChecked<T>(file: string, _schema: Schema<T>, value: T): void {
  writeJsonAtomic(file, value);
}

/** Both members name both fields, so code reading `problem` compiles without strict null checks too (tslab). */
export type ReadOutcome<T> = { ok: true; value: T; problem?: undefined } | { ok: false; value?: undefined; problem: 'absent' | string };

/**
 * sha256 of `value`'s JSON without its `checksum` property. Computed on the parsed form,
 * so a writer (`sealed`) and a reader of the file get the same bytes to hash.
 */
export function checksumOf(value: object): string {
  const { checksum: _ignored, ...rest } = JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
  return crypto.createHash('sha256').update(JSON.stringify(rest)).digest('hex');
}

/** `value` with its checksum, ready to write. */
export function sealed<T extends object>(value: T): T & { checksum: string } {
  return { ...value, checksum: checksumOf(value) };
}

/** Reads and checks a file: absent, not JSON (torn) and off-schema are told apart for the caller's message. */
export function readChecked<T>(file: string, schema: Schema<T>): ReadOutcome<T> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return { ok: false, problem: 'absent' };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, problem: `${file} is not valid JSON (a torn or edited file)` };
  }
  const bad = schema.check(value, path.basename(file));
  if (bad) return { ok: false, problem: `${file} does not fit its schema: ${bad}` };
  const sum = (value as { checksum?: unknown }).checksum;
  if (typeof sum === 'string' && sum !== checksumOf(value as object)) return { ok: false, problem: `${file} fails its checksum (edited or corrupt)` };
  return { ok: true, value: value as T };
}

/** The value when the file exists and fits its schema, else undefined. */
export function readIfValid<T>(file: string, schema: Schema<T>): T | undefined {
  const r = readChecked(file, schema);
  return r.ok ? r.value : undefined;
}
