// The workers' blocking waits on the control block. A wait polls the word a little before sleeping
// in Atomics.wait: a barrier whose last party arrives within microseconds then costs no futex
// sleep and wake-up. Every wait also returns when the engine raised the abort flag, so that no
// worker waits forever on a partner that died.
import { Word } from './protocol.js';

/** The longest sleep between two looks at the abort flag, should its wake-up be missed. */
const WAIT_SLICE_MS = 100;

/** Waits while ints[index] === value; true when it changed, false when the engine aborted. */
export function waitForChange(ints: Int32Array, index: number, value: number, spin: number): boolean {
  for (let i = 0; i < spin && Atomics.load(ints, index) === value; i++);
  while (Atomics.load(ints, index) === value) {
    if (Atomics.load(ints, Word.Abort) !== 0) return false;
    Atomics.wait(ints, index, value, WAIT_SLICE_MS);
  }
  return Atomics.load(ints, Word.Abort) === 0;
}

/**
 * A reusable barrier of `parties` threads over two words: an arrival count and a generation that
 * the last arrival advances (and whose waiters it wakes). Because each use advances the generation
 * by one, the generation also counts completed uses: the main thread waits on it (asynchronously)
 * to learn that every worker finished a command.
 */
export class Barrier {
  constructor(
    private readonly ints: Int32Array,
    private readonly parties: number,
    private readonly arrived: Word,
    private readonly generation: Word,
    private readonly spin: number,
  ) {}

  /** Returns once all parties arrived: true, or false when the engine aborted. */
  arrive(): boolean {
    const generation = Atomics.load(this.ints, this.generation);
    if (this.arriveLast()) return Atomics.load(this.ints, Word.Abort) === 0;
    return waitForChange(this.ints, this.generation, generation, this.spin);
  }

  /** Arrives without waiting for the others (the main thread waits instead). */
  leave(): void {
    this.arriveLast();
  }

  private arriveLast(): boolean {
    const { ints } = this;
    if (Atomics.add(ints, this.arrived, 1) !== this.parties - 1) return false;
    // Reset before advancing: nobody arrives for the next use until the generation moved.
    Atomics.store(ints, this.arrived, 0);
    Atomics.add(ints, this.generation, 1);
    Atomics.notify(ints, this.generation);
    return true;
  }
}
