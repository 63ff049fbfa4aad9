#!/usr/bin/env node
/**
 * `npm run docs [-- --check]`: regenerates the results sections of README.md and of each
 * paper's README from the committed reference results (results/reference/); --check only
 * compares (exit 1 naming the files that differ).
 * `npm run reference -- --from DIR [--profile quick]`: copies a finished run's files from
 * DIR into results/reference/<profile>/ (it should come from an idle machine: busy
 * timing verdicts are refused), then regenerates the docs.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UsageError, listChoices } from '../lib/core/errors';
import { repoRoot } from '../lib/core/paths';
import { PROFILES, type ProfileName } from '../lib/harness/contract';
import { claimsSchema, figureIndexSchema, files, readIfValid, runSchema } from '../lib/harness/files';
import { PAPERS } from '../lib/papers/registry';
import { readReference, renderPaperResults, renderSuiteResults, replaceGenerated } from '../lib/report/reference-docs';
import { parseStrict } from './args';

export function referenceDir(root = repoRoot()): string {
  return path.join(root, 'results', 'reference');
}

/** Every generated document: its path and the content it should have. */
export function expectedDocs(root = repoRoot()): { file: string; content: string }[] {
  const refs = readReference(referenceDir(root));
  const docs = [{ file: path.join(root, 'README.md'), generated: renderSuiteResults(refs) }];
  for (const p of PAPERS) docs.push({ file: path.join(root, 'lib', 'papers', p.id, 'README.md'), generated: renderPaperResults(refs, p.id) });
  return docs.map((d) => ({ file: d.file, content: replaceGenerated(fs.readFileSync(d.file, 'utf8'), d.generated, path.relative(root, d.file)) }));
}

/** Files whose generated region differs from the reference results. */
export function staleDocs(root = repoRoot()): string[] {
  return expectedDocs(root)
    .filter((d) => fs.readFileSync(d.file, 'utf8') !== d.content)
    .map((d) => path.relative(root, d.file));
}

/** Copies one run's files (per paper of `profile`) from `from` into results/reference/<profile>/. */
export function copyReference(from: string, profile: ProfileName, root = repoRoot()): string[] {
  const copied: string[] = [];
  for (const p of PAPERS) {
    const src = files.paperDir(from, p.id, profile);
    const run = readIfValid(files.run(src), runSchema);
    const claims = readIfValid(files.claims(src), claimsSchema);
    if (!run || !claims) continue;
    const busy = claims.filter((c) => c.busy).map((c) => c.id);
    if (busy.length) throw new UsageError(`${p.id}: timing claims measured on a busy machine (${busy.join(', ')}): reference results come from an idle run`);
    const dst = path.join(referenceDir(root), profile, p.id);
    fs.rmSync(dst, { recursive: true, force: true });
    fs.mkdirSync(path.join(dst, 'figures'), { recursive: true });
    for (const f of ['run.json', 'claims.json', 'tables.json', 'metrics.jsonl']) if (fs.existsSync(path.join(src, f))) fs.copyFileSync(path.join(src, f), path.join(dst, f));
    const index = readIfValid(files.figureIndex(src), figureIndexSchema) ?? [];
    fs.copyFileSync(files.figureIndex(src), files.figureIndex(dst));
    // The SVG (citable, text) and the spec; the PNG is regenerated from them at will.
    for (const fig of index) for (const f of [fig.files.svg, fig.files.vl]) fs.copyFileSync(path.join(src, f), path.join(dst, f));
    copied.push(p.id);
  }
  return copied;
}

export function runDocs(argv: string[], write: (t: string) => void = (t) => process.stdout.write(t)): number {
  try {
    const reference = argv[0] === 'reference';
    const { values, positionals } = parseStrict(reference ? argv.slice(1) : argv, { check: { type: 'boolean' }, from: { type: 'string' }, profile: { type: 'string' } } as const);
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}' (usage: npm run docs [-- --check] | npm run reference -- --from DIR [--profile quick])`);
    if (reference) {
      if (!values.from) throw new UsageError('--from DIR is required: the --out of a finished reproduce run');
      const profile = (values.profile ?? 'quick') as ProfileName;
      if (!PROFILES.includes(profile)) throw new UsageError(`unknown profile '${values.profile}'; valid profiles: ${listChoices(PROFILES)}`);
      if (!fs.existsSync(values.from)) throw new UsageError(`--from '${values.from}' does not exist`);
      const copied = copyReference(path.resolve(values.from), profile);
      if (copied.length === 0) throw new UsageError(`no finished ${profile} run under ${values.from} (run.json and claims.json per paper)`);
      write(`copied ${copied.join(', ')} into ${path.relative(repoRoot(), path.join(referenceDir(), profile))}\n`);
    }
    if (values.check) {
      const stale = staleDocs();
      write(stale.length ? `stale generated results in: ${stale.join(', ')} (run npm run docs)\n` : 'docs agree with results/reference\n');
      return stale.length ? 1 : 0;
    }
    for (const d of expectedDocs()) fs.writeFileSync(d.file, d.content);
    write('README.md and lib/papers/*/README.md regenerated from results/reference\n');
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`docs: ${e.message}\n`);
      return e.exitCode;
    }
    throw e;
  }
}

if (process.argv[1] && /reproduce[\\/]docs\.ts$/.test(process.argv[1])) process.exitCode = runDocs(process.argv.slice(2));
