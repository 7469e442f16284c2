// A region of shared memory kept between calls, for what a call exchanges with worker threads. A
// fresh SharedArrayBuffer of tens of MB costs a page fault per page on its first write, which dwarfs
// a copy into kept memory; and every fresh one a thread has seen stays alive until that thread
// collects its garbage, which an idle thread does lazily (megabytes per call pile up). One call at a
// time holds the region (an overlapping call gets memory of its own, so no call sees another's
// data), it grows to the largest request, and it is let go after an idle period so that it does not
// pin the memory of one large batch for the life of the process.
import { sharedBuffer } from './shared-memory.js';

export interface ScratchLease {
  /** At least the bytes asked for, the holder's until release(). */
  buffer: SharedArrayBuffer;
  /** Gives the memory back; further calls do nothing. */
  release(): void;
}

export class SharedScratch {
  private buffer: SharedArrayBuffer | null = null;
  private leased = false;
  private idleTimer: NodeJS.Timeout | null = null;

  constructor(private readonly idleMs: number) {}

  /** Shared memory for one holder at a time; a request while the region is held gets fresh memory. */
  lease(bytes: number): ScratchLease {
    if (this.leased) return { buffer: sharedBuffer(bytes), release: () => {} };
    this.cancelIdleTimer();
    if (!this.buffer || this.buffer.byteLength < bytes) this.buffer = sharedBuffer(bytes);
    this.leased = true;
    let held = true;
    return {
      buffer: this.buffer,
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
