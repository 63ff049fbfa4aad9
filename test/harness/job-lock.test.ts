/**
 * Per-job lock files (lib/harness/job-lock.ts): one holder at a time, a dead holder's lock
 * is broken, a live or fresh foreign one is not, and release never removes another's lock.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { HOST } from '../../lib/core/pids';
import { describeHolder, liveLocks, releaseAllLocks, removeStaleLocks, tryLock } from '../../lib/harness/job-lock';
import { tempDirFactory } from '../fixtures/temp-dirs';

const tempDir = tempDirFactory();

function deadPid(): number {
  return Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
}

function writeLock(file: string, holder: { pid: number; host: string }, ageMs = 0): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify({ ...holder, startedAt: '2026-01-01T00:00:00.000Z', token: 'other' }));
  if (ageMs) {
    const t = new Date(Date.now() - ageMs);
    fs.utimesSync(file, t, t);
  }
}

test('one holder at a time; the second attempt names the holder; release frees it', () => {
  const file = path.join(tempDir('lock-'), 'jobs', 'seed-1.lock');
  const a = tryLock(file);
  assert.ok(a.acquired);
  const b = tryLock(file);
  assert.equal(b.acquired, false);
  assert.equal(!b.acquired && b.holder?.pid, process.pid);
  assert.match(describeHolder(!b.acquired ? b.holder : undefined), new RegExp(`pid ${process.pid} on this host since `));
  assert.equal(liveLocks(path.dirname(file)).length, 1);
  a.lock.release();
  a.lock.release(); // idempotent
  assert.equal(fs.existsSync(file), false);
  assert.ok(tryLock(file).acquired);
  releaseAllLocks();
  assert.equal(fs.existsSync(file), false, 'releaseAllLocks');
});

test("a dead holder's lock is broken; a live holder's, or a fresh one from another host, is not", () => {
  const dir = tempDir('lock-');
  const dead = path.join(dir, 'dead.lock');
  writeLock(dead, { pid: deadPid(), host: HOST });
  const got = tryLock(dead);
  assert.ok(got.acquired, 'dead pid: stale');
  got.lock.release();

  const live = path.join(dir, 'live.lock');
  writeLock(live, { pid: process.ppid, host: HOST });
  assert.equal(tryLock(live).acquired, false, 'live pid');

  const foreign = path.join(dir, 'foreign.lock');
  writeLock(foreign, { pid: 1, host: 'another-node' });
  assert.equal(tryLock(foreign).acquired, false, 'another host, touched recently');
  writeLock(foreign, { pid: 1, host: 'another-node' }, 11 * 60_000);
  const old = tryLock(foreign);
  assert.ok(old.acquired, 'another host, untouched for over 10 minutes');
  old.lock.release();
});

test("release never removes a lock that is no longer this holder's", () => {
  const file = path.join(tempDir('lock-'), 'seed-2.lock');
  const a = tryLock(file);
  assert.ok(a.acquired);
  writeLock(file, { pid: process.ppid, host: HOST }); // someone replaced it
  a.lock.release();
  assert.ok(fs.existsSync(file), 'the other lock stays');
});

test('removeStaleLocks removes dead holders\' locks only (all: every lock)', () => {
  const dir = tempDir('lock-');
  writeLock(path.join(dir, 'a', 'jobs', 'seed-1.lock'), { pid: deadPid(), host: HOST });
  writeLock(path.join(dir, 'a', 'jobs', 'seed-2.lock'), { pid: process.ppid, host: HOST });
  assert.equal(removeStaleLocks(dir), 1);
  assert.deepEqual(fs.readdirSync(path.join(dir, 'a', 'jobs')), ['seed-2.lock']);
  assert.deepEqual(liveLocks(dir).map((l) => path.basename(l.file)), ['seed-2.lock']);
  assert.equal(removeStaleLocks(dir, { all: true }), 1);
  assert.deepEqual(fs.readdirSync(path.join(dir, 'a', 'jobs')), []);
});
