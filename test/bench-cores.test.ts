// The probes bench:scaling reports beside its results: real threads, measured while they run.
import { describe, expect, it } from 'vitest';
import { concurrentPeakGflops, lineRoundTripNanos } from '../bench/cores.js';
import { native } from '../src/native.js';

describe('the core probes', () => {
  it('measures a cache-line round trip with a partner thread', async () => {
    const nanos = await lineRoundTripNanos(3, 2000);
    // Two atomic stores and the loads between them take more than a nanosecond. No upper bound: on a
    // loaded machine the partner waits for a time slice on every trip.
    expect(nanos).toBeGreaterThan(1);
    expect(Number.isFinite(nanos)).toBe(true);
  });

  it('runs the FMA loop on several threads at once, each reporting a rate', async () => {
    const gflops = await concurrentPeakGflops(native.isa(), 2, 0.02);
    // Any CPU that runs the tests does more than 0.1 GFLOP/s per thread, and no core does 10 TFLOP/s.
    expect(gflops).toBeGreaterThan(0.1);
    expect(gflops).toBeLessThan(1e4);
  });

  it('rejects an ISA the CPU lacks, from the threads', async () => {
    await expect(concurrentPeakGflops('bogus' as never, 1, 0.02)).rejects.toThrow(/argument 'isa' must be an ISA this CPU supports/);
  });
});
