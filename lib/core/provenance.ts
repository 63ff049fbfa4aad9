/**
 * Provenance for run.json and every figure: enough to say exactly which code,
 * packages, hardware, config and seed produced a number (ARCHITECTURE.md §4).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PACKAGE_NAME, packageDir, repoRoot } from './paths';

export interface GitInfo {
  commit: string | null;
  /** True when tracked files differ from the commit (results may not be reproducible from it alone). */
  dirty: boolean | null;
}

export function gitInfo(): GitInfo {
  if (process.env.REPRO_GIT_COMMIT) {
    // Bundles run where there is no .git: the commit is stamped in at bundle time.
    return { commit: process.env.REPRO_GIT_COMMIT, dirty: process.env.REPRO_GIT_DIRTY === 'true' };
  }
  try {
    const opts = { cwd: repoRoot(), encoding: 'utf8' as const, stdio: ['ignore', 'pipe', 'ignore'] as ['ignore', 'pipe', 'ignore'] };
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], opts).trim();
    const status = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], opts).trim();
    return { commit, dirty: status.length > 0 };
  } catch {
    return { commit: null, dirty: null };
  }
}

export const TRACKED_PACKAGES = [
  '@tensorflow/tfjs',
  '@tensorflow/tfjs-core',
  '@tensorflow/tfjs-backend-wasm',
  '@tensorflow/tfjs-backend-webgpu',
  '@tensorflow/tfjs-node-gpu',
  'webgpu',
  'vega',
  'vega-lite',
  '@resvg/resvg-js',
  'seedrandom',
] as const;

export function packageVersions(names: readonly string[] = TRACKED_PACKAGES): Record<string, string | null> {
  // A bundle has no node_modules: the versions it was built from are stamped in.
  if (process.env.REPRO_PACKAGE_VERSIONS) return JSON.parse(process.env.REPRO_PACKAGE_VERSIONS) as Record<string, string | null>;
  const out: Record<string, string | null> = {};
  for (const name of names) {
    try {
      out[name] = JSON.parse(fs.readFileSync(path.join(packageDir(name), 'package.json'), 'utf8')).version;
    } catch {
      out[name] = null;
    }
  }
  return out;
}

export interface MachineInfo {
  node: string;
  platform: string;
  arch: string;
  cpu: string;
  cpus: number;
  memoryGiB: number;
  hostname: string;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    cpu: cpus[0]?.model ?? 'unknown',
    cpus: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    hostname: os.hostname(),
  };
}

/** The suite's version (package.json), for citing a figure; null where there is no package.json (a bundle). */
export function suiteVersion(): string | null {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot(), 'package.json'), 'utf8')) as { name?: string; version?: string };
    return pkg.name === PACKAGE_NAME && typeof pkg.version === 'string' ? pkg.version : null;
  } catch {
    return null;
  }
}

const fingerprints = new Map<string, string>();

/** What a paper's results can depend on: the shared layers below the harness and the paper's own run path. */
const SHARED_SOURCES = ['lib/core', 'lib/nn', 'lib/data', 'lib/harness'];
/** Files that judge, draw or describe results but never compute them: editing them keeps the cache. */
const NOT_RUN_PATH = /^lib\/harness\/(verdicts|lock|metrics)\.ts$|^lib\/papers\/[^/]+\/(claims|figures|tables)\.ts$/;

/**
 * A hash of the source a paper's results depend on (lib/core, lib/nn, lib/data, lib/harness
 * and lib/papers/<paper>, without the files that only judge, draw or tabulate results), so
 * a job computed by other code is never taken from the cache while a changed tolerance or
 * figure does not recompute anything. A bundle carries the values it was built from
 * (REPRO_CODE_FINGERPRINTS, a JSON map by paper).
 */
export function codeFingerprint(paper: string): string {
  if (process.env.REPRO_CODE_FINGERPRINTS) {
    const stamped = (JSON.parse(process.env.REPRO_CODE_FINGERPRINTS) as Record<string, string>)[paper];
    if (stamped) return stamped;
  }
  const known = fingerprints.get(paper);
  if (known) return known;
  const root = repoRoot();
  const files: string[] = [];
  const walk = (dir: string) => {
    if (!fs.existsSync(path.join(root, dir))) return;
    for (const e of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = path.posix.join(dir, e.name);
      if (e.isDirectory()) walk(rel);
      else if (/\.(ts|mjs|cjs)$/.test(e.name) && !NOT_RUN_PATH.test(rel)) files.push(rel);
    }
  };
  for (const dir of [...SHARED_SOURCES, `lib/papers/${paper}`]) walk(dir);
  const h = createHash('sha256');
  for (const f of files.sort()) h.update(f).update('\0').update(fs.readFileSync(path.join(root, f))).update('\0');
  const value = h.digest('hex').slice(0, 16);
  fingerprints.set(paper, value);
  return value;
}
