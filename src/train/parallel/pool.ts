// The Piscina pool of the data-parallel engine: W threads running worker.js. Threads cannot run
// TypeScript, so when this module itself runs from the sources (vitest), the pool runs the
// compiled worker under dist/ (`npx tsc -p tsconfig.json` first; `npm test` does it).
import { Piscina } from 'piscina';
import type { ResourceLimits } from 'node:worker_threads';
import { workerFile } from '../../util/worker-url.js';
import type { WorkerTask } from './protocol.js';

export type WorkerPool = Piscina<WorkerTask, void>;

export function createPool(threads: number, resourceLimits?: ResourceLimits): WorkerPool {
  return new Piscina<WorkerTask, void>({
    resourceLimits,
    filename: workerFile(import.meta.url, './worker.js'),
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: Infinity,
    concurrentTasksPerWorker: 1,
  });
}
