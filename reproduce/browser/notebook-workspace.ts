/**
 * Copies of the notebooks for a browser run, in a temp folder inside the work tree
 * (under results/, git-ignored). Run All in the browser may autosave outputs into the
 * file it opened: it must never be a committed notebook. The kernel still imports
 * `./lib/...` from the repository root (reproduce/tslab-kernel.cjs chdirs there), so
 * the copies need not sit beside lib/.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { injectParameters, parseNotebook, serializeNotebook } from '../notebook-format';

export interface NotebookCopy {
  /** The committed notebook. */
  source: string;
  /** File name, e.g. 01-rer.ipynb (also the path relative to the served folder). */
  name: string;
  /** Absolute path of the copy. */
  copy: string;
}

export interface NotebookWorkspace {
  /** Temp folder holding everything of this run (served notebooks, Jupyter dirs). */
  dir: string;
  /** The folder the notebook server serves. */
  notebooksDir: string;
  copies: NotebookCopy[];
  remove(): void;
}

/**
 * `<root>/results/.browser-tmp/<prefix>XXXXXX/notebooks/<copies>`; with `params`, each copy
 * gets them injected after its parameters cell (reproduce/notebook-format.ts).
 */
export function makeNotebookWorkspace(root: string, notebooks: string[], prefix = 'notebooks-', params?: (dir: string) => Record<string, unknown>): NotebookWorkspace {
  const base = path.join(root, 'results', '.browser-tmp');
  fs.mkdirSync(base, { recursive: true });
  const dir = fs.mkdtempSync(path.join(base, prefix));
  const notebooksDir = path.join(dir, 'notebooks');
  fs.mkdirSync(notebooksDir);
  const copies = notebooks.map((source) => {
    const name = path.basename(source);
    const copy = path.join(notebooksDir, name);
    if (params) fs.writeFileSync(copy, serializeNotebook(injectParameters(parseNotebook(fs.readFileSync(source, 'utf8'), name), params(dir), name)));
    else fs.copyFileSync(source, copy);
    return { source, name, copy };
  });
  return {
    dir,
    notebooksDir,
    copies,
    remove: () => {
      fs.rmSync(dir, { recursive: true, force: true });
      // Leave results/.browser-tmp only while another run uses it.
      try {
        fs.rmdirSync(base);
      } catch {
        // not empty
      }
    },
  };
}
