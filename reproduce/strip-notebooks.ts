/**
 * Strips notebooks before a commit: `tsx reproduce/strip-notebooks.ts [--check] [NOTEBOOK.ipynb ...]`
 * (default: every notebooks/*.ipynb). Clears outputs, execution counts and transient
 * metadata and sets the tslab kernelspec; files already clean are not rewritten.
 * `--check` changes nothing and exits 1 if a notebook needs stripping (for CI).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../lib/core/paths';
import { UsageError } from '../lib/core/errors';
import { writeFileAtomic } from '../lib/core/atomic-fs';
import { defaultNotebooks } from './notebook-options';
import { NOTEBOOK_KERNELSPEC, notebookProblems, parseNotebook, serializeNotebook, stripNotebook } from './notebook-format';

const USAGE = 'usage: tsx reproduce/strip-notebooks.ts [--check] [NOTEBOOK.ipynb ...]   (default: notebooks/*.ipynb)';

function main(): number {
  const root = repoRoot();
  const base = process.env.INIT_CWD ?? process.cwd();
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  const check = args.includes('--check');
  const unknown = args.find((a) => a.startsWith('-') && a !== '--check');
  if (unknown) throw new UsageError(`unknown option '${unknown}': valid options are --check, --help`);
  const paths = args.filter((a) => !a.startsWith('-'));
  const files = paths.length ? paths.map((p) => path.resolve(base, p)) : defaultNotebooks(root);
  for (const [i, f] of files.entries()) {
    if (!fs.existsSync(f) || !f.endsWith('.ipynb')) throw new UsageError(`'${paths[i] ?? f}' is not an existing .ipynb file`);
  }

  let dirty = 0;
  for (const file of files) {
    const name = path.relative(root, file).startsWith('..') ? file : path.relative(root, file);
    const text = fs.readFileSync(file, 'utf8');
    const nb = parseNotebook(text, name);
    if (check) {
      const problems = notebookProblems(nb);
      if (!problems.length && serializeNotebook(stripNotebook(nb)) !== text) {
        problems.push(`not as strip writes it (kernelspec display_name '${NOTEBOOK_KERNELSPEC.display_name}', nbformat's key order and indent)`);
      }
      if (problems.length) {
        dirty++;
        console.log(`not stripped: ${name}: ${problems.slice(0, 3).join('; ')}${problems.length > 3 ? `; ... (${problems.length} problems)` : ''}`);
      }
      continue;
    }
    const stripped = serializeNotebook(stripNotebook(nb));
    if (stripped !== text) {
      writeFileAtomic(file, stripped);
      console.log(`stripped ${name}`);
    }
  }
  if (check && dirty) console.log(`${dirty} of ${files.length} notebook(s) need stripping: run tsx reproduce/strip-notebooks.ts`);
  else console.log(`${files.length} notebook(s) clean`);
  return check && dirty ? 1 : 0;
}

try {
  process.exitCode = main();
} catch (e) {
  if (e instanceof UsageError) {
    console.error(`error: ${e.message}`);
    process.exitCode = e.exitCode;
  } else if (e instanceof Error && /is not (valid JSON|an nbformat 4 notebook)/.test(e.message)) {
    console.error(`error: ${e.message}`);
    process.exitCode = 1;
  } else throw e;
}
