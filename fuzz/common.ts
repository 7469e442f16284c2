// What the fuzz campaigns share: the outcome of one case and the per-case random generator.
import { Random } from '../src/util/random.js';

/** ok, the name of an expected error class, or a failure to report with its reason. */
export type Outcome = { kind: 'failure'; message: string } | { kind: string; message?: undefined };

export interface Campaign {
  /** Runs case `r` and says how it ended. */
  run(r: Random): Outcome | Promise<Outcome>;
  /** The input of case `r` without running it, for the report of a case that crashed or hung. */
  describe(r: Random): string | Promise<string>;
  /** Ends helper threads and removes temporary files (kept with `keep`, for a reported case). */
  close(keep?: boolean): Promise<void>;
}

/** Case i of a run seeded `seed`: each case has its own generator, so any case replays alone. */
export function caseRandom(seed: number, i: number): Random {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(i + 1, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  return new Random((h ^ (h >>> 15)) >>> 0);
}

export function pick<T>(r: Random, items: readonly T[]): T {
  return items[r.int(items.length)];
}
