/**
 * What REPORT.md and report.html are built from: every <paper>/<profile>/ under an
 * output directory that holds a run.json and a claims.json, read through the schemas
 * of lib/harness/files.ts. Built from the files on disk, so a merge of shards and a
 * plain run produce the same report.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ResultTable } from '../harness/contract';
import { claimsSchema, figureIndexSchema, files, readIfValid, runSchema, tablesSchema, type ClaimRecord, type FigureIndexEntry, type RunFile } from '../harness/files';

export interface ReportSection {
  /** The section's folder, relative to the output directory (figure paths are relative to it). */
  dir: string;
  run: RunFile;
  claims: ClaimRecord[];
  tables: ResultTable[];
  figures: FigureIndexEntry[];
}

/** Every <paper>/<profile>/ under `out` with a valid run.json and claims.json, sorted. */
export function collectSections(out: string): ReportSection[] {
  const sections: ReportSection[] = [];
  if (!fs.existsSync(out)) return sections;
  for (const paper of fs.readdirSync(out).sort()) {
    const pdir = path.join(out, paper);
    if (!fs.statSync(pdir).isDirectory()) continue;
    for (const profile of fs.readdirSync(pdir).sort()) {
      const dir = path.join(pdir, profile);
      if (!fs.statSync(dir).isDirectory()) continue;
      const run = readIfValid(files.run(dir), runSchema);
      const claims = readIfValid(files.claims(dir), claimsSchema);
      if (!run || !claims) continue;
      const tables = readIfValid(files.tables(dir), tablesSchema) ?? [];
      const figures = readIfValid(files.figureIndex(dir), figureIndexSchema) ?? [];
      sections.push({ dir: path.relative(out, dir), run, claims, tables, figures });
    }
  }
  return sections;
}

/** A figure file's path relative to the output directory, with forward slashes (for links). */
export function sectionFile(s: ReportSection, file: string): string {
  return path.posix.join(s.dir.split(path.sep).join('/'), file);
}
