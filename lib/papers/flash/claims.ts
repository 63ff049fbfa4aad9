/**
 * The FLASH claims, as data. Tolerances were fixed before the first quick run and are
 * not to be tuned to the results (ARCHITECTURE.md §5); every change is in claims.lock.json.
 *
 * The baseline of every claim is OUR Transformer++: tfjs, multi-head softmax attention
 * with the [T, T] matrix materialised (no fused attention kernel). Against a fused kernel
 * (PyTorch SDPA, bf16) the PyTorch H100 anchor (lib/papers/flash/anchor.ts) shows Transformer++ almost flat and faster
 * than FLASH; none of these claims speaks to that baseline.
 *
 * Every time-based claim is a timing claim: its value per timed round comes from step
 * times measured in the same round (one ctx.exclusive section, the contenders interleaved),
 * and its interval from those per-round values (`timing.reps`). The training speed-up is
 * steps-to-target (from the loss curves, which are deterministic) x the per-round step time
 * at that context, so a training run never has to hold the machine.
 *
 * Paper numbers: the abstract's speed-ups are confirmed (ar5iv / arXiv abstract); the
 * latency figures (Fig. 5(a) masked LM on C4, Fig. 6(a) autoregressive LM on Wiki-40B) are
 * read through seed article 003 ("Combiner, Performer and FLASH latency stays roughly
 * constant", "at 8192 FLASH-Quad is 2x faster than Transformer++"), and Table 3's 12.1x
 * (PG-19, 8K) likewise; the figures' own values could not be read here.
 */
import type { Claim, MetricValue, NotRun, Outcome } from '../../harness/contract';
import { firstCrossing } from '../../harness/metrics';
import { mean } from '../../core/stats';
import type { ModelId } from './config';
import type { EvalPoint, FlashResult } from './experiment';

const PAPER = 'arXiv:2202.10447';

function isNumbers(v: number[] | NotRun): v is number[] {
  return Array.isArray(v);
}

/** Per-round step times (ms) of `model` at `context`. */
export function timedMs(r: FlashResult, model: ModelId, context: number): number[] | NotRun {
  const t = r.latency.timed.find((x) => x.model === model && x.context === context);
  return t ? t.ms : { notRun: `${model} was not timed at context ${context}`, precondition: 'config' };
}

/** Per-round ratio of two timed series (round k over round k: paired). */
export function perRoundRatio(num: number[] | NotRun, den: number[] | NotRun): number[] | NotRun {
  if (!isNumbers(num)) return num;
  if (!isNumbers(den)) return den;
  return num.map((x, k) => x / den[k]);
}

/** The shortest context >= the chunk size and the longest context of the sweep. */
export function latencyPair(r: FlashResult): [number, number] | NotRun {
  const cs = r.latency.contexts;
  const lo = cs.find((t) => t >= r.latency.chunkSize);
  const hi = Math.max(...cs);
  if (lo === undefined || hi <= lo) return { notRun: `needs two contexts >= the chunk size (${r.latency.chunkSize}); the sweep has ${cs.join(', ')}`, precondition: 'config' };
  return [lo, hi];
}

function growth(r: FlashResult, model: ModelId): number[] | NotRun {
  const p = latencyPair(r);
  if (!Array.isArray(p)) return p;
  return perRoundRatio(timedMs(r, model, p[1]), timedMs(r, model, p[0]));
}

function atLongest(r: FlashResult, num: ModelId, den: ModelId): number[] | NotRun {
  const t = Math.max(...r.latency.contexts);
  return perRoundRatio(timedMs(r, num, t), timedMs(r, den, t));
}

/** The mean of per-round values, or the NotRun. */
function meanOf(v: number[] | NotRun): MetricValue {
  return isNumbers(v) ? mean(v) : v;
}

/** Per-round values for `timing.reps` (none when the claim has nothing to time). */
function repsOf(v: number[] | NotRun | SpeedupValue | Outcome): number[] {
  if (Array.isArray(v)) return v;
  if ('perRound' in v) return v.perRound;
  return [];
}

export function curveOf(r: FlashResult, model: ModelId, context: number): EvalPoint[] | undefined {
  return r.train.curves.find((c) => c.model === model && c.context === context)?.points;
}

/** First (interpolated) step at which `curve` reaches `target` (val loss <= target); null if never. */
export function stepsToReach(curve: EvalPoint[], target: number): number | null {
  return firstCrossing(
    curve.map((p) => p.step),
    curve.map((p) => p.valLoss),
    target,
  );
}

export interface ContextSpeedup {
  context: number;
  /** Transformer++'s final validation loss: the quality to reach. */
  target: number;
  /** Steps Transformer++ took to first reach it. */
  baselineSteps: number;
  /** Steps FLASH took to reach it, or null if it never did within its steps. */
  flashSteps: number | null;
  /** Per timed round: Transformer++ step time / FLASH step time at this context. */
  stepTimeRatio: number[];
  /**
   * Per timed round: (baselineSteps x Transformer++ step time) / (flashSteps x FLASH step time).
   * When FLASH never reached the target, an upper bound: flashSteps replaced by the steps it trained.
   */
  perRound: number[];
  reached: boolean;
}

/**
 * Training speed-up of FLASH over Transformer++ to Transformer++'s own final validation loss
 * at one training context: steps-to-target (deterministic) x the per-round step times.
 */
export function trainingSpeedup(r: FlashResult, context: number): ContextSpeedup | NotRun {
  const base = curveOf(r, 'transformer', context);
  const flash = curveOf(r, 'flash', context);
  if (!base || !flash || base.length === 0 || flash.length === 0) return { notRun: `Transformer++ and FLASH were not trained at context ${context}`, precondition: 'config' };
  const ratio = perRoundRatio(timedMs(r, 'transformer', context), timedMs(r, 'flash', context));
  if (!isNumbers(ratio)) return ratio;
  const target = base[base.length - 1].valLoss;
  const baselineSteps = stepsToReach(base, target) as number;
  const flashSteps = stepsToReach(flash, target);
  const reached = flashSteps !== null;
  const steps = reached ? flashSteps : flash[flash.length - 1].step;
  return { context, target, baselineSteps, flashSteps, stepTimeRatio: ratio, perRound: ratio.map((q) => (baselineSteps / steps) * q), reached };
}

interface SpeedupValue {
  perRound: number[];
}

/** The training speed-up at the longest training context, as a metric: FLASH never reaching the target is inconclusive unless its bound already fails. */
function speedupAtLongest(r: FlashResult, tolerance: number): SpeedupValue | NotRun | Outcome {
  const t = Math.max(...r.train.contexts);
  const s = trainingSpeedup(r, t);
  if ('notRun' in s) return s;
  const m = mean(s.perRound);
  if (!s.reached && m >= tolerance) {
    return { outcome: 'inconclusive', reason: `at context ${t} FLASH did not reach Transformer++'s final loss ${s.target.toFixed(3)} within its ${r.train.steps} steps; the speed-up is only bounded above by ${m.toFixed(2)}x` };
  }
  return s;
}

/**
 * Per round: the speed-up at the longest training context / at the shortest. When FLASH
 * never reached the target at the longest context the value is an upper bound, at the
 * shortest a lower bound; a bound that does not decide the direction is inconclusive.
 */
function speedupGrowth(r: FlashResult, tolerance: number): SpeedupValue | NotRun | Outcome {
  const cs = r.train.contexts;
  if (cs.length < 2) return { notRun: `needs at least two training contexts; train.contexts is ${cs.join(', ')}`, precondition: 'config' };
  const lo = trainingSpeedup(r, cs[0]);
  const hi = trainingSpeedup(r, cs[cs.length - 1]);
  if ('notRun' in lo) return lo;
  if ('notRun' in hi) return hi;
  const perRound = hi.perRound.map((x, k) => x / lo.perRound[k]);
  const m = mean(perRound);
  const missed = [!lo.reached ? cs[0] : null, !hi.reached ? cs[cs.length - 1] : null].filter((x) => x !== null);
  const undecided = (!lo.reached && !hi.reached) || (!hi.reached && m >= tolerance) || (!lo.reached && m < tolerance);
  if (undecided) return { outcome: 'inconclusive', reason: `FLASH did not reach Transformer++'s final loss at context ${missed.join(' and ')} within ${r.train.steps} steps, so the growth ${m.toFixed(2)}x is only a bound that does not decide the claim` };
  return { perRound };
}

function asMetric(v: SpeedupValue | NotRun | Outcome): MetricValue {
  return 'perRound' in v ? mean(v.perRound) : v;
}

/** Validation loss of `model` / Transformer++ at the last step both evaluated, at FLASH-Quad's training context. */
export function lossRatioAtEqualSteps(r: FlashResult, model: ModelId): number | NotRun {
  const t = r.train.flashQuadContext;
  const baseCurve = curveOf(r, 'transformer', t);
  const curve = curveOf(r, model, t);
  if (!baseCurve || !curve) return { notRun: `${model} and Transformer++ were not both trained at context ${t}`, precondition: 'config' };
  const base = new Map(baseCurve.map((p) => [p.step, p.valLoss]));
  const common = curve.filter((p) => base.has(p.step));
  if (common.length === 0) return { notRun: 'no evaluation step in common with Transformer++', precondition: 'config' };
  const last = common[common.length - 1];
  return last.valLoss / (base.get(last.step) as number);
}

const SPEEDUP_TOLERANCE = 1.2;
const GROWTH_TOLERANCE = 1.0;

export const claims: Claim<FlashResult>[] = [
  {
    id: 'flash-latency-flat',
    kind: 'paper',
    falsifiedBy: 'FLASH step time growing by more than 1.5x from the shortest to the longest context (as quadratic attention does)',
    paper: PAPER,
    source: 'Fig. 5(a) and Fig. 6(a) (latency per training step vs context), via seed article 003',
    statement: 'At a fixed number of tokens per batch, FLASH step time stays roughly flat as the context grows',
    paperValue: '"roughly constant" from 512 to 8192 (no number read); PyTorch H100 anchor (lib/papers/flash/anchor.ts): 1.01x from 512 to 8192',
    measures: 'per timed round: FLASH step time at the longest context / at the shortest context >= chunk size (fwd + bwd + Adam, fixed tokens per batch), the two timed in the same round',
    metric: (r) => meanOf(growth(r, 'flash')),
    timing: { reps: (r) => repsOf(growth(r, 'flash')) },
    expect: { atMost: 1.5 },
    toleranceWhy:
      'Once T >= C the work per token of mixed chunk attention is independent of T except the chunk prefix sum (a [G, G] matMul, small next to the chunk kernels); 1.5x over an 8-16x range of contexts leaves room for that term, per-op overheads and a shared machine, yet is far below the ~linear growth of quadratic attention.',
    profiles: ['quick', 'full', 'paper'],
    expected: {
      quick: {
        verdict: 'inconclusive',
        reason:
          "Three idle quick runs on the same code and machine (2026-11-30) gave inconclusive [0.39, 2.13], reproduced [1.09, 1.25] and inconclusive (the clean-clone CI run): most seeds are flat (1.0-1.2) but now and then one seed reads ~1.6, because FLASH's step time on wasm varies by up to 1.5x between timed rounds, and 3 seeds of 5 rounds cannot pin that spread. Either verdict is tolerated for a timing claim; not reproduced would fail the run.",
        evidence: 'results/reference/quick/flash/claims.json and metrics.jsonl (npm run reproduce -- --only flash --profile quick): flash-latency-flat per seed and per timed round',
      },
      full: {
        verdict: 'inconclusive',
        reason: "Two idle full runs on the same kernels: per seed 1.62, 1.11, 1.55, interval [0.74, 2.12] (100 training steps, inconclusive), and per seed 1.25, 1.25, 1.08, interval [0.95, 1.44] (200 steps, reproduced): the same round-to-round spread of FLASH step times as at quick, so either verdict can come out; the rule for timing claims tolerates the move.",
        evidence: 'results/reference/full/flash/claims.json (npm run reproduce -- --only flash --profile full): flash-latency-flat',
      },
    },
  },
  {
    id: 'flash-tpp-latency-grows',
    kind: 'check',
    falsifiedBy: 'a sanity bound on the baseline: materialised attention is quadratic in the context, so its step time must grow',
    paper: PAPER,
    source: 'Fig. 5(a) and Fig. 6(a), via seed article 003',
    statement: 'Transformer++ step time grows with the context at a fixed number of tokens per batch',
    paperValue: 'grows with context (no number read); PyTorch H100 anchor, materialised attention: 4.4x from 512 to 8192',
    measures: 'per timed round: Transformer++ step time at the longest context / at the shortest context >= chunk size (same pair as flash-latency-flat)',
    metric: (r) => meanOf(growth(r, 'transformer')),
    timing: { reps: (r) => repsOf(growth(r, 'transformer')) },
    expect: { atLeast: 2 },
    toleranceWhy:
      'Attention cost per token is linear in T for materialised attention; with the dense layers a fixed cost, an 8-16x context range should at least double the step (the anchor grows 4.4x over 16x at width 512, where dense layers weigh more than at our widths).',
    profiles: ['quick', 'full', 'paper'],
  },
  {
    id: 'flash-faster-than-tpp-at-longest',
    kind: 'paper',
    falsifiedBy: 'a FLASH step less than 1.5x faster than a Transformer++ step at the longest context',
    paper: PAPER,
    source: 'Fig. 6(a) (FLASH has the lowest latency at long contexts), via seed article 003',
    statement: 'At the longest context, a FLASH training step is faster than a Transformer++ step',
    paperValue: 'FLASH lowest latency (no number read); PyTorch H100 anchor: naive Transformer++ / FLASH = 4.4x at 8192',
    measures: 'per timed round: Transformer++ step time / FLASH step time at the longest context of the sweep',
    metric: (r) => meanOf(atLongest(r, 'transformer', 'flash')),
    timing: { reps: (r) => repsOf(atLongest(r, 'transformer', 'flash')) },
    expect: { atLeast: 1.5 },
    toleranceWhy: "Follows from the two claims above if they hold; 1.5x is a margin no timing noise on a shared machine produces, and well below the anchor's 4.4x at 8192 since our longest context is shorter at quick.",
    profiles: ['quick', 'full', 'paper'],
  },
  {
    id: 'flash-quad-faster-than-tpp-at-longest',
    kind: 'paper',
    falsifiedBy: 'a FLASH-Quad step no faster than a Transformer++ step at the longest context',
    paper: PAPER,
    source: 'Fig. 5(a), via seed article 003 ("at 8192 FLASH-Quad is 2x faster than Transformer++")',
    statement: 'At the longest context, FLASH-Quad (quadratic GAU) trains faster per step than Transformer++',
    paperValue: '~2x at 8192 (TPU, C4 masked LM); PyTorch H100 anchor: 0.53x (FLASH-Quad slower)',
    measures: 'per timed round: Transformer++ step time / FLASH-Quad step time at the longest context of the sweep',
    metric: (r) => meanOf(atLongest(r, 'transformer', 'flash-quad')),
    timing: { reps: (r) => repsOf(atLongest(r, 'transformer', 'flash-quad')) },
    expect: { atLeast: 1.0 },
    toleranceWhy:
      'Judged on direction only: the 2x depends on the accelerator (the PyTorch anchor on an H100 measures the opposite), so we only ask whether FLASH-Quad is faster at all.',
    profiles: ['quick', 'full', 'paper'],
    expected: {
      full: {
        verdict: 'not-reproduced',
        reason:
          "Measured at full (200 steps per model and context, 3 seeds): at context 2048 FLASH-Quad's step is slower than Transformer++'s, interval [0.47, 0.72] (0.59 mean; 100 steps: 0.61 [0.59, 0.64]), as at quick (0.62). Same cause as at quick: Transformer++'s softmax attention runs on our fused SIMD kernels while FLASH-Quad's relu^2 attention is a chain of tfjs elementwise ops; the PyTorch H100 anchor measures 0.53x at 8K with materialised attention.",
        evidence: "results/reference/full/flash/claims.json and tables.json (npm run reproduce -- --only flash --profile full): flash-quad-faster-than-tpp-at-longest",
      },
      quick: {
        verdict: 'not-reproduced',
        reason:
          "On the idle CI machine FLASH-Quad's step at context 2048 is slower than Transformer++'s: per-seed ratios 0.60, 0.66, 0.62, interval [0.56, 0.69] (reference run of 2026-11-30). Our setup favours the baseline here: Transformer++'s softmax attention runs on fused SIMD kernels (one softmax kernel, the batched GEMM), while FLASH-Quad's relu^2 attention is a chain of tfjs elementwise ops; before those kernels (earlier idle runs, one model after another) the ratio was 1.10 and 0.995. The paper's ~2x is at 8K; the PyTorch H100 anchor (lib/papers/flash/anchor.ts) measures 0.53x at 8K with materialised attention, so the direction is not settled on GPUs either.",
        evidence: 'results/reference/quick/flash/claims.json (npm run reproduce -- --only flash --profile quick): flash-quad-faster-than-tpp-at-longest',
      },
    },
  },
  {
    id: 'flash-training-speedup',
    kind: 'paper',
    falsifiedBy: "FLASH taking more than 1/1.2 of Transformer++'s wall time to reach Transformer++'s final validation loss at the longest training context",
    paper: PAPER,
    source: 'abstract (confirmed); Fig. 6(b)-(f) Wiki-40B 1.2-4.9x growing with context and Table 3 PG-19 12.1x at 8K, via seed article 003',
    statement: 'At the longest training context, FLASH reaches the final validation loss of Transformer++ in less wall time (same data, same hardware)',
    paperValue: '1.2-4.9x (Wiki-40B, 512..8K), 12.1x (PG-19, 8K); abstract: "up to 4.9x on Wiki-40B and 12.1x on PG-19"',
    measures:
      "per timed round at the longest training context: (Transformer++'s steps to its own final val loss x its step time) / (FLASH's steps to the same loss x its step time); steps interpolated linearly between evaluations; if FLASH never reaches the loss, the value is an upper bound (inconclusive unless that bound already fails)",
    metric: (r) => asMetric(speedupAtLongest(r, SPEEDUP_TOLERANCE)),
    timing: { reps: (r) => repsOf(speedupAtLongest(r, SPEEDUP_TOLERANCE)) },
    expect: { atLeast: SPEEDUP_TOLERANCE },
    toleranceWhy: "The lower end of the paper's Wiki-40B range, which it reports at its shortest context (512); our longest training contexts are 2048 (quick) and 8192 (full), where the paper's speed-up is larger.",
    profiles: ['quick', 'full', 'paper'],
    expected: {
      full: {
        verdict: 'inconclusive',
        reason:
          "Measured at full (200 steps per model and context): at context 2048 FLASH reached Transformer++'s final validation loss in 1 of 3 seeds (seed 1: 4.59x); in the others Transformer++, trained as many steps, ended below any loss FLASH reached, so the speed-up is only bounded above (seed 2: 2.49x) and does not decide the claim. With 100 steps FLASH reached it in every seed (5.36 [3.29, 7.44]); with longer training Transformer++'s better loss per step outweighs FLASH's cheaper steps at equal step counts (see flash-quad-quality-equal-steps). Both models train the same number of steps; letting FLASH train until it reaches the target (time to quality, as the paper reads it) would decide the claim.",
        evidence: "results/reference/full/flash/claims.json and tables.json (npm run reproduce -- --only flash --profile full): flash-training-speedup, table flash-training-speedup",
      },
    },
  },
  {
    id: 'flash-training-speedup-grows',
    kind: 'paper',
    falsifiedBy: "FLASH's training speed-up over Transformer++ no larger at the longest training context than at the shortest",
    paper: PAPER,
    source: 'Fig. 6(b)-(f) (Wiki-40B speed-up per context, 512 to 8K), via seed article 003',
    statement: "FLASH's training speed-up over Transformer++ grows with the context",
    paperValue: 'from ~1.2x at 512 to 4.9x at 8K (Wiki-40B)',
    measures: 'per timed round: training speed-up (as flash-training-speedup) at the longest training context / at the shortest training context',
    metric: (r) => asMetric(speedupGrowth(r, GROWTH_TOLERANCE)),
    timing: { reps: (r) => repsOf(speedupGrowth(r, GROWTH_TOLERANCE)) },
    expect: { atLeast: GROWTH_TOLERANCE },
    toleranceWhy:
      "Judged on direction only, like the FLASH-Quad latency claim: how much it grows depends on how costly materialised attention is on the hardware (the time ratio) and the paper's intermediate values cannot be read, so we ask whether the speed-up at the longest context exceeds the one at the shortest.",
    profiles: ['quick', 'full', 'paper'],
    expected: {
      full: {
        verdict: 'inconclusive',
        reason:
          "Measured at full (200 steps per model and context): only seed 1 has a speed-up at both ends (2.99x growth from 512 to 2048); in the other seeds FLASH did not reach Transformer++'s final loss at 512 or at 2048 within the shared 200 steps, so their growth is only a bound. The step-time ratio itself grows with context in every seed (1.09x at 512, 1.65x at 1024, 2.74x at 2048; table flash-training-speedup). With 100 steps the growth was 5.93 [4.65, 7.21], reproduced.",
        evidence: "results/reference/full/flash/claims.json and tables.json (npm run reproduce -- --only flash --profile full): flash-training-speedup-grows",
      },
    },
  },
  {
    id: 'flash-quad-quality-equal-steps',
    kind: 'paper',
    falsifiedBy: "FLASH-Quad's validation loss more than 3% above Transformer++'s at equal steps",
    paper: PAPER,
    source: 'Fig. 3 (GAU vs Transformer++ quality at equal steps) and abstract ("matches the perplexity of improved Transformers")',
    statement: 'At an equal number of training steps, FLASH-Quad reaches about the validation loss of Transformer++',
    paperValue: 'competitive / matching perplexity (no number read)',
    measures: 'val loss(FLASH-Quad) / val loss(Transformer++) at the last evaluation step both models ran, at the first training context (same batches)',
    metric: (r) => lossRatioAtEqualSteps(r, 'flash-quad'),
    expect: { atMost: 1.03 },
    toleranceWhy: 'A 3% loss gap (~0.07 nats at a byte-level loss near 2.3) is about the spread we would expect between seeds early in training; "matching" should sit inside it.',
    expected: {
      full: {
        verdict: 'not-reproduced',
        reason:
          "Measured at full (200 steps at context 512): FLASH-Quad's validation loss is 1.13x Transformer++'s (per seed 1.12, 1.13, 1.14, interval [1.11, 1.15]); after 100 steps it was 1.02 [0.96, 1.08] and after quick's 20 steps 0.91: FLASH-Quad learns faster early and Transformer++ overtakes it as training goes on, so at our scale the gap widens with steps instead of closing. The paper compares converged models at far larger scale; whether FLASH-Quad would catch up with much longer training is a hypothesis.",
        evidence: "results/reference/full/flash/claims.json and tables.json (npm run reproduce -- --only flash --profile full): flash-quad-quality-equal-steps",
      },
    },
    profiles: ['quick', 'full', 'paper'],
  },
];
