import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  abortOpenAppenders,
  asDiskFull,
  assertWritableDir,
  AtomicAppender,
  mkdirp,
  readJsonIfValid,
  removeOwnTempFiles,
  removeStaleTempFiles,
  sha256File,
  tempOwner,
  tempPathFor,
  writeJsonAtomic,
} from '../../lib/core/atomic-fs';
import { DiskFullError } from '../../lib/core/errors';
import { HOST } from '../../lib/core/pids';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'atomic-'));

test('writeJsonAtomic creates folders, leaves no temp file, and replaces whole files', () => {
  const dir = tmp();
  const f = path.join(dir, 'a', 'b.json');
  writeJsonAtomic(f, { x: 1 });
  writeJsonAtomic(f, { x: 2 });
  assert.deepEqual(readJsonIfValid(f), { x: 2 });
  assert.deepEqual(fs.readdirSync(path.dirname(f)), ['b.json']);
});

test('a torn file reads as absent; stale temp files are removed', () => {
  const dir = tmp();
  fs.writeFileSync(path.join(dir, 'torn.json'), '{"x": 1');
  assert.equal(readJsonIfValid(path.join(dir, 'torn.json')), undefined);
  fs.mkdirSync(path.join(dir, 'sub'));
  fs.writeFileSync(path.join(dir, 'sub', 'claims.json.tmp-123-0'), '{');
  removeStaleTempFiles(dir);
  assert.deepEqual(fs.readdirSync(path.join(dir, 'sub')), []);
});

test('assertWritableDir names the problem for a path under a file', () => {
  const dir = tmp();
  fs.writeFileSync(path.join(dir, 'f'), '');
  assert.equal(assertWritableDir(path.join(dir, 'ok')), undefined);
  assert.match(String(assertWritableDir(path.join(dir, 'f', 'x'))), /ENOTDIR|EEXIST/);
});

/** A pid that is certainly dead: a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

test('temp files name their writer; only a dead writer of this host has its temp files removed (foreign: other hosts\' too)', () => {
  const dir = tmp();
  const mine = path.basename(tempPathFor(path.join(dir, 'a.json')));
  assert.deepEqual(tempOwner(mine), { pid: process.pid, host: HOST });
  const dead = `b.json.tmp-${deadPid()}@${HOST}-0`;
  const foreign = `c.json.tmp-${deadPid()}@some-other-host-0`;
  const live = `d.json.tmp-${process.pid}@${HOST}-3`;
  for (const f of [dead, foreign, live, 'e.json']) fs.writeFileSync(path.join(dir, f), '{');
  assert.equal(removeStaleTempFiles(dir), 1);
  assert.deepEqual(fs.readdirSync(dir).sort(), [foreign, live, 'e.json'].sort());
  assert.equal(removeOwnTempFiles(dir), 1, 'this process');
  fs.writeFileSync(path.join(dir, live), '{');
  assert.equal(removeStaleTempFiles(dir, { foreign: true }), 1, 'the other host\'s');
  assert.deepEqual(fs.readdirSync(dir).sort(), [live, 'e.json'].sort(), 'a live writer of this host is never touched');
  fs.rmSync(path.join(dir, live));
});

test('mkdirp and assertWritableDir answer at once under /proc (Node\'s recursive mkdir loops forever there)', { timeout: 10_000 }, () => {
  assert.throws(() => mkdirp('/proc/nope/deeper'), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
  assert.equal(assertWritableDir('/proc/nope'), 'ENOENT');
  const dir = path.join(tmp(), 'x', 'y', 'z');
  mkdirp(dir);
  mkdirp(dir); // exists: fine
  assert.ok(fs.statSync(dir).isDirectory());
});

test('AtomicAppender: the file appears whole on commit with its sha256; abort leaves nothing', () => {
  const dir = tmp();
  const f = path.join(dir, 'jobs', 'm.jsonl');
  const a = new AtomicAppender(f);
  a.append('{"a":1}\n');
  assert.equal(fs.existsSync(f), false, 'not before commit');
  a.append('{"a":2}\n');
  const sum = a.commit();
  assert.equal(fs.readFileSync(f, 'utf8'), '{"a":1}\n{"a":2}\n');
  assert.equal(sum, sha256File(f));
  assert.equal(sum, crypto.createHash('sha256').update('{"a":1}\n{"a":2}\n').digest('hex'));
  const b = new AtomicAppender(path.join(dir, 'other.jsonl'));
  b.append('x\n');
  assert.equal(AtomicAppender.open.has(b), true);
  abortOpenAppenders();
  assert.deepEqual(fs.readdirSync(dir).sort(), ['jobs']);
  assert.deepEqual(fs.readdirSync(path.join(dir, 'jobs')), ['m.jsonl']);
});

test('a full disk or quota is a one-line DiskFullError naming the file (exit 2)', () => {
  for (const code of ['ENOSPC', 'EDQUOT']) {
    const e = asDiskFull(Object.assign(new Error('raw'), { code, path: '/x/y.tmp' }), '/x/y.json');
    assert.ok(e instanceof DiskFullError);
    assert.equal(e.exitCode, 2);
    assert.match(e.message, new RegExp(`\\(${code}\\) writing /x/y.json: free some space`));
    assert.ok(!e.message.includes('\n'));
  }
  assert.equal(asDiskFull(Object.assign(new Error('raw'), { code: 'EACCES' })), undefined);
  assert.match(asDiskFull(Object.assign(new Error('raw'), { code: 'ENOSPC', dest: '/o/vega.min.js.tmp-1-0' }))!.message, /writing \/o\/vega.min.js: /);
});
