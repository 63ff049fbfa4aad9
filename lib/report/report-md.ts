/**
 * REPORT.md at the top of an output directory: one row per claim of every paper
 * and profile found there, with paper value, measured value, verdict and links to
 * the figures, then per paper its run facts, tolerances, result tables and figures.
 */
import { formatMeasured, type ClaimRecord } from '../harness/verdicts';
import { sectionFile, type ReportSection } from './sections';
import { mdCell, tableMarkdown } from './tables';

const VERDICT_LABEL: Record<string, string> = {
  reproduced: '✅ reproduced',
  'not-reproduced': '❌ not reproduced',
  'not-run': '⏸ not run',
};

export function verdictCounts(claims: ClaimRecord[]): Record<string, number> {
  const c: Record<string, number> = { reproduced: 0, 'not-reproduced': 0, 'not-run': 0 };
  for (const r of claims) c[r.verdict]++;
  return c;
}

export function renderReportMarkdown(sections: ReportSection[]): string {
  const all = sections.flatMap((s) => s.claims);
  const counts = verdictCounts(all);
  const lines: string[] = [
    '# Reproduction report',
    '',
    `${all.length} claims: ${counts.reproduced} reproduced, ${counts['not-reproduced']} not reproduced, ${counts['not-run']} not run.`,
    '',
    '| paper | profile | claim | source | paper value | measured | tolerance | verdict |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const s of sections) {
    for (const c of s.claims) {
      const verdict = VERDICT_LABEL[c.verdict] + (c.reason ? ` — ${c.reason}` : '') + (c.verdict === 'not-reproduced' && c.expected ? ' (known)' : '');
      lines.push(
        `| ${s.run.paper} | ${s.run.profile} | **${mdCell(c.id)}**: ${mdCell(c.statement)} | ${mdCell(c.paper)} ${mdCell(c.source)} | ${mdCell(c.paperValue)} | ${mdCell(formatMeasured(c.measured))} | ${mdCell(c.tolerance)} | ${mdCell(verdict)} |`,
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
    for (const c of s.claims) lines.push(`- **${c.id}** measures ${c.measures}; tolerance ${c.tolerance}. Why this tolerance: ${c.toleranceWhy}`);
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
