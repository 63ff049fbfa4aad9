/**
 * SGD-RER (reverseReplaySchedule + writeSgdFactors + BatchedAffineSgd, driven exactly as
 * lib/papers/rer/experiment.ts drives them: one batched affine step per stream position, a
 * lane idling on gap slots, tail sums at block ends) against its PyTorch twin (rer_twin.py:
 * the paper's backward pass over each buffer with torch.optim.SGD and autograd), together
 * with the two forward-SGD baselines of the claim (same step, and a larger step).
 * Compared: every lane's iterate at every block end, and the tail average.
 *
 * Tolerance 1e-5 relative: our factors M = I - step x x^T, N = step y x^T are rounded to
 * float32 and each of the 40 steps rounds a 3x3 product (~1e-7 each, growing at most
 * linearly in the number of steps for this contraction); the float64 twin is exact.
 */
import { selectBackend } from '../../lib/core/backend';
import { RunRng } from '../../lib/core/rng';
import { BatchedAffineSgd, bimodalSystem, LinearSystemStream, stationaryCovariance, trace, writeSgdFactors } from '../../lib/nn/linear-system';
import { reverseReplaySchedule } from '../../lib/nn/replay';
import { Agreement, encodeArray, once, runTwin, twinTest, type Encoded } from './harness';

const D = 3;
const BUFFER = 6;
const GAP = 2;
const BLOCKS = 5;
const TAIL_START = 2; // tail average over the ends of blocks 3..5
const TOL = 1e-5;

interface LaneResult {
  ends: Encoded;
  tailAverage: Encoded;
}

const setup = once(async () => {
  await selectBackend('cpu');
  const n = BLOCKS * (BUFFER + GAP);
  const rng = new RunRng(13);
  const { A } = bimodalSystem(D, 0.9, rng.stream('twin/system'));
  const traj = new LinearSystemStream(A, D, 1, rng.stream('twin/noise')).chunk(n); // (n + 1) x D, float64
  const r = trace(stationaryCovariance(A, D, 1), D);
  const lanes = [
    { name: 'sgd-rer', kind: 'rer', step: 0.5 / (r * BUFFER) },
    { name: 'sgd', kind: 'forward', step: 0.5 / (r * BUFFER) },
    { name: 'sgd-large', kind: 'forward', step: 0.5 / r },
  ];
  const dd = D * D;
  const schedule = reverseReplaySchedule(n, BUFFER, GAP);
  const sgd = new BatchedAffineSgd(lanes.length, D);
  const m = new Float32Array(lanes.length * dd);
  const nn = new Float32Array(lanes.length * dd);
  const ends: Float32Array[] = [];
  for (let s = 0; s < n; s++) {
    lanes.forEach((lane, li) => {
      const idx = lane.kind === 'rer' ? schedule[s] : s;
      const at = Math.max(idx, 0) * D;
      writeSgdFactors(m, nn, li * dd, traj, at, traj, at + D, idx >= 0 ? lane.step : 0, D);
    });
    sgd.step(m, nn);
    if ((s + 1) % (BUFFER + GAP) === 0) {
      ends.push(await sgd.readLast());
      if (ends.length === TAIL_START) sgd.resetTail();
      else if (ends.length > TAIL_START) sgd.accumulateTail();
    }
  }
  // accumulateTail runs after resetTail only for blocks TAIL_START+1..BLOCKS: the twin's ends[TAIL_START:].
  const tail = await sgd.readTailAverage();
  sgd.dispose();
  const twin = runTwin<Record<string, LaneResult>>('rer_twin', [{ trajectory: encodeArray(traj, [n + 1, D]), buffer: BUFFER, gap: GAP, tailStart: TAIL_START, lanes }]);
  const perLane = lanes.map((lane, li) => ({
    name: lane.name,
    ends: ends.flatMap((e) => Array.from(e.subarray(li * dd, (li + 1) * dd))),
    tail: Array.from(tail.subarray(li * dd, (li + 1) * dd)),
  }));
  return { perLane, twin: twin.results[0] };
});

twinTest('SGD-RER and the forward-SGD baselines: the iterate at every block end and the tail average agree with the PyTorch twin', async (t) => {
  const { perLane, twin } = await setup();
  const a = new Agreement('sgd-rer');
  for (const lane of perLane) {
    a.check(`${lane.name} iterates at block ends`, lane.ends, twin[lane.name].ends, TOL);
    a.check(`${lane.name} tail average`, lane.tail, twin[lane.name].tailAverage, TOL);
  }
  a.report(t);
});
