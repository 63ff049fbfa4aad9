/**
 * The tfjs side of the PyTorch twins: export a model's weights and a seeded batch, run
 * the twin (test/twins/<model>_twin.py through harness.py, ONE python process per test
 * file), and compare what came back tensor by tensor.
 *
 * - Python is /usr/bin/python3 (Debian's python3-torch lives there; the first python3 on
 *   PATH may be another one), or REPRO_PYTHON.
 * - Without an importable torch the twin tests skip with one line saying how to install
 *   it; under CI=true (set by .ci/run) they FAIL instead, so CI cannot pass on skipped twins.
 * - Error measure (`relativeError`): max_i |ours_i - twin_i| / max_i |twin_i| over one
 *   tensor. Element-wise relative error is meaningless for entries that are ~0 (a masked
 *   attention weight, a gradient that cancels), and float32 rounding is relative to the
 *   tensor's scale, not to each entry. The twin computes in float64, so the error measured
 *   is our float32 rounding alone.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test, type TestContext } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { repoRoot } from '../../lib/core/paths';
import { RunRng } from '../../lib/core/rng';
import { trainStep } from '../../lib/nn/training';

export const PYTHON = process.env.REPRO_PYTHON || '/usr/bin/python3';
export const INSTALL_HINT = 'apt-get install python3-torch';

/** A tensor as the twins read and write it. */
export interface Encoded {
  shape: number[];
  data: number[];
}

export type Probe = { ok: true } | { ok: false; reason: string };

let probed: Probe | undefined;

/**
 * Does PYTHON find torch and numpy? (cached per process). Only looks the modules up, without
 * importing torch (2 s), so that every test file does not pay for it twice; a torch that is
 * found but broken fails in runTwin instead, with python's error.
 */
export function probeTorch(): Probe {
  if (probed) return probed;
  const code = 'import importlib.util, json; print(json.dumps([m for m in ("torch", "numpy") if importlib.util.find_spec(m) is None]))';
  const r = spawnSync(PYTHON, ['-c', code], { encoding: 'utf8', timeout: 60_000 });
  if (r.error) probed = { ok: false, reason: `${PYTHON} cannot be run (${r.error.message})` };
  else if (r.status !== 0) probed = { ok: false, reason: `${PYTHON} failed (${lastLine(r.stderr)})` };
  else {
    const missing = JSON.parse(r.stdout) as string[];
    probed = missing.length ? { ok: false, reason: `${PYTHON} has no ${missing.join(' and ')}` } : { ok: true };
  }
  return probed;
}

function lastLine(s: string): string {
  const lines = s.trim().split('\n');
  return lines[lines.length - 1] ?? '';
}

/** Whether a missing torch must fail (CI) rather than skip (a developer machine). */
export function twinsRequired(): boolean {
  return process.env.CI === 'true';
}

/**
 * A node:test test that needs the twins: skipped with the install line when torch is
 * missing, failed instead under CI=true.
 */
export function twinTest(name: string, fn: (t: TestContext) => void | Promise<void>): void {
  test(name, async (t) => {
    const p = probeTorch();
    if (!p.ok) {
      if (twinsRequired()) assert.fail(`CI=true requires the PyTorch twins, but ${p.reason}; install with: ${INSTALL_HINT}`);
      t.skip(`PyTorch twins skipped: ${p.reason}; install with: ${INSTALL_HINT}`);
      return;
    }
    await fn(t);
  });
}

export function encode(t: tf.Tensor): Encoded {
  return { shape: [...t.shape], data: Array.from(t.dataSync()) };
}

export function encodeArray(data: ArrayLike<number>, shape: number[]): Encoded {
  return { shape, data: Array.from(data) };
}

/** A variable's name without the per-instance '#n' suffix ParamStore adds (the twin's key). */
export function cleanName(v: tf.Variable): string {
  return v.name.replace(/#\d+$/, '');
}

/** Variables by clean name, in store order. */
export function encodeVariables(vars: readonly tf.Variable[]): Record<string, Encoded> {
  const out: Record<string, Encoded> = {};
  for (const v of vars) out[cleanName(v)] = encode(v);
  return out;
}

export interface TwinRun<R> {
  versions: Record<string, string>;
  results: R[];
}

/** Runs `module` (a file test/twins/<module>.py) on every case in one python process. */
export function runTwin<R = Record<string, unknown>>(module: string, cases: unknown[]): TwinRun<R> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twin-'));
  try {
    const input = path.join(dir, 'cases.json');
    const output = path.join(dir, 'results.json');
    fs.writeFileSync(input, JSON.stringify({ cases }));
    const harness = path.join(repoRoot(), 'test', 'twins', 'harness.py');
    const r = spawnSync(PYTHON, [harness, module, input, output], {
      encoding: 'utf8',
      timeout: 300_000,
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', OMP_NUM_THREADS: '1' },
    });
    if (r.error) throw new Error(`twin ${module}: ${r.error.message}`);
    if (r.status !== 0) throw new Error(`twin ${module} exited with ${r.status}:\n${r.stderr}`);
    return JSON.parse(fs.readFileSync(output, 'utf8')) as TwinRun<R>;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** max |a - b| / max |b| (0 when both are all zero). */
export function relativeError(ours: ArrayLike<number>, twin: ArrayLike<number>): number {
  assert.equal(ours.length, twin.length, 'relativeError: lengths differ');
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < ours.length; i++) {
    diff = Math.max(diff, Math.abs(ours[i] - twin[i]));
    scale = Math.max(scale, Math.abs(twin[i]));
  }
  if (!Number.isFinite(diff)) return Infinity;
  if (scale === 0) return diff === 0 ? 0 : Infinity;
  return diff / scale;
}

/**
 * Collects the comparisons of one twin: asserts each against its tolerance and remembers
 * the largest error, which `report` prints (the README's table is read from these lines).
 */
export class Agreement {
  /** Largest error per kind of comparison: 'outputs', 'gradients' (names starting 'grad '), 'steps'. */
  private readonly worst = new Map<string, { name: string; err: number; tol: number }>();
  private count = 0;

  constructor(readonly label: string) {}

  private record(kind: string, name: string, err: number, tol: number): void {
    this.count++;
    const w = this.worst.get(kind);
    if (!w || err >= w.err) this.worst.set(kind, { name, err, tol });
  }

  check(name: string, ours: tf.Tensor | ArrayLike<number>, twin: Encoded, tol: number): number {
    const data = ours instanceof tf.Tensor ? ours.dataSync() : ours;
    if (ours instanceof tf.Tensor) assert.deepEqual([...ours.shape], twin.shape, `${this.label}: ${name}: shape`);
    else assert.equal(data.length, twin.data.length, `${this.label}: ${name}: size`);
    const err = relativeError(data, twin.data);
    this.record(name.startsWith('grad ') ? 'gradients' : 'outputs', name, err, tol);
    assert.ok(err <= tol, `${this.label}: ${name}: relative error ${err.toExponential(2)} > tolerance ${tol.toExponential(0)}`);
    return err;
  }

  /**
   * An optimiser's update w_after - w_before, ours against the twin's, relative to the
   * twin's largest update (comparing w_after itself would hide an update error below the
   * scale of w). Counted among the 'steps'.
   */
  checkUpdate(name: string, before: ArrayLike<number>, ours: ArrayLike<number>, twin: ArrayLike<number>, tol: number): number {
    assert.equal(ours.length, before.length, `${this.label}: ${name}: size`);
    assert.equal(twin.length, before.length, `${this.label}: ${name}: twin size`);
    const d = (a: ArrayLike<number>) => Array.from(a, (v, i) => v - before[i]);
    const err = relativeError(d(ours), d(twin));
    this.record('steps', name, err, tol);
    assert.ok(err <= tol, `${this.label}: ${name}: update differs by ${err.toExponential(2)} relative > tolerance ${tol.toExponential(0)}`);
    return err;
  }

  /**
   * The first step of Adam from zero moments, w_after - w_before = -lr g / (|g| + eps), ours
   * against the twin's, each from its own gradient. This map is ill-conditioned where |g| is
   * near eps (its slope lr eps / (|g| + eps)^2 reaches lr / eps at g = 0), so a gradient entry
   * of ~1e-7 turns a harmless float32 difference in it into a visible step difference. The
   * part of |step_ours - step_twin| that the gradient difference explains through that slope
   * (the mean-value bound, with the slope at the smaller |g|, or at 0 when the signs differ)
   * is subtracted; what remains, relative to lr (the largest possible step), must be <= tol.
   * Returns that residual (the number reported).
   */
  checkAdamFirstStep(name: string, s: { before: ArrayLike<number>; ours: ArrayLike<number>; twin: ArrayLike<number>; gOurs: ArrayLike<number>; gTwin: ArrayLike<number> }, lr: number, eps: number, tol: number): number {
    const n = s.before.length;
    for (const [k, v] of Object.entries(s)) assert.equal(v.length, n, `${this.label}: ${name}: ${k} size`);
    let worst = 0;
    for (let i = 0; i < n; i++) {
      const d = Math.abs(s.ours[i] - s.before[i] - (s.twin[i] - s.before[i]));
      const sameSign = Math.sign(s.gOurs[i]) === Math.sign(s.gTwin[i]);
      const g = sameSign ? Math.min(Math.abs(s.gOurs[i]), Math.abs(s.gTwin[i])) : 0;
      const explained = (lr * eps * Math.abs(s.gOurs[i] - s.gTwin[i])) / (g + eps) ** 2;
      worst = Math.max(worst, Math.max(0, d - explained) / lr);
    }
    this.record('steps', name, worst, tol);
    assert.ok(worst <= tol, `${this.label}: ${name}: step differs by ${worst.toExponential(2)} x lr beyond what the gradients explain (tolerance ${tol.toExponential(0)})`);
    return worst;
  }

  /** Exact agreement of discrete outputs (token ids, exit layers, routing counts). */
  same(name: string, ours: ArrayLike<number>, twin: ArrayLike<number>): void {
    this.count++;
    assert.deepEqual(Array.from(ours), Array.from(twin), `${this.label}: ${name}: differs`);
  }

  /** The largest error of one kind ('outputs', 'gradients' or 'steps'). */
  largest(kind: string): { name: string; err: number; tol: number } | undefined {
    const w = this.worst.get(kind);
    return w && { ...w };
  }

  report(t: TestContext): void {
    const parts = [...this.worst.entries()].map(([kind, w]) => `${kind} ${w.err.toExponential(2)} (${w.name}; tolerance ${w.tol.toExponential(0)})`);
    t.diagnostic(`twin ${this.label}: ${this.count} comparisons; largest relative error: ${parts.join(', ') || 'none (exact comparisons only)'}`);
  }
}

/** Names a gradient map by variable clean names: tf.variableGrads keys by the full name. */
export function gradsByCleanName(vars: readonly tf.Variable[], grads: Record<string, tf.Tensor>): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = {};
  for (const v of vars) out[cleanName(v)] = grads[v.name];
  return out;
}

/** fn's promise, created on the first call: builds the cases and runs the twin once per test file. */
export function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= fn());
}

/** Seeded token ids [rows, cols] in [0, vocab). */
export function seededTokens(seed: number, name: string, rows: number, cols: number, vocab: number): number[][] {
  const s = new RunRng(seed).stream(name);
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => s.int(vocab)));
}

/** Seeded standard-normal tensor. */
export function seededNormal(seed: number, name: string, shape: number[], std = 1): tf.Tensor {
  const s = new RunRng(seed).stream(name);
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: n }, () => std * s.normal()), shape);
}

/** What our side of a "loss, gradients, one tf.train.adam step" comparison holds. */
export interface OursStep {
  /** Clean variable names, store order. */
  names: string[];
  before: Record<string, Encoded>;
  loss: tf.Scalar;
  grads: Record<string, tf.Tensor>;
  after: Record<string, Encoded>;
}

/** Loss, every gradient, then one step of tf.train.adam(lr) through trainStep (the experiments' path). */
export function oursAdamStep(vars: tf.Variable[], loss: () => tf.Scalar, lr: number): OursStep {
  const before = encodeVariables(vars);
  const value = loss();
  const { grads } = tf.variableGrads(loss, vars);
  trainStep(tf.train.adam(lr), vars, loss).dispose();
  return { names: vars.map(cleanName), before, loss: value, grads: gradsByCleanName(vars, grads), after: encodeVariables(vars) };
}

/** tf.train.adam's epsilon on a float32 backend (ENGINE.backend.epsilon()). */
export const TFJS_ADAM_EPS = 1e-7;

/**
 * Step tolerance for tf.train.adam against torch.optim.Adam: tfjs keeps beta2 = 0.999 as a
 * float32 (0.99900001), so its first-step bias correction 1 - beta2 is 1.3e-5 off and every
 * step 6.4e-6 smaller than torch's; 2e-5 covers that plus the float32 spacing of w.
 */
export const TFJS_ADAM_STEP_TOL = 2e-5;

/** Gradients (tolerance `tol`) and the tf.train.adam step of every variable against the twin's. */
export function checkGradientsAndAdamStep(
  a: Agreement,
  ours: OursStep,
  twin: { grads: Record<string, Encoded>; after: Record<string, Encoded> },
  lr: number,
  tol: number,
): void {
  assert.deepEqual(Object.keys(twin.grads).sort(), [...ours.names].sort(), `${a.label}: the twin's parameters differ from ours`);
  for (const name of ours.names) a.check(`grad ${name}`, ours.grads[name], twin.grads[name], tol);
  for (const name of ours.names) {
    const s = { before: ours.before[name].data, ours: ours.after[name].data, twin: twin.after[name].data, gOurs: ours.grads[name].dataSync(), gTwin: twin.grads[name].data };
    a.checkAdamFirstStep(`adam step ${name}`, s, lr, TFJS_ADAM_EPS, TFJS_ADAM_STEP_TOL);
  }
}
