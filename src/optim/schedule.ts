// Learning-rate schedules, evaluated per step so that the serial and parallel trainers agree.
import { InvalidOptionError } from '../errors.js';

export type Schedule =
  | { kind: 'constant'; warmupSteps: number }
  | { kind: 'step'; everyEpochs: number; gamma: number; warmupSteps: number }
  | { kind: 'cosine'; minFactor: number; warmupSteps: number };

/** Parses 'constant', 'step:EVERY_EPOCHS:GAMMA', 'cosine' or 'cosine:MIN_FACTOR', each optionally followed by ',warmup:STEPS'. */
export function parseSchedule(text: string): Schedule {
  const [main, ...rest] = text.split(',');
  let warmupSteps = 0;
  for (const part of rest) {
    const w = /^warmup:(\d+)$/.exec(part);
    if (!w) throw new InvalidOptionError('schedule', `schedule: expected ',warmup:STEPS' after ${JSON.stringify(main)}, got ${JSON.stringify(part)}`);
    warmupSteps = Number(w[1]);
  }
  const [kind, a, b] = main.split(':');
  if (kind === 'constant' && a === undefined) return { kind, warmupSteps };
  if (kind === 'step') {
    const everyEpochs = Number(a);
    const gamma = Number(b ?? 0.1);
    if (!(Number.isInteger(everyEpochs) && everyEpochs > 0))
      throw new InvalidOptionError('schedule', `schedule step:EVERY:GAMMA needs a positive integer EVERY, got ${a}`);
    if (!(gamma > 0 && gamma <= 1)) throw new InvalidOptionError('schedule', `schedule step:EVERY:GAMMA needs GAMMA in (0, 1], got ${b}`);
    return { kind, everyEpochs, gamma, warmupSteps };
  }
  if (kind === 'cosine') {
    const minFactor = a === undefined ? 0 : Number(a);
    if (!(minFactor >= 0 && minFactor < 1)) throw new InvalidOptionError('schedule', `schedule cosine:MIN needs MIN in [0, 1), got ${a}`);
    return { kind, minFactor, warmupSteps };
  }
  throw new InvalidOptionError(
    'schedule',
    `schedule must be constant, step:EVERY:GAMMA or cosine[:MIN] (optionally ,warmup:STEPS), got ${JSON.stringify(text)}`,
  );
}

/** The learning rate of 0-based global step `step`, out of `totalSteps`, with `stepsPerEpoch` steps per epoch. */
export function learningRate(s: Schedule, baseLr: number, step: number, stepsPerEpoch: number, totalSteps: number): number {
  if (step < s.warmupSteps) return (baseLr * (step + 1)) / s.warmupSteps;
  switch (s.kind) {
    case 'constant':
      return baseLr;
    case 'step':
      return baseLr * s.gamma ** Math.floor(step / stepsPerEpoch / s.everyEpochs);
    case 'cosine': {
      const span = Math.max(1, totalSteps - s.warmupSteps);
      const progress = Math.min(1, (step - s.warmupSteps) / span);
      return baseLr * (s.minFactor + (1 - s.minFactor) * 0.5 * (1 + Math.cos(Math.PI * progress)));
    }
  }
}
