/**
 * A paper's result tables (ResultTable: data, not HTML) as Markdown and as HTML, so the
 * notebook, REPORT.md and report.html show the same table.
 */
import { escapeHtml } from '../core/html';
import type { ResultTable, TableCell } from '../harness/contract';

/** Numbers with sensible precision: integers as they are, others to 4 significant digits. */
export function formatCell(c: TableCell): string {
  if (c === null) return '—';
  if (typeof c === 'string') return c;
  if (!Number.isFinite(c)) return String(c);
  if (Number.isInteger(c)) return String(c);
  const a = Math.abs(c);
  return a >= 1000 ? c.toFixed(0) : a >= 0.001 ? String(Number(c.toPrecision(4))) : c.toExponential(2);
}

/** Text safe inside a Markdown table cell. */
export function mdCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function tableMarkdown(t: ResultTable): string {
  const lines = [`**${mdCell(t.title)}**`, '', `| ${t.columns.map(mdCell).join(' | ')} |`, `|${t.columns.map(() => '---').join('|')}|`];
  for (const row of t.rows) lines.push(`| ${row.map((c) => mdCell(formatCell(c))).join(' | ')} |`);
  if (t.note) lines.push('', `*${mdCell(t.note)}*`);
  return lines.join('\n');
}

export function tableHtml(t: ResultTable): string {
  const head = t.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
  const rows = t.rows.map((r) => `<tr>${r.map((c) => `<td${typeof c === 'number' ? ' class="num"' : ''}>${escapeHtml(formatCell(c))}</td>`).join('')}</tr>`).join('');
  const note = t.note ? `<p class="table-note"><small>${escapeHtml(t.note)}</small></p>` : '';
  return `<div class="result-table" data-table="${escapeHtml(t.name)}"><h4>${escapeHtml(t.title)}</h4><table class="result-table"><thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table>${note}</div>`;
}
