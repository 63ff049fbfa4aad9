/**
 * Reverse experience replay (RER).
 *
 * Papers:
 * - Jain, Kowshik, Nagaraj, Netrapalli, "Streaming Linear System Identification with
 *   Reverse Experience Replay", NeurIPS 2021, https://arxiv.org/abs/2103.05896
 * - Agarwal, Chaudhuri, Jain, Nagaraj, Netrapalli, "Online Target Q-learning with Reverse
 *   Experience Replay: Efficiently finding the Optimal Policy for Linear MDPs", ICLR 2022,
 *   https://arxiv.org/abs/2110.08440
 *
 * Part 1 (tfjs): identify A* of x_{t+1} = A* x_t + eta_t from one trajectory with OLS,
 * forward SGD and SGD-RER; operator-norm error vs samples on a doubling grid. SGD-RER and
 * forward SGD run at the theorem's step 1/(8 R B) and again at a shared larger step
 * 1/(8 R); forward SGD also at its usual step 1/(2 R). The system
 * ("RandBiMod": d = 5, eigenvalues 0.9 and 0.3, sigma = 1, buffer 100, gap 10, step
 * 1/(8 R B)) follows a public reproduction's settings attributed to the paper (the paper's
 * own experiment section was not readable here; see README.md).
 * Part 2 (float64 JS): Q-Rex vs Q-learning with uniform replay vs online Q-learning on a
 * small random linear MDP (our construction); sup-norm Q error and greedy-policy value gap.
 *
 * Cost on the 2-core CI machine, wasm backend. The SGD updates of a block are composed in
 * float64 JS (5 lanes x trials, O(d^2) per sample and lane) and applied by one batched tfjs
 * step per block; the Q-learning half is float64 JS. Measured Nov 2026 on the shared machine:
 * - smoke: 3,520 samples x 2 trials, 1 seed — about a second (tests also run it on cpu);
 * - quick: 225,280 samples x 8 trials, 3 seeds — about 6–7 s of CPU per seed (11–20 s wall
 *   per seed at a 1-minute load of ~9 on 2 cores); the per-sample tfjs version with 3 lanes
 *   took 9–12 s of CPU per seed, interleaved on the same machine;
 * - full:  901,120 samples x 16 trials, 3 seeds — about 4x quick's samples x 2x its trials
 *   (results/reference/full/rer/run.json has the measured time); paper is the same size.
 *
 * Run:  npm run reproduce -- --only rer --profile quick
 * Override any key, e.g.: npm run reproduce -- --only rer --profile quick --set trials=4 --set gridPoints=8
 */
import type { ProfileName } from '../../harness/contract';

export interface RerConfig {
  // --- linear system identification (tfjs) ---
  /** State dimension d. */
  dim: number;
  /** Spectral radius of A*; half the eigenvalues are rho, the rest rho/3. */
  rho: number;
  /** Noise standard deviation sigma. */
  noiseStd: number;
  /** RER buffer size B (samples replayed in reverse). */
  buffer: number;
  /** RER gap u (samples discarded after each buffer). */
  gap: number;
  /** SGD-RER step = rerStepScale / (R * B), R = E||x||^2 at stationarity (paper-style 1/(8RB)). Forward SGD uses the same step. */
  rerStepScale: number;
  /** A second forward SGD at the usual constant step sgdLargeStepScale / R (1/(2R)). */
  sgdLargeStepScale: number;
  /**
   * A second SGD-RER / forward SGD pair sharing the larger step sharedStepScale / R (1/(8R)):
   * the order comparison at a step where forward SGD's correlation bias is not tiny.
   */
  sharedStepScale: number;
  /** Independent trajectories (each with its own A*) per seed, batched in one tensor. */
  trials: number;
  /** First evaluation point (samples); a multiple of buffer + gap. The grid doubles from there. */
  gridStart: number;
  /** Number of evaluation points: T = gridStart * 2^i, i < gridPoints. */
  gridPoints: number;
  // --- Q-learning on a linear MDP (float64 JS) ---
  qStates: number;
  qActions: number;
  qFeatures: number;
  qDiscount: number;
  /** Step size of every Q learner. */
  qStep: number;
  /** Q-Rex buffer size and gap. */
  qBuffer: number;
  qGap: number;
  /** Buffers per online-target phase (the target copy is refreshed after each phase); the uniform-replay learner uses the same period in steps. */
  qBuffersPerPhase: number;
  qTrials: number;
  qGridStart: number;
  qGridPoints: number;
}

const base: RerConfig = {
  dim: 5,
  rho: 0.9,
  noiseStd: 1,
  buffer: 100,
  gap: 10,
  rerStepScale: 0.125,
  sgdLargeStepScale: 0.5,
  sharedStepScale: 0.125,
  trials: 8,
  gridStart: 880,
  gridPoints: 9,
  qStates: 20,
  qActions: 3,
  qFeatures: 6,
  qDiscount: 0.9,
  qStep: 0.1,
  qBuffer: 50,
  qGap: 5,
  qBuffersPerPhase: 50,
  qTrials: 8,
  qGridStart: 2000,
  qGridPoints: 8,
};

export const PROFILES: Record<ProfileName, RerConfig> = {
  smoke: { ...base, trials: 2, gridPoints: 3, qStates: 10, qActions: 2, qFeatures: 4, qBuffer: 20, qBuffersPerPhase: 20, qTrials: 2, qGridStart: 1000, qGridPoints: 3 },
  quick: { ...base },
  // The same size as full: RER needs no GPU; kept so every paper has the same profiles.
  paper: { ...base, trials: 16, gridPoints: 11, qTrials: 16, qGridPoints: 10 },
  full: { ...base, trials: 16, gridPoints: 11, qTrials: 16, qGridPoints: 10 },
};

export const DEFAULT_SEEDS: Record<ProfileName, number[]> = {
  smoke: [1],
  quick: [1, 2, 3],
  full: [1, 2, 3],
  paper: [1, 2, 3],
};
