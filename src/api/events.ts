// Training as an async iterator of events, for `for await` loops and streams: a thin layer over
// train()'s onStep/onEpoch callbacks. Training never waits for the consumer (events are queued
// without bound); an error or abort of the training is thrown by the iterator after the events
// that preceded it; leaving the loop early aborts the training and waits until it has stopped.
// Training starts at the iterator's first next(), as generators do.
import type { Model } from '../nn/model.js';
import type { TrainingData } from '../train/data.js';
import type { EpochEvent, StepEvent, TrainOptions } from '../train/options.js';
import { type TrainHistory, train } from '../train/trainer.js';

/** The fields of the CLI's `done` JSON line, and the whole history. */
export interface DoneEvent {
  event: 'done';
  testAccuracy: number | null;
  /** Epochs trained. */
  epochs: number;
  seconds: number;
  workers: number;
  history: TrainHistory;
}

export type TrainEvent = StepEvent | EpochEvent | DoneEvent;

export async function* trainEvents(model: Model, data: TrainingData, options: TrainOptions = {}): AsyncGenerator<TrainEvent, void, undefined> {
  const queue: TrainEvent[] = [];
  let head = 0;
  let wake: (() => void) | null = null;
  let settled = false;
  let failure: { error: unknown } | null = null;
  const push = (e: TrainEvent) => {
    queue.push(e);
    wake?.();
  };
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  const training = train(model, data, {
    ...options,
    signal,
    onStep: (e) => {
      options.onStep?.(e);
      push(e);
    },
    onEpoch: (e) => {
      options.onEpoch?.(e);
      push(e);
    },
  }).then(
    (history) => {
      settled = true;
      const { testAccuracy, seconds, workers } = history;
      push({ event: 'done', testAccuracy, epochs: history.epochs.length, seconds, workers, history });
    },
    (error: unknown) => {
      settled = true;
      failure = { error };
      wake?.();
    },
  );
  try {
    for (;;) {
      if (head < queue.length) {
        const e = queue[head++];
        if (head > 1024 && head * 2 > queue.length) {
          // Drop consumed events in bulk rather than shifting the array on every one.
          queue.splice(0, head);
          head = 0;
        }
        yield e;
      } else if (settled) {
        if (failure) throw (failure as { error: unknown }).error;
        return;
      } else {
        await new Promise<void>((resolve) => (wake = resolve));
        wake = null;
      }
    }
  } finally {
    if (!settled) {
      stop.abort();
      await training;
    }
  }
}
