// A region of shared memory kept between calls for data that must reach worker threads but arrives
// in the caller's own memory. A fresh SharedArrayBuffer of tens of MB costs a page fault per page on
// its first write, which dwarfs the copy itself; kept, the copy is one memcpy. One call at a time
// holds the region (an overlapping call gets memory of its own, so no call sees another's data), it
// grows to the largest request, and it is let go after an idle period so that it does not pin the
// memory of one large batch for the life of the process.
import { sharedBuffer } from './shared-memory.js';

export interface ScratchLease {
  /** `length` floats of shared memory, the holder's until release(). */
  floats: Float32Array;
  /** Gives the memory back; further calls do nothing. */
  release(): void;
}

export class SharedScratch {
  private buffer: SharedArrayBuffer | null = null;
  private leased = false;
  private idleTimer: NodeJS.Timeout | null = null;

  constructor(private readonly idleMs: number) {}

  /** Shared floats for one holder at a time; a request while the region is held gets fresh memory. */
  lease(length: number): ScratchLease {
    const bytes = length * Float32Array.BYTES_PER_ELEMENT;
    if (this.leased) return { floats: new Float32Array(sharedBuffer(bytes)), release: () => {} };
    this.cancelIdleTimer();
    if (!this.buffer || this.buffer.byteLength < bytes) this.buffer = sharedBuffer(bytes);
    this.leased = true;
    let held = true;
    return {
      floats: new Float32Array(this.buffer, 0, length),
      release: () => {
        if (!held) return;
        held = false;
        this.leased = false;
        this.idleTimer = setTimeout(() => this.drop(), this.idleMs).unref();
      },
    };
  }

  /** Whether memory is kept for the next lease (for tests of the idle release). */
  get retainedBytes(): number {
    return this.buffer?.byteLength ?? 0;
  }

  /** Lets go of the kept memory now; a lease in progress keeps its own until it is released. */
  drop(): void {
    this.cancelIdleTimer();
    this.buffer = null;
  }

  private cancelIdleTimer(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }
}
