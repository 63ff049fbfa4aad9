/**
 * report.html next to REPORT.md: the same sections as a page a browser opens offline.
 * One claims table of every paper (click a header to sort; verdict colours), then a
 * section per paper and profile with its run facts, result tables and figures. Each
 * figure is its own Vega-Lite spec rendered by vega-embed (hover a point for its values,
 * click a legend entry to bring a series forward), with the static SVG as the fallback
 * and the export (lib/figures/charts.ts explains why one plotting stack).
 *
 * No network: vega, vega-lite and vega-embed are copied beside the page
 * (lib/report/vega-assets.ts) and loaded with relative <script src>. Without them (a
 * bundle on a machine with no node_modules) the page keeps the static SVGs and says why.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../core/atomic-fs';
import { escapeHtml } from '../core/html';
import { formatHeadline, formatMeasured, headlines, type ClaimRecord } from '../harness/verdicts';
import { claimCellHtml, historyHtml, VERDICT_COLOURS, verdictText } from './html';
import { sectionFile, type ReportSection } from './sections';
import { tableHtml } from './tables';
import { installVegaScripts } from './vega-assets';

export const REPORT_HTML = 'report.html';

export interface ReportHtmlOptions {
  /** The output directory: figure files are read relative to it. */
  out: string;
  /** Relative URLs of vega, vega-lite and vega-embed for <script src>, or null when not available. */
  vegaScripts: string[] | null;
  /** Why the interactive figures are not available (shown on the page) when vegaScripts is null. */
  vegaMissing?: string;
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

/** The sort key of a claim cell: numbers sort numerically, the rest as text. */
function claimRow(s: ReportSection, c: ClaimRecord): string {
  const mean = c.measured && Number.isFinite(c.measured.mean) ? String(c.measured.mean) : '';
  const verdict = verdictText(c);
  const cells: [string, string, string?][] = [
    [escapeHtml(s.run.paper), s.run.paper],
    [escapeHtml(s.run.profile), s.run.profile],
    [escapeHtml(c.kind), c.kind],
    [claimCellHtml(c), c.id],
    [escapeHtml(`${c.paper} ${c.source}`), `${c.paper} ${c.source}`],
    [escapeHtml(c.paperValue), c.paperValue],
    [escapeHtml(formatMeasured(c.measured)), mean],
    [`${escapeHtml(c.tolerance)}<br><small>${escapeHtml(c.toleranceWhy)}</small>`, c.tolerance],
    [`<span class="verdict verdict-${c.verdict}">${escapeHtml(verdict)}</span>`, verdict],
    [historyHtml(c), String(c.history?.length ?? 0)],
  ];
  const tds = cells.map(([html, key]) => `<td data-sort="${escapeHtml(key ?? '')}">${html}</td>`).join('');
  return `<tr class="claim-row verdict-row-${c.verdict}" data-paper="${escapeHtml(s.run.paper)}" data-claim="${escapeHtml(c.id)}">${tds}</tr>`;
}

export function claimsTableReportHtml(sections: ReportSection[]): string {
  const head: [string, 'text' | 'number'][] = [
    ['paper', 'text'],
    ['profile', 'text'],
    ['kind', 'text'],
    ['claim', 'text'],
    ['source', 'text'],
    ['paper value', 'text'],
    ['measured [95% interval]', 'number'],
    ['tolerance', 'text'],
    ['verdict', 'text'],
    ['history', 'number'],
  ];
  const ths = head.map(([h, type]) => `<th data-sort-type="${type}" aria-sort="none" title="click to sort">${h}</th>`).join('');
  const rows = sections.flatMap((s) => s.claims.map((c) => claimRow(s, c)));
  return `<table id="claims" class="claims-table sortable"><thead><tr>${ths}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/**
 * The page's opening: per paper and profile, its paper claims' verdicts with their
 * intervals and its key figure (the first), so a reader takes the result in at a glance.
 */
export function glanceHtml(opts: ReportHtmlOptions, sections: ReportSection[]): string {
  const cards = sections.map((s) => {
    const paper = s.claims.filter((c) => c.kind === 'paper');
    const checks = s.claims.filter((c) => c.kind === 'check');
    const items = paper
      .map((c) => `<li><span class="verdict verdict-${c.verdict}">${escapeHtml(c.verdict)}</span> <a href="#${sectionId(s)}">${escapeHtml(c.id)}</a>: ${escapeHtml(formatMeasured(c.measured))} <small>(tolerance ${escapeHtml(c.tolerance)}; paper ${escapeHtml(c.paperValue)})</small></li>`)
      .join('');
    const passing = checks.filter((c) => c.verdict === 'reproduced').length;
    const key = s.figures[0];
    const uri = key ? svgDataUri(path.join(opts.out, s.dir, key.files.svg)) : undefined;
    const fig = key && uri ? `<img class="glance-figure" src="${uri}" alt="${escapeHtml(key.title)}" title="${escapeHtml(key.title)}">` : '';
    return (
      `<div class="glance-card" data-paper="${escapeHtml(s.run.paper)}" data-profile="${escapeHtml(s.run.profile)}">` +
      `<h3><a href="#${sectionId(s)}">${escapeHtml(s.run.paper)}</a> <small>(${escapeHtml(s.run.profile)})</small></h3><p class="glance-title">${escapeHtml(s.run.title)}</p>` +
      `<ul class="glance-claims">${items}</ul><p><small>${passing} of ${checks.length} checks pass</small></p>${fig}</div>`
    );
  });
  return `<div class="glance">${cards.join('')}</div>`;
}

function svgDataUri(file: string): string | undefined {
  try {
    return `data:image/svg+xml;base64,${fs.readFileSync(file).toString('base64')}`;
  } catch {
    return undefined;
  }
}

function figureHtml(opts: ReportHtmlOptions, s: ReportSection, f: FigureEntry): string {
  const uri = svgDataUri(path.join(opts.out, s.dir, f.files.svg));
  const id = `fig-${slug(s.run.paper)}-${slug(s.run.profile)}-${slug(f.name)}`;
  const stat = uri ? `<img class="static-figure" src="${uri}" alt="${escapeHtml(f.title)}">` : `<p class="missing">${escapeHtml(f.files.svg)} is missing.</p>`;
  const links = `<a href="${escapeHtml(sectionFile(s, f.files.svg))}">SVG</a> · <a href="${escapeHtml(sectionFile(s, f.files.png))}">PNG</a> · <a href="${escapeHtml(sectionFile(s, f.files.vl))}">Vega-Lite</a>`;
  let spec = '';
  if (opts.vegaScripts) {
    try {
      spec = `<script type="application/json" id="${id}-spec">${scriptJson(JSON.parse(fs.readFileSync(path.join(opts.out, s.dir, f.files.vl), 'utf8')))}</script>`;
    } catch (e) {
      spec = `<p class="no-interactive">No interactive version: cannot read ${escapeHtml(f.files.vl)} (${escapeHtml((e as Error).message.split('\n')[0])}).</p>`;
    }
  }
  return (
    `<figure class="report-figure" data-figure="${escapeHtml(f.name)}"><figcaption>${escapeHtml(f.title)} <span class="links">(${links})</span></figcaption>` +
    `<div class="vega-figure" id="${id}">${stat}</div>${spec}</figure>`
  );
}

function sectionHtml(opts: ReportHtmlOptions, s: ReportSection): string {
  const git = s.run.git.commit ? `${s.run.git.commit.slice(0, 12)}${s.run.git.dirty ? ' (dirty)' : ''}` : 'unknown';
  const facts = `Seeds ${escapeHtml(s.run.seeds.join(', '))} · backend ${escapeHtml(s.run.backend.name)} (${escapeHtml(s.run.backend.device)}) · commit ${escapeHtml(git)} · ${s.run.wallSeconds.toFixed(1)} s of compute.`;
  const why = s.claims.map((c) => `<li><b>${escapeHtml(c.id)}</b> measures ${escapeHtml(c.measures)}; tolerance ${escapeHtml(c.tolerance)}. Why this tolerance: ${escapeHtml(c.toleranceWhy)}</li>`).join('');
  const figs = s.figures.map((f) => figureHtml(opts, s, f)).join('');
  const tables = s.tables.map(tableHtml).join('');
  return (
    `<section class="paper-section" id="${sectionId(s)}" data-paper="${escapeHtml(s.run.paper)}" data-profile="${escapeHtml(s.run.profile)}">` +
    `<h2>${escapeHtml(s.run.paper)} — ${escapeHtml(s.run.title)} (${escapeHtml(s.run.profile)})</h2>` +
    `<p>${facts}</p><p>Reproduce: <code>${escapeHtml(s.run.command)}</code></p>` +
    (why ? `<ul class="tolerances">${why}</ul>` : '') +
    (tables ? `<h3>Results</h3>${tables}` : '') +
    (figs ? `<h3>Figures</h3><p class="hint">${opts.vegaScripts ? 'Hover a point to read its values; click a legend entry to bring that series forward (shift-click for several, double-click to reset).' : `Static figures only: ${escapeHtml(opts.vegaMissing ?? 'vega is not available')}.`}</p>${figs}` : '') +
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
table.result-table { border-collapse: collapse; font-size: 0.9em; margin: 0.3em 0; }
table.result-table th, table.result-table td { border: 1px solid #ddd; padding: 3px 6px; text-align: left; }
table.result-table td.num { text-align: right; font-variant-numeric: tabular-nums; }
.table-note { color: #666; margin-top: 0.2em; }
.static-figure { max-width: 100%; height: auto; }
figure.report-figure { margin: 1em 0 2em 0; border-top: 1px solid #eee; padding-top: 0.5em; }
figcaption { font-weight: bold; margin-bottom: 0.5em; }
figcaption .links { font-weight: normal; font-size: 0.9em; }
.no-interactive, .figure-notes, .hint { color: #666; font-size: 0.9em; }
nav ul { columns: 2; }
.glance { display: flex; flex-wrap: wrap; gap: 1em; margin: 1em 0 2em 0; }
.glance-card { flex: 1 1 420px; border: 1px solid #ddd; border-radius: 6px; padding: 0.6em 0.9em; }
.glance-card h3 { margin: 0.2em 0; }
.glance-title { color: #555; margin: 0 0 0.4em 0; font-size: 0.9em; }
.glance-claims { padding-left: 1.1em; margin: 0.3em 0; font-size: 0.9em; }
.glance-figure { max-width: 100%; height: auto; margin-top: 0.4em; }
.headline { font-size: 1.1em; }
.unexpected { color: #a00; font-weight: bold; }
.kind { font-size: 0.75em; padding: 0 4px; border-radius: 3px; background: #e4ecf7; }
.kind-check { background: #eee; }
details.history ul { margin: 0.2em 0; padding-left: 1.1em; font-size: 0.85em; }
`;

/** Sorting and the vega-embed start-up; inline so the page needs no other file but the vega scripts. */
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
  var figs = document.querySelectorAll('.vega-figure');
  if (!figs.length || typeof vegaEmbed === 'undefined') return;
  figs.forEach(function (div) {
    var data = document.getElementById(div.id + '-spec');
    if (!data) return;
    var spec = JSON.parse(data.textContent);
    vegaEmbed(div, spec, { renderer: 'svg', actions: false }).then(function () {
      div.setAttribute('data-embedded', 'true');
    }, function (err) {
      div.setAttribute('data-embed-error', String(err));
    });
  });
})();
`;

export function renderReportHtml(sections: ReportSection[], opts: ReportHtmlOptions): string {
  const all = sections.flatMap((s) => s.claims);
  const unexpected = all.filter((c) => !c.asExpected);
  const nav = sections.map((s) => `<li><a href="#${sectionId(s)}">${escapeHtml(s.run.paper)} — ${escapeHtml(s.run.title)} (${escapeHtml(s.run.profile)})</a></li>`).join('');
  const vega = (opts.vegaScripts ?? []).map((src) => `<script src="${escapeHtml(src)}"></script>`).join('');
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<title>Reproduction report</title>',
    `<style>${STYLE}</style>`,
    vega,
    '</head><body>',
    '<h1>Reproduction report</h1>',
    ...headlines(all).map((h) => `<p class="summary headline"><b>${escapeHtml(formatHeadline(h))}</b></p>`),
    unexpected.length ? `<p class="unexpected">Verdicts that differ from their expectation (the run exits 1): ${unexpected.map((c) => escapeHtml(`${c.id} (${c.profile})`)).join(', ')}.</p>` : '',
    '<p class="hint">A verdict is judged on the 95% interval of the metric across seeds (or timed repetitions): inside the tolerance = reproduced, outside = not reproduced, across a boundary = inconclusive. Paper claims are what the papers say; checks are sanity bounds, never counted as reproductions.</p>',
    sections.length ? glanceHtml(opts, sections) : '<p>No results found in this directory.</p>',
    sections.length ? `<h2>Every claim</h2><p class="hint">Click a column header to sort.</p><nav><ul>${nav}</ul></nav>` : '',
    claimsTableReportHtml(sections),
    ...sections.map((s) => sectionHtml(opts, s)),
    `<script>${SCRIPT}</script>`,
    '</body></html>',
    '',
  ].join('\n');
}

/** Writes <out>/report.html (and the vega scripts beside it) for the given sections. */
export function writeReportHtml(out: string, sections: ReportSection[]): { path: string; vega: string[] | null } {
  const v = installVegaScripts(out);
  const scripts = 'names' in v ? v.names : null;
  const file = path.join(out, REPORT_HTML);
  writeFileAtomic(file, renderReportHtml(sections, { out, vegaScripts: scripts, vegaMissing: 'missing' in v ? v.missing : undefined }));
  return { path: file, vega: scripts };
}
