// The Piscina pool of the data-parallel engine: W threads running worker.js. Threads cannot run
// TypeScript, so when this module itself runs from the sources (vitest), the pool runs the
// compiled worker under dist/ (`npx tsc -p tsconfig.json` first; `npm test` does it).
import { performance } from 'node:perf_hooks';
import type { ResourceLimits } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { workerFile } from '../../util/worker-url.js';
import { waitAsync } from './barrier.js';
import type { WorkerTask } from './protocol.js';

export type WorkerPool = Piscina<WorkerTask, void>;

/**
 * Per pool, its thread count and how many of its threads have loaded the worker module (worker.ts
 * counts itself in). Node aborts the whole process when a thread is stopped while it loads an ES
 * module, so a pool is destroyed only once every thread has loaded it: closePool.
 */
const boots = new WeakMap<WorkerPool, { threads: number; booted: Int32Array }>();

/** How long closePool waits for threads still booting (one that failed to load never counts in). */
const BOOT_WAIT_MS = 10_000;

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

/** Destroys the pool once its threads have booted (or BOOT_WAIT_MS has passed). */
export async function closePool(pool: WorkerPool): Promise<void> {
  const boot = boots.get(pool);
  if (boot) {
    const deadline = performance.now() + BOOT_WAIT_MS;
    for (let n = Atomics.load(boot.booted, 0); n < boot.threads && performance.now() < deadline; n = Atomics.load(boot.booted, 0))
      await waitAsync(boot.booted, 0, n, deadline - performance.now()).value;
  }
  await pool.destroy();
}

function newPool(threads: number, resourceLimits?: ResourceLimits): WorkerPool {
  const booted = new Int32Array(new SharedArrayBuffer(4));
  const pool = new Piscina<WorkerTask, void>({
    resourceLimits,
    filename: workerFile(import.meta.url, './worker.js'),
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: Infinity,
    concurrentTasksPerWorker: 1,
    workerData: { booted },
  });
  boots.set(pool, { threads, booted });
  return pool;
}
