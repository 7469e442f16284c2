// What train() rejects with when its signal aborts: an AbortError that keeps the run's work, the
// history of every completed epoch and where its checkpoint was written.
import type { TrainHistory } from './trainer.js';

export class TrainingAbortedError extends Error {
  override readonly name = 'AbortError';
  constructor(
    /** The completed epochs (stopReason 'aborted'); the model holds the parameters of the last of them. */
    readonly history: TrainHistory,
    /** The checkpoint of the last completed epoch, written on the way out (null without the checkpoint option). */
    readonly checkpoint: string | null,
    /** The signal's reason. */
    reason: unknown,
  ) {
    const done = history.epochs.length === 0 ? 'before the first epoch completed' : `after epoch ${history.epochs[history.epochs.length - 1].epoch}`;
    super(`training aborted ${done}${checkpoint ? `; the checkpoint is ${checkpoint}` : ''}`, { cause: reason });
  }
}
