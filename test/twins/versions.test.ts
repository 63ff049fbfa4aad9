/**
 * Records what the PyTorch twins run on (python, torch, numpy, torch's BLAS, threads) in
 * the test output, once per suite run. The BLAS does not decide correctness (the twins
 * compute in float64 and compare with tolerances), but a report should say what ran.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { repoRoot } from '../../lib/core/paths';
import { PYTHON, twinTest } from './harness';

twinTest('PyTorch twins: record the python, torch, numpy and BLAS versions', (t) => {
  const r = spawnSync(PYTHON, [path.join(repoRoot(), 'test', 'twins', 'harness.py'), '--versions'], { encoding: 'utf8', env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
  assert.equal(r.status, 0, r.stderr);
  const v = JSON.parse(r.stdout) as Record<string, string>;
  for (const k of ['python', 'torch', 'numpy', 'torch_blas']) assert.ok(v[k], `missing ${k}`);
  t.diagnostic(`twins run on ${PYTHON}: python ${v.python}, torch ${v.torch} (BLAS ${v.torch_blas}, ${v.threads} thread), numpy ${v.numpy}`);
});
