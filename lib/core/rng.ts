/**
 * Named, seeded random streams derived from one run seed (ARCHITECTURE.md §4).
 *
 * Every consumer of randomness asks for its own stream by name, so adding a new
 * consumer never shifts the numbers another one sees. tfjs has no global seed:
 * every initializer / sampler gets an explicit integer seed from `tfSeed(name)`.
 */
import seedrandom from 'seedrandom';

export interface Stream {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Standard normal (Box–Muller, both halves used). */
  normal(): number;
  /** Fisher–Yates permutation of 0..n-1. */
  permutation(n: number): Int32Array;
  /** In-place Fisher–Yates shuffle; returns the same array. */
  shuffle<T>(items: T[]): T[];
  /** A fresh positive 31-bit integer, usable as a tfjs seed (never 0: some tfjs samplers treat 0 as "unseeded"). */
  seed(): number;
}

class SeededStream implements Stream {
  private readonly prng: seedrandom.PRNG;
  private spare: number | null = null;

  constructor(key: string) {
    this.prng = seedrandom.alea(key);
  }

  next(): number {
    return this.prng();
  }

  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0) throw new RangeError(`int(n) needs a positive integer n, got ${n}`);
    return Math.floor(this.prng() * n);
  }

  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.prng();
    const v = this.prng();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(this.prng() * (i + 1));
      const t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }

  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.prng() * (i + 1));
      const t = items[i];
      items[i] = items[j];
      items[j] = t;
    }
    return items;
  }

  seed(): number {
    return 1 + Math.floor(this.prng() * 0x7ffffffe);
  }
}

/** The randomness of one run: a seed and the streams derived from it. */
export class RunRng {
  constructor(readonly seed: number) {
    if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  }

  /** An independent stream; the same (seed, name) always yields the same sequence. */
  stream(name: string): Stream {
    return new SeededStream(`${this.seed}/${name}`);
  }

  /** A seed for one tfjs initializer or sampler, stable per (run seed, name). */
  tfSeed(name: string): number {
    return this.stream(`tf/${name}`).seed();
  }
}
