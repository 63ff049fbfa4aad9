/**
 * Processes by pid, for lock files and temp files that name their writer: whether a pid
 * is alive on this host, and whether it is stopped (SIGSTOP). Linux answers the second
 * from /proc; elsewhere it is unknown (undefined).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';

/** This host's name, as safe for a file name (letters, digits, dot, dash, underscore). */
export const HOST = os.hostname().replace(/[^A-Za-z0-9._-]/g, '_') || 'localhost';

/**
 * True when a process with this pid runs on this host (EPERM: it exists, owned by another
 * user). A zombie (dead, not yet reaped by its parent) is not alive.
 */
export function pidAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return procState(pid) !== 'Z';
}

/** The process state letter from /proc/<pid>/stat ('R', 'S', 'T' stopped, 'Z' zombie...), or undefined. */
export function procState(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: the state follows the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) || undefined;
  } catch {
    return undefined;
  }
}
