/**
 * `npm run notebooks`: runs the notebooks headlessly on the tslab kernel, the way CI
 * does (ARCHITECTURE.md §8), and exits non-zero if one fails. The kernel is (re)registered in
 * .jupyter/ first; the execution itself is nbclient (reproduce/run_notebooks.py).
 */
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { repoRoot } from '../lib/core/paths';
import { UsageError } from '../lib/core/errors';
import { KERNEL_NAME, assertPythonModules, jupyterEnv, jupyterPython, writeKernelSpecs } from './jupyter-kernel';
import { NOTEBOOKS_USAGE, parseNotebooksArgs } from './notebook-options';
import { makeNotebookWorkspace } from './browser/notebook-workspace';

/** Relative to the root when inside it, else absolute. */
function displayPath(root: string, p: string): string {
  const rel = path.relative(root, p);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : p;
}

async function main(): Promise<number> {
  const root = repoRoot();
  // npm runs scripts from the package root; INIT_CWD is where the user typed the command.
  const opts = parseNotebooksArgs(process.argv.slice(2), root, process.env.INIT_CWD ?? process.cwd());
  if (opts.help) {
    console.log(NOTEBOOKS_USAGE);
    return 0;
  }
  if (opts.notebooks.length === 0) {
    console.log(`no notebooks under ${path.join(root, 'notebooks')}: nothing to run`);
    return 0;
  }
  const python = jupyterPython();
  assertPythonModules(python, ['jupyter_client', 'nbclient', 'nbformat']);
  writeKernelSpecs(root);

  const limit = opts.timeoutS > 0 ? `${opts.timeoutS} s per cell` : 'no time limit';
  console.log(`Running ${opts.notebooks.length} notebook(s) at profile ${opts.profile} on kernel ${KERNEL_NAME} (${limit})`);
  const args = [path.join(root, 'reproduce', 'run_notebooks.py'), '--cwd', root, '--kernel', KERNEL_NAME, '--timeout', String(opts.timeoutS)];
  if (opts.outDir) args.push('--out', opts.outDir);
  // The profile reaches each notebook as an assignment injected after its 'parameters' cell,
  // in copies (the committed notebooks are never rewritten).
  const ws = makeNotebookWorkspace(root, opts.notebooks, 'headless-', () => ({ profile: opts.profile }));
  args.push('--', ...ws.copies.map((c) => c.copy));
  const child = spawn(python, args, {
    cwd: root,
    stdio: 'inherit',
    env: jupyterEnv(root),
  });
  // Ctrl-C reaches the runner too (same process group): it shuts the kernel down and
  // exits 130. Stay alive until it has, instead of dying first and orphaning it (the
  // spawn is async because tsx kills a child whose event loop cannot answer a signal).
  // A SIGTERM sent to us alone (a CI timeout) is passed on.
  const ignore = (): void => {};
  const forward = (): void => void child.kill('SIGTERM');
  process.on('SIGINT', ignore);
  process.on('SIGTERM', forward);
  const status = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => resolve(code));
  });
  process.off('SIGINT', ignore);
  process.off('SIGTERM', forward);
  ws.remove();
  if (opts.outDir) console.log(`Executed copies: ${displayPath(root, opts.outDir)}/`);
  // 0 all ran, 130 interrupted; anything else (a notebook failed, a crash of the runner) is 1.
  return status === 0 || status === 130 ? status : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (!(e instanceof UsageError)) throw e;
    console.error(`error: ${e.message}`);
    process.exitCode = e.exitCode;
  },
);
