/**
 * HTML for notebooks and report.html (lib/report/report-html.ts): the claims table with
 * verdict colours, each claim's kind, interval, reasons and pre-registration history.
 * Returns strings only — the notebook passes them to tslab.display, so lib/ does not
 * depend on being inside a kernel.
 */
import { escapeHtml } from '../core/html';
import { formatHeadline, formatMeasured, headlines, verdictLabel, type ClaimRecord } from '../harness/verdicts';

/** Background colour per verdict; report.html uses the same ones. */
export const VERDICT_COLOURS: Record<string, string> = { reproduced: '#d4f7d4', 'not-reproduced': '#f9d0d0', inconclusive: '#fff1b8', 'not-run': '#eeeeee' };

/** The expected verdict's reason, with what backs it: a measurement in the repository, or a hypothesis. */
export function expectationText(c: ClaimRecord): string {
  const e = c.expected;
  if (e.verdict === 'reproduced' || !e.reason) return '';
  const backing = [e.evidence ? `evidence: ${e.evidence}` : undefined, e.hypothesis ? 'in part a hypothesis, not yet measured' : undefined].filter(Boolean).join('; ') || 'hypothesis, not yet measured';
  return `expected ${e.verdict}: ${e.reason} (${backing})`;
}

/** The verdict line of a claim: label, what the measurement says, and why it is expected. */
export function verdictText(c: ClaimRecord): string {
  return [verdictLabel(c), c.verdict !== 'not-run' ? c.reason : undefined, expectationText(c)].filter(Boolean).join(' — ');
}

/** The claim's pre-registration history (claims.lock.json) as a collapsed list. */
export function historyHtml(c: ClaimRecord): string {
  const h = c.history ?? [];
  if (h.length === 0) return '<small>—</small>';
  const items = h.map((e) => `<li>${escapeHtml(e.date)} ${escapeHtml(e.field)}: ${escapeHtml(JSON.stringify(e.from))} → ${escapeHtml(JSON.stringify(e.to))}; ${escapeHtml(e.why)} (results ${e.resultsSeen ? 'seen' : 'not seen'})</li>`).join('');
  return `<details class="history"><summary>${h.length} change${h.length === 1 ? '' : 's'}</summary><ul>${items}</ul></details>`;
}

export function claimCellHtml(c: ClaimRecord): string {
  const falsified = c.kind === 'paper' ? `<br><small>fails if: ${escapeHtml(c.falsifiedBy)}</small>` : '';
  return `<span class="kind kind-${c.kind}">${c.kind}</span> <b>${escapeHtml(c.id)}</b><br>${escapeHtml(c.statement)}<br><small>measures ${escapeHtml(c.measures)}</small>${falsified}`;
}

export function claimsTableHtml(claims: ClaimRecord[]): string {
  const head = ['claim', 'source', 'paper value', 'measured [95% interval]', 'tolerance', 'verdict', 'history'];
  const rows = claims.map((c) => {
    const cells = [
      claimCellHtml(c),
      escapeHtml(`${c.paper} ${c.source}`),
      escapeHtml(c.paperValue),
      escapeHtml(formatMeasured(c.measured)),
      `${escapeHtml(c.tolerance)}<br><small>${escapeHtml(c.toleranceWhy)}</small>`,
      `<span style="background:${VERDICT_COLOURS[c.verdict]};padding:2px 6px">${escapeHtml(verdictText(c))}</span>`,
      historyHtml(c),
    ];
    return `<tr>${cells.map((x) => `<td style="text-align:left;vertical-align:top">${x}</td>`).join('')}</tr>`;
  });
  const heads = headlines(claims).map((h) => `<p class="headline"><b>${escapeHtml(formatHeadline(h))}</b></p>`).join('');
  return `${heads}<table class="claims-table"><thead><tr>${head.map((h) => `<th style="text-align:left">${h}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** One line per verdict, for the end of a notebook. */
export function verdictSummary(claims: ClaimRecord[]): string {
  const lines = claims.map((c) => `${c.kind.padEnd(6)} ${verdictLabel(c).padEnd(40)} ${c.id}: measured ${formatMeasured(c.measured)} vs paper ${c.paperValue}`);
  return [...headlines(claims).map(formatHeadline), ...lines].join('\n');
}
