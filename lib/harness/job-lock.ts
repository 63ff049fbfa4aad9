/**
 * One lock file per (paper, profile, seed) job on an --out, so that two runs, or a run and
 * a shard, started on the same --out never compute the same job at once: the second one
 * waits for the first's result and reuses it.
 *
 *   <out>/<paper>/<profile>/jobs/seed-<n>.lock   {"pid", "host", "startedAt", "token"}
 *
 * Taken with an exclusive create (O_EXCL), so exactly one process gets it. A lock is
 * stale when its holder is dead: on this host, its pid is gone; from another host (a
 * shared filesystem), it has not been touched for FOREIGN_STALE_MS (a holder touches its
 * lock every HEARTBEAT_MS). A stale lock is broken by renaming it aside first, so of two
 * processes that find the same stale lock only one breaks it.
 *
 * Correctness does not rest on the lock: job and metrics files are written atomically and
 * a job's result is a function of its config and seed, so two processes computing the
 * same job would only waste time, never tear or double-count a file. The lock saves that time.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { filesUnder, rethrowDiskFull, tempPathFor } from '../core/atomic-fs';
import { HOST, pidAlive } from '../core/pids';

export interface LockHolder {
  pid: number;
  host: string;
  startedAt: string;
  token: string;
}

export interface HeldLock {
  file: string;
  holder: LockHolder;
  /** Removes the lock if it is still this process' (idempotent). */
  release(): void;
}

export type LockAttempt = { acquired: true; lock: HeldLock } | { acquired: false; holder: LockHolder | undefined };

const HEARTBEAT_MS = 30_000;
const FOREIGN_STALE_MS = 10 * 60_000;
/** A lock file with no readable holder (its writer died between create and write) is stale after this long. */
const UNREADABLE_STALE_MS = 10_000;

/** Every lock this process holds, so an exit or a signal can release them all (releaseAllLocks). */
const held = new Set<HeldLock>();

function readHolder(file: string): LockHolder | undefined {
  try {
    const v = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<LockHolder>;
    if (typeof v.pid === 'number' && typeof v.host === 'string' && typeof v.token === 'string' && typeof v.startedAt === 'string') return v as LockHolder;
  } catch {
    // absent, torn or empty
  }
  return undefined;
}

function ageMs(file: string): number {
  try {
    return Date.now() - fs.statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

/** Whether the lock `holder` (read from `file`) can be broken. */
export function isStale(holder: LockHolder | undefined, file: string): boolean {
  if (!holder) return ageMs(file) > UNREADABLE_STALE_MS;
  if (holder.host === HOST) return !pidAlive(holder.pid);
  return ageMs(file) > FOREIGN_STALE_MS;
}

/** "pid 123 on host h since 2026-...": who holds a lock, for a message. */
export function describeHolder(holder: LockHolder | undefined): string {
  return holder ? `pid ${holder.pid} on ${holder.host === HOST ? 'this host' : `host ${holder.host}`} since ${holder.startedAt}` : 'a process that has not yet written its name';
}

/** Breaks the stale lock `seen` at `file`; a live lock that replaced it meanwhile is put back. */
function breakStale(file: string, seen: LockHolder | undefined): void {
  const aside = tempPathFor(file);
  try {
    fs.renameSync(file, aside);
  } catch {
    return; // someone else broke or released it first
  }
  const moved = readHolder(aside);
  if (moved && (!seen || moved.token !== seen.token)) {
    // We moved a fresh lock another process took after ours was judged stale: restore it
    // (link fails if a third process has taken the path since; then that one holds it).
    try {
      fs.linkSync(aside, file);
    } catch {
      // the path is taken again: leave it
    }
  }
  fs.rmSync(aside, { force: true });
}

/** Tries once to take the lock at `file` (breaking a stale one); never waits. */
export function tryLock(file: string): LockAttempt {
  for (let attempt = 0; attempt < 3; attempt++) {
    const holder: LockHolder = { pid: process.pid, host: HOST, startedAt: new Date().toISOString(), token: crypto.randomBytes(8).toString('hex') };
    let fd: number;
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fd = fs.openSync(file, 'wx');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') rethrowDiskFull(err, file);
      const other = readHolder(file);
      if (!isStale(other, file)) return { acquired: false, holder: other };
      breakStale(file, other);
      continue;
    }
    try {
      fs.writeSync(fd, JSON.stringify(holder) + '\n');
    } catch (err) {
      fs.closeSync(fd);
      fs.rmSync(file, { force: true });
      rethrowDiskFull(err, file);
    }
    fs.closeSync(fd);
    return { acquired: true, lock: track(file, holder) };
  }
  return { acquired: false, holder: readHolder(file) };
}

function track(file: string, holder: LockHolder): HeldLock {
  // Touched so that a process on another host sharing --out sees this holder alive.
  const heartbeat = setInterval(() => {
    try {
      const now = new Date();
      fs.utimesSync(file, now, now);
    } catch {
      // gone: release() will find out
    }
  }, HEARTBEAT_MS);
  heartbeat.unref();
  const lock: HeldLock = {
    file,
    holder,
    release() {
      if (!held.delete(lock)) return;
      clearInterval(heartbeat);
      // Only our own lock: a holder judged stale (wrongly) may have been replaced.
      if (readHolder(file)?.token === holder.token) fs.rmSync(file, { force: true });
    },
  };
  held.add(lock);
  return lock;
}

/** Releases every lock this process holds (on exit, on a signal, after a failure). Synchronous. */
export function releaseAllLocks(): void {
  for (const lock of [...held]) lock.release();
}

/** The holders of live locks under `dir` (recursively), with their lock files: jobs being computed now. */
export function liveLocks(dir: string): { file: string; holder: LockHolder | undefined }[] {
  return filesUnder(dir)
    .filter((p) => p.endsWith('.lock'))
    .flatMap((p) => {
      const holder = readHolder(p);
      return isStale(holder, p) ? [] : [{ file: p, holder }];
    });
}

/**
 * Removes lock files under `dir` (recursively) whose holder is dead on this host, as a
 * run starts, so a killed run leaves nothing behind once rerun. `all`: every lock (merge,
 * when no shard can be running). Returns how many were removed.
 */
export function removeStaleLocks(dir: string, opts: { all?: boolean } = {}): number {
  const doomed = filesUnder(dir).filter((p) => p.endsWith('.lock') && (opts.all || isStale(readHolder(p), p)));
  for (const p of doomed) breakStale(p, readHolder(p));
  return doomed.length;
}
