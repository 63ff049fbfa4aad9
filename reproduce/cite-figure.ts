/**
 * `npm run cite -- <paper>/<figure>`: how to cite one exported figure and how to
 * regenerate it byte for byte. Everything comes from the results on disk: the SVG's own
 * provenance (commit, seeds, config hash, backend, device, the command that ran it;
 * lib/harness/runner.ts figureProvenance) and run.json (paper title, references, date).
 */
import { shellQuote, shellWords } from './shell';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { readJsonIfValid } from '../lib/core/atomic-fs';
import { listChoices, UsageError } from '../lib/core/errors';
import { PACKAGE_NAME, repoRoot } from '../lib/core/paths';
import { suiteVersion } from '../lib/core/provenance';
import { getPaper, PAPERS, type AnyPaper } from '../lib/papers/registry';
import { PROFILES, type ProfileName } from '../lib/harness/contract';
import { readSvgProvenance } from '../lib/figures/render';

export const CITE_USAGE = `usage: npm run cite -- <paper>/<figure> [--out DIR] [--profile smoke|quick|full|paper]

Prints a BibTeX entry and a CITATION.cff snippet for one figure of a finished run under --out
(default results), and the command that regenerates it. --profile is needed only when the
figure exists for several profiles.`;

const OPTIONS = {
  out: { type: 'string', default: 'results' },
  profile: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/** Default --out of the printed regeneration command: a fresh folder, so nothing cached is reused. */
export const REGENERATE_OUT = 'results-regenerated';

interface FigureEntry {
  name: string;
  title: string;
  files: { vl: string; svg: string; png: string };
}

interface RunJson {
  title: string;
  references: string[];
  endedAt: string;
  command: string;
}

export interface FigureCitation {
  paper: string;
  figure: string;
  profile: ProfileName;
  title: string;
  paperTitle: string;
  references: string[];
  /** YYYY-MM-DD: when the run that made the figure finished. */
  date: string;
  svgPath: string;
  svgSha256: string;
  provenance: Record<string, unknown>;
  version: string | null;
  commit: string | null;
  dirty: boolean | null;
  /** The recorded reproduce command (without --out). */
  command: string;
  repositoryUrl: string | undefined;
}

function figuresIn(out: string, paper: string, profile: ProfileName): FigureEntry[] | undefined {
  return readJsonIfValid<FigureEntry[]>(path.join(out, paper, profile, 'figures', 'figures.json'));
}

/** Every "<paper>/<figure>" with results under `out` (for error messages). */
function availableFigures(out: string, papers: readonly AnyPaper[]): string[] {
  const all = new Set<string>();
  for (const p of papers) for (const prof of PROFILES) for (const f of figuresIn(out, p.id, prof) ?? []) all.add(`${p.id}/${f.name}`);
  return [...all];
}

/** The repository's public URL when a git remote says so (never guessed). */
function repositoryUrl(): string | undefined {
  try {
    const url = execFileSync('git', ['remote', 'get-url', 'origin'], { cwd: repoRoot(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const ssh = /^git@([^:]+):(.+?)(\.git)?$/.exec(url);
    if (ssh) return `https://${ssh[1]}/${ssh[2]}`;
    return /^https?:\/\//.test(url) ? url.replace(/\.git$/, '') : undefined;
  } catch {
    return undefined;
  }
}

/** Finds the figure and everything needed to cite it; UsageError (one line, valid choices) otherwise. */
export function findFigure(ref: string, out: string, profile: ProfileName | undefined, papers: readonly AnyPaper[] = PAPERS): FigureCitation {
  const m = /^([^/\s]+)\/([^/\s]+)$/.exec(ref);
  const available = () => availableFigures(out, papers);
  if (!m) {
    const some = available();
    throw new UsageError(`bad figure '${ref}': expected <paper>/<figure>${some.length ? `; figures under ${out}: ${listChoices(some)}` : ''}`);
  }
  const [, paperId, figure] = m;
  const paper = getPaper(paperId, papers);
  const withFigure = PROFILES.filter((p) => figuresIn(out, paper.id, p)?.some((f) => f.name === figure));
  if (profile === undefined) {
    if (withFigure.length > 1) throw new UsageError(`figure ${ref} exists for profiles ${listChoices(withFigure)} under ${out}: pass --profile ${withFigure.join('|')}`);
    profile = withFigure[0];
  }
  const figures = profile ? figuresIn(out, paper.id, profile) : undefined;
  const entry = figures?.find((f) => f.name === figure);
  if (!profile || !entry) {
    const where = profile ? `${out} (profile ${profile})` : out;
    const mine = available().filter((f) => f.startsWith(paper.id + '/'));
    const valid = profile ? (figures ?? []).map((f) => `${paper.id}/${f.name}`) : mine;
    if (valid.length === 0) {
      const others = available();
      throw new UsageError(
        `no figures of ${paper.id} under ${where}${others.length ? ` (figures there: ${listChoices(others)})` : ''}: run 'npm run reproduce -- --only ${paper.id}${profile ? ` --profile ${profile}` : ''} --out ${out}' first`,
      );
    }
    throw new UsageError(`unknown figure '${ref}' under ${where}; valid figures: ${listChoices(valid)}`);
  }
  const dir = path.join(out, paper.id, profile);
  // figures.json paths are relative to the <paper>/<profile> folder.
  const svgPath = path.join(dir, entry.files.svg);
  let svg: string;
  try {
    svg = fs.readFileSync(svgPath, 'utf8');
  } catch {
    throw new UsageError(`figure ${ref} is listed in ${path.join(dir, 'figures', 'figures.json')} but ${svgPath} is missing: re-run the paper`);
  }
  const run = readJsonIfValid<RunJson>(path.join(dir, 'run.json'));
  if (!run) throw new UsageError(`no run.json in ${dir}: re-run the paper ('npm run reproduce -- --only ${paper.id} --profile ${profile}')`);
  const provenance = readSvgProvenance(svg) ?? {};
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  return {
    paper: paper.id,
    figure,
    profile,
    title: entry.title,
    paperTitle: run.title ?? paper.title,
    references: run.references ?? paper.references,
    date: (run.endedAt ?? '').slice(0, 10),
    svgPath,
    svgSha256: createHash('sha256').update(svg).digest('hex'),
    provenance,
    version: str(provenance.version) ?? suiteVersion(),
    commit: str(provenance.commit),
    dirty: typeof provenance.dirty === 'boolean' ? provenance.dirty : null,
    command: str(provenance.command) ?? run.command,
    repositoryUrl: repositoryUrl(),
  };
}

/** The command that regenerates the figure into a fresh `out`. */
export function regenerateCommand(c: FigureCitation, out: string = REGENERATE_OUT): string {
  return `${c.command} --out ${shellQuote(out)}`;
}

/** argv for reproduce/main.ts main() from `npm run reproduce -- ...`. */
export function reproduceArgv(command: string): string[] {
  const words = shellWords(command);
  const prefix = ['npm', 'run', 'reproduce', '--'];
  if (!prefix.every((w, i) => words[i] === w)) throw new UsageError(`not a reproduce command (expected 'npm run reproduce -- ...'): ${command}`);
  return words.slice(prefix.length);
}

function bibEscape(s: string): string {
  return s.replace(/\\/g, '\\textbackslash{}').replace(/([{}&%$#_])/g, '\\$1').replace(/~/g, '\\textasciitilde{}').replace(/\^/g, '\\textasciicircum{}');
}

function arxivIds(references: string[]): string[] {
  return references.flatMap((r) => [...r.matchAll(/arXiv:\s*(\d{4}\.\d{4,5})/gi)].map((m) => m[1]));
}

function describeRun(c: FigureCitation): string {
  const p = c.provenance;
  const seeds = Array.isArray(p.seeds) ? p.seeds.join(',') : '?';
  return `profile ${c.profile}, seeds ${seeds}, config hash ${p.configHash ?? '?'}, backend ${p.backend ?? '?'} (${p.device ?? '?'})`;
}

export function bibtex(c: FigureCitation): string {
  const key = `${PACKAGE_NAME}-${c.paper}-${c.figure}${c.commit ? '-' + c.commit.slice(0, 7) : ''}`.replace(/[^A-Za-z0-9:_-]/g, '-');
  const fields: [string, string][] = [
    ['title', `{${bibEscape(c.title)}}: figure ${bibEscape(`${c.paper}/${c.figure}`)} reproducing ${bibEscape(c.paperTitle)}`],
    ['author', `{${PACKAGE_NAME} contributors}`],
    ['year', c.date.slice(0, 4)],
    ['date', c.date],
    ['howpublished', bibEscape(`${PACKAGE_NAME} ${c.version ? 'v' + c.version : ''}, commit ${c.commit ?? 'unknown'}${c.dirty ? ' (uncommitted changes)' : ''}`.replace(/\s+/g, ' '))],
    ...(c.version ? ([['version', bibEscape(c.version)]] as [string, string][]) : []),
    ...(c.repositoryUrl ? ([['url', c.repositoryUrl]] as [string, string][]) : []),
    [
      'note',
      bibEscape(
        `Reproduces ${c.references.join('; ')}. ${describeRun(c)}. File ${c.paper}/${c.profile}/figures/${c.figure}.svg (sha256 ${c.svgSha256}). ` +
          `Regenerate: ${regenerateCommand(c)}`,
      ),
    ],
  ];
  const width = Math.max(...fields.map(([k]) => k.length));
  return `@misc{${key},\n${fields.map(([k, v]) => `  ${k.padEnd(width)} = {${v}}`).join(',\n')}\n}`;
}

/** YAML scalar: JSON strings are valid YAML double-quoted strings. */
const y = (s: string) => JSON.stringify(s);

export function cff(c: FigureCitation): string {
  const lines = [
    'cff-version: 1.2.0',
    `message: ${y(`If you use this figure, please cite it as below. Regenerate it with: ${regenerateCommand(c)}`)}`,
    'type: dataset',
    `title: ${y(`${c.title} (figure ${c.paper}/${c.figure}, ${c.profile} profile, ${PACKAGE_NAME})`)}`,
    'authors:',
    `  - name: ${y(`${PACKAGE_NAME} contributors`)}`,
    ...(c.version ? [`version: ${y(c.version)}`] : []),
    ...(c.commit ? [`commit: ${y(c.commit)}`] : []),
    ...(c.date ? [`date-released: ${y(c.date)}`] : []),
    'license: Apache-2.0',
    ...(c.repositoryUrl ? [`repository-code: ${y(c.repositoryUrl)}`] : []),
    `abstract: ${y(`Figure ${c.paper}/${c.figure} of ${PACKAGE_NAME}, reproducing ${c.paperTitle}; ${describeRun(c)}; sha256 of the SVG ${c.svgSha256}.`)}`,
    'references:',
  ];
  for (const r of c.references) {
    // "Authors. Title. Venue. arXiv:id": the first sentence names the authors (as one entity).
    const authors = r.split(/\.\s/)[0] || r;
    const id = arxivIds([r])[0];
    lines.push('  - type: article', `    title: ${y(r)}`, '    authors:', `      - name: ${y(authors)}`);
    if (id) lines.push(`    url: ${y(`https://arxiv.org/abs/${id}`)}`);
  }
  return lines.join('\n');
}

export function renderCitation(c: FigureCitation): string {
  const at = c.commit ? `git checkout ${c.commit}` : 'the same commit (unknown here)';
  const dirty = c.dirty ? `\n# note: made from a working tree with uncommitted changes: the commit alone may not regenerate it` : '';
  return [
    `% BibTeX: ${c.paper}/${c.figure} (${c.svgPath})`,
    bibtex(c),
    '',
    '# CITATION.cff snippet',
    cff(c),
    '',
    `# Regenerate (at ${at}; same backend: ${String(c.provenance.backend ?? '?')}):${dirty}`,
    regenerateCommand(c),
    `# -> ${path.posix.join(REGENERATE_OUT, c.paper, c.profile, path.relative(path.dirname(path.dirname(c.svgPath)), c.svgPath).split(path.sep).join('/'))}, byte-identical: sha256 ${c.svgSha256}`,
    '',
  ].join('\n');
}

export interface CiteIO {
  papers?: readonly AnyPaper[];
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
}

export function runCite(argv: string[], io: CiteIO = {}): number {
  const papers = io.papers ?? PAPERS;
  const out = io.stdout ?? ((t: string) => process.stdout.write(t));
  const err = io.stderr ?? ((t: string) => process.stderr.write(t));
  try {
    let parsed;
    try {
      parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
    } catch (e) {
      throw new UsageError(`${(e as Error).message.split('\n')[0]} (valid options: --out --profile --help)`);
    }
    const { values, positionals } = parsed;
    if (values.help) {
      out(CITE_USAGE + '\n');
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError(`expected one figure as <paper>/<figure>, got ${positionals.length === 0 ? 'none' : positionals.join(' ')} (see --help)`);
    const profile = values.profile as ProfileName | undefined;
    if (profile !== undefined && !PROFILES.includes(profile)) throw new UsageError(`unknown profile '${profile}'; valid profiles: ${listChoices(PROFILES)}`);
    out(renderCitation(findFigure(positionals[0], values.out, profile, papers)));
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      err(`cite: ${e.message}\n`);
      return e.exitCode;
    }
    err(`cite: internal error: ${(e as Error).stack ?? e}\n`);
    return 1;
  }
}
