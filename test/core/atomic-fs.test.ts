import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { assertWritableDir, readJsonIfValid, removeStaleTempFiles, writeJsonAtomic } from '../../lib/core/atomic-fs';

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
