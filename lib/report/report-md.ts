/**
 * REPORT.md at the top of an output directory: one row per claim of every paper
 * and profile found there, with paper value, measured value, verdict and links to
 * the figures. Built from the files on disk, so a merge of shards and a plain run
 * produce the same report.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readJsonIfValid, writeFileAtomic } from '../core/atomic-fs';
import { formatMeasured, type ClaimRecord } from '../harness/verdicts';
import { writeReportHtml } from './report-html';

interface FigureIndexEntry {
  name: string;
  title: string;
  files: { vl: string; svg: string; png: string };
}

interface RunJson {
  paper: string;
  title: string;
  profile: string;
  seeds: number[];
  command: string;
  git: { commit: string | null; dirty: boolean | null };
  backend: { name: string; device: string };
  wallSeconds: number;
}

export interface ReportSection {
  dir: string;
  run: RunJson;
  claims: ClaimRecord[];
  figures: FigureIndexEntry[];
}

const VERDICT_LABEL: Record<string, string> = {
  reproduced: '✅ reproduced',
  'not-reproduced': '❌ not reproduced',
  'not-run': '⏸ not run',
};

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** Every <paper>/<profile>/ under `out` that has run.json and claims.json, sorted. */
export function collectSections(out: string): ReportSection[] {
  const sections: ReportSection[] = [];
  if (!fs.existsSync(out)) return sections;
  for (const paper of fs.readdirSync(out).sort()) {
    const pdir = path.join(out, paper);
    if (!fs.statSync(pdir).isDirectory()) continue;
    for (const profile of fs.readdirSync(pdir).sort()) {
      const dir = path.join(pdir, profile);
      const run = readJsonIfValid<RunJson>(path.join(dir, 'run.json'));
      const claims = readJsonIfValid<ClaimRecord[]>(path.join(dir, 'claims.json'));
      if (!run || !claims) continue;
      const figures = readJsonIfValid<FigureIndexEntry[]>(path.join(dir, 'figures', 'figures.json')) ?? [];
      sections.push({ dir: path.relative(out, dir), run, claims, figures });
    }
  }
  return sections;
}

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
        `| ${s.run.paper} | ${s.run.profile} | **${cell(c.id)}**: ${cell(c.statement)} | ${cell(c.paper)} ${cell(c.source)} | ${cell(c.paperValue)} | ${cell(formatMeasured(c.measured))} | ${cell(c.tolerance)} | ${cell(verdict)} |`,
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
    if (s.figures.length) {
      lines.push('', 'Figures:', '');
      for (const f of s.figures) {
        const rel = (p: string) => path.posix.join(s.dir.split(path.sep).join('/'), p);
        lines.push(`- ${f.title}: [SVG](${rel(f.files.svg)}) · [PNG](${rel(f.files.png)}) · [Vega-Lite](${rel(f.files.vl)})`, '', `  ![${f.title}](${rel(f.files.svg)})`, '');
      }
    }
  }
  return lines.join('\n') + '\n';
}

/** Writes <out>/REPORT.md and, beside it, report.html (+ plotly.js) from the same sections. */
export function writeReport(out: string): { path: string; html: string; sections: ReportSection[] } {
  const sections = collectSections(out);
  const file = path.join(out, 'REPORT.md');
  writeFileAtomic(file, renderReportMarkdown(sections));
  const html = writeReportHtml(out, sections);
  return { path: file, html: html.path, sections };
}
