/**
 * Command line of `npm run notebooks` — parsed apart from the runner so tests can
 * check it without starting a kernel.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError, listChoices } from '../lib/core/errors';
import { PROFILES, type ProfileName } from '../lib/harness/contract';

export const NOTEBOOKS_USAGE = `usage: npm run notebooks -- [--profile smoke|quick|full|paper] [--timeout SECONDS] [--out DIR | --no-save] [NOTEBOOK.ipynb ...]
  Executes notebooks headlessly on the tslab kernel (default: every notebooks/*.ipynb, profile smoke).
  The profile is injected after each notebook's cell tagged 'parameters'. Committed notebooks are never rewritten;
  executed copies go to --out (default results/notebooks). Exit 0 all ran, 1 a notebook failed, 2 bad usage.`;

/** Per-cell limit by profile, in seconds (0 = none): a quick cell may train for minutes on 2 cores. */
export const DEFAULT_CELL_TIMEOUT_S: Record<ProfileName, number> = { smoke: 600, quick: 3600, full: 0, paper: 0 };

export interface NotebooksOptions {
  profile: ProfileName;
  /** Seconds per cell; 0 means no limit. */
  timeoutS: number;
  /** Where executed copies are written; undefined with --no-save. */
  outDir: string | undefined;
  /** Absolute paths, in run order. */
  notebooks: string[];
  help: boolean;
}

/** The notebooks run by default: notebooks/*.ipynb under `root`, sorted by name. */
export function defaultNotebooks(root: string): string[] {
  const dir = path.join(root, 'notebooks');
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.ipynb') && !f.startsWith('.'))
    .sort()
    .map((f) => path.join(dir, f));
}

/**
 * Parses `argv` (after the script name). Relative notebook paths resolve against
 * `baseDir` (where the user typed the command); `--out` defaults under `root`.
 */
export function parseNotebooksArgs(argv: readonly string[], root: string, baseDir: string = root): NotebooksOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        profile: { type: 'string' },
        timeout: { type: 'string' },
        out: { type: 'string' },
        'no-save': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    // parseArgs' messages are one line but long; keep the first sentence and the valid options.
    const first = (e as Error).message.split('\n')[0].split('. ')[0].replace(/\.$/, '');
    throw new UsageError(`${first}: valid options are --profile, --timeout, --out, --no-save, --help`);
  }
  const v = parsed.values;
  const profile = (v.profile ?? 'smoke') as ProfileName;
  if (!PROFILES.includes(profile)) throw new UsageError(`unknown profile '${v.profile}': choose ${listChoices(PROFILES)}`);

  let timeoutS = DEFAULT_CELL_TIMEOUT_S[profile];
  if (v.timeout !== undefined) {
    timeoutS = Number(v.timeout);
    if (v.timeout.trim() === '' || !Number.isFinite(timeoutS) || timeoutS < 0) {
      throw new UsageError(`--timeout '${v.timeout}' is not a number of seconds >= 0 (0 = no limit)`);
    }
  }
  if (v.out !== undefined && v['no-save']) throw new UsageError('--out and --no-save exclude each other: pick one');
  const outDir = v['no-save'] ? undefined : path.resolve(baseDir, v.out ?? path.join(root, 'results', 'notebooks'));

  const notebooks = parsed.positionals.length ? parsed.positionals.map((p) => checkNotebookPath(p, baseDir, root)) : defaultNotebooks(root);
  // Executed copies are named like their source: never let them land on it.
  const clash = outDir && notebooks.find((nb) => path.dirname(nb) === outDir);
  if (clash) throw new UsageError(`--out '${v.out}' holds the notebook ${path.basename(clash)}: its executed copy would overwrite it; pick another folder`);
  return { profile, timeoutS, outDir, notebooks, help: v.help ?? false };
}

/** A path to an .ipynb, or the name of one of ours ('02-flash' or 'flash' for notebooks/02-flash.ipynb). */
function checkNotebookPath(p: string, baseDir: string, root: string): string {
  const abs = path.resolve(baseDir, p);
  if (!fs.existsSync(abs)) {
    const ours = defaultNotebooks(root);
    const named = ours.filter((nb) => {
      const base = path.basename(nb, '.ipynb');
      return base === p || base.replace(/^\d+-/, '') === p;
    });
    if (named.length === 1) return named[0];
    throw new UsageError(`notebook '${p}' does not exist; ours: ${ours.map((nb) => path.basename(nb, '.ipynb')).join(', ')} (or a path to an .ipynb)`);
  }
  if (!fs.statSync(abs).isFile() || !abs.endsWith('.ipynb')) throw new UsageError(`'${p}' is not a notebook: pass .ipynb files`);
  return abs;
}
