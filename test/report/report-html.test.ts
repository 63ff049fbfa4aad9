import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ClaimRecord } from '../../lib/harness/verdicts';
import { packageDir } from '../../lib/core/paths';
import { PLOTLY_FILE, REPORT_HTML, renderReportHtml, writeReportHtml } from '../../lib/report/report-html';
import { collectSections, writeReport, type ReportSection } from '../../lib/report/report-md';
import { tempDirFactory } from '../fixtures/temp-dirs';

const tempDir = tempDirFactory();

function claim(id: string, verdict: ClaimRecord['verdict'], mean: number | null, extra: Partial<ClaimRecord> = {}): ClaimRecord {
  return {
    id,
    paper: 'arXiv:0000.00000',
    statement: `statement of ${id} with <b>markup</b>`,
    source: 'Fig. 1',
    paperValue: '~1x',
    measures: 'a ratio',
    measured: mean === null ? null : { mean, std: 0.1, n: 2, perSeed: [{ seed: 1, value: mean }, { seed: 2, value: mean }] },
    tolerance: '<= 2',
    toleranceWhy: 'noise over seeds',
    verdict,
    expected: verdict !== 'not-reproduced',
    profile: 'quick',
    ...extra,
  };
}

const SPEC = {
  title: 'loss',
  data: { values: [1, 2].flatMap((seed) => [1, 2].map((step) => ({ seed, step, loss: step + seed, method: 'adam' }))) },
  mark: 'line',
  encoding: { x: { field: 'step', type: 'quantitative' }, y: { field: 'loss', type: 'quantitative' }, color: { field: 'method', type: 'nominal' } },
};

/** An output directory as the CLI leaves it: two papers, one with a figure. */
function fakeOut(): { out: string; sections: ReportSection[] } {
  const out = tempDir('repro-report-html-');
  const write = (p: string, data: unknown) => {
    fs.mkdirSync(path.dirname(path.join(out, p)), { recursive: true });
    fs.writeFileSync(path.join(out, p), typeof data === 'string' ? data : JSON.stringify(data));
  };
  const run = (paper: string) => ({ paper, title: `Paper ${paper}`, profile: 'quick', seeds: [1, 2], command: `npm run reproduce -- --only ${paper}`, git: { commit: 'abcdef1234567890', dirty: false }, backend: { name: 'cpu', device: 'cpu' }, wallSeconds: 1.5 });
  write('alpha/quick/run.json', run('alpha'));
  write('alpha/quick/claims.json', [claim('alpha-fast', 'reproduced', 0.5), claim('alpha-slow', 'not-reproduced', 3, { reason: 'too small a model' })]);
  write('alpha/quick/figures/figures.json', [{ name: 'loss', title: 'Loss </script> curve', files: { vl: 'figures/loss.vl.json', svg: 'figures/loss.svg', png: 'figures/loss.png' } }]);
  write('alpha/quick/figures/loss.vl.json', SPEC);
  write('alpha/quick/figures/loss.svg', '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><g class="mark-line"></g></svg>');
  write('beta/quick/run.json', run('beta'));
  write('beta/quick/claims.json', [claim('beta-gpu', 'not-run', null, { reason: 'needs a GPU' })]);
  return { out, sections: collectSections(out) };
}

test('one table row per claim of every paper, with verdict classes and sort keys', () => {
  const { out, sections } = fakeOut();
  const html = renderReportHtml(sections, { out, plotlySrc: PLOTLY_FILE });
  const rows = html.match(/<tr class="claim-row [^"]*" data-paper="[^"]+" data-claim="[^"]+">/g) ?? [];
  assert.deepEqual(rows.map((r) => /data-claim="([^"]+)"/.exec(r)![1]), ['alpha-fast', 'alpha-slow', 'beta-gpu']);
  assert.equal((html.match(/class="verdict verdict-reproduced"/g) ?? []).length, 1);
  assert.equal((html.match(/class="verdict verdict-not-reproduced"/g) ?? []).length, 1);
  assert.equal((html.match(/class="verdict verdict-not-run"/g) ?? []).length, 1);
  assert.match(html, /\.verdict-reproduced \{ background: #d4f7d4; \}/);
  assert.match(html, /not-reproduced: too small a model/);
  assert.match(html, /<td data-sort="3">3\.00 ± 0\.100 \(n=2\)<\/td>/, 'the measured column sorts on the mean');
  assert.match(html, /<th data-sort-type="number"[^>]*>measured<\/th>/);
  assert.doesNotMatch(html, /<b>markup<\/b>/, 'claim text is escaped');
  for (const p of ['alpha', 'beta']) assert.match(html, new RegExp(`<section class="paper-section" id="paper-${p}-quick" data-paper="${p}"`));
});

test('figures: the static SVG inlined as a data: URI, and Plotly traces for its Vega-Lite spec', () => {
  const { out, sections } = fakeOut();
  const html = renderReportHtml(sections, { out, plotlySrc: PLOTLY_FILE });
  assert.match(html, /<img class="static-figure" src="data:image\/svg\+xml;base64,/);
  assert.match(html, /<script src="plotly\.js"><\/script>/);
  assert.doesNotMatch(html, /https?:\/\/(?!www\.w3\.org)/, 'nothing loads from the network');
  const m = /<script type="application\/json" id="plotly-alpha-quick-loss-data">(.*?)<\/script>/s.exec(html);
  assert.ok(m, 'the figure JSON is embedded');
  const fig = JSON.parse(m[1]) as { data: { name: string; visible?: unknown; y: number[] }[] };
  assert.deepEqual(fig.data.map((t) => t.name), ['adam (mean over 2 seeds)', 'adam · seed 1', 'adam · seed 2']);
  assert.deepEqual(fig.data[0].y, [2.5, 3.5]);
  assert.equal(fig.data[1].visible, 'legendonly');
  assert.equal((html.match(/<\/script>/g) ?? []).length, (html.match(/<script/g) ?? []).length, "a title's </script> cannot close a script early");
  assert.match(html, /<div class="plotly-figure" id="plotly-alpha-quick-loss" data-figure="loss"><\/div>/);
});

test('without plotly.js the page says why and keeps the static figures', () => {
  const { out, sections } = fakeOut();
  const html = renderReportHtml(sections, { out, plotlySrc: null, plotlyMissing: 'plotly.js-dist is not installed' });
  assert.doesNotMatch(html, /<script src=/);
  assert.doesNotMatch(html, /class="plotly-figure"/);
  assert.match(html, /No interactive version: plotly.js-dist is not installed/);
  assert.match(html, /class="static-figure"/);
});

test('writeReport writes REPORT.md, report.html and plotly.js beside them', (t) => {
  if (!fs.existsSync(path.join(packageDir('plotly.js-dist'), 'plotly.js'))) return t.skip('plotly.js-dist is not installed');
  const { out } = fakeOut();
  const r = writeReport(out);
  assert.equal(r.html, path.join(out, REPORT_HTML));
  assert.ok(fs.existsSync(path.join(out, 'REPORT.md')));
  const plotly = path.join(out, PLOTLY_FILE);
  assert.equal(fs.statSync(plotly).size, fs.statSync(path.join(packageDir('plotly.js-dist'), 'plotly.js')).size);
  const mtime = fs.statSync(plotly).mtimeMs;
  writeReportHtml(out, r.sections);
  assert.equal(fs.statSync(plotly).mtimeMs, mtime, 'the same plotly.js is not copied again');
  assert.match(fs.readFileSync(r.html, 'utf8'), /3 claims: 1 reproduced, 1 not reproduced, 1 not run/);
});
