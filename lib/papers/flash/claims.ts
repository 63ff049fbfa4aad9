/**
 * The FLASH claims, as data. Tolerances were fixed before the first quick run and are
 * not to be tuned to the results (ARCHITECTURE.md §5).
 *
 * The baseline of every claim is OUR Transformer++: tfjs, multi-head softmax attention
 * with the [T, T] matrix materialised (no fused attention kernel). Against a fused kernel
 * (PyTorch SDPA, bf16) the PyTorch H100 anchor (lib/papers/flash/anchor.ts) shows Transformer++ almost flat and faster
 * than FLASH; none of these claims speaks to that baseline.
 *
 * Paper numbers: the abstract's speed-ups are confirmed (ar5iv / arXiv abstract); the
 * latency figures (Fig. 5(a) masked LM on C4, Fig. 6(a) autoregressive LM on Wiki-40B) are
 * read through seed article 003 ("Combiner, Performer and FLASH latency stays roughly
 * constant", "at 8192 FLASH-Quad is 2x faster than Transformer++"), and Table 3's 12.1x
 * (PG-19, 8K) likewise; the figures' own values could not be read here.
 */
import type { Claim, NotRun } from '../../harness/contract';
import { firstCrossing } from '../../harness/metrics';
import type { ModelId } from './config';
import type { EvalPoint, FlashResult } from './experiment';

const PAPER = 'arXiv:2202.10447';

/** First measured training time at which `curve` reaches `target` (val loss <= target); null if never. */
export function timeToReach(curve: EvalPoint[], target: number): number | null {
  return firstCrossing(curve.map((p) => p.seconds), curve.map((p) => p.valLoss), target);
}

export interface Speedup {
  /** Transformer++'s final validation loss: the quality to reach. */
  target: number;
  /** Seconds Transformer++ took to first reach it. */
  baselineSeconds: number;
  /** Seconds the other model took to reach it, or null if it never did. */
  modelSeconds: number | null;
  /** baselineSeconds / modelSeconds; when not reached, an upper bound: baselineSeconds / the model's total seconds. */
  speedup: number;
  reached: boolean;
}

/** Training speed-up of `model` over Transformer++ to Transformer++'s own final validation loss (same run, same hardware). */
export function speedupOverTransformer(r: FlashResult, model: ModelId): Speedup {
  const base = r.train.curves.transformer;
  const target = base[base.length - 1].valLoss;
  const baselineSeconds = timeToReach(base, target) as number;
  const curve = r.train.curves[model];
  const modelSeconds = timeToReach(curve, target);
  const reached = modelSeconds !== null;
  const speedup = baselineSeconds / (reached ? (modelSeconds as number) : curve[curve.length - 1].seconds);
  return { target, baselineSeconds, modelSeconds, speedup, reached };
}

/** Indices of the first context >= the chunk size and of the longest context. */
function latencyPair(r: FlashResult, chunk: number): [number, number] | NotRun {
  const cs = r.latency.contexts;
  const lo = cs.findIndex((t) => t >= chunk);
  const hi = cs.indexOf(Math.max(...cs));
  if (lo < 0 || hi <= lo) return { notRun: `needs two contexts >= the chunk size (${chunk}); the sweep has ${cs.join(', ')}`, precondition: 'config' };
  return [lo, hi];
}

function stepRatio(r: FlashResult, num: ModelId, den: ModelId, at: 'longest'): number {
  const i = r.latency.contexts.indexOf(Math.max(...r.latency.contexts));
  void at;
  return r.latency.stepMs[num][i] / r.latency.stepMs[den][i];
}

/** Validation loss of `model` / Transformer++ at the last step both evaluated. */
export function lossRatioAtEqualSteps(r: FlashResult, model: ModelId): number | NotRun {
  const base = new Map(r.train.curves.transformer.map((p) => [p.step, p.valLoss]));
  const common = r.train.curves[model].filter((p) => p.step > 0 && base.has(p.step));
  if (common.length === 0) return { notRun: 'no evaluation step in common with Transformer++', precondition: 'config' };
  const last = common[common.length - 1];
  return last.valLoss / (base.get(last.step) as number);
}

export const claims: Claim<FlashResult>[] = [
  {
    id: 'flash-latency-flat',
    kind: 'paper',
    falsifiedBy: 'FLASH step time growing by more than 1.5x from the shortest to the longest context (as quadratic attention does)',
    paper: PAPER,
    source: 'Fig. 5(a) and Fig. 6(a) (latency per training step vs context), via seed article 003',
    statement: 'At a fixed number of tokens per batch, FLASH step time stays roughly flat as the context grows',
    paperValue: '"roughly constant" from 512 to 8192 (no number read); PyTorch H100 anchor (lib/papers/flash/anchor.ts): 1.01x from 512 to 8192',
    measures: 'FLASH step time at the longest context / at the shortest context >= chunk size (fwd + bwd + Adam, fixed tokens per batch)',
    metric: (r) => {
      const p = latencyPair(r, r.latency.chunkSize);
      if (!Array.isArray(p)) return p;
      return r.latency.stepMs.flash[p[1]] / r.latency.stepMs.flash[p[0]];
    },
    expect: { atMost: 1.5 },
    toleranceWhy:
      'Once T >= C the work per token of mixed chunk attention is independent of T except the chunk prefix sum (a [G, G] matMul, small next to the chunk kernels); 1.5x over an 8-16x range of contexts leaves room for that term, per-op overheads and a shared machine, yet is far below the ~linear growth of quadratic attention.',
    profiles: ['quick', 'full'],
  },
  {
    id: 'flash-tpp-latency-grows',
    kind: 'check',
    falsifiedBy: 'a sanity bound on the baseline: materialised attention is quadratic in the context, so its step time must grow',
    paper: PAPER,
    source: 'Fig. 5(a) and Fig. 6(a), via seed article 003',
    statement: 'Transformer++ step time grows with the context at a fixed number of tokens per batch',
    paperValue: 'grows with context (no number read); PyTorch H100 anchor, materialised attention: 4.4x from 512 to 8192',
    measures: 'Transformer++ step time at the longest context / at the shortest context >= chunk size (same pair as flash-latency-flat)',
    metric: (r) => {
      const p = latencyPair(r, r.latency.chunkSize);
      if (!Array.isArray(p)) return p;
      return r.latency.stepMs.transformer[p[1]] / r.latency.stepMs.transformer[p[0]];
    },
    expect: { atLeast: 2 },
    toleranceWhy:
      'Attention cost per token is linear in T for materialised attention; with the dense layers a fixed cost, an 8-16x context range should at least double the step (the anchor grows 4.4x over 16x at width 512, where dense layers weigh more than at our widths).',
    profiles: ['quick', 'full'],
  },
  {
    id: 'flash-faster-than-tpp-at-longest',
    kind: 'paper',
    falsifiedBy: 'a FLASH step less than 1.5x faster than a Transformer++ step at the longest context',
    paper: PAPER,
    source: 'Fig. 6(a) (FLASH has the lowest latency at long contexts), via seed article 003',
    statement: 'At the longest context, a FLASH training step is faster than a Transformer++ step',
    paperValue: 'FLASH lowest latency (no number read); PyTorch H100 anchor: naive Transformer++ / FLASH = 4.4x at 8192',
    measures: 'Transformer++ step time / FLASH step time at the longest context of the sweep',
    metric: (r) => stepRatio(r, 'transformer', 'flash', 'longest'),
    expect: { atLeast: 1.5 },
    toleranceWhy: 'Follows from the two claims above if they hold; 1.5x is a margin no timing noise on a shared machine produces, and well below the anchor\'s 4.4x at 8192 since our longest context is shorter at quick.',
    profiles: ['quick', 'full'],
  },
  {
    id: 'flash-quad-faster-than-tpp-at-longest',
    kind: 'paper',
    falsifiedBy: 'a FLASH-Quad step no faster than a Transformer++ step at the longest context',
    paper: PAPER,
    source: 'Fig. 5(a), via seed article 003 ("at 8192 FLASH-Quad is 2x faster than Transformer++")',
    statement: 'At the longest context, FLASH-Quad (quadratic GAU) trains faster per step than Transformer++',
    paperValue: '~2x at 8192 (TPU, C4 masked LM); PyTorch H100 anchor: 0.53x (FLASH-Quad slower)',
    measures: 'Transformer++ step time / FLASH-Quad step time at the longest context of the sweep',
    metric: (r) => stepRatio(r, 'transformer', 'flash-quad', 'longest'),
    expect: { atLeast: 1.0 },
    toleranceWhy:
      'Judged on direction only: the 2x depends on the accelerator (the PyTorch anchor on an H100 measures the opposite), so we only ask whether FLASH-Quad is faster at all.',
    profiles: ['quick', 'full'],
    expected: {
      quick: { verdict: 'not-reproduced', reason: 'at quick\'s longest context (2048) the ratio sits at ~1.0 on wasm: 1.10 and 0.995 in two idle runs of the CI machine (2026-11-23), so it falls on either side of the tolerance; FLASH-Quad\'s quadratic attention is as costly as Transformer++\'s there. The paper\'s ~2x is at 8K (judged at full; the PyTorch H100 anchor in lib/papers/flash/anchor.ts does not show it either).', hypothesis: true },
    },
  },
  {
    id: 'flash-training-speedup',
    kind: 'paper',
    falsifiedBy: "FLASH taking more than 1/1.2 of Transformer++'s wall time to reach Transformer++'s final validation loss",
    paper: PAPER,
    source: 'abstract (confirmed); Fig. 6(b)-(f) Wiki-40B 1.2-4.9x growing with context and Table 3 PG-19 12.1x at 8K, via seed article 003',
    statement: 'FLASH reaches the final validation loss of Transformer++ in less wall time (same run, same hardware)',
    paperValue: '1.2-4.9x (Wiki-40B, 512..8K), 12.1x (PG-19, 8K); abstract: "up to 4.9x on Wiki-40B and 12.1x on PG-19"',
    measures:
      'seconds for Transformer++ to reach its own final val loss / seconds for FLASH to reach the same loss, at train.context; times interpolated linearly between evaluations; if FLASH never reaches it, the value is an upper bound (not-run unless that bound already fails)',
    metric: (r) => {
      const s = speedupOverTransformer(r, 'flash');
      if (!s.reached && s.speedup >= 1.2) return { outcome: 'inconclusive', reason: `FLASH did not reach Transformer++'s final loss ${s.target.toFixed(3)} within its steps; the speed-up is only bounded above by ${s.speedup.toFixed(2)}` };
      return s.speedup;
    },
    expect: { atLeast: 1.2 },
    toleranceWhy: 'The lower end of the paper\'s Wiki-40B range, which it reports at its shortest context (512); our training contexts are 512 (quick) and 2048 (full), where the paper\'s speed-up is at least that.',
    profiles: ['quick', 'full'],
    expected: {
      quick: { verdict: 'not-reproduced', reason: 'measured 1.15x on the idle 2-core CI machine (2026-11-23): at context 512 (two chunks of 256) FLASH\'s step costs about what Transformer++\'s does on wasm, so its lead in loss per step buys little wall time; the paper\'s 1.2x is its own lower end, at 512 on TPU. A timing ratio: it moves with machine load (a loaded run bounded it at 2.1x).', hypothesis: true },
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
    measures: 'val loss(FLASH-Quad) / val loss(Transformer++) at the last evaluation step both models ran',
    metric: (r) => lossRatioAtEqualSteps(r, 'flash-quad'),
    expect: { atMost: 1.03 },
    toleranceWhy: 'A 3% loss gap (~0.07 nats at a byte-level loss near 2.3) is about the spread we would expect between seeds early in training; "matching" should sit inside it.',
    profiles: ['quick', 'full'],
  },
];
