/**
 * Asks Dawn for a WebGPU adapter in a child process, so that what Dawn and the Vulkan
 * driver print from native code (straight to file descriptor 2, where Node cannot catch
 * it) stays out of the run's output. A machine with only a software Vulkan driver (Mesa's
 * lavapipe, common on desktops and CI images) otherwise opens every run with five lines of
 * "shaderUniform*ArrayDynamicIndexing required" and "XDG_RUNTIME_DIR is invalid"; now the
 * backend line says in one line why webgpu was skipped, quoting what Dawn said.
 *
 * The child is `node -e` with an inline script (nothing to ship in the bundle) that loads
 * dawn.node directly and prints one JSON line: the adapter's info, or null, or an error.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { packageDir } from './paths';

export interface AdapterInfo {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter: boolean;
}

export interface AdapterProbe {
  /** null: Dawn found no adapter it can use. */
  adapter: AdapterInfo | null;
  /** Dawn could not be loaded or asked (one line). */
  error?: string;
  /** What Dawn and the driver printed, as one line ('' when nothing). */
  said: string;
}

const SCRIPT = `
const out = (o) => { process.stdout.write(JSON.stringify(o) + '\\n'); process.exit(0); };
const first = (e) => String((e && e.message) || e).split('\\n')[0].trim();
let dawn;
try { dawn = require(process.argv[1]); } catch (e) { out({ error: first(e) }); }
let gpu;
try { gpu = dawn.create([]); } catch (e) { out({ error: 'create: ' + first(e) }); }
gpu.requestAdapter({ powerPreference: 'high-performance' }).then((a) => {
  if (!a) out({ adapter: null });
  const i = a.info || {};
  out({ adapter: { vendor: i.vendor, architecture: i.architecture, device: i.device, description: i.description, isFallbackAdapter: !!(a.isFallbackAdapter || i.isFallbackAdapter) } });
}, (e) => out({ error: 'requestAdapter: ' + first(e) }));
`;

/** The dawn.node the `webgpu` package would load here (REPRO_DAWN_NODE wins: the bundle's). */
export function dawnModulePath(): string {
  if (process.env.REPRO_DAWN_NODE) return process.env.REPRO_DAWN_NODE;
  const arch = process.platform === 'darwin' ? 'universal' : process.arch;
  return path.join(packageDir('webgpu'), 'dist', `${process.platform}-${arch}`, 'dawn.node');
}

/** The distinct warning and error lines of Dawn's output, without stack frames, as one line. */
export function summariseDawnOutput(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^(at |- While |\^)/.test(l))
    .map((l) => l.replace(/^(warning|error|info)\s*:\s*/i, '').replace(/\.$/, ''));
  const said = [...new Set(lines)].join('; ');
  return said.length > 240 ? said.slice(0, 239) + '…' : said;
}

export function probeAdapter(modulePath: string = dawnModulePath(), timeoutMs = 60_000): AdapterProbe {
  const r = spawnSync(process.execPath, ['-e', SCRIPT, modulePath], { encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
  const said = summariseDawnOutput(r.stderr ?? '');
  if (r.error || r.status !== 0) {
    const why = r.error ? r.error.message : r.signal ? `killed by ${r.signal}` : `exit code ${r.status}`;
    return { adapter: null, error: `the adapter probe failed (${why})${said ? `: ${said}` : ''}`, said };
  }
  try {
    const v = JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as { adapter?: AdapterInfo | null; error?: string };
    return { adapter: v.adapter ?? null, said, ...(v.error ? { error: v.error } : {}) };
  } catch {
    return { adapter: null, error: `the adapter probe printed no answer${said ? `: ${said}` : ''}`, said };
  }
}
