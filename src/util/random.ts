// The one seeded generator (xoshiro128**, seeded through splitmix32), so that the same seed gives
// bit-identical initial weights, shuffles and splits on every machine and in every worker, and a
// failing test case replays exactly.
import { InvalidOptionError } from '../errors.js';

export interface RandomState {
  words: number[];
  spareNormal: number | null;
}

export class Random {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spareNormal: number | undefined;

  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new InvalidOptionError('seed', `seed must be a finite number, got ${seed}`);
    let x = (seed >>> 0) ^ Math.floor(seed / 2 ** 32);
    const next = () => {
      // splitmix32: spreads any seed (0 included) over a non-zero state.
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
  }

  /** The generator's whole state, as JSON-able numbers: a training checkpoint stores it. */
  state(): RandomState {
    return { words: [this.s0, this.s1, this.s2, this.s3].map((w) => w >>> 0), spareNormal: this.spareNormal ?? null };
  }

  /** A generator that continues exactly where the one whose state() this is stood. */
  static fromState(state: RandomState): Random {
    const { words, spareNormal } = state;
    if (!(Array.isArray(words) && words.length === 4 && words.every((w) => Number.isInteger(w) && w >= 0 && w < 2 ** 32) && words.some((w) => w !== 0)))
      throw new RangeError(`a random generator state needs 4 unsigned 32-bit words, not all zero, got ${JSON.stringify(words)}`);
    if (!(spareNormal === null || Number.isFinite(spareNormal)))
      throw new RangeError(`a random generator state's spareNormal must be null or a finite number, got ${JSON.stringify(spareNormal)}`);
    const r = new Random(0);
    [r.s0, r.s1, r.s2, r.s3] = words.map((w) => w | 0);
    r.spareNormal = spareNormal ?? undefined;
    return r;
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [lo, hi), [0, 1) by default, from 53 random bits. */
  uniform(lo = 0, hi = 1): number {
    const top = this.nextUint32() >>> 5; // 27 bits
    const bottom = this.nextUint32() >>> 6; // 26 bits
    const u = (top * 67108864 + bottom) / 9007199254740992;
    return lo === 0 && hi === 1 ? u : lo + (hi - lo) * u;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Standard normal (Box–Muller, using both values it produces). */
  normal(): number {
    if (this.spareNormal !== undefined) {
      const v = this.spareNormal;
      this.spareNormal = undefined;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    const theta = 2 * Math.PI * this.uniform();
    this.spareNormal = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /** Fisher–Yates shuffle in place. */
  shuffle<T extends { length: number; [i: number]: number }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
