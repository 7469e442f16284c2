// The workers' blocking waits on the control block. A wait polls the word for a while before
// sleeping in Atomics.wait: waking a sleeping thread costs 50-100 µs on a virtual machine, more
// than a barrier usually waits. Every wait also returns when the engine raised the abort flag, so
// that no worker waits forever on a partner that died.
import { performance } from 'node:perf_hooks';
import { Word } from './protocol.js';

/** The longest sleep between two looks at the abort flag, should its wake-up be missed. */
const WAIT_SLICE_MS = 100;

/** Polls between two looks at the clock (an Atomics.load costs ~20 ns, the clock ~50 ns). */
const POLLS = 64;

/**
 * Waits while ints[index] === value, polling for `spinMicros` before sleeping; true when it
 * changed, false when the engine aborted.
 */
export function waitForChange(ints: Int32Array, index: number, value: number, spinMicros: number): boolean {
  if (!(spinMicros > 0 && spins(ints, index, value, spinMicros))) sleep(ints, index, value);
  return Atomics.load(ints, Word.Abort) === 0;
}

/**
 * Polls for up to `spinMicros`; true when the word changed. A function of its own, holding nothing
 * but the loop: V8 compiles a long-running loop on the stack (on-stack replacement), and when that
 * code also held the sleep, which no wait had reached yet, every later wait that slept threw the
 * worker back into the interpreter and kept V8 compiling on the cores the workers need.
 */
function spins(ints: Int32Array, index: number, value: number, spinMicros: number): boolean {
  const deadline = performance.now() + spinMicros / 1000;
  do {
    for (let i = 0; i < POLLS; i++) if (Atomics.load(ints, index) !== value) return true;
  } while (performance.now() < deadline);
  return false;
}

/** Sleeps while ints[index] === value, until it changes or the engine aborts. */
function sleep(ints: Int32Array, index: number, value: number): void {
  while (Atomics.load(ints, index) === value && Atomics.load(ints, Word.Abort) === 0) Atomics.wait(ints, index, value, WAIT_SLICE_MS);
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
    private readonly spinMicros: number,
  ) {}

  /**
   * Returns once all parties arrived: true, or false when the engine aborted. The last to arrive
   * runs `last` before it releases the others, who then all see what it wrote. The others call
   * `meanwhile` until it finds nothing to do (returns false) or everyone arrived.
   */
  arrive(last?: () => void, meanwhile?: () => boolean): boolean {
    const generation = Atomics.load(this.ints, this.generation);
    if (this.arriveLast(last)) return Atomics.load(this.ints, Word.Abort) === 0;
    if (meanwhile) while (Atomics.load(this.ints, this.generation) === generation && meanwhile());
    return waitForChange(this.ints, this.generation, generation, this.spinMicros);
  }

  /** Arrives without waiting for the others (the main thread waits instead). */
  leave(): void {
    this.arriveLast();
  }

  private arriveLast(last?: () => void): boolean {
    const { ints } = this;
    if (Atomics.add(ints, this.arrived, 1) !== this.parties - 1) return false;
    last?.();
    // Reset before advancing: nobody arrives for the next use until the generation moved.
    Atomics.store(ints, this.arrived, 0);
    Atomics.add(ints, this.generation, 1);
    Atomics.notify(ints, this.generation);
    return true;
  }
}

type WaitAsync = (
  array: Int32Array,
  index: number,
  value: number,
  timeoutMs?: number,
) => { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };

/** Atomics.waitAsync: ES2024, in Node since 16, not yet in this project's ES2022 type library. */
export const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;
