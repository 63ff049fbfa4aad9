/**
 * Where things are. lib/ is loaded three ways — by tsx (ESM), by the tslab kernel
 * (compiled to CommonJS) and from an esbuild bundle — so it cannot use
 * `import.meta.url`; the repository root is found by walking up from the working
 * directory (or set with REPRO_ROOT), which works in all three.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const PACKAGE_NAME = 'ml-efficiency-repro';

let cachedRoot: string | undefined;

export function repoRoot(): string {
  if (cachedRoot) return cachedRoot;
  if (process.env.REPRO_ROOT) return (cachedRoot = path.resolve(process.env.REPRO_ROOT));
  let dir = process.cwd();
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg)) {
      try {
        if (JSON.parse(fs.readFileSync(pkg, 'utf8')).name === PACKAGE_NAME) return (cachedRoot = dir);
      } catch {
        // not our package.json; keep walking up
      }
    }
    const up = path.dirname(dir);
    if (up === dir) return (cachedRoot = process.cwd());
    dir = up;
  }
}

/** Folder of an installed npm package (under the repository's node_modules). */
export function packageDir(name: string): string {
  return path.join(repoRoot(), 'node_modules', ...name.split('/'));
}

/**
 * Where a dataset's source files are read from when they do not come from their npm or
 * Debian package: REPRO_DATA/<dataset> (set by `--data DIR`, or by the bundle when a
 * data/ folder sits beside it). Undefined means "the package's own folder".
 */
export function dataSourceDir(dataset: string): string | undefined {
  return process.env.REPRO_DATA ? path.join(path.resolve(process.env.REPRO_DATA), dataset) : undefined;
}

/** Where datasets' compact caches live (git-ignored). REPRO_DATA_DIR overrides. */
export function dataCacheDir(): string {
  return process.env.REPRO_DATA_DIR ? path.resolve(process.env.REPRO_DATA_DIR) : path.join(repoRoot(), 'data', 'cache');
}
