// bench:startup's rows: medians over the repeats of the cold first epoch against the steady state,
// and of the time to the first epoch at 98% test accuracy, where a repeat that never got there counts.
import { describe, expect, it } from 'vitest';
import { type StartupSample, summarize } from '../bench/startup.js';

function sampleOf(seconds: number[], accuracies: number[], firstStep: number | null = null): StartupSample {
  return {
    firstStep,
    epoch1End: firstStep === null ? null : firstStep + seconds[0],
    epochs: seconds.map((s, i) => ({ seconds: s, testAccuracy: accuracies[i] })),
    arrivals: seconds.map((_, i) => 0.5 + 0.25 * (i + 1)),
    exit: 0.5 + 0.25 * seconds.length + 0.1,
  };
}

describe('bench:startup rows', () => {
  it('reports the median cold ratio, and the seconds and epochs to 98% from the spawn', () => {
    const row = summarize('train()', 2, 'fp32', [
      sampleOf([0.3, 0.2, 0.2, 0.2], [0.95, 0.97, 0.98, 0.981], 0.1),
      sampleOf([0.22, 0.2, 0.21, 0.19], [0.95, 0.975, 0.979, 0.982], 0.2),
      sampleOf([0.25, 0.25, 0.25, 0.25], [0.96, 0.98, 0.981, 0.985], 0.3),
    ]);
    expect(row.firstStepSeconds).toBeCloseTo(0.2, 12);
    expect(row.firstEpochSeconds).toBeCloseTo(0.25, 12);
    expect(row.steadyEpochSeconds).toBeCloseTo(0.2, 12);
    expect(row.coldRatio).toBeCloseTo(1.1, 12); // of 1.5, 1.1 and 1.0
    expect(row.epochsTo98).toBe(3); // of 3, 4 and 2
    expect(row.secondsTo98).toBeCloseTo(1.25, 12);
    expect(row.processSeconds).toBeCloseTo(1.6, 12);
    expect(row.testAccuracy).toBeCloseTo(0.982, 12);
  });

  it('says so when most repeats never reached 98%, and has no first step for the CLI', () => {
    const row = summarize('cli', 1, 'bf16', [sampleOf([0.2, 0.2], [0.95, 0.97]), sampleOf([0.2, 0.2], [0.95, 0.985]), sampleOf([0.2, 0.2], [0.95, 0.96])]);
    expect(row.secondsTo98).toBe('—');
    expect(row.epochsTo98).toBe('—');
    expect(row.firstStepSeconds).toBe('—');
    expect(row.coldRatio).toBe(1);
  });
});
