// The Piscina pool of the data-parallel engine: W threads running worker.js. Threads cannot run
// TypeScript, so when this module itself runs from the sources (vitest), the pool runs the
// compiled worker under dist/ (`npx tsc -p tsconfig.json` first; `npm test` does it).
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { WorkerTask } from './protocol.js';

export type WorkerPool = Piscina<WorkerTask, void>;

export function createPool(threads: number): WorkerPool {
  return new Piscina<WorkerTask, void>({
    filename: workerFile(),
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: Infinity,
    concurrentTasksPerWorker: 1,
  });
}

function workerFile(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) return join(dirname(here), 'worker.js');
  const compiled = join(resolve(dirname(here), '../../..'), 'dist', 'src', 'train', 'parallel', 'worker.js');
  if (!existsSync(compiled))
    throw new Error(`the data-parallel worker ${compiled} is not built: worker threads run compiled JavaScript, run \`npx tsc -p tsconfig.json\``);
  return compiled;
}
