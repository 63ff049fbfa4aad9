/**
 * What a run shows while its jobs compute: every running job (paper, seed, phase and its
 * fraction) and an ETA for the whole run, weighted by each job's expected cost.
 *
 * The ETA: expected costs (./costs.ts) are scaled by how this machine is doing so far
 * (actual over expected seconds of the jobs computed so far; while none has finished, the
 * slowest running job's elapsed over expected, if that is more than 1), then the remaining
 * jobs are laid out on the workers as the scheduler will run them (most expensive first,
 * each on the first worker free). Counting jobs as equal would be off by minutes: at the
 * quick profile one paper's seed costs 10 s and another's 200 s.
 *
 * Times come in as arguments (`now`, seconds), so the arithmetic is testable; the clock is
 * read by the caller, for display only.
 */
import { formatDuration } from '../lib/core/progress';

export interface BoardJob {
  key: string;
  /** e.g. 'flash seed 2' */
  label: string;
  /** Expected seconds. */
  cost: number;
}

interface State extends BoardJob {
  state: 'pending' | 'running' | 'done';
  startedAt?: number;
  phase?: { name: string; done: number; total: number };
  /** Computed (not reused from the cache): its measured seconds. */
  actual?: number;
  cached?: boolean;
}

export class ProgressBoard {
  private readonly jobs = new Map<string, State>();

  /** `jobs` in the order they will be started; `slots`: how many run at once. */
  constructor(jobs: BoardJob[], private readonly slots: number, private readonly startedAt: number) {
    for (const j of jobs) this.jobs.set(j.key, { ...j, state: 'pending' });
  }

  private get(key: string): State {
    const j = this.jobs.get(key);
    if (!j) throw new Error(`internal: unknown job ${key}`);
    return j;
  }

  start(key: string, now: number): void {
    Object.assign(this.get(key), { state: 'running', startedAt: now, phase: undefined });
  }

  progress(key: string, phase: string, done: number, total: number): void {
    this.get(key).phase = { name: phase, done, total };
  }

  /** A job is complete: computed in `seconds`, or reused from the cache (seconds undefined). */
  finish(key: string, seconds: number | undefined): void {
    const j = this.get(key);
    j.state = 'done';
    if (seconds === undefined) j.cached = true;
    else j.actual = seconds;
  }

  /** Actual / expected seconds on this machine so far (1 before there is evidence). */
  speed(now: number): number {
    const computed = [...this.jobs.values()].filter((j) => j.actual !== undefined);
    if (computed.length > 0) {
      const expected = computed.reduce((a, j) => a + j.cost, 0);
      return expected > 0 ? computed.reduce((a, j) => a + j.actual!, 0) / expected : 1;
    }
    const running = [...this.jobs.values()].filter((j) => j.state === 'running' && j.cost > 0);
    return Math.max(1, ...running.map((j) => (now - j.startedAt!) / j.cost));
  }

  /** Seconds until every job is done, laying the remaining work on `slots` workers. */
  eta(now: number): number {
    const f = this.speed(now);
    const all = [...this.jobs.values()];
    const free = all.filter((j) => j.state === 'running').map((j) => Math.max(0, j.cost * f - (now - j.startedAt!)));
    while (free.length < this.slots) free.push(0);
    for (const j of all.filter((x) => x.state === 'pending')) {
      free.sort((a, b) => a - b);
      free[0] += j.cost * f;
    }
    return free.length ? Math.max(...free) : 0;
  }

  counts(): { done: number; cached: number; total: number; running: number } {
    const all = [...this.jobs.values()];
    return {
      done: all.filter((j) => j.state === 'done').length,
      cached: all.filter((j) => j.cached).length,
      total: all.length,
      running: all.filter((j) => j.state === 'running').length,
    };
  }

  /** One line: jobs done, each running job with its phase, elapsed and ETA. */
  line(now: number): string {
    const c = this.counts();
    const running = [...this.jobs.values()]
      .filter((j) => j.state === 'running')
      .map((j) => {
        const p = j.phase;
        const phase = p ? ` ${p.name} ${p.total > 0 ? Math.floor((100 * Math.min(p.done, p.total)) / p.total) : 100}%` : '';
        return `${j.label}${phase} (${formatDuration(now - j.startedAt!)})`;
      });
    const cached = c.cached ? ` (${c.cached} cached)` : '';
    const run = running.length ? `; running: ${running.join(', ')}` : '';
    return `[reproduce] ${c.done}/${c.total} jobs done${cached}${run}; elapsed ${formatDuration(now - this.startedAt)}, eta ${formatDuration(this.eta(now))}`;
  }
}
