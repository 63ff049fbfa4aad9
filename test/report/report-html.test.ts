import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ClaimRecord } from '../../lib/harness/verdicts';
import { packageDir } from '../../lib/core/paths';
import { REPORT_HTML, renderReportHtml, writeReportHtml } from '../../lib/report/report-html';
import { collectSections, type ReportSection } from '../../lib/report/sections';
import { VEGA_SCRIPTS } from '../../lib/report/vega-assets';
import { writeReport } from '../../lib/report/write-report';
import { runFile } from '../fixtures/run-file';
import { tempDirFactory } from '../fixtures/temp-dirs';

const SCRIPTS = VEGA_SCRIPTS.map((s) => s.as);

const tempDir = tempDirFactory();

function claim(id: string, verdict: ClaimRecord['verdict'], mean: number | null, extra: Partial<ClaimRecord> = {}): ClaimRecord {
  return {
    id,
    paper: 'arXiv:0000.00000',
    statement: `statement of ${id} with <b>markup</b>`,
    source: 'Fig. 1',
    paperValue: '~1x',
    measures: 'a ratio',
    kind: 'paper',
    falsifiedBy: 'a ratio above 2',
    measured: mean === null ? null : { mean, std: 0.1, n: 2, perSeed: [{ seed: 1, value: mean }, { seed: 2, value: mean }], interval: { lo: mean - 0.9, hi: mean + 0.9 }, intervalFrom: 'seeds' },
    tolerance: '<= 2',
    toleranceWhy: 'noise over seeds',
    verdict,
    expected: { verdict: 'reproduced' },
    asExpected: verdict !== 'not-reproduced',
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
  write('alpha/quick/run.json', runFile('alpha'));
  write('alpha/quick/claims.json', [claim('alpha-fast', 'reproduced', 0.5), claim('alpha-slow', 'not-reproduced', 3, { reason: 'too small a model' })]);
  write('alpha/quick/figures/figures.json', [{ name: 'loss', title: 'Loss </script> curve', files: { vl: 'figures/loss.vl.json', svg: 'figures/loss.svg', png: 'figures/loss.png' }, provenance: {} }]);
  write('alpha/quick/tables.json', [{ name: 'alpha-table', title: 'Alpha <per> seed', columns: ['seed', 'value'], rows: [[1, 0.123456], [2, null]], note: 'a note' }]);
  write('alpha/quick/figures/loss.vl.json', SPEC);
  write('alpha/quick/figures/loss.svg', '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><g class="mark-line"></g></svg>');
  write('beta/quick/run.json', runFile('beta'));
  write('beta/quick/claims.json', [claim('beta-gpu', 'not-run', null, { reason: 'needs a GPU' })]);
  return { out, sections: collectSections(out) };
}

test('one table row per claim of every paper, with verdict classes and sort keys', () => {
  const { out, sections } = fakeOut();
  const html = renderReportHtml(sections, { out, vegaScripts: SCRIPTS });
  const rows = html.match(/<tr class="claim-row [^"]*" data-paper="[^"]+" data-claim="[^"]+">/g) ?? [];
  assert.deepEqual(rows.map((r) => /data-claim="([^"]+)"/.exec(r)![1]), ['alpha-fast', 'alpha-slow', 'beta-gpu']);
  const table = /<table id="claims"[\s\S]*?<\/table>/.exec(html)![0];
  assert.equal((table.match(/class="verdict verdict-reproduced"/g) ?? []).length, 1);
  assert.equal((table.match(/class="verdict verdict-not-reproduced"/g) ?? []).length, 1);
  assert.equal((table.match(/class="verdict verdict-not-run"/g) ?? []).length, 1);
  assert.match(html, /\.verdict-reproduced \{ background: #d4f7d4; \}/);
  assert.match(table, /not-reproduced \(UNEXPECTED: expected reproduced\) — too small a model/);
  assert.match(html, /<td data-sort="3">3\.00 \[2\.10, 3\.90\] \(n=2\)<\/td>/, 'the measured column sorts on the mean');
  assert.match(html, /<th data-sort-type="number"[^>]*>measured \[95% interval\]<\/th>/);
  assert.doesNotMatch(html, /<b>markup<\/b>/, 'claim text is escaped');
  for (const p of ['alpha', 'beta']) assert.match(html, new RegExp(`<section class="paper-section" id="paper-${p}-quick" data-paper="${p}"`));
});

test('figures: the static SVG inlined as a data: URI (the fallback), and the same Vega-Lite spec for vega-embed', () => {
  const { out, sections } = fakeOut();
  const html = renderReportHtml(sections, { out, vegaScripts: SCRIPTS });
  assert.match(html, /<div class="vega-figure" id="fig-alpha-quick-loss"><img class="static-figure" src="data:image\/svg\+xml;base64,/);
  for (const name of SCRIPTS) assert.match(html, new RegExp(`<script src="${name.replace(/\./g, '\\.')}"></script>`));
  assert.doesNotMatch(html, /https?:\/\/(?!www\.w3\.org)/, 'nothing loads from the network');
  const m = /<script type="application\/json" id="fig-alpha-quick-loss-spec">(.*?)<\/script>/s.exec(html);
  assert.ok(m, 'the spec is embedded');
  assert.deepEqual(JSON.parse(m[1]), SPEC, 'exactly the exported .vl.json');
  assert.equal((html.match(/<\/script>/g) ?? []).length, (html.match(/<script/g) ?? []).length, "a title's </script> cannot close a script early");
});

test('the page opens on a card per paper: its paper claims with their intervals, and its key figure', () => {
  const { out, sections } = fakeOut();
  const html = renderReportHtml(sections, { out, vegaScripts: SCRIPTS });
  const glance = /<div class="glance">[\s\S]*?<div class="glance-card" data-paper="beta"/.exec(html)![0];
  assert.match(glance, /alpha-fast<\/a>: 0\.500 \[-0\.400, 1\.40\] \(n=2\)/);
  assert.match(glance, /<img class="glance-figure" src="data:image\/svg\+xml;base64,/);
  assert.ok(html.indexOf('class="glance"') < html.indexOf('id="claims"'), 'the summary comes before the full table');
});

test("a paper's result tables appear under its section, escaped, with numbers formatted", () => {
  const { out, sections } = fakeOut();
  const html = renderReportHtml(sections, { out, vegaScripts: SCRIPTS });
  assert.match(html, /<div class="result-table" data-table="alpha-table"><h4>Alpha &lt;per&gt; seed<\/h4>/);
  assert.match(html, /<td class="num">0\.1235<\/td>/);
  assert.match(html, /<td>—<\/td>/);
});

test('without the vega scripts the page says why and keeps the static figures', () => {
  const { out, sections } = fakeOut();
  const html = renderReportHtml(sections, { out, vegaScripts: null, vegaMissing: 'vega is not installed (npm install)' });
  assert.doesNotMatch(html, /<script src=/);
  assert.doesNotMatch(html, /-spec">/);
  assert.match(html, /Static figures only: vega is not installed \(npm install\)/);
  assert.match(html, /class="static-figure"/);
});

test('writeReport writes REPORT.md, report.html and the vega scripts beside them, copied once', () => {
  const { out } = fakeOut();
  const r = writeReport(out);
  assert.equal(r.html, path.join(out, REPORT_HTML));
  const md = fs.readFileSync(path.join(out, 'REPORT.md'), 'utf8');
  assert.match(md, /\*\*Alpha <per> seed\*\*\n\n\| seed \| value \|\n\|---\|---\|\n\| 1 \| 0\.1235 \|\n\| 2 \| — \|/);
  for (const s of VEGA_SCRIPTS) {
    const f = path.join(out, s.as);
    assert.deepEqual(fs.readFileSync(f), fs.readFileSync(path.join(packageDir(s.pkg), s.file)));
  }
  const mtime = fs.statSync(path.join(out, SCRIPTS[0])).mtimeMs;
  writeReportHtml(out, r.sections);
  assert.equal(fs.statSync(path.join(out, SCRIPTS[0])).mtimeMs, mtime, 'an unchanged script is not copied again');
  assert.match(fs.readFileSync(r.html, 'utf8'), /1 of 3 paper claims reproduced, 0 inconclusive, 1 not reproduced, 1 not run at profile quick; 0 of 0 checks pass/);
});
