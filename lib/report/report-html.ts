/**
 * report.html next to REPORT.md: the same sections as a page a browser opens offline.
 * One claims table of every paper (click a header to sort; verdict colours), then a
 * section per paper and profile with its run facts, the static figures (the SVG files,
 * inlined as data: URIs so the page stands alone) and an interactive Plotly version of
 * each figure converted from its Vega-Lite spec (lib/report/plotly-figures.ts).
 *
 * No network: Plotly is copied from the plotly.js-dist package beside the page as
 * plotly.js and loaded with a relative <script src>. Without that package (e.g. a
 * bundle on a machine with no node_modules) the page still has the table and the
 * static figures and says why the interactive ones are missing.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../core/atomic-fs';
import { packageDir } from '../core/paths';
import { formatMeasured, type ClaimRecord } from '../harness/verdicts';
import { VERDICT_COLOURS, escapeHtml, verdictText } from './html';
import { vegaLiteToPlotly, type PlotlyConversion } from './plotly-figures';
import type { ReportSection } from './report-md';

export const REPORT_HTML = 'report.html';
/** The Plotly bundle's name beside report.html. */
export const PLOTLY_FILE = 'plotly.js';
const PLOTLY_PACKAGE = 'plotly.js-dist';

export interface ReportHtmlOptions {
  /** The output directory: figure files are read relative to it. */
  out: string;
  /** Relative URL of Plotly for <script src>, or null when it is not available. */
  plotlySrc: string | null;
  /** Why Plotly is not available (shown on the page) when plotlySrc is null. */
  plotlyMissing?: string;
}

type FigureEntry = ReportSection['figures'][number];

/** "rer-smoke": ids for anchors and elements, from any text. */
function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

export function sectionId(s: ReportSection): string {
  return `paper-${slug(s.run.paper)}-${slug(s.run.profile)}`;
}

/** JSON inside <script type="application/json">: '<' escaped so no '</script>' can end it early. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function posixJoin(dir: string, file: string): string {
  return path.posix.join(dir.split(path.sep).join('/'), file);
}

/** The sort key of a claim cell: numbers sort numerically, the rest as text. */
function claimRow(s: ReportSection, c: ClaimRecord): string {
  const mean = c.measured && Number.isFinite(c.measured.mean) ? String(c.measured.mean) : '';
  const verdict = verdictText(c);
  const cells: [string, string, string?][] = [
    [escapeHtml(s.run.paper), s.run.paper],
    [escapeHtml(s.run.profile), s.run.profile],
    [`<b>${escapeHtml(c.id)}</b><br>${escapeHtml(c.statement)}<br><small>measures ${escapeHtml(c.measures)}</small>`, c.id],
    [escapeHtml(`${c.paper} ${c.source}`), `${c.paper} ${c.source}`],
    [escapeHtml(c.paperValue), c.paperValue],
    [escapeHtml(formatMeasured(c.measured)), mean],
    [`${escapeHtml(c.tolerance)}<br><small>${escapeHtml(c.toleranceWhy)}</small>`, c.tolerance],
    [`<span class="verdict verdict-${c.verdict}">${escapeHtml(verdict)}</span>`, verdict],
  ];
  const tds = cells.map(([html, key]) => `<td data-sort="${escapeHtml(key ?? '')}">${html}</td>`).join('');
  return `<tr class="claim-row verdict-row-${c.verdict}" data-paper="${escapeHtml(s.run.paper)}" data-claim="${escapeHtml(c.id)}">${tds}</tr>`;
}

export function claimsTableReportHtml(sections: ReportSection[]): string {
  const head: [string, 'text' | 'number'][] = [
    ['paper', 'text'],
    ['profile', 'text'],
    ['claim', 'text'],
    ['source', 'text'],
    ['paper value', 'text'],
    ['measured', 'number'],
    ['tolerance', 'text'],
    ['verdict', 'text'],
  ];
  const ths = head.map(([h, type]) => `<th data-sort-type="${type}" aria-sort="none" title="click to sort">${h}</th>`).join('');
  const rows = sections.flatMap((s) => s.claims.map((c) => claimRow(s, c)));
  return `<table id="claims" class="claims-table sortable"><thead><tr>${ths}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function svgDataUri(file: string): string | undefined {
  try {
    return `data:image/svg+xml;base64,${fs.readFileSync(file).toString('base64')}`;
  } catch {
    return undefined;
  }
}

function interactiveFigure(opts: ReportHtmlOptions, s: ReportSection, f: FigureEntry, id: string): string {
  if (!opts.plotlySrc) return `<p class="no-interactive">No interactive version: ${escapeHtml(opts.plotlyMissing ?? 'plotly.js is not available')}.</p>`;
  let conversion: PlotlyConversion;
  try {
    const spec = JSON.parse(fs.readFileSync(path.join(opts.out, s.dir, f.files.vl), 'utf8')) as unknown;
    conversion = vegaLiteToPlotly(spec);
  } catch (e) {
    conversion = { ok: false, reason: `cannot read ${f.files.vl} (${(e as Error).message.split('\n')[0]})` };
  }
  if (!conversion.ok) return `<p class="no-interactive">No interactive version: ${escapeHtml(conversion.reason)}.</p>`;
  const notes = conversion.notes.length ? `<p class="figure-notes">${escapeHtml(conversion.notes.join('; '))}</p>` : '';
  return (
    `<div class="plotly-figure" id="${id}" data-figure="${escapeHtml(f.name)}"></div>` +
    `<script type="application/json" id="${id}-data">${scriptJson(conversion.figure)}</script>${notes}`
  );
}

function figureHtml(opts: ReportHtmlOptions, s: ReportSection, f: FigureEntry): string {
  // figures.json paths are relative to the section's directory.
  const rel = (p: string) => posixJoin(s.dir, p);
  const uri = svgDataUri(path.join(opts.out, s.dir, f.files.svg));
  const id = `plotly-${slug(s.run.paper)}-${slug(s.run.profile)}-${slug(f.name)}`;
  const stat = uri ? `<img class="static-figure" src="${uri}" alt="${escapeHtml(f.title)}">` : `<p class="missing">${escapeHtml(f.files.svg)} is missing.</p>`;
  const links = `<a href="${escapeHtml(rel(f.files.svg))}">SVG</a> · <a href="${escapeHtml(rel(f.files.png))}">PNG</a> · <a href="${escapeHtml(rel(f.files.vl))}">Vega-Lite</a>`;
  return (
    `<figure class="report-figure" data-figure="${escapeHtml(f.name)}"><figcaption>${escapeHtml(f.title)} <span class="links">(${links})</span></figcaption>` +
    `<div class="figure-pair"><div class="static">${stat}</div><div class="interactive">${interactiveFigure(opts, s, f, id)}</div></div></figure>`
  );
}

function sectionHtml(opts: ReportHtmlOptions, s: ReportSection): string {
  const git = s.run.git.commit ? `${s.run.git.commit.slice(0, 12)}${s.run.git.dirty ? ' (dirty)' : ''}` : 'unknown';
  const facts = `Seeds ${escapeHtml(s.run.seeds.join(', '))} · backend ${escapeHtml(s.run.backend.name)} (${escapeHtml(s.run.backend.device)}) · commit ${escapeHtml(git)} · ${s.run.wallSeconds.toFixed(1)} s of compute.`;
  const why = s.claims.map((c) => `<li><b>${escapeHtml(c.id)}</b> measures ${escapeHtml(c.measures)}; tolerance ${escapeHtml(c.tolerance)}. Why this tolerance: ${escapeHtml(c.toleranceWhy)}</li>`).join('');
  const figs = s.figures.map((f) => figureHtml(opts, s, f)).join('');
  return (
    `<section class="paper-section" id="${sectionId(s)}" data-paper="${escapeHtml(s.run.paper)}" data-profile="${escapeHtml(s.run.profile)}">` +
    `<h2>${escapeHtml(s.run.paper)} — ${escapeHtml(s.run.title)} (${escapeHtml(s.run.profile)})</h2>` +
    `<p>${facts}</p><p>Reproduce: <code>${escapeHtml(s.run.command)}</code></p>` +
    (why ? `<ul class="tolerances">${why}</ul>` : '') +
    (figs ? `<h3>Figures</h3><p class="hint">Left: the static figure (SVG). Right: the same data in Plotly — hover to read a value, click a legend entry to show or hide it (per-seed curves start hidden).</p>${figs}` : '') +
    `</section>`
  );
}

const STYLE = `
body { font-family: 'DejaVu Sans', Verdana, Arial, sans-serif; margin: 1.5em; color: #222; max-width: 1500px; }
table.claims-table { border-collapse: collapse; width: 100%; font-size: 0.9em; }
table.claims-table th, table.claims-table td { border: 1px solid #ccc; padding: 4px 6px; text-align: left; vertical-align: top; }
table.claims-table th { background: #f4f4f4; cursor: pointer; user-select: none; white-space: nowrap; }
table.claims-table th[aria-sort="ascending"]::after { content: " ▲"; }
table.claims-table th[aria-sort="descending"]::after { content: " ▼"; }
.verdict { padding: 2px 6px; border-radius: 3px; display: inline-block; }
table.claims-table td:last-child { min-width: 11em; }
table.claims-table td:first-child { white-space: nowrap; }
${Object.entries(VERDICT_COLOURS).map(([v, c]) => `.verdict-${v} { background: ${c}; }`).join('\n')}
.figure-pair { display: flex; flex-wrap: wrap; gap: 1em; align-items: flex-start; }
.figure-pair > div { flex: 1 1 560px; min-width: 0; }
.static-figure { max-width: 100%; height: auto; }
figure.report-figure { margin: 1em 0 2em 0; border-top: 1px solid #eee; padding-top: 0.5em; }
figcaption { font-weight: bold; margin-bottom: 0.5em; }
figcaption .links { font-weight: normal; font-size: 0.9em; }
.no-interactive, .figure-notes, .hint { color: #666; font-size: 0.9em; }
nav ul { columns: 2; }
`;

/** Sorting and Plotly start-up; inline so the page needs no other file but plotly.js. */
const SCRIPT = `
(function () {
  function key(row, i, numeric) {
    var v = row.cells[i].getAttribute('data-sort') || '';
    if (!numeric) return v.toLowerCase();
    var n = parseFloat(v);
    return isNaN(n) ? null : n;
  }
  document.querySelectorAll('table.sortable').forEach(function (table) {
    var ths = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(ths, function (th, i) {
      th.addEventListener('click', function () {
        var numeric = th.getAttribute('data-sort-type') === 'number';
        var dir = th.getAttribute('aria-sort') === 'ascending' ? -1 : 1;
        Array.prototype.forEach.call(ths, function (o) { o.setAttribute('aria-sort', 'none'); });
        th.setAttribute('aria-sort', dir === 1 ? 'ascending' : 'descending');
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = key(a, i, numeric), y = key(b, i, numeric);
          if (x === y) return 0;
          if (x === null) return 1;   // blanks last, either direction
          if (y === null) return -1;
          return (x < y ? -1 : 1) * dir;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
  var figs = document.querySelectorAll('.plotly-figure');
  if (!figs.length) return;
  if (typeof Plotly === 'undefined') {
    figs.forEach(function (d) { d.textContent = 'plotly.js did not load (it should sit beside this file): no interactive figures.'; });
    return;
  }
  figs.forEach(function (div) {
    var fig = JSON.parse(document.getElementById(div.id + '-data').textContent);
    Plotly.newPlot(div, fig.data, fig.layout, { responsive: true, displaylogo: false });
  });
})();
`;

export function renderReportHtml(sections: ReportSection[], opts: ReportHtmlOptions): string {
  const all = sections.flatMap((s) => s.claims);
  const count = (v: string) => all.filter((c) => c.verdict === v).length;
  const nav = sections.map((s) => `<li><a href="#${sectionId(s)}">${escapeHtml(s.run.paper)} — ${escapeHtml(s.run.title)} (${escapeHtml(s.run.profile)})</a></li>`).join('');
  const plotly = opts.plotlySrc ? `<script src="${escapeHtml(opts.plotlySrc)}"></script>` : '';
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<title>Reproduction report</title>',
    `<style>${STYLE}</style>`,
    plotly,
    '</head><body>',
    '<h1>Reproduction report</h1>',
    `<p class="summary">${all.length} claims: ${count('reproduced')} reproduced, ${count('not-reproduced')} not reproduced, ${count('not-run')} not run. Click a column header to sort.</p>`,
    sections.length ? `<nav><ul>${nav}</ul></nav>` : '<p>No results found in this directory.</p>',
    claimsTableReportHtml(sections),
    ...sections.map((s) => sectionHtml(opts, s)),
    `<script>${SCRIPT}</script>`,
    '</body></html>',
    '',
  ].join('\n');
}

/**
 * Copies Plotly beside the report (skipped when the same version is already there);
 * returns the file name, or why it is not available.
 */
export function installPlotly(out: string): { src: string } | { missing: string } {
  const source = path.join(packageDir(PLOTLY_PACKAGE), 'plotly.js');
  if (!fs.existsSync(source)) return { missing: `${PLOTLY_PACKAGE} is not installed (npm install ${PLOTLY_PACKAGE})` };
  const target = path.join(out, PLOTLY_FILE);
  if (!sameFile(source, target)) {
    const tmp = `${target}.tmp-${process.pid}`;
    fs.copyFileSync(source, tmp);
    fs.renameSync(tmp, target);
  }
  return { src: PLOTLY_FILE };
}

/** Same size and same leading bytes (the version banner): a 10 MB file is not re-copied on every report. */
function sameFile(a: string, b: string): boolean {
  if (!fs.existsSync(b)) return false;
  if (fs.statSync(a).size !== fs.statSync(b).size) return false;
  const head = (f: string) => {
    const fd = fs.openSync(f, 'r');
    try {
      const buf = Buffer.alloc(4096);
      const n = fs.readSync(fd, buf, 0, buf.length, 0);
      return buf.subarray(0, n).toString('latin1');
    } finally {
      fs.closeSync(fd);
    }
  };
  return head(a) === head(b);
}

/** Writes <out>/report.html (and plotly.js beside it) for the given sections. */
export function writeReportHtml(out: string, sections: ReportSection[]): { path: string; plotly: string | null } {
  const p = installPlotly(out);
  const src = 'src' in p ? p.src : null;
  const file = path.join(out, REPORT_HTML);
  writeFileAtomic(file, renderReportHtml(sections, { out, plotlySrc: src, plotlyMissing: 'missing' in p ? p.missing : undefined }));
  return { path: file, plotly: src ? path.join(out, src) : null };
}
