/**
 * Time per kernel over one training step of bench/model.ts on tfjs wasm (1 thread),
 * before (kernel level 'matmul-fix': this project before the SIMD kernels) and after
 * (level 'all'), interleaved in one process: rounds of before, after, after, before...
 * Kernel times are tf.profile's (wall time around each kernel on wasm); "outside
 * kernels" is the step's wall time minus their sum (tape, engine, JS glue).
 *
 *   npx tsx bench/profile-step.ts [--B 8 --T 128 --D 128 --heads 4 --vocab 256]
 *       [--steps 5] [--rounds 2] [--out results/bench/profile-step.json]
 *
 * Writes JSON to --out and the table as markdown beside it (.md).
 */
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { writeFileAtomic, writeJsonAtomic } from '../lib/core/atomic-fs';
import { selectBackend } from '../lib/core/backend';
import { UsageError } from '../lib/core/errors';
import { repoRoot } from '../lib/core/paths';
import { useWasmKernels, type WasmKernelLevel } from '../lib/core/wasm-kernels';
import { buildModel, type Shapes, type StepModel } from './model';

interface Options extends Shapes {
  steps: number;
  rounds: number;
  out: string;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { B: 8, T: 128, D: 128, heads: 4, vocab: 256, steps: 5, rounds: 2, out: 'results/bench/profile-step.json' };
  const numeric = ['B', 'T', 'D', 'heads', 'vocab', 'steps', 'rounds'] as const;
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i].replace(/^--/, '');
    if (key === 'out') o.out = argv[++i] ?? '';
    else if ((numeric as readonly string[]).includes(key)) {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v <= 0) throw new UsageError(`--${key} needs a positive integer, got '${argv[i]}'`);
      o[key as (typeof numeric)[number]] = v;
    } else throw new UsageError(`unknown option '${argv[i]}': valid options are --${numeric.join(', --')}, --out`);
  }
  if (o.D % o.heads !== 0) throw new UsageError(`--D ${o.D} must be a multiple of --heads ${o.heads}`);
  return o;
}

interface Profile {
  steps: number;
  wallMs: number;
  kernels: Map<string, { ms: number; calls: number }>;
}

async function profileSteps(model: StepModel, level: WasmKernelLevel, steps: number, into: Profile): Promise<void> {
  useWasmKernels(level);
  model.step(); // warm-up at this level
  for (let s = 0; s < steps; s++) {
    const t0 = performance.now();
    const info = await tf.profile(() => void model.step());
    into.wallMs += performance.now() - t0;
    into.steps++;
    for (const k of info.kernels) {
      const e = into.kernels.get(k.name) ?? { ms: 0, calls: 0 };
      e.ms += k.kernelTimeMs as number;
      e.calls++;
      into.kernels.set(k.name, e);
    }
  }
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const info = await selectBackend('wasm');
  const levels: WasmKernelLevel[] = ['matmul-fix', 'all'];
  const profiles: Record<string, Profile> = {};
  for (const l of levels) profiles[l] = { steps: 0, wallMs: 0, kernels: new Map() };
  const loads: number[] = [];
  // Separate models per level (same seed), so each keeps its own Adam state.
  const models = Object.fromEntries(levels.map((l) => [l, buildModel(o, 1234)])) as Record<WasmKernelLevel, StepModel>;
  for (let r = 0; r < o.rounds; r++) {
    for (const l of r % 2 === 0 ? levels : [...levels].reverse()) {
      loads.push(os.loadavg()[0]);
      await profileSteps(models[l], l, o.steps, profiles[l]);
    }
  }
  for (const m of Object.values(models)) m.dispose();
  useWasmKernels('all');

  const perStep = (p: Profile, name: string) => {
    const e = p.kernels.get(name);
    return e ? { ms: e.ms / p.steps, calls: e.calls / p.steps } : { ms: 0, calls: 0 };
  };
  const names = new Set<string>();
  for (const p of Object.values(profiles)) for (const n of p.kernels.keys()) names.add(n);
  const [before, after] = [profiles['matmul-fix'], profiles.all];
  const sorted = [...names].sort((a, b) => Math.max(perStep(before, b).ms, perStep(after, b).ms) - Math.max(perStep(before, a).ms, perStep(after, a).ms));
  const sum = (p: Profile) => [...p.kernels.values()].reduce((s, e) => s + e.ms, 0) / p.steps;
  const f = (v: number) => (v === 0 ? '-' : v.toFixed(2));
  const rows = sorted.map((n) => {
    const b = perStep(before, n);
    const a = perStep(after, n);
    return `| ${n} | ${f(b.ms)} | ${b.calls || '-'} | ${f(a.ms)} | ${a.calls || '-'} |`;
  });
  const wall = (p: Profile) => p.wallMs / p.steps;
  const table = [
    '| kernel | before ms/step | calls | after ms/step | calls |',
    '|---|---|---|---|---|',
    ...rows,
    `| **all kernels** | **${f(sum(before))}** | ${[...before.kernels.values()].reduce((s, e) => s + e.calls, 0) / before.steps} | **${f(sum(after))}** | ${[...after.kernels.values()].reduce((s, e) => s + e.calls, 0) / after.steps} |`,
    `| outside kernels (tape, engine, JS) | ${f(wall(before) - sum(before))} | | ${f(wall(after) - sum(after))} | |`,
    `| **step wall time (profiled)** | **${f(wall(before))}** | | **${f(wall(after))}** | |`,
  ].join('\n');
  const shapes = `B${o.B} T${o.T} D${o.D} H${o.heads} V${o.vocab}`;
  const loadRange = `${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)}`;
  const header = `${shapes}; ${info.device}; before = kernel level 'matmul-fix', after = 'all'; ${o.rounds} interleaved rounds x ${o.steps} profiled steps each; 1-minute load average ${loadRange}; Node ${process.version}, tfjs ${tf.version.tfjs}`;
  console.log(`\n${header}\n\n${table}`);
  const out = path.resolve(repoRoot(), o.out);
  writeJsonAtomic(out, {
    bench: 'profile-step',
    date: new Date().toISOString(),
    shapes: { B: o.B, T: o.T, D: o.D, heads: o.heads, vocab: o.vocab },
    device: info.device,
    loadAverages: loads,
    levels: Object.fromEntries(Object.entries(profiles).map(([l, p]) => [l, { steps: p.steps, wallMsPerStep: wall(p), kernelMsPerStep: sum(p), kernels: Object.fromEntries([...p.kernels].map(([n, e]) => [n, { msPerStep: e.ms / p.steps, callsPerStep: e.calls / p.steps }])) }])),
  });
  const mdFile = out.replace(/\.json$/, '') + '.md';
  writeFileAtomic(mdFile, `# Time per kernel over one training step, ${new Date().toISOString().slice(0, 10)}\n\n${header}\n\n${table}\n`);
  process.stderr.write(`wrote ${path.relative(process.cwd(), out)} and ${path.relative(process.cwd(), mdFile)}\n`);
}

main().catch((err: unknown) => {
  if (err instanceof UsageError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(err.exitCode);
  }
  throw err;
});
