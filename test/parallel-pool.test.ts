// The engine's threads started ahead (startPool): the next pool of as many threads is that one;
// a pool of another size, or with resource limits, is a new one, and the started threads are dropped.
import { describe, expect, it } from 'vitest';
import { createPool, startPool } from '../src/train/parallel/pool.js';

describe('startPool', () => {
  it('hands its threads, once, to the next createPool of as many', async () => {
    const started = startPool(2);
    expect(startPool(2)).toBe(started);
    const taken = createPool(2);
    const fresh = createPool(2);
    try {
      expect(taken).toBe(started);
      expect(fresh).not.toBe(started);
      await Promise.all([taken.run({ kind: 'ping' }), taken.run({ kind: 'ping' })]);
      expect(taken.threads).toHaveLength(2);
    } finally {
      await Promise.all([taken.destroy(), fresh.destroy()]);
    }
  });

  it('is not taken by a pool of another size or with resource limits, which drop it', async () => {
    const one = startPool(1);
    const other = createPool(2);
    const again = startPool(1);
    const limited = createPool(1, { maxOldGenerationSizeMb: 64 });
    const later = createPool(1);
    try {
      expect(other).not.toBe(one);
      expect(other.options.maxThreads).toBe(2);
      expect(limited).not.toBe(again);
      expect(limited.options.resourceLimits?.maxOldGenerationSizeMb).toBe(64);
      expect(later).not.toBe(again);
    } finally {
      await Promise.all([other.destroy(), limited.destroy(), later.destroy()]);
    }
  });
});
