// How far apart the workers' cores are: at the start of each epoch worker 0 times a shared word's
// round trip to every other worker. Each worker packs the weight rows it updated into the shared
// packed weights, which the others read in their next forward pass. When two cores share no cache,
// every line a worker writes must first be taken back from its reader's cache, one round trip per
// line, and the packing waits for them: stores that go past the caches do not wait. On cores that
// share a cache they cost more than they save, since the writer's own next read then goes to memory.
// Measured on the 2 vCPUs of a shared VM, whose hypervisor moves them between physical cores from one
// minute to the next (784-128-10 at batch 128, 2 workers, alternating both ways in one process): a
// step 6–12% faster with past-cache packs on cores 470–500 ns apart, 1–7% slower on cores 120–160 ns
// apart. Hence the probe every epoch rather than once.
import { performance } from 'node:perf_hooks';
import { type Control, Word } from './protocol.js';

/**
 * A round trip (as this probe times it, in JavaScript) above which two cores share no cache. Here it
 * timed 150–270 ns between cores that share one (a C ping-pong: 120–140 ns), 420–490 ns between
 * cores that do not (C: 440–480 ns).
 */
export const FAR_NANOS = 350;

/** Round trips per group, and groups: the probe takes the fastest group's mean, so that a trip whose partner was preempted spoils only its group. */
const GROUP = 16;
const GROUPS = 4;

/** The values a probe's trips use in an epoch: distinct from the last epoch's, whatever a word holds. */
export function probeBase(epoch: number): number {
  return (epoch % 1_000_000) * 2 * GROUP * GROUPS;
}

/**
 * Worker 0's side: the round trip in nanoseconds to the farthest other worker, each timed as the
 * fastest group's mean; NaN when the engine aborted.
 */
export function leadRoundTrips(control: Control, base: number): number {
  const { ints } = control;
  let farthest = 0;
  for (let w = 1; w < control.workers; w++) {
    const word = control.probe(w);
    let fastest = Infinity;
    for (let g = 0, value = base; g < GROUPS; g++) {
      const start = performance.now();
      for (let i = 0; i < GROUP; i++, value += 2) {
        Atomics.store(ints, word, value + 1);
        if (!spinUntil(ints, word, value + 2)) return NaN;
      }
      fastest = Math.min(fastest, ((performance.now() - start) * 1e6) / GROUP);
    }
    farthest = Math.max(farthest, fastest);
  }
  return farthest;
}

/** Worker w's side (w > 0): answers worker 0's trips; false when the engine aborted. */
export function answerRoundTrips(control: Control, w: number, base: number): boolean {
  const { ints } = control;
  const word = control.probe(w);
  for (let value = base; value < base + 2 * GROUP * GROUPS; value += 2) {
    if (!spinUntil(ints, word, value + 1)) return false;
    Atomics.store(ints, word, value + 2);
  }
  return true;
}

/**
 * Polls until ints[index] holds `value`, never sleeping: a sleeper would miss the store, which
 * notifies no one (a notify would add its own cost to every trip). Only run while every worker has a
 * core of its own. False when the engine aborted.
 */
function spinUntil(ints: Int32Array, index: number, value: number): boolean {
  while (Atomics.load(ints, index) !== value) if (Atomics.load(ints, Word.Abort) !== 0) return false;
  return true;
}
