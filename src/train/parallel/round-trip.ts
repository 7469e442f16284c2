// How far apart the workers' cores are: at the start of each epoch worker 0 times a shared word's
// round trip to every other worker. Each worker packs the weight rows it updated into the shared
// packed weights, which the others read in their next forward pass (and its shard's X for the
// weight-gradient blocks, which the others read in the same step). When two cores share no cache,
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
/** Values one epoch's probe stores: the trips' and the closing one. */
const SPAN = 2 * GROUP * GROUPS + 2;

/**
 * After this long, worker 0 starts no more groups of trips to a partner (they take ~30 µs in all): on
 * a machine busy with other work, a partner without a core of its own holds up each trip for a time slice.
 */
const BUDGET_MS = 1;

/** The values a probe uses in an epoch: none is what any word holds from the epoch before. */
export function probeBase(epoch: number): number {
  return (epoch % 1_000_000) * SPAN;
}

/**
 * Worker 0's side: the round trip in nanoseconds to the farthest other worker, each timed as the
 * fastest group's mean (at least one group); null when the engine aborted.
 */
export function leadRoundTrips(control: Control, base: number): number | null {
  const { ints } = control;
  let farthest = 0;
  for (let w = 1; w < control.workers; w++) {
    const word = control.probe(w);
    const deadline = performance.now() + BUDGET_MS;
    let fastest = Infinity;
    for (let g = 0, value = base; g < GROUPS && (g === 0 || performance.now() < deadline); g++) {
      const start = performance.now();
      for (let i = 0; i < GROUP; i++, value += 2) {
        Atomics.store(ints, word, value + 1);
        if (!spinUntil(ints, word, value + 2)) return null;
      }
      fastest = Math.min(fastest, ((performance.now() - start) * 1e6) / GROUP);
    }
    Atomics.store(ints, word, base + SPAN - 1);
    farthest = Math.max(farthest, fastest);
  }
  return farthest;
}

/** Worker w's side (w > 0): answers worker 0's trips until it closes the probe; false when the engine aborted. */
export function answerRoundTrips(control: Control, w: number, base: number): boolean {
  const { ints } = control;
  const word = control.probe(w);
  const close = base + SPAN - 1;
  for (let ping = base + 1; ; ping += 2) {
    let seen = Atomics.load(ints, word);
    while (seen !== ping && seen !== close) {
      if (Atomics.load(ints, Word.Abort) !== 0) return false;
      seen = Atomics.load(ints, word);
    }
    if (seen === close) return true;
    Atomics.store(ints, word, ping + 1);
  }
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
