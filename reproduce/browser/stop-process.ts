/**
 * Stops one process we started, by its PID: SIGTERM, a grace period, then SIGKILL.
 * Never by name — other people's processes run on the same machine.
 */
import { sleep } from './wait-for';

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but is not ours to signal.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when the process is gone (or was never there). A zombie child counts as gone once reaped by `exited`. */
export async function stopProcess(pid: number, opts: { graceMs?: number; exited?: () => boolean } = {}): Promise<boolean> {
  const gone = () => (opts.exited ? opts.exited() : !isAlive(pid));
  if (gone()) return true;
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + (opts.graceMs ?? 10_000);
  while (Date.now() < deadline) {
    if (gone()) return true;
    await sleep(100);
  }
  signal('SIGKILL');
  for (let i = 0; i < 50 && !gone(); i++) await sleep(100);
  return gone();
}
