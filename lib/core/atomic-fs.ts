/**
 * Crash-safe writes: a run killed at any moment leaves either the old file or the
 * new one, never a torn one (write a temp file in the same directory, fsync, rename).
 *
 * Temp files are named `<file>.tmp-<pid>@<host>-<n>`, so a later run can tell a killed
 * writer's leftovers (its pid is dead on this host) from a live writer's in-flight file
 * (another run or shard on the same --out) and remove only the former.
 *
 * A full disk (ENOSPC, EDQUOT) is a DiskFullError naming the file: one line, exit 2,
 * and the temp file is removed, so nothing torn is left behind.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DiskFullError } from './errors';
import { HOST, pidAlive } from './pids';

let counter = 0;

/** A fresh temp path beside `file`, tagged with this process' pid and host. */
export function tempPathFor(file: string): string {
  return `${file}.tmp-${process.pid}@${HOST}-${counter++}`;
}

/** A DiskFullError naming `file` when `err` is a full disk (ENOSPC) or quota (EDQUOT); else undefined. */
export function asDiskFull(err: unknown, file?: string): DiskFullError | undefined {
  if (err instanceof DiskFullError) return err;
  const e = err as NodeJS.ErrnoException & { dest?: string };
  if (e?.code !== 'ENOSPC' && e?.code !== 'EDQUOT') return undefined;
  const what = e.code === 'ENOSPC' ? 'no space left on device' : 'disk quota exceeded';
  // Name the file being written, not its temp file.
  const where = (file ?? e.dest ?? e.path)?.replace(/\.tmp-\d+(?:@[A-Za-z0-9._-]+)?-\d+$/, '');
  return new DiskFullError(`${what} (${e.code})${where ? ` writing ${where}` : ''}: free some space (finished jobs are kept) or choose another --out, then rerun`);
}

/** Rethrows a full-disk error as a DiskFullError naming `file`; any other error as is. */
export function rethrowDiskFull(err: unknown, file: string): never {
  throw asDiskFull(err, file) ?? err;
}

export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const tmp = tempPathFor(file);
  try {
    mkdirp(path.dirname(file));
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    rethrowDiskFull(err, file);
  }
}

export function writeJsonAtomic(file: string, value: unknown): void {
  writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n');
}

/**
 * A file built by appending lines (a job's metrics) that appears only whole: lines go to
 * a temp file, `commit` fsyncs and renames it into place and returns its sha256, `abort`
 * removes it. A writer killed half-way leaves only a temp file a later run removes.
 */
export class AtomicAppender {
  /** Appenders not yet committed or aborted, so an interrupted run can remove their temp files (abortOpenAppenders). */
  static readonly open = new Set<AtomicAppender>();
  private readonly tmp: string;
  private readonly hash = crypto.createHash('sha256');
  private fd: number | undefined;

  constructor(private readonly file: string) {
    this.tmp = tempPathFor(file);
    try {
      mkdirp(path.dirname(file));
      this.fd = fs.openSync(this.tmp, 'w');
    } catch (err) {
      rethrowDiskFull(err, file);
    }
    AtomicAppender.open.add(this);
  }

  append(text: string): void {
    if (this.fd === undefined) throw new Error(`AtomicAppender: ${this.file} is already committed or aborted`);
    const bytes = Buffer.from(text, 'utf8');
    try {
      fs.writeSync(this.fd, bytes);
    } catch (err) {
      this.abort();
      rethrowDiskFull(err, this.file);
    }
    this.hash.update(bytes);
  }

  /** Makes the file appear, whole; returns the sha256 (hex) of its bytes. */
  commit(): string {
    if (this.fd === undefined) throw new Error(`AtomicAppender: ${this.file} is already committed or aborted`);
    try {
      fs.fsyncSync(this.fd);
      fs.closeSync(this.fd);
      this.fd = undefined;
      fs.renameSync(this.tmp, this.file);
      AtomicAppender.open.delete(this);
    } catch (err) {
      this.abort();
      rethrowDiskFull(err, this.file);
    }
    return this.hash.digest('hex');
  }

  abort(): void {
    AtomicAppender.open.delete(this);
    if (this.fd !== undefined) {
      try {
        fs.closeSync(this.fd);
      } catch {
        // already closed
      }
      this.fd = undefined;
    }
    fs.rmSync(this.tmp, { force: true });
  }
}

/** Removes the temp file of every appender still open in this process (an interrupted run is about to exit). */
export function abortOpenAppenders(): void {
  for (const a of [...AtomicAppender.open]) a.abort();
}

/** sha256 (hex) of a file's bytes, or undefined when it cannot be read. */
export function sha256File(file: string): string | undefined {
  try {
    return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  } catch {
    return undefined;
  }
}

/** Reads JSON, or returns undefined when the file is absent or not valid JSON (a torn write from an older tool). */
export function readJsonIfValid<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** `<file>.tmp-<pid>[@<host>]-<n>`: a temp file and its writer (no host: written by this host). */
const TEMP = /\.tmp-(\d+)(?:@([A-Za-z0-9._-]+))?-\d+$/;

/** The writer of a temp file name, or undefined when `name` is not one. */
export function tempOwner(name: string): { pid: number; host: string } | undefined {
  const m = TEMP.exec(name);
  return m ? { pid: Number(m[1]), host: m[2] ?? HOST } : undefined;
}

/** Every file below `dir` (recursively), as paths; a missing or unreadable folder holds none. */
export function filesUnder(dir: string): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? filesUnder(p) : [p];
  });
}

/** Removes the temp files under `dir` (recursively) whose owner `doomed` accepts; returns how many. */
function removeTempFiles(dir: string, doomed: (owner: { pid: number; host: string }) => boolean): number {
  const files = filesUnder(dir).filter((p) => {
    const owner = tempOwner(path.basename(p));
    return owner !== undefined && doomed(owner);
  });
  for (const p of files) fs.rmSync(p, { force: true });
  return files.length;
}

/**
 * Removes temp files left by killed writers in `dir` (recursively): those whose writer
 * is dead on this host. `foreign` also removes other hosts' (whose pids cannot be checked
 * here), for when no shard can be writing (merge, once every job is done). A live writer
 * of this host is never touched. Returns how many were removed.
 */
export function removeStaleTempFiles(dir: string, opts: { foreign?: boolean } = {}): number {
  return removeTempFiles(dir, (owner) => (owner.host === HOST ? !pidAlive(owner.pid) : opts.foreign === true));
}

/**
 * `mkdir -p` that cannot hang: Node's recursive mkdir loops forever under /proc (mkdir
 * there fails with ENOENT although the parent exists, and Node retries the parent).
 * Creates each missing component in turn and throws the first error as is.
 */
export function mkdirp(dir: string): void {
  const missing: string[] = [];
  let at = path.resolve(dir);
  for (;;) {
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(at);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (st) {
      if (!st.isDirectory()) throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${at}'`), { code: 'ENOTDIR', path: at });
      break;
    }
    missing.unshift(at);
    const parent = path.dirname(at);
    if (parent === at) break;
    at = parent;
  }
  for (const d of missing) {
    try {
      fs.mkdirSync(d);
    } catch (err) {
      // Another process may have made it in between: that is fine.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || !fs.statSync(d).isDirectory()) throw err;
    }
  }
}

/** Removes the temp files this process left under `dir` (a run that failed on a write: nothing of it is in flight). */
export function removeOwnTempFiles(dir: string): number {
  return removeTempFiles(dir, (owner) => owner.host === HOST && owner.pid === process.pid);
}

/** Checks that `dir` can be created and written, without leaving anything behind; returns the error code, or undefined. */
export function assertWritableDir(dir: string): string | undefined {
  try {
    mkdirp(dir);
    fs.accessSync(dir, fs.constants.W_OK);
    const probe = tempPathFor(path.join(dir, '.write-probe'));
    fs.writeFileSync(probe, '');
    fs.rmSync(probe);
    return undefined;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? String(e);
  }
}
