/**
 * One seed of the RER paper: a pure function of (config, ctx.seed).
 *
 * Part 1 — streaming linear system identification on tfjs. Every trial draws its own
 * A* and trajectory; the three SGD variants x trials are lanes of ONE [lanes, d, d]
 * tensor, so each stream step is one batched matMul + add whatever the lane count.
 * The data stream is generated in float64 from seeded streams, a chunk at a time.
 * Part 2 — Q-learning on a small linear MDP in float64 JS (see lib/nn/q-learning.ts).
 */
import {
  BatchedAffineSgd,
  BatchedMoments,
  bimodalSystem,
  frobeniusNorm,
  LinearSystemStream,
  olsFromMoments,
  operatorNorm,
  SgdBlockComposer,
  stationaryCovariance,
  trace,
  type Mat,
} from '../../nn/linear-system';
import {
  greedyValueGap,
  linearQ,
  maxAbsDiff,
  OnlineQ,
  QRex,
  randomLinearMdp,
  UniformBehaviour,
  UniformReplayQ,
  valueIteration,
  type QLearner,
} from '../../nn/q-learning';
import { reverseReplaySchedule } from '../../nn/replay';
import type { RunContext } from '../../harness/contract';
import type { RerConfig } from './config';
import { configCheck } from '../../harness/validate';

/**
 * Estimators of A*: the SGD lanes (tail-averaged and last iterate) and OLS. 'sgd-rer' and
 * 'sgd' share the theorem's step 1/(8RB); 'sgd-rer-shared' and 'sgd-shared' share the
 * larger step 1/(8R); 'sgd-large' is forward SGD at 1/(2R).
 */
export const SGD_LANES = ['sgd-rer', 'sgd', 'sgd-large', 'sgd-rer-shared', 'sgd-shared'] as const;
export type SgdLane = (typeof SGD_LANES)[number];
export const LINSYS_METHODS = [
  'ols',
  'sgd-rer',
  'sgd',
  'sgd-large',
  'sgd-rer-shared',
  'sgd-shared',
  'sgd-rer-last',
  'sgd-last',
  'sgd-large-last',
  'sgd-rer-shared-last',
  'sgd-shared-last',
] as const;
export type LinsysMethod = (typeof LINSYS_METHODS)[number];
export const Q_METHODS = ['q-rex', 'uniform-er', 'online-q'] as const;
export type QMethod = (typeof Q_METHODS)[number];

/** A JSON-safe number: non-finite values (a diverged estimator) are stored as null. */
export type Num = number | null;

export interface LinsysResult {
  /** Evaluation points: samples seen. */
  samples: number[];
  /** ||A_hat - A*||_2 per method, [trial][grid point]. */
  opError: Record<LinsysMethod, Num[][]>;
  /** ||A_hat - A*||_F per method, [trial][grid point]. */
  frobError: Record<LinsysMethod, Num[][]>;
  /** Per trial: R = E||x||^2 at stationarity, and the three SGD steps used. */
  stationaryR: number[];
  stepRer: number[];
  stepLarge: number[];
  stepShared: number[];
}

export interface QResult {
  samples: number[];
  /** max_{s,a} |Q_w(s,a) - Q*(s,a)| per method, [trial][grid point]. */
  qError: Record<QMethod, Num[][]>;
  /** max_s V*(s) - V^{greedy(Q_w)}(s) per method, [trial][grid point]. */
  valueGap: Record<QMethod, Num[][]>;
  /** max |Q*| per trial, to express errors relative to the scale of Q*. */
  qStarMax: number[];
}

export interface RerResult {
  linsys: LinsysResult;
  q: QResult;
}

export function doublingGrid(start: number, points: number): number[] {
  return Array.from({ length: points }, (_, i) => start * 2 ** i);
}

function num(x: number): Num {
  return Number.isFinite(x) ? x : null;
}

export function validateConfig(c: RerConfig): void {
  configCheck('rer', c)
    .integers(['dim', 'buffer', 'trials', 'gridStart', 'gridPoints', 'qStates', 'qActions', 'qFeatures', 'qBuffer', 'qBuffersPerPhase', 'qTrials', 'qGridStart', 'qGridPoints'])
    .integers(['gap', 'qGap'], { min: 0 })
    .require(c.gridStart % (c.buffer + c.gap) === 0, 'gridStart', `a multiple of buffer + gap = ${c.buffer + c.gap}`)
    .numbers(['rho'], { above: 0, below: 1 }, 'a stable system')
    .numbers(['qDiscount'], { above: 0, below: 1 })
    .numbers(['noiseStd', 'rerStepScale', 'sgdLargeStepScale', 'sharedStepScale', 'qStep']);
}

function emptyTable<K extends string>(keys: readonly K[], trials: number, points: number): Record<K, Num[][]> {
  const out = {} as Record<K, Num[][]>;
  for (const k of keys) out[k] = Array.from({ length: trials }, () => new Array<Num>(points).fill(null));
  return out;
}

async function runLinearSystem(config: RerConfig, ctx: RunContext): Promise<LinsysResult> {
  const { dim: d, trials: R, buffer: B, gap: u } = config;
  const dd = d * d;
  const lanes = SGD_LANES.length * R;
  const grid = doublingGrid(config.gridStart, config.gridPoints);
  const chunk = config.gridStart; // every grid point is a chunk boundary and a block boundary
  const totalChunks = grid[grid.length - 1] / chunk;
  const blockSize = B + u;

  const systemStream = ctx.rng.stream('linsys/system');
  const systems: Mat[] = [];
  const streams: LinearSystemStream[] = [];
  const stationaryR: number[] = [];
  const stepRer: number[] = [];
  const stepLarge: number[] = [];
  const stepShared: number[] = [];
  for (let r = 0; r < R; r++) {
    const { A } = bimodalSystem(d, config.rho, systemStream);
    systems.push(A);
    streams.push(new LinearSystemStream(A, d, config.noiseStd, ctx.rng.stream(`linsys/noise/${r}`)));
    const rr = trace(stationaryCovariance(A, d, config.noiseStd), d);
    stationaryR.push(rr);
    stepRer.push(config.rerStepScale / (rr * B));
    stepLarge.push(config.sgdLargeStepScale / rr);
    stepShared.push(config.sharedStepScale / rr);
  }
  const laneStep = (lane: SgdLane, r: number) => (lane === 'sgd-large' ? stepLarge[r] : lane === 'sgd-rer-shared' || lane === 'sgd-shared' ? stepShared[r] : stepRer[r]);
  const laneSteps = SGD_LANES.flatMap((lane) => Array.from({ length: R }, (_, r) => laneStep(lane, r)));
  const laneReversed = SGD_LANES.map((lane) => lane === 'sgd-rer' || lane === 'sgd-rer-shared');

  const schedule = reverseReplaySchedule(chunk, B, u); // chunk is a multiple of B + u: same schedule every chunk
  const sgd = new BatchedAffineSgd(lanes, d);
  const moments = new BatchedMoments(R, d);
  const m = new Float32Array(lanes * dd);
  const n = new Float32Array(lanes * dd);
  const xt = new Float32Array(R * d * chunk);
  const xs = new Float32Array(R * chunk * d);
  const yt = new Float32Array(R * d * chunk);
  const composer = new SgdBlockComposer(lanes, d);
  const opError = emptyTable(LINSYS_METHODS, R, grid.length);
  const frobError = emptyTable(LINSYS_METHODS, R, grid.length);
  const progress = ctx.progress('rer linear system', totalChunks);

  const record = (method: LinsysMethod, r: number, e: number, est: ArrayLike<number>) => {
    const err = new Float64Array(dd);
    for (let i = 0; i < dd; i++) err[i] = est[i] - systems[r][i];
    opError[method][r][e] = num(operatorNorm(err, d));
    frobError[method][r][e] = num(frobeniusNorm(err));
  };

  try {
    let e = 0;
    for (let c = 0; c < totalChunks; c++) {
      const traj = streams.map((s) => s.chunk(chunk)); // (chunk + 1) x d states per trial
      for (let r = 0; r < R; r++)
        for (let t = 0; t < chunk; t++)
          for (let i = 0; i < d; i++) {
            const x = traj[r][t * d + i];
            xt[(r * d + i) * chunk + t] = x;
            xs[(r * chunk + t) * d + i] = x;
            yt[(r * d + i) * chunk + t] = traj[r][(t + 1) * d + i];
          }
      moments.add(xt, xs, yt, chunk);

      for (let s = 0; s < chunk; s++) {
        // RER replays the buffer in reverse and idles on gap slots; forward SGD takes sample s.
        const rerIdx = schedule[s];
        for (let li = 0; li < SGD_LANES.length; li++) {
          const idx = laneReversed[li] ? rerIdx : s;
          if (idx < 0) continue;
          for (let r = 0; r < R; r++) composer.add(li * R + r, traj[r], idx * d, traj[r], (idx + 1) * d, laneSteps[li * R + r]);
        }
        // One tfjs step per block applies the block's composed updates; the tail averages use
        // the iterates at block ends (where RER has finished a buffer).
        if ((s + 1) % blockSize === 0) {
          composer.flush(m, n);
          sgd.step(m, n);
          sgd.accumulateTail();
        }
      }

      const seen = (c + 1) * chunk;
      if (seen === grid[e]) {
        const last = await sgd.readLast();
        const tail = await sgd.readTailAverage();
        const { sxx, syx } = await moments.read();
        for (let r = 0; r < R; r++) {
          const sl = (a: ArrayLike<number>, off: number) => Array.prototype.slice.call(a, off, off + dd) as number[];
          record('ols', r, e, olsFromMoments(sl(sxx, r * dd), sl(syx, r * dd), d));
          SGD_LANES.forEach((lane, li) => {
            record(lane, r, e, sl(tail, (li * R + r) * dd));
            record(`${lane}-last` as LinsysMethod, r, e, sl(last, (li * R + r) * dd));
          });
        }
        const mean = (method: LinsysMethod) => {
          const v = opError[method].map((row) => row[e]).filter((x): x is number => x !== null);
          return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
        };
        ctx.metric({
          part: 'linsys',
          samples: seen,
          opErrOls: mean('ols'),
          opErrSgdRer: mean('sgd-rer'),
          opErrSgd: mean('sgd'),
          opErrSgdLarge: mean('sgd-large'),
          opErrSgdRerShared: mean('sgd-rer-shared'),
          opErrSgdShared: mean('sgd-shared'),
        });
        // The next tail window is (T_e, T_{e+1}] = the last half of the samples at T_{e+1}.
        sgd.resetTail();
        e++;
      }
      progress.tick(1);
    }
  } finally {
    sgd.dispose();
    moments.dispose();
  }
  return { samples: grid, opError, frobError, stationaryR, stepRer, stepLarge, stepShared };
}

function runQLearning(config: RerConfig, ctx: RunContext): QResult {
  const grid = doublingGrid(config.qGridStart, config.qGridPoints);
  const total = grid[grid.length - 1];
  const qError = emptyTable(Q_METHODS, config.qTrials, grid.length);
  const valueGap = emptyTable(Q_METHODS, config.qTrials, grid.length);
  const qStarMax: number[] = [];
  const progress = ctx.progress('rer q-learning', config.qTrials);
  const period = config.qBuffersPerPhase * (config.qBuffer + config.qGap);
  for (let r = 0; r < config.qTrials; r++) {
    const mdp = randomLinearMdp(
      { states: config.qStates, actions: config.qActions, features: config.qFeatures, discount: config.qDiscount },
      ctx.rng.stream(`q/mdp/${r}`),
    );
    const qStar = valueIteration(mdp);
    qStarMax.push(qStar.reduce((a, b) => Math.max(a, Math.abs(b)), 0));
    const behaviour = new UniformBehaviour(mdp, ctx.rng.stream(`q/behaviour/${r}`));
    const learners: QLearner[] = [
      new QRex(mdp, config.qStep, config.qBuffer, config.qGap, config.qBuffersPerPhase),
      new UniformReplayQ(mdp, config.qStep, period, period, ctx.rng.stream(`q/replay/${r}`)),
      new OnlineQ(mdp, config.qStep),
    ];
    let e = 0;
    for (let t = 1; t <= total; t++) {
      const tr = behaviour.next();
      for (const l of learners) l.observe(tr);
      if (t === grid[e]) {
        for (const l of learners) {
          const q = linearQ(mdp, l.weights());
          const method = l.name as QMethod;
          qError[method][r][e] = num(maxAbsDiff(q, qStar));
          valueGap[method][r][e] = num(Number.isFinite(q[0]) ? greedyValueGap(mdp, qStar, q) : NaN);
        }
        e++;
      }
    }
    ctx.metric({ part: 'q', trial: r, samples: total, qErrQRex: qError['q-rex'][r][e - 1], qErrUniform: qError['uniform-er'][r][e - 1], qErrOnline: qError['online-q'][r][e - 1] });
    progress.tick(1);
  }
  return { samples: grid, qError, valueGap, qStarMax };
}

export async function run(config: RerConfig, ctx: RunContext): Promise<RerResult> {
  const linsys = await runLinearSystem(config, ctx);
  const q = runQLearning(config, ctx);
  return { linsys, q };
}
