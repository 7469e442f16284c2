// Zeroed SharedArrayBuffers for the slabs that threads share (datasets, parameters, gradients,
// optimizer state, packed weights). A large one is advised onto huge pages before anything touches
// it: its first-touch page faults, which a VM makes dear, are then 512 times fewer.
import { native } from '../native.js';

/** Below this a buffer spans at most one aligned 2 MiB page, if any: not worth the call. */
const HUGE_PAGE_WORTH = 4 << 20;

export function sharedBuffer(bytes: number): SharedArrayBuffer {
  const buffer = new SharedArrayBuffer(bytes);
  if (bytes >= HUGE_PAGE_WORTH) native.adviseHugePages(new Uint8Array(buffer));
  return buffer;
}

export function sharedBytes(length: number): Uint8Array {
  return new Uint8Array(sharedBuffer(length));
}

export function sharedFloats(length: number): Float32Array {
  return new Float32Array(sharedBuffer(length * Float32Array.BYTES_PER_ELEMENT));
}

/** Shared floats starting on a 64-byte boundary, as a packed SGEMM operand must. */
export function alignedSharedFloats(length: number): Float32Array {
  const whole = sharedFloats(length + 16);
  const gap = native.alignmentGap(whole);
  return whole.subarray(gap, gap + length);
}
