import { describe, expect, it } from 'vitest';
import { learningRate, parseSchedule } from '../src/optim/schedule.js';

describe('learning-rate schedules', () => {
  it('constant stays at the base rate', () => {
    const s = parseSchedule('constant');
    for (const step of [0, 1, 99]) expect(learningRate(s, 0.1, step, 10, 100)).toBe(0.1);
  });

  it('step decays by gamma every N epochs', () => {
    const s = parseSchedule('step:2:0.5');
    // 10 steps per epoch: epochs 0-1 → 0.1, epochs 2-3 → 0.05, epoch 4 → 0.025
    expect(learningRate(s, 0.1, 0, 10, 100)).toBeCloseTo(0.1, 12);
    expect(learningRate(s, 0.1, 19, 10, 100)).toBeCloseTo(0.1, 12);
    expect(learningRate(s, 0.1, 20, 10, 100)).toBeCloseTo(0.05, 12);
    expect(learningRate(s, 0.1, 45, 10, 100)).toBeCloseTo(0.025, 12);
  });

  it('cosine goes from the base rate to the floor over the run', () => {
    const s = parseSchedule('cosine:0.1');
    expect(learningRate(s, 1, 0, 10, 100)).toBeCloseTo(1, 12);
    expect(learningRate(s, 1, 50, 10, 100)).toBeCloseTo(0.1 + 0.9 * 0.5, 12);
    expect(learningRate(s, 1, 100, 10, 100)).toBeCloseTo(0.1, 12);
  });

  it('linear warm-up reaches the base rate at the end of warm-up, then follows the schedule', () => {
    const s = parseSchedule('cosine,warmup:4');
    expect([0, 1, 2, 3].map((t) => learningRate(s, 0.2, t, 10, 104))).toEqual([0.05, 0.1, 0.15000000000000002, 0.2]);
    expect(learningRate(s, 0.2, 4, 10, 104)).toBeCloseTo(0.2, 12);
    expect(learningRate(s, 0.2, 104, 10, 104)).toBeCloseTo(0, 12);
  });

  it('refuses malformed schedules with a message naming the problem', () => {
    expect(() => parseSchedule('linear')).toThrow(/schedule must be/);
    expect(() => parseSchedule('step:0:0.5')).toThrow(/EVERY/);
    expect(() => parseSchedule('step:2:1.5')).toThrow(/GAMMA/);
    expect(() => parseSchedule('cosine,warm:3')).toThrow(/warmup/);
  });
});
