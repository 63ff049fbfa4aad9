/**
 * The browser builds of vega, vega-lite and vega-embed, copied beside report.html so the
 * page renders the figures' own Vega-Lite specs interactively with no network. A bundle
 * without node_modules has none: the page then shows the static SVGs and says why.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { packageDir } from '../core/paths';

/** Load order matters: vega-lite and vega-embed expect the globals of the ones before. */
export const VEGA_SCRIPTS = [
  { pkg: 'vega', file: 'build/vega.min.js', as: 'vega.min.js' },
  { pkg: 'vega-lite', file: 'build/vega-lite.min.js', as: 'vega-lite.min.js' },
  { pkg: 'vega-embed', file: 'build/vega-embed.min.js', as: 'vega-embed.min.js' },
] as const;

/** Absolute paths of the three scripts, or why they are not available. */
export function vegaScriptSources(): { files: string[] } | { missing: string } {
  const files: string[] = [];
  for (const s of VEGA_SCRIPTS) {
    const f = path.join(packageDir(s.pkg), s.file);
    if (!fs.existsSync(f)) return { missing: `${s.pkg} is not installed (npm install)` };
    files.push(f);
  }
  return { files };
}

/** Copies the scripts into `dir` (atomically, skipped when unchanged); returns their file names or why not. */
export function installVegaScripts(dir: string): { names: string[] } | { missing: string } {
  const src = vegaScriptSources();
  if ('missing' in src) return src;
  const names: string[] = [];
  src.files.forEach((from, i) => {
    const name = VEGA_SCRIPTS[i].as;
    const to = path.join(dir, name);
    if (!fs.existsSync(to) || fs.statSync(to).size !== fs.statSync(from).size || !fs.readFileSync(to).equals(fs.readFileSync(from))) {
      const tmp = `${to}.tmp-${process.pid}-0`;
      fs.copyFileSync(from, tmp);
      fs.renameSync(tmp, to);
    }
    names.push(name);
  });
  return { names };
}
