// The error of a data-parallel training whose worker thread failed: it threw, exited (process.exit
// inside it), or was ended by its heap limit. The engine has released the other workers and ended
// every thread by the time train() rejects with it.
export class WorkerFailedError extends Error {
  constructor(
    /** The worker's index, from 0. */
    readonly worker: number,
    readonly workers: number,
    /** The training step it failed in (1-based over the run's epochs), or null outside a step. */
    readonly step: number | null,
    activity: string,
    cause: Error,
  ) {
    super(`data-parallel worker ${worker} of ${workers} failed ${activity}: ${cause.message}`, { cause });
    this.name = 'WorkerFailedError';
  }
}
