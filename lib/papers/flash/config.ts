/**
 * FLASH — Hua, Dai, Liu, Le, "Transformer Quality in Linear Time", ICML 2022,
 * https://arxiv.org/abs/2202.10447
 *
 * Three byte-level decoder LMs on the State of the Union corpus (lib/data, vocabulary 256):
 * - Transformer++: the shared TransformerLM (pre-RMSNorm, RoPE, multi-head softmax
 *   attention with the [T, T] matrix materialised, GELU-GLU feed-forward);
 * - FLASH-Quad: 2x as many GAU layers, quadratic relu² attention over the whole context;
 * - FLASH: the same GAU layers with mixed chunk attention (chunk `chunkSize`).
 *
 * Every step has `latency.tokensPerBatch` tokens (batch = tokensPerBatch / context), so a
 * training step and a timed step are the same computation. At every context of
 * `latency.contexts` a Transformer++ and a FLASH run in lockstep on the same batches
 * (FLASH-Quad too at the longest context); at the contexts of `train.contexts` they train
 * for `train.steps` steps with a validation evaluation every `evalEvery` steps, elsewhere
 * they only take the warm-up and timed steps. The last `latency.timedSteps` steps are timed
 * in rounds, one ctx.exclusive section per round, the contenders interleaved (every
 * context's Transformer++, FLASH and FLASH-Quad, then again): per-round paired step
 * times. FLASH-Quad also trains `train.flashQuadSteps` steps at the first training
 * context, in lockstep with Transformer++ there (quality at equal steps).
 * The training speed-up at a context = Transformer++'s steps to its own final validation
 * loss x its step time / (FLASH's steps to that loss x FLASH's step time), per timed round.
 * Losses are a pure function of the seed; the clock never decides what runs.
 *
 * Our choices (the paper's defaults are only visible in third-party ports: group 256,
 * expansion 2, s = 128): expansion e = 2 x width, s = 128 (quick and full: 32), chunk 256 at
 * paper (quick and full: 64), Adam at a constant learning rate, RMSNorm everywhere.
 *
 * Cost (2-core CPU, wasm; paper on one H100 through webgpu):
 * - smoke: tiny models, contexts 16/32 — a few seconds;
 * - quick: width 64, contexts 256..2048 at 2048 tokens per step; training at 512, 1024
 *   and 2048 for 20 steps each (41K tokens per model and context) — sized to cost no more
 *   per seed than the former single-context quick (~140 s a seed on the CI machine with two
 *   jobs); 3 seeds;
 * - full:  quick's model and contexts, 200 training steps per model and context (10x quick),
 *   3 seeds — about 9 min of CPU a seed, under 30 min wall with --jobs 2 on the 2-core machine
 *   (its run.json in results/reference/full/flash/ has the measured time); 4096 aborts the
 *   wasm heap, so the contexts cannot grow and the budget goes to training length;
 * - paper: width 256, contexts 512..8192 at 8192 tokens per step, training at 512, 2048
 *   and 8192 — sized for one H100 (not run here), 3 seeds.
 *
 * Run:  npm run reproduce -- --only flash --profile quick
 *       npm run reproduce -- --only flash --profile quick --set train.contexts=512,2048 --set train.steps=40
 */
import type { ProfileName } from '../../harness/contract';

export const MODEL_IDS = ['transformer', 'flash-quad', 'flash'] as const;
export type ModelId = (typeof MODEL_IDS)[number];
export const MODEL_LABEL: Record<ModelId, string> = {
  transformer: 'Transformer++ (materialised softmax attention)',
  'flash-quad': 'FLASH-Quad (GAU, quadratic)',
  flash: 'FLASH (GAU, mixed chunk)',
};

export interface FlashModelConfig {
  /** Model width d (all three models). */
  width: number;
  /** Transformer++ layers (MHSA + GLU each). */
  transformerDepth: number;
  heads: number;
  /** GLU hidden width of Transformer++ (8d/3 keeps its layer at ~12 d² parameters, like 2 GAUs). */
  ffnHidden: number;
  /** GAU layers of FLASH-Quad and FLASH (paper: 2 per Transformer++ layer). */
  gauDepth: number;
  /** e: GAU value/gate width (paper: 2d). */
  expansion: number;
  /** s: width of the shared low-dimensional z. */
  qkDim: number;
  /** C: chunk length of FLASH's mixed chunk attention. */
  chunkSize: number;
}

export interface FlashConfig {
  model: FlashModelConfig;
  latency: {
    /** Context lengths, increasing; each must be a multiple of chunkSize or at most it. */
    contexts: number[];
    /** Tokens per step, training and timing alike: batch size = tokensPerBatch / context. */
    tokensPerBatch: number;
    /** Untimed steps before the timed ones of a model built only to be timed (trained models are warm already). */
    warmupSteps: number;
    /** Timed rounds (>= 5): the last steps, each round one ctx.exclusive section with every contender interleaved. */
    timedSteps: number;
  };
  train: {
    /** Contexts (a subset of latency.contexts) at which Transformer++ and FLASH train; FLASH-Quad trains at the first. */
    contexts: number[];
    learningRate: number;
    /** Training steps of Transformer++ and FLASH at every training context (the last latency.timedSteps are timed). */
    steps: number;
    /** Training steps of FLASH-Quad at the first training context (quality at equal steps). */
    flashQuadSteps: number;
    /** Evaluate every this many steps (and at the last step). */
    evalEvery: number;
    /** Validation tokens per evaluation: fixed windows per context (evalTokens / context of them), shared by the models. */
    evalTokens: number;
  };
}

const quickModel: FlashModelConfig = { width: 64, transformerDepth: 2, heads: 4, ffnHidden: 170, gauDepth: 4, expansion: 128, qkDim: 32, chunkSize: 64 };

export const PROFILES: Record<ProfileName, FlashConfig> = {
  smoke: {
    model: { width: 16, transformerDepth: 1, heads: 2, ffnHidden: 42, gauDepth: 2, expansion: 32, qkDim: 8, chunkSize: 8 },
    latency: { contexts: [8, 16, 32], tokensPerBatch: 64, warmupSteps: 1, timedSteps: 5 },
    train: { contexts: [16, 32], learningRate: 3e-3, steps: 8, flashQuadSteps: 8, evalEvery: 4, evalTokens: 64 },
  },
  quick: {
    model: quickModel,
    latency: { contexts: [256, 512, 1024, 2048], tokensPerBatch: 2048, warmupSteps: 1, timedSteps: 5 },
    // A fixed token budget per context (20 x 2048 tokens), the most that fits the per-seed budget (config.ts header).
    train: { contexts: [512, 1024, 2048], learningRate: 3e-3, steps: 20, flashQuadSteps: 20, evalEvery: 4, evalTokens: 4096 },
  },
  // Sized for one GPU (webgpu): never run on this CPU; its code path is covered at smoke.
  paper: {
    model: { width: 256, transformerDepth: 4, heads: 4, ffnHidden: 682, gauDepth: 8, expansion: 512, qkDim: 128, chunkSize: 256 },
    latency: { contexts: [512, 1024, 2048, 4096, 8192], tokensPerBatch: 8192, warmupSteps: 2, timedSteps: 10 },
    train: { contexts: [512, 2048, 8192], learningRate: 2e-3, steps: 400, flashQuadSteps: 400, evalEvery: 25, evalTokens: 32768 },
  },
  // The CPU's full: quick's model and contexts trained 10x longer (200 steps = 410K tokens per model
  // and context). Context 4096 does not fit: a Transformer++ step at 4096 tokens aborts the wasm
  // heap (measured 2026-11-30), so 2048 is the longest context trained or timed here.
  full: {
    model: quickModel,
    latency: { contexts: [256, 512, 1024, 2048], tokensPerBatch: 2048, warmupSteps: 1, timedSteps: 5 },
    train: { contexts: [512, 1024, 2048], learningRate: 3e-3, steps: 200, flashQuadSteps: 200, evalEvery: 20, evalTokens: 4096 },
  },
};

export const DEFAULT_SEEDS: Record<ProfileName, number[]> = {
  smoke: [1],
  quick: [1, 2, 3],
  full: [1, 2, 3],
  paper: [1, 2, 3],
};
