// One rank of the MPI tests (test/mpi.test.ts starts it under mpirun, or alone as the single-process
// reference): trains a model on a CSV file and writes its parameters to `${out}/rank${rank}.bin` and
// the history to `${out}/rank${rank}.json`. Plain JavaScript over the built package (dist/), since
// mpirun starts `node` itself. Argument: a JSON object { csv, out, spec, seed, options, throwAt? }.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createModel, loadCsv, train } from '../../dist/src/index.js';

const job = JSON.parse(process.argv[2]);
const rank = Number(process.env.OMPI_COMM_WORLD_RANK ?? 0);
const data = await loadCsv(job.csv, { source: 'blobs' });
// Each rank starts from other weights: training must start from rank 0's.
const model = createModel(job.spec, { seed: job.seed + rank });
const onStep = (e) => {
  if (job.throwAt && job.throwAt.rank === rank && e.epoch === job.throwAt.epoch && e.step === job.throwAt.step)
    throw new Error(`test fault at epoch ${e.epoch} step ${e.step}`);
};
const history = await train(model, data, { ...job.options, evalData: data, onStep });
writeFileSync(join(job.out, `rank${rank}.bin`), new Uint8Array(model.params.buffer, model.params.byteOffset, model.params.byteLength));
writeFileSync(
  join(job.out, `rank${rank}.json`),
  JSON.stringify({ rank: history.rank, worldSize: history.worldSize, epochs: history.epochs, buffers: Array.from(model.buffers) }),
);
