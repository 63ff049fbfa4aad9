/**
 * One small attention + MLP training step (embedding, pre-LN causal self-attention, GELU
 * MLP, LM head, cross-entropy, Adam) timed side by side in one run on:
 *   tfjs wasm WITH the matMul fix (lib/core/wasm-kernels.ts), wasm WITHOUT it (stock
 *   kernels), tfjs cpu, and PyTorch on one CPU thread (bench/torch_step.py, same shapes).
 * Also matMul GFLOP/s per backend. Prints a table; writes JSON to --out.
 *
 *   npx tsx bench/training-step.ts [--B 8 --T 128 --D 128 --heads 4 --vocab 256]
 *       [--reps 5] [--out results/bench/training-step.json] [--skip-cpu] [--skip-torch]
 *
 * Defaults take ~1 minute on 2 cores (the cpu backend dominates).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { writeJsonAtomic } from '../lib/core/atomic-fs';
import { selectBackend } from '../lib/core/backend';
import { UsageError } from '../lib/core/errors';
import { repoRoot } from '../lib/core/paths';
import { RunRng } from '../lib/core/rng';
import { installMatMulFixes, restoreStockWasmMatMul } from '../lib/core/wasm-kernels';

interface Options {
  B: number;
  T: number;
  D: number;
  heads: number;
  vocab: number;
  reps: number;
  mm: number;
  out: string;
  skipCpu: boolean;
  skipTorch: boolean;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { B: 8, T: 128, D: 128, heads: 4, vocab: 256, reps: 5, mm: 512, out: 'results/bench/training-step.json', skipCpu: false, skipTorch: false };
  const numeric = ['B', 'T', 'D', 'heads', 'vocab', 'reps', 'mm'] as const;
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i].replace(/^--/, '');
    if (key === 'skip-cpu') o.skipCpu = true;
    else if (key === 'skip-torch') o.skipTorch = true;
    else if (key === 'out') o.out = argv[++i] ?? '';
    else if ((numeric as readonly string[]).includes(key)) {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v <= 0) throw new UsageError(`--${key} needs a positive integer, got '${argv[i]}'`);
      o[key as (typeof numeric)[number]] = v;
    } else throw new UsageError(`unknown option '${argv[i]}': valid options are --${numeric.join(', --')}, --out, --skip-cpu, --skip-torch`);
  }
  if (o.D % o.heads !== 0) throw new UsageError(`--D ${o.D} must be a multiple of --heads ${o.heads}`);
  return o;
}

// --- the model ------------------------------------------------------------------------

interface Model {
  vars: tf.Variable[];
  loss: () => tf.Scalar;
  dispose: () => void;
}

function buildModel(o: Options, seed: number): Model {
  const { B, T, D, heads: H, vocab: V } = o;
  const dh = D / H;
  const rng = new RunRng(seed);
  const normal = (name: string, shape: number[]) => tf.variable(tf.randomNormal(shape, 0, 0.02, 'float32', rng.tfSeed(name)), true, name);
  const filled = (name: string, shape: number[], v: number) => tf.variable(tf.fill(shape, v), true, name);
  const p = {
    emb: normal('emb', [V, D]), wqkv: normal('wqkv', [D, 3 * D]), wo: normal('wo', [D, D]),
    w1: normal('w1', [D, 4 * D]), b1: filled('b1', [4 * D], 0), w2: normal('w2', [4 * D, D]), b2: filled('b2', [D], 0),
    wout: normal('wout', [D, V]),
    ln1g: filled('ln1g', [D], 1), ln1b: filled('ln1b', [D], 0), ln2g: filled('ln2g', [D], 1), ln2b: filled('ln2b', [D], 0),
    lnfg: filled('lnfg', [D], 1), lnfb: filled('lnfb', [D], 0),
  };
  const tokens = rng.stream('tokens');
  const ids = Int32Array.from({ length: B * (T + 1) }, () => tokens.int(V));
  const xIds = tf.tensor2d(ids.filter((_, i) => i % (T + 1) !== T), [B, T], 'int32');
  const yOneHot = tf.oneHot(tf.tensor1d(ids.filter((_, i) => i % (T + 1) !== 0), 'int32'), V);
  // Additive causal mask (a large negative rather than -inf keeps every gradient finite).
  const mask = tf.tidy(() => tf.sub(1, tf.linalg.bandPart(tf.ones([T, T]), -1, 0)).mul(-1e9));

  const layerNorm = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
    const { mean, variance } = tf.moments(x, -1, true);
    return x.sub(mean).mul(tf.rsqrt(variance.add(1e-5))).mul(g).add(b);
  };
  const gelu = (x: tf.Tensor) => x.mul(0.5).mul(tf.tanh(x.add(x.pow(3).mul(0.044715)).mul(Math.sqrt(2 / Math.PI))).add(1));
  // Projections go through 2-D rows: tfjs 4.22's matMul gradient does not reduce a
  // broadcast batch (3-D x 2-D), and 2-D rows hit one large XNNPACK product anyway.
  const rows = (x: tf.Tensor, w: tf.Tensor) => tf.matMul(x.reshape([B * T, -1]), w);

  const loss = (): tf.Scalar => {
    let x = tf.gather(p.emb, xIds) as tf.Tensor3D; // [B, T, D]
    const qkv = rows(layerNorm(x, p.ln1g, p.ln1b), p.wqkv).reshape([B, T, 3, H, dh]).transpose([2, 0, 3, 1, 4]);
    const [q, k, v] = tf.unstack(qkv) as tf.Tensor4D[]; // each [B, H, T, dh]
    const scores = tf.matMul(q, k, false, true).mul(1 / Math.sqrt(dh)).add(mask);
    const attn = tf.matMul(tf.softmax(scores), v).transpose([0, 2, 1, 3]); // [B, T, H, dh]
    x = x.add(rows(attn, p.wo).reshape([B, T, D]));
    const m = rows(gelu(rows(layerNorm(x, p.ln2g, p.ln2b), p.w1).add(p.b1)), p.w2).add(p.b2);
    x = x.add(m.reshape([B, T, D]));
    const logits = rows(layerNorm(x, p.lnfg, p.lnfb), p.wout);
    return tf.losses.softmaxCrossEntropy(yOneHot, logits) as tf.Scalar;
  };
  const vars = Object.values(p);
  return { vars, loss, dispose: () => tf.dispose([...vars, xIds, yOneHot, mask]) };
}

/** Multiply-adds x2 of one forward pass (matMuls only; the step is ~3x this). */
function forwardFlops(o: Options): number {
  const N = o.B * o.T;
  const D = o.D;
  return 2 * N * D * (3 * D + D + 8 * D + o.vocab) + 2 * 2 * o.B * o.T * o.T * D;
}

// --- timing ---------------------------------------------------------------------------

function medianMs(f: () => void, reps: number, warmup: number): number {
  for (let i = 0; i < warmup; i++) f();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    f();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

interface StepResult {
  label: string;
  fwdMs: number;
  stepMs: number;
  initialLoss: number;
  lossAfterSteps: number;
  tensorsGrewBy: number;
  matmulGflops: Record<string, number>;
  reps: number;
}

function measureStep(label: string, o: Options, reps: number, warmup: number): StepResult {
  const model = buildModel(o, 1234);
  const opt = tf.train.adam(1e-3);
  const initialLoss = tf.tidy(() => model.loss().dataSync()[0]);
  const fwdMs = medianMs(() => tf.tidy(() => void model.loss().dataSync()), reps, 1);
  let last = 0;
  const step = () =>
    tf.tidy(() => {
      const cost = opt.minimize(model.loss, true, model.vars);
      last = cost ? cost.dataSync()[0] : NaN;
    });
  step(); // creates Adam's slots, so the tensor count below is steady-state
  const before = tf.memory().numTensors;
  const stepMs = medianMs(step, reps, Math.max(0, warmup - 1));
  const tensorsGrewBy = tf.memory().numTensors - before;
  opt.dispose();
  model.dispose();
  return { label, fwdMs, stepMs, initialLoss, lossAfterSteps: last, tensorsGrewBy, matmulGflops: matmulGflops(o.mm, label === 'tfjs cpu' ? 1 : 3), reps };
}

function matmulGflops(S: number, reps: number): Record<string, number> {
  const rng = new RunRng(99);
  const a = tf.randomNormal([S, S], 0, 1, 'float32', rng.tfSeed('a'));
  const b = tf.randomNormal([S, S], 0, 1, 'float32', rng.tfSeed('b'));
  const out: Record<string, number> = {};
  for (const [name, ta, tb] of [['nn', false, false], ['tn', true, false], ['nt', false, true]] as const) {
    const ms = medianMs(() => tf.tidy(() => void tf.matMul(a, b, ta, tb).dataSync()), reps, reps > 1 ? 1 : 0);
    out[name] = (2 * S ** 3) / ms / 1e6;
  }
  tf.dispose([a, b]);
  return out;
}

interface TorchResult {
  torch: string;
  threads: number;
  fwd_ms: number;
  step_ms: number;
  initial_loss: number;
  matmul_gflops: Record<string, number>;
  blas: string[];
}

function runTorch(o: Options): TorchResult | { error: string } {
  const script = path.join(repoRoot(), 'bench', 'torch_step.py');
  const python = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  const args = [script, '--B', o.B, '--T', o.T, '--D', o.D, '--heads', o.heads, '--vocab', o.vocab, '--reps', o.reps, '--mm', o.mm].map(String);
  try {
    const stdout = execFileSync(python, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OMP_NUM_THREADS: '1' } });
    return JSON.parse(stdout.trim().split('\n').pop() ?? '') as TorchResult;
  } catch (err) {
    const msg = (err as { stderr?: string }).stderr || (err as Error).message;
    return { error: `PyTorch run failed (${python}; Debian: apt-get install python3-torch): ${msg.trim().split('\n').pop()}` };
  }
}

// --- main -----------------------------------------------------------------------------

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const log = (s: string) => process.stderr.write(`${s}\n`);
  log(`training step B${o.B} T${o.T} D${o.D} H${o.heads} V${o.vocab}; ${(forwardFlops(o) / 1e9).toFixed(2)} GFLOP per forward (matMuls)`);
  const results: StepResult[] = [];

  const wasm = await selectBackend('wasm');
  log('timing tfjs wasm (fixed matMul) ...');
  results.push(measureStep('tfjs wasm + fix', o, o.reps, 2));
  restoreStockWasmMatMul();
  log('timing tfjs wasm (stock kernels) ...');
  results.push(measureStep('tfjs wasm stock', o, Math.min(o.reps, 3), 1));
  installMatMulFixes();
  if (!o.skipCpu) {
    await selectBackend('cpu');
    log('timing tfjs cpu ...');
    results.push(measureStep('tfjs cpu', o, 1, 1));
  }
  let torch: TorchResult | { error: string } | undefined;
  if (!o.skipTorch) {
    log('timing PyTorch (1 thread) ...');
    torch = runTorch(o);
  }

  const torchOk = torch && !('error' in torch) ? torch : undefined;
  const rowsOut = results.map((r) => ({
    ...r,
    ratioToTorch: torchOk ? r.stepMs / torchOk.step_ms : null,
    stepOverFwd: r.stepMs / r.fwdMs,
    stepGflops: (3 * forwardFlops(o)) / r.stepMs / 1e6,
  }));
  if (torchOk) {
    rowsOut.push({
      label: `PyTorch ${torchOk.torch} 1 thread`, fwdMs: torchOk.fwd_ms, stepMs: torchOk.step_ms, initialLoss: torchOk.initial_loss,
      lossAfterSteps: NaN, tensorsGrewBy: 0, matmulGflops: torchOk.matmul_gflops, reps: o.reps,
      ratioToTorch: 1, stepOverFwd: torchOk.step_ms / torchOk.fwd_ms, stepGflops: (3 * forwardFlops(o)) / torchOk.step_ms / 1e6,
    });
  }

  const pad = (s: string, n: number) => s.padEnd(n);
  const num = (v: number | null, d = 1) => (v === null || !Number.isFinite(v) ? '-' : v.toFixed(d));
  console.log(`\n${pad('backend', 28)}${pad('fwd ms', 10)}${pad('step ms', 10)}${pad('x torch', 9)}${pad('step/fwd', 10)}${pad('GFLOP/s', 9)}matMul ${o.mm}^3 GFLOP/s nn / tn / nt`);
  for (const r of rowsOut) {
    const mm = ['nn', 'tn', 'nt'].map((k) => num(r.matmulGflops[k] ?? null, 2)).join(' / ');
    console.log(`${pad(r.label, 28)}${pad(num(r.fwdMs), 10)}${pad(num(r.stepMs), 10)}${pad(num(r.ratioToTorch), 9)}${pad(num(r.stepOverFwd), 10)}${pad(num(r.stepGflops), 9)}${mm}`);
  }
  const fixed = results[0];
  const stock = results[1];
  console.log(`\nwasm fix speed-up: step ${(stock.stepMs / fixed.stepMs).toFixed(1)}x, fwd ${(stock.fwdMs / fixed.fwdMs).toFixed(1)}x`);
  if (torch && 'error' in torch) console.log(torch.error);
  if (torchOk) {
    const blas = torchOk.blas.join(', ') || 'none found';
    console.log(`PyTorch BLAS: ${blas}`);
    // Debian's python3-torch calls whatever provides libblas.so.3; the netlib reference
    // BLAS (package libblas3) makes PyTorch ~50x slower than with OpenBLAS.
    if (!/openblas|mkl|blis/i.test(blas)) {
      console.log('warning: PyTorch runs on the reference BLAS here; the ratios flatter tfjs. Install libopenblas0-pthread (Debian) for a fair baseline.');
    }
  }
  for (const r of results) if (r.tensorsGrewBy !== 0) console.log(`warning: ${r.label} leaked ${r.tensorsGrewBy} tensors per ${r.reps} steps`);

  const out = path.resolve(repoRoot(), o.out);
  writeJsonAtomic(out, {
    bench: 'training-step',
    date: new Date().toISOString(),
    shapes: { B: o.B, T: o.T, D: o.D, heads: o.heads, vocab: o.vocab, mlp: 4 * o.D },
    forwardGflop: forwardFlops(o) / 1e9,
    machine: { cpu: os.cpus()[0]?.model, cores: os.cpus().length, node: process.version, wasmDevice: wasm.device },
    tfjs: tf.version.tfjs,
    results: rowsOut,
    torch: torch ?? null,
  });
  log(`wrote ${path.relative(process.cwd(), out)}`);
}

main().catch((err: unknown) => {
  if (err instanceof UsageError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(err.exitCode);
  }
  throw err;
});
