// The Piscina pool of the data-parallel engine: W threads running worker.js. Threads cannot run
// TypeScript, so when this module itself runs from the sources (vitest), the pool runs the
// compiled worker under dist/ (`npx tsc -p tsconfig.json` first; `npm test` does it).
import type { ResourceLimits } from 'node:worker_threads';
import type { Piscina } from 'piscina';
import { createThreadPool, whenLoaded } from '../../util/thread-pool.js';
import { workerFile } from '../../util/worker-url.js';
import type { WorkerTask } from './protocol.js';

export type WorkerPool = Piscina<WorkerTask, void>;

/** Threads started ahead of their engine by startPool, until an engine takes them. */
let started: { threads: number; pool: WorkerPool } | null = null;

/**
 * Starts `threads` threads for the next engine of as many workers: they boot and load the worker's
 * modules while the caller goes on (the CLI loads the data meanwhile), instead of after. Threads
 * that no engine takes never keep the process alive (Piscina unrefs idle threads).
 */
export function startPool(threads: number): WorkerPool {
  if (started?.threads !== threads) {
    if (started) void closePool(started.pool);
    started = { threads, pool: newPool(threads) };
  }
  return started.pool;
}

/** The threads startPool started, when they are as many; otherwise a new pool. */
export function createPool(threads: number, resourceLimits?: ResourceLimits): WorkerPool {
  const ready = started;
  started = null;
  if (ready && ready.threads === threads && !resourceLimits) return ready.pool;
  if (ready) void closePool(ready.pool);
  return newPool(threads, resourceLimits);
}

/** Destroys the pool once its threads have loaded the worker module (util/thread-pool.ts). */
export async function closePool(pool: WorkerPool): Promise<void> {
  await whenLoaded(pool);
  await pool.destroy();
}

function newPool(threads: number, resourceLimits?: ResourceLimits): WorkerPool {
  return createThreadPool<WorkerTask, void>({
    resourceLimits,
    filename: workerFile(import.meta.url, './worker.js'),
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: Infinity,
    concurrentTasksPerWorker: 1,
  });
}
