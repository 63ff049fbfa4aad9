/**
 * REPORT.md at the top of an output directory: one row per claim of every paper
 * and profile found there, with paper value, measured value, verdict and links to
 * the figures, then per paper its run facts, tolerances, result tables and figures.
 */
import { formatHeadline, formatMeasured, headlines } from '../harness/verdicts';
import { verdictText } from './html';
import { sectionFile, type ReportSection } from './sections';
import { mdCell, tableMarkdown } from './tables';

const VERDICT_ICON: Record<string, string> = {
  reproduced: '✅',
  'not-reproduced': '❌',
  inconclusive: '❔',
  'not-run': '⏸',
};

export function renderReportMarkdown(sections: ReportSection[]): string {
  const all = sections.flatMap((s) => s.claims);
  const lines: string[] = ['# Reproduction report', '', ...headlines(all).map((h) => `**${formatHeadline(h)}.**`), ''];
  const unexpected = all.filter((c) => !c.asExpected);
  if (unexpected.length) lines.push(`Verdicts that differ from their expectation (the run exits 1): ${unexpected.map((c) => `${c.id} (${c.profile})`).join(', ')}.`, '');
  lines.push(
    'Verdicts are judged on the 95% interval of the metric across seeds (or timed repetitions): inside the tolerance = reproduced, outside = not reproduced, across a boundary = inconclusive. Checks are sanity bounds, never counted as reproductions.',
    '',
    '| paper | profile | kind | claim | source | paper value | measured [95% interval] | tolerance | verdict |',
    '|---|---|---|---|---|---|---|---|---|',
  );
  for (const s of sections) {
    for (const c of s.claims) {
      const verdict = `${VERDICT_ICON[c.verdict]} ${verdictText(c)}`;
      lines.push(
        `| ${s.run.paper} | ${s.run.profile} | ${c.kind} | **${mdCell(c.id)}**: ${mdCell(c.statement)} | ${mdCell(c.paper)} ${mdCell(c.source)} | ${mdCell(c.paperValue)} | ${mdCell(formatMeasured(c.measured))} | ${mdCell(c.tolerance)} | ${mdCell(verdict)} |`,
      );
    }
  }
  for (const s of sections) {
    lines.push('', `## ${s.run.paper} — ${s.run.title} (${s.run.profile})`, '');
    const git = s.run.git.commit ? `${s.run.git.commit.slice(0, 12)}${s.run.git.dirty ? ' (dirty)' : ''}` : 'unknown';
    lines.push(
      `Seeds ${s.run.seeds.join(', ')} · backend ${s.run.backend.name} (${s.run.backend.device}) · commit ${git} · ${s.run.wallSeconds.toFixed(1)} s of compute.`,
      '',
      `Reproduce: \`${s.run.command}\``,
      '',
    );
    for (const c of s.claims) {
      const fails = c.kind === 'paper' ? ` Fails if: ${c.falsifiedBy}.` : ' A check (true by construction or a sanity bound).';
      lines.push(`- **${c.id}** measures ${c.measures}; tolerance ${c.tolerance}. Why this tolerance: ${c.toleranceWhy}${fails}`);
      for (const h of c.history ?? []) lines.push(`  - ${h.date}: ${h.field} ${JSON.stringify(h.from)} → ${JSON.stringify(h.to)}; ${h.why} (results ${h.resultsSeen ? 'seen' : 'not seen'})`);
    }
    for (const t of s.tables) lines.push('', tableMarkdown(t));
    if (s.figures.length) {
      lines.push('', 'Figures:', '');
      for (const f of s.figures) {
        const rel = (p: string) => sectionFile(s, p);
        lines.push(`- ${f.title}: [SVG](${rel(f.files.svg)}) · [PNG](${rel(f.files.png)}) · [Vega-Lite](${rel(f.files.vl)})`, '', `  ![${f.title}](${rel(f.files.svg)})`, '');
      }
    }
  }
  return lines.join('\n') + '\n';
}
