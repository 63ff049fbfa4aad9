/**
 * Runs the (paper, seed) jobs of a run or a shard: reuses what the cache holds, computes
 * the rest most expensive first, in this process (--jobs 1, or a single job) or on a pool
 * of worker processes (./parallel/pool.ts), and shows progress with a cost-weighted ETA.
 *
 * Several processes may share one --out (two runs, a run and shards): each job is computed
 * under its lock (lib/harness/job-lock.ts). A job whose lock another live process holds
 * is waited for, then its result is reused; every job of the list is complete when `run`
 * returns. A failed job stops everything (the workers are killed, locks released) and its
 * error is thrown; finished jobs stay cached for a rerun.
 */
import type { BackendInfo } from '../lib/core/backend';
import { describeHolder, releaseAllLocks, tryLock, type HeldLock } from '../lib/harness/job-lock';
import { files } from '../lib/harness/files';
import { readJobChecked, runJob, type PaperPlan } from '../lib/harness/runner';
import { PAPERS, type AnyPaper } from '../lib/papers/registry';
import { WorkerPool } from './parallel/pool';
import { ProgressBoard } from './progress-board';

export interface Job {
  paper: AnyPaper;
  plan: PaperPlan;
  seed: number;
  /** <out>/<paper>/<profile> */
  dir: string;
  /** Expected seconds (./costs.ts). */
  cost: number;
}

export interface ScheduleOptions {
  /** At most this many jobs at once (--jobs). */
  jobs: number;
  /** --jobs was given: use workers even for short jobs. */
  jobsGiven?: boolean;
  force: boolean;
  quiet: boolean;
  out: string;
  backend: BackendInfo;
  papersModule?: string;
  log: (line: string) => void;
}

/** How often the status line is printed while jobs run (and at every start and finish). */
const STATUS_EVERY_MS = 10_000;
/** How often a job that another process holds is looked at again. */
const WAIT_POLL_MS = 500;
/**
 * About how long a worker takes to start (node, tsx, tfjs and the papers; 3-7 s measured
 * on the shared 2-core machine). When no job is expected to take longer, workers cost more
 * than they save (smoke: 26 s one at a time, 29 s on 2 workers), so the default runs them
 * here, one at a time; an explicit --jobs N is obeyed.
 */
const WORKER_START_SECONDS = 5;

const keyOf = (j: Job) => `${j.paper.id}/${j.plan.profile}/${j.seed}`;
const now = () => performance.now() / 1000;

export class Scheduler {
  private pool: WorkerPool | undefined;
  private readonly exitHook = () => this.pool?.killAll();
  /** Jobs computing now, in this process or on a worker. */
  running = 0;

  constructor(
    private readonly list: Job[],
    private readonly opts: ScheduleOptions,
  ) {}

  /** Worker pids (empty without workers). */
  workerPids(): number[] {
    return this.pool?.pids() ?? [];
  }

  /** Stops everything now, synchronously (a signal): kills the workers, releases this process' locks. */
  abort(): void {
    this.pool?.killAll();
    releaseAllLocks();
  }

  async run(): Promise<void> {
    const { opts } = this;
    const t0 = now();
    const runStartMs = Date.now();
    // Most expensive first: the long jobs start while short ones fill the gaps (stable for equal costs).
    const order = [...this.list].sort((a, b) => b.cost - a.cost);
    const cached = new Set<string>();
    for (const j of order) {
      if (opts.force) break;
      const { job, problem } = readJobChecked(j.dir, j.plan, j.seed);
      if (job) {
        cached.add(keyOf(j));
        if (!opts.quiet) opts.log(`[${j.paper.id}] seed ${j.seed}: cached result reused (${files.job(j.dir, j.seed)}; --force re-runs)`);
      } else if (problem) {
        opts.log(`[${j.paper.id}] seed ${j.seed}: not reusing the cached result: ${problem}; recomputing`);
      }
    }
    const todo = order.filter((j) => !cached.has(keyOf(j)));
    const short = !opts.jobsGiven && todo.every((j) => j.cost < WORKER_START_SECONDS);
    // Workers load papers by module; a caller's own papers (tests embedding main) need MainIO.papersModule.
    const unloadable = opts.papersModule ? [] : [...new Set(todo.map((j) => j.paper))].filter((p) => !PAPERS.includes(p));
    const slots = short || unloadable.length > 0 ? 1 : Math.max(1, Math.min(opts.jobs, todo.length));
    if (opts.jobs > 1 && todo.length > 1 && slots === 1 && !opts.quiet) {
      opts.log(
        unloadable.length > 0
          ? `[reproduce] worker processes cannot load ${unloadable.map((p) => p.id).join(', ')} (not in lib/papers/registry.ts, no MainIO.papersModule): the jobs run here, one at a time`
          : `[reproduce] ${todo.length} short jobs (each expected under ${WORKER_START_SECONDS} s, less than a worker takes to start): run here one at a time (--jobs N runs them on workers anyway)`,
      );
    }
    const board = new ProgressBoard(
      order.map((j) => ({ key: keyOf(j), label: `${j.paper.id} seed ${j.seed}`, cost: j.cost })),
      slots,
      t0,
    );
    for (const k of cached) board.finish(k, undefined);
    if (todo.length === 0) return;

    if (slots > 1) {
      this.pool = new WorkerPool({ size: slots, backend: opts.backend, out: opts.out, quiet: opts.quiet, papersModule: opts.papersModule, log: opts.log });
      process.on('exit', this.exitHook);
      if (!opts.quiet) opts.log(`[reproduce] ${todo.length} job(s) on ${slots} worker processes (pids ${this.pool.pids().join(', ')}; --jobs ${opts.jobs})`);
    }
    const status = setInterval(() => {
      if (!opts.quiet && this.running > 0) opts.log(board.line(now()));
    }, STATUS_EVERY_MS);
    status.unref();

    const pending = [...todo];
    const announcedWait = new Set<string>();
    const inFlight = new Map<string, Promise<{ key: string; err?: unknown }>>();
    let started = 0;
    try {
      while (pending.length > 0 || inFlight.size > 0) {
        // Start what can start, in order; a job another process holds is skipped for now.
        for (let i = 0; i < pending.length && inFlight.size < slots; ) {
          const j = pending[i];
          const key = keyOf(j);
          const attempt = tryLock(files.jobLock(j.dir, j.seed));
          if (!attempt.acquired) {
            if (!announcedWait.has(key)) {
              announcedWait.add(key);
              opts.log(`[reproduce] ${j.paper.id} seed ${j.seed} is being computed by ${describeHolder(attempt.holder)} (another run on this --out): waiting for its result`);
            }
            i++;
            continue;
          }
          pending.splice(i, 1);
          // Under the lock, look again: the other process may have just finished it.
          const { job } = readJobChecked(j.dir, j.plan, j.seed);
          if (job && (!opts.force || Date.parse(job.endedAt) >= runStartMs)) {
            attempt.lock.release();
            board.finish(key, undefined);
            if (!opts.quiet) opts.log(`[${j.paper.id}] seed ${j.seed}: result computed by another run reused (${files.job(j.dir, j.seed)})`);
            continue;
          }
          started++;
          if (!opts.quiet) opts.log(`[reproduce] job ${started}/${todo.length}: ${j.paper.id} seed ${j.seed} (${j.plan.profile}, ${opts.backend.name})`);
          inFlight.set(key, this.compute(j, key, board, attempt.lock));
        }
        if (inFlight.size === 0 && pending.length === 0) break;
        // Wait for a job to finish, or (when some wait on another process) for the next look.
        let timer: NodeJS.Timeout | undefined;
        const tick = pending.length > 0 ? new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), WAIT_POLL_MS))) : undefined;
        const first = await Promise.race([...inFlight.values(), ...(tick ? [tick] : [])]);
        clearTimeout(timer);
        if (!first) continue;
        inFlight.delete(first.key);
        if (first.err !== undefined) throw first.err;
        if (!opts.quiet) opts.log(board.line(now()));
      }
    } catch (err) {
      this.abort();
      throw err;
    } finally {
      clearInterval(status);
      process.off('exit', this.exitHook);
    }
    await this.pool?.close();
    this.pool = undefined;
  }

  /** Computes one job (we hold its lock); settles with its key and the error, if any. */
  private async compute(j: Job, key: string, board: ProgressBoard, lock: HeldLock): Promise<{ key: string; err?: unknown }> {
    const onProgress = (phase: string, done: number, total: number) => board.progress(key, phase, done, total);
    const onStart = () => board.start(key, now());
    this.running++;
    try {
      if (!this.pool) onStart();
      const seconds = this.pool
        ? await this.pool.run({ paper: j.paper.id, plan: j.plan, seed: j.seed, onStart, onProgress })
        : (
            await runJob(j.paper, j.plan, j.seed, this.opts.backend, {
              out: this.opts.out,
              force: true, // the cache was checked under the lock
              quiet: this.opts.quiet,
              log: this.opts.log,
              onProgress,
            })
          ).wallSeconds;
      board.finish(key, seconds);
      return { key };
    } catch (err) {
      return { key, err: err ?? new Error('job failed') };
    } finally {
      this.running--;
      lock.release();
    }
  }
}
