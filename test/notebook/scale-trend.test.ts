import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot } from '../../lib/core/paths';
import { claimsSchema, readIfValid, type ClaimRecord } from '../../lib/harness/files';
import { SCALE_KNOBS } from '../../lib/notebook/scale-knobs';
import { scaleTrend } from '../../lib/notebook/scale-trend';
import { PAPERS } from '../../lib/papers/registry';

const reference = path.join(repoRoot(), 'results', 'reference');
const committed = (profile: string, paper: string): ClaimRecord[] | undefined => readIfValid(path.join(reference, profile, paper, 'claims.json'), claimsSchema);

test('every paper has a scale knob', () => {
  assert.deepEqual(Object.keys(SCALE_KNOBS).sort(), PAPERS.map((p) => p.id).sort());
});

for (const paper of PAPERS.map((p) => p.id)) {
  test(`${paper}: the scale trend plots every claim not reproduced at full, at quick and full, with its tolerance, from the committed reference runs`, (t) => {
    const full = committed('full', paper);
    const quick = committed('quick', paper);
    if (!full || !quick) return t.skip('no committed quick and full reference run');
    const open = full.filter((c) => c.verdict !== 'reproduced' && c.verdict !== 'not-run').map((c) => c.id);
    const trend = scaleTrend(paper);
    assert.deepEqual(trend.claims, open);
    assert.equal(Boolean(trend.figure), open.length > 0);
    for (const id of open) {
      const rows = trend.rows.filter((r) => r.claim === id);
      const at = (profile: string) => rows.find((r) => r.profile === profile);
      // The row carries exactly what claims.json measured (no row where an outcome decided the claim
      // without a number, e.g. nothing certified), and full is the larger scale.
      const measuredAtFull: ClaimRecord['measured'] = full.find((c) => c.id === id)!.measured;
      assert.equal(at('full')?.mean, measuredAtFull && Number.isFinite(measuredAtFull.mean) ? measuredAtFull.mean : undefined, `${id} at full`);
      const q: ClaimRecord | undefined = quick.find((c) => c.id === id);
      if (q?.measured && Number.isFinite(q.measured.mean)) {
        assert.equal(at('quick')?.mean, q.measured.mean, `${id} at quick`);
        if (at('full')) assert.ok(at('full')!.knob > at('quick')!.knob, `${id}: the knob grows from quick (${at('quick')!.knob}) to full (${at('full')!.knob})`);
      }
      assert.ok(trend.bounds.some((b) => b.claim === id), `${id} has a tolerance bound`);
    }
  });
}

test('no reference run: a sentence instead of a figure; an unknown paper: an error naming the known ones', () => {
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'scale-trend-test-'));
  try {
    const t = scaleTrend('calm', { referenceDir: empty });
    assert.equal(t.figure, undefined);
    assert.match(t.summary, /No reference run of calm/);
  } finally {
    fs.rmSync(empty, { recursive: true, force: true });
  }
  assert.throws(() => scaleTrend('nope'), /no scale knob for paper 'nope' \(known: rer, flash/);
});
