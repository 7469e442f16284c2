// Piscina pools that are never stopped while one of their threads still loads its task file: Node
// aborts the whole process when a thread is stopped inside the loading of an ES module (Piscina
// loads the task file with require, which for an ES module is Node's require(esm)), and a pool closed
// right after it started, or while it grows, would do that. Each thread records its id once its task
// file has loaded (markLoaded, at the task file's top level); whenLoaded waits until every thread the
// pool has then is among them.
import { performance } from 'node:perf_hooks';
import { threadId, workerData } from 'node:worker_threads';
import { Piscina } from 'piscina';

type PoolOptions = NonNullable<ConstructorParameters<typeof Piscina>[0]>;

/** Thread ids a pool remembers (a ring: only a pool that started more threads than this forgets the first). */
const SLOTS = 4096;
/** How long whenLoaded waits, at most, for threads still loading (one that failed to load never records itself). */
const LOAD_WAIT_MS = 10_000;
const POLL_MS = 5;

/** Per pool: [count, thread ids…] of the threads that have loaded its task file. */
const loadedBy = new WeakMap<Piscina, Int32Array>();

export function createThreadPool<T, R>(options: Omit<PoolOptions, 'workerData'>): Piscina<T, R> {
  const loaded = new Int32Array(new SharedArrayBuffer(4 * (1 + SLOTS)));
  const pool = new Piscina<T, R>({ ...options, workerData: { loaded } });
  loadedBy.set(pool, loaded);
  return pool;
}

/** In a pool's task file, at its top level: this thread has loaded it. */
export function markLoaded(): void {
  const loaded = (workerData as { loaded?: Int32Array } | null)?.loaded;
  if (!loaded) return;
  Atomics.store(loaded, 1 + (Atomics.add(loaded, 0, 1) % SLOTS), threadId);
}

/** Resolves once every thread the pool has has loaded its task file (or after LOAD_WAIT_MS). */
export async function whenLoaded(pool: Piscina): Promise<void> {
  const loaded = loadedBy.get(pool);
  if (!loaded) return;
  const deadline = performance.now() + LOAD_WAIT_MS;
  for (;;) {
    const ids = new Set(loaded.subarray(1, 1 + Math.min(Atomics.load(loaded, 0), SLOTS)));
    if (pool.threads.every((t) => ids.has(t.threadId)) || performance.now() >= deadline) return;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
