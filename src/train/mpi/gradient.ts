// The gradient summed over the ranks: one allreduce per layer, always issued last layer first, so
// that every rank issues the same collectives in the same order. The backward pass starts a layer's
// collective as soon as that layer's gradient is complete (layerDone), and the communication thread
// runs it while the layers below are still computed; finish() starts whatever was not started and
// waits for all of them. FCNN_MPI_OVERLAP=0 starts them all in finish() instead, after the backward
// pass (for benchmarks: what the overlap is worth).
import type { Layout } from '../../nn/layout.js';
import type { MpiAddon } from './world.js';

/** Per layer, its range [begin, end) of the parameter slab: a layer's weight, bias and norm parameters lie together. */
export function layerRanges(layout: Layout): [number, number][] {
  const { layers, paramCount } = layout;
  return layers.map((l, i) => [l.weight.offset, i + 1 < layers.length ? layers[i + 1].weight.offset : paramCount]);
}

export class GradientAllreduce {
  /** What the backward pass calls as each layer's gradient is complete: layerDone, or nothing without overlap. */
  readonly hook: ((layer: number) => void) | undefined;
  private readonly ranges: [number, number][];
  /** The next layer whose collective starts (layers go from the last down to 0). */
  private next: number;
  private ticket = 0;

  constructor(
    private readonly mpi: MpiAddon,
    private readonly slab: Float32Array,
    layout: Layout,
  ) {
    this.ranges = layerRanges(layout);
    this.next = this.ranges.length - 1;
    this.hook = process.env.FCNN_MPI_OVERLAP === '0' ? undefined : this.layerDone;
  }

  /** Layer i's gradient is complete: starts its collective (and any above it not started yet). A field: no closure per step. */
  readonly layerDone = (i: number): void => {
    for (; this.next >= i; this.next--) {
      const [begin, end] = this.ranges[this.next];
      this.ticket = this.mpi.allreduceStart(this.slab, begin, end);
    }
  };

  /** Starts the layers not started yet, then waits until the whole slab holds the sum over the ranks. */
  finish(): void {
    this.layerDone(0);
    this.mpi.wait(this.ticket);
    this.next = this.ranges.length - 1;
  }
}
