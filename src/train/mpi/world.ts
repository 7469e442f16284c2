// The MPI world of a rank: loads the optional addon fcnn_mpi.node (built where CMake finds MPI) and
// starts MPI in its communication thread. Only a process started by an MPI launcher joins a world:
// a plain `node` start is refused with how to launch, rather than silently training alone.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The functions of fcnn_mpi.node (native/mpi/binding.cc). */
export interface MpiAddon {
  /** Starts MPI (once per process) in the communication thread. */
  init(): { rank: number; size: number; library: string };
  /** Queues the sum over the ranks of x[begin, end), in place; returns the ticket wait() takes. */
  allreduceStart(x: Float32Array, begin: number, end: number): number;
  /** Blocks the calling thread until that collective, and every one queued before it, ran. */
  wait(ticket: number): void;
  /** Sums x over the ranks, in place, blocking. */
  allreduceF64(x: Float64Array): void;
  /** Every rank's x becomes rank root's, blocking. */
  broadcast(x: ArrayBufferView, root: number): void;
  finalize(): void;
  /** MPI_Abort: ends every rank of the job with this exit code. */
  abort(code: number): never;
}

export interface World {
  rank: number;
  size: number;
  /** The MPI library's version line, e.g. "Open MPI v4.1.4". */
  library: string;
  mpi: MpiAddon;
}

const ADDON = 'fcnn_mpi.node';

/** Environment variables that MPI launchers set in the processes they start (Open MPI, PMIx, MPICH/Hydra and Slurm's PMI). */
const LAUNCHER_VARIABLES = ['OMPI_COMM_WORLD_SIZE', 'PMIX_RANK', 'PMI_SIZE', 'PMI_RANK'];

export function underLauncher(env: NodeJS.ProcessEnv = process.env): boolean {
  return LAUNCHER_VARIABLES.some((v) => env[v] !== undefined);
}

let addon: MpiAddon | null = null;

/** The MPI addon, loaded once per thread; an Error saying how to get it when it is missing. */
export function mpiAddon(): MpiAddon {
  addon ??= loadAddon();
  return addon;
}

function loadAddon(): MpiAddon {
  // The module runs from src/ (tests) or dist/src/ (the package): walk up to the build folder.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++, dir = dirname(dir)) {
    const path = join(dir, 'build', 'Release', ADDON);
    if (!existsSync(path)) continue;
    try {
      return createRequire(import.meta.url)(path) as MpiAddon;
    } catch (err) {
      throw new Error(`fcnn: could not load the MPI addon at ${path}: ${(err as Error).message}`, { cause: err });
    }
  }
  throw new Error(
    `distributed training needs the MPI addon build/Release/${ADDON}, which was not built: install MPI ` +
      '(Debian/Ubuntu: apt-get install openmpi-bin libopenmpi-dev) and rebuild with `FCNN_MPI=ON npm run build:native`.',
  );
}

let world: World | null = null;

/** Joins the job's MPI world (once per process); an Error when not started by a launcher or without the addon. */
export function joinWorld(): World {
  if (world) return world;
  if (!underLauncher())
    throw new Error("distributed: 'mpi' needs a process started by an MPI launcher, e.g. `mpirun -np 2 --bind-to none npx fcnn train --distributed mpi …`");
  const mpi = mpiAddon();
  const { rank, size, library } = mpi.init();
  world = { rank, size, library, mpi };
  return world;
}

/** The collectives the slab ranges go through, all ranks issuing them in the same order. */
export function allreduce(mpi: MpiAddon, x: Float32Array, begin = 0, end = x.length): void {
  mpi.wait(mpi.allreduceStart(x, begin, end));
}
