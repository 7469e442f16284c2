// What the cores deliver together, which bench:scaling reports beside its results because on a VM
// it is not fixed. Two probes, each with threads of its own:
//   - the FMA peak of W threads run at once, per thread: W times one core's peak only when the
//     threads have a core each (two vCPUs that are hyperthreads of one core share its FMA units and
//     get about half each);
//   - the round trip of one cache line between two threads: every data-parallel step moves the
//     gradient and the packed weights between the workers' caches, and what that costs follows it.
// On the 2-vCPU machines these benchmarks ran on, the pair was at times two nearby cores (round trip
// 110-180 ns), at times two distant ones (420-520 ns), and at times one core's two hyperthreads
// (90-110 ns, each thread getting half of the FMA peak), changing from one minute to the next.
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Isa } from '../src/native.js';
import { workerFile } from '../src/util/worker-url.js';
import { median } from './common.js';

// A peak thread: announces itself, waits for the start, measures, posts GFLOP/s. (An eval worker is
// CommonJS, so it loads the addon's ES module by import().)
const PEAK_THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const { nativeUrl, isa, seconds, sync } = workerData;
const flags = new Int32Array(sync);
import(nativeUrl).then(({ native }) => {
  Atomics.add(flags, 0, 1);
  Atomics.wait(flags, 1, 0);
  parentPort.postMessage(native.fmaPeak(isa, seconds));
});`;

/** GFLOP/s of each of `threads` threads running the FMA loop of `isa` at the same time (their mean). */
export async function concurrentPeakGflops(isa: Isa, threads: number, seconds = 0.25): Promise<number> {
  const sync = new SharedArrayBuffer(8);
  const flags = new Int32Array(sync);
  const nativeUrl = pathToFileURL(workerFile(import.meta.url, '../src/native.js')).href;
  const workers = Array.from({ length: threads }, () => new Worker(PEAK_THREAD, { eval: true, workerData: { nativeUrl, isa, seconds, sync } }));
  const results = workers.map(
    (worker) =>
      new Promise<number>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
        worker.once('exit', (code) => reject(new Error(`peak thread exited (code ${code}) before reporting`)));
      }),
  );
  try {
    // Every thread loaded and waiting before any starts, so that they all run at once.
    const loaded = Promise.all(results);
    while (Atomics.load(flags, 0) < threads) await Promise.race([loaded, new Promise((resolve) => setTimeout(resolve, 1))]);
    Atomics.store(flags, 1, 1);
    Atomics.notify(flags, 1);
    const gflops = await loaded;
    return gflops.reduce((a, b) => a + b, 0) / threads;
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}

// The partner: answers each odd value with the next even one, until the value goes negative.
const PARTNER = `
const { workerData } = require('node:worker_threads');
const counter = new Int32Array(workerData);
for (;;) {
  const v = Atomics.load(counter, 0);
  if (v < 0) break;
  if (v % 2 === 1) Atomics.store(counter, 0, v + 1);
}`;

/** Spins a round trip may take (seconds of them) before the partner is taken for gone. */
const GIVE_UP_SPINS = 1e9;

/** A run of round trips ends after this long even if short of its count: on one core, each trip waits for a time slice. */
const RUN_SECONDS = 0.2;

/** Median nanoseconds per cache-line round trip between two threads, over `repeats` runs of up to `trips`. */
export async function lineRoundTripNanos(repeats = 5, trips = 100_000): Promise<number> {
  const counter = new Int32Array(new SharedArrayBuffer(4));
  const partner = new Worker(PARTNER, { eval: true, workerData: counter.buffer });
  const exited = new Promise<void>((resolve) => partner.once('exit', () => resolve()));
  try {
    await new Promise((resolve, reject) => {
      partner.once('online', resolve);
      partner.once('error', reject);
    });
    const samples: number[] = [];
    let value = 0;
    for (let r = 0; r < repeats; r++) {
      const start = performance.now();
      let done = 0;
      while (done < trips && (done % 16 !== 0 || performance.now() - start < RUN_SECONDS * 1000)) {
        Atomics.store(counter, 0, value + 1);
        let spins = 0;
        while (Atomics.load(counter, 0) !== value + 2) if (++spins > GIVE_UP_SPINS) throw new Error('round trip: the partner thread stopped answering');
        value += 2;
        done++;
      }
      samples.push(((performance.now() - start) * 1e6) / done);
    }
    return median(samples);
  } finally {
    Atomics.store(counter, 0, -1);
    await exited;
  }
}
