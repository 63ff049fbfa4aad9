/** REPORT.md and report.html at the top of an output directory, from the same sections. */
import * as path from 'node:path';
import { writeFileAtomic } from '../core/atomic-fs';
import { writeReportHtml } from './report-html';
import { renderReportMarkdown } from './report-md';
import { collectSections, type ReportSection } from './sections';

export function writeReport(out: string): { path: string; html: string; sections: ReportSection[] } {
  const sections = collectSections(out);
  const file = path.join(out, 'REPORT.md');
  writeFileAtomic(file, renderReportMarkdown(sections));
  const html = writeReportHtml(out, sections);
  return { path: file, html: html.path, sections };
}
