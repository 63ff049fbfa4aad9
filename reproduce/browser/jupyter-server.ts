/**
 * A classic Jupyter Notebook server (Debian's notebook 6.4) for browser tests: bound
 * to 127.0.0.1 on a free port with a random token, every Jupyter directory (data,
 * runtime, config) inside `baseDir`, our tslab kernel found through JUPYTER_PATH
 * (reproduce/jupyter-kernel.ts registers it under .jupyter/). Stopped by its PID; the
 * kernels it started are shut down through its REST API first and, should one
 * outlive the server, killed by PID (found by our unique runtime dir on its command line).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { KERNEL_NAME, assertPythonModules, jupyterEnv, jupyterPython, writeKernelSpecs } from '../jupyter-kernel';
import { freePort } from './free-port';
import { stopProcess } from './stop-process';
import { waitFor } from './wait-for';

export interface JupyterServerOptions {
  /** Repository root: the kernelspec is registered under <root>/.jupyter. */
  root: string;
  /** Folder the server serves (the notebooks to open live here). */
  notebookDir: string;
  /** Holds the server's data, runtime and config dirs; created if missing. */
  baseDir: string;
  /** Server output goes here (default <baseDir>/jupyter-server.log). */
  logFile?: string;
  /** Extra environment for the server and the kernels it starts (e.g. REPRO_WASM_THREADS). */
  env?: Record<string, string>;
  startTimeoutMs?: number;
}

export interface JupyterServer {
  url: string;
  port: number;
  token: string;
  pid: number;
  logFile: string;
  runtimeDir: string;
  /** Absolute URL of a notebook under notebookDir, with the token. */
  notebookUrl(relPath: string): string;
  /** Authenticated call to the server's REST API; returns parsed JSON (or null for 204). */
  api(method: string, apiPath: string): Promise<unknown>;
  /** Shuts every kernel down through the API (a fresh kernel for the next notebook). */
  shutdownKernels(): Promise<number>;
  /** PIDs of live kernel processes started by this server. */
  kernelPids(): number[];
  /** Stops kernels, then the server (SIGTERM, then SIGKILL), by PID. Safe to call twice. */
  stop(): Promise<void>;
}

/** PIDs whose command line mentions `needle` (a path unique to this server), from /proc. */
export function pidsMentioning(needle: string): number[] {
  if (!fs.existsSync('/proc')) return [];
  const out: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      if (fs.readFileSync(`/proc/${d}/cmdline`, 'latin1').split('\0').some((a) => a.includes(needle))) out.push(Number(d));
    } catch {
      // exited meanwhile, or not readable
    }
  }
  return out;
}

function tail(file: string, lines = 30): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export async function startJupyterServer(opts: JupyterServerOptions): Promise<JupyterServer> {
  const python = jupyterPython();
  assertPythonModules(python, ['notebook', 'jupyter_client']);
  writeKernelSpecs(opts.root);
  const baseDir = path.resolve(opts.baseDir);
  const dirs = { data: path.join(baseDir, 'data'), runtime: path.join(baseDir, 'runtime'), config: path.join(baseDir, 'config') };
  for (const d of Object.values(dirs)) fs.mkdirSync(d, { recursive: true });
  const logFile = path.resolve(opts.logFile ?? path.join(baseDir, 'jupyter-server.log'));
  fs.mkdirSync(path.dirname(logFile), { recursive: true });

  const port = await freePort();
  const token = randomBytes(24).toString('hex');
  const env: NodeJS.ProcessEnv = {
    ...jupyterEnv(opts.root),
    JUPYTER_DATA_DIR: dirs.data,
    JUPYTER_RUNTIME_DIR: dirs.runtime,
    JUPYTER_CONFIG_DIR: dirs.config,
    ...opts.env,
  };
  const args = [
    '-m',
    'notebook',
    '--no-browser',
    '--ip=127.0.0.1',
    `--port=${port}`,
    '--port-retries=0',
    `--notebook-dir=${path.resolve(opts.notebookDir)}`,
    `--NotebookApp.token=${token}`,
    "--NotebookApp.password=''",
    // Safety nets should this process die without stopping the server: idle kernels and
    // an idle server end themselves.
    '--MappingKernelManager.cull_idle_timeout=900',
    '--NotebookApp.shutdown_no_activity_timeout=1800',
  ];
  if (process.getuid?.() === 0) args.push('--allow-root');
  const log = fs.openSync(logFile, 'w');
  let child: ChildProcess;
  try {
    child = spawn(python, args, { cwd: opts.root, env, stdio: ['ignore', log, log] });
  } finally {
    fs.closeSync(log);
  }
  let exited = false;
  child.on('exit', () => (exited = true));
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${python} -m notebook (see ${logFile})`);
  const url = `http://127.0.0.1:${port}`;

  const api = async (method: string, apiPath: string): Promise<unknown> => {
    const r = await fetch(`${url}${apiPath}`, { method, headers: { Authorization: `token ${token}` } });
    if (!r.ok) throw new Error(`${method} ${apiPath}: HTTP ${r.status}`);
    return r.status === 204 ? null : ((await r.json()) as unknown);
  };
  const kernelPids = () => pidsMentioning(dirs.runtime).filter((p) => p !== pid);
  const shutdownKernels = async (): Promise<number> => {
    const sessions = (await api('GET', '/api/sessions')) as { id: string }[];
    for (const s of sessions) await api('DELETE', `/api/sessions/${s.id}`);
    const kernels = (await api('GET', '/api/kernels')) as { id: string }[];
    for (const k of kernels) await api('DELETE', `/api/kernels/${k.id}`);
    return sessions.length + kernels.length;
  };
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (!exited) {
      try {
        await shutdownKernels();
      } catch {
        // the server may already be unhealthy: SIGTERM still makes it clean up its kernels
      }
    }
    const ok = await stopProcess(pid, { exited: () => exited, graceMs: 15_000 });
    // A kernel that outlived its server is ours (its connection file is in our runtime dir).
    for (const k of kernelPids()) await stopProcess(k, { graceMs: 3000 });
    if (!ok) throw new Error(`jupyter server (pid ${pid}) did not stop`);
  };

  try {
    await waitFor(
      async () => {
        if (exited) throw new Error(`jupyter notebook exited at start:\n${tail(logFile)}`);
        const status = (await api('GET', '/api/status')) as { started?: string };
        return status.started ? true : undefined;
      },
      { timeoutMs: opts.startTimeoutMs ?? 60_000, intervalMs: 200, what: `the notebook server on ${url}` },
    ).catch((e: Error) => {
      // A crash at start is reported as is, not as a timeout.
      if (exited) throw new Error(`jupyter notebook exited at start (log ${logFile}):\n${tail(logFile)}`);
      throw e;
    });
    const specs = (await api('GET', '/api/kernelspecs')) as { kernelspecs: Record<string, unknown> };
    if (!specs.kernelspecs[KERNEL_NAME]) throw new Error(`the server does not see kernel '${KERNEL_NAME}' (has: ${Object.keys(specs.kernelspecs).join(', ')}); JUPYTER_PATH=${env.JUPYTER_PATH}`);
  } catch (e) {
    await stop().catch(() => {});
    throw e;
  }

  return {
    url,
    port,
    token,
    pid,
    logFile,
    runtimeDir: dirs.runtime,
    notebookUrl: (rel) => `${url}/notebooks/${rel.split(path.sep).map(encodeURIComponent).join('/')}?token=${token}`,
    api,
    shutdownKernels,
    kernelPids,
    stop,
  };
}
