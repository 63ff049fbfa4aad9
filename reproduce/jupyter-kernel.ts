/**
 * The repository's own Jupyter kernelspec for tslab, registered inside the work tree
 * (`.jupyter/`, git-ignored) so nothing outside the checkout changes.
 *
 * We write kernel.json ourselves rather than run `tslab install`: its spec starts
 * tslab in the notebook's folder, where imports of lib/ fail (see
 * reproduce/tslab-kernel.cjs). Ours runs that wrapper, which starts tslab from the
 * repository root.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { writeJsonAtomic } from '../lib/core/atomic-fs';
import { UsageError } from '../lib/core/errors';

export const KERNEL_NAME = 'tslab';
export const KERNEL_DISPLAY_NAME = 'TypeScript (repro suite)';
/** The JavaScript flavour of the same kernel; kept so a stale `tslab install` spec does not linger. */
export const JS_KERNEL_NAME = 'jslab';

export interface KernelSpec {
  argv: string[];
  display_name: string;
  language: string;
  interrupt_mode: 'signal';
  metadata: Record<string, unknown>;
}

/** `<root>/.jupyter/share/jupyter`: the directory to put on JUPYTER_PATH. */
export function jupyterDataPath(root: string): string {
  return path.join(root, '.jupyter', 'share', 'jupyter');
}

export function kernelSpecFile(root: string, name: string = KERNEL_NAME): string {
  return path.join(jupyterDataPath(root), 'kernels', name, 'kernel.json');
}

/** Absolute paths are fine: `npm run kernel` (and `npm run notebooks`) rewrite the file. */
export function kernelSpec(root: string, nodePath: string, js = false): KernelSpec {
  return {
    argv: [nodePath, path.join(root, 'reproduce', 'tslab-kernel.cjs'), ...(js ? ['--js'] : []), '{connection_file}'],
    display_name: js ? 'JavaScript (repro suite)' : KERNEL_DISPLAY_NAME,
    language: js ? 'javascript' : 'typescript',
    interrupt_mode: 'signal',
    metadata: { repro: { root } },
  };
}

/** Writes both kernelspecs (only when their content changed); returns the tslab one's path. */
export function writeKernelSpecs(root: string, nodePath: string = process.execPath): string {
  for (const [name, js] of [[KERNEL_NAME, false], [JS_KERNEL_NAME, true]] as const) {
    const file = kernelSpecFile(root, name);
    const spec = kernelSpec(root, nodePath, js);
    const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    if (current !== JSON.stringify(spec, null, 2) + '\n') writeJsonAtomic(file, spec);
  }
  return kernelSpecFile(root);
}

/**
 * The Python that runs Jupyter: REPRO_PYTHON, else Debian's /usr/bin/python3 (the
 * `python3` first on PATH may be a pyenv/conda interpreter without Jupyter).
 */
export function jupyterPython(env: NodeJS.ProcessEnv = process.env): string {
  if (env.REPRO_PYTHON) return env.REPRO_PYTHON;
  return fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
}

/** Environment for Jupyter processes: our kernels first on JUPYTER_PATH, runtime files in the tree. */
export function jupyterEnv(root: string, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const ours = jupyterDataPath(root);
  const rest = (base.JUPYTER_PATH ?? '').split(path.delimiter).filter((p) => p && path.resolve(p) !== ours);
  return {
    ...base,
    JUPYTER_PATH: [ours, ...rest].join(path.delimiter),
    JUPYTER_RUNTIME_DIR: base.JUPYTER_RUNTIME_DIR ?? path.join(root, '.jupyter-runtime'),
  };
}

/** Throws a one-line UsageError unless `python` can import every module in `modules`. */
export function assertPythonModules(python: string, modules: readonly string[]): void {
  const r = spawnSync(python, ['-c', `import ${modules.join(', ')}`], { encoding: 'utf8' });
  if (r.status === 0) return;
  const what = r.error ? `${python} cannot be run (${(r.error as NodeJS.ErrnoException).code ?? r.error.message})` : `${python} cannot import ${modules.join(', ')}`;
  throw new UsageError(
    `${what}: install Jupyter's Python packages (Debian: sudo apt-get install python3-jupyter-client python3-nbclient python3-nbformat python3-ipykernel) or set REPRO_PYTHON to a Python that has them`,
  );
}

/** Asks jupyter_client where it finds our kernel: proves the spec is visible with `env`. */
export function resolvedKernelDir(python: string, env: NodeJS.ProcessEnv, name: string = KERNEL_NAME): string | undefined {
  const code = `from jupyter_client.kernelspec import KernelSpecManager\nprint(KernelSpecManager().find_kernel_specs().get(${JSON.stringify(name)}, ''))`;
  const r = spawnSync(python, ['-c', code], { encoding: 'utf8', env });
  const dir = r.status === 0 ? r.stdout.trim() : '';
  return dir || undefined;
}

/** Writes the kernelspecs and checks jupyter_client resolves `tslab` to ours. */
export function registerKernel(root: string, python: string = jupyterPython()): { specFile: string; dataPath: string } {
  assertPythonModules(python, ['jupyter_client']);
  const specFile = writeKernelSpecs(root);
  const found = resolvedKernelDir(python, jupyterEnv(root));
  if (!found || path.resolve(found) !== path.dirname(specFile)) {
    throw new UsageError(`jupyter_client (${python}) resolves kernel '${KERNEL_NAME}' to ${found ?? 'nothing'}, not ${path.dirname(specFile)}`);
  }
  return { specFile, dataPath: jupyterDataPath(root) };
}
