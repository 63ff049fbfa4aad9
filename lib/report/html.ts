/**
 * HTML for notebooks and report.html (lib/report/report-html.ts): the claims table
 * with verdict colours. Returns strings only — the notebook passes them to
 * tslab.display, so lib/ does not depend on being inside a kernel.
 */
import { escapeHtml } from '../core/html';
import { formatMeasured, type ClaimRecord } from '../harness/verdicts';

/** Background colour per verdict; report.html uses the same ones. */
export const VERDICT_COLOURS: Record<string, string> = { reproduced: '#d4f7d4', 'not-reproduced': '#f9d0d0', 'not-run': '#eeeeee' };

export function claimsTableHtml(claims: ClaimRecord[]): string {
  const head = ['claim', 'source', 'paper value', 'measured', 'tolerance', 'verdict'];
  const rows = claims.map((c) => {
    const verdict = verdictText(c);
    const cells = [
      `<b>${escapeHtml(c.id)}</b><br>${escapeHtml(c.statement)}<br><small>measures ${escapeHtml(c.measures)}</small>`,
      escapeHtml(`${c.paper} ${c.source}`),
      escapeHtml(c.paperValue),
      escapeHtml(formatMeasured(c.measured)),
      `${escapeHtml(c.tolerance)}<br><small>${escapeHtml(c.toleranceWhy)}</small>`,
      `<span style="background:${VERDICT_COLOURS[c.verdict]};padding:2px 6px">${escapeHtml(verdict)}</span>`,
    ];
    return `<tr>${cells.map((x) => `<td style="text-align:left;vertical-align:top">${x}</td>`).join('')}</tr>`;
  });
  return `<table class="claims-table"><thead><tr>${head.map((h) => `<th style="text-align:left">${h}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** "not-reproduced (known): reason" — the verdict as shown in tables. */
export function verdictText(c: ClaimRecord): string {
  return c.verdict + (c.verdict === 'not-reproduced' && c.expected ? ' (known)' : '') + (c.reason ? `: ${c.reason}` : '');
}

/** One line per verdict, for the end of a notebook. */
export function verdictSummary(claims: ClaimRecord[]): string {
  return claims.map((c) => `${c.verdict.padEnd(15)} ${c.id}: measured ${formatMeasured(c.measured)} vs paper ${c.paperValue}`).join('\n');
}
