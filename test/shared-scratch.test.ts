import { afterEach, describe, expect, it, vi } from 'vitest';
import { SharedScratch } from '../src/util/shared-scratch.js';

describe('SharedScratch', () => {
  afterEach(() => vi.useRealTimers());

  it('hands the same shared memory to calls that follow each other, grown to the largest', () => {
    const scratch = new SharedScratch(1000);
    const a = scratch.lease(100);
    expect(a.floats.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(a.floats.length).toBe(100);
    a.release();
    const b = scratch.lease(50);
    expect(b.floats.buffer).toBe(a.floats.buffer);
    expect(b.floats.length).toBe(50);
    b.release();
    const c = scratch.lease(200);
    expect(c.floats.buffer).not.toBe(a.floats.buffer);
    c.release();
    expect(scratch.retainedBytes).toBe(800);
    scratch.drop();
  });

  it('gives an overlapping call memory of its own, and a double release frees nothing twice', () => {
    const scratch = new SharedScratch(1000);
    const first = scratch.lease(10);
    const second = scratch.lease(10);
    expect(second.floats.buffer).not.toBe(first.floats.buffer);
    second.release();
    const third = scratch.lease(10);
    expect(third.floats.buffer).not.toBe(first.floats.buffer);
    first.release();
    first.release();
    third.release();
    const fourth = scratch.lease(10);
    expect(fourth.floats.buffer).toBe(first.floats.buffer);
    expect(scratch.lease(10).floats.buffer).not.toBe(first.floats.buffer);
    fourth.release();
    scratch.drop();
  });

  it('lets the memory go after the idle period, and keeps it while leases follow each other', () => {
    vi.useFakeTimers();
    const scratch = new SharedScratch(1000);
    scratch.lease(10).release();
    vi.advanceTimersByTime(900);
    const again = scratch.lease(10);
    vi.advanceTimersByTime(5000);
    expect(scratch.retainedBytes).toBe(40);
    again.release();
    vi.advanceTimersByTime(999);
    expect(scratch.retainedBytes).toBe(40);
    vi.advanceTimersByTime(1);
    expect(scratch.retainedBytes).toBe(0);
  });
});
