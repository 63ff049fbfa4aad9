/**
 * The workers of a parallel run (--jobs N): N child processes (./worker.ts) that each run
 * one (paper, seed) job at a time, and the coordinator that keeps timed sections honest.
 *
 * Timed sections (ctx.exclusive): a worker asks before a section a claim judges; the pool
 * pauses every other worker with SIGSTOP, waits until the kernel reports each one stopped,
 * then grants; when the section ends it continues them (SIGCONT). Requests queue in
 * arrival order, so two sections never overlap and no other job computes during either.
 * Pausing needs no cooperation from paper code (a long synchronous loop cannot yield).
 *
 * No worker outlives the run: a worker exits when its IPC channel closes; `killAll`
 * continues and kills every worker (signals, failures, the exit hook); and the watchdog
 * (./watchdog.ts) does the same if the CLI itself is killed with SIGKILL.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BackendInfo } from '../../lib/core/backend';
import { UsageError } from '../../lib/core/errors';
import { pidAlive, procState } from '../../lib/core/pids';
import type { PaperPlan } from '../../lib/harness/runner';
import type { FromWorker, ToWorker } from './protocol';
import { Watchdog } from './watchdog';

export interface PoolOptions {
  size: number;
  backend: BackendInfo;
  out: string;
  quiet: boolean;
  /** A module exporting PAPERS for the workers (tests register a fake paper); default lib/papers/registry.ts. */
  papersModule?: string;
  /** A line for stderr: a worker's log line or stray output. */
  log: (line: string) => void;
}

export interface PoolJob {
  paper: string;
  plan: PaperPlan;
  seed: number;
  /** The worker is ready and has the job (its start, for the status line). */
  onStart: () => void;
  onProgress: (phase: string, done: number, total: number) => void;
}

interface Worker {
  child: ChildProcess;
  pid: number;
  ready: Promise<void>;
  busy: boolean;
  stopped: boolean;
  alive: boolean;
  job?: { job: PoolJob; resolve: (wallSeconds: number) => void; reject: (err: Error) => void };
  /** The last lines of its stderr, for the message when it dies. */
  tail: string[];
}

/** Flags that make a child node load what this one loaded (tsx's loader), and nothing else (no --test, no --inspect). */
export function loaderArgs(execArgv: readonly string[]): string[] {
  const keep: string[] = [];
  const withValue = new Set(['--import', '--require', '-r', '--loader', '--experimental-loader', '--conditions', '-C']);
  for (let i = 0; i < execArgv.length; i++) {
    const a = execArgv[i];
    const name = a.split('=')[0];
    if (withValue.has(name)) {
      if (a.includes('=')) keep.push(a);
      else if (i + 1 < execArgv.length) keep.push(a, execArgv[++i]);
    } else if (/^--(enable-source-maps|no-warnings|max-old-space-size=\d+|experimental-require-module|no-experimental-require-module)$/.test(a)) keep.push(a);
  }
  return keep;
}

/** The worker's script: the bundle itself when running as one (entry.mjs sets it), else the TypeScript source. */
function workerScript(): string {
  return process.env.REPRO_WORKER_SCRIPT ?? fileURLToPath(new URL('./worker.ts', import.meta.url));
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
/** Blocks this thread for `ms` (used only where nothing else may run: the signal and exit paths). */
function sleepSync(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}

export class WorkerPool {
  private readonly workers: Worker[] = [];
  private readonly watchdog = new Watchdog();
  private holder: Worker | undefined;
  private readonly queue: { w: Worker; id: number }[] = [];
  private switching = false;

  constructor(private readonly opts: PoolOptions) {
    for (let i = 0; i < opts.size; i++) this.workers.push(this.spawn());
  }

  /** Workers that can still take a job. */
  get size(): number {
    return this.workers.filter((w) => w.alive).length;
  }

  pids(): number[] {
    return this.workers.filter((w) => w.alive).map((w) => w.pid);
  }

  private spawn(): Worker {
    const child = fork(workerScript(), [], {
      execArgv: loaderArgs(process.execArgv),
      env: { ...process.env, REPRO_WORKER_CHILD: '1' },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      // Its own process group: a Ctrl-C in the terminal reaches the CLI, which stops the workers in order.
      detached: true,
      serialization: 'json',
    });
    const w: Worker = { child, pid: child.pid ?? -1, ready: Promise.resolve(), busy: false, stopped: false, alive: true, tail: [] };
    this.watchdog.watch(w.pid);
    let onReady: () => void = () => {};
    let onFail: (e: Error) => void = () => {};
    w.ready = new Promise<void>((resolve, reject) => {
      onReady = resolve;
      onFail = reject;
    });
    w.ready.catch(() => {}); // observed by run(); never an unhandled rejection
    const lines = (stream: NodeJS.ReadableStream | null) => {
      let buf = '';
      stream?.on('data', (d: Buffer) => {
        buf += d.toString('utf8');
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          w.tail = [...w.tail.slice(-19), line];
          if (!this.opts.quiet && line.trim()) this.opts.log(line);
        }
      });
    };
    lines(child.stdout);
    lines(child.stderr);
    child.on('message', (m: FromWorker) => {
      switch (m.type) {
        case 'ready':
          return onReady();
        case 'log':
          return this.opts.log(m.line);
        case 'progress':
          return w.job?.job.onProgress(m.phase, m.done, m.total);
        case 'exclusive':
          this.queue.push({ w, id: m.id });
          return void this.pump();
        case 'released':
          if (this.holder === w) this.holder = undefined;
          return void this.pump();
        case 'done': {
          const j = w.job;
          w.job = undefined;
          w.busy = false;
          return j?.resolve(m.wallSeconds);
        }
        case 'failed': {
          const err = m.exitCode !== undefined ? new UsageError(m.message) : new Error(m.message);
          const j = w.job;
          w.job = undefined;
          w.busy = false;
          if (j) j.reject(err);
          else onFail(err);
          return;
        }
      }
    });
    child.on('exit', (code, signal) => {
      w.alive = false;
      this.watchdog.forget(w.pid);
      const why = new Error(`worker pid ${w.pid} exited (${signal ?? `code ${code}`})${w.job ? ` while running ${w.job.job.paper} seed ${w.job.job.seed}` : ''}${w.tail.length ? `; its last output:\n${w.tail.join('\n')}` : ''}`);
      onFail(why);
      w.job?.reject(why);
      w.job = undefined;
      // A worker that dies holding or awaiting the exclusive section must not block the others.
      const q = this.queue.findIndex((e) => e.w === w);
      if (q >= 0) this.queue.splice(q, 1);
      if (this.holder === w) this.holder = undefined;
      void this.pump();
    });
    child.on('error', (err) => onFail(err));
    const init: ToWorker = { type: 'init', backend: this.opts.backend, out: this.opts.out, quiet: this.opts.quiet, papersModule: this.opts.papersModule };
    child.send(init);
    return w;
  }

  /** Runs one job on an idle worker (the caller runs at most `size` at once); resolves with its wall seconds. */
  async run(job: PoolJob): Promise<number> {
    const w = this.workers.find((x) => x.alive && !x.busy);
    if (!w) throw new Error('internal: no idle worker (the scheduler ran more jobs than workers)');
    w.busy = true;
    await w.ready;
    job.onStart();
    return new Promise<number>((resolve, reject) => {
      w.job = { job, resolve, reject };
      const msg: ToWorker = { type: 'job', paper: job.paper, plan: job.plan, seed: job.seed };
      w.child.send(msg);
    });
  }

  /** Grants the next queued timed section once every other worker is stopped; continues them when none is left. */
  private async pump(): Promise<void> {
    if (this.switching || this.holder) return;
    const next = this.queue.shift();
    this.switching = true;
    try {
      if (!next) {
        this.setStopped(new Set());
        return;
      }
      this.holder = next.w;
      const others = new Set(this.workers.filter((w) => w.alive && w !== next.w));
      this.setStopped(others);
      await this.waitStopped(others);
      const msg: ToWorker = { type: 'granted', id: next.id };
      if (next.w.alive) next.w.child.send(msg);
    } finally {
      this.switching = false;
    }
    // A release or a request that arrived while switching.
    if (!this.holder || !this.holder.alive) {
      this.holder = undefined;
      void this.pump();
    }
  }

  private setStopped(target: Set<Worker>): void {
    for (const w of this.workers) {
      if (!w.alive) continue;
      const want = target.has(w);
      if (want === w.stopped) continue;
      try {
        process.kill(w.pid, want ? 'SIGSTOP' : 'SIGCONT');
        w.stopped = want;
      } catch {
        // it has just exited
      }
    }
  }

  /** Until the kernel reports each worker stopped (Linux /proc; elsewhere the signal is trusted). */
  private async waitStopped(ws: Set<Worker>): Promise<void> {
    for (let tries = 0; tries < 2000; tries++) {
      const pending = [...ws].filter((w) => w.alive && procState(w.pid) !== undefined && !/^[Tt]$/.test(procState(w.pid)!));
      if (pending.length === 0) return;
      await new Promise((r) => setTimeout(r, 1));
    }
  }

  /** Lets every worker finish and exit (the run is complete). */
  async close(): Promise<void> {
    this.setStopped(new Set());
    await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (!w.alive) return resolve();
            w.child.once('exit', () => resolve());
            w.child.disconnect();
          }),
      ),
    );
    this.watchdog.close();
  }

  /**
   * Continues and kills every worker, and waits (synchronously: this runs in signal and
   * exit handlers) until each is gone. Their half-done files are temp files, which the
   * caller removes.
   */
  killAll(): void {
    const live = this.workers.filter((w) => w.alive && pidAlive(w.pid));
    for (const w of live) {
      for (const sig of ['SIGCONT', 'SIGKILL'] as const) {
        try {
          process.kill(w.pid, sig);
        } catch {
          // already gone
        }
      }
    }
    for (let i = 0; i < 400 && live.some((w) => pidAlive(w.pid)); i++) sleepSync(5);
    for (const w of live) {
      w.alive = false;
      this.watchdog.forget(w.pid);
    }
    this.watchdog.close();
  }
}
