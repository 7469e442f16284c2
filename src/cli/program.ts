// The fcnn command line as a function of its arguments and output streams. Commander parses and
// writes --help; every failure ends here as one line on stderr (an error event on stdout with
// --json) and an exit code chosen by the error's class: 2 for usage, 1 otherwise
// (train exits 130 when interrupted).
import { Command, CommanderError } from 'commander';
import { FcnnError, type FcnnErrorCode } from '../errors.js';
import { registerEval } from './eval.js';
import { registerExport } from './export.js';
import { registerGradcheck } from './gradcheck.js';
import { CliError, FailedVerdict } from './options.js';
import type { Io } from './output.js';
import { registerPredict } from './predict.js';
import { registerTrain } from './train.js';
import { packageJson } from '../util/package.js';

/** `args` (the arguments after the program name) go into the records a run leaves (model file, report). */
function buildProgram(io: Io, args: string[]): Command {
  const program = new Command('fcnn')
    .description('Fully connected networks trained fast on multicore CPUs')
    .version(packageJson().version, '-V, --version', 'print the version of fcnn')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s), outputError: () => {} })
    .showSuggestionAfterError(true);
  registerTrain(program, io, args);
  registerEval(program, io);
  registerPredict(program, io);
  registerGradcheck(program, io);
  registerExport(program, io);
  return program;
}

/** An option the library refused, which no flag mapping caught, is still a usage error. */
const EXIT_CODES: Record<FcnnErrorCode, number> = {
  FCNN_INVALID_OPTION: 2,
  FCNN_DATA_FORMAT: 1,
  FCNN_MODEL_FILE: 1,
  FCNN_NON_FINITE: 1,
  FCNN_WORKER_FAILED: 1,
  FCNN_ENGINE_CLOSED: 1,
  FCNN_ENGINE_BUSY: 1,
};

/** Runs the command that `args` (the arguments after the program name) ask for; resolves to the exit code. */
export async function run(args: string[], io: Io): Promise<number> {
  try {
    await buildProgram(io, args).parseAsync(args, { from: 'user' });
    return 0;
  } catch (err) {
    return fail(err, args.includes('--json'), io);
  }
}

/** Prints the error as the output mode wants it; returns the exit code. */
function fail(err: unknown, json: boolean, io: Io): number {
  let message: string;
  let exitCode = 1;
  if (err instanceof CommanderError) {
    // --help and --version arrive here too, already printed.
    if (err.exitCode === 0 || err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return 0;
    message = err.message.replace(/^error: /, '');
    exitCode = 2;
  } else if (err instanceof FailedVerdict) {
    return err.exitCode;
  } else if (err instanceof CliError) {
    message = err.message;
    exitCode = err.exitCode;
  } else if (err instanceof FcnnError) {
    message = err.message;
    exitCode = EXIT_CODES[err.code];
  } else {
    message = err instanceof Error ? err.message : String(err);
    if (process.env.FCNN_DEBUG && err instanceof Error) io.stderr.write(`${err.stack}\n`);
  }
  if (json) io.stdout.write(`${JSON.stringify({ event: 'error', message, exitCode })}\n`);
  else io.stderr.write(`fcnn: ${message}\n`);
  return exitCode;
}
