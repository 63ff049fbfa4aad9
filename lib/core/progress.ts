/**
 * Progress on stderr with an ETA, for long runs. Throttled so a tight training
 * loop does not spend its time printing; silent when `quiet`.
 * Reading the clock here is for display only — never for decisions (ARCHITECTURE.md §2).
 */
export interface ProgressOptions {
  label: string;
  total: number;
  quiet?: boolean;
  /** Minimum ms between two lines (default 2000). */
  everyMs?: number;
  write?: (line: string) => void;
  /** Called on every tick, printed or not (a parallel run's status line follows each job's phase). */
  onTick?: (done: number, total: number) => void;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)}s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  if (m < 60) return `${m}m${String(s).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export class Progress {
  private readonly start = performance.now();
  private lastPrint = -Infinity;
  private done = 0;
  private readonly write: (line: string) => void;

  constructor(private readonly opts: ProgressOptions) {
    this.write = opts.write ?? ((line) => process.stderr.write(line + '\n'));
    opts.onTick?.(0, opts.total);
  }

  /** Marks `n` more units done; `note` is appended (e.g. the current loss). */
  tick(n = 1, note = ''): void {
    this.done += n;
    this.opts.onTick?.(this.done, this.opts.total);
    const now = performance.now();
    const finished = this.done >= this.opts.total;
    if (this.opts.quiet || (!finished && now - this.lastPrint < (this.opts.everyMs ?? 2000))) return;
    this.lastPrint = now;
    this.write(this.line(now, note));
  }

  line(now = performance.now(), note = ''): string {
    const elapsed = (now - this.start) / 1000;
    const frac = this.opts.total > 0 ? Math.min(1, this.done / this.opts.total) : 1;
    const eta = frac > 0 ? (elapsed * (1 - frac)) / frac : NaN;
    const pct = (frac * 100).toFixed(0).padStart(3);
    return `[${this.opts.label}] ${pct}% ${this.done}/${this.opts.total} elapsed ${formatDuration(elapsed)} eta ${formatDuration(eta)}${note ? ' ' + note : ''}`;
  }
}
