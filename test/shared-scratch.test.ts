import { afterEach, describe, expect, it, vi } from 'vitest';
import { SharedScratch } from '../src/util/shared-scratch.js';

describe('SharedScratch', () => {
  afterEach(() => vi.useRealTimers());

  it('hands the same shared memory to calls that follow each other, grown to the largest', () => {
    const scratch = new SharedScratch(1000);
    const a = scratch.lease(400);
    expect(a.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(a.buffer.byteLength).toBe(400);
    a.release();
    const b = scratch.lease(200);
    expect(b.buffer).toBe(a.buffer);
    b.release();
    const c = scratch.lease(800);
    expect(c.buffer).not.toBe(a.buffer);
    c.release();
    expect(scratch.retainedBytes).toBe(800);
    scratch.drop();
  });

  it('gives an overlapping call memory of its own, and a double release frees nothing twice', () => {
    const scratch = new SharedScratch(1000);
    const first = scratch.lease(40);
    const second = scratch.lease(40);
    expect(second.buffer).not.toBe(first.buffer);
    second.release();
    const third = scratch.lease(40);
    expect(third.buffer).not.toBe(first.buffer);
    first.release();
    first.release();
    third.release();
    const fourth = scratch.lease(40);
    expect(fourth.buffer).toBe(first.buffer);
    expect(scratch.lease(40).buffer).not.toBe(first.buffer);
    fourth.release();
    scratch.drop();
  });

  it('lets the memory go after the idle period, and keeps it while leases follow each other', () => {
    vi.useFakeTimers();
    const scratch = new SharedScratch(1000);
    scratch.lease(40).release();
    vi.advanceTimersByTime(900);
    const again = scratch.lease(40);
    vi.advanceTimersByTime(5000);
    expect(scratch.retainedBytes).toBe(40);
    again.release();
    vi.advanceTimersByTime(999);
    expect(scratch.retainedBytes).toBe(40);
    vi.advanceTimersByTime(1);
    expect(scratch.retainedBytes).toBe(0);
  });
});
