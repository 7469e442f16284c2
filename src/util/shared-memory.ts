// Zeroed SharedArrayBuffers for the slabs that threads share (datasets, parameters, gradients,
// optimizer state, packed weights). A large one is advised onto huge pages before anything touches
// it: its first-touch page faults, which a VM makes dear, are then 512 times fewer (loading MNIST's
// 47 MB of images into a fresh buffer took 160 ms, 40-105 ms advised).
import { native } from '../native.js';

/** Below this a buffer spans at most one aligned 2 MiB page, if any: not worth the call. */
const HUGE_PAGE_WORTH = 4 << 20;

export function sharedBuffer(bytes: number): SharedArrayBuffer {
  const buffer = new SharedArrayBuffer(bytes);
  if (bytes >= HUGE_PAGE_WORTH) native.adviseHugePages(new Uint8Array(buffer));
  return buffer;
}
