/**
 * The measured numbers in the README and in each paper's README come from one place:
 * the reference results committed under results/reference/<profile>/<paper>/ (claims.json,
 * run.json, tables.json, metrics.jsonl and the figures of an idle run on the CI machine).
 * This module renders the generated parts of those documents; reproduce/docs.ts writes
 * them (`npm run docs`) and a test fails when the documents and the results disagree.
 *
 * Generated regions sit between `<!-- results:begin -->` and `<!-- results:end -->`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ProfileName } from '../harness/contract';
import { PROFILES } from '../harness/contract';
import { claimsSchema, files, readIfValid, runSchema, type ClaimRecord, type RunFile } from '../harness/files';
import { formatHeadline, formatMeasured, headlines, verdictLabel } from '../harness/verdicts';
import { mdCell } from './tables';

export const BEGIN = '<!-- results:begin -->';
export const END = '<!-- results:end -->';

export interface ReferenceRun {
  profile: ProfileName;
  paper: string;
  run: RunFile;
  claims: ClaimRecord[];
}

/** Every paper (or only `paper`) and profile committed under `referenceDir` (results/reference). */
export function readReference(referenceDir: string, paper?: string): ReferenceRun[] {
  const out: ReferenceRun[] = [];
  for (const profile of PROFILES) {
    const pdir = path.join(referenceDir, profile);
    if (!fs.existsSync(pdir)) continue;
    for (const p of fs.readdirSync(pdir).sort()) {
      if (paper !== undefined && p !== paper) continue;
      const dir = path.join(pdir, p);
      const run = readIfValid(files.run(dir), runSchema);
      const claims = readIfValid(files.claims(dir), claimsSchema);
      if (run && claims) out.push({ profile, paper: p, run, claims });
    }
  }
  return out;
}

function verdictCell(c: ClaimRecord): string {
  const label = verdictLabel(c);
  return c.verdict === 'reproduced' ? label : `**${label}**`;
}

/** One line of provenance per reference run: commit, date, machine, load, wall time. */
function provenance(r: ReferenceRun): string {
  const m = r.run.machine;
  const loads = r.run.jobs.flatMap((j) => [j.machine.loadBefore, j.machine.loadAfter]);
  const load = loads.length ? `load ${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)}` : 'load not recorded';
  const commit = r.run.git.commit ? r.run.git.commit.slice(0, 12) + (r.run.git.dirty ? ' (dirty)' : '') : 'unknown commit';
  const peak = r.run.jobs.length ? `, peak ${Math.max(...r.run.jobs.map((j) => j.machine.peakRssMiB)).toFixed(0)} MiB per job` : '';
  return `${r.paper} (${r.profile}): seeds ${r.run.seeds.join(', ')}, ${r.run.wallSeconds.toFixed(0)} s of compute, ${r.run.backend.name} on ${m.cpu} (${m.cpus} cores, ${load}${peak}), commit ${commit}, ${r.run.endedAt.slice(0, 10)}`;
}

/** A claim shown in the tables: claims judged only at other profiles are left out. */
function shown(c: ClaimRecord): boolean {
  return !(c.verdict === 'not-run' && /judged only at profile/.test(c.reason ?? ''));
}

/**
 * One row per claim, with each committed profile's measurement and verdict side by side
 * (quick beside full), so a reader sees at once what the longer run changed.
 */
function sideBySide(refs: ReferenceRun[], withPaperColumns: boolean): string[] {
  const profiles = PROFILES.filter((p) => refs.some((r) => r.profile === p));
  const papers = [...new Set(refs.map((r) => r.paper))];
  const head = [...(withPaperColumns ? ['paper', 'kind', 'claim', 'paper value'] : ['kind', 'claim']), 'tolerance', ...profiles.flatMap((p) => [`${p}: measured [95% interval]`, `${p}: verdict`])];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const paper of papers) {
    const byProfile = new Map(refs.filter((r) => r.paper === paper).map((r) => [r.profile, new Map(r.claims.map((c) => [c.id, c]))]));
    const ids = [...new Set(refs.filter((r) => r.paper === paper).flatMap((r) => r.claims.filter(shown).map((c) => c.id)))];
    for (const id of ids) {
      const any = profiles.map((p) => byProfile.get(p)?.get(id)).find((c) => c !== undefined)!;
      const cells = profiles.flatMap((p) => {
        const c = byProfile.get(p)?.get(id);
        return c && shown(c) ? [mdCell(formatMeasured(c.measured)), mdCell(verdictCell(c))] : ['—', 'not judged'];
      });
      const lead = withPaperColumns ? [paper, any.kind, `${mdCell(id)}: ${mdCell(any.measures)}`, mdCell(any.paperValue)] : [any.kind, mdCell(id)];
      lines.push(`| ${[...lead, mdCell(any.tolerance), ...cells].join(' | ')} |`);
    }
  }
  return lines;
}

/** The README's results section: headlines per profile, one row per claim with every profile side by side, provenance. */
export function renderSuiteResults(refs: ReferenceRun[]): string {
  if (refs.length === 0) return 'No reference results are committed yet (results/reference/).';
  const lines: string[] = [];
  for (const profile of PROFILES) {
    const mine = refs.filter((r) => r.profile === profile);
    if (mine.length === 0) continue;
    const all = mine.flatMap((r) => r.claims);
    lines.push(`**${formatHeadline(headlines(all)[0])}.**`, '');
  }
  lines.push(...sideBySide(refs, true));
  lines.push('', 'Reference runs (results/reference/):', '');
  for (const r of refs) lines.push(`- ${provenance(r)}`);
  return lines.join('\n');
}

/** Why a verdict is what it is: the verdict's own reason, then the expectation's, labelled measured or hypothesis. */
function why(c: ClaimRecord): string {
  const expected = c.expected.reason ? `${c.expected.hypothesis ? 'expected (hypothesis)' : 'expected (measured)'}: ${c.expected.reason}` : undefined;
  return [c.reason, expected].filter(Boolean).join('; ');
}

/** A paper README's results section: every committed profile side by side, then each profile's claims with reasons. */
export function renderPaperResults(refs: ReferenceRun[], paper: string): string {
  const mine = refs.filter((r) => r.paper === paper);
  if (mine.length === 0) return `No reference results for ${paper} are committed yet (results/reference/<profile>/${paper}/).`;
  const lines: string[] = [];
  for (const r of mine) lines.push(`**${r.profile}: ${formatHeadline(headlines(r.claims)[0])}.**`, '');
  lines.push(...sideBySide(mine, false), '');
  for (const r of mine) {
    lines.push(`Why, at ${r.profile}:`, '', '| claim | verdict | why |', '|---|---|---|');
    for (const c of r.claims.filter(shown)) lines.push(`| ${mdCell(c.id)} | ${mdCell(verdictCell(c))} | ${mdCell(why(c))} |`);
    lines.push('', `Reference run: ${provenance(r)}.`, '');
  }
  return lines.join('\n').trimEnd();
}

/** `doc` with the text between the markers replaced; throws when the markers are missing. */
export function replaceGenerated(doc: string, generated: string, where: string): string {
  const i = doc.indexOf(BEGIN);
  const j = doc.indexOf(END);
  if (i < 0 || j < i) throw new Error(`${where} has no ${BEGIN} ... ${END} region`);
  return `${doc.slice(0, i + BEGIN.length)}\n${generated}\n${doc.slice(j)}`;
}
