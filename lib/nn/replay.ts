/**
 * Experience-replay orders for a single Markovian stream.
 *
 * Reverse experience replay (RER; Jain et al. 2021, arXiv:2103.05896, and Q-Rex,
 * Agarwal et al. 2022, arXiv:2110.08440): cut the stream into blocks of `buffer + gap`
 * consecutive samples; the first `buffer` samples of each block are replayed in REVERSE
 * order, the last `gap` samples are thrown away so that consecutive buffers are nearly
 * independent. Processing a buffer backwards means that when a sample's noise enters
 * the update, the samples that depend on that noise (its successors) have already been
 * used: that is what removes the bias forward SGD has on Markovian data.
 *
 * Uniform replay (the DQN habit) keeps the last `capacity` samples and draws from them
 * uniformly with replacement.
 */
import type { Stream } from '../core/rng';

function checkBufferGap(buffer: number, gap: number): void {
  if (!Number.isInteger(buffer) || buffer < 1) throw new RangeError(`buffer must be a positive integer, got ${buffer}`);
  if (!Number.isInteger(gap) || gap < 0) throw new RangeError(`gap must be a non-negative integer, got ${gap}`);
}

/**
 * The per-step schedule of RER over stream positions 0..n-1: entry s is the index of
 * the sample processed at step s, or -1 where nothing is processed (a gap slot).
 * Within block k (positions k*S .. k*S+S-1, S = buffer + gap) the first `buffer`
 * steps process samples k*S+buffer-1 down to k*S; the last `gap` steps are idle.
 * At every block end the iterate is exactly the RER iterate after that buffer.
 * An incomplete last block is replayed in reverse over what exists of its buffer part.
 */
export function reverseReplaySchedule(n: number, buffer: number, gap: number): Int32Array {
  checkBufferGap(buffer, gap);
  const S = buffer + gap;
  const out = new Int32Array(n).fill(-1);
  for (let start = 0; start < n; start += S) {
    const end = Math.min(start + buffer, n); // exclusive end of the buffer part
    for (let j = 0; start + j < end; j++) out[start + j] = end - 1 - j;
  }
  return out;
}

/** The samples RER processes over a stream of n samples, in processing order (gaps skipped). */
export function reverseReplayOrder(n: number, buffer: number, gap: number): number[] {
  return Array.from(reverseReplaySchedule(n, buffer, gap)).filter((i) => i >= 0);
}

/** A ring buffer of the last `capacity` items, sampled uniformly with replacement. */
export class UniformReplay<T> {
  private readonly items: T[] = [];
  private next = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
  }

  get size(): number {
    return this.items.length;
  }

  push(item: T): void {
    if (this.items.length < this.capacity) this.items.push(item);
    else this.items[this.next] = item;
    this.next = (this.next + 1) % this.capacity;
  }

  sample(stream: Stream): T {
    if (this.items.length === 0) throw new RangeError('cannot sample from an empty replay memory');
    return this.items[stream.int(this.items.length)];
  }
}
