/**
 * Mixture-of-Experts with Expert Choice routing.
 *
 * Paper: Zhou, Lei, Liu, Du, Huang, Zhao, Dai, Chen, Le, Laudon, "Mixture-of-Experts with
 * Expert Choice Routing", NeurIPS 2022, https://arxiv.org/abs/2202.09368
 * Reference router: google/flaxformer flaxformer/architectures/moe/routing.py
 * (ExpertsChooseMaskedRouter, TokensChooseMaskedRouter, _load_balancing_loss).
 *
 * What runs: a byte-level decoder LM (lib/nn/transformer.ts TransformerLM: pre-RMSNorm,
 * RoPE, GLU) on the State of the Union corpus, with an MoE feed-forward (lib/nn/moe.ts)
 * in every other block (blocks 1, 3, ...), trained once per router from the SAME
 * initial weights on the SAME batches: expert choice (EC), token-choice top-2 (GShard)
 * and top-1 (Switch), with a load-balancing loss for the token-choice routers.
 *
 * Equal compute (our choice, stated): every router gets the same expert buffers,
 * C = capacityFactor * groupSize / experts slots per expert and group, capacityFactor = 2
 * for all three. EC fills all 2·groupSize slots (each token is processed 2 times on
 * average, like top-2); top-2 asks for exactly 2·groupSize assignments (so any imbalance
 * drops some); top-1 asks for half as many (its padded buffers cost the same FLOPs, it
 * uses at most half). This is the paper's EC-CF2 vs top-2 comparison at equal
 * compute; top-1 at capacity factor 2 is Switch's usual setting.
 *
 * Cost on the 2-core CI machine, wasm backend (measured Nov 2026):
 * - smoke: 2 layers, width 32, 4 experts, 6 steps x 3 routers + an experts sweep of 1
 *   (EC and top-2 at 8 experts), 1 seed — a few seconds.
 * - quick: 4 layers, width 64, 8 experts, 512 tokens/step routed per sequence (64 tokens),
 *   150 steps x 3 routers, 3 seeds — about 107 s of CPU per seed (154–258 s wall per seed at
 *   a 1-minute load of 7.5–14 on the 2 shared cores); the uniform-routing null adds under a
 *   second. No experts sweep: each extra router costs ~1/3 of a seed.
 * - full: quick's model, 1,600 steps x 3 routers plus EC and top-2 at 16 experts, 3 seeds —
 *   about 12 min of CPU a seed, under 40 min wall with --jobs 2 here (the measured time is in
 *   results/reference/full/expert-choice/run.json); 600 steps (the earlier full) showed the
 *   speed-up over top-2 still creeping up with training length, so full trains longer;
 * - paper (one H100, webgpu; not run here, no GPU was lent to this task): 4 layers, width 256,
 *   32 experts, 4096 tokens/step in groups of 256, 600 steps x 3 routers x 3 seeds, plus the
 *   experts sweep (EC and top-2 at 8 and 16 experts: 4 more router runs per seed, smaller
 *   MoE layers) — the 3 routers were sized for ≤ 8 min; the sweep roughly doubles that.
 *
 * Run:  npm run reproduce -- --only expert-choice --profile quick
 * Override, e.g.: npm run reproduce -- --only expert-choice --profile quick --set steps=400 --set experts=16
 */
import type { ProfileName } from '../../harness/contract';

export interface ExpertChoiceConfig {
  // --- model (TransformerLM, byte vocabulary) ---
  width: number;
  depth: number;
  heads: number;
  /** Hidden size of the dense GLU blocks and of every expert's GLU. */
  ffnHidden: number;
  // --- MoE ---
  experts: number;
  /** Routers trained, in order: any of expert-choice, top2, top1. */
  routers: string[];
  /** C = ceil(capacityFactor * groupSize / experts) slots per expert and group, same for every router. */
  capacityFactor: number;
  /** Tokens routed together (whole sequences: a multiple of seqLen that divides batch*seqLen). */
  groupSize: number;
  /** Weight of the Switch load-balancing loss (token choice only; Switch uses 1e-2). */
  auxLossWeight: number;
  // --- training ---
  batchSize: number;
  seqLen: number;
  steps: number;
  learningRate: number;
  /** Linear warm-up steps of the learning rate. */
  warmupSteps: number;
  evalEvery: number;
  /** Validation batches (of batchSize x seqLen) per evaluation. */
  evalBatches: number;
  /** Fraction of the last training steps whose routing makes the experts-per-token histogram and the EC thresholds. */
  tailFraction: number;
  // --- nulls and trends ---
  /**
   * Simulated steps of uniform random token-choice routing (same tokens per step, groups,
   * experts, capacity and MoE layers): the null the token-choice load claims must beat.
   */
  nullSteps: number;
  /** Extra expert counts at which expert choice and top-2 are trained again (the speed-up's trend with experts); empty: none. */
  expertsSweep: number[];
}

const base: ExpertChoiceConfig = {
  width: 64,
  depth: 4,
  heads: 4,
  ffnHidden: 128,
  experts: 8,
  routers: ['expert-choice', 'top2', 'top1'],
  capacityFactor: 2,
  groupSize: 64,
  auxLossWeight: 0.01,
  batchSize: 8,
  seqLen: 64,
  steps: 150,
  learningRate: 3e-3,
  warmupSteps: 15,
  evalEvery: 15,
  evalBatches: 4,
  tailFraction: 0.25,
  nullSteps: 2000,
  expertsSweep: [],
};

export const PROFILES: Record<ProfileName, ExpertChoiceConfig> = {
  smoke: { ...base, width: 32, depth: 2, heads: 2, ffnHidden: 64, experts: 4, batchSize: 4, seqLen: 32, groupSize: 32, steps: 6, warmupSteps: 2, evalEvery: 3, evalBatches: 1, tailFraction: 0.5, nullSteps: 100, expertsSweep: [8] },
  // No experts sweep at quick: each extra router costs ~1/3 of a seed's budget on the 2-core machine.
  quick: { ...base },
  // Sized for one GPU (webgpu): never run on this CPU; its code path is covered at smoke.
  paper: { ...base, width: 256, depth: 4, heads: 8, ffnHidden: 512, experts: 32, batchSize: 16, seqLen: 256, groupSize: 256, steps: 600, learningRate: 1e-3, warmupSteps: 60, evalEvery: 50, evalBatches: 4, expertsSweep: [8, 16] },
  // The CPU's full: quick's model trained ~11x longer, and EC and top-2 again at 16 experts (the trend with experts).
  full: { ...base, steps: 1600, warmupSteps: 160, evalEvery: 80, expertsSweep: [16] },
};

export const DEFAULT_SEEDS: Record<ProfileName, number[]> = {
  smoke: [1],
  quick: [1, 2, 3],
  full: [1, 2, 3],
  paper: [1, 2, 3],
};
