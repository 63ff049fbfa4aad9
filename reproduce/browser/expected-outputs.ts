/**
 * What a notebook should show, from the headless CLI: the same paper at the same
 * profile gives the same figures and claims (one code path, lib/harness/runner.ts), so a
 * browser test can check that every figure and every claim made it onto the page.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface ExpectedOutputs {
  figures: number;
  claims: number;
}

/** 'notebooks/03-expert-choice.ipynb' -> 'expert-choice' (the NN-<id>.ipynb convention). */
export function paperIdOfNotebook(file: string): string {
  return path.basename(file, '.ipynb').replace(/^\d+-/, '');
}

/** Runs `reproduce --profile <profile> --only <ids>` into `out` and counts each paper's figures and claims. */
export async function expectedOutputs(root: string, ids: string[], out: string, profile = 'smoke'): Promise<Map<string, ExpectedOutputs>> {
  const found = new Map<string, ExpectedOutputs>();
  if (ids.length === 0) return found;
  const args = ['--import', 'tsx', path.join(root, 'reproduce', 'cli.ts'), '--profile', profile, '--only', ids.join(','), '--out', out, '--quiet'];
  let stderr = '';
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', resolve);
  });
  // 1 = a claim did not reproduce: the outputs are still complete.
  if (code !== 0 && code !== 1) throw new Error(`reproduce --profile ${profile} exited ${code}: ${stderr.trim().split('\n').slice(-5).join(' | ')}`);
  for (const id of ids) {
    const dir = path.join(out, id, profile);
    const read = (f: string): unknown[] => (fs.existsSync(path.join(dir, f)) ? (JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as unknown[]) : []);
    found.set(id, { figures: read(path.join('figures', 'figures.json')).length, claims: read('claims.json').length });
  }
  return found;
}
