/**
 * One training step of a small language model (bench/model.ts) timed side by side on:
 *   tfjs wasm with tfjs' stock kernels, with the matMul fix only (this project before
 *   the SIMD kernels), with every kernel of lib/core/wasm-kernels (1 thread, then 2 and
 *   all threads), tfjs cpu, and PyTorch on one CPU thread (bench/torch_step.py, same
 *   shapes) with the OpenBLAS core it detects (plus a forced-core row when detection
 *   fell back to an older kernel).
 *
 * Each contender runs in its own process (thread counts are per process), and the
 * contenders are interleaved: rounds of A B C ... then ... C B A, so load drift on a
 * shared machine hits them alike. Medians pool every round's samples. Also matMul
 * GFLOP/s per contender and the wasm SIMD128 arithmetic ceiling of this CPU.
 *
 *   npx tsx bench/training-step.ts [--B 8 --T 128 --D 128 --heads 4 --vocab 256]
 *       [--reps 5] [--rounds 3] [--mm 512] [--threads 2,all] [--only id,id...]
 *       [--out results/bench/training-step.json] [--skip-cpu] [--skip-torch]
 *
 * Writes JSON to --out and the same table as markdown beside it (.md).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { writeFileAtomic, writeJsonAtomic } from '../lib/core/atomic-fs';
import { selectBackend } from '../lib/core/backend';
import { UsageError } from '../lib/core/errors';
import { repoRoot } from '../lib/core/paths';
import { RunRng } from '../lib/core/rng';
import { useWasmKernels, type WasmKernelLevel } from '../lib/core/wasm-kernels';
import { kernelModule } from '../lib/core/wasm-kernels/module';
import { MAX_WASM_THREADS } from '../lib/core/wasm-threads';
import { buildModel, forwardFlops, type Shapes } from './model';

interface Options extends Shapes {
  reps: number;
  rounds: number;
  mm: number;
  threads: number[];
  /** Contender ids to run (default all): wasm-stock, wasm-matmul-fix, wasm-all-N, torch, torch-forced. */
  only: string[] | undefined;
  out: string;
  skipCpu: boolean;
  skipTorch: boolean;
}

function parseThreads(text: string): number[] {
  const cores = os.cpus().length || 1;
  const list = text.split(',').map((t) => (t.trim() === 'all' ? cores : Number(t)));
  if (list.some((n) => !Number.isInteger(n) || n < 1 || n > MAX_WASM_THREADS)) throw new UsageError(`--threads '${text}': expected counts in 1..${MAX_WASM_THREADS} or 'all', comma-separated`);
  return [...new Set(list)].filter((n) => n > 1);
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    B: 8, T: 128, D: 128, heads: 4, vocab: 256, reps: 5, rounds: 3, mm: 512, threads: parseThreads('2,all'),
    only: undefined, out: 'results/bench/training-step.json', skipCpu: false, skipTorch: false,
  };
  const numeric = ['B', 'T', 'D', 'heads', 'vocab', 'reps', 'rounds', 'mm'] as const;
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i].replace(/^--/, '');
    if (key === 'skip-cpu') o.skipCpu = true;
    else if (key === 'skip-torch') o.skipTorch = true;
    else if (key === 'out') o.out = argv[++i] ?? '';
    else if (key === 'threads') o.threads = parseThreads(argv[++i] ?? '');
    else if (key === 'only') o.only = (argv[++i] ?? '').split(',').map((t) => t.trim());
    else if ((numeric as readonly string[]).includes(key)) {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v <= 0) throw new UsageError(`--${key} needs a positive integer, got '${argv[i]}'`);
      o[key as (typeof numeric)[number]] = v;
    } else throw new UsageError(`unknown option '${argv[i]}': valid options are --${numeric.join(', --')}, --threads, --only, --out, --skip-cpu, --skip-torch`);
  }
  if (o.D % o.heads !== 0) throw new UsageError(`--D ${o.D} must be a multiple of --heads ${o.heads}`);
  return o;
}

// --- contenders -------------------------------------------------------------------------

type Contender =
  | { kind: 'tfjs'; id: string; label: string; backend: 'wasm' | 'cpu'; level: WasmKernelLevel; threads: number }
  | { kind: 'torch'; id: string; label: string; coretype?: string };

/** What one child process measures. */
interface ChildResult {
  device: string;
  fwdSamples: number[];
  stepSamples: number[];
  /** Process CPU time per step (all threads): less sensitive to other load than wall time. */
  stepCpuSamples: number[];
  /** Loss of every step in order (warm-up included): compares the numbers of two contenders. */
  losses: number[];
  tensorsGrewBy: number;
  matmulGflops: Record<string, number>;
  /** wasm SIMD128 arithmetic ceiling (assembly/gemm.ts peak), per thread. */
  simdPeakGflops?: number;
}

interface TorchChild {
  torch: string;
  threads: number;
  fwd_samples: number[];
  step_samples: number[];
  step_cpu_samples: number[];
  initial_loss: number;
  matmul_gflops: Record<string, number>;
  blas: string[];
  openblas: { library: string; corename?: string; config?: string; threads?: number; error?: string } | null;
}

// --- child: one tfjs contender ------------------------------------------------------------

async function child(spec: { shapes: Shapes; backend: 'wasm' | 'cpu'; level: WasmKernelLevel; reps: number; warmup: number; mm: number }): Promise<ChildResult> {
  const info = await selectBackend(spec.backend);
  if (spec.backend === 'wasm') useWasmKernels(spec.level);
  const model = buildModel(spec.shapes, 1234);
  const losses: number[] = [];
  const stepCpuSamples: number[] = [];
  const time = (f: () => void, n: number, cpu?: number[]): number[] => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      f();
      out.push(performance.now() - t0);
      if (cpu) {
        const c = process.cpuUsage(c0);
        cpu.push((c.user + c.system) / 1000);
      }
    }
    return out;
  };
  time(() => tf.tidy(() => void model.loss().dataSync()), 1);
  const fwdSamples = time(() => tf.tidy(() => void model.loss().dataSync()), spec.reps);
  losses.push(model.step()); // creates Adam's slots: the tensor count below is steady-state
  time(() => losses.push(model.step()), spec.warmup - 1);
  const before = tf.memory().numTensors;
  const stepSamples = time(() => losses.push(model.step()), spec.reps, stepCpuSamples);
  const tensorsGrewBy = tf.memory().numTensors - before;
  model.dispose();
  const matmulGflops = matmulRates(spec.mm, spec.backend === 'cpu' ? 1 : 3);
  const simdPeakGflops = spec.backend === 'wasm' ? simdPeak() : undefined;
  return { device: info.device, fwdSamples, stepSamples, stepCpuSamples, losses, tensorsGrewBy, matmulGflops, simdPeakGflops };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function matmulRates(S: number, reps: number): Record<string, number> {
  const rng = new RunRng(99);
  const a = tf.randomNormal([S, S], 0, 1, 'float32', rng.tfSeed('a'));
  const b = tf.randomNormal([S, S], 0, 1, 'float32', rng.tfSeed('b'));
  const out: Record<string, number> = {};
  for (const [name, ta, tb] of [['nn', false, false], ['tn', true, false], ['nt', false, true]] as const) {
    const run = () => tf.tidy(() => void tf.matMul(a, b, ta, tb).dataSync());
    if (reps > 1) run();
    const ms: number[] = [];
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      run();
      ms.push(performance.now() - t0);
    }
    out[name] = (2 * S ** 3) / median(ms) / 1e6;
  }
  tf.dispose([a, b]);
  return out;
}

/** Best of 5 runs of the SIMD128 multiply-add loop: 8 f32x4 multiply + add pairs per iteration. */
function simdPeak(): number {
  const k = kernelModule(tf.backend() as BackendWasm);
  const iters = 2_000_000;
  k.peak(iters / 10, 1e-7);
  let best = Infinity;
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    k.peak(iters, 1e-7);
    best = Math.min(best, performance.now() - t0);
  }
  return (iters * 8 * 4 * 2) / best / 1e6;
}

// --- parent ---------------------------------------------------------------------------------

function runTfjs(c: Extract<Contender, { kind: 'tfjs' }>, o: Options, reps: number, warmup: number): ChildResult {
  const spec = { shapes: { B: o.B, T: o.T, D: o.D, heads: o.heads, vocab: o.vocab }, backend: c.backend, level: c.level, reps, warmup, mm: o.mm };
  const stdout = execFileSync(process.execPath, [...process.execArgv, path.join(repoRoot(), 'bench', 'training-step.ts'), '--child', JSON.stringify(spec)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, REPRO_WASM_THREADS: String(c.threads) },
    maxBuffer: 1 << 24,
  });
  return JSON.parse(stdout.trim().split('\n').pop() ?? '') as ChildResult;
}

function runTorch(o: Options, coretype: string | undefined): TorchChild {
  const script = path.join(repoRoot(), 'bench', 'torch_step.py');
  const python = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  const args = [script, '--B', o.B, '--T', o.T, '--D', o.D, '--heads', o.heads, '--vocab', o.vocab, '--reps', o.reps, '--mm', o.mm].map(String);
  const env: NodeJS.ProcessEnv = { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' };
  delete env.OPENBLAS_CORETYPE;
  if (coretype) env.OPENBLAS_CORETYPE = coretype;
  const stdout = execFileSync(python, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env });
  return JSON.parse(stdout.trim().split('\n').pop() ?? '') as TorchChild;
}

/** CPU flags, family and model from /proc/cpuinfo (Linux; empty elsewhere). */
function cpuInfo(): { model: string; family?: string; modelNumber?: string; avx512: boolean; avx2: boolean } {
  let text = '';
  try {
    text = fs.readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    // not Linux
  }
  const field = (name: string) => new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(text)?.[1]?.trim();
  const flags = new Set((field('flags') ?? '').split(/\s+/));
  return {
    model: os.cpus()[0]?.model?.trim() ?? os.arch(),
    family: field('cpu family'),
    modelNumber: field('model'),
    avx512: ['avx512f', 'avx512bw', 'avx512dq', 'avx512vl'].every((f) => flags.has(f)),
    avx2: flags.has('avx2'),
  };
}

/** OpenBLAS 0.3.21 cores with AVX-512 kernels. */
const AVX512_CORES = ['SkylakeX', 'Cooperlake', 'SapphireRapids'];

interface Row {
  id: string;
  label: string;
  threads: number;
  fwdMs: number;
  stepMs: number;
  fwdSamples: number[];
  stepSamples: number[];
  stepCpuSamples: number[];
  matmulGflops: Record<string, number>;
  simdPeakGflops?: number;
  device?: string;
  tensorsGrewBy?: number;
  losses?: number[];
  loads: number[];
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--child') {
    process.stdout.write(`${JSON.stringify(await child(JSON.parse(argv[1])))}\n`);
    return;
  }
  const o = parseArgs(argv);
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const shapes = `B${o.B} T${o.T} D${o.D} H${o.heads} V${o.vocab}`;
  log(`training step ${shapes}; ${(forwardFlops(o) / 1e9).toFixed(2)} GFLOP per forward (matMuls); ${o.rounds} rounds x ${o.reps} reps`);
  const cpu = cpuInfo();

  const contenders: Contender[] = [
    { kind: 'tfjs', id: 'wasm-stock', label: 'tfjs wasm, stock kernels', backend: 'wasm', level: 'stock', threads: 1 },
    { kind: 'tfjs', id: 'wasm-matmul-fix', label: 'tfjs wasm, matMul fix (before)', backend: 'wasm', level: 'matmul-fix', threads: 1 },
    { kind: 'tfjs', id: 'wasm-all-1', label: 'tfjs wasm, all kernels (after)', backend: 'wasm', level: 'all', threads: 1 },
    ...o.threads.map((n): Contender => ({ kind: 'tfjs', id: `wasm-all-${n}`, label: `tfjs wasm, all kernels, ${n} threads`, backend: 'wasm', level: 'all', threads: n })),
  ];
  // PyTorch first on its own: its detected core decides whether a forced-core row is needed.
  let forced: string | undefined;
  if (!o.skipTorch && (!o.only || o.only.some((id) => id.startsWith('torch')))) {
    const probe = runTorch({ ...o, reps: 1 }, undefined);
    const core = probe.openblas?.corename;
    if (core && cpu.avx512 && !AVX512_CORES.includes(core)) forced = 'SkylakeX';
    contenders.push({ kind: 'torch', id: 'torch', label: `PyTorch 1 thread, OpenBLAS ${core ?? '(not OpenBLAS)'} (detected)` });
    if (forced) contenders.push({ kind: 'torch', id: 'torch-forced', label: `PyTorch 1 thread, OpenBLAS ${forced} (forced)`, coretype: forced });
  }
  if (o.only) {
    const keep = new Set(o.only);
    contenders.splice(0, contenders.length, ...contenders.filter((c) => keep.has(c.id)));
  }
  const cpuRow: Contender | undefined = o.skipCpu || (o.only && !o.only.includes('cpu')) ? undefined : { kind: 'tfjs', id: 'cpu', label: 'tfjs cpu (1 round, 1 rep)', backend: 'cpu', level: 'all', threads: 1 };

  const rows = new Map<string, Row>();
  const torchRuns: Record<string, TorchChild[]> = {};
  const loads: number[] = [];
  for (let r = 0; r < o.rounds; r++) {
    const order = r % 2 === 0 ? contenders : [...contenders].reverse();
    for (const c of order) {
      const load = os.loadavg()[0];
      loads.push(load);
      log(`round ${r + 1}/${o.rounds}: ${c.label} (load ${load.toFixed(2)})`);
      const row = rows.get(c.id) ?? { id: c.id, label: c.label, threads: c.kind === 'tfjs' ? c.threads : 1, fwdMs: NaN, stepMs: NaN, fwdSamples: [], stepSamples: [], stepCpuSamples: [], matmulGflops: {}, loads: [] };
      row.loads.push(load);
      if (c.kind === 'tfjs') {
        const res = runTfjs(c, o, o.reps, 2);
        row.fwdSamples.push(...res.fwdSamples);
        row.stepSamples.push(...res.stepSamples);
        row.stepCpuSamples.push(...res.stepCpuSamples);
        row.device = res.device;
        row.tensorsGrewBy = res.tensorsGrewBy;
        row.losses = res.losses;
        row.matmulGflops = res.matmulGflops; // last round's
        row.simdPeakGflops = Math.max(row.simdPeakGflops ?? 0, res.simdPeakGflops ?? 0) || undefined;
      } else {
        const res = runTorch(o, c.coretype);
        (torchRuns[c.id] ??= []).push(res);
        row.fwdSamples.push(...res.fwd_samples);
        row.stepSamples.push(...res.step_samples);
        row.stepCpuSamples.push(...res.step_cpu_samples);
        row.matmulGflops = res.matmul_gflops;
        row.device = `${res.openblas?.corename ?? 'no OpenBLAS'} (${res.blas.join(', ') || 'no BLAS found'})`;
      }
      rows.set(c.id, row);
    }
  }
  if (cpuRow && cpuRow.kind === 'tfjs') {
    const load = os.loadavg()[0];
    loads.push(load);
    log(`${cpuRow.label} (load ${load.toFixed(2)})`);
    const res = runTfjs(cpuRow, o, 1, 1);
    rows.set('cpu', { id: 'cpu', label: cpuRow.label, threads: 1, fwdMs: NaN, stepMs: NaN, fwdSamples: res.fwdSamples, stepSamples: res.stepSamples, stepCpuSamples: res.stepCpuSamples, matmulGflops: res.matmulGflops, device: res.device, tensorsGrewBy: res.tensorsGrewBy, losses: res.losses, loads: [load] });
  }
  for (const row of rows.values()) {
    row.fwdMs = median(row.fwdSamples);
    row.stepMs = median(row.stepSamples);
  }

  const all = [...rows.values()];
  const torch = rows.get('torch');
  const torchForced = rows.get('torch-forced');
  const peak = Math.max(0, ...all.map((r) => r.simdPeakGflops ?? 0)) || undefined;
  const flops = 3 * forwardFlops(o);
  const after = rows.get('wasm-all-1');
  const sameBits = (r: Row) => (after?.losses && r.losses ? r.losses.length === after.losses.length && r.losses.every((v, i) => Object.is(v, after.losses?.[i])) : undefined);
  const openblas = torchRuns.torch?.[0]?.openblas ?? null;

  // --- table ---
  const num = (v: number | undefined | null, d = 1) => (v === undefined || v === null || !Number.isFinite(v) ? '-' : v.toFixed(d));
  const best = (r: Row) => Math.min(...r.stepSamples);
  const cpuMs = (r: Row) => median(r.stepCpuSamples);
  const header = ['backend', 'threads', 'fwd ms', 'step ms', 'x torch', ...(torchForced ? ['x torch forced'] : []), 'best step ms', 'x torch (best)', 'step CPU ms', 'x torch (CPU)', 'step/fwd', 'step GFLOP/s', `matMul ${o.mm}³ GFLOP/s nn / tn / nt`, '% of SIMD128 ceiling (nn)'];
  const lines = all.map((r) => {
    const isWasm = r.id.startsWith('wasm');
    const mm = ['nn', 'tn', 'nt'].map((k) => num(r.matmulGflops[k], 1)).join(' / ');
    const ceiling = isWasm && peak ? `${num((100 * r.matmulGflops.nn) / (peak * r.threads), 0)}% of ${num(peak * r.threads, 0)}` : '-';
    return [
      r.label, String(r.threads), num(r.fwdMs), num(r.stepMs), num(torch ? r.stepMs / torch.stepMs : null, 2),
      ...(torchForced ? [num(r.stepMs / torchForced.stepMs, 2)] : []), num(best(r)), num(torch ? best(r) / best(torch) : null, 2),
      num(cpuMs(r)), num(torch ? cpuMs(r) / cpuMs(torch) : null, 2),
      num(r.stepMs / r.fwdMs, 2), num(flops / r.stepMs / 1e6, 1), mm, ceiling,
    ];
  });
  const md = ['| ' + header.join(' | ') + ' |', '|' + header.map(() => '---').join('|') + '|', ...lines.map((l) => '| ' + l.join(' | ') + ' |')].join('\n');
  const loadRange = `${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)}`;
  const notes: string[] = [];
  notes.push(`CPU: ${cpu.model}${cpu.family ? ` (family ${cpu.family}, model ${cpu.modelNumber})` : ''}, ${os.cpus().length} cores, AVX2 ${cpu.avx2 ? 'yes' : 'no'}, AVX-512 ${cpu.avx512 ? 'yes' : 'no'}; Node ${process.version}, tfjs ${tf.version.tfjs}`);
  notes.push(`1-minute load average before each contender: ${loadRange} (on ${os.cpus().length} cores; the bench's own processes count in it, about 1)`);
  notes.push('step ms: median of all rounds\' samples; best: the fastest sample (least disturbed by other load); step CPU ms: median process CPU time per step, all threads (on one thread the least load-sensitive measure; with threads it adds their CPU, so it shows cost, not speed)');
  if (openblas) notes.push(`PyTorch BLAS: ${openblas.config ?? 'OpenBLAS'}; detected core ${openblas.corename}${forced ? `; this CPU has AVX-512 and 0.3.21 fell back to ${openblas.corename}: the forced row sets OPENBLAS_CORETYPE=${forced}` : cpu.avx512 ? ' (an AVX-512 kernel: detection did not fall back)' : ''}`);
  if (process.env.OPENBLAS_CORETYPE) notes.push(`this environment sets OPENBLAS_CORETYPE=${process.env.OPENBLAS_CORETYPE}; the bench removes it for the detected row`);
  else if (torchRuns.torch) notes.push(`PyTorch BLAS: ${torchRuns.torch[0].blas.join(', ') || 'none found'} — not OpenBLAS${/blas\.so|libblas/.test(torchRuns.torch[0].blas.join(' ')) ? ': the reference BLAS makes PyTorch ~50x slower, the ratios flatter tfjs (apt-get install libopenblas0-pthread)' : ''}`);
  if (peak) notes.push(`wasm SIMD128 arithmetic ceiling on this CPU: ${peak.toFixed(1)} GFLOP/s per thread (f32x4 multiply + add, no FMA in SIMD128; assembly/gemm.ts peak)`);
  for (const r of all) {
    if (r.tensorsGrewBy) notes.push(`warning: ${r.label} leaked ${r.tensorsGrewBy} tensors per ${o.reps} steps`);
    if (r.id.startsWith('wasm-all-') && r.id !== 'wasm-all-1') notes.push(`${r.label}: losses of all ${r.losses?.length} steps ${sameBits(r) ? 'bit-identical to' : 'DIFFER from'} 1 thread`);
  }
  console.log(`\n${md}\n\n${notes.map((n) => `- ${n}`).join('\n')}`);

  const out = path.resolve(repoRoot(), o.out);
  writeJsonAtomic(out, {
    bench: 'training-step',
    date: new Date().toISOString(),
    shapes: { B: o.B, T: o.T, D: o.D, heads: o.heads, vocab: o.vocab, mlp: 4 * o.D },
    forwardGflop: forwardFlops(o) / 1e9,
    reps: o.reps,
    rounds: o.rounds,
    machine: { cpu, cores: os.cpus().length, node: process.version, loadAverages: loads },
    tfjs: tf.version.tfjs,
    simdPeakGflopsPerThread: peak ?? null,
    openblas,
    forcedCoretype: forced ?? null,
    results: all.map((r) => ({ ...r, bestStepMs: best(r), ratioToTorchBest: torch ? best(r) / best(torch) : null, stepCpuMs: cpuMs(r), ratioToTorchCpu: torch ? cpuMs(r) / cpuMs(torch) : null, ratioToTorch: torch ? r.stepMs / torch.stepMs : null, ratioToTorchForced: torchForced ? r.stepMs / torchForced.stepMs : null, stepGflops: flops / r.stepMs / 1e6, sameLossesAsOneThread: sameBits(r) ?? null })),
    torch: torchRuns,
  });
  const mdFile = out.replace(/\.json$/, '') + '.md';
  writeFileAtomic(mdFile, `# training-step bench, ${new Date().toISOString().slice(0, 10)}\n\n${shapes}, ${o.rounds} interleaved rounds x ${o.reps} reps, medians over all rounds.\n\n${md}\n\n${notes.map((n) => `- ${n}`).join('\n')}\n`);
  log(`wrote ${path.relative(process.cwd(), out)} and ${path.relative(process.cwd(), mdFile)}`);
}

main().catch((err: unknown) => {
  if (err instanceof UsageError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(err.exitCode);
  }
  throw err;
});
